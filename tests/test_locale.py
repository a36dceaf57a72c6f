"""Locale smoke test: every template of ours renders in kk, ru and en, and no string of our
catalogue is left untranslated in a Kazakh or Russian page."""

from __future__ import annotations

import gettext
import json
import re
from html import unescape
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted(p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*.html"))


def catalogue(language: str) -> dict[str, str]:
    with (ROOT / "locale" / language / "LC_MESSAGES" / "django.mo").open("rb") as handle:
        entries = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    return {k: v for k, v in entries.items() if isinstance(k, str) and k}


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_every_message_of_ours_is_translated(language: str) -> None:
    po = (ROOT / "locale" / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert "#, fuzzy" not in po
    assert not re.search(r'msgstr(\[\d\])? ""\n\n', po.split("\n\n", 1)[1] + "\n\n"), "an empty msgstr"
    assert len(catalogue(language)) > 150


def _label(msgid: str) -> bool:
    """Strings of ours that would be visibly English on a page: capitalised labels or phrases
    (single lowercase words such as a model field name also occur inside data and codes)."""
    return "\x00" not in msgid and "%(" not in msgid and len(msgid) > 3 and (msgid[0].isupper() or " " in msgid)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


PAGES = [
    "home", "participant_search", "participant_detail", "access_log", "role_list", "login",
    "order_list", "order_live", "order_upload", "order_detail", "review_queue", "deadlines", "return_document_list",
    "payer_detail", "refund_list", "refund_new", "registry_upload", "registry_load_detail",
    "otp_setup",
    "amount_preview", "decision_new", "decision_detail", "decision_redraft", "decision_queue", "proposal_list",
    "recipient_list", "recipient_register", "recipient_detail",
    "payment_runs", "payment_run_detail", "payment_confirmations", "payment_returns", "work_list",
    "monthly_reports", "monthly_report_detail", "heads_dashboard",
    "export_jobs",
]  # fmt: skip


@pytest.fixture
def sample(sample, payments_sample):
    """The shared sample objects, a registry load with refused rows (its page), and issue 17's
    objects (the URL kwargs of the permission matrix's parts)."""
    from records.registry import registry_load_snapshot
    from records.services import Actor
    from tests.test_permission_matrix import MATRIX_PARTS

    raw = "iin,last_name,first_name,patronymic,birth_date,gender,death_date\n123,A,B,,1990-01-01,M,\n"
    load = registry_load_snapshot(raw=raw.encode(), file_name="r.csv", actor=Actor(label="test"))
    merged = {**sample, "registry_load_detail": {"pk": load.pk}}
    for part in MATRIX_PARTS:
        merged.update(part.kwargs(payments_sample))
    return merged


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_pages_render_translated(language: str, make_user, participant, sample) -> None:
    from django.contrib.auth.models import Permission

    head = make_user("head_of_service")
    # Loading the registry is an administrator's (no role holds it): given here to see the page.
    head.user_permissions.add(Permission.objects.get(codename="add_registryload"))
    # Large exports are the auditor's (records.export_data): given here to see their page.
    head.user_permissions.add(Permission.objects.get(codename="export_data"))
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(head)
    client.get(reverse("participant_detail", args=[participant.pk]))  # something in the access log
    strings = catalogue(language) if language != "en" else {}
    # English msgids of our catalogue that must not show in a kk/ru page (skip ones equal to
    # their translation, e.g. "IIN" vs "ЖСН" differ, but "KZT" would not).
    english = {k for k, v in strings.items() if _label(k) and k != v}
    used: set[str] = set()
    for name in PAGES:
        url = reverse(name, kwargs=sample.get(name, {}))
        query = {"iin": participant.iin} if name == "participant_search" else {}
        if name == "order_live":  # the live refresh of an order list: the cells of its orders
            query = {"ids": str(sample["order_detail"]["pk"])}
        response = client.get(url, query)
        assert response.status_code == 200, (name, language)
        html = response.content.decode()
        assert f'lang="{language}"' in html or name == "order_live"  # a fragment, not a page
        text = visible_text(html)
        left = sorted(s for s in english if re.search(rf"(?<![\w]){re.escape(s)}(?![\w])", text))
        assert not left, f"{name} [{language}] shows untranslated: {left}"
        used.update(t.name for t in response.templates if t.name)
    ours = {t for t in TEMPLATES if not t.startswith(("admin/", "drf_spectacular/"))}  # overrides: own tests
    assert ours - used - set(DIRECT) == set(), "a template no page renders: add it to PAGES or DIRECT"


DIRECT = [
    "registration/locked_out.html",  # rendered by django-axes, not by a page of ours
    "403.html", "404.html", "500.html",  # rendered by Django's error handlers
    "registration/otp_verify.html",  # sends a signed-in page on; each state: tests/records/test_second_factor.py
]  # fmt: skip


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
@pytest.mark.parametrize("template", DIRECT)
def test_templates_outside_pages_render_translated(template: str, language: str, rf: RequestFactory) -> None:
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/")
    request.user = AnonymousUser()
    with translation.override(language):
        html = render_to_string(template, {}, request=request)
    assert f'lang="{language}"' in html
    english = {k for k, v in catalogue(language).items() if k != v and len(k) > 3} if language != "en" else set()
    text = visible_text(html)
    assert not [s for s in english if re.search(rf"(?<![\w]){re.escape(s)}(?![\w])", text)]


TEMPLATE_STRING = re.compile(r"""{%\s*translate\s+(["'])(.+?)\1""")
PY_STRING = re.compile(r"""\b_\(\s*(["'])((?:\\.|(?!\1).)+)\1\s*\)""")
SOURCES = ["records", "contributions", "payments", "standards", "config", "templates"]


def source_msgids() -> set[str]:
    found: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix == ".html":
                found.update(m.group(2) for m in TEMPLATE_STRING.finditer(path.read_text(encoding="utf-8")))
            elif path.suffix == ".py" and "migrations" not in path.parts:
                found.update(m.group(2) for m in PY_STRING.finditer(path.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_every_string_of_ours_is_in_the_catalogue(language: str) -> None:
    """A string marked for translation but missing from locale/ (makemessages not run) fails."""
    known = set(catalogue(language))
    missing = sorted(s for s in source_msgids() if s not in known and "\\" not in s)
    assert not missing, f"run makemessages and translate: {missing[:20]}"


PLACEHOLDER = re.compile(r"%\([A-Za-z0-9_]+\)[sdr]|%[sd]|\{[A-Za-z0-9_]*\}|<[^>]+>")


def test_the_vendor_catalogue_is_complete_and_keeps_placeholders() -> None:
    """locale/vendor: Kazakh for Django's and django-import-export's messages that their own
    Kazakh catalogues lack; every entry translated, with the msgid's placeholders and tags."""
    folder = ROOT / "locale" / "vendor" / "kk" / "LC_MESSAGES"
    for domain, least in (("django", 250), ("djangojs", 50)):
        po = (folder / f"{domain}.po").read_text(encoding="utf-8")
        assert "#, fuzzy" not in po
        assert not re.search(r'msgstr(\[\d\])? ""\n\n', po.split("\n\n", 1)[1] + "\n\n"), "an empty msgstr"
        with (folder / f"{domain}.mo").open("rb") as handle:
            entries = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
        assert len(entries) > least
        for key, text in entries.items():
            msgid = key[0] if isinstance(key, tuple) else key
            if not msgid:
                continue  # the header
            msgid = msgid.split("\x04", 1)[-1]  # without a context
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), (msgid, text)


@pytest.mark.django_db
def test_django_form_errors_and_the_admin_export_are_in_kazakh(make_user) -> None:
    """Messages of Django and django-import-export that staff meet (a form error, the admin's
    export page) are in Kazakh on a Kazakh page, not in English."""
    from django import forms

    field = forms.DecimalField(max_digits=16, decimal_places=2)
    with translation.override("kk"):  # the messages are lazy: worded inside the language
        with pytest.raises(forms.ValidationError) as raised:
            field.clean("1.234")
        assert raised.value.messages == ["Ондық үтірден кейін ең көбі 2 цифр болуы тиіс."]
        with pytest.raises(forms.ValidationError) as raised:
            forms.CharField().clean("a\x00b")
        assert raised.value.messages == ["Нөлдік таңбаларға рұқсат етілмейді."]

    client = Client()
    client.force_login(make_user("auditor"))
    page = client.get(reverse("admin:records_participant_export"), HTTP_ACCEPT_LANGUAGE="kk").content.decode()
    text = visible_text(page)
    assert "Экспорттау" in text
    assert "This exporter will export the following fields" not in text
    index = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="kk").content.decode()
    assert "Start typing to filter" not in index
    # The admin's JavaScript messages (calendar, select widgets).
    script = client.get(reverse("admin:jsi18n"), HTTP_ACCEPT_LANGUAGE="kk").content.decode()
    assert json.dumps("Қаңтар")[1:-1] in script or "Қаңтар" in script


def test_every_field_of_ours_has_a_translatable_name() -> None:
    """A field without a verbose name shows its Python name (``Payer Idn``, ``Participant``) in
    the Kazakh and Russian admin, filters and export form."""
    from django.apps import apps
    from django.utils.functional import Promise

    unnamed = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in {"records", "contributions", "standards", "payments"}
        and not hasattr(model, "pgh_obj")  # row-history copies (django-pghistory) keep their own names
        for field in model._meta.concrete_fields
        if not field.auto_created and not isinstance(field.verbose_name, Promise)
    ]
    assert not unnamed


def test_the_admins_change_link_is_spelt_right_in_kazakh() -> None:
    """Django's own Kazakh catalogue misspells it ("Өзгетру"); the vendor catalogue corrects it."""
    with translation.override("kk"):
        assert translation.gettext("Change") == "Өзгерту"
