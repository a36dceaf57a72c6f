from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContributionsConfig(AppConfig):
    verbose_name = _("Social contributions")
    name = "contributions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from contributions.panels import personal_account_panel
        from records.panels import register_participant_panel

        register_participant_panel(personal_account_panel)
