"""Load the professional standard catalogue (standards/data/standard_*.json)."""

from django.db import migrations


def load(apps, schema_editor):
    from standards.catalogue import load_catalogue

    load_catalogue(
        apps.get_model("standards", "ProfessionalStandard"),
        apps.get_model("standards", "ProfessionCard"),
        apps.get_model("standards", "LaborFunction"),
    )


class Migration(migrations.Migration):
    dependencies = [("standards", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
