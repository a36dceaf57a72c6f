"""A decision printed as the document a head signs (issue 17: "each decision prints as a
document, PDF, in Kazakh and Russian").

fpdf2 writes the PDF in pure Python: no system library (Pango, Cairo) and no service, so the
document prints wherever the app runs. The fonts are vendored (``payments/fonts``, DejaVu Sans:
every letter of the Kazakh and Russian alphabets) and embedded as subsets; nothing is loaded
from the network. Every label is translated; names, numbers and the grounds are printed as
stored. A decision that is not approved prints as a draft: no number, "DRAFT" across every page
and no place to sign.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos

from payments.models import Decision, DecisionKind, DecisionState, ParameterName, PaymentType
from payments.services.decisions import legal_basis
from records.formatting import money

# fontTools, which fpdf2 subsets the fonts with, logs every step of it at INFO.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVu"
LANGUAGES = ("kk", "ru")

# A4 with the margins of an official letter (left wide enough to file it).
LEFT, RIGHT, TOP, BOTTOM = 25.0, 15.0, 15.0, 18.0
LABEL_WIDTH = 62.0
GREY, RED = (110, 110, 110), (170, 0, 0)


def _title(kind: str) -> str:
    titles = {
        DecisionKind.ASSIGN: _("Decision on the assignment of a social payment"),
        DecisionKind.SUSPEND: _("Decision on the suspension of a social payment"),
        DecisionKind.RESUME: _("Decision on the resumption of a social payment"),
        DecisionKind.TERMINATE: _("Decision on the termination of a social payment"),
        DecisionKind.RECALCULATE: _("Decision on the recalculation of a social payment"),
    }
    return titles[DecisionKind(kind)]


# The coefficients in the order the formulas apply them (the stored calculation is JSON, whose
# keys PostgreSQL keeps in an order of its own).
COEFFICIENT_ORDER = (
    "deduction_mzp",
    "replacement",
    "ksu",
    "loss_degree",
    "ki",
    "days",
    "days_divisor",
    "minimum",
    "maximum",
)


def _coefficient_label(name: str) -> str:
    labels = {
        "deduction_mzp": _("Deduction, share of МЗП"),
        "replacement": _("Replacement rate (КЗД)"),
        "ksu": _("Participation length coefficient (КСУ)"),
        "loss_degree": _("Degree of lost ability to work (share)"),
        "ki": _("Dependants coefficient (КИ)"),
        "days": _("Days of maternity leave"),
        "days_divisor": _("Days of a month in the formula"),
        "minimum": _("Minimum, KZT"),
        "maximum": _("Maximum, KZT"),
    }
    return labels.get(name, name)


def _coefficient_rank(name: str) -> tuple[int, str]:
    return (COEFFICIENT_ORDER.index(name) if name in COEFFICIENT_ORDER else len(COEFFICIENT_ORDER), name)


def _day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = timezone.localdate(value)
    return date_format(value, "SHORT_DATE_FORMAT")


def _moment(value: datetime | None) -> str:
    if value is None:
        return "—"
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def _kzt(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return _("%(amount)s KZT") % {"amount": money(value)}


def _number(text: object) -> str:
    """A coefficient as stored (``"0.85"``) in the reader's notation (``0,85``)."""
    try:
        value = Decimal(str(text))
    except (InvalidOperation, ValueError):
        return str(text)
    exponent = value.normalize().as_tuple().exponent
    if not isinstance(exponent, int):  # NaN or infinity: not a coefficient of ours
        return str(text)
    return number_format(value, decimal_pos=max(0, -exponent), force_grouping=True)


def _person(user: Any) -> str:
    if user is None:
        return "—"
    return str(user.get_full_name() or user.get_username())


class _Sheet(FPDF):
    """A4 pages with the decision's footer and, on a draft, "DRAFT" across every page."""

    def __init__(self, *, footer_text: str, watermark: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text, self.watermark = footer_text, watermark
        self.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_margins(LEFT, TOP, RIGHT)
        self.set_auto_page_break(auto=True, margin=BOTTOM)

    def header(self) -> None:
        if not self.watermark:
            return
        # Drawn first on each page, under the text.
        with self.local_context(text_color=(218, 218, 218)):
            self.set_font(FAMILY, "B", 60)
            width = self.get_string_width(self.watermark)
            x, y = self.w / 2, self.h / 2
            with self.rotation(angle=55, x=x, y=y):
                self.text(x - width / 2, y, self.watermark)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_y(-12)
        with self.local_context(text_color=GREY):
            self.set_font(FAMILY, "", 7.5)
            page = _("Page %(number)s of %(total)s") % {"number": self.page_no(), "total": "{nb}"}
            half = self.epw / 2
            self.cell(half, 4, self.footer_text, align="L")
            self.cell(half, 4, page, align="R")


class _Writer:
    """The document, section by section."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        self.sections = 0
        self.approved = decision.state == DecisionState.APPROVED and bool(decision.number)
        if self.approved:
            footer = _("Decision No. %(number)s of %(date)s") % {
                "number": decision.number,
                "date": _day(decision.approved_at),
            }
        else:
            footer = _("Draft decision, not approved: printed on %(date)s") % {"date": _moment(timezone.now())}
        self.pdf = _Sheet(footer_text=footer, watermark="" if self.approved else _("DRAFT"))

    # --- building blocks ---------------------------------------------------------------------

    def font(self, size: float, *, bold: bool = False) -> None:
        self.pdf.set_font(FAMILY, "B" if bold else "", size)

    def centred(self, text: str, *, size: float, bold: bool = False, height: float = 5.0) -> None:
        self.font(size, bold=bold)
        self.pdf.multi_cell(0, height, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraph(self, text: str, *, size: float = 9.5, height: float = 4.6) -> None:
        self.font(size)
        self.pdf.multi_cell(0, height, text, align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def section(self, title: str) -> None:
        """A numbered section heading, kept with at least two lines of what follows."""
        pdf = self.pdf
        if pdf.will_page_break(16):
            pdf.add_page()
        self.sections += 1
        pdf.ln(2.5)
        self.font(10.5, bold=True)
        pdf.cell(0, 5.5, f"{self.sections}. {title}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        with pdf.local_context(draw_color=GREY, line_width=0.2):
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(0.8)

    def fields(self, rows: Sequence[tuple[str, str]]) -> None:
        """Label and value in two columns; long values wrap in theirs."""
        if not rows:
            return
        self.font(9.5)
        with self.pdf.table(
            col_widths=(LABEL_WIDTH, self.pdf.epw - LABEL_WIDTH),
            width=self.pdf.epw,
            align="LEFT",
            first_row_as_headings=False,
            borders_layout="NONE",
            text_align=("LEFT", "LEFT"),
            v_align="TOP",
            line_height=4.4,
            padding=(0.5, 1.5, 0.5, 0),
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(label, style=FontFace(color=GREY))
                row.cell(value)

    def grid(self, headings: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> None:
        self.font(8.5)
        with self.pdf.table(
            col_widths=tuple(widths),
            width=self.pdf.epw,
            align="LEFT",
            borders_layout="SINGLE_TOP_LINE",
            text_align="LEFT",
            line_height=4.2,
            padding=(0.5, 1.5, 0.5, 0),
            headings_style=FontFace(emphasis="BOLD"),
        ) as table:
            table.row(list(headings))
            for values in rows:
                table.row(list(values))

    # --- the document ------------------------------------------------------------------------

    def write(self) -> bytes:
        pdf, decision = self.pdf, self.decision
        title = _title(decision.kind)
        pdf.set_title(f"{title} {decision.number or ''}".strip())
        pdf.set_author(_("State Corporation “Government for Citizens”"))
        pdf.set_creator("gfss-records")
        pdf.set_lang(translation.get_language() or "ru")
        pdf.add_page()
        self.heading(title)
        self.recipient()
        self.payment()
        self.kind_specific()
        self.calculation()
        self.approval()
        self.signature()
        return bytes(pdf.output())

    def heading(self, title: str) -> None:
        pdf, decision = self.pdf, self.decision
        self.centred(
            _("Non-profit joint-stock company “State Corporation “Government for Citizens””"), size=10, bold=True
        )
        self.centred(_("Social payments from the State Social Insurance Fund"), size=8.5, height=4.4)
        pdf.ln(1)
        with pdf.local_context(line_width=0.4):
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(6)
        self.centred(title.upper(), size=12.5, bold=True, height=6)
        pdf.ln(2)
        self.font(10)
        half = pdf.epw / 2
        if self.approved:
            pdf.cell(half, 6, _("No. %(number)s") % {"number": decision.number}, align="L")
            pdf.cell(half, 6, _day(decision.approved_at), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return
        pdf.cell(half, 6, _("No number"), align="L")
        pdf.cell(
            half,
            6,
            _("drafted on %(date)s") % {"date": _day(decision.drafted_at)},
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.ln(2)
        with pdf.local_context(text_color=RED, draw_color=RED, line_width=0.5):
            self.font(13, bold=True)
            pdf.multi_cell(0, 8, _("DRAFT — not a decision"), border=1, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.font(9)
            pdf.multi_cell(
                0,
                4.6,
                _(
                    "This draft (%(state)s) has no number and no force: it becomes a decision only when a head"
                    " approves it."
                )
                % {"state": decision.get_state_display()},
                align="C",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )

    def recipient(self) -> None:
        decision = self.decision
        recipient = decision.recipient
        person = recipient.participant
        self.section(_("Recipient"))
        rows = [
            (_("IIN"), person.iin),
            (_("Full name"), person.full_name),
            (_("Date of birth"), _day(person.birth_date)),
            (
                _("Application"),
                _("of %(date)s, case file %(case)s")
                % {"date": _day(recipient.application_date), "case": recipient.case_number},
            ),
        ]
        if recipient.payment_type == PaymentType.BREADWINNER and recipient.deceased is not None:
            deceased = recipient.deceased
            rows.append(
                (
                    _("Deceased breadwinner"),
                    _("IIN %(iin)s, %(name)s, died on %(date)s")
                    % {"iin": deceased.iin, "name": deceased.full_name, "date": _day(deceased.death_date)},
                )
            )
            dependants = [
                f"{d.iin} {d.full_name} ({d.get_relation_display()})"
                for d in recipient.dependants.all()
                if d.until is None or d.until >= decision.effective_date
            ]
            if dependants:
                rows.append((_("Dependants"), "\n".join(dependants)))
        self.fields(rows)

    def payment(self) -> None:
        decision = self.decision
        recipient = decision.recipient
        self.section(_("Payment"))
        rows = [
            (
                _("Payment type"),
                f"{recipient.payment_type} — {PaymentType(recipient.payment_type).label}",
            ),
            (_("Date of the social risk"), _day(recipient.risk_date)),
        ]
        if recipient.loss_degree is not None:
            rows.append((_("Degree of lost ability to work"), f"{recipient.loss_degree} %"))
        if recipient.leave_days is not None:
            rows.append((_("Days of maternity leave"), str(recipient.leave_days)))
        if recipient.unemployed_registered_on is not None:
            rows.append((_("Registered as unemployed on"), _day(recipient.unemployed_registered_on)))
        rows += [
            (_("Legal basis"), legal_basis(recipient.payment_type, recipient.risk_date)),
            (_("Takes effect on"), _day(decision.effective_date)),
        ]
        if decision.kind in (DecisionKind.ASSIGN, DecisionKind.RECALCULATE):
            label = _("Amount")
        else:
            label = _("Amount in force")
        if decision.lump_sum:
            amount = _("%(amount)s KZT, lump sum") % {"amount": money(decision.amount)}
        else:
            amount = _("%(amount)s KZT a month") % {"amount": money(decision.amount)}
        rows.append((label, amount))
        if decision.period_start is not None or decision.period_end is not None:
            if decision.period_end is None:
                period = _("from %(start)s, with no end date set") % {"start": _day(decision.period_start)}
            else:
                period = _("from %(start)s to %(end)s") % {
                    "start": _day(decision.period_start),
                    "end": _day(decision.period_end),
                }
            rows.append((_("Period"), period))
        self.fields(rows)

    def kind_specific(self) -> None:
        decision = self.decision
        kind = decision.kind
        rows: list[tuple[str, str]] = []
        if kind == DecisionKind.SUSPEND:
            rows.append((_("Suspended until (deadline to clear the reason)"), _day(decision.suspend_deadline)))
        elif kind == DecisionKind.RESUME:
            suspension = decision.suspension
            if suspension is not None:
                rows.append(
                    (
                        _("Suspension ended"),
                        _("No. %(number)s of %(date)s, deadline %(deadline)s")
                        % {
                            "number": suspension.number or "—",
                            "date": _day(suspension.approved_at),
                            "deadline": _day(suspension.suspend_deadline),
                        },
                    )
                )
            if decision.withdrawn_in_time:
                withdrawn = _("Yes: the reason was cleared by the deadline, the months of the suspension are paid.")
            else:
                withdrawn = _("No: the reason was cleared after the deadline, the payment resumes from the date above.")
            rows.append((_("Suspension withdrawn by its deadline"), withdrawn))
        elif kind == DecisionKind.TERMINATE:
            rows += [
                (_("Reason the payment ends"), decision.get_end_reason_display() or "—"),
                (_("Last day paid"), _day(decision.period_end)),
            ]
        elif kind == DecisionKind.RECALCULATE:
            rows += [
                (_("Amount before"), _kzt(decision.previous_amount)),
                (_("New amount"), _kzt(decision.amount)),
                (_("Difference for the months already paid"), self.difference()),
            ]
        if decision.note:
            rows.append((_("Grounds"), decision.note))
        if not rows:
            return
        self.section(_("What is decided"))
        self.fields(rows)
        if kind == DecisionKind.RECALCULATE and decision.difference_months:
            self.pdf.ln(1)
            self.grid(
                [_("Month"), _("Share of the month"), _("Difference, KZT")],
                [
                    [str(m.get("month", "")), _number(m.get("fraction", "")), money(Decimal(str(m.get("amount", "0"))))]
                    for m in decision.difference_months
                ],
                (40, 50, self.pdf.epw - 90),
            )

    def difference(self) -> str:
        difference = self.decision.difference
        if difference is None or difference == 0:
            return _kzt(Decimal("0")) if difference is not None else "—"
        if difference > 0:
            return _("%(amount)s KZT owed to the recipient") % {"amount": money(difference)}
        return _("%(amount)s KZT to be recovered from the recipient") % {"amount": money(-difference)}

    def calculation(self) -> None:
        calc = self.decision.calculation
        if not calc:
            return
        self.section(_("Calculation of the amount"))
        rows = [
            (_("Average monthly income (СМД)"), _kzt(Decimal(str(calc.get("average_monthly_income", "0"))))),
            (_("Months in the income window"), str(calc.get("months_in_window", "—"))),
            (_("Participation length, months"), str(calc.get("participation_months", "—"))),
        ]
        coefficients = calc.get("coefficients") or {}
        if coefficients:
            rows.append(
                (
                    _("Coefficients"),
                    "\n".join(
                        f"{_coefficient_label(name)}: {_number(coefficients[name])}"
                        for name in sorted(coefficients, key=_coefficient_rank)
                    ),
                )
            )
        if calc.get("duration_months"):
            rows.append((_("Months of payment"), str(calc["duration_months"])))
        rows.append((_("Computed on"), _moment(self.decision.computed_at)))
        flagged = calc.get("flagged") or []
        if flagged:
            rows.append(
                (
                    _("Not confirmed by the reference"),
                    _("Check before signing: %(names)s") % {"names": ", ".join(_parameter_label(n) for n in flagged)},
                )
            )
        self.fields(rows)

    def approval(self) -> None:
        decision = self.decision
        self.section(_("Drafted, verified and approved"))
        self.grid(
            [_("Step"), _("Who"), _("When")],
            [
                [_("Drafted by"), _person(decision.drafted_by), _moment(decision.drafted_at)],
                [_("Verified by"), _person(decision.verified_by), _moment(decision.verified_at)],
                [_("Approved by"), _person(decision.approved_by), _moment(decision.approved_at)],
            ],
            (45, self.pdf.epw - 85, 40),
        )

    def signature(self) -> None:
        pdf, decision = self.pdf, self.decision
        if pdf.will_page_break(32):
            pdf.add_page()
        pdf.ln(8)
        if not self.approved:
            with pdf.local_context(text_color=RED):
                self.paragraph(_("Not for signature: a draft is signed by nobody."))
            return
        self.font(10, bold=True)
        pdf.cell(LABEL_WIDTH, 6, _("Head"), new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.font(10)
        line = "_" * 26
        pdf.cell(62, 6, line, align="C", new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.cell(0, 6, _person(decision.approved_by), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        with pdf.local_context(text_color=GREY):
            self.font(7.5)
            pdf.cell(LABEL_WIDTH, 4)
            pdf.cell(62, 4, _("(signature)"), align="C", new_x=XPos.RIGHT, new_y=YPos.TOP)
            pdf.cell(0, 4, _("(full name)"), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(6)
        self.font(10)
        pdf.cell(LABEL_WIDTH, 6, _("Stamp here"), new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.cell(0, 6, _("Date: %(date)s") % {"date": _day(decision.approved_at)}, align="R")


def _parameter_label(name: str) -> str:
    try:
        return str(ParameterName(name).label)
    except ValueError:
        return name


def decision_pdf(decision: Decision, language: str) -> bytes:
    """The decision as a PDF in ``language`` ("kk" or "ru"): the State Corporation's heading,
    the kind's title, the number and date (or "DRAFT" while not approved), the recipient, the
    payment and its legal basis, what the kind decides, the calculation, who drafted, verified
    and approved it, and the head's signature lines."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    with translation.override(language):
        return _Writer(decision).write()
