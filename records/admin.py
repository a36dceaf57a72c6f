from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from records.access import log_access, shown_iins
from records.admin_export import (
    AdminGuardMixin,
    AuditedResource,
    LoggedExportMixin,
    OwnerImportMixin,
    PersonalDataAdmin,
    ReadOnlyAdmin,
    iins_in_event_data,
    without_nul,
)
from records.export_formats import starts_a_formula
from records.models import (
    HISTORY_EVENT_LABELS,
    AccessLog,
    ApprovalStep,
    AuditChainHead,
    AuditEvent,
    CalendarDay,
    ExportedPerson,
    ExportJob,
    Participant,
    PersonalDataChange,
    RegistryLoad,
    RegistryPerson,
    WorkerHeartbeat,
)
from records.registry import registry_load_snapshot
from records.services import Actor, audit_record


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    """The large exports (issue 19): who asked for what, its state, rows and checksum. The files
    are handed out by the exports page, to the one who asked."""

    list_display = ["id", "kind", "file_format", "requested_by", "state", "rows_written", "sha256", "created_at"]
    list_filter = ["kind", "file_format", "state"]


@admin.register(ExportedPerson)
class ExportedPersonAdmin(PersonalDataAdmin):
    """Who is in which export file: "who exported person X" by IIN."""

    list_display = ["job", "iin"]
    search_fields = ["=iin"]
    person_fields = ("iin",)


@admin.register(Participant)
class ParticipantAdmin(PersonalDataAdmin):
    """Participants come from payment orders and the registry through services (paragraph 9
    change records); the admin only reads them, and every opening is logged."""

    list_display = ["iin", "last_name", "first_name", "patronymic", "birth_date", "gender"]
    search_fields = ["=iin", "last_name", "first_name"]
    readonly_fields = ["created_at", "updated_at"]
    person_fields = ("iin",)
    logged_change_view = "admin:participant_change"


@admin.register(PersonalDataChange)
class PersonalDataChangeAdmin(PersonalDataAdmin):
    list_display = ["participant", "field", "old_value", "new_value", "changed_on", "source"]
    list_filter = ["field", "changed_on"]
    list_select_related = ["participant"]
    search_fields = ["=participant__iin"]
    person_fields = ("participant__iin",)


class RegistryUploadForm(forms.Form):
    file = forms.FileField(label=_("Registry snapshot (CSV, UTF-8)"))


@admin.register(RegistryLoad)
class RegistryLoadAdmin(ReadOnlyAdmin):
    """Registry snapshots are loaded through the same loader as ``manage.py load_registry``,
    so change records (paragraph 9) are kept whichever way a snapshot arrives."""

    list_display = ["loaded_at", "file_name", "status", "rows_total", "rows_inserted", "rows_updated", "rows_rejected"]
    exclude = ["raw"]
    # The export button's list template, extended with the upload link (as change_list_template
    # it would become the base of the library's template, which extends it: a loop, a 500).
    import_export_change_list_template = "admin/records/registryload/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        upload = self.admin_site.admin_view(without_nul(self.upload_view))
        return [path("upload/", upload, name="records_registryload_upload"), *super().get_urls()]

    def has_upload_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_upload_permission(request):
            return HttpResponse(status=403)
        form = RegistryUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            load = registry_load_snapshot(raw=upload.read(), file_name=upload.name, actor=Actor.of(request.user))
            if load.status == RegistryLoad.Status.REJECTED:
                error = load.errors[0]
                messages.error(request, _("Rejected at line %(line)s: %(reason)s") % error)
            elif load.status != RegistryLoad.Status.LOADED:
                messages.error(request, _("The file was kept, but loading it failed; nothing of it was loaded."))
            else:
                messages.success(
                    request,
                    _("Loaded: %(ins)s inserted, %(upd)s updated, %(rej)s rejected rows.")
                    % {"ins": load.rows_inserted, "upd": load.rows_updated, "rej": load.rows_rejected},
                )
            return redirect("admin:records_registryload_change", load.pk)
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta}
        return render(request, "admin/records/registryload/upload.html", context)


@admin.register(RegistryPerson)
class RegistryPersonAdmin(PersonalDataAdmin):
    list_display = ["iin", "last_name", "first_name", "patronymic", "birth_date", "gender", "death_date"]
    search_fields = ["=iin", "last_name"]
    person_fields = ("iin",)
    logged_change_view = "admin:registryperson_change"


class CalendarDayResource(AuditedResource):
    audit_action = "calendar.import"

    class Meta:
        model = CalendarDay
        import_id_fields = ["date"]
        fields = ["date", "is_working", "kind", "name_kk", "name_ru", "name_en", "note"]
        skip_unchanged = True
        use_transactions = True

    def audit_key(self, instance: Model) -> str:
        return str(instance.date.isoformat())  # type: ignore[attr-defined]

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        """Undo the apostrophe our CSV/TSV export puts before text that reads as a formula
        (records.export_formats), so that an exported, edited and re-imported calendar keeps its
        names and notes as they were."""
        for name in ("name_kk", "name_ru", "name_en", "note"):
            value = row.get(name)
            if isinstance(value, str) and value.startswith("'") and starts_a_formula(value[1:]):
                row[name] = value[1:]

    def before_save_instance(self, instance: CalendarDay, row: Any, **kwargs: Any) -> None:
        instance.source = CalendarDay.Source.ADMIN  # imported by an administrator: kept by refreshes
        instance.full_clean(exclude=["date"] if instance.pk else None)


@admin.register(CalendarDay)
class CalendarDayAdmin(AdminGuardMixin, OwnerImportMixin, LoggedExportMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """The working-day calendar decides every deadline (conventions: "The working-day
    calendar"): only the head of the pension service adds, changes and imports days
    (``standards.roles``), and each change is an audit event in the same transaction."""

    resource_classes = [CalendarDayResource]
    list_display = ["date", "is_working", "kind", "name_kk", "name_ru", "source"]
    list_filter = ["is_working", "kind", "source"]
    date_hierarchy = "date"
    readonly_fields = ["source", "updated_at"]

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        # An administrator's row is never overwritten by the package refresh.
        obj.source = CalendarDay.Source.ADMIN
        super().save_model(request, obj, form, change)
        audit_record(
            actor=Actor.of(request.user),
            action="calendar.change" if change else "calendar.add",
            obj=obj,
            data={"date": obj.date.isoformat(), "fields": list(form.changed_data)},
        )

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        audit_record(
            actor=Actor.of(request.user), action="calendar.delete", obj=obj, data={"date": obj.date.isoformat()}
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> None:
        for day in queryset:
            audit_record(
                actor=Actor.of(request.user), action="calendar.delete", obj=day, data={"date": day.date.isoformat()}
            )
        super().delete_queryset(request, queryset)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The domain events. Their ``data`` may name people (``recipients.register`` and the
    dependants' events carry an IIN), so opening an event, and an export of events, is logged
    with the IINs its data holds (``records.admin_export.iins_in_event_data``: every 12-digit
    text at any depth), and the access log's IIN filter finds it. An event that names nobody is
    opened unlogged; the list shows no data and is not logged."""

    list_display = ["created_at", "actor_label", "action", "content_type", "object_pk"]
    list_filter = ["action"]

    def persons_in(self, queryset: QuerySet[AuditEvent]) -> list[str]:
        return iins_in_event_data(queryset)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, unquote(object_id)) if response.status_code == 200 else None
        named = self.persons_in(AuditEvent.objects.filter(pk=obj.pk)) if obj is not None else []
        if named:
            log_access(
                request, kind=AccessLog.Kind.VIEW, view="admin:records.auditevent_change", query=shown_iins(named)
            )
        return response


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    """The last link of each chain of the audit trail (``records.audit_chain``): what
    ``verify_audit_log`` checks the chain's end against."""

    list_display = ["chain", "seq", "hash"]


@admin.register(ApprovalStep)
class ApprovalStepAdmin(ReadOnlyAdmin):
    """Every step of every approval (refunds, decisions), written by ``records.approval`` only."""

    list_display = ["taken_at", "content_type", "object_pk", "step", "from_state", "to_state", "actor"]
    list_filter = ["step", "content_type"]
    list_select_related = ["content_type", "actor"]
    search_fields = ["=object_pk", "actor__username"]


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "kind", "participant", "view", "row_count", "ip_address"]
    list_filter = ["kind", "view"]
    list_select_related = ["user", "participant"]
    search_fields = ["=participant__iin", "user__username"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[AccessLog], search_term: str) -> Any:
        """An IIN also finds the lists, pages and exports that showed the person among others
        (``query.iins``), as on the access log page (``records.selectors.access_log``)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if len(term) == 12 and term.isdigit():
            results = results | queryset.filter(Q(query__iins__contains=[term]))
        return results, may_have_duplicates


# Row history (django-pghistory event tables) ---------------------------------------------------


def _event_when(event: Any) -> str:
    return f"{timezone.localtime(event.pgh_created_at):%Y-%m-%d %H:%M:%S}"


def _event_what(event: Any) -> str:
    return str(HISTORY_EVENT_LABELS.get(event.pgh_label, event.pgh_label))


def _event_who(event: Any) -> str:
    """Who made the change: the service's actor, else the page it came from (the request's
    context, django-pghistory's middleware), else "—" (a migration, a raw SQL statement)."""
    context = event.pgh_context
    metadata = context.metadata if context is not None else {}
    return str(metadata.get("actor") or metadata.get("url") or "—")


class HistoryAdminMixin:
    """Columns and fields of a history table named in the reader's language (the event tables'
    own ``pgh_*`` fields have English names)."""

    @admin.display(description=_("When"), ordering="pgh_created_at")
    def history_when(self, event: Any) -> str:
        return _event_when(event)

    @admin.display(description=_("What"), ordering="pgh_label")
    def history_what(self, event: Any) -> str:
        return _event_what(event)

    @admin.display(description=_("Who"))
    def history_who(self, event: Any) -> str:
        return _event_who(event)


def _history_admin(model: type[Model], tracked_admin: object) -> type[admin.ModelAdmin]:  # type: ignore[type-arg]
    """The admin of one history table: read-only, exportable, and logged like the table it is
    the history of when that one shows personal data (``person_fields`` of the tracked admin
    that the history copies)."""
    copied = {f.name for f in model._meta.fields}
    person_fields = tuple(
        lookup for lookup in getattr(tracked_admin, "person_fields", ()) if lookup.split("__", 1)[0] in copied
    )
    has_obj = "pgh_obj" in copied
    columns: list[Any] = ["history_when", "history_what", "history_who"]
    related = ["pgh_context"]
    if has_obj:
        columns.insert(2, "pgh_obj")
        related.append("pgh_obj")
    fields = [f.name for f in model._meta.fields if not f.name.startswith("pgh_")]
    shown = ["history_when", "history_what", "history_who", *fields]
    attrs: dict[str, Any] = {
        "__module__": __name__,
        "list_display": columns,
        "list_select_related": related,
        "fields": shown,
        "readonly_fields": shown,
        "person_fields": person_fields,
    }
    base = PersonalDataAdmin if person_fields else ReadOnlyAdmin
    return type(f"{model.__name__}Admin", (HistoryAdminMixin, base), attrs)


def register_history_models() -> None:
    """Row history (django-pghistory event tables) is readable and exportable, never editable.

    Called from ``RecordsConfig.ready()``, once every admin module is imported, so it also
    finishes the admin as a whole: django-pghistory's own all-events page (``pghistory.Events``)
    is taken out, since it shows every table's history, personal data included, without the
    access log (Rules, paragraph 5); the per-table history admins here show the same and log
    it. And every admin of a third-party app gets the NUL guard (``records.admin_export``)."""
    import pghistory.models
    from django.apps import apps

    if admin.site.is_registered(pghistory.models.Events):
        admin.site.unregister(pghistory.models.Events)
    for model in apps.get_models():
        if not issubclass(model, pghistory.models.Event) or model._meta.proxy or admin.site.is_registered(model):
            continue
        tracked: Any = model.pgh_tracked_model
        tracked_admin = admin.site._registry.get(tracked)
        admin.site.register(model, _history_admin(model, tracked_admin))
    _guard_every_admin()


def _guard_every_admin() -> None:
    for model, model_admin in list(admin.site._registry.items()):
        if isinstance(model_admin, AdminGuardMixin):
            continue
        cls = type(model_admin)
        guarded = type(cls.__name__, (AdminGuardMixin, cls), {"__module__": cls.__module__})
        admin.site.unregister(model)
        admin.site.register(model, guarded)


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["hostname", "seen_at"]


# Names of third-party apps' models in the admin, which their own Kazakh catalogues lack (or
# which would read like ours: django-axes' "access logs" are sign-ins, not our access log).
# Listed so that ``makemessages`` keeps them in the project's catalogue (see django_strings).
THIRD_PARTY_NAMES = (
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access logs"),
    gettext_noop("Periodic Tasks"),
    gettext_noop("periodic task"),
    gettext_noop("periodic tasks"),
    gettext_noop("clocked"),
    gettext_noop("crontab"),
    gettext_noop("crontabs"),
    gettext_noop("interval"),
    gettext_noop("intervals"),
    gettext_noop("solar event"),
    gettext_noop("solar events"),
)
