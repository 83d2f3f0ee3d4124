"""Every topic, declared once: its versioned name, events, partitions and retention."""

import operator
from dataclasses import dataclass, field
from functools import cached_property, reduce
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from schemas.application import (
    ApplicationOpenedV1,
    ApplicationStageChangedV1,
    ComplaintDeadlineApproachingV1,
    NationalRecordEscalatedV1,
    NationalRecordUpdatedV1,
    NationalRecordUpdateRequestedV1,
    OrderAllocatedV1,
    OrderApplicationOpenedV1,
    OrderApplicationStageChangedV1,
    OrderExpiredV1,
    OrderGrantedV1,
    OrderNotificationOverdueV1,
    OrderNotificationRecordedV1,
    OrderNotificationRequiredV1,
    OrderReallocatedV1,
    OrderRenewalReviewDueV1,
    OrderRenewedV1,
    OrderVariedV1,
)
from schemas.breach import BreachOutcomeRecordedV1, BreachRecordedV1
from schemas.configuration import ScreeningRulesPublishedV1, TeamDirectoryPublishedV1
from schemas.district import DistrictBreachReportV1, DistrictDisposalV1, DistrictReferralV1
from schemas.envelope import Envelope
from schemas.notification import (
    AlertAcknowledgedV1,
    AlertDeliveredV1,
    AlertEscalatedV1,
    AlertFailedV1,
    AlertRequestedV1,
)
from schemas.outreach import OutreachSessionRecordedV1
from schemas.personal import OPEN, Opener
from schemas.referral import (
    DisposalScreenedV1,
    ProactiveCandidateIdentifiedV1,
    ReferralAcceptedV1,
    ReferralReceivedV1,
    ReferralStatusChangedV1,
    ReferralSubjectRectifiedV1,
    ScreeningCoverageV1,
)

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class Topic:
    """A topic and its events. A service publishes each event from its log, at its position
    there; district systems publish theirs (`from_districts`) from logs not ours: their
    messages name no position (see `plumbing.arrivals`)."""

    name: str
    description: str
    events: tuple[type[Envelope], ...]
    partitions: int = 3
    retention_ms: int = 30 * DAY_MS
    config: dict[str, str] = field(default_factory=dict)
    from_districts: bool = False

    @cached_property
    def _adapter(self) -> TypeAdapter[Any]:
        if len(self.events) == 1:
            return TypeAdapter(self.events[0])
        union = reduce(operator.or_, self.events)
        tagged: Any = Annotated[union, Field(discriminator="event_type")]
        return TypeAdapter(tagged)

    def parse(self, raw: bytes, opener: Opener | None = None) -> Envelope:
        """Validate raw message bytes as one of this topic's events; with an `opener`, its
        personal fields are opened (see `schemas.personal`), else kept sealed."""
        event: Envelope = self._adapter.validate_json(
            raw, context={OPEN: opener} if opener else None
        )
        return event

    def validate(self, data: object) -> Envelope:
        """Validate decoded JSON as one of this topic's events."""
        event: Envelope = self._adapter.validate_python(data)
        return event


TOPICS: tuple[Topic, ...] = (
    Topic(
        "district.referrals.v1",
        "Referrals from district systems about people who may pose a risk of sexual harm.",
        (DistrictReferralV1,),
        from_districts=True,
    ),
    Topic(
        "district.disposals.v1",
        "Crimes closed with a non-positive outcome, from district crime systems, for screening.",
        (DistrictDisposalV1,),
        from_districts=True,
    ),
    Topic(
        "district.breaches.v1",
        "Breach reports from district systems against civil orders.",
        (DistrictBreachReportV1,),
        from_districts=True,
    ),
    Topic(
        "referral.referrals.v1",
        "Referrals and proactive-scan candidates, from the referral service.",
        (
            ReferralReceivedV1,
            ReferralStatusChangedV1,
            ReferralAcceptedV1,
            ProactiveCandidateIdentifiedV1,
            ReferralSubjectRectifiedV1,
        ),
    ),
    Topic(
        "referral.disposals.v1",
        "Non-positive disposals naming someone an order was made against, as screening took "
        "them (whom, when, the outcome code), and how far back screening reaches, from the "
        "referral service: the evaluation's disposals, rebuildable from its history where "
        "the district topic is not.",
        (DisposalScreenedV1, ScreeningCoverageV1),
    ),
    Topic(
        "application.applications.v1",
        "Court application lifecycle events from the application service: applications for "
        "orders, and applications to vary, renew or discharge them.",
        (
            ApplicationOpenedV1,
            ApplicationStageChangedV1,
            ComplaintDeadlineApproachingV1,
            OrderApplicationOpenedV1,
            OrderApplicationStageChangedV1,
        ),
    ),
    Topic(
        "application.orders.v1",
        "Orders granted, allocated, varied, due for review and expired, and their subjects' "
        "duties to notify: the application service.",
        (
            OrderGrantedV1,
            OrderAllocatedV1,
            OrderReallocatedV1,
            OrderVariedV1,
            OrderRenewedV1,
            OrderRenewalReviewDueV1,
            OrderExpiredV1,
            OrderNotificationRequiredV1,
            OrderNotificationRecordedV1,
            OrderNotificationOverdueV1,
        ),
    ),
    Topic(
        "application.national-record.v1",
        "Updates to the national record (PNC and ViSOR) each change to an order needs, their "
        "acknowledgements and escalations: the application service.",
        (NationalRecordUpdateRequestedV1, NationalRecordUpdatedV1, NationalRecordEscalatedV1),
    ),
    Topic(
        "breach.breaches.v1",
        "Breaches recorded against live orders, from the breach service.",
        (BreachRecordedV1, BreachOutcomeRecordedV1),
    ),
    Topic(
        "web.configuration.v1",
        "Configuration the administrator published: the team directory, the screening rules.",
        (TeamDirectoryPublishedV1, ScreeningRulesPublishedV1),
        partitions=1,
        retention_ms=-1,
    ),
    Topic(
        "web.outreach.v1",
        "Outreach sessions (roadshows) held for districts' staff, as caseworkers recorded them.",
        (OutreachSessionRecordedV1,),
        partitions=1,
        retention_ms=-1,
    ),
    Topic(
        "notification.alerts.v1",
        "Alerts to MOSOVO teams: requested, delivered, failed, escalated, acknowledged.",
        (
            AlertRequestedV1,
            AlertDeliveredV1,
            AlertFailedV1,
            AlertEscalatedV1,
            AlertAcknowledgedV1,
        ),
    ),
)

DEAD_LETTER_TOPIC = "deadletter.v1"


def topic(name: str) -> Topic:
    for candidate in TOPICS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no topic named {name!r}; known: {', '.join(t.name for t in TOPICS)}")


def topic_of(event: type[Envelope]) -> Topic:
    for candidate in TOPICS:
        if event in candidate.events:
            return candidate
    raise KeyError(f"{event.__name__} is on no topic")
