"""The list of applications about orders: to vary, renew or discharge each, where each stands
(the caseworkers' work on orders, and the order page's applications in progress)."""

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from plumbing.projection import LocalProjection, update_row
from schemas.application import ApplicationStage
from services.application.domain import OrderApplication

DDL = """
CREATE TABLE IF NOT EXISTS application.order_applications (
    application_id uuid PRIMARY KEY,
    order_id uuid NOT NULL,
    order_reference text NOT NULL,
    kind text NOT NULL,
    applicant text NOT NULL,
    received_on date,
    opened_at timestamptz NOT NULL,
    stage text NOT NULL,
    outcome text,
    decided_on date
);
CREATE INDEX IF NOT EXISTS order_applications_by_order
    ON application.order_applications (order_id, opened_at, application_id);
CREATE INDEX IF NOT EXISTS order_applications_by_stage
    ON application.order_applications (stage, opened_at, application_id);
"""


def opened(cursor: Any, event: OrderApplication.Opened) -> None:
    cursor.execute(
        """INSERT INTO application.order_applications (application_id, order_id,
               order_reference, kind, applicant, received_on, opened_at, stage)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
        (event.originator_id, event.order_id, event.order_reference, event.kind,
         event.applicant, event.received_on, event.opened_at, ApplicationStage.DRAFTING),
    )  # fmt: skip


def _at(stage: ApplicationStage) -> Any:
    def moved(cursor: Any, event: Any) -> None:
        key = ("application_id", event.originator_id)
        update_row(cursor, "application.order_applications", key, stage=stage.value)

    return moved


def decided(cursor: Any, event: OrderApplication.OutcomeRecorded) -> None:
    key = ("application_id", event.originator_id)
    update_row(
        cursor, "application.order_applications", key,
        stage=ApplicationStage.DECIDED.value, outcome=str(event.outcome),
        decided_on=event.decided_on,
    )  # fmt: skip


ORDER_APPLICATIONS = LocalProjection(
    "order_applications",
    DDL,
    {
        OrderApplication.Opened: opened,
        OrderApplication.SubmittedForQualityAssurance: _at(ApplicationStage.QUALITY_ASSURANCE),
        OrderApplication.QualityAssuranceFailed: _at(ApplicationStage.DRAFTING),
        OrderApplication.QualityAssurancePassed: _at(ApplicationStage.WITH_LEGAL_SERVICES),
        OrderApplication.ReturnedByLegalServices: _at(ApplicationStage.DRAFTING),
        OrderApplication.ApplicationMade: _at(ApplicationStage.APPLIED_TO_COURT),
        OrderApplication.HearingListed: _at(ApplicationStage.HEARING_LISTED),
        OrderApplication.OutcomeRecorded: decided,
    },
)

ApplicationKey = tuple[datetime, UUID]


def application_key(row: dict[str, Any]) -> ApplicationKey:
    return row["opened_at"], row["application_id"]


async def order_applications(
    pool: asyncpg.Pool,
    order_id: UUID | None,
    in_progress: bool | None,
    after: ApplicationKey | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Applications about orders, oldest opened first: of one order, or in progress (or
    decided) only; from just after `after`."""
    opened_at, application_id = after or (None, None)
    rows = await pool.fetch(
        """SELECT * FROM application.order_applications
           WHERE ($1::uuid IS NULL OR order_id = $1)
             AND ($2::boolean IS NULL OR (stage <> 'decided') = $2)
             AND ($3::timestamptz IS NULL OR (opened_at, application_id) > ($3, $4::uuid))
           ORDER BY opened_at, application_id LIMIT $5""",
        order_id, in_progress, opened_at, application_id, limit,
    )  # fmt: skip
    return [dict(row) for row in rows]
