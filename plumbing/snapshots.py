"""Snapshots of aggregates whose streams have no last event (a subject breaching again and
again, an order varied and renewed for years, a suspect's disposals): the library stores one
every `INTERVAL` events of such an aggregate, in the service's `<name>_snapshots` table, and
loads the aggregate from the newest snapshot and the events after it.

A snapshot is derived from the events and is not hash-chained: the events table stays the
record. `civil-orders verify chains` reads only the events, and the auditor's replay turns
snapshots off and rebuilds every state from the events alone."""

from typing import Any

INTERVAL = 50


def every_interval(*aggregates: type[Any]) -> dict[type[Any], int]:
    """An Application's `snapshotting_intervals` for these aggregate classes."""
    return dict.fromkeys(aggregates, INTERVAL)
