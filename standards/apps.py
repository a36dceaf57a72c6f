from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def sync_roles_after_migrate(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Every migrate (every deploy, every test database) leaves the roles as defined in code.

    Runs after this app's permissions are created; the apps it grants from come earlier in
    INSTALLED_APPS, so theirs exist too.
    """
    from records.services import Actor
    from standards.models import ProfessionalStandard
    from standards.services import catalogue_load, roles_sync

    actor = Actor(label="migrate:sync_roles")
    if not ProfessionalStandard.objects.exists():  # e.g. a flushed test database
        catalogue_load(actor=actor)
    roles_sync(actor=actor)


class StandardsConfig(AppConfig):
    verbose_name = _("Professional standards")
    name = "standards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(sync_roles_after_migrate, sender=self, dispatch_uid="standards.sync_roles")
        from standards import signals

        signals.connect()
