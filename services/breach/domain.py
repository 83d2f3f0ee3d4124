"""Breaches, the breach service's own view of orders, and each subject's breach count."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from schemas.personal import ERASED
from schemas.refusals import CommandRejected
from schemas.trace import Trace


class BreachOutcome(StrEnum):
    NO_FURTHER_ACTION = "no further action"
    CHARGED = "charged"
    CONVICTED = "convicted"
    ACQUITTED = "acquitted"


CONCLUSIVE = {BreachOutcome.NO_FURTHER_ACTION, BreachOutcome.CONVICTED, BreachOutcome.ACQUITTED}


@dataclass(frozen=True)
class Term:
    kind: str
    wording: str
    until: date | None


class OrderNotLive(CommandRejected):
    def __init__(self, reference: str, on: date) -> None:
        super().__init__(f"order {reference} was not in force on {on.isoformat()}")


class BreachAlreadyConcluded(CommandRejected):
    def __init__(self, outcome: BreachOutcome) -> None:
        super().__init__(f"the breach already has its outcome: {outcome}")


class SentenceRequiredOnConviction(CommandRejected):
    def __init__(self) -> None:
        super().__init__("a conviction must record the sentence")


class SentenceOnlyOnConviction(CommandRejected):
    def __init__(self, outcome: BreachOutcome) -> None:
        super().__init__(f"a sentence is recorded only on conviction, not on {outcome}")


class ReportReferenceTaken(CommandRejected):
    def __init__(self, district: str, report_reference: str, order_reference: str) -> None:
        super().__init__(
            f"{district}'s report {report_reference} is a breach of order {order_reference} "
            "already: another report needs a reference of its own"
        )


class KnownOrder(Aggregate):
    """What the breach service knows of an order, from the application service's events."""

    class Registered(Aggregate.Created):
        reference: str
        order_id: UUID
        order_type: str
        subject_nominal_id: str
        district: str
        starts_on: date
        ends_on: date | None
        terms: list[Term]
        trace: Trace

    class Allocated(Aggregate.Event):
        team: str
        trace: Trace

    class Varied(Aggregate.Event):
        ends_on: date | None
        terms: list[Term]
        trace: Trace

    class Ended(Aggregate.Event):
        ended_on: date
        trace: Trace

    @staticmethod
    def create_id(reference: str, **_: object) -> UUID:
        return uuid5(NAMESPACE_URL, f"civil-orders:known-order/{reference}")

    @event(Registered)
    def __init__(
        self,
        reference: str,
        order_id: UUID,
        order_type: str,
        subject_nominal_id: str,
        district: str,
        starts_on: date,
        ends_on: date | None,
        terms: list[Term],
        trace: Trace,
    ) -> None:
        self.reference = reference
        self.order_id = order_id
        self.order_type = order_type
        self.subject_nominal_id = subject_nominal_id
        self.district = district
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.terms = terms
        self.team: str | None = None

    def allocate(self, team: str, trace: Trace) -> None:
        if team != self.team:
            self._allocated(team, trace)

    @event(Allocated)
    def _allocated(self, team: str, trace: Trace) -> None:
        self.team = team

    def vary(self, ends_on: date | None, terms: list[Term], trace: Trace) -> None:
        self._varied(ends_on, terms, trace)

    def end(self, ended_on: date, trace: Trace) -> None:
        self._ended(ended_on, trace)

    @event(Varied)
    def _varied(self, ends_on: date | None, terms: list[Term], trace: Trace) -> None:
        self.ends_on = ends_on
        self.terms = terms

    @event(Ended)
    def _ended(self, ended_on: date, trace: Trace) -> None:
        self.ends_on = ended_on

    def in_force_on(self, day: date) -> bool:
        """Over from its end date, as the application service counts it."""
        return self.starts_on <= day and (self.ends_on is None or day < self.ends_on)


class SubjectBreaches(Aggregate):
    """How many breaches one subject has had, across all their orders."""

    class Started(Aggregate.Created):
        subject_nominal_id: str

    class BreachCounted(Aggregate.Event):
        breach_id: UUID

    class Reidentified(Aggregate.Event):
        subject_nominal_id: str

    @staticmethod
    def create_id(subject_nominal_id: str, **_: object) -> UUID:
        return uuid5(NAMESPACE_URL, f"civil-orders:subject-breaches/{subject_nominal_id}")

    @event(Started)
    def __init__(self, subject_nominal_id: str) -> None:
        self.subject_nominal_id = subject_nominal_id
        self.count = 0

    def seen_again(self, subject_nominal_id: str) -> None:
        """A breach of the subject's order is reported. Once their personal data was erased
        (their nominal here reads as erased), this starts afresh under their nominal, sealed
        with a new key; the breaches counted before went with them."""
        if self.subject_nominal_id == ERASED:
            self._reidentified(subject_nominal_id)

    @event(Reidentified)
    def _reidentified(self, subject_nominal_id: str) -> None:
        self.subject_nominal_id = subject_nominal_id
        self.count = 0

    @event(BreachCounted)
    def count_breach(self, breach_id: UUID) -> None:
        self.count += 1


class Breach(Aggregate):
    class Recorded(Aggregate.Created):
        district: str
        report_reference: str
        order_id: UUID
        order_reference: str
        subject_nominal_id: str | None
        team: str | None
        occurred_at: datetime
        location: str
        condition_breached: str
        how_detected: str
        reporting_officer: str
        breach_number: int
        trace: Trace

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["subject_nominal_id"] = None  # recorded before breaches named their subject

    class OutcomeRecorded(Aggregate.Event):
        outcome: BreachOutcome
        sentence: str | None
        at: datetime
        trace: Trace

    @staticmethod
    def create_id(district: str, report_reference: str, **_: object) -> UUID:
        return uuid5(NAMESPACE_URL, f"civil-orders:breach/{district}/{report_reference}")

    @classmethod
    def report(
        cls,
        order: KnownOrder,
        history: SubjectBreaches,
        district: str,
        report_reference: str,
        occurred_at: datetime,
        location: str,
        condition_breached: str,
        how_detected: str,
        reporting_officer: str,
        trace: Trace,
    ) -> "Breach":
        """Record a breach of a live order, counting it against the subject."""
        if not order.in_force_on(occurred_at.date()):
            raise OrderNotLive(order.reference, occurred_at.date())
        breach_number = history.count + 1
        breach = cls(
            district=district,
            report_reference=report_reference,
            order_id=order.order_id,
            order_reference=order.reference,
            subject_nominal_id=order.subject_nominal_id,
            team=order.team,
            occurred_at=occurred_at,
            location=location,
            condition_breached=condition_breached,
            how_detected=how_detected,
            reporting_officer=reporting_officer,
            breach_number=breach_number,
            trace=trace,
        )
        history.count_breach(breach.id)
        return breach

    @event(Recorded)
    def __init__(
        self,
        district: str,
        report_reference: str,
        order_id: UUID,
        order_reference: str,
        subject_nominal_id: str | None,
        team: str | None,
        occurred_at: datetime,
        location: str,
        condition_breached: str,
        how_detected: str,
        reporting_officer: str,
        breach_number: int,
        trace: Trace,
    ) -> None:
        self.district = district
        self.report_reference = report_reference
        self.order_id = order_id
        self.order_reference = order_reference
        self.subject_nominal_id = subject_nominal_id
        self.team = team
        self.occurred_at = occurred_at
        self.location = location
        self.condition_breached = condition_breached
        self.how_detected = how_detected
        self.reporting_officer = reporting_officer
        self.breach_number = breach_number
        self.outcome: BreachOutcome | None = None
        self.sentence: str | None = None

    @property
    def repeat(self) -> bool:
        return self.breach_number > 1

    def check_reported_again(self, order_reference: str, occurred_at: datetime) -> None:
        """A report reference names one breach: the same report again (of the same order, at
        the same moment) is this one; another report under it is refused."""
        if (order_reference, occurred_at) != (self.order_reference, self.occurred_at):
            raise ReportReferenceTaken(self.district, self.report_reference, self.order_reference)

    def record_outcome(
        self, outcome: BreachOutcome, sentence: str | None, at: datetime, trace: Trace
    ) -> None:
        """Charged may be followed by a verdict; the others conclude the breach."""
        if self.outcome is not None and (self.outcome in CONCLUSIVE or self.outcome is outcome):
            raise BreachAlreadyConcluded(self.outcome)
        if outcome is BreachOutcome.CONVICTED and not sentence:
            raise SentenceRequiredOnConviction
        if outcome is not BreachOutcome.CONVICTED and sentence:
            raise SentenceOnlyOnConviction(outcome)
        self._outcome_recorded(outcome, sentence, at, trace)

    @event(OutcomeRecorded)
    def _outcome_recorded(
        self, outcome: BreachOutcome, sentence: str | None, at: datetime, trace: Trace
    ) -> None:
        self.outcome = BreachOutcome(outcome)  # stored as its text
        self.sentence = sentence


class PossibleBreachStatus(StrEnum):
    OPEN = "to confirm or dismiss"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class PossibleBreachSettled(CommandRejected):
    def __init__(self, status: PossibleBreachStatus) -> None:
        super().__init__(f"the possible breach is already {status.value}")


class DismissalReasonRequired(CommandRejected):
    def __init__(self) -> None:
        super().__init__("dismissing a possible breach needs the reason")


class PossibleBreach(Aggregate):
    """What the service noticed may be a breach of an order (a notification not made in
    time), for the managing team to confirm, which records the breach, or to dismiss, with
    the reason (a reasonable excuse, say)."""

    class Raised(Aggregate.Created):
        order_reference: str
        subject_nominal_id: str
        team: str | None
        condition: str
        arose_on: date
        trace: Trace

    class Confirmed(Aggregate.Event):
        breach_id: UUID
        trace: Trace

    class Dismissed(Aggregate.Event):
        reason: str
        trace: Trace

    dismissal_reason: str | None = None  # (a snapshot taken before it was kept has none)

    @staticmethod
    def create_id(order_reference: str, condition: str, **_: object) -> UUID:
        return uuid5(NAMESPACE_URL, f"civil-orders:possible-breach/{order_reference}/{condition}")

    @classmethod
    def notification_overdue(
        cls, order: KnownOrder, due_on: date, trace: Trace
    ) -> "PossibleBreach":
        return cls(
            order_reference=order.reference,
            subject_nominal_id=order.subject_nominal_id,
            team=order.team,
            condition=f"failure to notify name and home address by {due_on} (SOA 2003 s.122F)",
            arose_on=due_on + timedelta(days=1),
            trace=trace,
        )

    @classmethod
    def change_notified_late(
        cls, order: KnownOrder, change: str, notified_on: date, trace: Trace
    ) -> "PossibleBreach":
        """A change of name or home address notified after the days allowed for it."""
        return cls(
            order_reference=order.reference,
            subject_nominal_id=order.subject_nominal_id,
            team=order.team,
            condition=f"{change} notified late, on {notified_on} (SOA 2003 s.122F)",
            arose_on=notified_on,
            trace=trace,
        )

    @event(Raised)
    def __init__(
        self,
        order_reference: str,
        subject_nominal_id: str,
        team: str | None,
        condition: str,
        arose_on: date,
        trace: Trace,
    ) -> None:
        self.order_reference = order_reference
        self.subject_nominal_id = subject_nominal_id
        self.team = team
        self.condition = condition
        self.arose_on = arose_on
        self.status = PossibleBreachStatus.OPEN
        self.breach_id: UUID | None = None

    def confirm(self, breach: "Breach", trace: Trace) -> None:
        self._require_open()
        self._confirmed(breach.id, trace)

    def dismiss(self, reason: str, trace: Trace) -> None:
        self._require_open()
        if not reason.strip():
            raise DismissalReasonRequired
        self._dismissed(reason, trace)

    def _require_open(self) -> None:
        if self.status is not PossibleBreachStatus.OPEN:
            raise PossibleBreachSettled(self.status)

    @event(Confirmed)
    def _confirmed(self, breach_id: UUID, trace: Trace) -> None:
        self.status = PossibleBreachStatus.CONFIRMED
        self.breach_id = breach_id

    @event(Dismissed)
    def _dismissed(self, reason: str, trace: Trace) -> None:
        self.status = PossibleBreachStatus.DISMISSED
        self.dismissal_reason = reason
