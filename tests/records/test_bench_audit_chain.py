"""``manage.py bench_audit_chain`` measures sealing and verifying against a baseline in one run,
and leaves nothing in the append-only audit trail."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from records.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db


def test_the_benchmark_prints_its_figures_and_leaves_the_trail_as_it_was():
    before = AuditEvent.objects.count()
    heads = list(AuditChainHead.objects.values_list("chain", "seq", "hash"))
    out = io.StringIO()
    call_command("bench_audit_chain", "--rows", "300", stdout=out)
    result = json.loads(out.getvalue())
    assert result["rows"] == 300
    assert result["intact"] is True
    assert result["verify_events"] == result["verify_events_before"] + 300
    for key in ("baseline_insert_s", "sealed_insert_s", "seal_ms_per_event", "verify_s", "peak_rss_mb"):
        assert result[key] >= 0
    assert AuditEvent.objects.count() == before
    assert list(AuditChainHead.objects.values_list("chain", "seq", "hash")) == heads
