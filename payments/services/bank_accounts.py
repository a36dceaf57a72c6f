"""Recipients' bank accounts (Rules, paragraph 12 item 22: where the payment is paid), dated:
a change is a new account from its date, never an overwrite, so that each run pays to the
account in force in its month and a returned payment is paid again once the details are
corrected."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from contributions.services.common import DomainError, clean_note
from payments.models import Bank, BankAccount, Recipient
from records.identifiers import is_kz_iban
from records.services import Actor, audit_record, with_history_context


def normalise_iban(value: str) -> str:
    """As typed or pasted: spaces and dashes dropped, upper case."""
    return "".join(value.split()).replace("-", "").upper()


@with_history_context
@transaction.atomic
def bank_account_add(
    *, recipient_id: int, bic: str, iban: str, valid_from: date, reason: str, actor: User
) -> BankAccount:
    """Enter the recipient's account from ``valid_from``: a Kazakh IBAN with valid check digits
    whose bank code is the named bank's."""
    if not actor.has_perm("payments.add_bankaccount"):
        raise PermissionDenied
    reason = clean_note(reason, required_message=_("Give the reason for the bank details (the application, a change)."))
    iban = normalise_iban(iban)
    bic = bic.strip().upper()
    if not is_kz_iban(iban):
        raise DomainError(
            _("%(iban)s is not a Kazakh IBAN with valid check digits (KZ, 2 digits, 16 characters).")
            % {"iban": iban[:34]}
        )
    bank = Bank.objects.filter(bic=bic).first()
    if bank is None:
        raise DomainError(_("Unknown bank BIC: %(bic)s.") % {"bic": bic[:11]})
    if iban[4:7] != bank.iban_code:
        raise DomainError(
            _("Account %(iban)s is not an account of %(bank)s (its IBANs carry bank code %(code)s).")
            % {"iban": iban, "bank": bank.name, "code": bank.iban_code}
        )
    recipient = Recipient.objects.select_for_update().get(pk=recipient_id)
    if valid_from < recipient.risk_date.replace(day=1):
        raise DomainError(_("Bank details cannot be dated before the month the right arose."))
    try:
        with transaction.atomic():
            account = BankAccount.objects.create(
                recipient=recipient, bank=bank, iban=iban, valid_from=valid_from, reason=reason, entered_by=actor
            )
    except IntegrityError as exc:
        raise DomainError(
            _("The recipient already has bank details from %(day)s.") % {"day": f"{valid_from:%d.%m.%Y}"}
        ) from exc
    audit_record(
        actor=Actor.of(actor),
        action="payments.bank_account_add",
        obj=account,
        data={"recipient": recipient.pk, "bank": bic, "iban": iban, "valid_from": valid_from.isoformat()},
    )
    return account
