"""The decision as a PDF document (``payments.documents``): downloaded by whoever may follow
decisions, and logged as an export of the recipient's personal data (Rules, paragraph 5)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from payments.documents import LANGUAGES, decision_pdf
from payments.models import Decision, DecisionState
from records.access import log_access, requires, shown_iins
from records.formatting import VIEW_LABELS
from records.models import AccessLog

# The name of the logged download on the access log page.
DOCUMENT_VIEW_LABELS = {"decision_pdf": _("Decision document (PDF)")}


def register_view_labels() -> None:
    """Called from ``PaymentsConfig.ready`` (imports flow downwards: records names no app above it)."""
    VIEW_LABELS.update(DOCUMENT_VIEW_LABELS)


def pdf_file_name(decision: Decision, language: str) -> str:
    """The number of an approved decision (digits and hyphens only), else ``draft-<pk>``, and
    the language: ``2026-0702-000001.kk.pdf``, ``draft-12.ru.pdf``."""
    stem = f"draft-{decision.pk}"
    if decision.state == DecisionState.APPROVED and decision.number:
        stem = "".join(c for c in decision.number if c.isascii() and (c.isdigit() or c == "-")) or stem
    return f"{stem}.{language}.pdf"


@requires("payments.view_decision")
@require_GET
def decision_pdf_view(request: HttpRequest, pk: int, lang: str) -> HttpResponse:
    if lang not in LANGUAGES:
        raise Http404
    decision = get_object_or_404(
        Decision.objects.select_related(
            "recipient__participant",
            "recipient__deceased",
            "suspension",
            "drafted_by",
            "verified_by",
            "approved_by",
        ),
        pk=pk,
    )
    content = decision_pdf(decision, lang)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_file_name(decision, lang)}"'
    recipient = decision.recipient
    people = [recipient.participant.iin]
    if recipient.deceased is not None:
        people.append(recipient.deceased.iin)
    people += list(recipient.dependants.values_list("iin", flat=True))
    log_access(
        request,
        kind=AccessLog.Kind.EXPORT,
        view="decision_pdf",
        participant=recipient.participant,
        query={"decision": decision.pk, "number": decision.number or "", "language": lang, **shown_iins(people)},
    )
    return response
