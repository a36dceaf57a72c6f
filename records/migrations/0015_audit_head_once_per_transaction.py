"""The audit chain's head written once per transaction instead of once per event (the seal was
quadratic in the events of one commit: docs/performance.md).

``0014`` now creates the functions and the head's trigger in their new form. A database migrated
with its first form gets them here: the functions are replaced (``CREATE OR REPLACE``, the same
text as ``0014``'s) and the head's trigger is added where it is missing. On a database migrated
with the new ``0014`` both change nothing.
"""

from importlib import import_module

from django.db import migrations

audit_chain = import_module("records.migrations.0014_audit_chain")

HEAD_TRIGGER = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'records_auditchainhead_write') THEN
        CREATE CONSTRAINT TRIGGER records_auditchainhead_write AFTER UPDATE ON records_auditchainhead
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION records_audit_head_written();
    END IF;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0014_audit_chain"),
    ]

    operations = [
        migrations.RunSQL(audit_chain.FUNCTIONS, migrations.RunSQL.noop),
        migrations.RunSQL(HEAD_TRIGGER, migrations.RunSQL.noop),
    ]
