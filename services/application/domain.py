"""Court applications for SROs and SHPOs, and the orders that result."""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from plumbing.errors import CommandRejected
from plumbing.eventstore import Trace


class Stage(StrEnum):
    DRAFTING = "drafting"
    DECIDED = "decided"


class Outcome(StrEnum):
    GRANTED = "granted"
    INTERIM_GRANTED = "interim granted"
    REFUSED = "refused"
    ADJOURNED = "adjourned"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Subject:
    nominal_id: str
    name: str
    date_of_birth: date


@dataclass(frozen=True)
class Term:
    kind: str
    wording: str
    until: date | None


class ApplicationAlreadyDecided(CommandRejected):
    def __init__(self) -> None:
        super().__init__("the application already has an outcome")


class OrderNotYetAllocated(CommandRejected):
    def __init__(self, reference: str) -> None:
        super().__init__(f"order {reference} has not been allocated yet")


class OrderAlreadyWithTeam(CommandRejected):
    def __init__(self, reference: str, team: str) -> None:
        super().__init__(f"order {reference} is already managed by {team}")


class OrderNotInForce(CommandRejected):
    def __init__(self, reference: str, day: date) -> None:
        super().__init__(f"order {reference} is not in force on {day.isoformat()}")


class OrderNotDueForReview(CommandRejected):
    def __init__(self, reference: str, why: str) -> None:
        super().__init__(f"order {reference} is not due for a renewal review: {why}")


class OrderNotDueToExpire(CommandRejected):
    def __init__(self, reference: str) -> None:
        super().__init__(f"order {reference} is not due to expire")


def months_earlier(day: date, months: int) -> date:
    """The same day `months` months earlier, or the month's last day where it has none."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


class Application(Aggregate):
    class Opened(Aggregate.Created):
        referral_id: UUID
        district: str
        order_type: str
        subject: Subject
        grounds: str
        opened_at: datetime
        trace: Trace

    class OutcomeRecorded(Aggregate.Event):
        outcome: Outcome
        decided_on: date
        trace: Trace

    @staticmethod
    def create_id(referral_id: UUID, **_: object) -> UUID:
        return uuid5(NAMESPACE_URL, f"civil-orders:application/{referral_id}")

    @event(Opened)
    def __init__(
        self,
        referral_id: UUID,
        district: str,
        order_type: str,
        subject: Subject,
        grounds: str,
        opened_at: datetime,
        trace: Trace,
    ) -> None:
        self.referral_id = referral_id
        self.district = district
        self.order_type = order_type
        self.subject = subject
        self.grounds = grounds
        self.opened_at = opened_at
        self.stage = Stage.DRAFTING
        self.outcome: Outcome | None = None

    def record_outcome(self, outcome: Outcome, decided_on: date, trace: Trace) -> None:
        if self.stage is Stage.DECIDED:
            raise ApplicationAlreadyDecided
        self._outcome_recorded(outcome, decided_on, trace)

    @event(OutcomeRecorded)
    def _outcome_recorded(self, outcome: Outcome, decided_on: date, trace: Trace) -> None:
        self.stage = Stage.DECIDED
        self.outcome = Outcome(outcome)  # stored as its text
        self.decided_on = decided_on

    def grant_order(
        self,
        court: str,
        made_on: date,
        ends_on: date | None,
        terms: list[Term],
        trace: Trace,
    ) -> "Order":
        """Record that the court granted the order sought, and create the order."""
        interim = self.order_type.startswith("interim")
        self.record_outcome(Outcome.INTERIM_GRANTED if interim else Outcome.GRANTED, made_on, trace)
        return Order(
            application_id=self.id,
            order_type=self.order_type,
            subject_nominal_id=self.subject.nominal_id,
            district=self.district,
            court=court,
            made_on=made_on,
            ends_on=ends_on,
            terms=terms,
            trace=trace,
        )


class Order(Aggregate):
    """An order a court made; its reference is what every other service uses."""

    class Granted(Aggregate.Created):
        application_id: UUID
        order_type: str
        subject_nominal_id: str
        district: str
        court: str
        made_on: date
        ends_on: date | None
        terms: list[Term]
        trace: Trace

    class Allocated(Aggregate.Event):
        team: str
        trace: Trace

    class Reallocated(Aggregate.Event):
        from_team: str
        team: str
        reason: str
        trace: Trace

    class Varied(Aggregate.Event):
        varied_on: date
        ends_on: date | None
        terms: list[Term]
        trace: Trace

    class RenewalReviewDue(Aggregate.Event):
        ends_on: date
        trace: Trace

    class Expired(Aggregate.Event):
        ended_on: date
        trace: Trace

    @staticmethod
    def create_id(application_id: UUID, **_: object) -> UUID:
        return uuid5(NAMESPACE_URL, f"civil-orders:order/{application_id}")

    @staticmethod
    def reference_for(order_id: UUID, made_on: date) -> str:
        return f"ORD-{made_on.year}-{order_id.hex[:8].upper()}"

    @event(Granted)
    def __init__(
        self,
        application_id: UUID,
        order_type: str,
        subject_nominal_id: str,
        district: str,
        court: str,
        made_on: date,
        ends_on: date | None,
        terms: list[Term],
        trace: Trace,
    ) -> None:
        self.application_id = application_id
        self.reference = self.reference_for(self.id, made_on)
        self.order_type = order_type
        self.subject_nominal_id = subject_nominal_id
        self.district = district
        self.court = court
        self.made_on = made_on
        self.ends_on = ends_on
        self.terms = terms
        self.team: str | None = None
        self.expired = False
        self.renewal_review_for: date | None = None

    def allocate(self, team: str, trace: Trace) -> None:
        self._allocated(team, trace)

    def reallocate(self, team: str, reason: str, trace: Trace) -> None:
        """Move management to another team, for example when the subject moves district."""
        if self.team is None:
            raise OrderNotYetAllocated(self.reference)
        if team == self.team:
            raise OrderAlreadyWithTeam(self.reference, team)
        self._reallocated(self.team, team, reason, trace)

    def vary(self, varied_on: date, ends_on: date | None, terms: list[Term], trace: Trace) -> None:
        """Record the court's variation: the terms and end date as the court now worded them."""
        self._require_in_force(varied_on)
        self._varied(varied_on, ends_on, terms, trace)

    def flag_renewal_review(self, today: date, months_before: int, trace: Trace) -> None:
        """Once for each end date: the order ends within `months_before` months, so it is time
        to consider applying to renew it."""
        if self.ends_on is None or self.expired:
            raise OrderNotDueForReview(self.reference, "it has no end date, or has ended")
        if self.renewal_review_for == self.ends_on:
            raise OrderNotDueForReview(self.reference, "its review has been raised")
        if today < months_earlier(self.ends_on, months_before):
            raise OrderNotDueForReview(self.reference, f"it ends on {self.ends_on}")
        self._renewal_review_due(self.ends_on, trace)

    def expire(self, today: date, trace: Trace) -> None:
        if self.expired or self.ends_on is None or today < self.ends_on:
            raise OrderNotDueToExpire(self.reference)
        self._expired(self.ends_on, trace)

    def _require_in_force(self, day: date) -> None:
        if self.expired or day < self.made_on:
            raise OrderNotInForce(self.reference, day)

    @event(Allocated)
    def _allocated(self, team: str, trace: Trace) -> None:
        self.team = team

    @event(Varied)
    def _varied(
        self, varied_on: date, ends_on: date | None, terms: list[Term], trace: Trace
    ) -> None:
        self.ends_on = ends_on
        self.terms = terms

    @event(RenewalReviewDue)
    def _renewal_review_due(self, ends_on: date, trace: Trace) -> None:
        self.renewal_review_for = ends_on

    @event(Expired)
    def _expired(self, ended_on: date, trace: Trace) -> None:
        self.expired = True

    @event(Reallocated)
    def _reallocated(self, from_team: str, team: str, reason: str, trace: Trace) -> None:
        self.team = team
