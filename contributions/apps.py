from django.apps import AppConfig
from django.apps import apps as django_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ContributionsConfig(AppConfig):
    verbose_name = _("Social contributions")
    name = "contributions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from contributions.panels import personal_account_panel
        from records.panels import register_participant_panel

        register_participant_panel(personal_account_panel)
        post_migrate.connect(_seed_purpose_codes_if_empty, sender=self, dispatch_uid="contributions.seed_knp")


def _seed_purpose_codes_if_empty(sender: AppConfig, **kwargs: object) -> None:
    """An empty purpose-code table (e.g. flushed) gets the shipped codes; any row: left alone."""
    import importlib

    from contributions.models import PurposeCode

    if PurposeCode.objects.exists():
        return
    seed = importlib.import_module("contributions.migrations.0002_purpose_codes")
    seed.seed(django_apps, None)
