"""The access log as auditors query it: who looked at which case, when, and why; and every
change to whether the log is kept. Written only by its projection of the web app's events."""

from datetime import datetime
from typing import Any

import asyncpg

from plumbing.projection import LocalProjection
from services.web.domain import AccessLogPolicy, AccessRecorded

DDL = """
CREATE TABLE IF NOT EXISTS web.access_log (
    event_id text PRIMARY KEY,
    at timestamptz NOT NULL,
    username text NOT NULL,
    role text NOT NULL,
    actor text NOT NULL,
    case_key text,
    what text NOT NULL,
    purpose text NOT NULL,
    exported boolean NOT NULL,
    correlation_id uuid NOT NULL
);
CREATE INDEX IF NOT EXISTS access_log_by_case ON web.access_log (case_key, at);
"""
POLICY = "access log policy"


def _logged(cursor: Any, event: Any, row: tuple[str, str, str, str | None, str, str, bool]) -> None:
    cursor.execute(
        """INSERT INTO web.access_log VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT DO NOTHING""",
        (f"{event.originator_id}/{event.originator_version}", event.at, *row,
         event.trace.correlation_id),
    )  # fmt: skip


def recorded(cursor: Any, event: AccessRecorded.Recorded) -> None:
    _logged(cursor, event, (event.username, event.role, event.trace.actor, event.case,
                            event.what, event.purpose, event.exported))  # fmt: skip


def policy(cursor: Any, event: Any) -> None:
    what = f"logging turned {'on' if event.logging else 'off'}"
    _logged(
        cursor, event, ("", "", event.trace.actor, None, f"{POLICY}: {what}", event.reason, False)
    )


ACCESS_LOG = LocalProjection(
    "access-log",
    DDL,
    {
        AccessRecorded.Recorded: recorded,
        AccessLogPolicy.Configured: policy,
        AccessLogPolicy.Changed: policy,
    },
)


EntryKey = tuple[datetime, str]


def entry_key(row: dict[str, Any]) -> EntryKey:
    return row["at"], row["event_id"]


async def get_access_log(
    pool: asyncpg.Pool,
    case: str | None,
    username: str | None,
    after: EntryKey | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first: every consultation (of one case, or by one person) and policy change,
    from just after (older than) the `after` entry."""
    at, event_id = after or (None, None)
    rows = await pool.fetch(
        """SELECT event_id, at, username, role, actor, case_key AS case, what, purpose,
                  exported, correlation_id
           FROM web.access_log
           WHERE ($1::text IS NULL OR case_key = $1 OR case_key IS NULL)
             AND ($2::text IS NULL OR username = $2)
             AND ($3::timestamptz IS NULL OR (at, event_id) < ($3, $4::text))
           ORDER BY at DESC, event_id DESC LIMIT $5""",
        case, username, at, event_id, limit,
    )  # fmt: skip
    return [dict(row) for row in rows]


async def get_access_log_of(pool: asyncpg.Pool, cases: list[str]) -> list[dict[str, Any]]:
    """Newest first: every consultation of any of the cases (a person's, for subject access)."""
    rows = await pool.fetch(
        """SELECT at, username, role, actor, case_key AS case, what, purpose, exported
           FROM web.access_log WHERE case_key = ANY($1::text[]) ORDER BY at DESC""",
        cases,
    )
    return [dict(row) for row in rows]
