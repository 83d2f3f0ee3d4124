"""A projection applying a batch: each event once, each aggregate's writes in order, each
statement sent once for many rows. The database is a recording stand-in."""

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from plumbing.readmodel import Projection, Write, own_row, update
from schemas.notification import (
    AlertAcknowledged,
    AlertAcknowledgedV1,
    AlertEscalated,
    AlertEscalatedV1,
)


def _alert(event: Any, **columns: Any) -> list[Write]:
    return [update("{schema}.alerts", ("alert_id", event.aggregate_id), **columns)]


# A read model of alerts: each event sets columns of its alert's row.
ALERTS = Projection(
    name="alerts",
    description="Who acknowledged each alert, and why it escalated.",
    ddl="",
    handlers={
        AlertAcknowledgedV1: lambda e: _alert(
            e, acknowledged_by=e.actor, acknowledged_at=e.occurred_at
        ),
        AlertEscalatedV1: lambda e: _alert(
            e, escalated_at=e.occurred_at, escalation_reason=e.payload.reason
        ),
    },
    tables=("alerts",),
)


class RecordingConnection:
    """Answers the processed-positions insert as if `seen` were already recorded."""

    def __init__(self, seen: frozenset[tuple[str, int]] = frozenset()) -> None:
        self.seen = seen
        self.statements: list[tuple[str, list[tuple[Any, ...]]]] = []

    async def fetch(self, sql: str, producers: list[str], sequences: list[int]) -> list[Any]:
        return [
            {"producer": producer, "sequence": sequence}
            for producer, sequence in dict.fromkeys(zip(producers, sequences, strict=True))
            if (producer, sequence) not in self.seen
        ]

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.statements.append((sql, list(rows)))

    async def copy_records_to_table(
        self, table: str, *, schema_name: str, records: list[tuple[Any, ...]]
    ) -> None:
        self.statements.append((f"COPY {schema_name}.{table}", list(records)))


def acknowledged(alert: UUID, sequence: int, by: str) -> AlertAcknowledgedV1:
    return AlertAcknowledgedV1.model_construct(  # type: ignore[call-arg]  # what ALERTS reads
        producer="notification",
        sequence=sequence,
        aggregate_id=alert,
        actor=by,
        occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        payload=AlertAcknowledged.model_construct(),  # type: ignore[call-arg]
    )


def escalated(alert: UUID, sequence: int, reason: str) -> AlertEscalatedV1:
    return AlertEscalatedV1.model_construct(  # type: ignore[call-arg]  # what ALERTS reads
        producer="notification",
        sequence=sequence,
        aggregate_id=alert,
        occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        payload=AlertEscalated.model_construct(reason=reason),  # type: ignore[call-arg]
    )


def apply(connection: RecordingConnection, events: list[Any]) -> int:
    return asyncio.run(ALERTS.apply_many(connection, ALERTS.schema, events))


def test_an_event_already_processed_or_repeated_in_the_batch_is_applied_once() -> None:
    alert = uuid4()
    connection = RecordingConnection(seen=frozenset({("notification", 1)}))

    applied = apply(
        connection,
        [
            acknowledged(alert, 1, "old"),
            acknowledged(alert, 2, "new"),
            acknowledged(alert, 2, "new"),
        ],
    )

    assert applied == 1
    [(_, rows)] = connection.statements
    assert [row[1] for row in rows] == ["new"]


# (alert, escalated or acknowledged): the list's order is the order they happened in
histories = st.lists(st.tuples(st.integers(0, 3), st.booleans()), max_size=40)


Event = AlertAcknowledgedV1 | AlertEscalatedV1


def said(event: Event) -> str:
    """Who acknowledged, or why it escalated: what the event's write carries as text."""
    return event.actor if isinstance(event, AlertAcknowledgedV1) else event.payload.reason


@given(histories)
def test_each_aggregates_writes_keep_their_order_and_a_statement_goes_once_a_step(
    history: list[tuple[int, bool]],
) -> None:
    alerts = [uuid4() for _ in range(4)]
    events: list[Event] = [
        (escalated if escalates else acknowledged)(alerts[alert], sequence, f"said-{sequence}")
        for sequence, (alert, escalates) in enumerate(history, start=1)
    ]
    connection = RecordingConnection()

    assert apply(connection, events) == len(events)

    rows = [row for _, statement_rows in connection.statements for row in statement_rows]
    for alert in alerts:
        texts = [
            value for row in rows if row[0] == alert for value in row if isinstance(value, str)
        ]
        assert texts == [said(event) for event in events if event.aggregate_id == alert]
    steps = max((sum(a == alert for a, _ in history) for alert in range(4)), default=0)
    assert len(connection.statements) <= 2 * steps  # each step, at most its two statements


# A read model of alerts as a log: each event's own row, and its alert's row updated.
LOG = Projection(
    name="alert_log",
    description="Every acknowledgement, and who last acknowledged each alert.",
    ddl="",
    handlers={
        AlertAcknowledgedV1: lambda e: [
            own_row("acknowledgements", e.producer, e.sequence, e.actor),
            *_alert(e, acknowledged_by=e.actor),
        ]
    },
    tables=("acknowledgements", "alerts"),
)


def test_a_replay_copies_in_the_positions_and_the_rows_only_one_event_writes() -> None:
    first, second = uuid4(), uuid4()
    history = [
        acknowledged(first, 1, "ann"),
        escalated(first, 2, "no answer"),  # not the log's
        acknowledged(second, 3, "bob"),
        acknowledged(first, 4, "cy"),
    ]
    connection = RecordingConnection()

    applied = asyncio.run(LOG.load(connection, "scratch", history))

    assert applied == 3
    assert [(sql.split(" SET")[0], rows) for sql, rows in connection.statements] == [
        ("COPY scratch.processed", [("notification", 1), ("notification", 3), ("notification", 4)]),
        ("COPY scratch.acknowledgements", [("notification", 1, "ann"), ("notification", 3, "bob")]),
        ("UPDATE scratch.alerts", [(first, "ann"), (second, "bob")]),
        # the first alert's second acknowledgement a step later: its writes keep their order
        ("COPY scratch.acknowledgements", [("notification", 4, "cy")]),
        ("UPDATE scratch.alerts", [(first, "cy")]),
    ]
