"""Indexes of the staff pages at national scale (docs/performance.md, "Staff pages at national
scale"): the order list newest first (all, by status, by payer), the return documents and
refunds newest first, and a participant's account in its order with the kind and amount of
each entry in the index, so that the totals and the chart are read from the index alone.
Built CONCURRENTLY (tables of millions of rows stay writable), hence not atomic; each new
index is in place before the one it replaces is dropped."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contributions", "0011_history_names"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="ledgerentry",
            index=models.Index(
                fields=["participant", "period", "posted_at", "id"],
                include=("kind", "amount"),
                name="entry_account_idx",
            ),
        ),
        RemoveIndexConcurrently(model_name="ledgerentry", name="entry_participant_period_idx"),
        AddIndexConcurrently(
            model_name="paymentorder",
            index=models.Index(fields=["created_at", "id"], name="order_list_idx"),
        ),
        AddIndexConcurrently(
            model_name="paymentorder",
            index=models.Index(fields=["status", "created_at", "id"], name="order_list_status_idx"),
        ),
        AddIndexConcurrently(
            model_name="paymentorder",
            index=models.Index(fields=["payer_idn", "created_at", "id"], name="order_list_payer_idx"),
        ),
        migrations.AlterField(
            model_name="paymentorder",
            name="payer_idn",
            field=models.CharField(blank=True, max_length=12, verbose_name="payer IIN/BIN"),
        ),
        migrations.AlterField(
            model_name="paymentorder",
            name="status",
            field=models.CharField(
                choices=[
                    ("received", "Received"),
                    ("posted", "Posted"),
                    ("partially_returned", "Partially returned"),
                    ("returned", "Returned"),
                    ("needs_review", "Needs review"),
                    ("duplicate", "Duplicate"),
                ],
                default="received",
                max_length=20,
                verbose_name="status",
            ),
        ),
        AddIndexConcurrently(
            model_name="refund",
            index=models.Index(fields=["registered_at", "id"], name="refund_list_idx"),
        ),
        AddIndexConcurrently(
            model_name="returndocument",
            index=models.Index(fields=["created_at", "id"], name="return_document_list_idx"),
        ),
    ]
