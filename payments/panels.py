"""The payments panel of the participant page: the participant's case files, as the applicant
or as the deceased breadwinner, with their decisions (where the placeholder "Decisions and
payments appear here once the participant becomes a recipient." stood), and the link that
registers an application for the participant. ``PaymentsConfig.ready`` registers it
(``records.panels``: imports flow downwards)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from payments.models import PaymentRun, RunState
from payments.selectors.recipients import participant_recipients
from payments.selectors.runs import work_list_counts
from records.access import log_access, shown_iins
from records.formatting import VIEW_LABELS
from records.models import AccessLog, Participant
from records.panels import Panel, register_home_panel, register_participant_panel

# The names of the logged views of the recipient pages on the access log page.
RECIPIENT_VIEW_LABELS = {
    "recipient_detail": _("Recipient page"),
    "recipient_list": _("Inventory of case files"),
    "recipient_register": _("Registering an application"),
    "case_inventory_export": _("Export of the inventory of case files"),
    "case_document_download": _("Case file document"),
    "participant_detail:payments": _("Participant page: social payments"),
}


def payments_panel(request: HttpRequest, participant: Participant) -> Panel | None:
    if not request.user.has_perm("payments.view_recipient"):
        return None
    recipients = participant_recipients(participant)
    # A deceased breadwinner's page names those who receive the payment for him: other people's
    # data, logged with them (the participant page logs the participant himself).
    others = [r.participant.iin for r in recipients if r.participant_id != participant.pk]
    if others:
        log_access(
            request,
            kind=AccessLog.Kind.VIEW,
            view="participant_detail:payments",
            query={"participant": participant.pk, **shown_iins(others)},
            row_count=len(others),
        )
    return Panel(
        template="payments/recipients/_participant_panel.html",
        context={
            "participant": participant,
            "recipients": recipients,
            "can_register": request.user.has_perm("payments.add_recipient") and participant.death_date is None,
        },
    )


def payments_home_panel(request: HttpRequest) -> Panel | None:
    """The heads' card: the runs, and the counts of the standard's two work lists."""
    user = request.user
    if not user.has_perm("payments.view_paymentrun"):
        return None
    head = user.has_perm("payments.approve_paymentrun") or user.has_perm("payments.approve_decision")
    counts = work_list_counts() if head and user.has_perm("payments.view_payment") else None
    awaiting = PaymentRun.objects.filter(state=RunState.BUILT).order_by("month").first()
    return Panel(template="payments/runs/_home_card.html", context={"counts": counts, "awaiting": awaiting})


def register_panels() -> None:
    register_participant_panel(payments_panel)
    register_home_panel(payments_home_panel)
    VIEW_LABELS.update(RECIPIENT_VIEW_LABELS)
