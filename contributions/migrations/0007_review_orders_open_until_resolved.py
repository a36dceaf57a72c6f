from django.db import migrations

# An order that needs review is open for the one-working-day clock until a staff member resolves
# it (conventions, "Within one working day"); intake used to stop its clock at once. Orders still
# waiting become open again; those already returned in full take the time of their resolution
# from its audit event.
FORWARD = """
UPDATE contributions_paymentorder SET finished_at = NULL
WHERE status = 'needs_review' AND resolved_by_id IS NULL;

UPDATE contributions_paymentorder o SET finished_at = e.created_at
FROM records_auditevent e
WHERE e.action = 'orders.return_in_full' AND e.object_pk = o.id::text AND o.resolved_by_id IS NOT NULL;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0006_one_open_status"),
        ("records", "0001_initial"),
    ]

    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
