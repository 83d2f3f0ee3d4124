"""Outreach: the session as the web app records it."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from schemas.trace import Trace
from services.web.domain import AudienceRequired, OutreachSession, OutreachSessionNotYetHeld

TRACE = Trace("caseworker:cw-1", uuid4())


def test_an_outreach_session_is_recorded_with_its_district_day_and_audience() -> None:
    session = OutreachSession.record(
        " north ", date(2021, 4, 10), "north BCU response officers", "", datetime(2021, 4, 12,
        tzinfo=UTC), TRACE,
    )  # fmt: skip

    [recorded] = session.collect_events()
    assert isinstance(recorded, OutreachSession.Recorded)
    assert (recorded.district, recorded.held_on) == ("north", date(2021, 4, 10))
    again = OutreachSession.record("north", date(2021, 4, 10), "North BCU  response officers",
                                   "notes", datetime(2021, 5, 1, tzinfo=UTC), TRACE)  # fmt: skip
    assert again.id == session.id  # the same session, however it is typed


def test_a_session_not_yet_held_or_without_an_audience_is_refused() -> None:
    at = datetime(2021, 4, 12, 9, tzinfo=UTC)

    with pytest.raises(OutreachSessionNotYetHeld):
        OutreachSession.record("north", date(2021, 4, 14), "CID", "", at, TRACE)
    with pytest.raises(AudienceRequired):
        OutreachSession.record("north", date(2021, 4, 10), "  ", "", at, TRACE)
