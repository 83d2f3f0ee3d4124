"""The breach service layer: its view of orders, and breaches recorded against them."""

from typing import Any
from uuid import UUID

from plumbing.errors import NotFound
from plumbing.eventstore import EventSourcedService, Trace
from schemas.application import OrderAllocatedV1, OrderGrantedV1
from schemas.district import DistrictBreachReport, DistrictBreachReportV1
from services.breach.domain import Breach, KnownOrder, SubjectBreaches


class UnknownOrder(NotFound):
    def __init__(self, reference: str) -> None:
        super().__init__(f"no order with reference {reference!r} is known to the breach service")


class BreachService(EventSourcedService):
    name = "breach"

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
            trace=Trace.caused_by(envelope, "service:breach"),
        )
        self.save_processed(order, upstream=envelope.producer, sequence=envelope.sequence)

    def when_order_allocated_note_team(self, envelope: OrderAllocatedV1) -> None:
        if self.already_processed(envelope.producer, envelope.sequence):
            return
        order = self._known_order(envelope.payload.order_reference)
        order.allocate(envelope.payload.team, Trace.caused_by(envelope, "service:breach"))
        self.save_processed(order, upstream=envelope.producer, sequence=envelope.sequence)

    def record_breach(self, report: DistrictBreachReport, trace: Trace) -> UUID:
        """Record a breach report; the same report reference again returns the same breach."""
        breach_id = Breach.create_id(report.district, report.report_reference)
        if breach_id in self.repository:
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

    def get_breach(self, breach_id: UUID) -> dict[str, Any]:
        breach: Breach = self.load(breach_id, NotFound(f"no breach {breach_id}"))
        return {
            "id": str(breach.id),
            "order_reference": breach.order_reference,
            "team": breach.team,
            "occurred_at": breach.occurred_at.isoformat(),
            "breach_number": breach.breach_number,
            "repeat": breach.repeat,
        }

    def get_known_order(self, reference: str) -> dict[str, Any]:
        order = self._known_order(reference)
        return {
            "reference": order.reference,
            "team": order.team,
            "starts_on": order.starts_on.isoformat(),
            "ends_on": order.ends_on.isoformat() if order.ends_on else None,
        }

    def _known_order(self, reference: str) -> KnownOrder:
        return self.load(KnownOrder.create_id(reference), UnknownOrder(reference))

    def _history(self, subject_nominal_id: str) -> SubjectBreaches:
        history_id = SubjectBreaches.create_id(subject_nominal_id)
        if history_id in self.repository:
            return self.repository.get(history_id)
        return SubjectBreaches(subject_nominal_id=subject_nominal_id)
