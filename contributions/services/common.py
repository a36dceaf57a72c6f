"""What the stages of the pipeline share: the domain error and the KNP codes in force."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import connection

from records.services import NOTE_MAX_LENGTH


class DomainError(ValidationError):
    """A request the rules do not allow (shown to the user, never a server error)."""


# When a KNP code (row ``k``) is in force on a date: the one definition, used by ``purpose_kinds``
# and by the order lock of ``process_order``.
KNP_IN_FORCE = "k.valid_from <= {on} AND (k.valid_to IS NULL OR k.valid_to >= {on})"


def purpose_kinds(on: date) -> dict[str, str]:
    """KNP code -> ledger entry kind, as in force on ``on`` (effective-dated data; Rules,
    paragraph 7(4))."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k.code, k.ledger_kind FROM contributions_purposecode k"
            f" WHERE {KNP_IN_FORCE.format(on='%(on)s')} ORDER BY k.code, k.valid_from",
            {"on": on},
        )
        return dict(cursor.fetchall())


def clean_note(note: str, *, required_message: str | None = None) -> str:
    """A note stripped, refused when longer than ``NOTE_MAX_LENGTH`` or, with a
    ``required_message``, when empty."""
    from django.utils.translation import gettext as _

    note = note.strip()
    if required_message is not None and not note:
        raise DomainError(required_message)
    if len(note) > NOTE_MAX_LENGTH:
        raise DomainError(
            _("A note may be at most %(limit)s characters long (this one has %(length)s).")
            % {"limit": NOTE_MAX_LENGTH, "length": len(note)}
        )
    return note
