"""Registry backends for tests: the snapshot checked in SQL, and the same snapshot reached only
through ``lookup_many``, as a registry service outside this database would be."""

from __future__ import annotations

from records.registry import SnapshotRegistry

IN_DATABASE = "records.registry.SnapshotRegistry"
ELSEWHERE = "tests.contributions.registries.RegistryElsewhere"


class RegistryElsewhere(SnapshotRegistry):
    """Every line of an order is read and checked in Python (``process_order``)."""

    table = None  # type: ignore[assignment]
