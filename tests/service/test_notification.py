"""The notification service's service layer: an alert requested once for each upstream event
a team must hear of, sent by the dispatcher to the team's channels (and escalated to its
fallback when they fail or nobody acknowledges it in time), and acknowledged.

The teams here are reached by webhook only, received in the process by httpx's own mock
transport (the dispatcher's HTTP client is the service's, with that transport): no alert
leaves the test. Email, and the real team inbox, are the e2e tier's."""

import copy
import json
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import yaml

from plumbing.configuration import adopting_team_directories
from plumbing.follower import events_after
from plumbing.settings import Settings
from schemas.configuration import TeamDirectory
from schemas.notification import (
    AlertAcknowledgedV1,
    AlertDeliveredV1,
    AlertEscalatedV1,
    AlertFailedV1,
    AlertRequestedV1,
)
from schemas.refusals import NotFound
from schemas.trace import Trace
from services.notification.application import DISPATCHER, NotificationService
from services.notification.channels import SIGNATURE_HEADER, sign
from services.notification.domain import (
    Alert,
    AlertAlreadyAcknowledged,
    AlertNotYetReceived,
)
from tests.service.conftest import Clock, tier_settings
from tests.service.published import consume, published, recorder, unchanged
from tests.service.upstream import (
    again,
    breach_recorded,
    moving,
    notification_overdue,
    order_allocated,
    order_expired,
    order_reallocated,
    order_renewed,
    order_varied,
    renewal_review_due,
    team_directory_published,
)

OFFICER = Trace("mosovo:mo-1", uuid4())
TEAMS: dict[str, Any] = {
    "version": 1,
    "teams": {
        team: {
            "name": f"{team} (synthetic)",
            "districts": districts,
            "channels": [{"kind": "webhook", "url": f"https://teams.example/{team}/alerts"}],
            "fallback": {"kind": "webhook", "url": f"https://teams.example/{team}/duty"},
        }
        for team, districts in (("mosovo-north", ["north"]), ("mosovo-east", ["east", "west"]))
    },
}
DOWN = "https://teams.example/mosovo-east/alerts"  # answers 503
# fails with no HTTP error but one of its own, as the socket did on a host it cannot encode
UNUSABLE = "https://teams.example/unusable"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    directory = tmp_path / "teams.yaml"
    directory.write_text(yaml.safe_dump(TEAMS))
    return tier_settings(
        team_directory=directory, alert_delivery_attempts=2, alert_retry_base_seconds=0.001
    )


class Webhooks:
    """The teams' webhook receivers: every request, and a 503 from the one that is down."""

    def __init__(self) -> None:
        self.received: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received.append(request)
        if str(request.url) == UNUSABLE:
            raise UnicodeError("label empty or too long")
        return httpx.Response(503 if str(request.url) == DOWN else 204)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.received]


@pytest.fixture
def webhooks(notification: NotificationService) -> Webhooks:
    receivers = Webhooks()
    mocked = partial(httpx.AsyncClient, transport=httpx.MockTransport(receivers))
    notification._transport = replace(notification._transport, http=mocked)
    return receivers


def dispatch(notification: NotificationService) -> None:
    """What the dispatcher (a log follower) has done when the log has news: each alert event
    after its position sent by the service, in log order (in a lane per team; here one after
    another)."""
    read = events_after(notification, Alert)
    position = recorder(notification).max_tracking_id(DISPATCHER) or 0
    for event, sequence in read(position, 500):
        notification.when_alert_raised_send_it(event, sequence)


def test_an_order_allocated_alerts_its_team_once(notification: NotificationService) -> None:
    allocated = order_allocated("ORD-2026-TIER01", team="mosovo-north")

    assert consume(notification, notification.when_order_allocated_alert_team, allocated) == []
    before = unchanged(notification)
    alert = notification.when_order_allocated_alert_team
    assert consume(notification, alert, again(allocated)) == []
    alert(again(allocated))
    alert(allocated.model_copy(update={"sequence": None}))  # as sent before events had one

    [requested] = published(notification, AlertRequestedV1)
    assert requested.payload.model_dump() == {
        "team": "mosovo-north",
        "kind": "order allocated",
        "order_reference": "ORD-2026-TIER01",
        "trigger_event_id": allocated.event_id,
    }
    assert requested.correlation_id == allocated.correlation_id
    assert requested.causation_id == allocated.event_id
    assert unchanged(notification) == before
    assert notification.get_alert(requested.aggregate_id) == {
        "id": str(requested.aggregate_id),
        "team": "mosovo-north",
        "kind": "order allocated",
        "order_reference": "ORD-2026-TIER01",
        "status": "requested",
        "escalated_because": None,
        "acknowledged_by": None,
    }


N = NotificationService


@pytest.mark.parametrize(
    ("policy", "event", "team", "kind"),
    [
        (N.when_order_reallocated_alert_new_team, order_reallocated(to="mosovo-east"),
         "mosovo-east", "order reallocated to your team from mosovo-north"),
        (N.when_order_varied_alert_team, order_varied(),
         "mosovo-north", "order varied: its terms have changed"),
        (N.when_order_renewal_review_due_alert_team, renewal_review_due(),
         "mosovo-north", "renewal review due: the order ends on {ends_on}"),
        (N.when_order_renewed_alert_team, order_renewed(ends_on=None),
         "mosovo-north", "order renewed: it now runs until further order"),
        (N.when_order_expired_alert_team, order_expired(),
         "mosovo-north", "order ended on {ended_on}: it reached its end date"),
        (N.when_order_notification_overdue_alert_team, notification_overdue(),
         "mosovo-north", "notification overdue: the subject's name and home address were due "
         "by {due_on}; a possible breach to confirm or dismiss"),
        (N.when_breach_recorded_alert_team, breach_recorded(number=1), "mosovo-north", "breach"),
        (N.when_breach_recorded_alert_team, breach_recorded(number=2),
         "mosovo-north", "repeat breach (number 2)"),
        (N.when_breach_recorded_alert_team, breach_recorded(team=None, district="west"),
         "mosovo-east", "breach"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)  # fmt: skip
def test_each_change_to_an_order_alerts_the_team_that_manages_it_saying_what_changed(
    notification: NotificationService, policy: Any, event: Any, team: str, kind: str
) -> None:
    alert = getattr(notification, policy.__name__)
    dated = {k: v for k, v in event.payload if k in ("ends_on", "ended_on", "due_on")}

    assert consume(notification, alert, event) == []
    before = unchanged(notification)
    assert consume(notification, alert, again(event)) == []

    [requested] = published(notification, AlertRequestedV1)
    assert (requested.payload.team, requested.payload.kind) == (team, kind.format(**dated))
    assert requested.payload.trigger_event_id == event.event_id
    assert unchanged(notification) == before


def test_an_order_nobody_manages_or_a_team_the_directory_lacks_is_refused_naming_it(
    notification: NotificationService,
) -> None:
    unmanaged = order_varied("ORD-2026-TIER09", team=None)
    unknown = order_allocated("ORD-2026-TIER08", team="mosovo-nowhere")

    refusals = consume(notification, notification.when_order_varied_alert_team, unmanaged)
    refusals += consume(notification, notification.when_order_allocated_alert_team, unknown)

    assert refusals == [
        "the team directory lists no MOSOVO team for 'ORD-2026-TIER09'",
        "the team directory lists no MOSOVO team for 'mosovo-nowhere'",
    ]
    assert published(notification, AlertRequestedV1) == []


def test_the_dispatcher_sends_an_alert_signed_to_the_teams_webhook_once(
    notification: NotificationService, webhooks: Webhooks, settings: Settings
) -> None:
    allocated = order_allocated(team="mosovo-north")
    consume(notification, notification.when_order_allocated_alert_team, allocated)

    dispatch(notification)
    dispatch(notification)  # woken again: nothing new

    [request] = webhooks.received
    [requested] = published(notification, AlertRequestedV1)
    assert str(request.url) == "https://teams.example/mosovo-north/alerts"
    assert request.headers["Idempotency-Key"] == str(requested.aggregate_id)
    secret = settings.webhook_secret.get_secret_value()
    assert request.headers[SIGNATURE_HEADER] == sign(secret, request.content)
    assert webhooks.bodies() == [
        {
            "alert_id": str(requested.aggregate_id),
            "team": "mosovo-north",
            "kind": "order allocated",
            "order_reference": "ORD-2026-TIER01",
            "link": f"{settings.public_base_url}/orders/ORD-2026-TIER01",
        }
    ]
    [delivered] = published(notification, AlertDeliveredV1)
    assert delivered.payload.model_dump() == {
        "team": "mosovo-north",
        "channel": "webhook https://teams.example/… #852691f1",  # no path: it may be secret
        "attempts": 1,
        "escalation": False,
    }


def test_an_alert_every_channel_refuses_is_failed_and_escalated_to_the_teams_fallback(
    notification: NotificationService, webhooks: Webhooks
) -> None:
    east = order_allocated(team="mosovo-east")
    consume(notification, notification.when_order_allocated_alert_team, east)

    dispatch(notification)  # the team's webhook answers 503, twice: failed, escalated
    dispatch(notification)  # the escalation goes to the fallback

    fallback = "https://teams.example/mosovo-east/duty"
    assert [str(r.url) for r in webhooks.received] == [DOWN, DOWN, fallback]
    [failed] = published(notification, AlertFailedV1)
    [escalated] = published(notification, AlertEscalatedV1)
    [sent] = published(notification, AlertDeliveredV1)
    assert (failed.payload.attempts, failed.payload.reason) == (2, "HTTP 503")
    assert escalated.payload.reason == "delivery failed: HTTP 503"
    assert sent.payload.escalation and sent.payload.channel.endswith(" #a0264879")  # the duty hook


def test_a_channel_that_fails_unforeseen_fails_alone_and_the_teams_later_alerts_go_on(
    notification: NotificationService, webhooks: Webhooks
) -> None:
    """Raised out of the send, the failure had the dispatcher's lane try the same alert again
    for ever: no other channel, no fallback, none of the team's later alerts."""
    teams = copy.deepcopy(TEAMS) | {"version": 2}
    teams["teams"]["mosovo-north"]["channels"].insert(0, {"kind": "webhook", "url": UNUSABLE})
    teams["teams"]["mosovo-east"]["channels"] = [{"kind": "webhook", "url": UNUSABLE}]
    published_teams = team_directory_published(TeamDirectory.model_validate(teams), "new")
    consume(notification, adopting_team_directories(notification), published_teams)
    for reference, team in (("ORD-2026-TIER01", "mosovo-north"),
                            ("ORD-2026-TIER02", "mosovo-north"),
                            ("ORD-2026-TIER03", "mosovo-east")):  # fmt: skip
        allocated = order_allocated(reference, team=team)
        consume(notification, notification.when_order_allocated_alert_team, allocated)

    dispatch(notification)  # north's by its second channel; east's failed, and escalated
    dispatch(notification)  # east's escalation to its fallback

    north = "https://teams.example/mosovo-north/alerts"
    east_duty = "https://teams.example/mosovo-east/duty"
    north_tried, east_tried = [UNUSABLE, UNUSABLE, north], [UNUSABLE, UNUSABLE, east_duty]
    assert [str(r.url) for r in webhooks.received] == [*north_tried, *north_tried, *east_tried]
    reason = "UnicodeError: label empty or too long"
    [failed] = published(notification, AlertFailedV1)
    assert (failed.payload.team, failed.payload.reason) == ("mosovo-east", reason)
    [escalated] = published(notification, AlertEscalatedV1)
    assert escalated.payload.reason == f"delivery failed: {reason}"
    delivered = [(d.payload.channel, d.payload.escalation)
                 for d in published(notification, AlertDeliveredV1)]  # fmt: skip
    north_named, east_named = (f"webhook https://teams.example/… #{fingerprint}"
                               for fingerprint in ("852691f1", "a0264879"))  # fmt: skip
    assert delivered == [(north_named, False)] * 2 + [(east_named, True)]


def test_an_alert_left_unsettled_is_sent_when_handed_on_again_and_only_what_is_due(
    notification: NotificationService, webhooks: Webhooks
) -> None:
    """What the dispatcher hands on when it takes the lead: each alert the inbox shows
    unsettled (its position may be behind the dispatcher's)."""
    east = order_allocated(team="mosovo-east")
    consume(notification, notification.when_order_allocated_alert_team, east)
    [alert_id] = [e.aggregate_id for e in published(notification, AlertRequestedV1)]

    notification.send_unsettled(alert_id)  # the webhook answers 503, twice: failed, escalated
    notification.send_unsettled(alert_id)  # now the escalation is what is due
    notification.send_unsettled(alert_id)  # and then nothing
    dispatch(notification)  # nor for the events the dispatcher reads after its position

    fallback = "https://teams.example/mosovo-east/duty"
    assert [str(r.url) for r in webhooks.received] == [DOWN, DOWN, fallback]
    assert len(published(notification, AlertFailedV1)) == 1
    [sent] = published(notification, AlertDeliveredV1)
    assert sent.payload.escalation
    assert notification.team_of(alert_id) == "mosovo-east"


def test_an_alert_for_a_team_the_directory_no_longer_lists_fails_saying_so_and_sends_nothing(
    notification: NotificationService, webhooks: Webhooks
) -> None:
    consume(notification, notification.when_order_allocated_alert_team, order_allocated())
    merged = {**TEAMS, "teams": {"mosovo-east": TEAMS["teams"]["mosovo-east"]}}
    north_merged = team_directory_published(
        moving(merged, "north", to="mosovo-east"), "the north team merges into the east"
    )
    consume(notification, adopting_team_directories(notification), north_merged)

    dispatch(notification)  # the alert fails, and escalates
    dispatch(notification)  # its escalation fails too

    assert webhooks.received == []
    unlisted = "the team directory no longer lists mosovo-north"
    failures = [
        (f.payload.escalation, f.payload.reason) for f in published(notification, AlertFailedV1)
    ]
    assert failures == [(False, unlisted), (True, unlisted)]
    [escalated] = published(notification, AlertEscalatedV1)
    assert escalated.payload.reason == f"delivery failed: {unlisted}"


def test_an_alert_nobody_acknowledges_in_time_is_escalated_once(
    notification: NotificationService, webhooks: Webhooks, clock: Clock
) -> None:
    consume(notification, notification.when_order_allocated_alert_team, order_allocated())
    dispatch(notification)
    [alert_id] = [e.aggregate_id for e in published(notification, AlertRequestedV1)]

    soon = notification.escalate_if_unacknowledged(alert_id)
    clock.move_on(hours=4, minutes=1)
    escalated = notification.escalate_if_unacknowledged(alert_id)
    dispatch(notification)
    again_later = notification.escalate_if_unacknowledged(alert_id)

    assert (soon, escalated, again_later) == (False, True, False)
    [reason] = [e.payload.reason for e in published(notification, AlertEscalatedV1)]
    assert reason == "not acknowledged within 4:00:00"
    assert str(webhooks.received[-1].url) == "https://teams.example/mosovo-north/duty"
    assert notification.get_alert(alert_id)["escalated_because"] == reason


def test_an_alert_is_acknowledged_once_it_has_reached_the_team_and_only_once(
    notification: NotificationService, webhooks: Webhooks, clock: Clock
) -> None:
    consume(notification, notification.when_order_allocated_alert_team, order_allocated())
    [alert_id] = [e.aggregate_id for e in published(notification, AlertRequestedV1)]

    with pytest.raises(AlertNotYetReceived, match="has not reached the team"):
        notification.acknowledge_alert(alert_id, OFFICER)
    dispatch(notification)
    notification.acknowledge_alert(alert_id, OFFICER)
    with pytest.raises(AlertAlreadyAcknowledged, match="already acknowledged by mosovo:mo-1"):
        notification.acknowledge_alert(alert_id, OFFICER)
    clock.move_on(hours=5)

    assert not notification.escalate_if_unacknowledged(alert_id)
    [acknowledged] = published(notification, AlertAcknowledgedV1)
    assert acknowledged.payload.team == "mosovo-north" and acknowledged.actor == "mosovo:mo-1"
    assert notification.get_alert(alert_id)["acknowledged_by"] == "mosovo:mo-1"
    with pytest.raises(NotFound, match="no alert"):
        notification.get_alert(uuid4())


def test_a_published_team_directory_is_adopted_once_and_alerts_follow_it(
    notification: NotificationService,
) -> None:
    directory = team_directory_published(
        moving(TEAMS, "west", to="mosovo-north"), "west joins the north team"
    )
    adopt = adopting_team_directories(notification)

    assert consume(notification, adopt, directory) == []
    before = unchanged(notification)
    assert consume(notification, adopt, again(directory)) == []
    assert unchanged(notification) == before
    west = breach_recorded(team=None, district="west")
    consume(notification, notification.when_breach_recorded_alert_team, west)

    [requested] = published(notification, AlertRequestedV1)
    assert requested.payload.team == "mosovo-north"
