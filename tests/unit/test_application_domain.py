from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from plumbing.eventstore import Trace
from services.application.domain import (
    Application,
    ApplicationAlreadyDecided,
    Order,
    OrderAlreadyWithTeam,
    Outcome,
    Subject,
    Term,
)

LEGAL = Trace("legal-services:ls-1", uuid4())
NO_CONTACT = Term("prohibition", "Not to have unsupervised contact with any child under 16.", None)


def opened(order_type: str = "SRO") -> Application:
    return Application(
        referral_id=uuid4(),
        district="north",
        order_type=order_type,
        subject=Subject("SYN1", "Arlo Dunmere", date(1981, 5, 4)),
        grounds="synthetic grounds",
        opened_at=datetime(2026, 3, 1, tzinfo=UTC),
        trace=Trace("service:application", uuid4()),
    )


def test_a_granted_application_creates_an_order_with_a_reference() -> None:
    application = opened()

    order = application.grant_order("Northtown MC", date(2026, 6, 1), None, [NO_CONTACT], LEGAL)

    [_, outcome] = application.collect_events()
    [granted] = order.collect_events()
    assert isinstance(outcome, Application.OutcomeRecorded)
    assert isinstance(granted, Order.Granted)
    assert application.outcome is Outcome.GRANTED
    assert order.reference.startswith("ORD-2026-")
    assert order.id == Order.create_id(application.id)
    assert order.subject_nominal_id == "SYN1"


def test_an_interim_application_is_granted_as_interim() -> None:
    application = opened("interim SRO")
    application.grant_order("Northtown MC", date(2026, 6, 1), None, [NO_CONTACT], LEGAL)

    assert application.outcome is Outcome.INTERIM_GRANTED


def test_an_application_is_decided_only_once() -> None:
    application = opened()
    application.grant_order("Northtown MC", date(2026, 6, 1), None, [NO_CONTACT], LEGAL)

    with pytest.raises(ApplicationAlreadyDecided):
        application.grant_order("Northtown MC", date(2026, 6, 2), None, [NO_CONTACT], LEGAL)


def test_an_allocated_order_names_its_team() -> None:
    order = opened().grant_order("Northtown MC", date(2026, 6, 1), None, [NO_CONTACT], LEGAL)
    order.allocate("mosovo-north", LEGAL)

    [_, allocated] = order.collect_events()
    assert isinstance(allocated, Order.Allocated)
    assert order.team == "mosovo-north"


def test_an_order_moves_to_another_team_with_the_reason_and_the_team_it_left() -> None:
    order = opened().grant_order("Northtown MC", date(2026, 6, 1), None, [NO_CONTACT], LEGAL)
    order.allocate("mosovo-north", LEGAL)

    order.reallocate("mosovo-east", "subject moved to the east district", LEGAL)

    [_, _, moved] = order.collect_events()
    assert isinstance(moved, Order.Reallocated)
    assert (moved.from_team, moved.team) == ("mosovo-north", "mosovo-east")
    assert order.team == "mosovo-east"


def test_an_order_is_not_reallocated_to_the_team_that_has_it() -> None:
    order = opened().grant_order("Northtown MC", date(2026, 6, 1), None, [NO_CONTACT], LEGAL)
    order.allocate("mosovo-north", LEGAL)

    with pytest.raises(OrderAlreadyWithTeam):
        order.reallocate("mosovo-north", "no change", LEGAL)
