"""The parameters of deciding, effective-dated like the formulas': the law's clock for an
application (reference.md §4.5: a decision within 8 working days of the application, 6 for job
loss) and the amounts above which the head of the service, not the head of a unit, approves a
decision (the State Corporation's delegation; defaults of issue 17)."""

from decimal import Decimal

from django.db import migrations

SEED = [
    (
        "child_care_months",
        "2020-01-01",
        "12",
        "confirmed",
        "Law 286-VI of 26.12.2019, art. 24: until the child is 1 year",
    ),
    (
        "child_care_months",
        "2023-01-01",
        "18",
        "confirmed",
        "until the child is 1.5 years from 2023 (reference.md §4.1, §4.4)",
    ),
    ("decision_working_days", "2020-01-01", "8", "confirmed", "Law 286-VI of 26.12.2019, art. 19 (reference.md §4.5)"),
    (
        "job_loss_decision_working_days",
        "2020-01-01",
        "6",
        "confirmed",
        "Law 286-VI of 26.12.2019, art. 19 (reference.md §4.5)",
    ),
    (
        "approval_monthly_threshold",
        "2020-01-01",
        "500000",
        "confirmed",
        "State Corporation delegation of approval: a monthly amount above it is approved by the head of the service",
    ),
    (
        "approval_lump_threshold",
        "2020-01-01",
        "2000000",
        "confirmed",
        "State Corporation delegation of approval: a lump sum above it is approved by the head of the service",
    ),
]


def seed(apps, schema_editor):
    LegalParameter = apps.get_model("payments", "LegalParameter")
    for name, valid_from, value, confidence, basis in SEED:
        LegalParameter.objects.update_or_create(
            name=name,
            valid_from=valid_from,
            defaults={"value": Decimal(value), "confidence": confidence, "basis": basis},
        )


class Migration(migrations.Migration):
    dependencies = [("payments", "0003_recipients_and_decisions")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
