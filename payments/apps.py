from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _ledger_changed(sender: Any, participant_ids: list[int], **kwargs: Any) -> None:
    from payments.services import propose_recalculations

    propose_recalculations(participant_ids=participant_ids)


def _registry_loaded(sender: Any, participant_ids: list[int] | None = None, **kwargs: Any) -> None:
    from payments.services import propose_terminations
    from payments.services.runs import recover_after_death

    propose_terminations(participant_ids=participant_ids)
    recover_after_death(participant_ids=participant_ids)


def _seed_parameters_if_empty(sender: AppConfig, **kwargs: Any) -> None:
    """An empty parameter or bank table (e.g. flushed after a transactional test) gets the
    shipped values of the seed migrations; any row: left alone (an administrator's corrections
    stay)."""
    import importlib

    from django.apps import apps as django_apps

    from payments.models import Bank, LegalParameter

    if not Bank.objects.exists():
        importlib.import_module("payments.migrations.0007_seed_payment_parameters").seed_banks(django_apps, None)
    if LegalParameter.objects.exists():
        return
    for name in ("0002_seed_legal_parameters", "0004_seed_decision_parameters", "0007_seed_payment_parameters"):
        importlib.import_module(f"payments.migrations.{name}").seed(django_apps, None)


def check_payer_account(app_configs: object = None, **kwargs: object) -> list[Any]:
    """``check --deploy``: without the account social payments are paid from, no payment list
    is handed out as an MT102."""
    from django.conf import settings
    from django.core import checks

    from records.identifiers import is_kz_iban

    if not is_kz_iban(settings.PAYMENTS_PAYER_ACCOUNT):
        return [
            checks.Warning(
                "PAYMENTS_PAYER_ACCOUNT is not set to a Kazakh IBAN.",
                hint="Set it to the account social payments are paid from: the payment lists' MT102 names it.",
                id="payments.W001",
            )
        ]
    return []


class PaymentsConfig(AppConfig):
    verbose_name = _("Social payments")
    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Proposals follow the ledger and the registry (``records.signals``)."""
        from django.db.models.signals import post_migrate

        from records.signals import ledger_changed, registry_loaded

        post_migrate.connect(_seed_parameters_if_empty, sender=self, dispatch_uid="payments.seed_parameters")
        from django.core import checks

        checks.register(check_payer_account, checks.Tags.compatibility, deploy=True)
        ledger_changed.connect(_ledger_changed, dispatch_uid="payments.propose_recalculations")
        registry_loaded.connect(_registry_loaded, dispatch_uid="payments.propose_terminations")

        from payments.panels import register_panels

        register_panels()  # the payments panel of the participant page

        from payments.document_views import register_view_labels

        register_view_labels()  # the decision's PDF on the access log page

        from payments.views.runs import register_view_labels as register_run_labels

        register_run_labels()  # the monthly payments pages on the access log page

        from payments.views.decisions import register_view_labels as register_decision_labels

        register_decision_labels()  # the decision pages on the access log page

        import payments.exports  # noqa: F401  (registers the decisions and payments exports)
        from payments.views.reports import register_view_labels as register_report_labels

        register_report_labels()  # the monthly report's downloads on the access log page

        from records.formatting import VIEW_LABELS

        VIEW_LABELS.update(
            {
                "api:recipient_detail": _("API: recipient"),
                "api:decision_detail": _("API: decision"),
                "api:decision_draft": _("API: decision drafted"),
                "api:decision_step": _("API: step of a decision"),
            }
        )
