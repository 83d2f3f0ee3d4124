"""The notification service process: alert policies, the dispatcher, the inbox, escalation."""

from typing import Annotated, Any
from uuid import UUID

import asyncpg
import structlog
from fastapi import APIRouter, Query, Request, status

from plumbing.configuration import adopting_team_directories
from plumbing.consumer import Consumers
from plumbing.eventstore import hop
from plumbing.follower import LogFollower
from plumbing.http import Acting
from plumbing.paging import Page, paged
from plumbing.runtime import ServiceDefinition
from plumbing.settings import Settings
from plumbing.timers import every
from schemas.application import (
    OrderAllocatedV1,
    OrderExpiredV1,
    OrderNotificationOverdueV1,
    OrderReallocatedV1,
    OrderRenewalReviewDueV1,
    OrderRenewedV1,
    OrderVariedV1,
)
from schemas.breach import BreachRecordedV1
from schemas.configuration import TeamDirectoryPublishedV1
from services.notification.application import NotificationService
from services.notification.dispatch import Dispatcher
from services.notification.inbox import (
    INBOX,
    InboxKey,
    alert_metrics,
    due_for_escalation,
    get_alerts,
    inbox_key,
)

router = APIRouter(tags=["alerts"])
log = structlog.get_logger()


def _service(request: Request) -> NotificationService:
    return request.app.state.service


@router.get("/alerts")
async def inbox(
    request: Request,
    page: Annotated[Page[InboxKey], paged(InboxKey)],
    team: str | None = Query(None, description="Only this team's alerts (else every team's)."),
    order_reference: str | None = Query(None, description="Only this order's alerts."),
) -> list[dict[str, Any]]:
    """The alert inbox, newest first: what was sent, when, how, whether it was escalated and
    who acknowledged it (current the moment an acknowledgement returns); a page at a time."""
    rows = await get_alerts(request.app.state.pool, team, page.after, page.fetch, order_reference)
    return page.of(rows, inbox_key)


@router.get("/alerts/{alert_id}")
async def get_alert(alert_id: UUID, request: Request) -> dict[str, Any]:
    return await hop(_service(request).get_alert, alert_id)


@router.post("/alerts/{alert_id}/acknowledge", status_code=status.HTTP_204_NO_CONTENT)
async def acknowledge(alert_id: UUID, request: Request, trace: Acting) -> None:
    await hop(_service(request).acknowledge_alert, alert_id, trace)


def subscribe(consumers: Consumers, service: NotificationService, settings: Settings) -> None:
    consumers.on(OrderAllocatedV1, service.when_order_allocated_alert_team)
    consumers.on(OrderReallocatedV1, service.when_order_reallocated_alert_new_team)
    consumers.on(OrderVariedV1, service.when_order_varied_alert_team)
    consumers.on(OrderRenewalReviewDueV1, service.when_order_renewal_review_due_alert_team)
    consumers.on(OrderExpiredV1, service.when_order_expired_alert_team)
    consumers.on(OrderRenewedV1, service.when_order_renewed_alert_team)
    consumers.on(OrderNotificationOverdueV1, service.when_order_notification_overdue_alert_team)
    consumers.on(BreachRecordedV1, service.when_breach_recorded_alert_team)
    consumers.on(TeamDirectoryPublishedV1, adopting_team_directories(service))


def followers(service: NotificationService, settings: Settings) -> list[LogFollower]:
    return [Dispatcher(service)]


async def escalate_unacknowledged(
    service: NotificationService, settings: Settings, pool: asyncpg.Pool
) -> None:
    """Escalate delivered alerts nobody acknowledged in time."""

    async def tick() -> None:
        for alert_id in await due_for_escalation(
            pool, settings.alert_ack_timeout_seconds, settings.current_time()
        ):
            if await hop(service.escalate_if_unacknowledged, alert_id):
                log.info("alert escalated: not acknowledged in time", alert_id=str(alert_id))

    await every(settings.alert_ack_check_seconds, "unacknowledged alerts", tick)


definition = ServiceDefinition(
    name="notification",
    application=NotificationService,
    router=router,
    subscribe=subscribe,
    followers=followers,
    local_projections=lambda service: [INBOX],
    extra_metrics=alert_metrics,
    tasks=lambda service, settings, pool: [escalate_unacknowledged(service, settings, pool)],
    # the last hop of every alert: an order allocated or a breach reaches it from the broker
    fetch_max_wait_ms=lambda settings: settings.alert_fetch_max_wait_ms,
)
