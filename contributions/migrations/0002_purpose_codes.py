"""Seed the payment purpose codes posted to personal accounts (reference.md §2.2): KNP 012
social contributions and KNP 017 penalties (Rules, paragraph 7(4)), effective from 2020."""

import datetime

from django.db import migrations

CODES = [
    ("012", "contribution", "Әлеуметтік аударымдар", "Социальные отчисления", "Social contributions"),
    (
        "017",
        "penalty",
        "Әлеуметтік аударымдарды уақтылы аудармағаны үшін өсімпұл",
        "Пеня за несвоевременное перечисление социальных отчислений",
        "Penalty for late payment of social contributions",
    ),
]


def seed(apps, schema_editor):
    PurposeCode = apps.get_model("contributions", "PurposeCode")
    for code, kind, kk, ru, en in CODES:
        PurposeCode.objects.get_or_create(
            code=code,
            valid_from=datetime.date(2020, 1, 1),
            defaults={"ledger_kind": kind, "name_kk": kk, "name_ru": ru, "name_en": en},
        )


class Migration(migrations.Migration):
    dependencies = [("contributions", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
