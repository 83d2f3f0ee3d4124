"""Outreach: the sessions ("roadshows") held for districts' staff, and the referrals each
district made in the months before and after each, beside the proactive-scan candidates
screening raised from the same district's disposals over the same days.

A projection keeps the sessions as recorded; one query reads the sessions held in the period,
the district-made referrals and the candidates; the figures are plain functions of them,
which the unit tests check against a hand-computed history. Before and after is a
comparison, not a measure of effect: the paper prints why beside it.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from plumbing.readmodel import Projection, Write
from schemas.dates import months_after
from schemas.outreach import OutreachSessionRecordedV1
from services.readmodels.capacity import PROACTIVE, month_ends

MONTHS = 3  # months before and after each session, unless the paper is asked for others
MONTH_DAYS = 365.25 / 12

DDL = """
CREATE TABLE IF NOT EXISTS {schema}.sessions (
    session_id uuid PRIMARY KEY,
    district text NOT NULL,
    held_on date NOT NULL,
    audience text NOT NULL,
    notes text NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_day ON {schema}.sessions (held_on, district);
"""


def recorded(e: OutreachSessionRecordedV1) -> list[Write]:
    p = e.payload
    return [Write(
        "INSERT INTO {schema}.sessions VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        (e.aggregate_id, p.district, p.held_on, p.audience, p.notes, e.actor, e.occurred_at),
    )]  # fmt: skip


PROJECTION = Projection(
    name="outreach",
    description="Outreach sessions held for districts' staff: district, day, audience.",
    ddl=DDL,
    handlers={OutreachSessionRecordedV1: recorded},
    tables=("sessions",),
)


SessionKey = tuple[date, str, UUID]


def session_key(row: dict[str, Any]) -> SessionKey:
    return row["held_on"], row["district"], row["session_id"]


async def get_sessions(
    pool: asyncpg.Pool, district: str | None, after: SessionKey | None, limit: int
) -> list[dict[str, Any]]:
    """Newest first, of one district or all, from just after the `after` session."""
    held_on, after_district, session_id = after or (None, None, None)
    rows = await pool.fetch(
        """SELECT session_id, district, held_on, audience, notes, recorded_by, recorded_at
           FROM rm_outreach.sessions WHERE ($1::text IS NULL OR district = $1)
             AND ($2::date IS NULL OR held_on < $2
                  OR (held_on = $2 AND (district, session_id) > ($3::text, $4::uuid)))
           ORDER BY held_on DESC, district, session_id LIMIT $5""",
        district, held_on, after_district, session_id, limit,
    )  # fmt: skip
    return [dict(row) for row in rows]


# --- the figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    district: str
    held_on: date
    audience: str


@dataclass(frozen=True)
class Window:
    """Days of the period on one side of a session: [first, last], none if last < first."""

    first: date
    last: date
    referrals: int  # made by the district's staff (not from scanning), by the day made
    candidates: int  # raised by screening the district's disposals, by the day raised

    @property
    def days(self) -> int:
        return max(0, (self.last - self.first).days + 1)

    @property
    def referrals_a_month(self) -> float | None:
        return self.referrals / (self.days / MONTH_DAYS) if self.days else None

    @property
    def candidates_a_month(self) -> float | None:
        return self.candidates / (self.days / MONTH_DAYS) if self.days else None


@dataclass(frozen=True)
class BeforeAndAfter:
    session: Session
    before: Window  # the `months` months up to the day before the session
    after: Window  # the `months` months from the day of the session


@dataclass(frozen=True)
class Outreach:
    months: int
    sessions: list[BeforeAndAfter]  # each session held in the period, in the order held
    referrals: dict[str, dict[str, int]]  # month -> district with a session -> referrals made
    held: dict[str, dict[str, int]]  # month -> district with a session -> sessions held

    @property
    def span(self) -> str:
        """The months either side of a session, as the paper says them: "1 month", "3 months"."""
        return f"{self.months} month{'' if self.months == 1 else 's'}"


def outreach(
    sessions: Iterable[Session],
    referrals: Iterable[tuple[str, date]],
    candidates: Iterable[tuple[str, date]],
    start: date,
    end: date,
    months: int = MONTHS,
) -> Outreach:
    """Each session held in [start, end] with the district's referrals and candidates in the
    `months` months before and after it; both windows are cut at the period's edges."""
    held = sorted((s for s in sessions if start <= s.held_on <= end),
                  key=lambda s: (s.held_on, s.district, s.audience))  # fmt: skip
    referred, raised = list(referrals), list(candidates)

    def window(district: str, first: date, last: date) -> Window:
        first, last = max(first, start), min(last, end)
        return Window(first, last, _count(referred, district, first, last),
                      _count(raised, district, first, last))  # fmt: skip

    compared = [
        BeforeAndAfter(
            s,
            window(s.district, months_after(s.held_on, -months), s.held_on - timedelta(days=1)),
            window(s.district, s.held_on, months_after(s.held_on, months) - timedelta(days=1)),
        )
        for s in held
    ]
    districts = sorted({s.district for s in held})
    return Outreach(
        months=months,
        sessions=compared,
        referrals=_by_month(referred, districts, start, end),
        held=_by_month([(s.district, s.held_on) for s in held], districts, start, end),
    )


def _count(happened: list[tuple[str, date]], district: str, first: date, last: date) -> int:
    return sum(1 for d, day in happened if d == district and first <= day <= last)


def _by_month(
    happened: list[tuple[str, date]], districts: list[str], start: date, end: date
) -> dict[str, dict[str, int]]:
    table = {month: dict.fromkeys(districts, 0) for month, _ in month_ends(start, end)}
    for district, day in happened:
        if district in districts and start <= day <= end:
            table[f"{day:%Y-%m}"][district] += 1
    return table


async def fetch_outreach(
    db: asyncpg.Connection, start: date, end: date, months: int = MONTHS
) -> Outreach:
    """The sessions held in the period, and the referrals and candidates of its days."""
    sessions = await db.fetch(
        """SELECT district, held_on, audience FROM rm_outreach.sessions
           WHERE held_on BETWEEN $1 AND $2""",
        start, end,
    )  # fmt: skip
    referrals = await db.fetch(
        f"""SELECT district, referred_on AS day FROM rm_caseload.referrals
            WHERE district IS NOT NULL AND source IS DISTINCT FROM '{PROACTIVE}'
              AND referred_on BETWEEN $1 AND $2""",
        start, end,
    )  # fmt: skip
    candidates = await db.fetch(
        """SELECT payload->>'district' AS district, (occurred_at AT TIME ZONE 'UTC')::date AS day
           FROM rm_audit.events WHERE event_type = 'ProactiveCandidateIdentified'
             AND (occurred_at AT TIME ZONE 'UTC')::date BETWEEN $1 AND $2""",
        start, end,
    )  # fmt: skip
    return outreach(
        [Session(r["district"], r["held_on"], r["audience"]) for r in sessions],
        [(r["district"], r["day"]) for r in referrals],
        [(r["district"], r["day"]) for r in candidates],
        start,
        end,
        months,
    )
