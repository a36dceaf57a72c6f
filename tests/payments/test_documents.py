"""The decision printed as a PDF document (payments/documents.py), in Kazakh and Russian, and its
download (payments/document_views.py).

The text is read back from the PDF the way a PDF reader extracts it (``pdf_text`` below): the
page's content streams (inflated with zlib), each string shown (``Tj``/``TJ``) decoded through
the ``ToUnicode`` map of the font it is shown in. That is what a reader's search and copy use,
so a title found here is a title a person finds in the file; it needs no tool outside Python
(poppler's ``pdftotext`` is not on every machine) and does not depend on how fpdf2 numbers the
glyphs of its font subsets.
"""

from __future__ import annotations

import re
import zlib
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from payments.documents import FONTS, decision_pdf
from payments.models import Decision, DecisionState
from records.formatting import money
from records.models import AccessLog

pytestmark = pytest.mark.django_db

NUMBER = re.compile(r"\d{4}-070[1-5]-\d{6}")


# --- Reading the text back --------------------------------------------------------------------

_OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*)endstream", re.S)
_SHOW = re.compile(
    rb"/(?P<font>[\w.+-]+)\s+[\d.]+\s+Tf"
    rb"|(?P<literal>\((?:\\.|[^\\()])*\))\s*Tj"
    rb"|<(?P<hex>[0-9A-Fa-f\s]*)>\s*Tj"
    rb"|\[(?P<array>(?:\\.|[^\\\]])*)\]\s*TJ"
    rb"|(?P<end>\bET\b)",
    re.S,
)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _stream(body: bytes) -> bytes:
    """A stream's data: ``/Length`` bytes after the ``stream`` keyword's end of line (the data
    may itself end in a byte that reads as a line break), inflated when it is compressed."""
    found = _STREAM.search(body)
    length = re.search(rb"/Length\s+(\d+)", body)
    assert found is not None
    assert length is not None
    data = found.group(1)[: int(length.group(1))]
    return zlib.decompress(data) if b"/FlateDecode" in body[: found.start()] else data


def _literal(text: bytes) -> bytes:
    """A PDF literal string ``(...)`` without its parentheses and escapes."""
    out, i, inner = bytearray(), 0, text[1:-1]
    while i < len(inner):
        char = inner[i : i + 1]
        if char != b"\\":
            out += char
            i += 1
            continue
        following = inner[i + 1 : i + 2]
        if following in _ESCAPES:
            out += _ESCAPES[following]
            i += 2
        elif following.isdigit():
            digits = re.match(rb"[0-7]{1,3}", inner[i + 1 :])
            assert digits is not None
            out.append(int(digits.group(0), 8) & 0xFF)
            i += 1 + len(digits.group(0))
        elif following in (b"\n", b"\r"):
            i += 2
        else:
            out += following
            i += 2
    return bytes(out)


def _cmap(data: bytes) -> dict[int, str]:
    codes: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            codes[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, start in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = int(start, 16)
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                codes[code] = chr(first + offset)
    return codes


def pdf_text(data: bytes) -> str:
    """The text of every page, one line per text object, as a PDF reader extracts it."""
    objects = {int(m.group(1)): m.group(2) for m in _OBJECT.finditer(data)}
    maps: dict[int, dict[int, str]] = {}
    for number, body in objects.items():
        reference = re.search(rb"/ToUnicode\s+(\d+) 0 R", body)
        if reference:
            maps[number] = _cmap(_stream(objects[int(reference.group(1))]))
    fonts: dict[bytes, dict[int, str]] = {}
    for body in objects.values():
        for group in re.findall(rb"/Font\s*<<(.*?)>>", body, re.S):
            for name, number in re.findall(rb"/([\w.+-]+)\s+(\d+) 0 R", group):
                fonts[name] = maps.get(int(number), {})
    pages = [body for body in objects.values() if re.search(rb"/Type\s*/Page\b", body)]
    lines: list[str] = []
    for page in pages:
        contents = re.search(rb"/Contents\s+(\d+) 0 R", page)
        assert contents is not None
        font: dict[int, str] = {}
        line = ""
        for shown in _SHOW.finditer(_stream(objects[int(contents.group(1))])):
            if shown.group("font"):
                font = fonts[shown.group("font")]
            elif shown.group("end"):
                if line:
                    lines.append(line)
                line = ""
            else:
                if shown.group("literal"):
                    raw = [_literal(shown.group("literal"))]
                elif shown.group("hex") is not None:
                    raw = [bytes.fromhex(shown.group("hex").decode())]
                else:
                    raw = [_literal(part) for part in re.findall(rb"\((?:\\.|[^\\()])*\)", shown.group("array"))]
                for chunk in raw:
                    line += "".join(
                        font.get(int.from_bytes(chunk[i : i + 2], "big"), "?") for i in range(0, len(chunk), 2)
                    )
        if line:
            lines.append(line)
    return "\n".join(lines)


def flat(text: str) -> str:
    """Whitespace (line breaks, no-break spaces of grouped thousands) as single spaces."""
    return " ".join(text.split())


def words(decision: Decision, language: str) -> str:
    return flat(pdf_text(decision_pdf(decision, language)))


# --- The document -----------------------------------------------------------------------------


@pytest.fixture
def approved(payments_sample) -> Decision:
    return Decision.objects.select_related("recipient__participant").get(pk=payments_sample["approved"].pk)


@pytest.fixture
def draft(payments_sample) -> Decision:
    return Decision.objects.select_related("recipient__participant").get(pk=payments_sample["submitted"].pk)


def test_the_vendored_fonts_have_every_kazakh_and_russian_letter() -> None:
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    letters = "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя№«»—"
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        cmap = TTFont(FONTS / name).getBestCmap()
        missing = [c for c in letters + letters.upper() if ord(c) not in cmap]
        assert not missing, (name, missing)
    assert "Bitstream Vera" in (FONTS / "LICENSE").read_text(encoding="utf-8")


def test_an_approved_decision_prints_in_kazakh_with_its_number_and_amount(approved) -> None:
    data = decision_pdf(approved, "kk")
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    text = flat(pdf_text(data))
    person = approved.recipient.participant
    with translation.override("kk"):
        amount = flat(money(approved.amount))
    assert "ӘЛЕУМЕТТІК ТӨЛЕМДІ ТАҒАЙЫНДАУ ТУРАЛЫ ШЕШІМ" in text
    assert f"№ {approved.number}" in text
    assert f"айына {amount} теңге" in text
    assert amount == "42 075,00"  # 200 000 income, 50 %, КСУ 0.85 (tests/payments/conftest.py)
    assert person.iin in text
    assert person.full_name in text  # the name as stored
    assert "0702 — Еңбек ету қабілетінен айырылу" in text
    assert "Қазақстан Республикасының Әлеуметтік кодексі; № 238 бұйрықпен бекітілген Қағидалар" in text
    assert "Орташа айлық табыс (ОАТ) 200 000,00 теңге" in text
    assert "Қатысу өтілі коэффициенті (ҚӨК): 0,85" in text
    assert "Басшы" in text  # the signature line
    assert "ЖОБА" not in text
    assert "Decision" not in text  # no English left
    with translation.override("kk"):
        approved_on = f"{timezone.localdate(approved.approved_at):%d.%m.%Y}"
    assert f"Күні: {approved_on}" in text


def test_the_same_decision_prints_in_russian(approved) -> None:
    text = words(approved, "ru")
    assert "РЕШЕНИЕ О НАЗНАЧЕНИИ СОЦИАЛЬНОЙ ВЫПЛАТЫ" in text
    assert f"№ {approved.number}" in text
    assert "42 075,00 тенге в месяц" in text
    assert "Социальный кодекс Республики Казахстан; Правила, утверждённые приказом № 238" in text
    assert "Подготовил" in text
    assert "Утвердил" in text
    assert "Руководитель" in text


def test_a_draft_says_it_is_a_draft_and_has_no_number(draft, approved) -> None:
    assert draft.state == DecisionState.SUBMITTED
    for language, heading, nothing in (
        ("kk", "ЖОБА — шешім емес", "Нөмірі жоқ"),
        ("ru", "ПРОЕКТ — не является решением", "Без номера"),
    ):
        text = words(draft, language)
        assert heading in text
        assert nothing in text
        assert not NUMBER.search(text)
    assert "Қол қоюға жатпайды" in words(draft, "kk")
    assert "Басшы" not in words(draft, "kk")  # nowhere to sign
    # Even a decision that has a number prints as a draft while it is not approved.
    verified = _decision_of(approved, state=DecisionState.VERIFIED, kind="assign", effective_date=date(2023, 12, 15))
    assert verified.number
    text = words(verified, "kk")
    assert "ЖОБА — шешім емес" in text
    assert verified.number not in text


def _decision_of(approved: Decision, state: str = DecisionState.APPROVED, **fields: object) -> Decision:
    """The approved assignment's recipient with another kind of decision (not saved: the PDF
    reads the object as it is)."""
    decision = Decision(
        recipient=approved.recipient,
        state=state,
        number="2024-0702-000007",
        legal_basis="",
        amount=approved.amount,
        needs_head_of_service=False,
        drafted_by=approved.drafted_by,
        drafted_at=approved.drafted_at,
        verified_by=approved.verified_by,
        verified_at=approved.verified_at,
        approved_by=approved.approved_by,
        approved_at=approved.approved_at,
    )
    for name, value in fields.items():
        setattr(decision, name, value)
    return decision


def test_each_kind_prints_what_it_decides(approved) -> None:
    suspend = _decision_of(
        approved, kind="suspend", effective_date=date(2024, 3, 1), suspend_deadline=date(2024, 5, 31), note="МСЭ"
    )
    text = words(suspend, "ru")
    assert "РЕШЕНИЕ О ПРИОСТАНОВЛЕНИИ СОЦИАЛЬНОЙ ВЫПЛАТЫ" in text
    assert "Приостановлено до (срок устранения причины) 31.05.2024" in text
    assert "Основания МСЭ" in text

    resume = _decision_of(
        approved, kind="resume", effective_date=date(2024, 5, 20), suspension=suspend, withdrawn_in_time=True
    )
    text = words(resume, "kk")
    assert "ӘЛЕУМЕТТІК ТӨЛЕМДІ ҚАЙТА БАСТАУ ТУРАЛЫ ШЕШІМ" in text
    assert "Иә: себебі мерзімінде жойылды, тоқтата тұру айлары төленеді." in text
    resume.withdrawn_in_time = False
    assert "Жоқ: себебі мерзімі өткеннен кейін жойылды" in words(resume, "kk")

    terminate = _decision_of(
        approved, kind="terminate", effective_date=date(2024, 6, 10), end_reason="death", period_end=date(2024, 6, 30)
    )
    text = words(terminate, "ru")
    assert "РЕШЕНИЕ О ПРЕКРАЩЕНИИ СОЦИАЛЬНОЙ ВЫПЛАТЫ" in text
    assert "Причина прекращения выплаты Смерть получателя" in text
    assert "Последний оплачиваемый день 30.06.2024" in text


def test_a_recalculation_prints_the_old_and_new_amounts_and_the_difference(approved) -> None:
    recalculate = _decision_of(
        approved,
        kind="recalculate",
        effective_date=date(2023, 12, 15),
        previous_amount=Decimal("40000.00"),
        amount=Decimal("42075.00"),
        difference=Decimal("3139.52"),
        difference_months=[
            {"month": "2023-12", "fraction": "0.5484", "amount": "1137.93"},
            {"month": "2024-01", "fraction": "1.0000", "amount": "2075.00"},
        ],
        calculation=approved.calculation,
    )
    text = words(recalculate, "ru")
    assert "РЕШЕНИЕ О ПЕРЕРАСЧЁТЕ СОЦИАЛЬНОЙ ВЫПЛАТЫ" in text
    assert "Прежний размер 40 000,00 тенге" in text
    assert "Новый размер 42 075,00 тенге" in text
    assert "3 139,52 тенге к доплате получателю" in text
    assert "2023-12 0,5484 1 137,93" in text
    recalculate.difference = Decimal("-3139.52")
    assert "алушыдан 3 139,52 теңге ұсталады" in words(recalculate, "kk")


def test_a_long_document_numbers_its_pages_and_repeats_the_table_heading(approved) -> None:
    months = [
        {"month": f"{2022 + m // 12}-{m % 12 + 1:02d}", "fraction": "1.0000", "amount": "2075.00"} for m in range(40)
    ]
    recalculate = _decision_of(
        approved,
        state=DecisionState.VERIFIED,
        kind="recalculate",
        effective_date=date(2022, 1, 1),
        previous_amount=Decimal("40000.00"),
        difference=Decimal("83000.00"),
        difference_months=months,
    )
    text = pdf_text(decision_pdf(recalculate, "ru"))
    assert "Страница 1 из 2" in text
    assert "Страница 2 из 2" in text
    assert text.count("Доля месяца") == 2  # the months' table heading, on each page
    assert text.count("ПРОЕКТ") >= 2  # "DRAFT" across each page (and the heading of the first)
    assert "2025-04" in text


def test_a_breadwinner_decision_names_the_deceased(approved, participant) -> None:
    from payments.models import PaymentType

    deceased = participant
    deceased.death_date = date(2023, 6, 10)
    recipient = approved.recipient
    recipient.payment_type, recipient.deceased = PaymentType.BREADWINNER, deceased
    decision = _decision_of(approved, kind="assign", effective_date=date(2023, 6, 10))
    decision.recipient = recipient
    text = words(decision, "kk")
    assert f"Қайтыс болған асыраушы ЖСН {deceased.iin}, {deceased.full_name}, қайтыс болған күні 10.06.2023" in text


def test_only_kazakh_and_russian(approved) -> None:
    with pytest.raises(ValueError, match="language"):
        decision_pdf(approved, "en")


# --- The download -----------------------------------------------------------------------------


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_auditor_downloads_the_pdf_and_the_download_is_logged(make_user, approved) -> None:
    auditor = make_user("auditor")
    response = signed_in(auditor).get(reverse("decision_pdf", kwargs={"pk": approved.pk, "lang": "ru"}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{approved.number}.ru.pdf"'
    assert "РЕШЕНИЕ О НАЗНАЧЕНИИ" in flat(pdf_text(response.content))
    entry = AccessLog.objects.get(kind=AccessLog.Kind.EXPORT)
    assert (entry.user, entry.view, entry.participant) == (auditor, "decision_pdf", approved.recipient.participant)
    assert entry.query["iins"] == [approved.recipient.participant.iin]
    assert entry.query["number"] == approved.number
    from records.formatting import view_label

    with translation.override("en"):  # as the access log page names it
        assert view_label(entry.view) == "Decision document (PDF)"


def test_a_draft_downloads_under_a_draft_name(make_user, draft) -> None:
    response = signed_in(make_user("specialist")).get(reverse("decision_pdf", kwargs={"pk": draft.pk, "lang": "kk"}))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="draft-{draft.pk}.kk.pdf"'


@pytest.mark.parametrize("lang", ["en", "KK", "pdf", "kk.pdf"])
def test_an_unknown_language_is_404_and_nothing_is_logged(make_user, approved, lang: str) -> None:
    client = signed_in(make_user("auditor"))
    response = client.get(f"/decisions/{approved.pk}/document.{lang}.pdf")
    assert response.status_code == 404
    assert not AccessLog.objects.filter(kind=AccessLog.Kind.EXPORT).exists()


def test_an_unknown_decision_is_404(make_user) -> None:
    client = signed_in(make_user("auditor"))
    assert client.get(reverse("decision_pdf", kwargs={"pk": 999999, "lang": "kk"})).status_code == 404


@pytest.mark.parametrize("role", [None, "api_client"])
def test_without_the_permission_to_follow_decisions_there_is_no_pdf(make_user, approved, role) -> None:
    user = make_user(role)
    assert not user.has_perm("payments.view_decision")
    response = signed_in(user).get(reverse("decision_pdf", kwargs={"pk": approved.pk, "lang": "kk"}))
    assert response.status_code == 403
    assert not AccessLog.objects.filter(kind=AccessLog.Kind.EXPORT).exists()


def test_the_pdf_carries_its_fonts(approved) -> None:
    """The vendored fonts are embedded (as subsets): the document reads the same on a machine
    without them, and printing it needs nothing outside the app."""
    data = decision_pdf(approved, "kk")
    assert data.count(b"/FontFile2") == 2  # regular and bold
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+DejaVu", data)
    assert len(data) < 150_000
