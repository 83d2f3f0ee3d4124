"""Referrals: a district's request that a caseworker consider a civil order."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import IntEnum, StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Any, cast
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from schemas.personal import ERASED
from schemas.refusals import CommandRejected
from schemas.trace import Trace


@lru_cache(maxsize=16_384)
def named(key: str) -> UUID:
    """The id a business key names. Remembered: each is a SHA-1, and screening asks for a
    suspect's several times a disposal."""
    return uuid5(NAMESPACE_URL, key)


class Status(StrEnum):
    RECEIVED = "received"
    UNDER_REVIEW = "under review"
    RETURNED = "returned for information"
    ACCEPTED = "accepted"
    DECLINED = "declined"


AWAITING_TRIAGE = (Status.RECEIVED, Status.UNDER_REVIEW)


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


class NothingToRectify(CommandRejected):
    def __init__(self) -> None:
        super().__init__("the name and date of birth given are those already recorded")


class ReferralNotAwaitingTriage(CommandRejected):
    def __init__(self, status: Status) -> None:
        super().__init__(f"the referral is {status}, so it cannot be triaged now")


class ReferralNotReturned(CommandRejected):
    def __init__(self, status: Status) -> None:
        super().__init__(f"the referral is {status}, not returned for information")


class ReferralNotAccepted(CommandRejected):
    def __init__(self, status: Status) -> None:
        super().__init__(f"the referral is {status}: only accepted referrals have a caseworker")


class AlreadyAssigned(CommandRejected):
    def __init__(self, caseworker: str) -> None:
        super().__init__(f"the referral is already assigned to {caseworker}")


class ReferralDatedAfterReceipt(CommandRejected):
    def __init__(self, referred_on: date, received_on: date) -> None:
        super().__init__(f"a referral made on {referred_on} cannot be received on {received_on}")


def referral_date(referred_on: date | None, received_at: datetime) -> date:
    """The day a referral was made: as its maker dates it (never after it arrived), or the
    day it arrived."""
    if referred_on is None:
        return received_at.date()
    if referred_on > received_at.date():
        raise ReferralDatedAfterReceipt(referred_on, received_at.date())
    return referred_on


class TriageNotOverdue(CommandRejected):
    def __init__(self, why: str) -> None:
        super().__init__(f"triage is not overdue: {why}")


def working_days_between(start: date, end: date) -> int:
    """Monday-to-Friday days after `start` up to and including `end`."""
    days, day = 0, start
    while day < end:
        day = date.fromordinal(day.toordinal() + 1)
        days += day.weekday() < 5
    return days


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
        referred_on: date
        received_at: datetime
        trace: Trace

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["referred_on"] = state["received_at"].date()

    class ReviewStarted(Aggregate.Event):
        at: datetime
        trace: Trace

    class Accepted(Aggregate.Event):
        at: datetime
        trace: Trace

    class ReturnedForInformation(Aggregate.Event):
        questions: list[str]
        at: datetime
        trace: Trace

    class Resubmitted(Aggregate.Event):
        answers: str
        at: datetime
        trace: Trace

    class Assigned(Aggregate.Event):
        caseworker: str
        how: str
        at: datetime
        trace: Trace

    class Reassigned(Aggregate.Event):
        from_caseworker: str
        caseworker: str
        reason: str
        at: datetime
        trace: Trace

    class TriageOverdue(Aggregate.Event):
        working_days: int
        at: datetime
        trace: Trace

    class LinkedToExisting(Aggregate.Event):
        links: list[str]

    class Declined(Aggregate.Event):
        reason: DeclineReason
        detail: str
        at: datetime
        trace: Trace

    class SubjectRectified(Aggregate.Event):
        subject: Subject
        reason: str
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
        referred_on: date,
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
        self.referred_on = referred_on
        self.received_at = received_at
        self.status = Status.RECEIVED
        self.waiting_since = received_at
        self.overdue_flagged_since: datetime | None = None
        self.caseworker: str | None = None
        self.questions: list[str] = []
        self.links: list[str] = []
        self.history: list[tuple[Status, str, datetime]] = [
            (Status.RECEIVED, trace.actor, received_at)
        ]

    def start_review(self, at: datetime, trace: Trace) -> None:
        self._require(Status.RECEIVED)
        self._review_started(at, trace)

    def return_for_information(self, questions: list[str], at: datetime, trace: Trace) -> None:
        """Send the referral back to the referrer with the caseworker's questions."""
        self._require(*AWAITING_TRIAGE)
        self._returned(questions, at, trace)

    def resubmit(self, answers: str, at: datetime, trace: Trace) -> None:
        """The referrer answers the questions; the referral waits for triage again."""
        if self.status is not Status.RETURNED:
            raise ReferralNotReturned(self.status)
        self._resubmitted(answers, at, trace)

    def accept(self, at: datetime, trace: Trace) -> None:
        self._require(*AWAITING_TRIAGE)
        self._accepted(at, trace)

    def decline(self, reason: DeclineReason, detail: str, at: datetime, trace: Trace) -> None:
        self._require(*AWAITING_TRIAGE)
        self._declined(reason, detail, at, trace)

    def assign(self, caseworker: str, how: str, at: datetime, trace: Trace) -> None:
        if self.status is not Status.ACCEPTED:
            raise ReferralNotAccepted(self.status)
        if self.caseworker is not None:
            raise AlreadyAssigned(self.caseworker)
        self._assigned(caseworker, how, at, trace)

    def reassign(self, caseworker: str, reason: str, at: datetime, trace: Trace) -> None:
        if self.caseworker is None:
            raise ReferralNotAccepted(self.status)
        if caseworker == self.caseworker:
            raise AlreadyAssigned(caseworker)
        self._reassigned(self.caseworker, caseworker, reason, at, trace)

    def flag_overdue(self, service_level_days: int, now: datetime, trace: Trace) -> None:
        """Once for each wait: the referral has waited for triage longer than the service
        level allows, in working days."""
        if self.status not in AWAITING_TRIAGE:
            raise TriageNotOverdue(f"the referral is {self.status}")
        if self.overdue_flagged_since == self.waiting_since:
            raise TriageNotOverdue("already flagged")
        waited = working_days_between(self.waiting_since.date(), now.date())
        if waited <= service_level_days:
            raise TriageNotOverdue(f"waited {waited} of {service_level_days} working days")
        self._triage_overdue(waited, now, trace)

    def link_to_existing(self, links: list[str]) -> None:
        """Flag that the subject already has open casework or a live order."""
        if links:
            self._linked(links)

    @event(LinkedToExisting)
    def _linked(self, links: list[str]) -> None:
        self.links = links

    def rectify_subject(self, name: str | None, date_of_birth: date | None, reason: str,
                        at: datetime, trace: Trace) -> None:  # fmt: skip
        """The person was recorded wrongly (DPA 2018 s.46): the corrected name or date of birth
        supersedes what was recorded from now on; the history keeps both, and why."""
        corrected = replace(
            self.subject,
            name=name or self.subject.name,
            date_of_birth=date_of_birth or self.subject.date_of_birth,
        )
        if corrected == self.subject:
            raise NothingToRectify
        self._subject_rectified(corrected, reason, at, trace)

    @event(SubjectRectified)
    def _subject_rectified(self, subject: Subject, reason: str, at: datetime, trace: Trace) -> None:
        self.subject = subject

    def time_in_each_state(self, now: datetime) -> dict[str, float]:
        """Hours spent in each state so far, the current one up to `now`."""
        hours: dict[str, float] = {}
        ends = [at for _, _, at in self.history[1:]] + [now]
        for (state, _, started), ended in zip(self.history, ends, strict=True):
            hours[state.value] = (
                hours.get(state.value, 0.0) + (ended - started).total_seconds() / 3600
            )
        return hours

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

    @event(ReturnedForInformation)
    def _returned(self, questions: list[str], at: datetime, trace: Trace) -> None:
        self.questions = questions
        self._move(Status.RETURNED, trace.actor, at)

    @event(Resubmitted)
    def _resubmitted(self, answers: str, at: datetime, trace: Trace) -> None:
        self.answers = answers
        self.waiting_since = at
        self._move(Status.RECEIVED, trace.actor, at)

    @event(Assigned)
    def _assigned(self, caseworker: str, how: str, at: datetime, trace: Trace) -> None:
        self.caseworker = caseworker

    @event(Reassigned)
    def _reassigned(
        self, from_caseworker: str, caseworker: str, reason: str, at: datetime, trace: Trace
    ) -> None:
        self.caseworker = caseworker

    @event(TriageOverdue)
    def _triage_overdue(self, working_days: int, at: datetime, trace: Trace) -> None:
        self.overdue_flagged_since = self.waiting_since

    def _move(self, status: Status, actor: str, at: datetime) -> None:
        self.status = status
        self.history.append((status, actor, at))


class DismissalReason(StrEnum):
    RISK_ALREADY_MANAGED = "risk already managed"
    INSUFFICIENT_GROUNDS = "insufficient grounds"
    NOT_SEXUAL_IN_NATURE = "not sexual in nature"
    SUSPECT_ELIMINATED = "suspect eliminated"
    OTHER = "other"


class CandidateAlreadyDecided(CommandRejected):
    def __init__(self, status: str) -> None:
        super().__init__(f"the candidate has already been {status}")


class SuspectDisposals(Aggregate):
    """A suspect's non-positive disposals, each once: for the repeat-suspect rule, and, once
    an order is made against them, for the evaluation's count of their disposals around it."""

    class Started(Aggregate.Created):
        suspect_nominal_id: str
        # the first disposal noted, as it starts (one started before these were kept has
        # none here: its first was a `DisposalNoted` of its own)
        crime_reference: str | None = None
        disposed_on: date | None = None
        outcome_code: str | None = None

    class DisposalNoted(Aggregate.Event):
        crime_reference: str
        disposed_on: date
        # None in events noted before the outcome was kept (each then went on the wire as
        # it was screened, if at all): none is published again
        outcome_code: str | None = None

    class Reidentified(Aggregate.Event):
        suspect_nominal_id: str

    # crime reference -> outcome code, of the disposals noted with theirs (copied on write:
    # a snapshot taken before the outcomes were kept has none, and reads this default)
    outcomes = cast(Mapping[str, str], MappingProxyType({}))

    @staticmethod
    def create_id(suspect_nominal_id: str, **_: object) -> UUID:
        return named(f"civil-orders:suspect-disposals/{suspect_nominal_id}")

    @event(Started)
    def __init__(
        self,
        suspect_nominal_id: str,
        crime_reference: str | None = None,
        disposed_on: date | None = None,
        outcome_code: str | None = None,
    ) -> None:
        self.suspect_nominal_id = suspect_nominal_id
        self.disposals: dict[str, date] = {}
        if crime_reference is not None and disposed_on is not None:
            self._note(crime_reference, disposed_on, outcome_code)

    def has_seen(self, crime_reference: str) -> bool:
        return crime_reference in self.disposals

    def earlier_dates(self) -> list[date]:
        return list(self.disposals.values())

    def note(self, crime_reference: str, disposed_on: date, outcome_code: str) -> None:
        if not self.has_seen(crime_reference):
            self._noted(crime_reference, disposed_on, outcome_code)

    def seen_again(self, suspect_nominal_id: str) -> None:
        """The suspect is named in a disposal again. Once their personal data was erased
        (their nominal here reads as erased), this starts afresh under their nominal, sealed
        with a new key; the disposals noted before went with them."""
        if self.suspect_nominal_id == ERASED:
            self._reidentified(suspect_nominal_id)

    def screened(self, trace: Trace, *only: str) -> list["ScreenedDisposal"]:
        """The disposals noted with their outcome (or `only` those of these crimes), to
        publish: all of them when an order is first made against the suspect, and each one
        screened after that as it is."""
        return [
            ScreenedDisposal(
                id=uuid4(),
                suspect_nominal_id=self.suspect_nominal_id,
                outcome_code=code,
                disposed_on=self.disposals[reference],
                trace=trace,
            )
            for reference, code in self.outcomes.items()
            if not only or reference in only
        ]

    @event(Reidentified)
    def _reidentified(self, suspect_nominal_id: str) -> None:
        self.suspect_nominal_id = suspect_nominal_id
        self.disposals = {}
        self.outcomes = {}

    @event(DisposalNoted)
    def _noted(
        self, crime_reference: str, disposed_on: date, outcome_code: str | None = None
    ) -> None:
        self._note(crime_reference, disposed_on, outcome_code)

    def _note(self, crime_reference: str, disposed_on: date, outcome_code: str | None) -> None:
        self.disposals[crime_reference] = disposed_on
        if outcome_code is not None:
            self.outcomes = {**self.outcomes, crime_reference: outcome_code}


class ScreenedDisposal(Aggregate):
    """A non-positive disposal screening took (whatever it scored) naming someone an order
    has been made against, published for the evaluation: whom it named, when and how the
    crime was closed. Its id is given, drawn at random: one derived from the suspect's
    nominal would name them on the wire."""

    class Screened(Aggregate.Created):
        suspect_nominal_id: str
        outcome_code: str
        disposed_on: date
        trace: Trace

    @event(Screened)
    def __init__(
        self, id: UUID, suspect_nominal_id: str, outcome_code: str, disposed_on: date, trace: Trace
    ) -> None:
        self.suspect_nominal_id = suspect_nominal_id
        self.outcome_code = outcome_code
        self.disposed_on = disposed_on


class ScreeningCoverage(Aggregate):
    """How far back the disposals screened reach: the day the earliest of them was closed.
    Only the disposals of people under an order are published; this says from when each
    person's record of them is whole (a window before an order that reaches further back
    holds none there)."""

    class Began(Aggregate.Created):
        earliest: date
        trace: Trace

    class ReachedBack(Aggregate.Event):
        earliest: date
        trace: Trace

    @staticmethod
    def create_id(**_: object) -> UUID:
        return named("civil-orders:screening-coverage")

    @event(Began)
    def __init__(self, earliest: date, trace: Trace) -> None:
        self.earliest = earliest

    def include(self, disposed_on: date, trace: Trace) -> None:
        if disposed_on < self.earliest:
            self._reached_back(disposed_on, trace)

    @event(ReachedBack)
    def _reached_back(self, earliest: date, trace: Trace) -> None:
        self.earliest = earliest


class Candidate(Aggregate):
    """A suspect the screening rules flagged, for a caseworker to promote or dismiss."""

    class Identified(Aggregate.Created):
        district: str
        crime_reference: str
        suspect_nominal_id: str
        offence: str
        outcome_code: str
        score: int
        rules_fired: list[str]
        rules_version: str
        trace: Trace

    class Promoted(Aggregate.Event):
        referral_id: UUID
        trace: Trace

    class Dismissed(Aggregate.Event):
        reason: DismissalReason
        detail: str
        trace: Trace

    class LinkedToExisting(Aggregate.Event):
        links: list[str]

    @staticmethod
    def create_id(
        district: str, crime_reference: str, suspect_nominal_id: str, **_: object
    ) -> UUID:
        """One candidate for each suspect a crime names (a crime may name more than one)."""
        crime = f"{district}/{crime_reference}"
        return uuid5(NAMESPACE_URL, f"civil-orders:candidate/{crime}/{suspect_nominal_id}")

    @event(Identified)
    def __init__(
        self,
        district: str,
        crime_reference: str,
        suspect_nominal_id: str,
        offence: str,
        outcome_code: str,
        score: int,
        rules_fired: list[str],
        rules_version: str,
        trace: Trace,
    ) -> None:
        self.district = district
        self.crime_reference = crime_reference
        self.suspect_nominal_id = suspect_nominal_id
        self.offence = offence
        self.outcome_code = outcome_code
        self.score = score
        self.rules_fired = rules_fired
        self.rules_version = rules_version
        self.status = "identified"
        self.referral_id: UUID | None = None
        self.links: list[str] = []

    def link_to_existing(self, links: list[str]) -> None:
        """Flag that the suspect already has open casework or a live order."""
        if links:
            self._linked(links)

    @event(LinkedToExisting)
    def _linked(self, links: list[str]) -> None:
        self.links = links

    def promote(self, referral_id: UUID, trace: Trace) -> None:
        self._require_undecided()
        self._promoted(referral_id, trace)

    def dismiss(self, reason: DismissalReason, detail: str, trace: Trace) -> None:
        self._require_undecided()
        self._dismissed(reason, detail, trace)

    def _require_undecided(self) -> None:
        if self.status != "identified":
            raise CandidateAlreadyDecided(self.status)

    @event(Promoted)
    def _promoted(self, referral_id: UUID, trace: Trace) -> None:
        self.status = "promoted"
        self.referral_id = referral_id

    @event(Dismissed)
    def _dismissed(self, reason: DismissalReason, detail: str, trace: Trace) -> None:
        self.status = "dismissed"
        self.dismissal = (DismissalReason(reason), detail)  # stored as its text


class SubjectHasOrderInForce(CommandRejected):
    def __init__(self, orders: list[str]) -> None:
        super().__init__(
            f"the person is subject to an order in force ({', '.join(orders)}): their "
            "personal data cannot be erased while it is"
        )


class SubjectHasOpenCasework(CommandRejected):
    def __init__(self, links: list[str]) -> None:
        super().__init__(
            f"the person has open casework ({', '.join(links)}): close it before their "
            "personal data is erased"
        )


class SubjectAlreadyErased(CommandRejected):
    def __init__(self) -> None:
        super().__init__("the person's personal data has already been erased")


class ReviewGroup(IntEnum):
    """MoPI review groups, as the nature of a person's casework places them."""

    PUBLIC_PROTECTION = 1  # managed for sexual risk: an order was made against them
    SEXUAL_RISK = 2  # other sexual risk casework: an application was opened about them
    OTHER = 3  # anything else: referrals declined or not yet taken on, suspects screened


class ReviewNotDue(CommandRejected):
    def __init__(self, due_on: date | None) -> None:
        when = f"it falls due on {due_on}" if due_on else "none is scheduled"
        super().__init__(f"the person's record is not due for review ({when})")


class NextReviewNotAfterToday(CommandRejected):
    def __init__(self, next_review_on: date, today: date) -> None:
        super().__init__(f"the next review ({next_review_on}) must be after today ({today})")


def years_on(day: date, years: int) -> date:
    """The same day `years` years on (28 February for a 29th in a year without one)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _review_due(
    group: ReviewGroup, years: Mapping[int, int], today: date, retained_until: date | None
) -> date:
    """The group's period on from today, never before a date a reviewer retained it until."""
    return max(years_on(today, years[group]), retained_until or date.min)


class SubjectRecord(Aggregate):
    """What is open for one subject: referrals, applications, live orders. A new referral or
    candidate for the same person is linked to these rather than silently duplicated. The
    record is reviewed (MoPI) by the nature of that casework, and when their personal data is
    disposed of, it says who decided it, when and why."""

    # defaults also for records restored from snapshots taken before these were kept
    disposed_at: datetime | None = None
    ever_applied = False
    ever_ordered = False
    review_group: ReviewGroup | None = None
    review_due_on: date | None = None
    review_is_due = False
    retained_until: date | None = None

    class Started(Aggregate.Created):
        subject_nominal_id: str
        # its first review, scheduled as it starts (a record started before these were kept
        # has none here, and was given its first review by a `ReviewScheduled` of its own)
        review_group: int | None = None
        review_due_on: date | None = None
        # the referral it starts with (one started before this was kept has none here: its
        # first referral was opened by a `ReferralOpened` of its own)
        referral_id: UUID | None = None

    class ReferralOpened(Aggregate.Event):
        referral_id: UUID

    class ReferralClosed(Aggregate.Event):
        referral_id: UUID

    class ApplicationOpened(Aggregate.Event):
        application_id: UUID
        referral_id: UUID

    class OrderLive(Aggregate.Event):
        reference: str
        application_id: UUID | None  # none for an SHPO made on conviction

    class OrderEnded(Aggregate.Event):
        reference: str

    class ApplicationClosed(Aggregate.Event):
        application_id: UUID

    class Disposed(Aggregate.Event):
        reason: str
        at: datetime
        trace: Trace

    class Reopened(Aggregate.Event):
        subject_nominal_id: str

    class ReviewScheduled(Aggregate.Event):
        group: int
        due_on: date

    class ReviewFellDue(Aggregate.Event):
        due_on: date

    class Retained(Aggregate.Event):
        reason: str
        next_review_on: date
        at: datetime
        trace: Trace

    @staticmethod
    def create_id(subject_nominal_id: str, **_: object) -> UUID:
        return named(f"civil-orders:subject-record/{subject_nominal_id}")

    @event(Started)
    def __init__(
        self,
        subject_nominal_id: str,
        review_group: int | None = None,
        review_due_on: date | None = None,
        referral_id: UUID | None = None,
    ) -> None:
        self.subject_nominal_id = subject_nominal_id
        self.referrals: list[UUID] = [] if referral_id is None else [referral_id]
        self.applications: list[UUID] = []
        self.orders: list[str] = []
        if review_group is not None and review_due_on is not None:
            self._schedule(review_group, review_due_on)

    @classmethod
    def start(
        cls,
        subject_nominal_id: str,
        years: Mapping[int, int],
        today: date,
        referral_id: UUID | None = None,
    ) -> "SubjectRecord":
        """A new record, its first review scheduled as it starts (in the one event), as any
        change to the casework of someone with nothing open would schedule it; opened with
        `referral_id`, the referral that brought the person in."""
        group = ReviewGroup.OTHER
        due_on = _review_due(group, years, today, None)
        return cls(subject_nominal_id, group, due_on, referral_id)

    def links(self, besides: UUID | None = None) -> list[str]:
        """The casework open for the person (`besides` a referral of theirs)."""
        return [
            *(f"open referral {r}" for r in self.referrals if r != besides),
            *(f"open application {a}" for a in self.applications),
            *(f"live order {o}" for o in self.orders),
        ]

    def open_referral(self, referral_id: UUID) -> None:
        if referral_id not in self.referrals:
            self._referral_opened(referral_id)

    def close_referral(self, referral_id: UUID) -> None:
        if referral_id in self.referrals:
            self._referral_closed(referral_id)

    def open_application(self, application_id: UUID, referral_id: UUID) -> None:
        if application_id not in self.applications:
            self._application_opened(application_id, referral_id)

    def close_application(self, application_id: UUID) -> None:
        """The application was decided without an order (refused or withdrawn)."""
        if application_id in self.applications:
            self._application_closed(application_id)

    @event(ApplicationClosed)
    def _application_closed(self, application_id: UUID) -> None:
        self.applications.remove(application_id)

    def order_made(self, reference: str, application_id: UUID | None) -> None:
        if reference not in self.orders:
            self._order_live(reference, application_id)

    def order_ended(self, reference: str) -> None:
        if reference in self.orders:
            self._order_ended(reference)

    def dispose(self, reason: str, at: datetime, trace: Trace) -> None:
        """Record the disposal of the person's personal data: never while an order against
        them is in force, nor while a referral or application about them is open."""
        if self.orders:
            raise SubjectHasOrderInForce(self.orders)
        if self.referrals or self.applications:
            raise SubjectHasOpenCasework(self.links())
        if self.disposed_at is not None:
            raise SubjectAlreadyErased
        self._disposed(reason, at, trace)

    @event(Disposed)
    def _disposed(self, reason: str, at: datetime, trace: Trace) -> None:
        self.disposed_at = at
        self.review_is_due = False

    def seen_again(self, subject_nominal_id: str) -> None:
        """The person is referred or flagged again. A record whose personal data was disposed
        of starts afresh under their nominal, sealed with a new key (the old one is gone);
        what was disposed of stays erased, and its review starts from what follows."""
        if self.disposed_at is not None:
            self._reopened(subject_nominal_id)

    @event(Reopened)
    def _reopened(self, subject_nominal_id: str) -> None:
        self.subject_nominal_id = subject_nominal_id
        self.disposed_at = None
        self.ever_applied = self.ever_ordered = False
        self.review_group = self.review_due_on = self.retained_until = None
        self.review_is_due = False

    # MoPI review -------------------------------------------------------------------------

    def group(self) -> ReviewGroup:
        if self.ever_ordered or self.orders:
            return ReviewGroup.PUBLIC_PROTECTION
        if self.ever_applied or self.applications:
            return ReviewGroup.SEXUAL_RISK
        return ReviewGroup.OTHER

    def schedule_review(self, years: Mapping[int, int], today: date) -> None:
        """After any change to the person's casework: their review falls the group's period
        after it, and never before a date a reviewer set when retaining the record."""
        if self.disposed_at is not None:
            return
        group = self.group()
        due_on = _review_due(group, years, today, self.retained_until)
        if (group, due_on) != (self.review_group, self.review_due_on):
            self._review_scheduled(group, due_on)

    def fall_due(self, today: date) -> None:
        """Queue the record for review once its review date has come."""
        due_on = self.review_due_on
        if due_on is None or today < due_on or self.review_is_due or self.disposed_at:
            raise ReviewNotDue(due_on)
        self._review_fell_due(due_on)

    def retain(self, reason: str, next_review_on: date, at: datetime, trace: Trace) -> None:
        """A reviewer keeps the record, saying why, until the next review."""
        if not self.review_is_due:
            raise ReviewNotDue(self.review_due_on)
        if next_review_on <= at.date():
            raise NextReviewNotAfterToday(next_review_on, at.date())
        self._retained(reason, next_review_on, at, trace)

    def dispose_on_review(self, reason: str, at: datetime, trace: Trace) -> None:
        """A reviewer disposes of the person's personal data: only once the review is due,
        and never while an order against them is in force."""
        if not self.review_is_due:
            raise ReviewNotDue(self.review_due_on)
        self.dispose(reason, at, trace)

    @event(ReviewScheduled)
    def _review_scheduled(self, group: int, due_on: date) -> None:
        self._schedule(group, due_on)

    def _schedule(self, group: int, due_on: date) -> None:
        self.review_group = ReviewGroup(group)
        self.review_due_on = due_on
        self.review_is_due = False

    @event(ReviewFellDue)
    def _review_fell_due(self, due_on: date) -> None:
        self.review_is_due = True

    @event(Retained)
    def _retained(self, reason: str, next_review_on: date, at: datetime, trace: Trace) -> None:
        self.retained_until = self.review_due_on = next_review_on
        self.review_is_due = False

    @event(ReferralOpened)
    def _referral_opened(self, referral_id: UUID) -> None:
        self.referrals.append(referral_id)

    @event(ReferralClosed)
    def _referral_closed(self, referral_id: UUID) -> None:
        self.referrals.remove(referral_id)

    @event(ApplicationOpened)
    def _application_opened(self, application_id: UUID, referral_id: UUID) -> None:
        self.applications.append(application_id)
        self.ever_applied = True
        if referral_id in self.referrals:
            self.referrals.remove(referral_id)

    @event(OrderLive)
    def _order_live(self, reference: str, application_id: UUID | None) -> None:
        self.orders.append(reference)
        self.ever_ordered = True
        if application_id in self.applications:
            self.applications.remove(application_id)

    @event(OrderEnded)
    def _order_ended(self, reference: str) -> None:
        self.orders.remove(reference)


@dataclass(frozen=True)
class EverHeld:
    """Everything a subject record has ever linked to the person, open or closed, and the
    disposal of their personal data if it was disposed of: what a subject access export
    gathers from the services that hold each."""

    referrals: list[UUID]
    applications: list[UUID]
    orders: list[str]
    disposed: "SubjectRecord.Disposed | None"
    retained: "list[SubjectRecord.Retained]"


def ever_held(events: Iterable[object]) -> EverHeld:
    """From a subject record's whole stream (not its snapshots, which forget what closed);
    of a record reopened after a disposal, what followed it (what came before is erased)."""
    held = EverHeld([], [], [], None, [])
    for e in events:
        if isinstance(e, SubjectRecord.Reopened):
            held = EverHeld([], [], [], None, [])
        if isinstance(e, SubjectRecord.Started) and e.referral_id is not None:
            _add(held.referrals, e.referral_id)
        if isinstance(e, SubjectRecord.ReferralOpened | SubjectRecord.ApplicationOpened):
            _add(held.referrals, e.referral_id)
        if isinstance(e, SubjectRecord.ApplicationOpened):
            _add(held.applications, e.application_id)
        elif isinstance(e, SubjectRecord.OrderLive):
            _add(held.orders, e.reference)
        elif isinstance(e, SubjectRecord.Retained):
            held.retained.append(e)
        elif isinstance(e, SubjectRecord.Disposed):
            held = EverHeld(held.referrals, held.applications, held.orders, e, held.retained)
    return held


def _add(items: list[Any], item: Any) -> None:
    if item not in items:
        items.append(item)
