"""Large exports for auditors (issue 19): the kinds of export, their filters and columns, and the
file writers. The jobs that run them are ``records.export_jobs``; the page is
``records.views.export_jobs``.

An export kind is registered by the app that owns its table (``contributions.exports``,
``payments.exports``, imported from their ``AppConfig.ready``: ``records`` imports neither). It
names:

- the permission to read its rows, besides ``records.export_data``;
- a filter form: the job stores the cleaned filters as JSON and the task cleans them again; a
  bad value is an error naming the field, and a key the form does not know is refused, never
  read as "everything";
- its columns: a lookup (the header is named from it in the reader's language, as the admin's
  exports are: ``records.export_resources.path_label``) or an expression, and the type the
  lookup's field gives it (an amount, a date, a choice shown by its name);
- the lookups to the people in the file (IINs, payers' IIN/BIN), for ``ExportedPerson``;
- the rows for cleaned filters, as a queryset (ordered, so that the file is the same each time).

The files are written as the admin's exports are (``records.export_formats``,
``records.export_resources``, ``records.spreadsheets``): CSV with a byte order mark, ``;``,
every field quoted, text that a spreadsheet would take for a formula behind an apostrophe,
numbers and dates in the reader's notation; XLSX in openpyxl's write-only mode with numbers,
dates and date-times as typed cells and text as text cells. Both take the rows as they come
from a server-side cursor: memory does not grow with the rows.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import CharField, F, Func, QuerySet, Value
from django.db.models.functions import NullIf
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from records.export_formats import BOM, SEPARATOR, _as_text
from records.export_resources import NATIVE, READER, Notation, field_at, path_label, typed_cell
from records.identifiers import validate_iin_bin
from records.spreadsheets import xlsx_cell, xlsx_text

# --- Columns -------------------------------------------------------------------------------------


def full_name(prefix: str = "") -> Func:
    """Surname, first name and patronymic (when there is one) in one column, in SQL."""
    at = f"{prefix}__" if prefix else ""
    return Func(
        Value(" "),
        F(f"{at}last_name"),
        F(f"{at}first_name"),
        NullIf(F(f"{at}patronymic"), Value("")),
        function="concat_ws",
        output_field=CharField(),
    )


@dataclass(frozen=True)
class Column:
    """A column of an export: ``path`` is the lookup it shows (and names it: its header is the
    lookup's label in the reader's language, unless ``label`` is given); ``value`` an expression
    computing it in SQL when the lookup is no field (a person's full name)."""

    path: str
    value: Any = None
    label: Promise | str | None = None

    def header(self, model: type[models.Model]) -> str:
        if self.label is not None:
            return capfirst(str(self.label))
        return path_label(model, self.path) or self.path

    def selected(self) -> Any:
        return self.value if self.value is not None else self.path

    def choices(self, model: type[models.Model]) -> dict[Any, Any] | None:
        leaf = field_at(model, self.path) if self.value is None else None
        if leaf is not None and not leaf.is_relation and leaf.choices:
            return dict(leaf.flatchoices)
        return None


# --- Filters -------------------------------------------------------------------------------------


def any_choice(choices: Any) -> list[tuple[str, Any]]:
    """A filter's choices with "any" (empty) first."""
    return [("", "—"), *choices]


def conditions(filters: Mapping[str, Any], lookups: Mapping[str, str]) -> dict[str, Any]:
    """The ORM lookups of the filters given (``lookups``: filter name -> lookup); an empty
    filter is no condition."""
    return {lookup: filters[name] for name, lookup in lookups.items() if filters.get(name)}


class ExportFilterForm(forms.Form):
    """The filters of an export kind. Built from the submitted values or from a job's stored
    JSON; a key that names no filter is an error (``__all__``), not ignored."""

    def __init__(self, data: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.unknown = sorted(set(data or {}) - set(self.fields))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.unknown:
            raise ValidationError(
                gettext("Unknown filter: %(names)s.") % {"names": ", ".join(self.unknown)}, code="unknown"
            )
        for start, end in self.ranges():
            first, last = data.get(start), data.get(end)
            if first is not None and last is not None and first > last:
                self.add_error(end, ValidationError(_("The end date is before the start date."), code="range"))
        return data

    def ranges(self) -> list[tuple[str, str]]:
        """Pairs of fields ``<x>_from`` and ``<x>_to``: the end may not come before the start."""
        return [(name, f"{name[:-5]}_to") for name in self.fields if name.endswith("_from")]

    def as_json(self) -> dict[str, Any]:
        """The cleaned filters that were given, as the form reads them again (dates ISO)."""
        out: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if value in (None, "", [], ()):
                continue
            to_json = getattr(self.fields[name], "to_json", None)
            if callable(to_json):
                out[name] = to_json(value)
            elif isinstance(value, date):
                out[name] = value.isoformat()
            elif isinstance(value, models.Model):
                out[name] = value.pk
            else:
                out[name] = value
        return out


class IdentifierField(forms.CharField):
    """An IIN or BIN (12 digits with a valid check digit)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault("required", False)
        kwargs.setdefault("validators", [validate_iin_bin])
        super().__init__(**kwargs)


# --- Kinds ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportKind:
    name: str
    label: Promise | str
    model: type[models.Model]
    permission: str
    form: type[ExportFilterForm]
    columns: tuple[Column, ...]
    persons: tuple[str, ...]
    rows: Callable[[dict[str, Any]], QuerySet[Any]]
    # The admin's list filters (query-string keys) that map to a filter of this kind.
    admin_filters: Mapping[str, str] = field(default_factory=dict)

    def may_export(self, user: Any) -> bool:
        return bool(user.has_perm("records.export_data") and user.has_perm(self.permission))

    def clean_filters(self, data: Mapping[str, Any]) -> ExportFilterForm:
        """The filter form bound to ``data`` (valid or not: the caller reads its errors)."""
        form = self.form({key: value for key, value in data.items() if value not in (None, "")})
        form.is_valid()
        return form

    def queryset(self, filters: dict[str, Any]) -> QuerySet[Any]:
        """The rows for cleaned filters, as the tuples of the columns, in a stable order."""
        return self.select(self.rows(filters))

    def select(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        """``rows`` (of the kind's model) as the tuples of the columns."""
        return rows.values_list(*(column.selected() for column in self.columns))

    def persons_queryset(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        """The distinct IINs and IIN/BINs of the people in ``rows`` (one UNION in the database)."""
        parts = [rows.order_by().values_list(lookup) for lookup in self.persons]
        return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0].distinct()

    def headers(self) -> list[str]:
        return [column.header(self.model) for column in self.columns]

    def from_admin(self, params: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
        """An admin list's filters (its query string) as this kind's filters, and the keys that
        have no filter here. A date range's exclusive end (``period__lt``) becomes the day
        before (the form's end date is inclusive)."""
        mapped: dict[str, str] = {}
        left: list[str] = []
        for key, value in params.items():
            if key in ("o", "p", "_changelist_filters") or value == "":
                continue
            name = self.admin_filters.get(key)
            if name is None:
                left.append(key)
                continue
            if key.endswith("__lt"):
                try:
                    value = (date.fromisoformat(value[:10]) - timedelta(days=1)).isoformat()
                except ValueError:
                    left.append(key)
                    continue
            mapped[name] = value[:10] if key.endswith(("__gte", "__lt")) else value
        return mapped, left


_KINDS: dict[str, ExportKind] = {}


# Names the exports page gives its own fields: no filter may take them.
RESERVED = frozenset({"kind", "file_format", "csrfmiddlewaretoken"})


def register(kind: ExportKind) -> ExportKind:
    clashing = RESERVED & set(kind.form.base_fields)
    if clashing:
        raise ValueError(f"export {kind.name}: filters may not be named {sorted(clashing)}")
    _KINDS[kind.name] = kind
    return kind


def kinds() -> list[ExportKind]:
    return list(_KINDS.values())


def get_kind(name: str) -> ExportKind | None:
    return _KINDS.get(name)


def exports_url(kind: str, filters: Mapping[str, str] | None = None) -> str:
    """The exports page with ``kind`` chosen and its filter form filled with ``filters``."""
    return f"{reverse('export_jobs')}?{urlencode({'kind': kind, **(filters or {})})}"


def kind_for_model(model: type[models.Model]) -> ExportKind | None:
    return next((kind for kind in _KINDS.values() if kind.model is model), None)


# --- Writers -------------------------------------------------------------------------------------


class Formatter:
    """The cells of one row in a file's style, with each column's choice names and the reader's
    notation looked up once (in the language active when it is made)."""

    def __init__(self, kind: ExportKind, style: str) -> None:
        self.style = style
        self.notation = Notation.current()
        self.choices = [
            {key: str(label) for key, label in choices.items()} if choices else None
            for choices in (column.choices(kind.model) for column in kind.columns)
        ]

    def row(self, values: Sequence[Any]) -> list[Any]:
        return [self.cell(value, self.choices[i]) for i, value in enumerate(values)]

    def cell(self, value: Any, choices: dict[Any, str] | None) -> Any:
        if value is None:
            return None if self.style == NATIVE else ""
        if choices is not None:
            value = choices.get(value, value)
        if isinstance(value, str):
            return value if self.style == NATIVE else _as_text(value)
        typed = typed_cell(value, self.style, self.notation)
        return typed if typed is not None else str(value)


Progress = Callable[[int], None]


def write_csv(
    path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]], fmt: Formatter, progress: Progress
) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(BOM)
        writer = csv.writer(out, delimiter=SEPARATOR, quoting=csv.QUOTE_ALL)
        writer.writerow([_as_text(header) for header in headers])
        for values in rows:
            writer.writerow(fmt.row(values))
            count += 1
            progress(count)
    return count


def write_xlsx(
    path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]], fmt: Formatter, progress: Progress, title: str
) -> int:
    count = 0
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append([xlsx_text(sheet, header) for header in headers])
    for values in rows:
        sheet.append([xlsx_cell(sheet, value) for value in fmt.row(values)])
        count += 1
        progress(count)
    book.save(str(path))
    return count


def write_file(
    kind: ExportKind, file_format: str, path: Path, rows: Iterable[Sequence[Any]], progress: Progress
) -> int:
    """Write ``rows`` (tuples of the kind's columns) to ``path``; returns how many rows."""
    headers = kind.headers()
    if file_format == "xlsx":
        return write_xlsx(path, headers, rows, Formatter(kind, NATIVE), progress, title=str(kind.label))
    return write_csv(path, headers, rows, Formatter(kind, READER), progress)


def stream(queryset: QuerySet[Any], chunk_size: int) -> Iterator[Sequence[Any]]:
    """The rows through a server-side cursor, ``chunk_size`` at a time."""
    return queryset.iterator(chunk_size=chunk_size)


def persons_insert(job_id: int, persons: QuerySet[Any]) -> tuple[str, list[Any]]:
    """The one statement that records the people of ``persons`` (``ExportKind.persons_queryset``)
    as ``ExportedPerson`` rows of a job: text that is no 12-digit number names nobody."""
    sql, params = persons.query.sql_with_params()
    statement = (
        "INSERT INTO records_exportedperson (job_id, iin)"
        f" SELECT %s, p.iin FROM ({sql}) AS p(iin) WHERE p.iin ~ '^[0-9]{{12}}$'"
    )
    return statement, [job_id, *params]


def choices_of(kind_names: Iterable[ExportKind]) -> list[tuple[str, str]]:
    return [(kind.name, str(kind.label)) for kind in kind_names]
