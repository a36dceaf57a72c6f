"""Admin exports as an auditor opens them (issue 19): one resource base for every admin export.

django-import-export writes what the tables hold: internal ids for foreign keys, field names as
headers, and (for text) numbers and dates in whatever notation its widgets pick. An auditor
opens the file in a spreadsheet, in Kazakh or Russian, and needs people by IIN and name, amounts
as numbers and dates as dates. ``AuditorResource`` gives every export that shape:

- a foreign key to a participant becomes two columns, ``<key>_iin`` and ``<key>_name`` (the
  person's IIN and full name); a foreign key to a user becomes the username; any other foreign
  key (and a many-to-many) the related row's natural key, else its text (an order's reference
  and number, a bank's BIC and name), else its id. The joins are made in the export's one query
  (``select_related``), never a query per row;
- files (binary fields) are left out: each has its own page, which logs who fetched it;
- the values take the style of the file (``style_of``): XLSX gets numbers, dates and
  date-times (local time) as typed cells; CSV, TSV and HTML the reader's notation (``7000,00``
  and ``24.11.2023`` in Kazakh and Russian); JSON and YAML, read by programs, ISO dates and a
  decimal point;
- a field with choices is written to people as the choice's name in their language, to
  programs as the stored value;
- the headers of the spreadsheet formats are the columns' names in the reader's language (the
  verbose names of the fields, ``Получатель: ИИН`` for a lookup); JSON and YAML keep the field
  names. Only the export is named so: an import takes the field names, and also the names an
  export gave in any of the site's languages, so that an exported, edited file imports again.

The admins get it through ``records.admin_export.LoggedExportMixin`` (a resource of their own
derives from ``AuditorResource``; an admin without one gets ``auditor_resource(model)``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.formats import get_format
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.declarative import ModelDeclarativeMetaclass
from import_export.formats import base_formats

from records.models import Participant

# The styles of an export (``style_of``).
NATIVE = "native"  # typed cells (XLSX)
READER = "reader"  # text in the reader's notation (CSV, TSV, HTML)
MACHINE = "machine"  # text for programs (JSON, YAML)


def style_of(file_format: Any) -> str:
    if file_format.is_binary():
        return NATIVE
    if isinstance(file_format, (base_formats.JSON, base_formats.YAML)):
        return MACHINE
    return READER


def row_key(row: models.Model) -> str:
    """What names a related row to a reader: its natural key, else its text, else its id."""
    natural = getattr(row, "natural_key", None)
    if callable(natural):
        return " ".join(str(part) for part in natural())
    if type(row).__str__ is models.Model.__str__:  # "Context object (…)" says nothing more
        return str(row.pk)
    return str(row)


class RowKeyWidget(widgets.ForeignKeyWidget):  # type: ignore[misc]
    """A foreign key exported as ``row_key`` of the row (imported by id, as the library does)."""

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return "" if value is None else row_key(value)


class RowKeysWidget(widgets.ManyToManyWidget):  # type: ignore[misc]
    """A many-to-many relation exported as the rows' keys (usernames, IINs or ``row_key``)."""

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if value is None:
            return ""
        rows = value.all()
        if self.field == "pk":
            return ", ".join(row_key(row) for row in rows)
        return ", ".join(str(getattr(row, self.field)) for row in rows)


class ChoiceWidget(widgets.Widget):  # type: ignore[misc]
    """A field with choices: exported to people as the choice's name in their language
    ("Социальные отчисления", not ``contribution``), to programs as the stored value; imported
    from either (the name in any language of the site). ``inner`` is the field's own widget."""

    def __init__(self, inner: Any, choices: Any) -> None:
        super().__init__()
        self.inner = inner
        self.choices = dict(choices)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if kwargs.get("export_style") in (READER, NATIVE) and value in self.choices:
            return str(self.choices[value])
        return self.inner.render(value, **kwargs)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if isinstance(value, str) and value not in self.choices and value.strip():
            wanted = value.strip().casefold()
            for code, _name in settings.LANGUAGES:
                with translation.override(code):
                    found = [key for key, label in self.choices.items() if str(label).casefold() == wanted]
                if found:
                    return found[0]
        return self.inner.clean(value, row, **kwargs)


def _input_formats(kind: str) -> list[str]:
    """ISO first (what the export to programs writes), then each language's own forms."""
    iso = ["%Y-%m-%d"] if kind == "DATE_INPUT_FORMATS" else ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]
    found = list(iso)
    for code, _name in settings.LANGUAGES:
        found.extend(f for f in get_format(kind, code) if f not in found)
    return found


class DateWidget(widgets.DateWidget):  # type: ignore[misc]
    """Reads a date as ISO or as any language of the site writes it (``24.11.2023``)."""

    def __init__(self, format: str | None = None, coerce_to_string: bool = True) -> None:
        super().__init__(format=format, coerce_to_string=coerce_to_string)
        if format is None:
            self.formats = _input_formats("DATE_INPUT_FORMATS")


class DateTimeWidget(widgets.DateTimeWidget):  # type: ignore[misc]
    def __init__(self, format: str | None = None, coerce_to_string: bool = True) -> None:
        super().__init__(format=format, coerce_to_string=coerce_to_string)
        if format is None:
            self.formats = _input_formats("DATETIME_INPUT_FORMATS")


def _key_widget(model: type[models.Model], *, many: bool = False) -> Any:
    """The widget of a relation to ``model``: by username, by IIN, or by ``row_key``."""
    user = get_user_model()
    field = user.USERNAME_FIELD if model is user else ("iin" if model is Participant else None)
    if many:
        return RowKeysWidget(model, field=field)
    return widgets.ForeignKeyWidget(model, field=field) if field else RowKeyWidget(model)


def _related(field: Any) -> type[models.Model] | None:
    """The model a relation leads to (None for a field that is no relation)."""
    model = field.related_model if field.is_relation else None
    return model if isinstance(model, type) else None


def field_at(model: type[models.Model], path: str) -> Any:
    """The model field a lookup ends on (``recipient__payment_type``), or None."""
    field: Any = None
    current: type[models.Model] | None = model
    for step in path.split("__"):
        if current is None:
            return None
        try:
            field = current._meta.get_field(step)
        except FieldDoesNotExist:
            return None
        current = _related(field)
    return field


def _readable_fields(model: type[models.Model], found: OrderedDict[str, Any]) -> OrderedDict[str, Any]:
    """The resource's fields with each relation the model gives them (not declared otherwise)
    named as a reader knows it; in the same order."""
    out: OrderedDict[str, Any] = OrderedDict()
    for name, field in found.items():
        if name in out:
            continue
        leaf = field_at(model, field.attribute or "")
        if isinstance(leaf, models.BinaryField):
            continue  # a file, served (and logged) by its own page: no cell of a table
        if leaf is not None and not leaf.is_relation and leaf.choices and not isinstance(field.widget, ChoiceWidget):
            field.widget = ChoiceWidget(field.widget, leaf.flatchoices)
        try:
            relation = model._meta.get_field(name)
        except FieldDoesNotExist:
            relation = None
        if relation is None or not relation.is_relation or field.attribute not in (name, f"{name}_id"):
            out[name] = field
            continue
        related = _related(relation)
        if relation.many_to_many and related is not None:
            out[name] = fields.Field(
                attribute=name, column_name=field.column_name, widget=_key_widget(related, many=True), readonly=True
            )
        elif not (relation.many_to_one or relation.one_to_one) or related is None:
            out[name] = field
        elif related is Participant:
            iin, full_name = f"{name}_iin", f"{name}_name"
            out[iin] = found.get(iin) or fields.Field(
                attribute=name, column_name=iin, widget=_key_widget(Participant), readonly=field.readonly
            )
            out[full_name] = found.get(full_name) or fields.Field(
                attribute=f"{name}__full_name", column_name=full_name, readonly=True
            )
        else:
            out[name] = fields.Field(
                attribute=name, column_name=field.column_name, widget=_key_widget(related), readonly=field.readonly
            )
    return out


class AuditorResourceMetaclass(ModelDeclarativeMetaclass):  # type: ignore[misc]
    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> Any:
        new_class = super().__new__(mcs, name, bases, attrs)
        model = new_class._meta.model
        if model is not None:
            new_class.fields = _readable_fields(model, new_class.fields)
        return new_class


# The name of what a lookup ends on when it is no field (a property).
_LEAF_NAMES = {"full_name": gettext_lazy("full name")}
# Names of the row-history tables' own fields (django-pghistory names them in English only).
_HISTORY_NAMES = {
    "pgh_id": gettext_lazy("History entry"),
    "pgh_created_at": gettext_lazy("When"),
    "pgh_label": gettext_lazy("What"),
    "pgh_obj": gettext_lazy("Record"),
    "pgh_context": gettext_lazy("Change context"),
}


def path_label(model: type[models.Model], path: str) -> str | None:
    """A column's name from the verbose names along its lookup: ``amount`` is "Amount",
    ``recipient__payment_type`` "Recipient: payment type", and the person a row holds is named
    by the row (``payment__recipient__participant__iin`` is "Recipient: IIN"). None when the
    lookup does not start with a field of the model."""
    names: list[str] = []
    hops: list[type[models.Model]] = []
    current: type[models.Model] | None = model
    for step in path.split("__"):
        if current is None:
            return None
        try:
            field = current._meta.get_field(step)
        except FieldDoesNotExist:
            if not names or step not in _LEAF_NAMES:
                return None
            names.append(str(_LEAF_NAMES[step]))
            break
        names.append(str(_HISTORY_NAMES.get(step) or getattr(field, "verbose_name", None) or step))
        current = _related(field)
        if current is not None:
            hops.append(current)
    if len(names) == 1:
        return capfirst(names[0])
    relations = names[:-1]
    if len(relations) > 1 and hops[len(relations) - 1 : len(relations)] == [Participant]:
        relations = relations[:-1]  # the recipient's person is named by the recipient
    return f"{capfirst(relations[-1])}: {names[-1]}"


@dataclass(frozen=True)
class Notation:
    """How the reader's language writes numbers and dates (``config/formats``), looked up once
    for a whole file rather than once per cell."""

    decimal_separator: str
    date_format: str
    datetime_format: str

    @classmethod
    def current(cls) -> Notation:
        return cls(
            decimal_separator=str(get_format("DECIMAL_SEPARATOR")),
            date_format=get_format("DATE_INPUT_FORMATS")[0],
            datetime_format=get_format("DATETIME_INPUT_FORMATS")[0],
        )


def typed_cell(value: Any, style: str, notation: Notation | None = None) -> Any:
    """A typed value in the export's style; None for what the widget should write. The reader's
    notation is the active language's (``notation`` when given)."""
    if isinstance(value, bool):
        return value if style == NATIVE else ("1" if value else "0")
    if isinstance(value, (Decimal, int, float)):
        if style == NATIVE:
            return value
        text = f"{value:f}" if isinstance(value, Decimal) else str(value)
        if style != READER:
            return text
        return text.replace(".", (notation or Notation.current()).decimal_separator)
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        if style == NATIVE:
            return value.replace(tzinfo=None)
        if style != READER:
            return value.isoformat()
        return value.strftime((notation or Notation.current()).datetime_format)
    if isinstance(value, date):
        if style == NATIVE:
            return value
        return value.strftime((notation or Notation.current()).date_format) if style == READER else value.isoformat()
    return None


class AuditorResource(resources.ModelResource, metaclass=AuditorResourceMetaclass):  # type: ignore[misc]
    """The base of every admin export (see the module's docstring). ``export`` takes the
    style as ``export_style``; without it (a resource used in code) it exports as the library
    does, with the field names as headers."""

    WIDGETS_MAP = {**resources.ModelResource.WIDGETS_MAP, "DateField": DateWidget, "DateTimeField": DateTimeWidget}

    export_style: str | None = None

    @classmethod
    def column_label(cls, field: Any) -> str:
        """The column's name in the active language."""
        model = cls._meta.model
        path = field.attribute or ""
        widget = field.widget
        if isinstance(widget, widgets.ForeignKeyWidget) and widget.model is Participant and widget.field == "iin":
            path = f"{path}__iin"
        label = path_label(model, path) if model is not None and path else None
        return label or str(field.column_name)

    def export(self, queryset: Any = None, **kwargs: Any) -> Any:
        self.export_style = kwargs.get("export_style")
        return super().export(queryset, **kwargs)

    def get_export_headers(self, selected_fields: Any = None) -> list[str]:
        if self.export_style in (None, MACHINE):
            return list(super().get_export_headers(selected_fields))
        headers: list[str] = []
        for field in self.get_export_fields(selected_fields):
            label = self.column_label(field)
            headers.append(f"{label} ({field.column_name})" if label in headers else label)
        return headers

    def export_field(self, field: Any, instance: Any, **kwargs: Any) -> Any:
        style = kwargs.get("export_style")
        if style is None:
            return super().export_field(field, instance, **kwargs)
        method = field.get_dehydrate_method(self.get_field_name(field))
        method = method if callable(method) else getattr(self, method, None)
        value = method(instance) if method is not None else field.get_value(instance)
        if value is None:
            return None if style == NATIVE else ""
        if isinstance(field.widget, ChoiceWidget):
            return field.widget.render(value, **kwargs)
        typed = typed_cell(value, style)
        if typed is not None:
            return typed
        return field.widget.render(value, **kwargs)

    def filter_export(self, queryset: Any, **kwargs: Any) -> Any:
        queryset = super().filter_export(queryset, **kwargs)
        if not isinstance(queryset, QuerySet):
            return queryset
        return with_related(queryset, [f.attribute for f in self.get_export_fields(kwargs.get("export_fields"))])

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        """The headers an export gave (in any of the site's languages) read as field names."""
        super().before_import(dataset, **kwargs)
        if not dataset.headers:
            return
        names = self.names_by_label()
        dataset.headers = [names.get(str(h).strip().casefold(), h) for h in dataset.headers]

    def names_by_label(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                for field in self.fields.values():
                    names.setdefault(self.column_label(field).casefold(), field.column_name)
        return names


def with_related(queryset: QuerySet[Any], paths: list[str | None]) -> QuerySet[Any]:
    """``queryset`` joined to the rows the lookups in ``paths`` reach (and, for a related row
    named by its text, the person that row names), without the joined rows' files; the
    many-to-many relations prefetched. One query for the export, not one per row."""
    joins: dict[str, type[models.Model]] = {}
    prefetch: set[str] = set()
    for path in paths:
        current: type[models.Model] = queryset.model
        steps: list[str] = []
        for step in (path or "").split("__"):
            try:
                field = current._meta.get_field(step)
            except FieldDoesNotExist:
                break
            if field.many_to_many or field.one_to_many:
                prefetch.add("__".join([*steps, step]))
                break
            related = _related(field)
            if not (field.many_to_one or field.one_to_one) or related is None:
                break
            steps.append(step)
            current = related
            joins["__".join(steps)] = current
        if steps and "__".join(steps) == path:  # ends on a row: its text may name its person
            for field in current._meta.concrete_fields:
                if field.is_relation and field.related_model is Participant:
                    joins[f"{path}__{field.name}"] = Participant
    if not joins and not prefetch:
        return queryset
    files = [
        f"{join}__{field.name}"
        for join, model in joins.items()
        for field in model._meta.concrete_fields
        if isinstance(field, models.BinaryField)
    ]
    queryset = queryset.select_related(*joins) if joins else queryset
    queryset = queryset.defer(*files) if files else queryset
    return queryset.prefetch_related(*prefetch) if prefetch else queryset


@cache
def auditor_resource(model: type[models.Model]) -> type[AuditorResource]:
    """The export of an admin that names no resource: every field of ``model``."""
    meta = type("Meta", (), {"model": model})
    resource: type[AuditorResource] = AuditorResourceMetaclass(
        f"{model.__name__}Resource", (AuditorResource,), {"Meta": meta, "__module__": __name__}
    )
    return resource
