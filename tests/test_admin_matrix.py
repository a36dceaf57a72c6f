"""Every admin URL x every role, generated from the admin's registry (``admin.site._registry``):
a model registered tomorrow, ours or a library's, is walked too.

For each model: the list, a row, its history, the export and import pages and the add and
delete pages (GET), and every write (POST): add, change, delete, import, the import's
confirmation, the export, and every admin action on the list. A role may read only what its
permissions (``standards.roles``) let it view, and write only where they say; the auditor writes
nothing anywhere; and after all of it nothing in the database has changed (the access log aside,
which the reads fill). One database state, checksums of every table before and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth import get_permission_codename
from django.db import connection
from django.db.models import Model
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from standards.roles import ROLES, ROLES_BY_KEY

ACTORS = ["norole", *(role.key for role in ROLES)]

# Every write the admin allows a role (the roles' other writes are on the staff pages). Each
# must follow from the role's permissions, which the test checks too.
EXPECTED_WRITES = {
    ("head_of_service", "records.calendarday", "add"),
    ("head_of_service", "records.calendarday", "change"),
    ("head_of_service", "records.calendarday", "import"),
}

WRITE_KINDS = {"add", "change", "delete", "import"}
# Tables the walk may change: reads are logged, sign-ins are recorded.
CHANGED_BY_READS = {"records_accesslog", "records_auditchainhead", "django_session"}


def permissions_of(actor: str) -> frozenset[str]:
    role = ROLES_BY_KEY.get(actor)
    return role.permissions if role is not None and role.admin_site else frozenset()


def permitted(actor: str, model: type[Model], kind: str) -> bool:
    """What ``standards.roles`` lets ``actor`` do to ``model`` in the admin."""
    perms = permissions_of(actor)
    opts = model._meta

    def has(action: str) -> bool:
        return f"{opts.app_label}.{get_permission_codename(action, opts)}" in perms

    if kind == "view":
        return has("view") or has("change")
    if kind == "export":
        return "records.export_data" in perms and (has("view") or has("change"))
    if kind == "import":
        return has("add") and has("change")
    return has(kind)


def tables() -> list[str]:
    from django.apps import apps

    found = {"auth_user_groups", "auth_group_permissions", "auth_user_user_permissions", "django_admin_log"}
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy:
            found.add(model._meta.db_table)
    return sorted(found - CHANGED_BY_READS)


def fingerprint() -> dict[str, str]:
    """A checksum of every row of every table (our tables are small in a test)."""
    sums = {}
    with connection.cursor() as cursor:
        for table in tables():
            name = connection.ops.quote_name(table)
            cursor.execute(f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {name} t")
            sums[table] = cursor.fetchone()[0]
    return sums


@pytest.fixture
def a_row_of_every_model(participant, people, sample, payments_sample, make_user) -> None:
    """At least one row in every table the admin shows (the sample order, its lines, entry,
    refund and return document come from ``sample``)."""
    from axes.models import AccessAttempt, AccessFailureLog  # type: ignore[import-untyped]
    from axes.models import AccessLog as SignInLog
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )
    from rest_framework.authtoken.models import Token

    from records.models import AccessLog, CalendarDay, WorkerHeartbeat
    from records.services import Actor, participant_change_personal_data

    participant_change_personal_data(
        participant_id=participant.pk, changes={"postal_code": "010000"}, actor=Actor(label="test"), source="test"
    )
    day = CalendarDay.objects.get(date=date(2026, 12, 16))
    day.note = "matrix"
    day.save()  # a row of the calendar's history
    AccessLog.objects.create(actor_label="test", kind=AccessLog.Kind.VIEW, view="test", participant=participant)
    WorkerHeartbeat.objects.create(hostname="worker-1", seen_at=timezone.now())
    Token.objects.create(user=make_user("api_client"))
    # Issue 17: recipients, case files, decisions and their steps come from payments_sample; a
    # dependant (and its history row) here.
    payments_sample["recipient"].dependants.create(
        iin="150101500018",
        full_name="ӘЛИЕВ ДӘУЛЕТ",
        birth_date=date(2015, 1, 1),
        relation="child",
        since=date(2023, 12, 15),
    )
    # Issue 18: the sample's January run, its list, payment, confirmation and return come from
    # payments_sample; a recovery here (one is recorded only by a later run or a death).
    from payments.models import Recovery

    january = payments_sample["list"].payments.get()
    Recovery.objects.create(
        recipient=payments_sample["recipient"],
        payment=january,
        for_month=january.month,
        amount=1,
        reason="recalculated",
    )
    # Issue 19: an export job and a person in its file (the report comes from payments_sample).
    from records.models import ExportedPerson, ExportJob

    job = ExportJob.objects.create(kind="ledger", file_format="csv", language="ru", requested_by=make_user("auditor"))
    ExportedPerson.objects.create(job=job, iin=participant.iin)
    # The second factor's devices: a head's authenticator app (make_user) and backup codes.
    from django_otp.plugins.otp_static.models import StaticDevice  # type: ignore[import-untyped]

    StaticDevice.objects.create(user=make_user("head_of_unit"), name="backup codes").token_set.create(token="abcdefgh")
    sign_in = {"user_agent": "x", "ip_address": "10.0.0.1", "username": "x", "http_accept": "x", "path_info": "/"}
    AccessAttempt.objects.create(
        **sign_in, attempt_time=timezone.now(), get_data="", post_data="", failures_since_start=1
    )
    SignInLog.objects.create(**sign_in, attempt_time=timezone.now())
    AccessFailureLog.objects.create(**sign_in, attempt_time=timezone.now())
    interval = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    CrontabSchedule.objects.create(minute="0", hour="1")
    SolarSchedule.objects.create(event="sunrise", latitude=51.1, longitude=71.4)
    ClockedSchedule.objects.create(clocked_time=timezone.now() + timedelta(days=1))
    PeriodicTask.objects.get_or_create(name="matrix", defaults={"task": "x", "interval": interval})


def admin_models() -> Iterator[tuple[type[Model], admin.ModelAdmin]]:  # type: ignore[type-arg]
    yield from sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower)


def url(name: str, *args: object) -> str | None:
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return None  # the admin has no such page (no import, no export)


def requests_for(model: type[Model], model_admin: admin.ModelAdmin) -> list[tuple[str, str, str, dict]]:  # type: ignore[type-arg]
    """(kind, method, url, data) of every page and write of one model's admin."""
    opts = model._meta
    prefix = f"{opts.app_label}_{opts.model_name}"
    row = model._default_manager.order_by("pk").first()
    assert row is not None, f"{opts.label}: no row to open; add one to a_row_of_every_model"
    pk = quote(row.pk)
    changelist = url(f"{prefix}_changelist")
    wanted = [
        ("view", "get", changelist, {}),
        ("view", "get", url(f"{prefix}_change", pk), {}),
        ("view", "get", url(f"{prefix}_history", pk), {}),
        ("export", "get", url(f"{prefix}_export"), {}),
        ("export", "post", url(f"{prefix}_export"), {}),
        ("add", "get", url(f"{prefix}_add"), {}),
        ("add", "post", url(f"{prefix}_add"), {}),
        ("change", "post", url(f"{prefix}_change", pk), {}),
        ("delete", "get", url(f"{prefix}_delete", pk), {}),
        ("delete", "post", url(f"{prefix}_delete", pk), {"post": "yes"}),
        ("import", "get", url(f"{prefix}_import"), {}),
        ("import", "post", url(f"{prefix}_import"), {}),
        ("import", "post", url(f"{prefix}_process_import"), {}),
    ]
    # Every action the admin has, whether or not the role may use it: one not offered must do
    # nothing (the database checksum says whether it did).
    for _func, name, _description in model_admin._get_base_actions():  # type: ignore[attr-defined]
        data = {"action": name, "_selected_action": [str(row.pk)], "index": "0", "post": "yes"}
        wanted.append((f"action {name}", "post", changelist, data))
    return [(kind, method, address, data) for kind, method, address, data in wanted if address is not None]


def refused(response: HttpResponse) -> bool:
    if response.status_code == 403:
        return True
    return response.status_code == 302 and str(response["Location"]).startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_every_admin_page_and_write_by_role(a_row_of_every_model, make_user) -> None:
    clients = {}
    for actor in ACTORS:
        client = Client()
        client.force_login(make_user(None if actor == "norole" else actor))
        clients[actor] = client
    before = fingerprint()
    allowed: set[tuple[str, str, str]] = set()
    changed_by: list[str] = []
    for model, model_admin in admin_models():
        label = model._meta.label_lower
        for kind, method, address, data in requests_for(model, model_admin):
            for actor, client in clients.items():
                response = getattr(client, method)(address, data)
                assert response.status_code < 500, (actor, method, address)
                if not refused(response) and not kind.startswith("action"):
                    allowed.add((actor, label, kind))
        after = fingerprint()
        if after != before:
            changed_by.append(f"{label}: {sorted(t for t in after if after[t] != before[t])}")
            before = after

    not_permitted = sorted(
        (actor, label, kind) for actor, label, kind in allowed if not permitted(actor, admin_model(label), kind)
    )
    assert not not_permitted, f"the admin lets roles do what standards.roles does not grant: {not_permitted}"
    writes = {entry for entry in allowed if entry[2] in WRITE_KINDS}
    assert not {w for w in writes if w[0] == "auditor"}, "the auditor writes nothing anywhere"
    assert writes == EXPECTED_WRITES
    assert not changed_by, f"refused, empty or unoffered writes changed the database: {changed_by}"


def admin_model(label: str) -> type[Model]:
    from django.apps import apps

    return apps.get_model(label)


@pytest.mark.django_db
def test_the_auditor_is_offered_no_action_anywhere(make_user) -> None:
    """Admin actions write (delete the selection, switch periodic tasks on and off, clean up
    sign-in attempts): none is offered to the auditor, on any list."""
    request = RequestFactory().get("/admin/")
    request.user = make_user("auditor")
    offered = {
        model._meta.label: sorted(model_admin.get_actions(request))
        for model, model_admin in admin_models()
        if model_admin.get_actions(request)
    }
    assert not offered


def test_every_admin_reads_its_input_without_nul() -> None:
    """The NUL guard sits on every admin, the libraries' included (``records.admin``)."""
    from records.admin_export import AdminGuardMixin

    unguarded = [m._meta.label for m, a in admin_models() if not isinstance(a, AdminGuardMixin)]
    assert not unguarded


@pytest.mark.django_db
def test_a_search_or_filter_with_nul_is_no_server_error_on_any_admin_list(a_row_of_every_model) -> None:
    """``?q=%00`` raised psycopg's DataError (PostgreSQL text cannot hold NUL): a 500. Every
    list, searched and filtered with NUL, and every row opened by a NUL id, answers normally."""
    from django.contrib.auth.models import User

    client = Client(raise_request_exception=True)
    client.force_login(User.objects.create_superuser("root-nul", password="x"))
    for model, model_admin in admin_models():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        query: dict[str, str] = {"q": "ИВАНОВ\x00"}
        first_filter = next((f for f in model_admin.list_filter if isinstance(f, str)), None)
        if first_filter is not None:
            query[f"{first_filter}__exact"] = "\x00"
        response = client.get(changelist, query)
        assert response.status_code in (200, 302), (opts.label, response.status_code)
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=["\x00"]))
        assert response.status_code in (200, 302), (opts.label, response.status_code)
    day = date(2026, 12, 16)
    response = client.get(reverse("admin:records_calendarday_changelist"), {"q": "\x00", "date__year": str(day.year)})
    assert response.status_code == 200


@pytest.mark.django_db
def test_every_export_with_a_filter_the_list_cannot_apply_goes_back_to_the_list() -> None:
    """An export takes the list's filters; one the list cannot apply is answered as the list
    answers it (back to the list, ``?e=1``), never a server error: every admin that exports."""
    from django.contrib.auth.models import User

    client = Client(raise_request_exception=True)
    client.force_login(User.objects.create_superuser("root-filters", password="x"))
    exporting = 0
    for model, _model_admin in admin_models():
        opts = model._meta
        export = url(f"{opts.app_label}_{opts.model_name}_export")
        if export is None:
            continue
        exporting += 1
        back = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?e=1"
        for method in ("get", "post"):
            response = getattr(client, method)(f"{export}?no_such_field=1")
            assert (response.status_code, response.get("Location")) == (302, back), (opts.label, method)
    assert exporting > 30
