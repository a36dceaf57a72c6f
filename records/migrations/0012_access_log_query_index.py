"""The access log read for one person at national scale (docs/performance.md): a GIN index of
the ``query`` column for the ``@>`` conditions of the IIN filter, built CONCURRENTLY (the log is
written at every read), hence not atomic."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("records", "0011_page_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="accesslog",
            index=GinIndex(fields=["query"], name="accesslog_query_idx", opclasses=["jsonb_path_ops"]),
        ),
    ]
