"""The professional standard "Organization of payment of pensions, allowances and social
benefits" (2019 and 2024 editions) as data: profession cards, qualification levels, labour
functions with their tasks and skills. Staff roles (``standards.roles``) cite these."""

from __future__ import annotations

import pghistory
from django.contrib.auth.models import Group, User
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from records.models import history_options


class TranslatedNameMixin:
    name_kk: str
    name_ru: str
    name_en: str

    @property
    def name(self) -> str:
        """The name in the active UI language, falling back to Russian."""
        language = (translation.get_language() or "ru")[:2]
        return str(getattr(self, f"name_{language}", "") or self.name_ru)


class ProfessionalStandard(TranslatedNameMixin, models.Model):
    edition = models.PositiveSmallIntegerField(_("edition"), unique=True)
    name_kk = models.CharField(_("title (Kazakh)"), max_length=300)
    name_ru = models.CharField(_("title (Russian)"), max_length=300)
    name_en = models.CharField(_("title (English)"), max_length=300)
    legal_act_kk = models.TextField(_("legal act (Kazakh)"), blank=True)
    legal_act_ru = models.TextField(_("legal act (Russian)"), blank=True)
    legal_act_en = models.TextField(_("legal act (English)"), blank=True)
    sources = models.JSONField(_("source documents"), default=dict)
    translated = models.JSONField(_("translated languages"), default=list)

    class Meta:
        verbose_name = _("professional standard")
        verbose_name_plural = _("professional standards")
        ordering = ["-edition"]

    def __str__(self) -> str:
        return f"{self.edition}: {self.name}"


class ProfessionCard(TranslatedNameMixin, models.Model):
    standard = models.ForeignKey(
        ProfessionalStandard, on_delete=models.CASCADE, related_name="cards", verbose_name=_("professional standard")
    )
    number = models.PositiveSmallIntegerField(_("number"))
    code = models.CharField(_("profession code"), max_length=20, blank=True)
    name_kk = models.CharField(_("name (Kazakh)"), max_length=400)
    name_ru = models.CharField(_("name (Russian)"), max_length=400)
    name_en = models.CharField(_("name (English)"), max_length=400)
    qualification_levels = models.JSONField(_("qualification levels"), default=list)

    class Meta:
        verbose_name = _("profession card")
        verbose_name_plural = _("profession cards")
        ordering = ["standard", "number"]
        constraints = [models.UniqueConstraint(fields=["standard", "number"], name="card_number_unique")]

    def __str__(self) -> str:
        return f"{self.standard.edition} #{self.number} {self.code} {self.name}"


class LaborFunction(TranslatedNameMixin, models.Model):
    card = models.ForeignKey(
        ProfessionCard, on_delete=models.CASCADE, related_name="functions", verbose_name=_("profession card")
    )
    number = models.PositiveSmallIntegerField(_("number"))
    name_kk = models.TextField(_("name (Kazakh)"))
    name_ru = models.TextField(_("name (Russian)"))
    name_en = models.TextField(_("name (English)"))
    tasks = models.JSONField(_("tasks and skills"), default=list)

    class Meta:
        verbose_name = _("labour function")
        verbose_name_plural = _("labour functions")
        ordering = ["card", "number"]
        constraints = [models.UniqueConstraint(fields=["card", "number"], name="function_number_unique")]

    def __str__(self) -> str:
        function = translation.gettext("Labour function %(number)s") % {"number": self.number}
        return f"{self.card.code}, {function}: {self.name}"

    @property
    def key(self) -> str:
        """A stable reference used by role definitions: ``<edition>/<card>/<function>``."""
        return f"{self.card.standard.edition}/{self.card.number}/{self.number}"


class Role(models.Model):
    """A staff role: one Django group, its definition in ``standards.roles.ROLES`` and the
    profession cards behind it. Created and kept in step by ``manage.py sync_roles``."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    group = models.OneToOneField("auth.Group", on_delete=models.PROTECT, related_name="role", verbose_name=_("group"))
    cards = models.ManyToManyField(ProfessionCard, blank=True, related_name="roles", verbose_name=_("profession cards"))
    synced_at = models.DateTimeField(_("synchronised at"), auto_now=True)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        ordering = ["id"]
        permissions = [("assign_role", _("Can assign staff to roles"))]

    def __str__(self) -> str:
        spec = self.spec
        return str(spec.title) if spec is not None else self.key

    @property
    def spec(self):  # type: ignore[no-untyped-def]
        from standards.roles import ROLES_BY_KEY

        return ROLES_BY_KEY.get(self.key)


# Row history of who holds which role and which permissions each role has: role changes are
# audited at the database level too, whatever path they take (admin, service, raw SQL).
UserGroupsEvent = pghistory.create_event_model(
    User.groups.through,
    pghistory.InsertEvent(),
    pghistory.DeleteEvent(),
    model_name="UserGroupsEvent",
    app_label="standards",
    abstract=False,
    **history_options(_("role assignment history entry"), _("role assignment history")),
)
GroupPermissionsEvent = pghistory.create_event_model(
    Group.permissions.through,
    pghistory.InsertEvent(),
    pghistory.DeleteEvent(),
    model_name="GroupPermissionsEvent",
    app_label="standards",
    abstract=False,
    **history_options(_("role permission history entry"), _("role permission history")),
)
