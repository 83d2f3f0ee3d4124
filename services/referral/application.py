"""The referral service layer: each method loads, calls one aggregate method, saves."""

from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from plumbing.configuration import SCREENING_RULES, adopt, screening_rules
from plumbing.eventstore import EventSourcedService
from plumbing.personal import PersonalDataErased
from plumbing.snapshots import every_interval
from schemas.application import (
    ApplicationOpenedV1,
    ApplicationStage,
    ApplicationStageChangedV1,
    OrderExpiredV1,
    OrderGrantedV1,
)
from schemas.common import OrderSought, ReferredSubject
from schemas.configuration import ScreeningRules, ScreeningRulesPublishedV1
from schemas.district import (
    DistrictDisposal,
    DistrictDisposalV1,
    DistrictReferral,
    DistrictReferralV1,
)
from schemas.envelope import Envelope
from schemas.refusals import CommandRejected, NotFound
from schemas.trace import Trace
from services.referral.domain import (
    Candidate,
    DeclineReason,
    DismissalReason,
    EverHeld,
    NothingToRectify,
    Referral,
    ScreenedDisposal,
    ScreeningCoverage,
    Subject,
    SubjectRecord,
    SuspectDisposals,
    ever_held,
    referral_date,
)
from services.referral.personal import PERSONAL
from services.referral.queue import open_caseloads
from services.referral.screening import Disposal, screen, screens
from services.referral.wire import WIRE


class ReferralNotFound(NotFound):
    def __init__(self, referral_id: UUID) -> None:
        super().__init__(f"no referral {referral_id}")


class CandidateIsAnotherPerson(CommandRejected):
    def __init__(self, flagged: str, given: str) -> None:
        super().__init__(f"the candidate is nominal {flagged}, not {given}")


class NotACaseworker(CommandRejected):
    def __init__(self, given: str, caseworkers: list[str]) -> None:
        super().__init__(
            f"{given!r} is not one of the force's caseworkers: {', '.join(caseworkers)}"
        )


class NothingHeldAbout(NotFound):
    def __init__(self) -> None:
        super().__init__("no personal data is held about that person")


class ReferralService(EventSourcedService):
    name = "referral"
    wire = WIRE
    personal_fields = PERSONAL
    value_types = (Subject,)
    snapshotting_intervals = every_interval(SuspectDisposals, SubjectRecord)

    @property
    def screening_rules(self) -> ScreeningRules:
        return screening_rules(self)

    def when_screening_rules_published_adopt_them(
        self, envelope: ScreeningRulesPublishedV1
    ) -> None:
        published = envelope.payload
        document = published.rules.model_dump(mode="json")
        adopt(self, SCREENING_RULES, document, published.reason, envelope)

    def will_load(self, envelope: Envelope) -> list[UUID]:
        if isinstance(envelope, DistrictReferralV1):
            referred = envelope.payload
            return [
                Referral.create_id(referred.district, referred.district_reference),
                SubjectRecord.create_id(referred.subject.nominal_id),
            ]
        if isinstance(envelope, DistrictDisposalV1) and (
            nominal := self._screened_suspect(envelope.payload)
        ):
            return [
                SuspectDisposals.create_id(nominal),
                SubjectRecord.create_id(nominal),
                ScreeningCoverage.create_id(),
            ]
        return []

    def when_disposal_received_screen_it(self, envelope: DistrictDisposalV1) -> UUID | None:
        """Screen a non-positive disposal of an identified suspect; a disposal seen before
        (a rescan) changes nothing. Returns the candidate raised, if any."""
        closed = envelope.payload
        suspect = self._screened_suspect(closed)
        if suspect is None:
            return None
        history_id = SuspectDisposals.create_id(suspect)
        history = self.load(history_id) if history_id in self.repository else None
        if history is not None:
            history.seen_again(suspect)
            if history.has_seen(closed.crime_reference):
                return None
        disposal = Disposal(
            crime_reference=closed.crime_reference,
            outcome_code=closed.outcome_code,
            offence_category=closed.offence_category,
            victim_age_band=closed.victim_age_band.value,
            intelligence_flags=tuple(closed.intelligence_flags),
            disposed_on=closed.disposed_on,
        )
        rules = self.screening_rules
        screening = screen(disposal, history.earlier_dates() if history else [], rules)
        if screening is None:
            return None
        noted = (closed.crime_reference, closed.disposed_on, closed.outcome_code)
        if history is None:  # the suspect's first, noted as their history starts
            history = SuspectDisposals(suspect, *noted)
        else:
            history.note(*noted)
        trace = Trace.caused_by(envelope, "service:referral")
        # whatever it scored, the person's record now holds it, to be reviewed in its time
        record = self._subject_record(suspect)
        record.seen_again(suspect)  # a person erased starts afresh
        record = self._reviewed(record)
        effects = [history, record, self._coverage_with(closed.disposed_on, trace)]
        if record.ever_ordered:  # for the evaluation (before an order: published with it)
            effects += history.screened(trace, closed.crime_reference)
        if screening.score < rules.threshold:
            self.save(*effects)
            return None
        candidate = Candidate(
            district=closed.district,
            crime_reference=closed.crime_reference,
            suspect_nominal_id=suspect,
            offence=closed.offence,
            outcome_code=closed.outcome_code,
            score=screening.score,
            rules_fired=list(screening.fired),
            rules_version=screening.rules_version,
            trace=trace,
        )
        candidate.link_to_existing(record.links())
        self.save_new(candidate, *effects)
        return candidate.id

    def _screened_suspect(self, disposal: DistrictDisposal) -> str | None:
        """The suspect of a disposal the rules screen (an outcome they name), if identified;
        None for the others, which change nothing, so nothing is read for them."""
        if not screens(disposal.outcome_code, disposal.intelligence_flags, self.screening_rules):
            return None
        return disposal.suspect_nominal_id

    def promote_candidate(
        self,
        candidate_id: UUID,
        subject: ReferredSubject,
        order_sought: OrderSought,
        grounds: str,
        trace: Trace,
        referred_on: date | None = None,
    ) -> UUID:
        """A caseworker turns a candidate into a referral, with the subject's details."""
        candidate: Candidate = self.load(candidate_id, NotFound(f"no candidate {candidate_id}"))
        if subject.nominal_id != candidate.suspect_nominal_id:
            raise CandidateIsAnotherPerson(candidate.suspect_nominal_id, subject.nominal_id)
        now = self.now()
        referral = Referral(
            district=candidate.district,
            district_reference=f"SCAN-{candidate.crime_reference}",
            source="proactive scan",
            referring_officer=trace.actor,
            subject=Subject(**subject.model_dump()),
            order_sought=order_sought.value,
            grounds=grounds,
            crime_references=[candidate.crime_reference],
            previous_convictions=[],
            referred_on=referral_date(referred_on, now),
            received_at=now,
            trace=trace,
        )
        candidate.promote(referral.id, trace)
        record = self._subject_record(candidate.suspect_nominal_id)
        record.seen_again(candidate.suspect_nominal_id)
        referral.link_to_existing(record.links())
        record.open_referral(referral.id)
        self.save(candidate, referral, self._reviewed(record))
        return referral.id

    def dismiss_candidate(
        self, candidate_id: UUID, reason: DismissalReason, detail: str, trace: Trace
    ) -> None:
        candidate: Candidate = self.load(candidate_id, NotFound(f"no candidate {candidate_id}"))
        candidate.dismiss(reason, detail, trace)
        self.save(candidate)

    def get_candidate(self, candidate_id: UUID) -> dict[str, Any]:
        candidate: Candidate = self.load(candidate_id, NotFound(f"no candidate {candidate_id}"))
        return {
            "id": str(candidate.id),
            "district": candidate.district,
            "crime_reference": candidate.crime_reference,
            "suspect_nominal_id": candidate.suspect_nominal_id,
            "offence": candidate.offence,
            "outcome_code": candidate.outcome_code,
            "score": candidate.score,
            "rules_fired": candidate.rules_fired,
            "rules_version": candidate.rules_version,
            "status": candidate.status,
            "referral_id": str(candidate.referral_id) if candidate.referral_id else None,
            "links": candidate.links,
        }

    def when_application_opened_note_it(self, envelope: ApplicationOpenedV1) -> None:
        opened = envelope.payload
        self._note_on_record(
            envelope,
            opened.subject_nominal_id,
            lambda record: record.open_application(envelope.aggregate_id, opened.referral_id),
        )

    def when_application_decided_close_it(self, envelope: ApplicationStageChangedV1) -> None:
        """An application decided without an order is no longer open casework (one granted
        is closed by its order)."""
        decided = envelope.payload
        if decided.stage is not ApplicationStage.DECIDED:
            return
        nominal = self._get(decided.referral_id).subject.nominal_id
        self._note_on_record(
            envelope, nominal, lambda record: record.close_application(envelope.aggregate_id)
        )

    def when_order_granted_note_it(self, envelope: OrderGrantedV1) -> None:
        """The order goes on the person's record; the first made against them publishes the
        disposals screened that named them, for the evaluation (later ones are published as
        they are screened)."""
        granted = envelope.payload
        nominal = granted.subject_nominal_id

        def made(record: SubjectRecord) -> list[ScreenedDisposal]:
            record.seen_again(nominal)  # one erased: an SHPO made on conviction comes unreferred
            first = not record.ever_ordered
            record.order_made(granted.order_reference, granted.application_id)
            if not first or SuspectDisposals.create_id(nominal) not in self.repository:
                return []
            trace = Trace.caused_by(envelope, "service:referral")
            return self._suspect_disposals(nominal).screened(trace)

        self._note_on_record(envelope, nominal, made)

    def when_order_expired_note_it(self, envelope: OrderExpiredV1) -> None:
        expired = envelope.payload
        self._note_on_record(
            envelope,
            expired.subject_nominal_id,
            lambda record: record.order_ended(expired.order_reference),
        )

    def erase_subject(self, nominal_id: str, reason: str, trace: Trace) -> UUID:
        """Record the disposal of a person's personal data, then destroy their key: whatever
        was sealed with it, in every store, topic and copy, reads as erased from then on.
        Refused while an order against them is in force. Returns the destroyed key's id."""
        record = self._subject_record(nominal_id)
        if self.personal.keys.find(nominal_id) is None and record.disposed_at is None:
            raise NothingHeldAbout()
        record.dispose(reason, self.now(), trace)
        self.save(record)
        key_id = self.personal.erase(nominal_id)
        assert key_id is not None
        return key_id

    def rectify_subject(
        self,
        nominal_id: str,
        name: str | None,
        date_of_birth: date | None,
        reason: str,
        trace: Trace,
    ) -> list[UUID]:
        """Correct how a person was recorded (DPA 2018 s.46) on every referral that names
        them; each correction is published, and the applications made from them follow.
        Refused once their personal data has been disposed of. Returns the referrals."""
        held = ever_held(self.events.get(SubjectRecord.create_id(nominal_id)))
        if held.disposed is not None:
            raise PersonalDataErased
        referrals = [self._get(r) for r in held.referrals if self._exists(r)]
        if not referrals:
            raise NothingHeldAbout()
        changed = []
        for referral in referrals:
            with suppress(NothingToRectify):
                referral.rectify_subject(name, date_of_birth, reason, self.now(), trace)
                changed.append(referral)
        if not changed:
            raise NothingToRectify
        self.save(*changed)
        return [referral.id for referral in changed]

    def subject_access(self, nominal_id: str) -> dict[str, Any]:
        """What this service holds about a person, and the ids by which the others hold the
        rest: every referral, application and order ever linked to them, the disposals
        screened with them as suspect, and the disposal of their personal data if it was."""
        record_id = SubjectRecord.create_id(nominal_id)
        screened_id = SuspectDisposals.create_id(nominal_id)
        if record_id not in self.repository and screened_id not in self.repository:
            raise NothingHeldAbout()
        held = ever_held(self.events.get(record_id))
        history = self._suspect_disposals(nominal_id)
        disposed = held.disposed
        return {
            "subject_key": str(record_id),
            "erased": None
            if disposed is None
            else {"at": disposed.at, "by": disposed.trace.actor, "reason": disposed.reason},
            "referrals": [self._referral_as_held(r) for r in held.referrals if self._exists(r)],
            "applications": [str(a) for a in held.applications],
            "orders": held.orders,
            "disposals_screened": [
                {
                    "crime_reference": crime,
                    "disposed_on": on,
                    "outcome_code": history.outcomes.get(crime),
                }
                for crime, on in history.disposals.items()
            ],  # fmt: skip
            "review": self._review_as_held(record_id, held),
        }

    def _review_as_held(self, record_id: UUID, held: EverHeld) -> dict[str, Any] | None:
        """The person's MoPI review: group, date, and each decision to retain their record."""
        if record_id not in self.repository:
            return None
        record = self._subject_record_by_id(record_id)
        return {
            "group": record.review_group,
            "due_on": record.review_due_on,
            "retained": [
                {"by": r.trace.actor, "at": r.at, "reason": r.reason, "until": r.next_review_on}
                for r in held.retained
            ],
        }

    # MoPI review ---------------------------------------------------------------------------

    def _reviewed(self, record: SubjectRecord) -> SubjectRecord:
        """The record with its review rescheduled after a change to the person's casework."""
        record.schedule_review(self.settings.mopi_review_years(), self.now().date())
        return record

    def schedule_first_review(self, record_id: UUID) -> None:
        """Date the review of a record kept before reviews were (the period runs from its
        last change)."""
        record = self._subject_record_by_id(record_id)
        if record.review_due_on is None:
            years = self.settings.mopi_review_years()
            record.schedule_review(years, record.modified_on.date())
            self.save(record)

    def queue_review_if_due(self, record_id: UUID) -> bool:
        """Queue the person's record for review if its date has come; True if queued."""
        record = self._subject_record_by_id(record_id)
        try:
            record.fall_due(self.now().date())
        except CommandRejected:
            return False
        self.save(record)
        return True

    def retain_on_review(
        self, record_id: UUID, reason: str, next_review_on: date, trace: Trace
    ) -> None:
        record = self._subject_record_by_id(record_id)
        record.retain(reason, next_review_on, self.now(), trace)
        self.save(record)

    def dispose_on_review(self, record_id: UUID, reason: str, trace: Trace) -> UUID:
        """Record the disposal decided on review, then destroy the person's key (as
        `erase_subject`). Returns the destroyed key's id."""
        record = self._subject_record_by_id(record_id)
        record.dispose_on_review(reason, self.now(), trace)
        self.save(record)
        key_id = self.personal.erase(record.subject_nominal_id)
        assert key_id is not None
        return key_id

    def get_review(self, record_id: UUID) -> dict[str, Any]:
        record = self._subject_record_by_id(record_id)
        return {
            "subject_key": str(record.id),
            "subject_nominal_id": record.subject_nominal_id,
            "group": record.review_group,
            "due_on": record.review_due_on,
            "due": record.review_is_due,
            "open_casework": record.links(),
            "disposed_at": record.disposed_at,
        }

    def _subject_record_by_id(self, record_id: UUID) -> SubjectRecord:
        return self.load(record_id, NotFound(f"no subject record {record_id}"))

    def open_casework(self, subject_nominal_id: str) -> list[str]:
        """The subject's open referrals and applications and live orders, as references."""
        return self._subject_record(subject_nominal_id).links()

    def _note_on_record(
        self,
        envelope: Envelope,
        subject_nominal_id: str,
        change: Callable[[SubjectRecord], Iterable[Aggregate] | None],
    ) -> None:
        """Change the person's record once for the upstream event, saving with it whatever
        else the change returns."""
        if self.already_processed(envelope.producer, envelope.sequence):
            return
        record = self._subject_record(subject_nominal_id)
        also = change(record) or ()
        self.save_processed(
            self._reviewed(record), *also, upstream=envelope.producer, sequence=envelope.sequence
        )

    def _subject_record(
        self, subject_nominal_id: str, referral_id: UUID | None = None
    ) -> SubjectRecord:
        """The person's record; one new for them started with `referral_id`, if given."""
        return self.load_or_new(
            SubjectRecord.create_id(subject_nominal_id),
            lambda: SubjectRecord.start(
                subject_nominal_id,
                self.settings.mopi_review_years(),
                self.now().date(),
                referral_id,
            ),
        )

    def _coverage_with(self, disposed_on: date, trace: Trace) -> ScreeningCoverage:
        """How far back screening reaches, now that it has taken a disposal of that day."""
        coverage = self.load_or_new(
            ScreeningCoverage.create_id(),
            lambda: ScreeningCoverage(earliest=disposed_on, trace=trace),
        )
        coverage.include(disposed_on, trace)
        return coverage

    def _suspect_disposals(self, suspect_nominal_id: str) -> SuspectDisposals:
        return self.load_or_new(
            SuspectDisposals.create_id(suspect_nominal_id),
            lambda: SuspectDisposals(suspect_nominal_id=suspect_nominal_id),
        )

    def receive_referral(
        self,
        referral: DistrictReferral,
        source: str,
        trace: Trace,
        referred_at: datetime | None = None,
    ) -> UUID:
        """Record a referral; the same district reference again returns the same referral."""
        referral_id = Referral.create_id(referral.district, referral.district_reference)
        if self._exists(referral_id):
            return referral_id
        subject = Subject(**referral.subject.model_dump())
        now = self.now()
        aggregate = Referral(
            district=referral.district,
            district_reference=referral.district_reference,
            source=source,
            referring_officer=referral.referring_officer,
            subject=subject,
            order_sought=referral.order_sought.value,
            grounds=referral.grounds,
            crime_references=list(referral.crime_references),
            previous_convictions=list(referral.previous_convictions),
            referred_on=referral_date(referred_at.date() if referred_at else None, now),
            received_at=now,
            trace=trace,
        )
        record = self._subject_record(subject.nominal_id, aggregate.id)
        record.seen_again(subject.nominal_id)
        aggregate.link_to_existing(record.links(besides=aggregate.id))
        record.open_referral(aggregate.id)  # (a record new for them started with it)
        self.save_new(aggregate, self._reviewed(record))
        return referral_id

    def when_district_referral_received_record_it(self, envelope: DistrictReferralV1) -> UUID:
        trace = Trace.caused_by(envelope)
        return self.receive_referral(
            envelope.payload, envelope.producer, trace, referred_at=envelope.occurred_at
        )

    def start_review(self, referral_id: UUID, trace: Trace) -> None:
        referral = self._get(referral_id)
        referral.start_review(self.now(), trace)
        self.save(referral)

    def accept_referral(
        self, referral_id: UUID, trace: Trace, caseworker: str | None = None
    ) -> str:
        """Accept, and assign to `caseworker` or else to the one with the fewest open cases.
        Returns the caseworker."""
        referral = self._get(referral_id)
        now = self.now()
        referral.accept(now, trace)
        if caseworker is None:
            caseworker, how = self._least_loaded_caseworker(), "least open caseload"
        else:
            caseworker, how = self._one_of_the_caseworkers(caseworker), "by hand"
        referral.assign(caseworker, how, now, trace)
        self.save(referral)
        return caseworker

    def reassign_referral(
        self, referral_id: UUID, caseworker: str, reason: str, trace: Trace
    ) -> None:
        referral = self._get(referral_id)
        referral.reassign(self._one_of_the_caseworkers(caseworker), reason, self.now(), trace)
        self.save(referral)

    def return_referral(self, referral_id: UUID, questions: list[str], trace: Trace) -> None:
        referral = self._get(referral_id)
        referral.return_for_information(questions, self.now(), trace)
        self.save(referral)

    def resubmit_referral(self, referral_id: UUID, answers: str, trace: Trace) -> None:
        referral = self._get(referral_id)
        referral.resubmit(answers, self.now(), trace)
        self.save(referral)

    def flag_if_overdue(self, referral_id: UUID) -> bool:
        """Raise a TriageOverdue event if the referral has waited past the service level."""
        referral = self._get(referral_id)
        trace = Trace("service:referral", referral_id, referral_id)
        try:
            referral.flag_overdue(self.settings.triage_service_level_days, self.now(), trace)
        except CommandRejected:
            return False
        self.save(referral)
        return True

    def _one_of_the_caseworkers(self, given: str) -> str:
        """`given`, if the force has that caseworker: a referral is no one else's case."""
        if given not in self.settings.caseworkers:
            raise NotACaseworker(given, self.settings.caseworkers)
        return given

    def _least_loaded_caseworker(self) -> str:
        loads = open_caseloads(self.process_recorder)
        return min(self.settings.caseworkers, key=lambda c: loads.get(c, 0))

    def decline_referral(
        self, referral_id: UUID, reason: DeclineReason, detail: str, trace: Trace
    ) -> None:
        referral = self._get(referral_id)
        referral.decline(reason, detail, self.now(), trace)
        record = self._subject_record(referral.subject.nominal_id)
        record.close_referral(referral.id)
        self.save(referral, self._reviewed(record))

    def referral_for(self, district: str, district_reference: str) -> UUID:
        referral_id = Referral.create_id(district, district_reference)
        if not self._exists(referral_id):
            raise ReferralNotFound(referral_id)
        return referral_id

    def get_referral(self, referral_id: UUID) -> dict[str, Any]:
        referral = self._get(referral_id)
        return {
            "id": str(referral.id),
            "version": referral.version,
            "district": referral.district,
            "district_reference": referral.district_reference,
            "status": referral.status.value,
            "order_sought": referral.order_sought,
            "subject_nominal_id": referral.subject.nominal_id,
            "source": referral.source,
            "caseworker": referral.caseworker,
            "questions": referral.questions,
            "links": referral.links,
            "received_at": referral.received_at.isoformat(),
            "hours_in_each_state": {
                state: round(hours, 2)
                for state, hours in referral.time_in_each_state(self.now()).items()
            },
            "history": [
                {"status": s.value, "by": by, "at": at.isoformat()}
                for s, by, at in referral.history
            ],
        }

    def _referral_as_held(self, referral_id: UUID) -> dict[str, Any]:
        """A referral with every detail of the person it holds, opened (a subject access)."""
        referral = self._get(referral_id)
        declined = getattr(referral, "decline_reason", None)
        return {
            **self.get_referral(referral_id),
            "subject": vars(referral.subject),
            "referring_officer": referral.referring_officer,
            "referred_on": referral.referred_on,
            "grounds": referral.grounds,
            "crime_references": referral.crime_references,
            "previous_convictions": referral.previous_convictions,
            "answers": getattr(referral, "answers", None),
            "declined": {"reason": declined[0], "detail": declined[1]} if declined else None,
        }

    def _get(self, referral_id: UUID) -> Referral:
        return self.load(referral_id, ReferralNotFound(referral_id))

    def _exists(self, referral_id: UUID) -> bool:
        return referral_id in self.repository
