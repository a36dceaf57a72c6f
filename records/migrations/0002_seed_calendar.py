"""Load the shipped working-day calendar 2020-2027 (records/data/calendar_seed.json), so a
freshly migrated database answers working-day questions at once."""

from django.db import migrations


def load_seed(apps, schema_editor):
    from records.calendar_seed import seed_calendar_rows

    CalendarDay = apps.get_model("records", "CalendarDay")
    seed_calendar_rows(CalendarDay, skip=set(CalendarDay.objects.values_list("date", flat=True)))


def unload_seed(apps, schema_editor):
    apps.get_model("records", "CalendarDay").objects.filter(source="seed").delete()


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [migrations.RunPython(load_seed, unload_seed)]
