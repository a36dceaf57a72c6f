from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    verbose_name = _("Personalized records")
    name = "records"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from records.admin import register_history_models

        register_history_models()
