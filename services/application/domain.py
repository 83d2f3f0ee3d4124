"""Court applications for SROs and SHPOs, and the orders that result."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, cast
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from schemas.application import Applicant, NotificationKind, OrderApplicationKind
from schemas.common import FOREIGN_TRAVEL, MAX_ITEMS
from schemas.dates import months_after
from schemas.refusals import CommandRejected
from schemas.trace import Trace
from services.application.casework import (
    MINIMUM_YEARS,
    EvidenceItem,
    LegalTest,
    PoliceResponse,
    ProposedTerm,
    RenewalCase,
    TermAction,
    TermChange,
    quality_checks,
    renewal_checks,
    response_checks,
    travel_for_at_most,
    travel_too_long,
    variation_checks,
)
from services.application.domain_dates import years_after


class Stage(StrEnum):
    DRAFTING = "drafting"
    QUALITY_ASSURANCE = "quality assurance"
    WITH_LEGAL_SERVICES = "with legal services"
    APPLIED_TO_COURT = "application made to court"
    HEARING_LISTED = "hearing listed"
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


@dataclass(frozen=True)
class Notification:
    """What the person subject to an order told the police, when and how; `changed_on` is
    when a name or address changed, `late` whether it came after the time allowed."""

    kind: str
    notified_on: date
    how_received: str
    name: str | None
    address: str | None
    changed_on: date | None
    late: bool


# SOA 2003 s.122F: the person subject to an SRO (or an interim SRO) notifies their name and
# home address within a number of days of the order, and each change within as many days
SRO_NOTIFICATION = "name and home address to the police (SOA 2003 s.122F)"


@dataclass(frozen=True)
class NationalRecordTask:
    """An update of the national record (PNC and ViSOR) an order's change needs: raised with
    the change, acknowledged with the national reference, escalated once if not by `due_at`."""

    task_id: UUID
    change: str
    detail: str
    effective_on: date
    due_at: datetime
    national_reference: str | None
    escalated: bool


# what each kind of notification must give
NOTIFIED = {
    NotificationKind.INITIAL: ("name", "home address"),
    NotificationKind.CHANGE_OF_NAME: ("name",),
    NotificationKind.CHANGE_OF_ADDRESS: ("home address",),
}
# SOA 2003 s.103G: an SHPO makes (or keeps) the person subject to the notification
# requirements of Part 2 while it has effect; those are managed on ViSOR, not timed here
SHPO_NOTIFICATION = "subject to the notification requirements of SOA 2003 Part 2 (s.103G)"
# A person convicted of breaching an SRO (or an interim SRO) becomes subject to them too
BREACH_NOTIFICATION = (
    "subject to the notification requirements of SOA 2003 Part 2, convicted of breaching the SRO"
)


class ApplicationFull(CommandRejected):
    def __init__(self, what: str) -> None:
        super().__init__(f"an application holds at most {MAX_ITEMS} {what}")


class ApplicationAlreadyDecided(CommandRejected):
    def __init__(self) -> None:
        super().__init__("the application already has an outcome")


class ApplicationNotAtStage(CommandRejected):
    def __init__(self, stage: Stage, needed: tuple[Stage, ...]) -> None:
        wanted = " or ".join(s.value for s in needed)
        super().__init__(f"the application is at {stage.value}, not {wanted}")


class DischargeNeedsPoliceConsent(CommandRejected):
    def __init__(self, reference: str, minimum: date) -> None:
        super().__init__(
            f"order {reference} cannot be discharged before {minimum.isoformat()} "
            "on the defendant's application without police consent"
        )


class InterimOrderAlreadyMade(CommandRejected):
    def __init__(self) -> None:
        super().__init__("an interim order has already been made on this application")


class NoDeadlineToWarnOf(CommandRejected):
    def __init__(self, why: str) -> None:
        super().__init__(f"no complaint deadline to warn of: {why}")


class ReasonRequired(CommandRejected):
    def __init__(self, outcome: str) -> None:
        super().__init__(f"a {outcome} application must keep its reason")


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


class NoNotificationRequirement(CommandRejected):
    def __init__(self, reference: str) -> None:
        super().__init__(f"order {reference} carries no duty to notify the police")


class InitialNotificationAlreadyRecorded(CommandRejected):
    def __init__(self, notified_on: date) -> None:
        super().__init__(f"the initial notification was recorded, made on {notified_on}")


class ChangeDateRequired(CommandRejected):
    def __init__(self, kind: str) -> None:
        super().__init__(f"a {kind} needs the date of the change")


class NotificationIncomplete(CommandRejected):
    def __init__(self, kind: str, missing: str) -> None:
        super().__init__(f"an {kind} notification gives the {missing}" if kind == "initial"
                         else f"a {kind} notification gives the new {missing}")  # fmt: skip


class NoSuchNationalRecordTask(CommandRejected):
    def __init__(self, reference: str, task_id: UUID) -> None:
        super().__init__(f"order {reference} has no national record task {task_id}")


class NationalRecordTaskDone(CommandRejected):
    def __init__(self, national_reference: str) -> None:
        super().__init__(f"the national record was updated already: {national_reference}")


class NothingToEscalate(CommandRejected):
    def __init__(self) -> None:
        super().__init__("no national record task is past its time unacknowledged")


class NotificationNotOverdue(CommandRejected):
    def __init__(self, why: str) -> None:
        super().__init__(f"no notification is overdue: {why}")


class OrderNotDueToExpire(CommandRejected):
    def __init__(self, reference: str) -> None:
        super().__init__(f"order {reference} is not due to expire")


class NotForThisApplication(CommandRejected):
    def __init__(self, kind: str, what: str) -> None:
        super().__init__(f"a {kind} application has no {what}")


class ReceivedDateRequired(CommandRejected):
    def __init__(self) -> None:
        super().__init__("a defendant's application needs the day the police received it")


class NoSuchTerm(CommandRejected):
    def __init__(self, number: int | None, count: int) -> None:
        super().__init__(f"the order has no term {number}: its terms are numbered 1 to {count}")


class TermChangeIncomplete(CommandRejected):
    def __init__(self, action: str, missing: str) -> None:
        super().__init__(f"a term to {action} needs its {missing}")


class NewTermNumbered(CommandRejected):
    def __init__(self, number: int) -> None:
        super().__init__(f"a term to add is new, so it has no number (given {number})")


class NoSuchChange(CommandRejected):
    def __init__(self, number: int, count: int) -> None:
        super().__init__(f"the application has no change {number} (it has {count})")


class TermAlreadyChanged(CommandRejected):
    def __init__(self, number: int) -> None:
        super().__init__(f"the application already changes term {number}")


class TermChangedSinceOpened(CommandRejected):
    def __init__(self, reference: str, number: int) -> None:
        super().__init__(
            f"order {reference} was varied after this application was opened: its term "
            f"{number} is no longer the term the application changes; withdraw it and apply "
            "again against the order as it stands"
        )


class OrderEndsBeforeItIsMade(CommandRejected):
    def __init__(
        self, what: str, ends_on: date, made_on: date, made: str = "the order is made"
    ) -> None:
        super().__init__(
            f"{what} ends on {ends_on.isoformat()}, not after the day {made} "
            f"({made_on.isoformat()})"
        )


class ComplaintOutOfTime(CommandRejected):
    def __init__(self, matter_on: date, deadline: date) -> None:
        super().__init__(
            f"the complaint is out of time: the matter relied on ({matter_on.isoformat()}) "
            f"had to reach a court by {deadline.isoformat()}"
        )


class ForeignTravelTooLong(CommandRejected):
    def __init__(self, what: str, latest: date) -> None:
        super().__init__(f"{what} {travel_for_at_most(latest)}")


class TermOutlastsTheOrder(CommandRejected):
    def __init__(self, number: int, until: date, ends_on: date) -> None:
        super().__init__(
            f"term {number} runs to {until.isoformat()}, after the order ends "
            f"({ends_on.isoformat()}): the order ends when the last of its terms does"
        )


class OrderOutlastsItsTerms(CommandRejected):
    def __init__(self, last: date) -> None:
        super().__init__(
            f"the order is until further order, but its last term ends by {last.isoformat()}: "
            "the order ends when the last of its terms does"
        )


class OrderShorterThanTheMinimum(CommandRejected):
    def __init__(self, what: str, ends_on: date, order_type: str, minimum: date) -> None:
        super().__init__(
            f"{what} ends on {ends_on.isoformat()}: an {order_type} lasts at least "
            f"{MINIMUM_YEARS[order_type]} years, to {minimum.isoformat()} or later, or until "
            "further order"
        )


OPEN_STAGES = (
    Stage.DRAFTING,
    Stage.QUALITY_ASSURANCE,
    Stage.WITH_LEGAL_SERVICES,
    Stage.APPLIED_TO_COURT,
    Stage.HEARING_LISTED,
)


BEFORE_COURT = (Stage.DRAFTING, Stage.QUALITY_ASSURANCE, Stage.WITH_LEGAL_SERVICES)


class CourtApplication(Aggregate):
    """What every application to a court goes through, whatever it asks for: drafting, quality
    assurance against its own checklist, legal services, the court, and an outcome.

    Its events apply themselves and are triggered through `self`, so that each kind of
    application records them under its own name: `Application.HearingListed` is stored as
    it always was, `OrderApplication.HearingListed` beside it."""

    class SubmittedForQualityAssurance(Aggregate.Event):
        trace: Trace

        def apply(self, aggregate: Any) -> None:
            aggregate.stage = Stage.QUALITY_ASSURANCE

    class QualityAssuranceFailed(Aggregate.Event):
        missing: list[str]
        trace: Trace

        def apply(self, aggregate: Any) -> None:
            aggregate.stage = Stage.DRAFTING
            aggregate.qa_failures = self.missing

    class QualityAssurancePassed(Aggregate.Event):
        trace: Trace

        def apply(self, aggregate: Any) -> None:
            aggregate.stage = Stage.WITH_LEGAL_SERVICES
            aggregate.qa_failures = []

    class ReturnedByLegalServices(Aggregate.Event):
        comments: str
        trace: Trace

        def apply(self, aggregate: Any) -> None:
            aggregate.stage = Stage.DRAFTING
            aggregate.comments = [*aggregate.comments, self.comments]

    class ApplicationMade(Aggregate.Event):
        court: str
        made_on: date
        trace: Trace

        def apply(self, aggregate: Any) -> None:
            aggregate.stage = Stage.APPLIED_TO_COURT
            aggregate.court = self.court

    class HearingListed(Aggregate.Event):
        hearing_on: date
        trace: Trace

        def apply(self, aggregate: Any) -> None:
            aggregate.stage = Stage.HEARING_LISTED
            aggregate.hearing_on = self.hearing_on

    class Adjourned(Aggregate.Event):
        adjourned_to: date
        reason: str
        trace: Trace

        def apply(self, aggregate: Any) -> None:
            aggregate.hearing_on = self.adjourned_to
            aggregate.adjournments = [*aggregate.adjournments, (self.adjourned_to, self.reason)]

    class OutcomeRecorded(Aggregate.Event):
        outcome: Outcome
        decided_on: date
        reason: str | None
        trace: Trace

        def apply(self, aggregate: Any) -> None:
            aggregate.stage = Stage.DECIDED
            aggregate.outcome = Outcome(self.outcome)  # stored as its text
            aggregate.outcome_reason = self.reason
            aggregate.decided_on = self.decided_on

    def _start_casework(self) -> None:
        self.stage = Stage.DRAFTING
        self.outcome: Outcome | None = None
        self.outcome_reason: str | None = None
        self.decided_on: date | None = None
        self.qa_failures: list[str] = []
        self.comments: list[str] = []
        self.court: str | None = None
        self.hearing_on: date | None = None
        self.adjournments: list[tuple[date, str]] = []

    def quality_checks(self, today: date, complaint_months: int) -> list[str]:
        """What is missing or wrong; nothing: the application may go to legal services."""
        raise NotImplementedError

    def require_in_time(self, made_on: date, complaint_months: int) -> None:
        """A complaint made on `made_on` is in time (an application about an order names no
        matter it relies on)."""

    def submit_for_quality_assurance(self, trace: Trace) -> None:
        self._require(Stage.DRAFTING)
        self.trigger_event(self.SubmittedForQualityAssurance, trace=trace)

    def complete_quality_assurance(
        self, today: date, complaint_months: int, trace: Trace
    ) -> list[str]:
        """Run the checklist: the application goes to legal services only if every check
        passes; otherwise it goes back to drafting, with what is missing recorded."""
        self._require(Stage.QUALITY_ASSURANCE)
        missing = self.quality_checks(today, complaint_months)
        if missing:
            self.trigger_event(self.QualityAssuranceFailed, missing=missing, trace=trace)
        else:
            self.trigger_event(self.QualityAssurancePassed, trace=trace)
        return missing

    def return_to_drafting(self, comments: str, trace: Trace) -> None:
        """Legal services send the application back with their comments."""
        self._require(Stage.WITH_LEGAL_SERVICES)
        self.trigger_event(self.ReturnedByLegalServices, comments=comments, trace=trace)

    def make_application(
        self, court: str, made_on: date, complaint_months: int, trace: Trace
    ) -> None:
        self._require(Stage.WITH_LEGAL_SERVICES)
        self.require_in_time(made_on, complaint_months)
        self.trigger_event(self.ApplicationMade, court=court, made_on=made_on, trace=trace)

    def list_hearing(self, hearing_on: date, trace: Trace) -> None:
        self._require(Stage.APPLIED_TO_COURT, Stage.HEARING_LISTED)
        self.trigger_event(self.HearingListed, hearing_on=hearing_on, trace=trace)

    def adjourn(self, adjourned_to: date, reason: str, trace: Trace) -> None:
        """The court adjourned the hearing; the application waits for the new date."""
        self._require(Stage.HEARING_LISTED)
        self.trigger_event(self.Adjourned, adjourned_to=adjourned_to, reason=reason, trace=trace)

    def refuse(self, decided_on: date, reason: str, trace: Trace) -> None:
        self._decide(Outcome.REFUSED, decided_on, reason, trace, Stage.HEARING_LISTED)

    def withdraw(self, decided_on: date, reason: str, trace: Trace) -> None:
        self._decide(Outcome.WITHDRAWN, decided_on, reason, trace, *OPEN_STAGES)

    def _decide(
        self, outcome: Outcome, on: date, reason: str | None, trace: Trace, *stages: Stage
    ) -> None:
        self._require(*stages)
        if outcome in (Outcome.REFUSED, Outcome.WITHDRAWN) and not reason:
            raise ReasonRequired(outcome.value)
        self.trigger_event(
            self.OutcomeRecorded, outcome=outcome, decided_on=on, reason=reason, trace=trace
        )

    def _require(self, *stages: Stage) -> None:
        if self.stage is Stage.DECIDED:
            raise ApplicationAlreadyDecided
        if self.stage not in stages:
            raise ApplicationNotAtStage(self.stage, stages)


class Application(CourtApplication):
    """An application for an SRO or an SHPO, opened from an accepted referral."""

    class Opened(Aggregate.Created):
        referral_id: UUID
        district: str
        order_type: str
        subject: Subject
        grounds: str
        opened_at: datetime
        trace: Trace

    class LegalTestSetOut(Aggregate.Event):
        legal_test: LegalTest
        trace: Trace

    class TermProposed(Aggregate.Event):
        term: ProposedTerm
        trace: Trace

    class EvidenceAdded(Aggregate.Event):
        item: EvidenceItem
        trace: Trace

    class DurationProposed(Aggregate.Event):
        ends_on: date | None
        until_further_order: bool
        trace: Trace

    class InterimOrderGranted(Aggregate.Event):
        order_id: UUID
        made_on: date
        trace: Trace

    class MatterDateRecorded(Aggregate.Event):
        matter_on: date
        trace: Trace

    class ComplaintDeadlineApproaching(Aggregate.Event):
        deadline: date
        days_left: int
        trace: Trace

    class SubjectRectified(Aggregate.Event):
        subject: Subject
        reason: str
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
        self._start_casework()
        self.legal_test: LegalTest | None = None
        self.terms: list[ProposedTerm] = []
        self.evidence: list[EvidenceItem] = []
        self.ends_on: date | None = None
        self.until_further_order = False
        self.matter_on: date | None = None
        self.interim_order_id: UUID | None = None
        self.deadline_warned_for: date | None = None

    # Drafting: the caseworker builds the case.

    def set_out_legal_test(self, legal_test: LegalTest, trace: Trace) -> None:
        self._require(Stage.DRAFTING)
        self._legal_test_set_out(legal_test, trace)

    def propose_term(self, term: ProposedTerm, trace: Trace) -> None:
        self._require(Stage.DRAFTING)
        if len(self.terms) >= MAX_ITEMS:  # the order granted carries them all
            raise ApplicationFull("proposed terms")
        self._term_proposed(term, trace)

    def add_evidence(self, item: EvidenceItem, trace: Trace) -> None:
        self._require(Stage.DRAFTING)
        if len(self.evidence) >= MAX_ITEMS:
            raise ApplicationFull("items of evidence")
        self._evidence_added(item, trace)

    def propose_duration(
        self, ends_on: date | None, until_further_order: bool, trace: Trace
    ) -> None:
        self._require(Stage.DRAFTING)
        self._duration_proposed(ends_on, until_further_order, trace)

    def record_matter_relied_on(self, matter_on: date, trace: Trace) -> None:
        """The date of the matter relied on: the complaint's time limit runs from it."""
        self._require(*OPEN_STAGES)
        self._matter_date_recorded(matter_on, trace)

    def complaint_deadline(self, limit_months: int) -> date | None:
        return None if self.matter_on is None else months_after(self.matter_on, limit_months)

    def warn_of_complaint_deadline(
        self, today: date, limit_months: int, warning_days: int, trace: Trace
    ) -> None:
        """Once for each deadline, while there is still time: the complaint must reach the
        court by the deadline, and the application has not been made yet."""
        deadline = self.complaint_deadline(limit_months)
        if deadline is None or self.stage not in BEFORE_COURT:
            raise NoDeadlineToWarnOf("no matter date, or the application is already made")
        if self.deadline_warned_for == deadline:
            raise NoDeadlineToWarnOf("already warned")
        days_left = (deadline - today).days
        if not 0 <= days_left <= warning_days:
            raise NoDeadlineToWarnOf(f"{days_left} days left")
        self._deadline_approaching(deadline, days_left, trace)

    def rectify_subject(self, subject: Subject, reason: str, trace: Trace) -> None:
        """The referral's correction of how the person was recorded (DPA 2018 s.46): it
        supersedes the name and date of birth copied when the application was opened."""
        if subject != self.subject:
            self._subject_rectified(subject, reason, trace)

    @event(SubjectRectified)
    def _subject_rectified(self, subject: Subject, reason: str, trace: Trace) -> None:
        self.subject = subject

    @event(MatterDateRecorded)
    def _matter_date_recorded(self, matter_on: date, trace: Trace) -> None:
        self.matter_on = matter_on

    @event(ComplaintDeadlineApproaching)
    def _deadline_approaching(self, deadline: date, days_left: int, trace: Trace) -> None:
        self.deadline_warned_for = deadline

    def quality_checks(self, today: date, complaint_months: int) -> list[str]:
        found = quality_checks(
            self.order_type,
            self.legal_test,
            self.terms,
            self.evidence,
            self.ends_on,
            self.until_further_order,
            today,
        )
        deadline = self.complaint_deadline(complaint_months)
        if deadline is not None and today > deadline:
            found.append(f"the complaint is out of time: it had to be made by {deadline}")
        return found

    def require_in_time(self, made_on: date, complaint_months: int) -> None:
        """A complaint must be made within the time limit of the matter relied on."""
        deadline = self.complaint_deadline(complaint_months)
        if deadline is not None and made_on > deadline:
            assert self.matter_on is not None
            raise ComplaintOutOfTime(self.matter_on, deadline)

    @event(LegalTestSetOut)
    def _legal_test_set_out(self, legal_test: LegalTest, trace: Trace) -> None:
        self.legal_test = legal_test

    @event(TermProposed)
    def _term_proposed(self, term: ProposedTerm, trace: Trace) -> None:
        self.terms.append(term)

    @event(EvidenceAdded)
    def _evidence_added(self, item: EvidenceItem, trace: Trace) -> None:
        self.evidence.append(item)

    @event(DurationProposed)
    def _duration_proposed(
        self, ends_on: date | None, until_further_order: bool, trace: Trace
    ) -> None:
        self.ends_on = ends_on
        self.until_further_order = until_further_order

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
        outcome = Outcome.INTERIM_GRANTED if interim else Outcome.GRANTED
        self._require(Stage.HEARING_LISTED)
        order = self._order(court, made_on, ends_on, terms, trace, interim=interim)
        self._decide(outcome, made_on, None, trace, Stage.HEARING_LISTED)
        return order

    def grant_interim_order(
        self,
        court: str,
        made_on: date,
        ends_on: date | None,
        terms: list[Term],
        trace: Trace,
    ) -> "Order":
        """The court makes an interim order pending the main application, which goes on."""
        self._require(Stage.APPLIED_TO_COURT, Stage.HEARING_LISTED)
        if self.interim_order_id is not None:
            raise InterimOrderAlreadyMade
        order = self._order(court, made_on, ends_on, terms, trace, interim=True)
        self._interim_granted(order.id, made_on, trace)
        return order

    @event(InterimOrderGranted)
    def _interim_granted(self, order_id: UUID, made_on: date, trace: Trace) -> None:
        self.interim_order_id = order_id

    def _order(
        self,
        court: str,
        made_on: date,
        ends_on: date | None,
        terms: list[Term],
        trace: Trace,
        interim: bool,
    ) -> "Order":
        base = self.order_type.removeprefix("interim ")
        require_lasting_the_minimum(base, interim, made_on, ends_of(ends_on, terms))
        require_ending_with_its_terms(ends_on, terms)
        return Order(
            application_id=self.id,
            case_number=None,
            interim=interim,
            order_type=f"interim {base}" if interim else base,
            subject_nominal_id=self.subject.nominal_id,
            district=self.district,
            court=court,
            made_on=made_on,
            ends_on=ends_on,
            terms=terms,
            trace=trace,
        )


# What ends (the order, a term of it), when, and the term's kind
Ends = list[tuple[str, date | None, str | None]]


def ends_of(ends_on: date | None, terms: list[Term]) -> Ends:
    return [("the order", ends_on, None), *terms_ending(terms)]


def terms_ending(terms: list[Term], only: Callable[[Term], bool] = lambda _: True) -> Ends:
    return [(f"term {n}", t.until, t.kind) for n, t in enumerate(terms, 1) if only(t)]


def require_lasting_the_minimum(
    order_type: str, interim: bool, made_on: date, ends: Ends, varied_on: date | None = None
) -> None:
    """The court makes an order, and each of its terms, to end after the day it is made (a
    term a variation words, after the day it is varied); a full order and each term lasts at
    least its statutory minimum from the day the order was made, or until further order (an
    interim one, made pending the main application, has no minimum). A foreign travel
    prohibition instead has a fixed period, of at most 5 years from that day."""
    minimum = None if interim else years_after(made_on, MINIMUM_YEARS[order_type])
    for what, end, kind in ends:
        if end is not None and end <= (varied_on or made_on):
            made = "the order is varied" if varied_on else "the order is made"
            raise OrderEndsBeforeItIsMade(what, end, varied_on or made_on, made)
        if kind == FOREIGN_TRAVEL:
            if latest := travel_too_long(end, varied_on or made_on):
                raise ForeignTravelTooLong(what, latest)
        elif end is not None and minimum is not None and end < minimum:
            raise OrderShorterThanTheMinimum(what, end, order_type, minimum)


def require_ending_with_its_terms(ends_on: date | None, terms: list[Term]) -> None:
    """Each term has its own period, or the order's (`until` absent); the order ends when
    the last of them does: no term outlasts it, and one until further order has a term that
    is too."""
    for number, term in enumerate(terms, 1):
        if ends_on is not None and term.until is not None and term.until > ends_on:
            raise TermOutlastsTheOrder(number, term.until, ends_on)
    if ends_on is None and terms and all(term.until is not None for term in terms):
        raise OrderOutlastsItsTerms(max(term.until for term in terms if term.until))


class Order(Aggregate):
    """An order a court made, on an application or (an SHPO) on conviction; its reference is
    what every other service uses."""

    class_version = 2  # a snapshot's state: `case_number` added

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["case_number"] = None

    class Granted(Aggregate.Created):
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["case_number"] = None  # granted before orders were made on conviction

        application_id: UUID | None
        case_number: str | None
        interim: bool
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
        reason: str
        trace: Trace

    class Renewed(Aggregate.Event):
        renewed_on: date
        ends_on: date | None
        trace: Trace

    class NationalRecordUpdateRequired(Aggregate.Event):
        task: NationalRecordTask
        trace: Trace

    class NationalRecordUpdated(Aggregate.Event):
        task_id: UUID
        national_reference: str
        at: datetime
        trace: Trace

    class NationalRecordEscalated(Aggregate.Event):
        task_id: UUID
        at: datetime
        trace: Trace

    class NotificationRequired(Aggregate.Event):
        basis: str
        within_days: int | None
        due_on: date | None
        trace: Trace

    class NotificationRecorded(Aggregate.Event):
        notification: Notification
        trace: Trace

    class NotificationOverdue(Aggregate.Event):
        due_on: date
        trace: Trace

    @staticmethod
    def create_id(application_id: UUID | None, interim: bool = False, **_: object) -> UUID:
        """An order made on an application is named by it; one made on conviction by nothing
        (its reference, made from its id, must not give away its sealed case number)."""
        if application_id is None:
            return uuid4()
        kind = "interim-order" if interim else "order"
        return uuid5(NAMESPACE_URL, f"civil-orders:{kind}/{application_id}")

    @classmethod
    def made_on_conviction(
        cls,
        subject_nominal_id: str,
        district: str,
        court: str,
        case_number: str,
        made_on: date,
        ends_on: date | None,
        terms: list[Term],
        trace: Trace,
    ) -> "Order":
        """An SHPO a court made on conviction (Sentencing Act 2020 s.345): no application of
        ours preceded it, and it lasts at least the minimum as any SHPO does."""
        require_lasting_the_minimum("SHPO", False, made_on, ends_of(ends_on, terms))
        require_ending_with_its_terms(ends_on, terms)
        return cls(
            application_id=None,
            case_number=case_number,
            interim=False,
            order_type="SHPO",
            subject_nominal_id=subject_nominal_id,
            district=district,
            court=court,
            made_on=made_on,
            ends_on=ends_on,
            terms=terms,
            trace=trace,
        )

    @staticmethod
    def reference_for(order_id: UUID, made_on: date) -> str:
        return f"ORD-{made_on.year}-{order_id.hex[:8].upper()}"

    @property
    def statutory_type(self) -> str:
        """SRO or SHPO, an interim order's as well."""
        return self.order_type.removeprefix("interim ")

    @event(Granted)
    def __init__(
        self,
        application_id: UUID | None,
        case_number: str | None,
        interim: bool,
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
        self.case_number = case_number
        self.interim = interim
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
        self.notification_basis: str | None = None
        self.notification_days: int | None = None
        self.notification_due_on: date | None = None
        self.notifications: list[Notification] = []
        self.notification_overdue_for: date | None = None
        self.national_record: list[NationalRecordTask] = []

    def allocate(self, team: str, trace: Trace) -> None:
        self._allocated(team, trace)

    def reallocate(self, team: str, reason: str, today: date, trace: Trace) -> None:
        """Move management to another team, for example when the subject moves district: an
        order in force, not one over."""
        if self.expired or not self.in_force_on(today):
            raise OrderNotInForce(self.reference, today)
        if self.team is None:
            raise OrderNotYetAllocated(self.reference)
        if team == self.team:
            raise OrderAlreadyWithTeam(self.reference, team)
        self._reallocated(self.team, team, reason, trace)

    def vary(self, varied_on: date, ends_on: date | None, terms: list[Term], trace: Trace) -> None:
        """Record the court's variation: the terms and end date as the court now worded them.
        Each term it adds or rewords lasts as any term of the order must."""
        self._require_in_force(varied_on)
        worded = terms_ending(terms, only=lambda term: term not in self.terms)
        require_lasting_the_minimum(
            self.statutory_type, self.interim, self.made_on, worded, varied_on
        )
        require_ending_with_its_terms(ends_on, terms)
        self._varied(varied_on, ends_on, terms, trace)

    def application_to_court(
        self,
        kind: OrderApplicationKind,
        applicant: Applicant,
        grounds: str,
        received_on: date | None,
        opened_at: datetime,
        trace: Trace,
    ) -> "OrderApplication":
        """Open an application to the court about this order while it is in force: by the
        police on the managing team's `grounds`, or the defendant's, received on a day."""
        if applicant is Applicant.DEFENDANT and received_on is None:
            raise ReceivedDateRequired
        self._require_in_force(received_on or opened_at.date())
        return OrderApplication(
            order_id=self.id,
            order_reference=self.reference,
            order_type=self.order_type,
            subject_nominal_id=self.subject_nominal_id,
            district=self.district,
            team=self.team,
            terms_in_order=len(self.terms),
            order_terms=list(self.terms),
            order_ends_on=self.ends_on,
            kind=kind,
            applicant=applicant,
            grounds=grounds,
            received_on=received_on if applicant is Applicant.DEFENDANT else None,
            opened_at=opened_at,
            trace=trace,
        )

    def flag_renewal_review(
        self, now: datetime, months_before: int, trace: Trace
    ) -> "OrderApplication | None":
        """Once for each end date: the order ends within `months_before` months, so it is time
        to consider renewing it. The police's renewal application is opened for the
        caseworker to make the case or withdraw (none once the order has reached its end)."""
        today = now.date()
        if self.ends_on is None or self.expired:
            raise OrderNotDueForReview(self.reference, "it has no end date, or has ended")
        if self.renewal_review_for == self.ends_on:
            raise OrderNotDueForReview(self.reference, "its review has been raised")
        if today < months_after(self.ends_on, -months_before):
            raise OrderNotDueForReview(self.reference, f"it ends on {self.ends_on}")
        self._renewal_review_due(self.ends_on, trace)
        if today >= self.ends_on:
            return None
        grounds = (
            f"renewal review: the order ends on {self.ends_on.isoformat()}; set out why the "
            "risk remains, or withdraw this application if it does not"
        )
        return self.application_to_court(
            OrderApplicationKind.RENEWAL, Applicant.POLICE, grounds, None, now, trace
        )

    def raise_national_record_tasks(self, now: datetime, within: timedelta) -> None:
        """A task to update the national record for each change about to be recorded (made,
        varied, renewed, ended) that has none yet, due `within` of `now`; none for a change
        that took effect longer ago than that (history entered late: on the record already)."""
        raised = {task.task_id for task in self.national_record}
        for change in [e for e in self.pending_events if type(e) in NATIONAL_CHANGES]:
            task_id = uuid5(self.id, f"national-record/{change.originator_version}")
            kind, detail, effective_on = NATIONAL_CHANGES[type(change)](change)
            if task_id in raised or effective_on < (now - within).date():
                continue
            task = NationalRecordTask(
                task_id, kind, detail, effective_on, now + within, None, False
            )
            self._national_record_update_required(task, cast(Any, change).trace)

    @property
    def national_record_outstanding(self) -> list[NationalRecordTask]:
        return [task for task in self.national_record if task.national_reference is None]

    def acknowledge_national_record(
        self, task_id: UUID, national_reference: str, at: datetime, trace: Trace
    ) -> None:
        """The national record was updated for this task, under this reference."""
        task = next((t for t in self.national_record if t.task_id == task_id), None)
        if task is None:
            raise NoSuchNationalRecordTask(self.reference, task_id)
        if task.national_reference is not None:
            raise NationalRecordTaskDone(task.national_reference)
        self._national_record_updated(task_id, national_reference, at, trace)

    def escalate_national_record(self, now: datetime, trace: Trace) -> None:
        """Once each: the tasks past their time and not acknowledged go to the ViSOR unit."""
        late = [t for t in self.national_record_outstanding if not t.escalated and t.due_at < now]
        if not late:
            raise NothingToEscalate
        for task in late:
            self._national_record_escalated(task.task_id, now, trace)

    def require_notification(
        self, within_days: int, today: date, trace: Trace, part_2: bool = False
    ) -> None:
        """What the order obliges its subject to tell the police: an SRO, their name and home
        address within `within_days` of the order, timed here unless the order is recorded
        after that (its history is then on ViSOR); an SHPO, the notification requirements of
        Part 2, managed on ViSOR, as they are for the subject of an SRO already convicted of
        breaching one (`part_2`)."""
        if part_2 and self.statutory_type == "SRO":
            self._notification_required(BREACH_NOTIFICATION, None, None, trace)
        elif self.statutory_type == "SRO":
            due_on = self.made_on + timedelta(days=within_days)
            timed = due_on if today <= due_on else None
            self._notification_required(SRO_NOTIFICATION, within_days, timed, trace)
        else:
            self._notification_required(SHPO_NOTIFICATION, None, None, trace)

    def convicted_of_breach(self, trace: Trace) -> bool:
        """Its subject was convicted of breaching it: the subject of an SRO becomes subject to
        the notification requirements of Part 2, managed on ViSOR as an SHPO's are. False
        when that changes nothing (an SHPO, or already so)."""
        if self.statutory_type != "SRO":
            return False
        if self.notification_basis == BREACH_NOTIFICATION:
            return False
        self._notification_required(BREACH_NOTIFICATION, None, None, trace)
        return True

    def record_notification(
        self,
        kind: NotificationKind,
        notified_on: date,
        how_received: str,
        name: str | None,
        address: str | None,
        changed_on: date | None,
        trace: Trace,
    ) -> None:
        """MOSOVO records what the person notified: the first time, or a change of name or
        address (with the date it changed). Whether it came late is worked out here."""
        if self.notification_basis is None:
            raise NoNotificationRequirement(self.reference)
        given = {"name": name, "home address": address}
        for missing in NOTIFIED[kind]:
            if not given[missing]:
                raise NotificationIncomplete(kind.value, missing)
        if not self.in_force_on(notified_on):  # the duty lasts while the order has effect
            raise OrderNotInForce(self.reference, notified_on)
        if kind is NotificationKind.INITIAL:
            if (initial := self.initial_notification) is not None:
                raise InitialNotificationAlreadyRecorded(initial.notified_on)
            due = self.notification_due_on
        elif changed_on is None:
            raise ChangeDateRequired(kind.value)
        else:  # timed only where the order times the first one (an SRO's)
            days = self.notification_days
            due = None if days is None else changed_on + timedelta(days=days)
        late = due is not None and notified_on > due
        notification = Notification(
            kind.value, notified_on, how_received, name, address, changed_on, late
        )
        self._notification_recorded(notification, trace)

    @property
    def initial_notification(self) -> Notification | None:
        initial = NotificationKind.INITIAL.value
        return next((n for n in self.notifications if n.kind == initial), None)

    def flag_notification_overdue(self, today: date, trace: Trace) -> None:
        """Once: the initial notification is past its due date and not recorded (a possible
        offence under SOA 2003 s.122H, for MOSOVO to confirm or dismiss)."""
        due_on = self.notification_due_on
        if due_on is None or self.expired or self.initial_notification is not None:
            raise NotificationNotOverdue("none is due, or it was made, or the order has ended")
        if today <= due_on:
            raise NotificationNotOverdue(f"it is due by {due_on}")
        if self.notification_overdue_for == due_on:
            raise NotificationNotOverdue("it has been raised")
        self._notification_overdue(due_on, trace)

    def notification_status(self, today: date) -> str:
        """The notification duty as it stands `today`, worked out from the dates."""
        if self.notification_basis is None:
            return "none recorded"
        if (initial := self.initial_notification) is not None:
            return f"notified on {initial.notified_on}{' (late)' if initial.late else ''}"
        if self.notification_due_on is None:
            if self.notification_days is None:
                return "managed on ViSOR"
            return "not timed here: the order was recorded after it fell due (see ViSOR)"
        if today > self.notification_due_on:
            return f"overdue: was due by {self.notification_due_on}"
        return f"due by {self.notification_due_on}"

    def expire(self, today: date, trace: Trace) -> None:
        if self.expired or self.ends_on is None or today < self.ends_on:
            raise OrderNotDueToExpire(self.reference)
        self._expired(self.ends_on, "it reached its end date", trace)

    def renew(self, renewed_on: date, ends_on: date | None, trace: Trace) -> None:
        """The court renewed the order: it now runs to the new end date, as the last of its
        terms does."""
        self._require_in_force(renewed_on)
        require_ending_with_its_terms(ends_on, self.terms)
        self._renewed(renewed_on, ends_on, trace)

    def discharge(
        self, discharged_on: date, on_application_of: str, police_consent: bool, trace: Trace
    ) -> None:
        """The court discharged the order. Within the statutory minimum period a defendant's
        application needs the police's consent (an interim order has no minimum)."""
        self._require_in_force(discharged_on)
        if on_application_of != "police" and not police_consent and not self.interim:
            minimum = years_after(self.made_on, MINIMUM_YEARS[self.order_type])
            if discharged_on < minimum:
                raise DischargeNeedsPoliceConsent(self.reference, minimum)
        self._expired(
            discharged_on,
            f"discharged by the court on the {on_application_of}'s application",
            trace,
        )

    def end_with_main_application(self, on: date, how: str, trace: Trace) -> None:
        """An interim order has effect only pending the main application (SOA 2003 s.103F,
        s.122E): it ends on the day the court decides that application, `how` saying how
        (replaced by the full order, or the application refused or withdrawn). One already
        over by then stays as it ended."""
        if on < self.made_on:
            raise OrderNotInForce(self.reference, on)
        if not self.expired and self.in_force_on(on):
            self._expired(on, how, trace)

    def replaced_by(self, order: "Order", trace: Trace) -> None:
        """A new order against the same person replaces this one from the day it is made
        (SOA 2003 s.103C(6), s.122C(6)). One not in force that day, over already or made
        after it, stays as it is."""
        if self.in_force_on(order.made_on):  # one ended since (replaced, say) ends that day
            self._expired(order.made_on, f"replaced by {order.reference}", trace)

    def in_force_on(self, day: date) -> bool:
        """Made by `day` and not yet over: an order is over from its end date (the day it
        ended, once it has), whether or not the calendar has looked yet."""
        return self.made_on <= day and (self.ends_on is None or day < self.ends_on)

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

    @event(Renewed)
    def _renewed(self, renewed_on: date, ends_on: date | None, trace: Trace) -> None:
        self.ends_on = ends_on

    @event(NationalRecordUpdateRequired)
    def _national_record_update_required(self, task: NationalRecordTask, trace: Trace) -> None:
        self.national_record = [*self.national_record, task]

    @event(NationalRecordUpdated)
    def _national_record_updated(
        self, task_id: UUID, national_reference: str, at: datetime, trace: Trace
    ) -> None:
        self._change_task(task_id, national_reference=national_reference)

    @event(NationalRecordEscalated)
    def _national_record_escalated(self, task_id: UUID, at: datetime, trace: Trace) -> None:
        self._change_task(task_id, escalated=True)

    def _change_task(self, task_id: UUID, **changed: Any) -> None:
        self.national_record = [
            replace(t, **changed) if t.task_id == task_id else t for t in self.national_record
        ]

    @event(NotificationRequired)
    def _notification_required(
        self, basis: str, within_days: int | None, due_on: date | None, trace: Trace
    ) -> None:
        self.notification_basis = basis
        self.notification_days = within_days
        self.notification_due_on = due_on

    @event(NotificationRecorded)
    def _notification_recorded(self, notification: Notification, trace: Trace) -> None:
        self.notifications = [*self.notifications, notification]

    @event(NotificationOverdue)
    def _notification_overdue(self, due_on: date, trace: Trace) -> None:
        self.notification_overdue_for = due_on

    @event(RenewalReviewDue)
    def _renewal_review_due(self, ends_on: date, trace: Trace) -> None:
        self.renewal_review_for = ends_on

    @event(Expired)
    def _expired(self, ended_on: date, reason: str, trace: Trace) -> None:
        self.expired = True
        self.ends_on = ended_on

    @event(Reallocated)
    def _reallocated(self, from_team: str, team: str, reason: str, trace: Trace) -> None:
        self.team = team


# The changes of an order the national record must hear of: the change, in words, and the
# day it took effect
NATIONAL_CHANGES: dict[type, Callable[[Any], tuple[str, str, date]]] = {
    Order.Granted: lambda e: ("made", f"{e.order_type} made at {e.court}", e.made_on),
    Order.Varied: lambda e: ("varied", "the court varied its terms", e.varied_on),
    Order.Renewed: lambda e: ("renewed", "the court renewed it", e.renewed_on),
    Order.Expired: lambda e: ("ended", e.reason, e.ended_on),
}


class OrdersAgainst(Aggregate):
    """The orders made against one person, so that each new full order replaces the ones
    before it; an interim order, made only pending its application, replaces none. Named by
    the person's nominal, blinded (`KeyStore.blinded`), it holds nothing personal: it outlives
    the person's erasure, and a court may make an order against them again."""

    class Started(Aggregate.Created):
        named: UUID

    class OrderMade(Aggregate.Event):
        order_id: UUID
        interim: bool

    class ConvictedOfBreach(Aggregate.Event):
        """Of breaching an SRO: the person is subject to the full notification requirements."""

    @staticmethod
    def create_id(named: UUID, **_: object) -> UUID:
        return named

    @event(Started)
    def __init__(self, named: UUID) -> None:
        self.orders: list[UUID] = []
        self.notification_requirements = False  # of Part 2, once convicted of a breach

    def convicted_of_breaching_an_sro(self) -> bool:
        """Note the conviction; False when it was noted already."""
        if self.notification_requirements:
            return False
        self._convicted_of_breach()
        return True

    @event(ConvictedOfBreach)
    def _convicted_of_breach(self) -> None:
        self.notification_requirements = True

    def order_made(self, order_id: UUID, interim: bool) -> list[UUID]:
        """Record a new order against the person; returns the others they have had."""
        others = list(self.orders)
        self._order_made(order_id, interim)
        return others

    @event(OrderMade)
    def _order_made(self, order_id: UUID, interim: bool) -> None:
        self.orders = [*self.orders, order_id]


class CourtCaseOrder(Aggregate):
    """That the order a court made in one case is recorded, so that it is recorded once:
    named by the court and the case number, blinded (the case number is personal data)."""

    class Recorded(Aggregate.Created):
        named: UUID
        order_id: UUID

    @staticmethod
    def create_id(named: UUID, **_: object) -> UUID:
        return named

    @staticmethod
    def naming(court: str, case_number: str) -> tuple[str, str]:
        """The court and case number as one case is named however they were typed."""
        return " ".join(court.split()).casefold(), "".join(case_number.split()).upper()

    @event(Recorded)
    def __init__(self, named: UUID, order_id: UUID) -> None:
        self.order_id = order_id


class OrderApplication(CourtApplication):
    """An application to the court about an order already made, to vary, renew or discharge
    it: by the police, on the managing team's reasons, or by the defendant, recorded when the
    police receive it. It goes through the stages of the application for the order, with its
    own checklist; only the court's outcome changes the order."""

    class Opened(Aggregate.Created):
        order_id: UUID
        order_reference: str
        order_type: str
        subject_nominal_id: str
        district: str
        team: str | None
        terms_in_order: int
        order_terms: list[Term] | None
        order_ends_on: date | None
        kind: OrderApplicationKind
        applicant: Applicant
        grounds: str
        received_on: date | None
        opened_at: datetime
        trace: Trace

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["order_terms"] = None  # opened before applications kept the order's terms

    class TermChangeProposed(Aggregate.Event):
        change: TermChange
        replacing: int | None
        trace: Trace

    class RenewalCaseSetOut(Aggregate.Event):
        case: RenewalCase
        trace: Trace

    class PoliceResponseRecorded(Aggregate.Event):
        response: PoliceResponse
        trace: Trace

    @event(Opened)
    def __init__(
        self,
        order_id: UUID,
        order_reference: str,
        order_type: str,
        subject_nominal_id: str,
        district: str,
        team: str | None,
        terms_in_order: int,
        order_terms: list[Term] | None,
        order_ends_on: date | None,
        kind: OrderApplicationKind,
        applicant: Applicant,
        grounds: str,
        received_on: date | None,
        opened_at: datetime,
        trace: Trace,
    ) -> None:
        self.order_id = order_id
        self.order_reference = order_reference
        self.order_type = order_type
        self.subject_nominal_id = subject_nominal_id
        self.district = district
        self.team = team
        self.terms_in_order = terms_in_order
        self.order_terms = order_terms  # as the order stood: what its term numbers name
        self.order_ends_on = order_ends_on
        self.kind = OrderApplicationKind(kind)  # stored as its text
        self.applicant = Applicant(applicant)
        self.grounds = grounds
        self.received_on = received_on
        self.opened_at = opened_at
        self.changes: list[TermChange] = []
        self.renewal: RenewalCase | None = None
        self.response: PoliceResponse | None = None
        self._start_casework()

    # Drafting: what the application asks for, and why.

    def propose_term_change(self, change: TermChange, replacing: int | None, trace: Trace) -> None:
        """A variation's change to one term: a new term, or one of the order's reworded or
        removed (numbered as the order stood when the application was opened); `replacing`:
        the number (from 1) of an earlier change this one amends."""
        self._require_kind(OrderApplicationKind.VARIATION, "term changes")
        self._require(Stage.DRAFTING)
        if replacing is not None and not 1 <= replacing <= len(self.changes):
            raise NoSuchChange(replacing, len(self.changes))
        others = [c for n, c in enumerate(self.changes, start=1) if n != replacing]
        action = TermAction(change.action)
        if action is TermAction.ADD:
            if change.term_number is not None:
                raise NewTermNumbered(change.term_number)
        elif change.term_number is None or not 1 <= change.term_number <= self.terms_in_order:
            raise NoSuchTerm(change.term_number, self.terms_in_order)
        elif change.term_number in {c.term_number for c in others}:
            raise TermAlreadyChanged(change.term_number)
        if action is not TermAction.REMOVE and not (change.kind and change.wording):
            raise TermChangeIncomplete(action.value, "kind and wording")
        self._term_change_proposed(change, replacing, trace)

    def set_out_renewal_case(self, case: RenewalCase, trace: Trace) -> None:
        self._require_kind(OrderApplicationKind.RENEWAL, "renewal case")
        self._require(Stage.DRAFTING)
        self._renewal_case_set_out(case, trace)

    def record_police_response(self, response: PoliceResponse, trace: Trace) -> None:
        """The police consent to, or oppose, the defendant's application, and say why."""
        if self.applicant is not Applicant.DEFENDANT:
            raise NotForThisApplication("police", "police response (it is the police's own)")
        self._require(Stage.DRAFTING)
        self._police_response_recorded(response, trace)

    def quality_checks(self, today: date, complaint_months: int) -> list[str]:
        problems = []
        if self.kind is OrderApplicationKind.VARIATION:
            problems += variation_checks(self.changes, self.terms_in_order, today)
        elif self.kind is OrderApplicationKind.RENEWAL:
            problems += renewal_checks(self.renewal, self.order_ends_on)
        if self.applicant is Applicant.DEFENDANT:
            problems += response_checks(self.response)
        return problems

    # The court's outcome: the only thing that changes the order.

    def grant(self, order: Order, decided_on: date, trace: Trace) -> None:
        """The court granted the application as made: the order is varied, renewed or
        discharged accordingly."""
        self._decide(Outcome.GRANTED, decided_on, None, trace, Stage.HEARING_LISTED)
        if self.kind is OrderApplicationKind.VARIATION:
            order.vary(decided_on, order.ends_on, self.varied_terms(order.terms), trace)
        elif self.kind is OrderApplicationKind.RENEWAL:
            assert self.renewal is not None  # QA passed, so it was set out
            order.renew(decided_on, self.renewal.ends_on, trace)
        else:
            consents = self.applicant is Applicant.POLICE or bool(
                self.response and self.response.consents
            )
            order.discharge(decided_on, self.applicant.value, consents, trace)

    def varied_terms(self, terms: list[Term]) -> list[Term]:
        """The order's terms with this variation's changes made. Each term it rewords or
        removes must still be, at its number, the term it was when the application was
        opened: a variation granted since may have changed or renumbered it."""
        then = self.order_terms
        for number in (c.term_number for c in self.changes if c.term_number is not None):
            if then is not None and (number > len(terms) or terms[number - 1] != then[number - 1]):
                raise TermChangedSinceOpened(self.order_reference, number)
        if any((c.term_number or 0) > len(terms) for c in self.changes):
            raise NoSuchTerm(max(c.term_number or 0 for c in self.changes), len(terms))
        changed = {c.term_number: c for c in self.changes if c.term_number is not None}
        kept = [
            Term(c.kind or t.kind, c.wording or t.wording, c.until) if c else t
            for n, t in enumerate(terms, start=1)
            if (c := changed.get(n)) is None or c.action != TermAction.REMOVE
        ]
        added = [
            Term(c.kind or "", c.wording or "", c.until)
            for c in self.changes
            if c.action == TermAction.ADD
        ]
        return kept + added

    def _require_kind(self, kind: OrderApplicationKind, what: str) -> None:
        if self.kind is not kind:
            raise NotForThisApplication(self.kind.value, what)

    @event(TermChangeProposed)
    def _term_change_proposed(
        self, change: TermChange, replacing: int | None, trace: Trace
    ) -> None:
        if replacing is None:
            self.changes = [*self.changes, change]
        else:
            self.changes = [change if n == replacing else c
                            for n, c in enumerate(self.changes, start=1)]  # fmt: skip

    @event(RenewalCaseSetOut)
    def _renewal_case_set_out(self, case: RenewalCase, trace: Trace) -> None:
        self.renewal = case

    @event(PoliceResponseRecorded)
    def _police_response_recorded(self, response: PoliceResponse, trace: Trace) -> None:
        self.response = response
