"""The caseload: referrals and applications by state, caseworker, district and age."""

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from plumbing.readmodel import Projection, Write
from schemas.application import ApplicationOpenedV1, ApplicationStageChangedV1
from schemas.referral import ReferralAcceptedV1, ReferralReceivedV1, ReferralStatusChangedV1

DDL = """
CREATE TABLE IF NOT EXISTS {schema}.referrals (
    referral_id uuid PRIMARY KEY,
    district text,
    district_reference text,
    source text,
    order_sought text,
    referred_on date,
    received_at timestamptz,
    status text NOT NULL,
    status_since timestamptz NOT NULL,
    caseworker text,
    reason text
);
CREATE TABLE IF NOT EXISTS {schema}.applications (
    application_id uuid PRIMARY KEY,
    referral_id uuid NOT NULL,
    district text NOT NULL,
    order_type text,
    opened_at timestamptz,
    stage text NOT NULL,
    stage_since timestamptz NOT NULL,
    outcome text,
    decided_on date,
    reason text
);
CREATE INDEX IF NOT EXISTS applications_by_referral ON {schema}.applications (referral_id);
"""


def referral_received(e: ReferralReceivedV1) -> list[Write]:
    p = e.payload
    return [Write(
        """INSERT INTO {schema}.referrals AS r (referral_id, district, district_reference,
               source, order_sought, referred_on, received_at, status, status_since)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'received', $7)
           ON CONFLICT (referral_id) DO UPDATE SET district = $2, district_reference = $3,
               source = $4, order_sought = $5, referred_on = $6, received_at = $7""",
        (e.aggregate_id, p.district, p.district_reference, p.source, p.order_sought.value,
         p.referred_on, e.occurred_at),
    )]  # fmt: skip


def referral_status(e: ReferralStatusChangedV1 | ReferralAcceptedV1) -> list[Write]:
    if isinstance(e, ReferralAcceptedV1):
        status, caseworker, reason = "accepted", None, None
    else:
        status, caseworker, reason = e.payload.status.value, e.payload.caseworker, e.payload.reason
    return [Write(
        """INSERT INTO {schema}.referrals AS r (referral_id, district, status, status_since,
               caseworker, reason)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (referral_id) DO UPDATE SET status = $3, status_since = $4,
               caseworker = coalesce($5, r.caseworker), reason = $6""",
        (e.aggregate_id, e.payload.district, status, e.occurred_at, caseworker, reason),
    )]  # fmt: skip


def application_opened(e: ApplicationOpenedV1) -> list[Write]:
    p = e.payload
    return [Write(
        """INSERT INTO {schema}.applications AS a (application_id, referral_id, district,
               order_type, opened_at, stage, stage_since)
           VALUES ($1, $2, $3, $4, $5, 'drafting', $5)
           ON CONFLICT (application_id) DO UPDATE SET order_type = $4, opened_at = $5""",
        (e.aggregate_id, p.referral_id, p.district, p.order_type.value, e.occurred_at),
    )]  # fmt: skip


def application_stage(e: ApplicationStageChangedV1) -> list[Write]:
    p = e.payload
    return [Write(
        """INSERT INTO {schema}.applications (application_id, referral_id, district, stage,
               stage_since, outcome, decided_on, reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (application_id) DO UPDATE SET stage = $4, stage_since = $5,
               outcome = $6, decided_on = $7, reason = $8""",
        (e.aggregate_id, p.referral_id, p.district, p.stage.value, e.occurred_at, p.outcome,
         p.decided_on, p.reason),
    )]  # fmt: skip


PROJECTION = Projection(
    name="caseload",
    description="Referrals and applications by state, caseworker, district and age.",
    ddl=DDL,
    handlers={
        ReferralReceivedV1: referral_received,
        ReferralStatusChangedV1: referral_status,
        ReferralAcceptedV1: referral_status,
        ApplicationOpenedV1: application_opened,
        ApplicationStageChangedV1: application_stage,
    },
    tables=("referrals", "applications"),
)


# A referral whose Received event has not arrived yet (topics interleave) has neither date:
# it sorts last, where asyncpg's date.max and datetime.max are PostgreSQL's 'infinity'.
CaseKey = tuple[date, datetime, UUID]
NOT_YET = datetime.max.replace(tzinfo=UTC)


def case_key(row: dict[str, Any]) -> CaseKey:
    return row["referred_on"] or date.max, row["received_at"] or NOT_YET, row["referral_id"]


async def get_caseload(
    pool: asyncpg.Pool,
    caseworker: str | None,
    district: str | None,
    states: list[str] | None,
    after: CaseKey | None,
    limit: int,
    today: date,
) -> list[dict[str, Any]]:
    """Open cases, oldest first, with their age on `today`: a referral awaiting triage, or
    the application it became; from just after the `after` case."""
    referred_on, received_at, referral_id = after or (None, None, None)
    rows = await pool.fetch(
        """SELECT r.referral_id, r.district, r.district_reference, r.source, r.referred_on,
                  r.received_at, r.caseworker, a.application_id, a.order_type,
                  coalesce(a.stage, r.status) AS state,
                  coalesce(a.stage_since, r.status_since) AS since,
                  $8::date - r.referred_on AS age_days
           FROM rm_caseload.referrals r
           LEFT JOIN rm_caseload.applications a ON a.referral_id = r.referral_id
           WHERE coalesce(a.stage, r.status) NOT IN ('decided', 'declined')
             AND ($1::text IS NULL OR r.caseworker = $1)
             AND ($2::text IS NULL OR r.district = $2)
             AND ($3::text[] IS NULL OR coalesce(a.stage, r.status) = ANY($3))
             AND ($4::date IS NULL OR (coalesce(r.referred_on, 'infinity'::date),
                  coalesce(r.received_at, 'infinity'::timestamptz), r.referral_id)
                  > ($4, $5::timestamptz, $6::uuid))
           ORDER BY coalesce(r.referred_on, 'infinity'::date),
                    coalesce(r.received_at, 'infinity'::timestamptz), r.referral_id
           LIMIT $7""",
        caseworker, district, states, referred_on, received_at, referral_id, limit, today,
    )  # fmt: skip
    return [dict(row) for row in rows]


async def get_caseload_summary(pool: asyncpg.Pool, today: date) -> list[dict[str, Any]]:
    """How many cases stand in each state, per caseworker and district, and the oldest's
    age on `today`."""
    rows = await pool.fetch(
        """SELECT coalesce(a.stage, r.status) AS state, r.caseworker, r.district,
                  count(*) AS cases, max($1::date - r.referred_on) AS oldest_days
           FROM rm_caseload.referrals r
           LEFT JOIN rm_caseload.applications a ON a.referral_id = r.referral_id
           GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
        today,
    )
    return [dict(row) for row in rows]
