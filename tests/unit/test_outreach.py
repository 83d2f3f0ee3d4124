"""Outreach, checked against a hand-computed history: each session's district referrals and
candidates in the months before and after it, the windows cut at the period's edges, and the
month-by-month table beside them; and the session as the web app records it."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from schemas.trace import Trace
from services.readmodels.outreach import Session, outreach
from services.web.domain import AudienceRequired, OutreachSession, OutreachSessionNotYetHeld

START, END = date(2021, 1, 1), date(2021, 12, 31)
TRACE = Trace("caseworker:cw-1", uuid4())


def test_each_session_counts_its_districts_referrals_and_candidates_before_and_after() -> None:
    sessions = [
        Session("north", date(2021, 4, 10), "north BCU response officers"),
        Session("east", date(2021, 2, 1), "east safeguarding hub"),  # cut by the period's start
        Session("north", date(2022, 1, 5), "after the period"),  # not in the paper
    ]
    referrals = [
        ("north", date(2021, 1, 10)),  # the first day before the north session: counted
        ("north", date(2021, 1, 9)),  # a day too early
        ("north", date(2021, 3, 1)),
        ("north", date(2021, 4, 9)),  # the day before
        ("north", date(2021, 4, 10)),  # the day itself counts after
        ("north", date(2021, 5, 20)),
        ("north", date(2021, 6, 2)),
        ("north", date(2021, 7, 9)),  # the last day after
        ("north", date(2021, 7, 10)),  # a day too late
        ("south", date(2021, 5, 1)),  # another district's
        ("east", date(2021, 1, 5)),
        ("east", date(2021, 3, 3)),
    ]
    candidates = [("north", date(2021, 2, 2)), ("north", date(2021, 6, 6)),
                  ("south", date(2021, 6, 6))]  # fmt: skip

    found = outreach(sessions, referrals, candidates, START, END)

    east, north = found.sessions
    # north: 10 January to 9 April (90 days) before; 10 April to 9 July (91 days) after
    assert (north.before.first, north.before.last, north.before.days) == (
        date(2021, 1, 10), date(2021, 4, 9), 90,
    )  # fmt: skip
    assert (north.after.first, north.after.last, north.after.days) == (
        date(2021, 4, 10), date(2021, 7, 9), 91,
    )  # fmt: skip
    assert (north.before.referrals, north.after.referrals) == (3, 4)
    assert (north.before.candidates, north.after.candidates) == (1, 1)
    assert north.after.referrals_a_month == pytest.approx(4 / (91 / (365.25 / 12)))
    # east: before is 1 November to 31 January, of which only January is in the period
    assert (east.before.first, east.before.days, east.before.referrals) == (START, 31, 1)
    assert (east.after.days, east.after.referrals, east.after.candidates) == (89, 1, 0)


def test_a_window_past_the_periods_end_is_cut_there_and_an_empty_one_has_no_rate() -> None:
    late = Session("west", date(2021, 12, 1), "west neighbourhood teams")
    first_day = Session("west", START, "west CID")

    found = outreach([late, first_day], [("west", date(2021, 12, 31))], [], START, END, 1)

    cut_short, at_the_start = found.sessions[1], found.sessions[0]
    assert (cut_short.after.days, cut_short.after.referrals) == (31, 1)
    assert at_the_start.before.days == 0 and at_the_start.before.referrals_a_month is None


def test_the_month_by_month_table_follows_the_districts_that_held_sessions() -> None:
    sessions = [Session("north", date(2021, 4, 10), "response officers"),
                Session("north", date(2021, 4, 20), "CID")]  # fmt: skip
    referrals = [("north", date(2021, 4, 1)), ("north", date(2021, 4, 30)),
                 ("south", date(2021, 4, 2))]  # fmt: skip

    found = outreach(sessions, referrals, [], START, END)

    assert len(found.referrals) == 12 and found.referrals["2021-04"] == {"north": 2}
    assert found.held["2021-04"] == {"north": 2} and found.held["2021-05"] == {"north": 0}
    assert found.months == 3


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


def test_the_paper_says_one_month_or_several_months_either_side() -> None:
    assert outreach([], [], [], START, END, 1).span == "1 month"
    assert outreach([], [], [], START, END).span == "3 months"
