"""The notification service process: alert policies, the dispatcher, and alert lookups."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request

from plumbing.consumer import Consumers
from plumbing.eventstore import hop
from plumbing.follower import LogFollower
from plumbing.runtime import ServiceDefinition
from plumbing.settings import Settings
from schemas.application import OrderAllocatedV1
from schemas.breach import BreachRecordedV1
from services.notification.application import DISPATCHER, NotificationService
from services.notification.wire import to_wire

router = APIRouter(tags=["alerts"])


@router.get("/alerts/{alert_id}")
async def get_alert(alert_id: UUID, request: Request) -> dict[str, Any]:
    service: NotificationService = request.app.state.service
    return await hop(service.get_alert, alert_id)


def subscribe(consumers: Consumers, service: NotificationService, settings: Settings) -> None:
    consumers.on(OrderAllocatedV1, service.when_order_allocated_alert_team)
    consumers.on(BreachRecordedV1, service.when_breach_recorded_alert_team)


def followers(service: NotificationService, settings: Settings) -> list[LogFollower]:
    return [LogFollower(service, DISPATCHER, service.when_alert_requested_deliver_it)]


definition = ServiceDefinition(
    name="notification",
    application=NotificationService,
    to_wire=to_wire,
    router=router,
    subscribe=subscribe,
    followers=followers,
)
