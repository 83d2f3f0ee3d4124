"""Upstream events as the services that publish them send them, built with the contracts in
`schemas/`: the application service's orders and applications, the referral service's
accepted and corrected referrals, the breach service's breaches, the administrator's
configuration, and the district systems' disposals. Synthetic people only."""

from datetime import date, timedelta
from itertools import count
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import yaml

from plumbing.settings import PACKAGED_CONFIG
from schemas import dates
from schemas.application import (
    ApplicationOpened,
    ApplicationOpenedV1,
    ApplicationStage,
    ApplicationStageChanged,
    ApplicationStageChangedV1,
    OrderAllocated,
    OrderAllocatedV1,
    OrderExpired,
    OrderExpiredV1,
    OrderGranted,
    OrderGrantedV1,
    OrderNotificationOverdue,
    OrderNotificationOverdueV1,
    OrderReallocated,
    OrderReallocatedV1,
    OrderRenewalReviewDue,
    OrderRenewalReviewDueV1,
    OrderRenewed,
    OrderRenewedV1,
    OrderVaried,
    OrderVariedV1,
)
from schemas.breach import BreachRecorded, BreachRecordedV1
from schemas.common import OrderSought, OrderType, ReferredSubject, Subject, Term
from schemas.configuration import (
    ScreeningRules,
    ScreeningRulesPublished,
    ScreeningRulesPublishedV1,
    TeamDirectory,
    TeamDirectoryPublished,
    TeamDirectoryPublishedV1,
)
from schemas.district import DistrictDisposal, DistrictDisposalV1, VictimAgeBand
from schemas.envelope import Envelope, Payload
from schemas.referral import (
    ReferralAccepted,
    ReferralAcceptedV1,
    ReferralSubjectRectified,
    ReferralSubjectRectifiedV1,
)

E = TypeVar("E", bound=Envelope)
_positions = count(1)  # each upstream event at its own position in its producer's log
NO_CONTACT = Term(kind="prohibition", wording="Not to have unsupervised contact with any child.")


def person(number: int = 1) -> ReferredSubject:
    return ReferredSubject(
        nominal_id=f"SYN-TIER-{number:04d}",
        name=f"Hollis Grisedale {number}",
        date_of_birth=date(1979, 3, number % 28 + 1),
    )


def sent(
    kind: type[E],
    payload: Payload,
    producer: str,
    aggregate_id: UUID,
    version: int = 1,
    actor: str = "caseworker:cw-1",
) -> E:
    """`payload` in its envelope, at the next position of the producer's log."""
    return kind(  # type: ignore[call-arg]  # the subclass fixes type and version
        event_id=uuid4(),
        occurred_at=dates.now(),
        producer=producer,
        aggregate_id=aggregate_id,
        aggregate_version=version,
        sequence=next(_positions),
        correlation_id=uuid4(),
        actor=actor,
        payload=payload,
    )


def again(event: E) -> E:
    """The same event at the same position, delivered a second time."""
    return event.model_copy()


# The application service's -----------------------------------------------------------------


def order_id(reference: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"tier:order/{reference}")


def order_granted(
    reference: str = "ORD-2026-TIER01",
    nominal: str = "SYN-TIER-0001",
    district: str = "north",
    ends_on: date | None = None,
    starts_on: date | None = None,
) -> OrderGrantedV1:
    """An SRO made `starts_on` (today), ending `ends_on` (five years on)."""
    made_on = starts_on or dates.today()
    granted = OrderGranted(
        order_reference=reference,
        application_id=uuid4(),
        order_type=OrderType.SRO,
        interim=False,
        subject_nominal_id=nominal,
        district=district,
        court="Northtown Magistrates' Court",
        made_on=made_on,
        starts_on=made_on,
        ends_on=ends_on if ends_on is not None else made_on + timedelta(days=5 * 365),
        terms=[NO_CONTACT],
    )
    return sent(OrderGrantedV1, granted, "application", order_id(reference))


def order_allocated(reference: str = "ORD-2026-TIER01", team: str = "mosovo-north",
                    district: str = "north") -> OrderAllocatedV1:  # fmt: skip
    allocated = OrderAllocated(order_reference=reference, team=team, district=district)
    return sent(OrderAllocatedV1, allocated, "application", order_id(reference), version=2)


def order_reallocated(
    reference: str = "ORD-2026-TIER01", to: str = "mosovo-east", from_team: str = "mosovo-north"
) -> OrderReallocatedV1:
    moved = OrderReallocated(
        order_reference=reference,
        from_team=from_team,
        team=to,
        district="north",
        reason="the subject moved to the east district",
    )
    return sent(OrderReallocatedV1, moved, "application", order_id(reference), version=3)


def order_varied(
    reference: str = "ORD-2026-TIER01",
    terms: list[Term] | None = None,
    ends_on: date | None = None,
    team: str | None = "mosovo-north",
) -> OrderVariedV1:
    varied = OrderVaried(
        order_reference=reference,
        team=team,
        varied_on=dates.today(),
        ends_on=ends_on,
        terms=terms or [NO_CONTACT],
    )
    return sent(OrderVariedV1, varied, "application", order_id(reference), version=4)


def order_renewed(reference: str = "ORD-2026-TIER01", ends_on: date | None = None,
                  team: str | None = "mosovo-north") -> OrderRenewedV1:  # fmt: skip
    renewed = OrderRenewed(
        order_reference=reference, team=team, renewed_on=dates.today(), ends_on=ends_on
    )
    return sent(OrderRenewedV1, renewed, "application", order_id(reference), version=5)


def renewal_review_due(reference: str = "ORD-2026-TIER01", team: str | None = "mosovo-north",
                       ends_on: date | None = None) -> OrderRenewalReviewDueV1:  # fmt: skip
    due = OrderRenewalReviewDue(
        order_reference=reference,
        team=team,
        ends_on=ends_on or dates.today() + timedelta(days=80),
    )
    return sent(OrderRenewalReviewDueV1, due, "application", order_id(reference), version=5)


def order_expired(
    reference: str = "ORD-2026-TIER01",
    nominal: str = "SYN-TIER-0001",
    team: str | None = "mosovo-north",
    ended_on: date | None = None,
) -> OrderExpiredV1:
    expired = OrderExpired(
        order_reference=reference,
        subject_nominal_id=nominal,
        reason="it reached its end date",
        team=team,
        ended_on=ended_on or dates.today(),
    )
    return sent(OrderExpiredV1, expired, "application", order_id(reference), version=6)


def notification_overdue(reference: str = "ORD-2026-TIER01", team: str | None = "mosovo-north",
                         due_on: date | None = None) -> OrderNotificationOverdueV1:  # fmt: skip
    overdue = OrderNotificationOverdue(
        order_reference=reference,
        team=team,
        due_on=due_on or dates.today() - timedelta(days=1),
    )
    return sent(OrderNotificationOverdueV1, overdue, "application", order_id(reference), 3)


def application_opened(referral_id: UUID, application_id: UUID,
                       nominal: str = "SYN-TIER-0001") -> ApplicationOpenedV1:  # fmt: skip
    opened = ApplicationOpened(
        referral_id=referral_id,
        subject_nominal_id=nominal,
        district="north",
        order_type=OrderType.SRO,
    )
    return sent(ApplicationOpenedV1, opened, "application", application_id)


def application_moved(
    referral_id: UUID,
    application_id: UUID,
    stage: ApplicationStage,
    outcome: str | None = None,
) -> ApplicationStageChangedV1:
    decided = stage is ApplicationStage.DECIDED
    moved = ApplicationStageChanged(
        referral_id=referral_id,
        district="north",
        stage=stage,
        outcome=outcome,
        decided_on=dates.today() if decided else None,
        reason="the court was not satisfied it was necessary" if outcome == "refused" else None,
    )
    return sent(ApplicationStageChangedV1, moved, "application", application_id, version=5)


# The referral service's ---------------------------------------------------------------------


def referral_accepted(
    subject: ReferredSubject | None = None,
    district: str = "north",
    order_sought: OrderSought = OrderSought.SRO,
    referral_id: UUID | None = None,
) -> ReferralAcceptedV1:
    subject = subject or person()
    referral_id = referral_id or uuid4()
    accepted = ReferralAccepted(
        referral_id=referral_id,
        district=district,
        subject=Subject(**subject.model_dump()),
        order_sought=order_sought,
        grounds="Synthetic grounds: approaches to children near a school.",
        crime_references=["CR/101/26"],
        accepted_by="caseworker:cw-1",
    )
    return sent(ReferralAcceptedV1, accepted, "referral", referral_id, version=3)


def subject_rectified(referral_id: UUID, subject: ReferredSubject) -> ReferralSubjectRectifiedV1:
    rectified = ReferralSubjectRectified(
        referral_id=referral_id,
        district="north",
        subject=Subject(**subject.model_dump()),
        reason="the date of birth was mistyped",
    )
    return sent(ReferralSubjectRectifiedV1, rectified, "referral", referral_id, version=6)


# The breach service's -----------------------------------------------------------------------


def breach_recorded(
    reference: str = "ORD-2026-TIER01",
    team: str | None = "mosovo-north",
    district: str = "north",
    number: int = 1,
) -> BreachRecordedV1:
    recorded = BreachRecorded(
        order_id=order_id(reference),
        order_reference=reference,
        team=team,
        district=district,
        report_reference=f"NOR-BR-TIER-{uuid4().hex[:6]}",
        occurred_at=dates.now() - timedelta(hours=3),
        condition_breached=NO_CONTACT.wording,
        breach_number=number,
        repeat=number > 1,
    )
    return sent(BreachRecordedV1, recorded, "breach", uuid4())


# The administrator's (the web app's) --------------------------------------------------------


def packaged(name: str) -> dict[str, Any]:
    """A configuration file as shipped (`config/`)."""
    loaded: dict[str, Any] = yaml.safe_load((PACKAGED_CONFIG / name).read_text())
    return loaded


def moving(directory: dict[str, Any], district: str, to: str) -> TeamDirectory:
    """The next version of a team directory, with `district`'s orders managed by team `to`."""
    teams = {
        name: {**team, "districts": [d for d in team["districts"] if d != district]}
        for name, team in directory["teams"].items()
    }
    teams[to]["districts"].append(district)
    return TeamDirectory.model_validate({"version": directory["version"] + 1, "teams": teams})


def team_directory_published(directory: TeamDirectory, reason: str) -> TeamDirectoryPublishedV1:
    published = TeamDirectoryPublished(directory=directory, reason=reason)
    return sent(TeamDirectoryPublishedV1, published, "web", uuid4(), actor="administrator:adm-1")


def screening_rules_published(rules: ScreeningRules, reason: str) -> ScreeningRulesPublishedV1:
    published = ScreeningRulesPublished(rules=rules, reason=reason)
    return sent(ScreeningRulesPublishedV1, published, "web", uuid4(), actor="administrator:adm-1")


# The district systems' ---------------------------------------------------------------------


def disposal(
    suspect: str | None = "SYN-TIER-0001",
    crime: str = "CR/TIER/000001",
    outcome_code: str = "15",
    category: str = "sexual offence",
    victim: VictimAgeBand = VictimAgeBand.UNDER_13,
    disposed_on: date | None = None,
    flags: tuple[str, ...] = (),
) -> DistrictDisposalV1:
    """A non-positive disposal from the north district's system (no position: districts
    number nothing)."""
    closed = DistrictDisposal(
        district="north",
        crime_reference=crime,
        outcome_code=outcome_code,
        offence=f"synthetic {category}",
        offence_category=category,
        sexual_offence=True,
        suspect_nominal_id=suspect,
        victim_age_band=victim,
        intelligence_flags=list(flags),
        disposed_on=disposed_on or dates.today() - timedelta(days=30),
    )
    return DistrictDisposalV1(
        event_id=uuid4(),
        occurred_at=dates.now(),
        producer="district:north",
        aggregate_id=uuid5(NAMESPACE_URL, "civil-orders:district/north"),
        aggregate_version=1,
        correlation_id=uuid4(),
        actor="district-system:north",
        payload=closed,
    )
