"""Signals that let an app below tell an app above that something changed, without importing
it (imports flow downwards, style.md P2). Each is sent once the change is committed."""

from __future__ import annotations

from django.dispatch import Signal

# Entries of personal accounts were posted or refunded: ``participant_ids`` (list of int).
ledger_changed = Signal()
# A state-registry snapshot was applied: ``participant_ids`` changed (None when unknown: all).
registry_loaded = Signal()
