"""Indexes of the staff pages at national scale (docs/performance.md, "Staff pages at national
scale"): the participant search by the start of the name, in the order it shows, and the access
log newest first. Built CONCURRENTLY, so that a table of millions of rows stays writable while
they are built, which is why the migration is not atomic; the new index is in place before
the one it replaces is dropped."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models
from django.db.models.functions import Collate, Upper


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("records", "0010_registry_load_failed"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="participant",
            index=models.Index(
                Collate(Upper("last_name"), "C"),
                Collate(Upper("first_name"), "C"),
                models.F("iin"),
                name="participant_name_prefix_idx",
            ),
        ),
        RemoveIndexConcurrently(model_name="participant", name="participant_name_idx"),
        AddIndexConcurrently(
            model_name="accesslog",
            index=models.Index(fields=["at", "id"], name="accesslog_at_idx"),
        ),
        migrations.AlterField(
            model_name="accesslog",
            name="at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="at"),
        ),
    ]
