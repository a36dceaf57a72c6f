"""Load the shipped working-day calendar 2020-2027 (records/data/calendar_seed.json), so a
freshly migrated database answers working-day questions at once."""

from django.db import migrations


def load_seed(apps, schema_editor):
    from records.calendar_seed import read_seed_file

    CalendarDay = apps.get_model("records", "CalendarDay")
    existing = set(CalendarDay.objects.values_list("date", flat=True))
    CalendarDay.objects.bulk_create(
        [
            CalendarDay(
                date=day.date,
                is_working=day.is_working,
                kind=day.kind,
                name_kk=day.name_kk,
                name_ru=day.name_ru,
                name_en=day.name_en,
                note=day.note,
                source="seed",
            )
            for day in read_seed_file()
            if day.date not in existing
        ]
    )


def unload_seed(apps, schema_editor):
    apps.get_model("records", "CalendarDay").objects.filter(source="seed").delete()


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [migrations.RunPython(load_seed, unload_seed)]
