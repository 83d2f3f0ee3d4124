from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from schemas.trace import Trace
from services.notification.domain import (
    Alert,
    AlertAlreadyAcknowledged,
    AlertAlreadyEscalated,
    AlertAlreadySettled,
    AlertNotDueForEscalation,
    AlertNotYetReceived,
    AlertStatus,
)

SERVICE = Trace("service:notification", uuid4())
OFFICER = Trace("mosovo:officer-7", uuid4())
AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
FOUR_HOURS = timedelta(hours=4)


def requested(trigger: UUID | None = None) -> Alert:
    return Alert(
        team="mosovo-north",
        kind="order allocated",
        order_reference="ORD-2026-AAAA0001",
        link="http://example.invalid/orders/ORD-2026-AAAA0001",
        trigger_event_id=trigger or uuid4(),
        trace=SERVICE,
    )


def delivered() -> Alert:
    alert = requested()
    alert.mark_delivered("webhook", 1, AT, SERVICE)
    return alert


def test_an_alert_is_keyed_by_the_event_that_triggered_it() -> None:
    trigger = uuid4()
    assert requested(trigger).id == requested(trigger).id == Alert.create_id(trigger)


def test_a_delivered_alert_cannot_be_delivered_or_failed_again() -> None:
    alert = delivered()

    assert alert.status is AlertStatus.DELIVERED
    with pytest.raises(AlertAlreadySettled):
        alert.mark_delivered("webhook", 1, AT, SERVICE)
    with pytest.raises(AlertAlreadySettled):
        alert.mark_failed("webhook", 4, "HTTP 500", AT, SERVICE)


def test_an_alert_that_fails_shows_as_failed_and_escalates_to_the_fallback() -> None:
    alert = requested()
    alert.mark_failed("webhook", 4, "HTTP 503", AT, SERVICE)

    [_, failed, escalated] = alert.collect_events()
    assert isinstance(failed, Alert.Failed)
    assert isinstance(escalated, Alert.Escalated)
    assert alert.status is AlertStatus.FAILED
    assert alert.escalated_because == "delivery failed: HTTP 503"


def test_an_unacknowledged_alert_escalates_once_and_only_when_due() -> None:
    alert = delivered()

    with pytest.raises(AlertNotDueForEscalation):
        alert.escalate_if_unacknowledged(FOUR_HOURS, AT + timedelta(hours=3), SERVICE)
    alert.escalate_if_unacknowledged(FOUR_HOURS, AT + timedelta(hours=5), SERVICE)
    with pytest.raises(AlertAlreadyEscalated):
        alert.escalate_if_unacknowledged(FOUR_HOURS, AT + timedelta(hours=9), SERVICE)
    assert alert.escalated_because == "not acknowledged within 4:00:00"


def test_an_acknowledged_alert_does_not_escalate() -> None:
    alert = delivered()
    alert.acknowledge(AT + timedelta(minutes=5), OFFICER)

    with pytest.raises(AlertNotDueForEscalation, match="acknowledged"):
        alert.escalate_if_unacknowledged(FOUR_HOURS, AT + timedelta(hours=5), SERVICE)
    assert alert.acknowledged_by == "mosovo:officer-7"


def test_only_an_alert_that_reached_the_team_can_be_acknowledged_and_only_once() -> None:
    alert = requested()
    with pytest.raises(AlertNotYetReceived):
        alert.acknowledge(AT, OFFICER)

    alert.mark_delivered("email", 1, AT, SERVICE)
    alert.acknowledge(AT, OFFICER)
    with pytest.raises(AlertAlreadyAcknowledged, match="mosovo:officer-7"):
        alert.acknowledge(AT, OFFICER)


def test_a_failed_alert_whose_escalation_was_sent_can_be_acknowledged() -> None:
    alert = requested()
    alert.mark_failed("webhook", 4, "HTTP 503", AT, SERVICE)
    alert.mark_escalation_sent("email duty@teams.example", 1, AT, SERVICE)

    alert.acknowledge(AT, OFFICER)
    assert alert.acknowledged_by == "mosovo:officer-7"
