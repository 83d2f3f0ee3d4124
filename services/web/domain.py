"""The web app's own records: the access log, and the outreach sessions held for districts.

Part 3 of the Data Protection Act 2018 (s.62) requires a log of who consulted or disclosed
what, when and why. Each consultation is an event that is never changed; whether the log is
kept is itself configuration recorded as events, with who changed it and why.

Outreach sessions ("roadshows") are where caseworkers tell a district's staff what a civil
order can do and how to refer; the evaluation sets each beside the district's referrals.
"""

from datetime import date, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from schemas.dates import SKEW
from schemas.refusals import CommandRejected
from schemas.trace import Trace


class ReasonRequired(CommandRejected):
    def __init__(self) -> None:
        super().__init__("a change to the access log's configuration needs a reason")


def _given(reason: str) -> str:
    if not reason.strip():
        raise ReasonRequired
    return reason


class AccessRecorded(Aggregate):
    """One consultation or disclosure of a case's personal data."""

    class Recorded(Aggregate.Created):
        username: str
        role: str
        case: str
        what: str
        purpose: str
        exported: bool
        at: datetime
        trace: Trace

    @event(Recorded)
    def __init__(
        self,
        username: str,
        role: str,
        case: str,
        what: str,
        purpose: str,
        exported: bool,
        at: datetime,
        trace: Trace,
    ) -> None:
        self.username = username
        self.role = role
        self.case = case
        self.what = what
        self.purpose = purpose
        self.exported = exported
        self.at = at


class AccessLogPolicy(Aggregate):
    """Whether consultations are logged: on unless changed, and every change recorded."""

    class Configured(Aggregate.Created):
        logging: bool
        reason: str
        at: datetime
        trace: Trace

    class Changed(Aggregate.Event):
        logging: bool
        reason: str
        at: datetime
        trace: Trace

    @staticmethod
    def create_id(**_: object) -> UUID:
        return uuid5(NAMESPACE_URL, "civil-orders:access-log-policy")

    @classmethod
    def configure(cls, logging: bool, reason: str, at: datetime, trace: Trace) -> "AccessLogPolicy":
        return cls(logging=logging, reason=_given(reason), at=at, trace=trace)

    @event(Configured)
    def __init__(self, logging: bool, reason: str, at: datetime, trace: Trace) -> None:
        self.logging = logging

    def change(self, logging: bool, reason: str, at: datetime, trace: Trace) -> None:
        self._changed(logging, _given(reason), at, trace)

    @event(Changed)
    def _changed(self, logging: bool, reason: str, at: datetime, trace: Trace) -> None:
        self.logging = logging


class OutreachSessionNotYetHeld(CommandRejected):
    def __init__(self, held_on: date, today: date) -> None:
        super().__init__(f"an outreach session is recorded once held: {held_on} is after {today}")


class AudienceRequired(CommandRejected):
    def __init__(self) -> None:
        super().__init__("an outreach session needs its district and who attended")


class OutreachSession(Aggregate):
    """An outreach session ("roadshow") held for a district's or BCU's staff. The same
    district, day and audience are one session, however often it is recorded."""

    class Recorded(Aggregate.Created):
        district: str
        held_on: date
        audience: str
        notes: str
        at: datetime
        trace: Trace

    @staticmethod
    def create_id(district: str, held_on: date, audience: str, **_: object) -> UUID:
        key = f"{district}/{held_on.isoformat()}/{' '.join(audience.lower().split())}"
        return uuid5(NAMESPACE_URL, f"civil-orders:outreach-session/{key}")

    @classmethod
    def record(
        cls, district: str, held_on: date, audience: str, notes: str, at: datetime, trace: Trace
    ) -> "OutreachSession":
        if held_on > (at + SKEW).date():  # a day's grace for time zones, as for every date
            raise OutreachSessionNotYetHeld(held_on, at.date())
        if not district.strip() or not audience.strip():
            raise AudienceRequired
        return cls(district=district.strip(), held_on=held_on, audience=audience.strip(),
                   notes=notes.strip(), at=at, trace=trace)  # fmt: skip

    @event(Recorded)
    def __init__(
        self, district: str, held_on: date, audience: str, notes: str, at: datetime, trace: Trace
    ) -> None:
        self.district = district
        self.held_on = held_on
        self.audience = audience
        self.notes = notes
