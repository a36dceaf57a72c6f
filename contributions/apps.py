from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContributionsConfig(AppConfig):
    verbose_name = _("Social contributions")
    name = "contributions"
    default_auto_field = "django.db.models.BigAutoField"
