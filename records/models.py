"""Participants, the state-registry snapshot, personal-data change records, the working-day
calendar and domain audit events: what every other app stands on.

Rules, paragraphs 3-4: the State Corporation keeps a personalized record per individual;
paragraph 7 items 1-3 and paragraph 12 items 1-9 name the personal data kept here.
"""

from __future__ import annotations

from typing import Any

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Collate, Upper
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from records.formatting import view_label
from records.identifiers import validate_iin_bin

IIN_REGEX = r"^[0-9]{12}$"

# Row history (django-pghistory): what each event label means, in the reader's language.
HISTORY_EVENT_LABELS = {
    "insert": _("Record added"),
    "update": _("Record changed"),
    "delete": _("Record deleted"),
}


def history_event_str(event: Any) -> str:
    """An event of a history table as the admin names it: when, what happened, to which row."""
    when = f"{timezone.localtime(event.pgh_created_at):%Y-%m-%d %H:%M}"
    what = HISTORY_EVENT_LABELS.get(event.pgh_label, event.pgh_label)
    row = getattr(event, "pgh_obj_id", None)
    return f"{when} {what}" + (f" (#{row})" if row is not None else "")


def history_options(verbose_name: Promise, verbose_name_plural: Promise) -> dict[str, Any]:
    """Arguments of ``pghistory.track`` / ``create_event_model`` that name the history table in
    the reader's language (pghistory's own names read "Participant events" in every language)."""
    return {
        "meta": {"verbose_name": verbose_name, "verbose_name_plural": verbose_name_plural},
        "attrs": {"__str__": history_event_str},
    }


def in_language(*, kk: str, ru: str, en: str) -> str:
    """The name in the active language, falling back to Russian (as ``standards``' names do),
    then to whichever is there."""
    language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    return {"kk": kk, "ru": ru, "en": en}.get(language, "") or ru or kk or en


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


@pghistory.track(  # orders create participants in bulk
    level=pgtrigger.Statement, **history_options(_("participant history entry"), _("participant history"))
)
class Participant(models.Model):
    """A participant in compulsory social insurance (Rules, paragraph 2 item 3).

    Created and changed only through ``records.services``; a change of personal data leaves a
    ``PersonalDataChange`` (paragraph 9), never a silent overwrite.
    """

    iin = models.CharField(_("IIN"), max_length=12, unique=True, validators=[validate_iin_bin])
    last_name = models.CharField(_("surname"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    patronymic = models.CharField(_("patronymic"), max_length=100, blank=True)
    birth_date = models.DateField(_("date of birth"))
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    # Paragraph 12 items 5-9: the personal items that recipients share.
    address = models.CharField(_("address of the place of residence"), max_length=500, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    id_document_series = models.CharField(_("identity document series"), max_length=20, blank=True)
    id_document_number = models.CharField(_("identity document number"), max_length=30, blank=True)
    id_document_issued_on = models.DateField(_("identity document date of issue"), null=True, blank=True)
    id_document_issuer = models.CharField(_("identity document issuing authority"), max_length=200, blank=True)
    citizenship = models.CharField(_("citizenship"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["last_name", "first_name", "iin"]
        constraints = [
            models.CheckConstraint(condition=Q(iin__regex=IIN_REGEX), name="participant_iin_12_digits"),
        ]
        indexes = [
            # The search by the start of the surname (and first name), in the order it shows
            # (records.selectors.SEARCH_KEYS): capitals, compared byte by byte, so that the
            # prefix is a range of this index and the results come out of it in order.
            models.Index(
                Collate(Upper("last_name"), "C"),
                Collate(Upper("first_name"), "C"),
                "iin",
                name="participant_name_prefix_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.iin} {self.full_name}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)


class RegistryLoad(models.Model):
    """One load of a state-registry snapshot file, kept byte for byte with its checksum,
    whatever happened next: stored (``received``) before a row of it is read, then ``loaded``,
    ``rejected`` as a whole, or ``failed`` with the error named (``records.registry``)."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received, not loaded yet")
        LOADED = "loaded", _("Loaded")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Loading failed")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    raw = models.BinaryField(_("raw file"))
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)
    loaded_by = models.CharField(_("loaded by"), max_length=150)
    rows_total = models.PositiveIntegerField(_("rows read"), default=0)
    rows_inserted = models.PositiveIntegerField(_("rows inserted"), default=0)
    rows_updated = models.PositiveIntegerField(_("rows updated"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("rows unchanged"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    participants_changed = models.PositiveIntegerField(_("participants changed"), default=0)
    errors = models.JSONField(_("rejected rows"), default=list, blank=True)
    error = models.CharField(_("why loading failed"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("registry load")
        verbose_name_plural = _("registry loads")
        ordering = ["-loaded_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({timezone.localtime(self.loaded_at):%Y-%m-%d %H:%M})"


# Statement-level triggers: a snapshot load upserts 100 000 rows in one statement, and per-row
# triggers made it an order of magnitude slower (docs/performance.md).
@pghistory.track(
    level=pgtrigger.Statement,
    **history_options(_("registry person history entry"), _("registry person history")),
)
class RegistryPerson(models.Model):
    """A person as the state registry knows them: the local snapshot behind ``SnapshotRegistry``."""

    iin = models.CharField(_("IIN"), max_length=12, primary_key=True)
    last_name = models.CharField(_("surname"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    patronymic = models.CharField(_("patronymic"), max_length=100, blank=True)
    birth_date = models.DateField(_("date of birth"))
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    load = models.ForeignKey(
        RegistryLoad, on_delete=models.PROTECT, related_name="+", verbose_name=_("load that last changed it")
    )
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("registry person")
        verbose_name_plural = _("registry persons")
        ordering = ["iin"]
        constraints = [
            models.CheckConstraint(condition=Q(iin__regex=IIN_REGEX), name="registry_person_iin_12_digits"),
            models.CheckConstraint(condition=Q(gender__in=["M", "F"]), name="registry_person_gender"),
        ]

    def __str__(self) -> str:
        return f"{self.iin} {self.last_name} {self.first_name}"


class PersonalDataChange(models.Model):
    """A dated change of a participant's personal data with old and new values and the source
    (Rules, paragraph 9; conventions: "The personal account")."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="changes", verbose_name=_("participant")
    )
    field = models.CharField(_("field"), max_length=50)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    changed_on = models.DateField(_("date of change"))
    source = models.CharField(_("source"), max_length=255)
    registry_load = models.ForeignKey(
        RegistryLoad,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("registry load"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("personal data change")
        verbose_name_plural = _("personal data changes")
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["participant", "-recorded_at"], name="pdchange_participant_idx")]

    def __str__(self) -> str:
        try:
            field = getattr(Participant._meta.get_field(self.field), "verbose_name", self.field)
        except FieldDoesNotExist:
            field = self.field
        return f"{self.participant.iin}, {field}: {self.old_value} → {self.new_value}"


@pghistory.track(**history_options(_("calendar day history entry"), _("calendar history")))
class CalendarDay(models.Model):
    """An exception to the five-day week: a day off on a weekday (or a holiday on a weekend,
    kept for the record), or a weekend day made a working day by a ministerial transfer.

    Days with no row are working days Monday to Friday and days off at weekends. The table is
    data an administrator edits (conventions: "The working-day calendar"); rows an
    administrator edited are never overwritten by the package refresh.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("State or national holiday")
        RELIGIOUS = "religious", _("Religious day off (never moved)")
        MOVED = "moved", _("Day off moved from a holiday on a weekend")
        TRANSFER_OFF = "transfer_off", _("Day off by transfer")
        TRANSFER_WORKING = "transfer_working", _("Working day by transfer")

    class Source(models.TextChoices):
        SEED = "seed", _("Shipped seed")
        PACKAGE = "package", _("holidays package refresh")
        ADMIN = "admin", _("Edited by an administrator")

    date = models.DateField(_("date"), unique=True)
    is_working = models.BooleanField(_("working day"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name_kk = models.CharField(_("name (Kazakh)"), max_length=200, blank=True)
    name_ru = models.CharField(_("name (Russian)"), max_length=200, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True, help_text=_("Legal basis, or why this row differs."))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.ADMIN)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_working=False) | Q(kind="transfer_working"), name="calendar_working_only_by_transfer"
            ),
        ]

    def __str__(self) -> str:
        name = in_language(kk=self.name_kk, ru=self.name_ru, en=self.name_en)
        return f"{self.date:%Y-%m-%d} {name or self.get_kind_display()}"


class AuditEvent(models.Model):
    """A domain event written by a service in the same transaction as the change it records."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor"), max_length=150, help_text=_("User name, command or task."))
    action = models.CharField(_("action"), max_length=100, db_index=True)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("content type")
    )
    object_pk = models.CharField(_("object"), max_length=64, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    # The hash chain (records.audit_chain): sealed by a database trigger when the transaction
    # commits; the database refuses every later change.
    chain_seq = models.BigIntegerField(_("place in the chain"), null=True, blank=True, unique=True, editable=False)
    prev_hash = models.CharField(_("hash of the one before"), max_length=64, blank=True, editable=False, db_default="")
    hash = models.CharField(_("hash"), max_length=64, blank=True, editable=False, db_default="")

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class ApprovalStep(models.Model):
    """One step of a document that staff decide in turns (a refund, a payment decision): who
    took it, when, from which state to which, and why (``records.approval``). Written in the
    same transaction as the step; never edited."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("content type"))
    object_pk = models.CharField(_("object"), max_length=64)
    step = models.CharField(_("step"), max_length=30)
    from_state = models.CharField(_("from state"), max_length=20)
    to_state = models.CharField(_("to state"), max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("taken by")
    )
    reason = models.TextField(_("reason"), blank=True)
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now)

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["taken_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_pk", "taken_at"], name="approval_step_object_idx")]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.taken_at):%Y-%m-%d %H:%M} {self.step}: {self.from_state} → {self.to_state}"


class AccessLog(models.Model):
    """A read of personal data, a search, or an export: who, when, what, from where.

    Rules, paragraph 5: the State Corporation ensures the confidentiality of the database. Only
    auditors and heads may read this log.
    """

    class Kind(models.TextChoices):
        VIEW = "view", _("Opened personal data")
        SEARCH = "search", _("Searched participants")
        EXPORT = "export", _("Exported data")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True, help_text=_("Command or system."))
    at = models.DateTimeField(_("at"), auto_now_add=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("participant")
    )
    view = models.CharField(_("view"), max_length=150)
    query = models.JSONField(_("query or filters"), default=dict, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # The hash chain (records.audit_chain): sealed by a database trigger when the transaction
    # commits; the database refuses every later change.
    chain_seq = models.BigIntegerField(_("place in the chain"), null=True, blank=True, unique=True, editable=False)
    prev_hash = models.CharField(_("hash of the one before"), max_length=64, blank=True, editable=False, db_default="")
    hash = models.CharField(_("hash"), max_length=64, blank=True, editable=False, db_default="")

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        permissions = [("export_data", _("Can export data from the admin"))]
        indexes = [
            models.Index(fields=["participant", "-at"], name="accesslog_participant_idx"),
            # The log newest first, a page at a time (records.selectors.ACCESS_LOG_KEYS).
            models.Index(fields=["at", "id"], name="accesslog_at_idx"),
            # "Who read person X": the people a page, a search or an export named, in ``query``
            # (records.filters.AccessLogFilter.filter_iin asks with ``@>``).
            GinIndex(fields=["query"], opclasses=["jsonb_path_ops"], name="accesslog_query_idx"),
            # "Who exported person X": the export job an entry names (``ExportedPerson``).
            models.Index(
                Cast(KT("query__export_job"), models.BigIntegerField()),
                name="accesslog_export_job_idx",
                condition=Q(kind="export"),
            ),
        ]

    def __str__(self) -> str:
        who = self.user.get_username() if self.user is not None else self.actor_label
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M} {who}: {self.get_kind_display()}, {view_label(self.view)}"


class AuditChainHead(models.Model):
    """The last link of each hash chain (``records.audit_chain``): its place, its hash, and a
    MAC of both. Events deleted from the end of a chain leave the head pointing past the last
    one; a head moved back to an earlier event has a MAC only the key's holder could write."""

    chain = models.CharField(_("chain"), max_length=30, primary_key=True)
    seq = models.BigIntegerField(_("last place"), default=0)
    hash = models.CharField(_("last hash"), max_length=64, blank=True)
    mac = models.CharField(_("MAC"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq}"


class WorkerHeartbeat(models.Model):
    """A Celery worker's sign of life, so ``manage.py ingest --wait`` knows whether a worker will
    take its orders (kombu's filesystem broker of the quick start cannot answer a ping)."""

    hostname = models.CharField(max_length=200, unique=True, verbose_name=_("host name"))
    seen_at = models.DateTimeField(db_index=True, verbose_name=_("last seen at"))

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.hostname} {timezone.localtime(self.seen_at):%Y-%m-%d %H:%M:%S}"


class ExportJob(models.Model):
    """A large export an auditor asked for (``records.exports``): run by a Celery task from the
    filters (never a list of rows), streamed to a file under ``EXPORT_ROOT`` in one database
    snapshot, kept with its SHA-256 for download by the one who asked. Its access-log entry
    (written when it is done) says who, which filters, how many rows and the checksum; the
    people in the file are ``ExportedPerson`` rows."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    kind = models.CharField(_("what is exported"), max_length=40)
    file_format = models.CharField(_("file format"), max_length=4, choices=Format.choices)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=8)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.QUEUED)
    rows_total = models.PositiveBigIntegerField(_("rows to write"), null=True, blank=True)
    rows_written = models.PositiveBigIntegerField(_("rows written"), default=0)
    file_name = models.CharField(_("file"), max_length=255, blank=True, help_text=_("Relative to EXPORT_ROOT."))
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="export_job_requester_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="done") | (~Q(sha256="") & ~Q(file_name="") & Q(size__isnull=False)),
                name="export_job_done_has_its_file",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.file_format} ({self.get_state_display()})"

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)


class ExportedPerson(models.Model):
    """A person (IIN, or a payer's IIN/BIN) whose data went into an export job's file: written
    by one ``INSERT … SELECT DISTINCT`` in the export's snapshot, so that "who exported person X"
    is one index lookup (``records.filters.AccessLogFilter.filter_iin``), never millions of
    IINs in the access log or in Python."""

    job = models.ForeignKey(
        ExportJob, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("export job")
    )
    iin = models.CharField(_("IIN"), max_length=12)

    class Meta:
        verbose_name = _("exported person")
        verbose_name_plural = _("exported persons")
        constraints = [models.UniqueConstraint(fields=["iin", "job"], name="exported_person_iin_job")]

    def __str__(self) -> str:
        return f"{self.iin} (#{self.job_id})"
