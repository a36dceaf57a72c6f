from django.apps import AppConfig
from django.apps import apps as django_apps
from django.conf import settings
from django.core import checks
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ContributionsConfig(AppConfig):
    verbose_name = _("Social contributions")
    name = "contributions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from contributions.panels import personal_account_panel
        from records.formatting import VIEW_LABELS
        from records.panels import register_participant_panel

        register_participant_panel(personal_account_panel)
        import contributions.exports  # noqa: F401  (registers the ledger and order lines exports)

        VIEW_LABELS.update(
            {
                "order_list": _("Payment order list"),
                "review_queue": _("Review queue"),
                "deadlines": _("Deadline page"),
                "order_detail": _("Payment order page"),
                "order_upload": _("Upload results"),
                "payer_detail": _("Payer page"),
                "return_document_list": _("Return documents list"),
                "refund_list": _("Refund list"),
                "refund_new": _("Refund request form"),
                "return_document_download": _("Return document download"),
                "incoming_file_download": _("File as sent (download)"),
                "api:return_document": _("API: return document"),
                "command:account": _("Command: account"),
            }
        )
        post_migrate.connect(_seed_purpose_codes_if_empty, sender=self, dispatch_uid="contributions.seed_knp")
        checks.register(check_return_account, checks.Tags.compatibility, deploy=True)


def check_return_account(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """``check --deploy``: without the State Corporation's account, the return MT102 of an order
    that did not name the account it paid into (a CSV/XLSX list) has an empty ``:50:/D/``."""
    account = settings.STATE_CORPORATION_ACCOUNT
    if not account:
        return [
            checks.Warning(
                "STATE_CORPORATION_ACCOUNT is not set.",
                hint="Set it to the State Corporation's account for social contributions: returns of orders "
                "that did not name the account they paid into are paid back from it.",
                id="contributions.W001",
            )
        ]
    from records.identifiers import is_kz_iban

    if not is_kz_iban(account):
        return [
            checks.Warning(
                f"STATE_CORPORATION_ACCOUNT {account!r} is not a Kazakh IBAN.",
                hint="20 characters, KZ, two check digits (ISO 13616 mod 97), bank code and account.",
                id="contributions.W002",
            )
        ]
    return []


def _seed_purpose_codes_if_empty(sender: AppConfig, **kwargs: object) -> None:
    """An empty purpose-code table (e.g. flushed) gets the shipped codes; any row: left alone."""
    import importlib

    from contributions.models import PurposeCode

    if PurposeCode.objects.exists():
        return
    seed = importlib.import_module("contributions.migrations.0002_purpose_codes")
    seed.seed(django_apps, None)
