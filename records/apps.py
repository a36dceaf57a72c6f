from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    verbose_name = _("Personalized records")
    name = "records"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from records.admin import register_history_models
        from records.audit_chain import install_key

        register_history_models()
        connection_created.connect(install_key, dispatch_uid="records.audit_chain_key")
        post_migrate.connect(_seed_calendar_if_empty, sender=self, dispatch_uid="records.seed_calendar")


def _seed_calendar_if_empty(sender: AppConfig, **kwargs: object) -> None:
    """A database whose calendar table is empty (e.g. flushed) gets the shipped seed again; a
    calendar with any row is left alone, so an administrator's edits are never undone."""
    from records.calendar_seed import seed_calendar_rows
    from records.models import CalendarDay

    if not CalendarDay.objects.exists():
        seed_calendar_rows(CalendarDay)
