"""The parameters of the monthly run (conventions: "Monthly payments"; reference.md §4.4-4.5):
the compulsory pension contributions withheld by payment type (10%, never from loss of
breadwinner: Law 286-VI art. 26 p.1), the indexation steps of disability and breadwinner
payments, and the banks that pay social payments, with the bank code their IBANs carry (reference
data an administrator corrects)."""

from decimal import Decimal

from django.db import migrations

LAW_26 = "Law 286-VI of 26.12.2019, art. 26 p.1 (reference.md §4.4)"
SEED = [
    ("withholding_0701", "2020-01-01", "0", "confirmed", LAW_26 + ": not withheld from loss of breadwinner"),
    ("withholding_0702", "2020-01-01", "0.10", "confirmed", LAW_26),
    ("withholding_0703", "2020-01-01", "0.10", "confirmed", LAW_26),
    ("withholding_0704", "2020-01-01", "0.10", "confirmed", LAW_26),
    ("withholding_0705", "2020-01-01", "0.10", "confirmed", LAW_26),
]
INDEXATION = [
    ("2023-01-01", "8.5", "confirmed", "Government decree, +8.5% from 1 Jan 2023 (gfss.kz; reference.md §4.5)"),
    ("2023-07-01", "14.5", "confirmed", "Government decree, +14.5% from 1 Jul 2023 (gfss.kz; reference.md §4.5)"),
    ("2024-01-01", "7", "likely", "+7% from 1 Jan 2024 (reference.md §4.5: LIKELY)"),
    ("2026-01-01", "10", "likely", "+10% from 1 Jan 2026, draft decree (reference.md §4.5: LIKELY)"),
]
for _type in ("0701", "0702"):
    SEED += [(f"indexation_{_type}", day, value, confidence, basis) for day, value, confidence, basis in INDEXATION]

BANKS = [
    ("HSBKKZKX", "АО «Народный Банк Казахстана»", "601"),
    ("CASPKZKA", "АО «Каспи Банк»", "722"),
    ("KCJBKZKX", "АО «Банк ЦентрКредит»", "856"),
    ("IRTYKZKA", "АО «ФортеБанк»", "965"),
    ("TSESKZKA", "АО «Жусан Банк»", "998"),
    ("KINCKZKA", "АО «Банк РБК»", "821"),
    ("EURIKZKA", "АО «Евразийский банк»", "948"),
    ("KSNVKZKA", "АО «Фридом Банк Казахстан»", "551"),
]


def seed(apps, schema_editor):
    LegalParameter = apps.get_model("payments", "LegalParameter")
    for name, valid_from, value, confidence, basis in SEED:
        LegalParameter.objects.update_or_create(
            name=name,
            valid_from=valid_from,
            defaults={"value": Decimal(value), "confidence": confidence, "basis": basis},
        )
    seed_banks(apps, schema_editor)


def seed_banks(apps, schema_editor):
    Bank = apps.get_model("payments", "Bank")
    for bic, name, code in BANKS:
        Bank.objects.update_or_create(bic=bic, defaults={"name": name, "iban_code": code})


class Migration(migrations.Migration):
    dependencies = [("payments", "0006_payment_runs")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
