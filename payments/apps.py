from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    verbose_name = _("Social payments")
    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"
