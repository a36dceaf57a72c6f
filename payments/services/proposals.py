"""What the system proposes by itself for a specialist to draft; nothing is decided
automatically (issue 17; conventions: "Recipients and decisions").

Both scans are set-based (one statement) and idempotent: a recipient has at most one open
proposal of a kind (a partial unique index), and what was already proposed (or dismissed) is not
proposed again. They run when the ledger or the registry changes (``records.signals``) and on
beat, for whatever a signal missed.
"""

from __future__ import annotations

from django.db import connection, transaction

from records.db import number_array

# A recalculation: contributions (or refunds of contributions) inside the window of the amount
# in force, posted after that amount was computed and after the last proposal of the kind.
_RECALCULATIONS = """
INSERT INTO payments_decisionproposal (recipient_id, kind, reason, detail, status, created_at, close_note)
SELECT r.id, 'recalculate', 'contributions',
       jsonb_build_object(
           'entries', count(e.id),
           'periods', jsonb_agg(DISTINCT to_char(e.period, 'YYYY-MM')),
           'computed_at', min(d.computed_at)
       ),
       'open', clock_timestamp(), ''
FROM payments_recipient r
CROSS JOIN LATERAL (
    SELECT d.computed_at, d.window_start, d.window_end
    FROM payments_decision d
    WHERE d.recipient_id = r.id AND d.state = 'approved' AND d.kind IN ('assign', 'recalculate')
    ORDER BY d.approved_at DESC, d.id DESC
    LIMIT 1
) d
JOIN contributions_ledgerentry e
    ON e.participant_id = CASE WHEN r.payment_type = '0701' THEN r.deceased_id ELSE r.participant_id END
    AND date_trunc('month', e.period)::date BETWEEN d.window_start AND d.window_end
    AND e.posted_at > GREATEST(
        d.computed_at,
        COALESCE(
            (SELECT max(p.created_at) FROM payments_decisionproposal p
             WHERE p.recipient_id = r.id AND p.kind = 'recalculate'),
            '-infinity'
        )
    )
    AND (
        e.kind = 'contribution'
        OR (e.kind = 'refund' AND EXISTS (
            SELECT 1 FROM contributions_ledgerentry c WHERE c.id = e.corrects_id AND c.kind = 'contribution'
        ))
    )
WHERE r.status IN ('in_force', 'suspended') {only}
GROUP BY r.id
ON CONFLICT (recipient_id, kind) WHERE status = 'open' DO NOTHING
"""

# A termination: the registry reports dead a recipient whose payment is in force or suspended.
_TERMINATIONS = """
INSERT INTO payments_decisionproposal (recipient_id, kind, reason, detail, status, created_at, close_note)
SELECT r.id, 'terminate', 'death', jsonb_build_object('death_date', p.death_date), 'open', clock_timestamp(), ''
FROM payments_recipient r
JOIN records_participant p ON p.id = r.participant_id
WHERE r.status IN ('in_force', 'suspended') AND p.death_date IS NOT NULL {only}
    AND NOT EXISTS (
        SELECT 1 FROM payments_decisionproposal x
        WHERE x.recipient_id = r.id AND x.kind = 'terminate' AND x.reason = 'death'
    )
ON CONFLICT (recipient_id, kind) WHERE status = 'open' DO NOTHING
"""


def _run(statement: str, participant_ids: list[int] | None, column_filter: str) -> int:
    params: list[str | None] = []
    only = ""
    if participant_ids is not None:
        if not participant_ids:
            return 0
        only = column_filter
        params = [number_array(participant_ids)] * column_filter.count("%s")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(only=only), params)
        return int(cursor.rowcount)


def propose_recalculations(*, participant_ids: list[int] | None = None) -> int:
    """Open a recalculation proposal for each recipient whose window changed; how many."""
    return _run(
        _RECALCULATIONS,
        participant_ids,
        "AND (r.participant_id = ANY(%s::bigint[]) OR r.deceased_id = ANY(%s::bigint[]))",
    )


def propose_terminations(*, participant_ids: list[int] | None = None) -> int:
    """Open a termination proposal for each recipient the registry reports dead; how many."""
    return _run(_TERMINATIONS, participant_ids, "AND r.participant_id = ANY(%s::bigint[])")
