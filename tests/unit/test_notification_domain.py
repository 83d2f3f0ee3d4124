from datetime import UTC, datetime
from uuid import uuid4

import pytest

from plumbing.eventstore import Trace
from services.notification.domain import Alert, AlertAlreadySettled, AlertStatus

SERVICE = Trace("service:notification", uuid4())
AT = datetime(2026, 6, 1, tzinfo=UTC)


def requested(trigger: object = None) -> Alert:
    return Alert(
        team="mosovo-north",
        kind="order allocated",
        order_reference="ORD-2026-AAAA0001",
        link="http://example.invalid/orders/ORD-2026-AAAA0001",
        trigger_event_id=trigger or uuid4(),
        trace=SERVICE,
    )


def test_an_alert_is_keyed_by_the_event_that_triggered_it() -> None:
    trigger = uuid4()
    assert requested(trigger).id == requested(trigger).id == Alert.create_id(trigger)


def test_a_delivered_alert_cannot_be_delivered_or_failed_again() -> None:
    alert = requested()
    alert.mark_delivered("webhook", 1, AT, SERVICE)

    assert alert.status is AlertStatus.DELIVERED
    with pytest.raises(AlertAlreadySettled):
        alert.mark_delivered("webhook", 1, AT, SERVICE)
    with pytest.raises(AlertAlreadySettled):
        alert.mark_failed("webhook", 4, "HTTP 500", AT, SERVICE)
