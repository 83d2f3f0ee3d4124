"""Referrals: a district's request that a caseworker consider a civil order."""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from plumbing.errors import CommandRejected
from plumbing.eventstore import Trace


class Status(StrEnum):
    RECEIVED = "received"
    UNDER_REVIEW = "under review"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class DeclineReason(StrEnum):
    NO_SEXUAL_RISK_IDENTIFIED = "no sexual risk identified"
    INSUFFICIENT_EVIDENCE = "insufficient evidence"
    EXISTING_ORDER_SUFFICIENT = "existing order sufficient"
    OTHER_MEASURES_MORE_APPROPRIATE = "other measures more appropriate"
    OUT_OF_FORCE_AREA = "out of force area"


@dataclass(frozen=True)
class Subject:
    nominal_id: str
    name: str
    date_of_birth: date


class ReferralNotAwaitingTriage(CommandRejected):
    def __init__(self, status: Status) -> None:
        super().__init__(f"the referral is {status}, so it cannot be triaged again")


class Referral(Aggregate):
    class Received(Aggregate.Created):
        district: str
        district_reference: str
        source: str
        referring_officer: str
        subject: Subject
        order_sought: str
        grounds: str
        crime_references: list[str]
        previous_convictions: list[str]
        received_at: datetime
        trace: Trace

    class ReviewStarted(Aggregate.Event):
        at: datetime
        trace: Trace

    class Accepted(Aggregate.Event):
        at: datetime
        trace: Trace

    class Declined(Aggregate.Event):
        reason: DeclineReason
        detail: str
        at: datetime
        trace: Trace

    @staticmethod
    def create_id(district: str, district_reference: str, **_: object) -> UUID:
        return uuid5(NAMESPACE_URL, f"civil-orders:referral/{district}/{district_reference}")

    @event(Received)
    def __init__(
        self,
        district: str,
        district_reference: str,
        source: str,
        referring_officer: str,
        subject: Subject,
        order_sought: str,
        grounds: str,
        crime_references: list[str],
        previous_convictions: list[str],
        received_at: datetime,
        trace: Trace,
    ) -> None:
        self.district = district
        self.district_reference = district_reference
        self.source = source
        self.referring_officer = referring_officer
        self.subject = subject
        self.order_sought = order_sought
        self.grounds = grounds
        self.crime_references = crime_references
        self.previous_convictions = previous_convictions
        self.received_at = received_at
        self.status = Status.RECEIVED
        self.history: list[tuple[Status, str, datetime]] = [
            (Status.RECEIVED, trace.actor, received_at)
        ]

    def start_review(self, at: datetime, trace: Trace) -> None:
        self._require(Status.RECEIVED)
        self._review_started(at, trace)

    def accept(self, at: datetime, trace: Trace) -> None:
        self._require(Status.RECEIVED, Status.UNDER_REVIEW)
        self._accepted(at, trace)

    def decline(self, reason: DeclineReason, detail: str, at: datetime, trace: Trace) -> None:
        self._require(Status.RECEIVED, Status.UNDER_REVIEW)
        self._declined(reason, detail, at, trace)

    def _require(self, *allowed: Status) -> None:
        if self.status not in allowed:
            raise ReferralNotAwaitingTriage(self.status)

    @event(ReviewStarted)
    def _review_started(self, at: datetime, trace: Trace) -> None:
        self._move(Status.UNDER_REVIEW, trace.actor, at)

    @event(Accepted)
    def _accepted(self, at: datetime, trace: Trace) -> None:
        self._move(Status.ACCEPTED, trace.actor, at)

    @event(Declined)
    def _declined(self, reason: DeclineReason, detail: str, at: datetime, trace: Trace) -> None:
        self.decline_reason = (DeclineReason(reason), detail)  # stored as its text
        self._move(Status.DECLINED, trace.actor, at)

    def _move(self, status: Status, actor: str, at: datetime) -> None:
        self.status = status
        self.history.append((status, actor, at))
