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

    def allocate(self, team: str, trace: Trace) -> None:
        self._allocated(team, trace)

    def reallocate(self, team: str, reason: str, trace: Trace) -> None:
        """Move management to another team, for example when the subject moves district."""
        if self.team is None:
            raise OrderNotYetAllocated(self.reference)
        if team == self.team:
            raise OrderAlreadyWithTeam(self.reference, team)
        self._reallocated(self.team, team, reason, trace)

    @event(Allocated)
    def _allocated(self, team: str, trace: Trace) -> None:
        self.team = team

    @event(Reallocated)
    def _reallocated(self, from_team: str, team: str, reason: str, trace: Trace) -> None:
        self.team = team
