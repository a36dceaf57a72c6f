"""The second factor (issue 17): whoever verifies or approves money decisions (level-6
specialists, heads, the head of the service) and administrators sign in with a TOTP code or a
backup code; a step taken without it is refused; the API's machine accounts keep their tokens.

Actors: ``make_user(role)`` gives a head a confirmed authenticator app and a session signed in
with it; ``unverified(user)`` marks the user so that ``client.force_login`` signs in with the
password only, as a person who stopped at the code step."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone, translation
from django_otp.oath import TOTP  # type: ignore[import-untyped]
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken  # type: ignore[import-untyped]
from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from records.models import AuditEvent
from records.otp_services import BACKUP_CODE_COUNT, second_factor_enrol
from records.otp_views import SETUP_KEY_SESSION

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456789"
VERIFY = "/accounts/second-factor/"
SETUP = "/accounts/second-factor/setup/"


def code_for(key: str, offset: int = 0) -> str:
    """The code an authenticator app with ``key`` shows now (``offset`` steps of 30 s away)."""
    totp = TOTP(bytes.fromhex(key))
    totp.drift = offset
    return f"{totp.token():06d}"


def a_wrong_code(key: str) -> str:
    """A six-digit code that no step the device accepts now (one before to one after) shows."""
    near = {code_for(key, offset) for offset in (-2, -1, 0, 1, 2)}
    return next(code for code in (f"{n:06d}" for n in range(1000)) if code not in near)


def unverified(user: User) -> User:
    """The same user, as an object ``force_login`` signs in with the password only."""
    fresh = User.objects.get(pk=user.pk)
    fresh.otp_device = None  # type: ignore[attr-defined]
    return fresh


def key_of(user: User) -> str:
    return str(TOTPDevice.objects.get(user=user, confirmed=True).key)


def signed_in(user: User, **client_options) -> Client:
    client = Client(**{"HTTP_ACCEPT_LANGUAGE": "en", **client_options})
    client.force_login(user)
    return client


def is_verified(client: Client) -> bool:
    return client.get(reverse("home")).status_code == 200


def location(response) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(response["Location"])
    return parts.path, parse_qs(parts.query)


def with_backup_codes(user: User) -> list[str]:
    """Set ``user`` up through the service as the setup page does: an app and ten codes."""
    TOTPDevice.objects.filter(user=user).delete()
    key = TOTPDevice(user=user).key
    return second_factor_enrol(user=user, key=key, code=code_for(key)).backup_codes


# --- Setting up the authenticator app -------------------------------------------------------------


def test_setup_shows_the_secret_as_a_qr_code_and_text_and_confirms_with_the_right_code_only(make_user) -> None:
    head = unverified(make_user("head_of_unit", username="maria", second_factor=False))
    client = signed_in(head)
    # Without a device, every page sends the head to set one up first.
    path, query = location(client.get(reverse("refund_list")))
    assert (path, query["next"]) == (SETUP, [reverse("refund_list")])

    page = client.get(SETUP + "?next=/refunds/")
    assert page.status_code == 200
    key = client.session[SETUP_KEY_SESSION]
    html = page.content.decode()
    assert re.search(r'<svg [^>]*class="segno"', html)  # the QR code, inline (no external service)
    secret = page.context["secret"]
    assert secret.replace(" ", "") in TOTPDevice(user=head, key=key).config_url  # the same secret as text
    assert secret in html
    assert page.context["uri"].startswith("otpauth://totp/")
    assert "maria" in page.context["uri"]
    assert client.get(SETUP).context["secret"] == secret  # a reload shows the same secret
    assert not TOTPDevice.objects.filter(user=head).exists()  # nothing stored until confirmed

    wrong = client.post(SETUP, {"code": a_wrong_code(key), "next": "/refunds/"})
    assert wrong.status_code == 200
    assert "This is not the code your app shows now" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=head).exists()
    assert not is_verified(client)

    done = client.post(SETUP, {"code": code_for(key), "next": "/refunds/"})
    assert done.status_code == 200
    codes = done.context["backup_codes"]
    assert len(codes) == len(set(codes)) == BACKUP_CODE_COUNT
    html = done.content.decode()
    assert all(code in html for code in codes)
    assert "Keep them safe" in html
    device = TOTPDevice.objects.get(user=head)
    assert (device.key, device.confirmed) == (key, True)
    assert sorted(StaticToken.objects.filter(device__user=head).values_list("token", flat=True)) == sorted(codes)
    assert AuditEvent.objects.filter(action="second_factor.enrol", object_pk=str(head.pk)).count() == 1
    # The session is signed in with the new app; the codes are shown this once.
    assert is_verified(client)
    again = client.get(SETUP)
    assert again.context["state"] == "exists"
    assert not any(code in again.content.decode() for code in codes)
    assert SETUP_KEY_SESSION not in client.session


def test_the_code_step_sends_a_head_without_a_device_to_set_one_up(make_user) -> None:
    client = signed_in(unverified(make_user("head_of_service", second_factor=False)))
    path, query = location(client.get(VERIFY + "?next=/orders/"))
    assert (path, query["next"]) == (SETUP, ["/orders/"])


def test_a_user_with_backup_codes_only_proves_it_before_setting_up_a_new_app(make_user) -> None:
    """Someone who knows only the password cannot replace the owner's second factor."""
    head = make_user("head_of_unit", second_factor=False)
    codes = with_backup_codes(head)
    TOTPDevice.objects.filter(user=head).delete()  # the phone is lost; an administrator removed it
    client = signed_in(unverified(head))
    path, _query = location(client.get(SETUP))
    assert path == VERIFY
    assert client.post(SETUP, {"code": "123456"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=head).exists()
    # With a backup code, the new app can be set up.
    client.post(VERIFY, {"code": codes[0]})
    assert client.get(SETUP).context["state"] == "setup"


def test_a_head_with_an_app_cannot_set_up_another(make_user) -> None:
    head = make_user("head_of_unit")
    client = signed_in(head)
    response = client.post(SETUP, {"code": "123456"})
    assert response.context["state"] == "exists"
    assert TOTPDevice.objects.filter(user=head).count() == 1


def test_a_specialist_is_not_asked_for_a_second_factor(make_user) -> None:
    make_user("specialist", username="aigerim")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(reverse("login"), {"username": "aigerim", "password": PASSWORD})
    assert response["Location"] == reverse("home")
    assert client.get(reverse("refund_list")).status_code == 200
    assert client.get(VERIFY)["Location"] == reverse("home")
    assert client.get(SETUP).context["state"] == "not_needed"
    assert not TOTPDevice.objects.filter(user__username="aigerim").exists()


# --- Signing in ----------------------------------------------------------------------------------


def test_the_login_of_a_head_goes_to_the_code_step_and_then_where_they_were_going(make_user) -> None:
    head = make_user("head_of_unit", username="maria")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(reverse("login"), {"username": "maria", "password": PASSWORD, "next": "/refunds/"})
    path, query = location(response)
    assert (path, query["next"]) == (VERIFY, ["/refunds/"])
    assert "_auth_user_id" in client.session  # the password is taken ...
    assert not is_verified(client)  # ... but no page opens yet
    page = client.get(VERIFY + "?next=/refunds/")
    assert page.status_code == 200
    assert 'name="next" value="/refunds/"' in page.content.decode()

    response = client.post(VERIFY, {"code": code_for(key_of(head)), "next": "/refunds/"})
    assert response["Location"] == "/refunds/"
    assert client.get("/refunds/").status_code == 200
    assert client.get(VERIFY + "?next=/orders/")["Location"] == "/orders/"  # past the step: sent on
    event = AuditEvent.objects.get(action="second_factor.verify")
    assert event.data == {"device": "totp"}


def test_the_login_of_a_head_without_a_device_goes_to_the_setup(make_user) -> None:
    make_user("head_of_service", username="nurlan", second_factor=False)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(reverse("login"), {"username": "nurlan", "password": PASSWORD})
    path, query = location(response)
    assert (path, query["next"]) == (SETUP, [reverse("home")])


def test_a_superuser_signs_in_with_the_second_factor_too() -> None:
    User.objects.create_superuser("root", password=PASSWORD)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    path, _query = location(client.post(reverse("login"), {"username": "root", "password": PASSWORD}))
    assert path == SETUP


def test_a_code_typed_with_spaces_is_read(make_user) -> None:
    head = make_user("head_of_unit")
    client = signed_in(unverified(head))
    code = code_for(key_of(head))
    client.post(VERIFY, {"code": f" {code[:3]} {code[3:]} "})
    assert is_verified(client)


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:evil.example",
        "/orders/\x00",
        "/orders/\r\nSet-Cookie: a=b",
    ],
)
def test_next_is_not_an_open_redirect(make_user, next_url: str) -> None:
    head = make_user("head_of_unit")
    client = signed_in(unverified(head))
    page = client.get(VERIFY, {"next": next_url})
    assert page.context["next"] == reverse("home")
    response = client.post(VERIFY, {"code": code_for(key_of(head)), "next": next_url})
    assert response["Location"] == reverse("home")
    assert client.get(VERIFY, {"next": next_url})["Location"] == reverse("home")  # a verified user too


def test_next_to_a_page_of_the_site_is_kept(make_user) -> None:
    head = make_user("head_of_unit")
    client = signed_in(unverified(head))
    response = client.post(VERIFY, {"code": code_for(key_of(head)), "next": "/orders/?status=received"})
    assert response["Location"] == "/orders/?status=received"


# --- Wrong codes and throttling ------------------------------------------------------------------


@override_settings(OTP_TOTP_THROTTLE_FACTOR=600)  # the first wait is ten minutes: no race with the clock
def test_a_wrong_code_is_refused_counted_and_then_throttled(make_user) -> None:
    head = make_user("head_of_unit")
    device = TOTPDevice.objects.get(user=head)
    client = signed_in(unverified(head))

    wrong = client.post(VERIFY, {"code": a_wrong_code(device.key)})
    assert wrong.status_code == 200
    assert "This code is wrong or was already used." in wrong.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert AuditEvent.objects.filter(action="second_factor.refused", object_pk=str(head.pk)).count() == 1

    # Even the right code is not looked at while the device waits.
    throttled = client.post(VERIFY, {"code": code_for(device.key)})
    assert throttled.status_code == 200
    text = throttled.content.decode()
    assert "Too many wrong codes. Wait" in text
    waiting = re.search(r"Wait (\d+) s", text)
    assert waiting
    assert 590 <= int(waiting[1]) <= 600
    assert not is_verified(client)
    device.refresh_from_db()
    assert device.throttling_failure_count == 1

    # After the wait, the right code is taken and the count starts again.
    device.throttling_failure_timestamp = timezone.now() - timedelta(seconds=601)
    device.save()
    client.post(VERIFY, {"code": code_for(device.key)})
    assert is_verified(client)
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_a_code_that_is_not_a_code_is_refused_without_a_server_error(make_user) -> None:
    client = signed_in(unverified(make_user("head_of_unit")))
    for code in ("", "12345", "1234567", "abc", "<script>", "a\x00b", "x" * 500):
        response = client.post(VERIFY, {"code": code})
        assert response.status_code == 200, code
        assert response.context["form"].errors
    assert not is_verified(client)


def test_an_app_code_is_taken_once(make_user) -> None:
    head = make_user("head_of_unit")
    code = code_for(key_of(head))
    first = signed_in(unverified(head))
    first.post(VERIFY, {"code": code})
    assert is_verified(first)
    second = signed_in(unverified(head))
    response = second.post(VERIFY, {"code": code})
    assert "This code is wrong or was already used." in response.content.decode()


def test_backup_codes_work_once_each(make_user) -> None:
    head = make_user("head_of_unit", second_factor=False)
    codes = with_backup_codes(head)
    first = signed_in(unverified(head))
    response = first.post(VERIFY, {"code": codes[0].upper()})  # as printed, in capitals
    assert response["Location"] == reverse("home")
    messages = [str(m) for m in first.get(reverse("home")).context["messages"]]
    assert messages == [f"You used a backup code: {BACKUP_CODE_COUNT - 1} are left."]
    assert is_verified(first)

    second = signed_in(unverified(head))
    second.post(VERIFY, {"code": codes[1]})
    assert is_verified(second)

    third = signed_in(unverified(head))
    response = third.post(VERIFY, {"code": codes[0]})
    assert "This code is wrong or was already used." in response.content.decode()
    assert not is_verified(third)
    assert StaticDevice.objects.get(user=head).throttling_failure_count == 1  # a failure counts here too
    assert StaticToken.objects.filter(device__user=head).count() == BACKUP_CODE_COUNT - 2


# --- Without the second factor: no page, no step, no admin ---------------------------------------


def test_a_head_who_skipped_the_code_step_is_sent_back_to_it_from_every_page(make_user, participant) -> None:
    client = signed_in(unverified(make_user("head_of_service")))
    for url in (
        reverse("home"),
        reverse("participant_search"),
        reverse("participant_detail", args=[participant.pk]),
        reverse("refund_list"),
        reverse("order_list") + "?status=received",
    ):
        path, query = location(client.get(url))
        assert (path, query["next"]) == (VERIFY, [url])
    # An htmx request changes the whole page, not a fragment.
    response = client.get(reverse("order_list"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert urlsplit(response["HX-Redirect"]).path == VERIFY
    # The ways to the step and away from it stay open.
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("healthz")).status_code == 200
    assert client.post(reverse("set_language"), {"language": "ru", "next": VERIFY})["Location"] == VERIFY
    assert client.post(reverse("logout"))["Location"] == reverse("login")


def test_a_head_who_skipped_the_code_step_cannot_approve_a_refund(make_user, sample) -> None:
    from contributions.models import Refund, RefundStatus
    from records.models import ApprovalStep

    refund = Refund.objects.get(pk=sample["refund_decide"]["pk"])
    head = make_user("head_of_unit")
    data = {"decision": "approve", "confirm": "on", "version": refund.version}
    url = reverse("refund_decide", args=[refund.pk])

    response = signed_in(unverified(head)).post(url, data)
    path, _query = location(response)
    assert path == VERIFY
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REGISTERED
    assert not ApprovalStep.objects.exists()

    signed_in(head).post(url, data)  # control: with the second factor, the same request approves
    refund.refresh_from_db()
    assert refund.status == RefundStatus.POSTED


def test_a_specialist_who_skipped_the_code_step_cannot_verify_a_decision(make_user, payments_sample) -> None:
    """The API is not guarded by the middleware (tokens); the step itself refuses a session
    without the second factor."""
    from payments.models import Decision

    decision = payments_sample["submitted"]
    decision.refresh_from_db()
    verifier = make_user("senior_specialist")
    url = reverse("api_decision_step", kwargs={"pk": decision.pk, "step": "verify"})
    before = (decision.state, decision.version)

    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_login(unverified(verifier))
    response = api.post(url, {"version": decision.version}, format="json")
    assert response.status_code == 403
    decision.refresh_from_db()
    assert (decision.state, decision.version) == before
    # The decision page refuses it too: the session goes to the code step first.
    page = signed_in(unverified(verifier)).post(reverse("decision_step", args=[decision.pk, "verify"]))
    assert location(page)[0] == VERIFY
    decision.refresh_from_db()
    assert (decision.state, decision.version) == before

    api.force_login(verifier)  # control: signed in with the second factor
    assert api.post(url, {"version": decision.version}, format="json").status_code == 200
    assert Decision.objects.get(pk=decision.pk).state == "verified"


def test_the_admin_needs_the_second_factor(make_user) -> None:
    root = User.objects.create_superuser("root-admin", password=PASSWORD)
    admin_index = reverse("admin:index")
    path, query = location(signed_in(unverified(root)).get(admin_index))
    assert (path, query["next"]) == (SETUP, [admin_index])  # an administrator without a device yet
    assert signed_in(root).get(admin_index).status_code == 200  # force_login gives root a device

    head = make_user("head_of_service")  # staff in the admin, and needs the second factor
    path, _query = location(signed_in(unverified(head)).get(admin_index))
    assert path == VERIFY
    path, _query = location(signed_in(unverified(head)).get(reverse("admin:login")))
    assert path == VERIFY
    assert signed_in(head).get(admin_index).status_code == 200
    # The auditor reads the admin with the password: no money step is theirs.
    assert signed_in(make_user("auditor")).get(admin_index).status_code == 200


def test_an_api_token_of_a_machine_account_works_without_it(make_user, people) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import line_for, order_text

    bank = make_user("api_client", username="bank-halyk")
    assert not TOTPDevice.objects.filter(user=bank).exists()
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=bank).key}")
    upload = SimpleUploadedFile("order.mt102", order_text([line_for(people[1])]).encode())
    response = api.post(reverse("api_order_submit"), {"file": upload, "received": "2023-11-24"}, format="multipart")
    assert response.status_code == 201, response.content
    (order,) = response.json()["orders"]
    assert api.get(reverse("api_order_detail", args=[order["id"]])).status_code == 200


# --- Languages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_the_second_factor_pages_are_translated(language: str, make_user) -> None:
    from tests.test_locale import _label, catalogue, visible_text

    strings = catalogue(language)
    english = {k for k, v in strings.items() if _label(k) and k != v}

    def untranslated(response) -> list[str]:
        main = re.search(r"<main\b.*?</main>", response.content.decode(), flags=re.S)
        text = visible_text(main[0] if main else "")
        return sorted(s for s in english if re.search(rf"(?<![\w]){re.escape(s)}(?![\w])", text))

    head = make_user("head_of_unit", second_factor=False)
    client = signed_in(unverified(head), HTTP_ACCEPT_LANGUAGE=language)
    pages = [client.get(SETUP), client.post(SETUP, {"code": "12"})]
    key = client.session[SETUP_KEY_SESSION]
    pages.append(client.post(SETUP, {"code": code_for(key)}))  # the backup codes
    pages.append(client.get(SETUP))  # already set up
    pages.append(signed_in(make_user("specialist"), HTTP_ACCEPT_LANGUAGE=language).get(SETUP))  # not needed
    verifier = make_user("head_of_unit")
    wrong = a_wrong_code(key_of(verifier))
    other = signed_in(unverified(verifier), HTTP_ACCEPT_LANGUAGE=language)
    pages += [other.get(VERIFY), other.post(VERIFY, {"code": "x"}), other.post(VERIFY, {"code": wrong})]
    with override_settings(OTP_TOTP_THROTTLE_FACTOR=600):
        pages.append(other.post(VERIFY, {"code": wrong}))
    assert [p.context["state"] for p in pages[:5]] == ["setup", "setup", "codes", "exists", "not_needed"]
    for response in pages:
        assert response.status_code == 200
        assert f'lang="{language}"' in response.content.decode()
        assert not untranslated(response), response.request["PATH_INFO"]
    with translation.override(language):
        waiting = translation.gettext("Too many wrong codes. Wait %(seconds)s s and try again.")
    assert waiting.split("%(seconds)s")[0] in pages[-1].content.decode()
