"""The access log: every look at a case's personal data, and the log's own configuration.

Part 3 of the Data Protection Act 2018 (s.62) requires a log of who consulted or disclosed
what, when and why. Each consultation is an event that is never changed; whether the log is
kept is itself configuration recorded as events, with who changed it and why.
"""

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

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
