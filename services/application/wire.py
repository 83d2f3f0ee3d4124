"""Which application-service events other services see, and in what shape."""

from typing import Any

from eventsourcing.domain import DomainEventProtocol

from schemas.application import (
    ApplicationOpened,
    ApplicationOpenedV1,
    ApplicationStage,
    ApplicationStageChanged,
    ApplicationStageChangedV1,
    ComplaintDeadlineApproaching,
    ComplaintDeadlineApproachingV1,
    OrderAllocated,
    OrderAllocatedV1,
    OrderExpired,
    OrderExpiredV1,
    OrderGranted,
    OrderGrantedV1,
    OrderReallocated,
    OrderReallocatedV1,
    OrderRenewalReviewDue,
    OrderRenewalReviewDueV1,
    OrderRenewed,
    OrderRenewedV1,
    OrderVaried,
    OrderVariedV1,
)
from schemas.common import OrderType
from schemas.common import Term as WireTerm
from schemas.envelope import Envelope, Payload
from services.application.domain import Application, Order

STAGE_CHANGES = (
    Application.SubmittedForQualityAssurance,
    Application.QualityAssuranceFailed,
    Application.QualityAssurancePassed,
    Application.ReturnedByLegalServices,
    Application.ApplicationMade,
    Application.HearingListed,
    Application.Adjourned,
    Application.OutcomeRecorded,
)


def _stage_changed(event: DomainEventProtocol, application: Application) -> Payload:
    decided = isinstance(event, Application.OutcomeRecorded)
    return ApplicationStageChanged(
        referral_id=application.referral_id,
        district=application.district,
        stage=ApplicationStage(application.stage),
        outcome=application.outcome if decided else None,
        decided_on=application.decided_on if decided else None,
        reason=_reason(event),
    )


def _reason(event: DomainEventProtocol) -> str | None:
    if isinstance(event, Application.QualityAssuranceFailed):
        return "; ".join(event.missing)
    if isinstance(event, Application.ReturnedByLegalServices):
        return event.comments
    if isinstance(event, Application.Adjourned):
        return f"adjourned to {event.adjourned_to}: {event.reason}"
    if isinstance(event, Application.OutcomeRecorded):
        return event.reason
    return None


def to_wire(event: DomainEventProtocol, aggregate: Any) -> tuple[type[Envelope], Payload] | None:
    """The wire event of a stored event, made from its aggregate as it stood just after it."""
    if isinstance(event, Application.Opened):
        return ApplicationOpenedV1, ApplicationOpened(
            referral_id=event.referral_id,
            subject_nominal_id=event.subject.nominal_id,
            district=event.district,
            order_type=OrderType(event.order_type),
        )
    if isinstance(event, STAGE_CHANGES):
        return ApplicationStageChangedV1, _stage_changed(event, aggregate)
    if isinstance(event, Application.ComplaintDeadlineApproaching):
        application: Application = aggregate
        return ComplaintDeadlineApproachingV1, ComplaintDeadlineApproaching(
            application_id=event.originator_id,
            district=application.district,
            deadline=event.deadline,
            days_left=event.days_left,
        )
    if isinstance(event, Order.Granted):
        order: Order = aggregate
        return OrderGrantedV1, OrderGranted(
            order_reference=order.reference,
            application_id=order.application_id,
            order_type=OrderType(order.order_type),
            interim=order.interim,
            subject_nominal_id=order.subject_nominal_id,
            district=order.district,
            court=order.court,
            made_on=order.made_on,
            starts_on=order.made_on,
            ends_on=order.ends_on,
            terms=[WireTerm(kind=t.kind, wording=t.wording, until=t.until) for t in order.terms],
        )
    if isinstance(event, Order.Allocated):
        order = aggregate
        return OrderAllocatedV1, OrderAllocated(
            order_reference=order.reference,
            team=event.team,
            district=order.district,
        )
    if isinstance(event, Order.Reallocated):
        order = aggregate
        return OrderReallocatedV1, OrderReallocated(
            order_reference=order.reference,
            from_team=event.from_team,
            team=event.team,
            district=order.district,
            reason=event.reason,
        )
    if isinstance(event, Order.Varied):
        order = aggregate
        return OrderVariedV1, OrderVaried(
            order_reference=order.reference,
            team=order.team,
            varied_on=event.varied_on,
            ends_on=event.ends_on,
            terms=[WireTerm(kind=t.kind, wording=t.wording, until=t.until) for t in event.terms],
        )
    if isinstance(event, Order.Renewed):
        order = aggregate
        return OrderRenewedV1, OrderRenewed(
            order_reference=order.reference,
            team=order.team,
            renewed_on=event.renewed_on,
            ends_on=event.ends_on,
        )
    if isinstance(event, Order.RenewalReviewDue):
        order = aggregate
        return OrderRenewalReviewDueV1, OrderRenewalReviewDue(
            order_reference=order.reference, team=order.team, ends_on=event.ends_on
        )
    if isinstance(event, Order.Expired):
        order = aggregate
        return OrderExpiredV1, OrderExpired(
            order_reference=order.reference,
            subject_nominal_id=order.subject_nominal_id,
            team=order.team,
            ended_on=event.ended_on,
            reason=event.reason,
        )
    return None
