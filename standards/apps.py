from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StandardsConfig(AppConfig):
    verbose_name = _("Professional standards")
    name = "standards"
    default_auto_field = "django.db.models.BigAutoField"
