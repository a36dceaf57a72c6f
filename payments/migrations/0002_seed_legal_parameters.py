"""The legal parameters of the benefit formulas as reference.md §4-5 gives them, each with its
confidence (anything but confirmed is flagged where it is used) and its basis. Later values are
corrected by an administrator; this seed is what a fresh database starts from."""

from decimal import Decimal

from django.db import migrations

C, L, OPEN = "confirmed", "likely", "open"
LAW_2020 = "Law 286-VI of 26.12.2019"
CODE = "Social Code (from 01.07.2023)"

SEED = [
    # (name, valid from, value, confidence, basis)
    ("mzp", "2020-01-01", "42500", C, "Republican budget law 2020 (reference.md §5.2)"),
    ("mzp", "2022-01-01", "60000", C, "Republican budget law 2022"),
    ("mzp", "2023-01-01", "70000", C, "Republican budget law 2023"),
    ("mzp", "2024-01-01", "85000", C, "Republican budget laws 2024-2026"),
    ("contribution_rate", "2019-01-01", "0.035", C, "3.5% of the object of calculation (reference.md §5.1)"),
    ("contribution_rate", "2025-01-01", "0.05", C, "5% from 01.01.2025 (reference.md §5.1)"),
    ("income_cap_mzp", "2020-01-01", "7", C, f"{LAW_2020}, art. 15 p. 5: 7 МЗП"),
    ("deduction_mzp", "2020-01-01", "0.55", L, f"{LAW_2020}, art. 20 p. 4 (2022 text; the 2020 original likely)"),
    ("deduction_mzp", "2023-01-01", "0.50", C, "Law 168-VII: 50% of МЗП from 01.01.2023"),
    ("replacement", "2020-01-01", "0.6", C, f"{LAW_2020}, art. 20-21; {CODE}"),
    ("job_loss_replacement", "2020-01-01", "0.40", C, f"{LAW_2020}, art. 22"),
    ("job_loss_replacement", "2023-01-01", "0.45", C, "КЗД 0.45 from 01.01.2023"),
    ("child_care_replacement", "2020-01-01", "0.4", C, f"{LAW_2020}, art. 24"),
    ("child_care_max_mzp", "2020-01-01", "2.8", C, f"{LAW_2020}, art. 24: at most 40% of 7 МЗП"),
    (
        "child_care_minimum",
        "2020-01-01",
        "0",
        OPEN,
        "the monthly state child-care allowance: its amount is not in the reference",
    ),
    ("window_months", "2020-01-01", "24", C, "reference.md §4.2"),
    ("maternity_window_months", "2020-01-01", "12", C, "reference.md §4.2"),
    ("maternity_days_divisor", "2020-01-01", "30", C, "reference.md §4.3"),
    ("ksu_below_6", "2020-01-01", "0.1", C, f"{LAW_2020}, art. 20; gfss.kz"),
    ("ksu_6", "2020-01-01", "0.70", C, "reference.md §4.2 (gfss.kz; Order 237 p. 37)"),
    ("ksu_12", "2020-01-01", "0.75", C, "reference.md §4.2"),
    ("ksu_24", "2020-01-01", "0.85", C, "reference.md §4.2"),
    ("ksu_36", "2020-01-01", "0.90", C, "reference.md §4.2"),
    ("ksu_48", "2020-01-01", "0.95", C, "reference.md §4.2"),
    ("ksu_60", "2020-01-01", "1.00", C, "reference.md §4.2"),
    ("ksu_step", "2020-01-01", "0.02", C, "reference.md §4.2: + 0.02 per full year above 60 months"),
    ("ksu_cap", "2023-07-01", "1.30", C, f"{CODE}: КСУ at most 1.30 (none before)"),
    ("ki_1", "2020-01-01", "0.5", C, f"{LAW_2020}, art. 21 p. 7-8"),
    ("ki_2", "2020-01-01", "0.65", C, f"{LAW_2020}, art. 21 p. 7-8"),
    ("ki_3", "2020-01-01", "0.8", C, f"{LAW_2020}, art. 21 p. 7-8"),
    ("ki_4", "2020-01-01", "1.0", C, f"{LAW_2020}, art. 21 p. 7-8"),
    ("ki_1", "2023-07-01", "0.5", L, f"{CODE}: the 2020 law's table, likely unchanged"),
    ("ki_2", "2023-07-01", "0.65", L, f"{CODE}: the 2020 law's table, likely unchanged"),
    ("ki_3", "2023-07-01", "0.8", L, f"{CODE}: the 2020 law's table, likely unchanged"),
    ("ki_4", "2023-07-01", "1.0", L, f"{CODE}: the 2020 law's table, likely unchanged"),
    ("job_loss_min_months", "2020-01-01", "6", C, f"{LAW_2020}, art. 22: no right below 6 months"),
    ("job_loss_months_6", "2020-01-01", "1", C, f"{LAW_2020}, art. 22"),
    ("job_loss_months_12", "2020-01-01", "2", C, f"{LAW_2020}, art. 22"),
    ("job_loss_months_24", "2020-01-01", "3", C, f"{LAW_2020}, art. 22"),
    ("job_loss_months_36", "2020-01-01", "4", C, f"{LAW_2020}, art. 22"),
    ("job_loss_months_48", "2020-01-01", "5", C, f"{LAW_2020}, art. 22"),
    ("job_loss_months_60", "2020-01-01", "6", C, f"{LAW_2020}, art. 22"),
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
    dependencies = [("payments", "0001_legal_parameters")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
