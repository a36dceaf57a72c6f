"""The audit trail as two hash chains, append-only in the database (``records.audit_chain``)."""

from django.db import migrations, models

FUNCTIONS = """
CREATE OR REPLACE FUNCTION records_audit_hmac(message text) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    inner_key text := current_setting('gfss.audit_ipad', true);
    outer_key text := current_setting('gfss.audit_opad', true);
BEGIN
    IF coalesce(inner_key, '') = '' OR coalesce(outer_key, '') = '' THEN
        RAISE EXCEPTION 'the audit chain key is not set on this connection: only the application writes the audit trail'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN encode(sha256(decode(outer_key, 'hex') || sha256(decode(inner_key, 'hex') || convert_to(message, 'UTF8'))), 'hex');
END $$;

-- Give one committed row the next place in its chain. The first seal of a transaction locks both
-- heads, always in the same order (two transactions that write to both chains never deadlock),
-- and keeps where the chain is in a setting local to the transaction. The head row itself is
-- written once per transaction, not once per row: every UPDATE of one row in one transaction
-- leaves a version whose index entry the next UPDATE's unique check reads again, which made a
-- commit of N events cost N^2 (docs/performance.md). So the first seal only "touches" the head:
-- that UPDATE queues the head's own deferred trigger, which fires after the seals already
-- queued and writes the head from the setting (records_audit_write_head).
CREATE OR REPLACE FUNCTION records_audit_seal_row(p_chain text, p_row_id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    state text := current_setting('gfss.audit_head_' || p_chain, true);
    head_seq bigint;
    head_hash text;
    fields text;
    link text;
    next_seq bigint;
BEGIN
    IF coalesce(state, '') = '' THEN
        IF (SELECT count(*) FROM records_auditchainhead) < 2 THEN  -- a database emptied (tests): both again
            INSERT INTO records_auditchainhead (chain, seq, hash, mac)
            SELECT c, 0, '', records_audit_hmac(c || chr(31) || '0' || chr(31))
            FROM unnest(ARRAY['accesslog', 'auditevent']) AS c ORDER BY c
            ON CONFLICT DO NOTHING;
        END IF;
        PERFORM 1 FROM records_auditchainhead h WHERE h.chain IN ('accesslog', 'auditevent') ORDER BY h.chain FOR UPDATE;
        SELECT h.seq, h.hash INTO head_seq, head_hash FROM records_auditchainhead h WHERE h.chain = p_chain;
    ELSE
        head_seq := split_part(state, '|', 1)::bigint;
        head_hash := split_part(state, '|', 2);
    END IF;
    next_seq := head_seq + 1;
    IF p_chain = 'auditevent' THEN
        SELECT concat_ws(chr(31), next_seq::text,
            id::text,
            coalesce(actor_id::text, ''),
            actor_label,
            action,
            coalesce(content_type_id::text, ''),
            object_pk,
            data::text,
            ((extract(epoch FROM created_at) * 1000000)::bigint)::text)
        INTO fields FROM records_auditevent WHERE id = p_row_id;
        link := records_audit_hmac(head_hash || chr(31) || fields);
        UPDATE records_auditevent SET chain_seq = next_seq, prev_hash = head_hash, hash = link WHERE id = p_row_id;
    ELSIF p_chain = 'accesslog' THEN
        SELECT concat_ws(chr(31), next_seq::text,
            id::text,
            coalesce(user_id::text, ''),
            actor_label,
            ((extract(epoch FROM at) * 1000000)::bigint)::text,
            kind,
            coalesce(participant_id::text, ''),
            view,
            query::text,
            coalesce(row_count::text, ''),
            coalesce(ip_address::text, ''))
        INTO fields FROM records_accesslog WHERE id = p_row_id;
        link := records_audit_hmac(head_hash || chr(31) || fields);
        UPDATE records_accesslog SET chain_seq = next_seq, prev_hash = head_hash, hash = link WHERE id = p_row_id;
    ELSE
        RAISE EXCEPTION 'unknown audit chain %', p_chain;
    END IF;
    PERFORM set_config('gfss.audit_head_' || p_chain, next_seq::text || '|' || link || '|pending', true);
    IF split_part(coalesce(state, ''), '|', 3) <> 'pending' THEN
        UPDATE records_auditchainhead h SET seq = h.seq WHERE h.chain = p_chain;  -- queues the head's write
    END IF;
END $$;

-- Write a chain's head from where this transaction's seals left it (see above). Called by the
-- head's deferred trigger, and by the migration that seals the rows written before the chain.
CREATE OR REPLACE FUNCTION records_audit_write_head(p_chain text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    state text := current_setting('gfss.audit_head_' || p_chain, true);
    head_seq bigint;
    head_hash text;
BEGIN
    IF split_part(coalesce(state, ''), '|', 3) <> 'pending' THEN
        RETURN;
    END IF;
    head_seq := split_part(state, '|', 1)::bigint;
    head_hash := split_part(state, '|', 2);
    PERFORM set_config('gfss.audit_head_' || p_chain, head_seq::text || '|' || head_hash || '|written', true);
    UPDATE records_auditchainhead h
    SET seq = head_seq, hash = head_hash, mac = records_audit_hmac(p_chain || chr(31) || head_seq::text || chr(31) || head_hash)
    WHERE h.chain = p_chain;
END $$;

CREATE OR REPLACE FUNCTION records_audit_head_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM records_audit_write_head(NEW.chain);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION records_audit_seal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM records_audit_seal_row(TG_ARGV[0], NEW.id);
    RETURN NULL;
END $$;

-- No UPDATE or DELETE, whoever asks; the one UPDATE let through is the seal, made by the
-- trigger above (pg_trigger_depth() > 1) on a row not yet in the chain, changing nothing else.
CREATE OR REPLACE FUNCTION records_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 AND OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
       AND to_jsonb(NEW) - ARRAY['chain_seq', 'prev_hash', 'hash'] = to_jsonb(OLD) - ARRAY['chain_seq', 'prev_hash', 'hash']
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

-- The head moves only forward, and only from the seal's functions (a trigger's depth).
CREATE OR REPLACE FUNCTION records_audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 AND NEW.chain = OLD.chain AND NEW.seq >= OLD.seq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE FUNCTION records_audit_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
"""

# The rows written before the chain existed join it in the order they were written.
SEAL_EXISTING = """
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT id FROM records_auditevent ORDER BY id LOOP
        PERFORM records_audit_seal_row('auditevent', r.id);
    END LOOP;
    FOR r IN SELECT id FROM records_accesslog ORDER BY id LOOP
        PERFORM records_audit_seal_row('accesslog', r.id);
    END LOOP;
    PERFORM records_audit_write_head('auditevent');
    PERFORM records_audit_write_head('accesslog');
END $$;
"""

TRIGGERS = """
CREATE CONSTRAINT TRIGGER records_auditevent_seal AFTER INSERT ON records_auditevent
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION records_audit_seal('auditevent');
CREATE CONSTRAINT TRIGGER records_accesslog_seal AFTER INSERT ON records_accesslog
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION records_audit_seal('accesslog');
CREATE CONSTRAINT TRIGGER records_auditchainhead_write AFTER UPDATE ON records_auditchainhead
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION records_audit_head_written();
CREATE TRIGGER records_auditevent_append_only BEFORE UPDATE OR DELETE ON records_auditevent
    FOR EACH ROW EXECUTE FUNCTION records_audit_append_only();
CREATE TRIGGER records_accesslog_append_only BEFORE UPDATE OR DELETE ON records_accesslog
    FOR EACH ROW EXECUTE FUNCTION records_audit_append_only();
CREATE TRIGGER records_auditchainhead_guard BEFORE UPDATE OR DELETE ON records_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION records_audit_head_guard();
CREATE TRIGGER records_auditevent_no_truncate BEFORE TRUNCATE ON records_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION records_audit_no_truncate();
CREATE TRIGGER records_accesslog_no_truncate BEFORE TRUNCATE ON records_accesslog
    FOR EACH STATEMENT EXECUTE FUNCTION records_audit_no_truncate();
CREATE TRIGGER records_auditchainhead_no_truncate BEFORE TRUNCATE ON records_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION records_audit_no_truncate();
"""

REVERSE_TRIGGERS = """
DROP TRIGGER records_auditevent_seal ON records_auditevent;
DROP TRIGGER records_accesslog_seal ON records_accesslog;
DROP TRIGGER records_auditchainhead_write ON records_auditchainhead;
DROP TRIGGER records_auditevent_append_only ON records_auditevent;
DROP TRIGGER records_accesslog_append_only ON records_accesslog;
DROP TRIGGER records_auditchainhead_guard ON records_auditchainhead;
DROP TRIGGER records_auditevent_no_truncate ON records_auditevent;
DROP TRIGGER records_accesslog_no_truncate ON records_accesslog;
DROP TRIGGER records_auditchainhead_no_truncate ON records_auditchainhead;
"""

REVERSE_FUNCTIONS = """
DROP FUNCTION records_audit_seal();
DROP FUNCTION records_audit_seal_row(text, bigint);
DROP FUNCTION records_audit_head_written();
DROP FUNCTION records_audit_write_head(text);
DROP FUNCTION records_audit_append_only();
DROP FUNCTION records_audit_head_guard();
DROP FUNCTION records_audit_no_truncate();
DROP FUNCTION records_audit_hmac(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0013_approval_steps"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("chain", models.CharField(max_length=30, primary_key=True, serialize=False, verbose_name="chain")),
                ("seq", models.BigIntegerField(default=0, verbose_name="last place")),
                ("hash", models.CharField(blank=True, max_length=64, verbose_name="last hash")),
                ("mac", models.CharField(blank=True, max_length=64, verbose_name="MAC")),
            ],
            options={
                "verbose_name": "audit chain head",
                "verbose_name_plural": "audit chain heads",
            },
        ),
        migrations.AddField(
            model_name="accesslog",
            name="chain_seq",
            field=models.BigIntegerField(
                blank=True, editable=False, null=True, unique=True, verbose_name="place in the chain"
            ),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="hash",
            field=models.CharField(blank=True, db_default="", editable=False, max_length=64, verbose_name="hash"),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="prev_hash",
            field=models.CharField(
                blank=True, db_default="", editable=False, max_length=64, verbose_name="hash of the one before"
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_seq",
            field=models.BigIntegerField(
                blank=True, editable=False, null=True, unique=True, verbose_name="place in the chain"
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, db_default="", editable=False, max_length=64, verbose_name="hash"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(
                blank=True, db_default="", editable=False, max_length=64, verbose_name="hash of the one before"
            ),
        ),
        migrations.RunSQL(FUNCTIONS, REVERSE_FUNCTIONS),
        migrations.RunSQL(SEAL_EXISTING, migrations.RunSQL.noop),
        migrations.RunSQL(TRIGGERS, REVERSE_TRIGGERS),
    ]
