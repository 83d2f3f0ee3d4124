"""Which application-service events other services see, and in what shape."""

from typing import Any

from eventsourcing.domain import DomainEventProtocol

from plumbing.outbox import Make, Wire
from schemas.application import (
    ApplicationOpened,
    ApplicationOpenedV1,
    ApplicationStage,
    ApplicationStageChanged,
    ApplicationStageChangedV1,
    ComplaintDeadlineApproaching,
    ComplaintDeadlineApproachingV1,
    NationalRecordChange,
    NationalRecordEscalated,
    NationalRecordEscalatedV1,
    NationalRecordUpdated,
    NationalRecordUpdatedV1,
    NationalRecordUpdateRequested,
    NationalRecordUpdateRequestedV1,
    NotificationKind,
    OrderAllocated,
    OrderAllocatedV1,
    OrderApplicationOpened,
    OrderApplicationOpenedV1,
    OrderApplicationStageChanged,
    OrderApplicationStageChangedV1,
    OrderExpired,
    OrderExpiredV1,
    OrderGranted,
    OrderGrantedV1,
    OrderNotificationOverdue,
    OrderNotificationOverdueV1,
    OrderNotificationRecorded,
    OrderNotificationRecordedV1,
    OrderNotificationRequired,
    OrderNotificationRequiredV1,
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
from services.application.domain import (
    Application,
    CourtApplication,
    Order,
    OrderApplication,
    Term,
)

# The events that move any application to a court from one stage to the next
STAGE_CHANGES = (
    "SubmittedForQualityAssurance",
    "QualityAssuranceFailed",
    "QualityAssurancePassed",
    "ReturnedByLegalServices",
    "ApplicationMade",
    "HearingListed",
    "Adjourned",
    "OutcomeRecorded",
)


def _stage_changes(kind: type[CourtApplication], make: Make) -> dict[type, Make]:
    return {getattr(kind, name): make for name in STAGE_CHANGES}


def _reason(event: DomainEventProtocol) -> str | None:
    if isinstance(event, CourtApplication.QualityAssuranceFailed):
        return "; ".join(event.missing)
    if isinstance(event, CourtApplication.ReturnedByLegalServices):
        return event.comments
    if isinstance(event, CourtApplication.Adjourned):
        return f"adjourned to {event.adjourned_to}: {event.reason}"
    if isinstance(event, CourtApplication.OutcomeRecorded):
        return event.reason
    return None


def opened(event: Application.Opened, application: Application) -> Wire:
    return ApplicationOpenedV1, ApplicationOpened(
        referral_id=event.referral_id,
        subject_nominal_id=event.subject.nominal_id,
        district=event.district,
        order_type=OrderType(event.order_type),
    )


def _moved(event: DomainEventProtocol, application: CourtApplication) -> dict[str, Any]:
    """Where an application stands after one of its stage changes, and why it moved."""
    decided = isinstance(event, CourtApplication.OutcomeRecorded)
    return {
        "stage": ApplicationStage(application.stage),
        "outcome": application.outcome if decided else None,
        "decided_on": application.decided_on if decided else None,
        "reason": _reason(event),
    }


def stage_changed(event: DomainEventProtocol, application: Application) -> Wire:
    return ApplicationStageChangedV1, ApplicationStageChanged(
        referral_id=application.referral_id,
        district=application.district,
        **_moved(event, application),
    )


def order_application_opened(event: OrderApplication.Opened, application: OrderApplication) -> Wire:
    return OrderApplicationOpenedV1, OrderApplicationOpened(
        application_id=event.originator_id,
        order_reference=event.order_reference,
        kind=application.kind,
        applicant=application.applicant,
        district=event.district,
        team=event.team,
        received_on=event.received_on,
    )


def order_application_stage_changed(
    event: DomainEventProtocol, application: OrderApplication
) -> Wire:
    return OrderApplicationStageChangedV1, OrderApplicationStageChanged(
        application_id=application.id,
        order_reference=application.order_reference,
        kind=application.kind,
        **_moved(event, application),
    )


def deadline_approaching(
    event: Application.ComplaintDeadlineApproaching, application: Application
) -> Wire:
    return ComplaintDeadlineApproachingV1, ComplaintDeadlineApproaching(
        application_id=event.originator_id,
        district=application.district,
        deadline=event.deadline,
        days_left=event.days_left,
    )


def _terms(terms: list[Term]) -> list[WireTerm]:
    return [WireTerm(kind=t.kind, wording=t.wording, until=t.until) for t in terms]


def granted(event: Order.Granted, order: Order) -> Wire:
    return OrderGrantedV1, OrderGranted(
        order_reference=order.reference,
        application_id=order.application_id,
        case_number=order.case_number,
        order_type=OrderType(order.order_type),
        interim=order.interim,
        subject_nominal_id=order.subject_nominal_id,
        district=order.district,
        court=order.court,
        made_on=order.made_on,
        starts_on=order.made_on,
        ends_on=order.ends_on,
        terms=_terms(order.terms),
    )


def allocated(event: Order.Allocated, order: Order) -> Wire:
    return OrderAllocatedV1, OrderAllocated(
        order_reference=order.reference, team=event.team, district=order.district
    )


def reallocated(event: Order.Reallocated, order: Order) -> Wire:
    return OrderReallocatedV1, OrderReallocated(
        order_reference=order.reference,
        from_team=event.from_team,
        team=event.team,
        district=order.district,
        reason=event.reason,
    )


def varied(event: Order.Varied, order: Order) -> Wire:
    return OrderVariedV1, OrderVaried(
        order_reference=order.reference,
        team=order.team,
        varied_on=event.varied_on,
        ends_on=event.ends_on,
        terms=_terms(event.terms),
    )


def renewed(event: Order.Renewed, order: Order) -> Wire:
    return OrderRenewedV1, OrderRenewed(
        order_reference=order.reference,
        team=order.team,
        renewed_on=event.renewed_on,
        ends_on=event.ends_on,
    )


def review_due(event: Order.RenewalReviewDue, order: Order) -> Wire:
    return OrderRenewalReviewDueV1, OrderRenewalReviewDue(
        order_reference=order.reference, team=order.team, ends_on=event.ends_on
    )


def expired(event: Order.Expired, order: Order) -> Wire:
    return OrderExpiredV1, OrderExpired(
        order_reference=order.reference,
        subject_nominal_id=order.subject_nominal_id,
        team=order.team,
        ended_on=event.ended_on,
        reason=event.reason,
    )


def notification_required(event: Order.NotificationRequired, order: Order) -> Wire:
    return OrderNotificationRequiredV1, OrderNotificationRequired(
        order_reference=order.reference,
        team=order.team,
        requirement=event.basis,
        within_days=event.within_days,
        due_on=event.due_on,
    )


def notification_recorded(event: Order.NotificationRecorded, order: Order) -> Wire:
    made = event.notification
    return OrderNotificationRecordedV1, OrderNotificationRecorded(
        order_reference=order.reference,
        team=order.team,
        kind=NotificationKind(made.kind),
        notified_on=made.notified_on,
        how_received=made.how_received,
        late=made.late,
    )


def notification_overdue(event: Order.NotificationOverdue, order: Order) -> Wire:
    return OrderNotificationOverdueV1, OrderNotificationOverdue(
        order_reference=order.reference, team=order.team, due_on=event.due_on
    )


def national_record_required(event: Order.NationalRecordUpdateRequired, order: Order) -> Wire:
    task = event.task
    return NationalRecordUpdateRequestedV1, NationalRecordUpdateRequested(
        task_id=task.task_id,
        order_reference=order.reference,
        order_type=OrderType(order.order_type),
        subject_nominal_id=order.subject_nominal_id,
        team=order.team,
        change=NationalRecordChange(task.change),
        detail=task.detail,
        effective_on=task.effective_on,
        ends_on=order.ends_on,
        due_by=task.due_at,
        outstanding=len(order.national_record_outstanding),
    )


def national_record_updated(event: Order.NationalRecordUpdated, order: Order) -> Wire:
    return NationalRecordUpdatedV1, NationalRecordUpdated(
        task_id=event.task_id,
        order_reference=order.reference,
        national_reference=event.national_reference,
        outstanding=len(order.national_record_outstanding),
    )


def national_record_escalated(event: Order.NationalRecordEscalated, order: Order) -> Wire:
    [task] = [t for t in order.national_record if t.task_id == event.task_id]
    return NationalRecordEscalatedV1, NationalRecordEscalated(
        task_id=task.task_id,
        order_reference=order.reference,
        change=NationalRecordChange(task.change),
        due_by=task.due_at,
    )


# The wire event of each kind of stored event others see, made from the event and its
# aggregate as it stood just after it
WIRE: dict[type, Make] = {
    Application.Opened: opened,
    **_stage_changes(Application, stage_changed),
    OrderApplication.Opened: order_application_opened,
    **_stage_changes(OrderApplication, order_application_stage_changed),
    Application.ComplaintDeadlineApproaching: deadline_approaching,
    Order.Granted: granted,
    Order.Allocated: allocated,
    Order.Reallocated: reallocated,
    Order.Varied: varied,
    Order.Renewed: renewed,
    Order.RenewalReviewDue: review_due,
    Order.Expired: expired,
    Order.NotificationRequired: notification_required,
    Order.NotificationRecorded: notification_recorded,
    Order.NotificationOverdue: notification_overdue,
    Order.NationalRecordUpdateRequired: national_record_required,
    Order.NationalRecordUpdated: national_record_updated,
    Order.NationalRecordEscalated: national_record_escalated,
}
