"""How values are written for the reader: amounts of money and the names of logged views.

Depends on no model, so that models (``__str__``), template tags and commands of every app can
import it at the top without an import cycle (models -> template tags -> documents -> models).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.apps import apps
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def money(value: Decimal | None) -> str:
    """An amount in tenge as the reader's language writes it: two decimals and grouped thousands
    (``35 000,00`` in kk/ru, ``35,000.00`` in en); "—" when there is none. Only on pages: form
    values and files keep plain numbers."""
    if value is None or value == "":
        return "—"
    return str(floatformat(value, "2g"))


# What each logged view is called on the access log page; apps above ``records`` add theirs in
# their ``ready()`` (imports flow downwards). A name that is not here is shown as it is.
VIEW_LABELS: dict[str, Any] = {
    "participant_detail": _("Participant page"),
    "participant_search": _("Participant search"),
    "export_job": _("Export job (file written)"),
    "export_download": _("Export download"),
    "registry_load_detail": _("Registry load page"),
    "api:participant_detail": _("API: participant"),
    "admin:participant_change": _("Admin: participant"),
    "admin:registryperson_change": _("Admin: registry record"),
}


def view_label(view: str) -> str:
    """The logged view in the reader's language: the page, the API call, the command, or the
    admin list, row, row history or export of a model (``admin:app.model_changelist``,
    ``admin:app.model_change``, ``admin:app.model_history``, ``admin:app.model``)."""
    if view in VIEW_LABELS:
        return str(VIEW_LABELS[view])
    if view.startswith("admin:") and "." in view:
        label = view.removeprefix("admin:")
        page = next((s for s in ("_changelist", "_change", "_history") if label.endswith(s)), "")
        app_label, _dot, model_name = label.removesuffix(page).partition(".") if page else label.partition(".")
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            return view
        name = str(model._meta.verbose_name_plural)
        if page == "_changelist":
            return gettext("Admin list: %(model)s") % {"model": name}
        if page == "_change":
            return gettext("Admin: %(model)s") % {"model": str(model._meta.verbose_name)}
        if page == "_history":
            return gettext("Admin history: %(model)s") % {"model": str(model._meta.verbose_name)}
        return gettext("Admin export: %(model)s") % {"model": name}
    return view
