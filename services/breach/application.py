"""The breach service layer: its view of orders, and breaches recorded against them."""

from datetime import UTC, datetime, time
from typing import Any
from uuid import UUID

from plumbing.eventstore import EventSourcedService
from plumbing.snapshots import every_interval
from schemas.application import (
    NotificationKind,
    OrderAllocatedV1,
    OrderExpiredV1,
    OrderGrantedV1,
    OrderNotificationOverdueV1,
    OrderNotificationRecordedV1,
    OrderReallocatedV1,
    OrderRenewedV1,
    OrderVariedV1,
)
from schemas.district import DistrictBreachReport, DistrictBreachReportV1
from schemas.refusals import NotFound
from schemas.trace import Trace
from services.breach.domain import (
    Breach,
    BreachOutcome,
    KnownOrder,
    PossibleBreach,
    SubjectBreaches,
    Term,
)
from services.breach.personal import PERSONAL
from services.breach.wire import WIRE


class UnknownOrder(NotFound):
    def __init__(self, reference: str) -> None:
        super().__init__(f"no order with reference {reference!r} is known to the breach service")


class BreachService(EventSourcedService):
    name = "breach"
    wire = WIRE
    personal_fields = PERSONAL
    value_types = (Term,)
    snapshotting_intervals = every_interval(SubjectBreaches, KnownOrder)

    def when_order_granted_register_it(self, envelope: OrderGrantedV1) -> None:
        if self.already_processed(envelope.producer, envelope.sequence):
            return
        granted = envelope.payload
        order = KnownOrder(
            reference=granted.order_reference,
            order_id=envelope.aggregate_id,
            order_type=granted.order_type.value,
            subject_nominal_id=granted.subject_nominal_id,
            district=granted.district,
            starts_on=granted.starts_on,
            ends_on=granted.ends_on,
            terms=[Term(t.kind, t.wording, t.until) for t in granted.terms],
            trace=Trace.caused_by(envelope, "service:breach"),
        )
        self.save_processed(order, upstream=envelope.producer, sequence=envelope.sequence)

    def when_order_allocated_note_team(self, envelope: OrderAllocatedV1) -> None:
        if self.already_processed(envelope.producer, envelope.sequence):
            return
        order = self._known_order(envelope.payload.order_reference)
        order.allocate(envelope.payload.team, Trace.caused_by(envelope, "service:breach"))
        self.save_processed(order, upstream=envelope.producer, sequence=envelope.sequence)

    def when_order_reallocated_note_team(self, envelope: OrderReallocatedV1) -> None:
        if self.already_processed(envelope.producer, envelope.sequence):
            return
        order = self._known_order(envelope.payload.order_reference)
        order.allocate(envelope.payload.team, Trace.caused_by(envelope, "service:breach"))
        self.save_processed(order, upstream=envelope.producer, sequence=envelope.sequence)

    def when_order_varied_note_terms(self, envelope: OrderVariedV1) -> None:
        if self.already_processed(envelope.producer, envelope.sequence):
            return
        varied = envelope.payload
        order = self._known_order(varied.order_reference)
        terms = [Term(t.kind, t.wording, t.until) for t in varied.terms]
        order.vary(varied.ends_on, terms, Trace.caused_by(envelope, "service:breach"))
        self.save_processed(order, upstream=envelope.producer, sequence=envelope.sequence)

    def when_order_renewed_note_its_end(self, envelope: OrderRenewedV1) -> None:
        if self.already_processed(envelope.producer, envelope.sequence):
            return
        renewed = envelope.payload
        order = self._known_order(renewed.order_reference)
        order.vary(renewed.ends_on, order.terms, Trace.caused_by(envelope, "service:breach"))
        self.save_processed(order, upstream=envelope.producer, sequence=envelope.sequence)

    def when_order_expired_note_its_end(self, envelope: OrderExpiredV1) -> None:
        if self.already_processed(envelope.producer, envelope.sequence):
            return
        order = self._known_order(envelope.payload.order_reference)
        order.end(envelope.payload.ended_on, Trace.caused_by(envelope, "service:breach"))
        self.save_processed(order, upstream=envelope.producer, sequence=envelope.sequence)

    def when_notification_overdue_raise_possible_breach(
        self, envelope: OrderNotificationOverdueV1
    ) -> None:
        """The order's subject has not notified by the due date: a possible breach, once."""
        if self.already_processed(envelope.producer, envelope.sequence):
            return
        overdue = envelope.payload
        order = self._known_order(overdue.order_reference)
        trace = Trace.caused_by(envelope, "service:breach")
        possible = PossibleBreach.notification_overdue(order, overdue.due_on, trace)
        if possible.id in self.repository:
            return
        self.save_processed(possible, upstream=envelope.producer, sequence=envelope.sequence)

    def when_change_notified_late_raise_possible_breach(
        self, envelope: OrderNotificationRecordedV1
    ) -> None:
        """A change of name or home address the subject notified late: a possible breach,
        once. (A first notification not made in time is raised when it falls overdue.)"""
        made = envelope.payload
        if not made.late or made.kind is NotificationKind.INITIAL:
            return
        if self.already_processed(envelope.producer, envelope.sequence):
            return
        order = self._known_order(made.order_reference)
        trace = Trace.caused_by(envelope, "service:breach")
        possible = PossibleBreach.change_notified_late(
            order, made.kind.value, made.notified_on, trace
        )
        if possible.id in self.repository:
            return
        self.save_processed(possible, upstream=envelope.producer, sequence=envelope.sequence)

    def confirm_possible_breach(self, possible_breach_id: UUID, trace: Trace) -> UUID:
        """The managing team confirms it: the breach is recorded against the order (counted
        against the subject, alerted as any breach is)."""
        possible = self._possible(possible_breach_id)
        order = self._known_order(possible.order_reference)
        history = self._history(order.subject_nominal_id)
        breach = Breach.report(
            order,
            history,
            district=order.district,
            report_reference=f"POSSIBLE-{possible.id}",
            occurred_at=datetime.combine(possible.arose_on, time(), UTC),
            location="not applicable: a notification not made",
            condition_breached=possible.condition,
            how_detected="the notification was not recorded by its due date",
            reporting_officer=trace.actor,
            trace=trace,
        )
        possible.confirm(breach, trace)
        self.save(breach, history, possible)
        return breach.id

    def dismiss_possible_breach(self, possible_breach_id: UUID, reason: str, trace: Trace) -> None:
        possible = self._possible(possible_breach_id)
        possible.dismiss(reason, trace)
        self.save(possible)

    def get_possible_breach(self, possible_breach_id: UUID) -> dict[str, Any]:
        possible = self._possible(possible_breach_id)
        return {
            "id": str(possible.id),
            "order_reference": possible.order_reference,
            "team": self._known_order(possible.order_reference).team,  # managing it now
            "condition": possible.condition,
            "arose_on": possible.arose_on.isoformat(),
            "status": possible.status.value,
            "breach_id": str(possible.breach_id) if possible.breach_id else None,
            "dismissal_reason": possible.dismissal_reason,
        }

    def record_breach(self, report: DistrictBreachReport, trace: Trace) -> UUID:
        """Record a breach report; the same report again returns the same breach (another
        report under its reference is refused)."""
        breach_id = Breach.create_id(report.district, report.report_reference)
        if breach_id in self.repository:
            self._breach(breach_id).check_reported_again(report.order_reference, report.occurred_at)
            return breach_id
        order = self._known_order(report.order_reference)
        history = self._history(order.subject_nominal_id)
        breach = Breach.report(
            order,
            history,
            district=report.district,
            report_reference=report.report_reference,
            occurred_at=report.occurred_at,
            location=report.location,
            condition_breached=report.condition_breached,
            how_detected=report.how_detected,
            reporting_officer=report.reporting_officer,
            trace=trace,
        )
        self.save_new(breach, history)
        return breach_id

    def when_district_breach_reported_record_it(self, envelope: DistrictBreachReportV1) -> UUID:
        return self.record_breach(envelope.payload, Trace.caused_by(envelope))

    def record_breach_outcome(
        self, breach_id: UUID, outcome: BreachOutcome, sentence: str | None, trace: Trace
    ) -> None:
        breach = self._breach(breach_id)
        breach.record_outcome(outcome, sentence, self.now(), trace)
        self.save(breach)

    def get_breach(self, breach_id: UUID) -> dict[str, Any]:
        breach = self._breach(breach_id)
        return {
            "id": str(breach.id),
            "order_reference": breach.order_reference,
            # the team managing the order now decides what became of it (the breach keeps the
            # team it was reported to)
            "team": self._known_order(breach.order_reference).team or breach.team,
            "occurred_at": breach.occurred_at.isoformat(),
            "breach_number": breach.breach_number,
            "repeat": breach.repeat,
            "outcome": breach.outcome.value if breach.outcome else None,
            "sentence": breach.sentence,
        }

    def get_known_order(self, reference: str) -> dict[str, Any]:
        order = self._known_order(reference)
        return {
            "reference": order.reference,
            "team": order.team,
            "starts_on": order.starts_on.isoformat(),
            "ends_on": order.ends_on.isoformat() if order.ends_on else None,
            "terms": [
                {"kind": t.kind, "wording": t.wording, "until": t.until} for t in order.terms
            ],
        }

    def _possible(self, possible_breach_id: UUID) -> PossibleBreach:
        return self.load(possible_breach_id, NotFound(f"no possible breach {possible_breach_id}"))

    def _breach(self, breach_id: UUID) -> Breach:
        return self.load(breach_id, NotFound(f"no breach {breach_id}"))

    def _known_order(self, reference: str) -> KnownOrder:
        return self.load(KnownOrder.create_id(reference), UnknownOrder(reference))

    def _history(self, subject_nominal_id: str) -> SubjectBreaches:
        history = self.load_or_new(
            SubjectBreaches.create_id(subject_nominal_id),
            lambda: SubjectBreaches(subject_nominal_id=subject_nominal_id),
        )
        history.seen_again(subject_nominal_id)
        return history
