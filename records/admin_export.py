"""The admin's base classes: input without NUL, exports logged (who, what, filters, whose data,
row count) and allowed only to holders of ``records.export_data`` (auditors), reads of personal
data logged with the people shown (Rules, paragraph 5), imports only for the roles that own the
table and audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any, ClassVar

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ERROR_FLAG
from django.contrib.auth import get_permission_codename
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import F, Func, Model, QuerySet, TextField, Value
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect, QueryDict
from django.urls import URLPattern, reverse
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from import_export import resources
from import_export.admin import ExportMixin, ImportMixin
from import_export.forms import SelectableFieldsExportForm
from import_export.results import Result, RowResult

from records.access import log_access, shown_iins
from records.export_formats import EXPORT_FORMATS, IMPORT_FORMATS
from records.export_resources import NATIVE, AuditorResource, auditor_resource, style_of
from records.exports import exports_url, kind_for_model
from records.models import AccessLog, ApprovalStep, AuditEvent, Participant
from records.selectors import RecordTrail, history_model_of, record_trail
from records.services import Actor, audit_record

NUL = "\x00"


def _without_nul(data: QueryDict) -> QueryDict:
    """``data`` with every NUL taken out of its keys and values (the same object when it has none)."""
    if not any(NUL in key or any(NUL in value for value in values) for key, values in data.lists()):
        return data
    cleaned = QueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        cleaned.setlist(key.replace(NUL, ""), [value.replace(NUL, "") for value in values])
    cleaned._mutable = False
    return cleaned


def without_nul(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """PostgreSQL text cannot hold NUL (psycopg raises ``DataError``, a 500), and a search, a
    filter, an object id in the URL or an action's selection may carry one (``?q=%00``). The
    view gets the request with NUL taken out of the query string, the form data and the URL's
    arguments: a search for ``ИВАНОВ%00`` is a search for ``ИВАНОВ``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        request.GET = _without_nul(request.GET)  # type: ignore[assignment]
        if request.method == "POST":
            request.POST = _without_nul(request.POST)  # type: ignore[assignment]
        args = tuple(a.replace(NUL, "") if isinstance(a, str) else a for a in args)
        kwargs = {k: v.replace(NUL, "") if isinstance(v, str) else v for k, v in kwargs.items()}
        return view(request, *args, **kwargs)

    return wrapper


# What in an audit event's ``data`` names a person: every string of 12 ASCII digits, at any depth
# and under any key. The services name people under keys of their own (``iin`` for a recipient
# or a dependant; a payer, a list of rows), and the keys of today's events say nothing of the
# keys of tomorrow's. 12 digits is what an IIN or a BIN is, and what the access log's IIN
# filter looks for (``records.access.shown_iins``). A number (a count, an order's id) is never a
# person: IINs are written as text, leading zeros and all.
IIN_IN_DATA = 'strict $.** ? (@.type() == "string" && @ like_regex "^[0-9]{12}$")'


def iins_in_event_data(events: QuerySet[AuditEvent]) -> list[str]:
    """The distinct IINs (and BINs) the ``data`` of ``events`` holds (``IIN_IN_DATA``), found by
    PostgreSQL in one query: an export of 100 000 events is not walked row by row in Python."""
    found = Func(
        F("data"),
        Value(IIN_IN_DATA),
        function="jsonb_path_query",
        template="(%(function)s(%(expressions)s::jsonpath) #>> '{}')",
        output_field=TextField(),
    )
    iins = events.order_by().annotate(iin_in_data=found).values_list("iin_in_data", flat=True).distinct()
    return sorted(iins)


def view_permission(model: type[Model]) -> str:
    opts = model._meta
    return f"{opts.app_label}.{get_permission_codename('view', opts)}"


def readable_trail(user: Any, obj: Model) -> tuple[RecordTrail, bool]:
    """``obj``'s trail (``records.selectors.record_trail``) with only the parts ``user`` may
    read, and whether the domain events are among them. Each part is a table of its own with
    its own view permission, and leave to open the record is no leave to read its past: the row
    history needs the history table's (``records.view_participantevent``: a participant's
    earlier names, documents and addresses), the domain events ``records.view_auditevent``, the
    approval steps ``records.view_approvalstep``. What was done in the admin (Django's own
    history) stays for whoever may open the record, as in Django."""
    trail = record_trail(obj)
    history = history_model_of(type(obj))
    rows = history is not None and user.has_perm(view_permission(history))
    events = user.has_perm(view_permission(AuditEvent))
    steps = user.has_perm(view_permission(ApprovalStep))
    readable = replace(
        trail,
        row_history=trail.row_history if rows else None,
        events=trail.events if events else [],
        steps=trail.steps if steps else [],
    )
    return readable, events


class AdminGuardMixin:
    """What every admin does, third-party ones included (``records.admin`` puts it on them):

    - every view (the admin's own, the import and export views, actions) reads its input
      through ``without_nul``. The mixin comes before the import and export mixins, whose URLs
      are added by their own ``get_urls``;
    - an action that names no permission (``allowed_permissions``) is offered only to those
      who may change the model: Django offers it to whoever may view the list, and such
      actions write (switch periodic tasks on, run them, clean up sign-in attempts), while a
      viewer such as the auditor writes nothing.
    """

    def get_urls(self) -> list[URLPattern]:
        urls: list[URLPattern] = super().get_urls()  # type: ignore[misc]
        for pattern in urls:
            pattern.callback = without_nul(pattern.callback)
        return urls

    # A record's history page is its whole trail (issue 19): row history, domain events and
    # approval steps above what was done to it in the admin (Django's own history), each part
    # to whoever may read it (``readable_trail``).
    object_history_template: ClassVar[Any] = "admin/record_trail.html"

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None) -> Any:
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        trail = None
        if obj is not None and self.has_view_or_change_permission(request, obj):  # type: ignore[attr-defined]
            trail, events_shown = readable_trail(request.user, obj)
            extra_context = {**(extra_context or {}), "trail": trail, "trail_events_shown": events_shown}
        response = super().history_view(request, object_id, extra_context)  # type: ignore[misc]
        if trail is not None and response.status_code == 200:
            shown = AuditEvent.objects.filter(pk__in=[event.pk for event in trail.events])
            self.log_history_read(request, obj, iins_in_event_data(shown) if trail.events else [])
        return response

    def log_history_read(self, request: HttpRequest, obj: Model, named: list[str]) -> None:
        """The record's history page was shown, its domain events naming the people ``named``
        (``iins_in_event_data``): logged with them, so that "who read person X" finds it. A
        page that names nobody is not logged here (``PersonalDataAdmin`` logs its row's person)."""
        if not named:
            return
        opts = self.model._meta  # type: ignore[attr-defined]
        log_access(
            request,
            kind=AccessLog.Kind.VIEW,
            view=f"admin:{opts.app_label}.{opts.model_name}_history",
            query=shown_iins(named),
        )

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        # Also reached from the site's autocomplete view, which no model admin URL wraps.
        return super().get_search_results(request, queryset, search_term.replace(NUL, ""))  # type: ignore[misc]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions: dict[str, Any] = super().get_actions(request)  # type: ignore[misc]
        if self.has_change_permission(request):  # type: ignore[attr-defined]
            return actions
        return {name: entry for name, entry in actions.items() if getattr(entry[0], "allowed_permissions", None)}


class PersonsMixin:
    """Whose personal data a row shows: ``person_fields`` are lookups to an IIN (or a payer's
    IIN/BIN), the first one the person the row is about. The access log keeps these IINs, so
    that "who read person X" is answered for lists, pages and exports alike."""

    person_fields: tuple[str, ...] = ()

    def persons_in(self, queryset: QuerySet[Any]) -> list[str]:
        """The distinct IINs the rows of ``queryset`` show (one query per lookup, in the
        database: an export of 100 000 rows is not walked row by row)."""
        found: set[str] = set()
        for lookup in self.person_fields:
            found.update(v for v in queryset.order_by().values_list(lookup, flat=True).distinct() if v)
        return sorted(found)


class ExportFieldsForm(SelectableFieldsExportForm):  # type: ignore[misc]
    """The export form names each field as the rest of the admin does, in the reader's language
    (the library writes ``Payer Idn``): by the header it gets in a spreadsheet, with the field's
    name, which is its key in JSON and YAML and what an import may also use."""

    def _get_field_label(self, resource: Any, field_name: str) -> str:
        field = resource.fields.get(field_name)
        column = field.column_name if field is not None else field_name
        if field is not None and issubclass(resource, AuditorResource):
            return f"{capfirst(resource.column_label(field))} ({column})"
        model = getattr(resource._meta, "model", None)
        try:
            verbose = model._meta.get_field(field_name).verbose_name  # type: ignore[union-attr]
        except (AttributeError, FieldDoesNotExist):  # not a model field of the resource
            return str(super()._get_field_label(resource, field_name))
        return f"{capfirst(verbose)} ({column})"


class LoggedExportMixin(PersonsMixin, ExportMixin):  # type: ignore[misc]
    """Exports for auditors: logged, capped at ``EXPORT_MAX_ROWS``, in formats that keep payers'
    text from becoming spreadsheet formulas (``records.export_formats``), and shaped as an
    auditor reads them (``records.export_resources``: people by IIN and name, typed cells,
    headers in the reader's language). A resource of the admin's own derives from
    ``AuditorResource``."""

    export_formats = EXPORT_FORMATS
    export_form_class = ExportFieldsForm

    def get_resource_classes(self, request: HttpRequest) -> list[type[resources.Resource]]:
        if not self.resource_classes and not getattr(self, "resource_class", None):
            return [auditor_resource(self.model)]
        return list(super().get_resource_classes(request))

    def has_export_permission(self, request: HttpRequest) -> bool:
        """Auditors export (``records.export_data``), and only what they may read."""
        return request.user.has_perm("records.export_data") and self.has_view_permission(request)

    def export_action(self, request: HttpRequest) -> HttpResponse:
        """The export takes the list's filters from its query string, as the list does. A filter
        the list cannot apply (``?period__lt=garbage``: the library builds the list's queryset
        without catching ``IncorrectLookupParameters``, a 500) is answered as the list answers
        it: back to the list, flagged ``?e=1``, with a message; nothing is exported or logged."""
        try:
            return super().export_action(request)  # type: ignore[no-any-return]
        except IncorrectLookupParameters:
            messages.error(
                request,
                gettext(
                    "The list's filters are not valid, so nothing was exported. Filter the list again, then export."
                ),
            )
            opts = self.model._meta
            changelist = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_changelist", current_app=self.admin_site.name
            )
            return HttpResponseRedirect(f"{changelist}?{ERROR_FLAG}=1")

    def _do_file_export(
        self, file_format: Any, request: HttpRequest, queryset: QuerySet[Any], export_form: Any = None
    ) -> HttpResponse:
        """Above ``EXPORT_MAX_ROWS``, a table that has a large export (``records.exports``: the
        ledger, order lines, decisions, payments) sends the auditor to the exports page, with
        the list's filters carried over where that export has them; other tables refuse (below)."""
        kind = kind_for_model(self.model)
        if kind is not None and kind.may_export(request.user):
            rows = queryset.count()
            if rows > settings.EXPORT_MAX_ROWS:
                filters, left = kind.from_admin(request.GET)
                messages.info(
                    request,
                    ngettext(
                        "%(rows)s row is more than one export from the admin may hold: it is made as a "
                        "large export in the background.",
                        "%(rows)s rows are more than one export from the admin may hold: they are made as "
                        "a large export in the background.",
                        rows,
                    )
                    % {"rows": number_format(rows, force_grouping=True)},
                )
                if left:
                    messages.warning(
                        request,
                        gettext("These filters of the list could not be carried over; set them here: %(names)s.")
                        % {"names": ", ".join(sorted(left))},
                    )
                return HttpResponseRedirect(exports_url(kind.name, filters))
        return super()._do_file_export(file_format, request, queryset, export_form=export_form)  # type: ignore[no-any-return]

    def get_export_data(self, file_format: Any, request: HttpRequest, queryset: QuerySet[Any], **kwargs: Any) -> Any:
        """The file, logged once it has been built (a file that failed read nothing out), with
        the people whose data went into it, all of them (``records.access.shown_iins``)."""
        # Counted before anything is built; the library shows a ValueError's text on the export
        # form, and nothing is exported or logged.
        rows = queryset.count()
        if rows > settings.EXPORT_MAX_ROWS:
            raise ValueError(
                ngettext(
                    "The export would hold %(rows)s row, more than the %(limit)s one export may hold. "
                    "Filter the list first (for example by date), then export each part.",
                    "The export would hold %(rows)s rows, more than the %(limit)s one export may hold. "
                    "Filter the list first (for example by date), then export each part.",
                    rows,
                )
                % {
                    "rows": number_format(rows, force_grouping=True),
                    "limit": number_format(settings.EXPORT_MAX_ROWS, force_grouping=True),
                }
            )
        data = self._export_file(file_format, request, queryset, **kwargs)
        export_form = kwargs.get("export_form")
        fmt = getattr(export_form, "cleaned_data", {}).get("format") if export_form is not None else None
        query: dict[str, Any] = {"filters": dict(request.GET.lists()), "format": self._format_name(fmt)}
        persons = self.persons_in(queryset)
        if self.person_fields or persons:
            query.update(shown_iins(persons, limit=None))
        opts = self.model._meta
        log_access(
            request,
            kind=AccessLog.Kind.EXPORT,
            view=f"admin:{opts.app_label}.{opts.model_name}",
            query=query,
            row_count=rows,
        )
        return data

    def _export_file(self, file_format: Any, request: HttpRequest, queryset: QuerySet[Any], **kwargs: Any) -> Any:
        """The library's ``get_export_data``, with the rows in the style of the format: the
        library passes native values only to its own XLSX class (not a subclass like ours)."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        style = style_of(file_format)
        dataset = self.get_data_for_export(
            request, queryset, force_native_type=style == NATIVE, export_style=style, **kwargs
        )
        data = file_format.export_data(dataset)
        encoding = kwargs.get("encoding")
        if not file_format.is_binary() and encoding:
            data = data.encode(encoding)
        return data

    def _format_name(self, fmt: object) -> str:
        """The export form gives the format as its index in the list of formats: log its name."""
        try:
            return str(self.get_export_formats()[int(str(fmt))]().get_title())
        except (TypeError, ValueError, IndexError):
            return "" if fmt is None else str(fmt)


class ReadOnlyAdmin(AdminGuardMixin, LoggedExportMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Records that only services write: nobody adds, changes or deletes them in the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class PersonalDataAdmin(ReadOnlyAdmin):
    """An admin whose rows show personal data (IINs, names, amounts of a person's account).

    Logged like the staff pages (Rules, paragraph 5): opening, searching or filtering the list
    (with the people on the page), opening a row or its history (with its person), exporting
    (with everyone in the file)."""

    #: The view name an opened row is logged under (default ``admin:<app>.<model>_change``).
    logged_change_view = ""

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        if response.status_code == 200 and self.has_view_permission(request):
            opts = self.model._meta
            changelist = (getattr(response, "context_data", None) or {}).get("cl")
            query: dict[str, Any] = dict(request.GET.lists())
            if changelist is not None:
                shown = self.model._default_manager.filter(pk__in=[row.pk for row in changelist.result_list])
                query.update(shown_iins(self.persons_in(shown)))
            log_access(
                request,
                kind=AccessLog.Kind.SEARCH,
                view=f"admin:{opts.app_label}.{opts.model_name}_changelist",
                query=query,
                row_count=changelist.result_count if changelist is not None else None,
            )
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:  # it exists and the user may see it
            obj = self.get_object(request, unquote(object_id))
            if obj is not None:
                self._log_row_read(request, obj, suffix="change")
        return response

    def log_history_read(self, request: HttpRequest, obj: Model, named: list[str]) -> None:
        # One entry: the row's person and whoever its domain events name.
        self._log_row_read(request, obj, suffix="history", also=named)

    def _log_row_read(self, request: HttpRequest, obj: Model, *, suffix: str, also: list[str] | None = None) -> None:
        """A row's page was shown: log its person (and ``also``, others the page names)."""
        opts = self.model._meta
        default_name = f"admin:{opts.app_label}.{opts.model_name}_{suffix}"
        view = self.logged_change_view if (self.logged_change_view and suffix == "change") else default_name
        row = self.model._default_manager.filter(pk=obj.pk)
        persons = [*self.persons_in(row), *(also or [])]
        participant = None
        if self.person_fields:
            first = row.values_list(self.person_fields[0], flat=True).first()
            participant = Participant.objects.filter(iin=first).first() if first else None
        log_access(request, kind=AccessLog.Kind.VIEW, view=view, participant=participant, query=shown_iins(persons))


class AuditedResource(AuditorResource):
    """A resource whose import (the confirmed one, not the preview) writes one audit event in
    the import's transaction: who, which file, what was added, changed or deleted. An import
    that fails as a whole is rolled back with its event."""

    audit_action = ""

    def audit_key(self, instance: Model) -> str:
        return str(instance.pk)

    def after_import(self, dataset: Any, result: Result, **kwargs: Any) -> None:
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run"):
            return
        rows: dict[str, list[str]] = {}
        for row in result.rows:
            if row.import_type in (
                RowResult.IMPORT_TYPE_NEW,
                RowResult.IMPORT_TYPE_UPDATE,
                RowResult.IMPORT_TYPE_DELETE,
            ):
                instance = getattr(row, "instance", None)
                key = self.audit_key(instance) if instance is not None else str(row.object_id)
                rows.setdefault(row.import_type, []).append(key)
        audit_record(
            actor=Actor.of(kwargs.get("user")),
            action=self.audit_action or f"{self._meta.model._meta.label_lower}.import",
            data={"file": kwargs.get("file_name") or "", "totals": dict(result.totals), "rows": rows},
        )


class OwnerImportMixin(ImportMixin):  # type: ignore[misc]
    """Import only for the roles that own the table: an import adds and changes rows, so it
    needs both permissions (and delete when the resource deletes). django-import-export lets
    everyone import unless told otherwise (``IMPORT_EXPORT_IMPORT_PERMISSION_CODE``); the
    resources must be ``AuditedResource`` (an unaudited one makes the import nobody's).
    CSV and TSV are read as the exports write them (``records.export_formats``)."""

    import_formats = IMPORT_FORMATS

    def has_import_permission(self, request: HttpRequest) -> bool:
        classes = self.get_import_resource_classes(request)
        if not all(issubclass(resource, AuditedResource) for resource in classes):
            return False
        actions = ["add", "change"]
        if any(resource.for_delete is not resources.Resource.for_delete for resource in classes):
            actions.append("delete")
        opts = self.opts
        return all(request.user.has_perm(f"{opts.app_label}.{get_permission_codename(a, opts)}") for a in actions)
