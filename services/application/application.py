"""The application service layer: applications opened from referrals, orders granted."""

from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import date, timedelta
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import Recording

from plumbing.configuration import team_directory
from plumbing.eventstore import EventSourcedService
from plumbing.snapshots import every_interval
from schemas.application import Applicant, NotificationKind, OrderApplicationKind
from schemas.breach import BreachOutcome, BreachOutcomeRecordedV1
from schemas.configuration import TeamDirectory
from schemas.referral import ReferralAcceptedV1, ReferralSubjectRectifiedV1
from schemas.refusals import CommandRejected, NotFound
from schemas.trace import Trace
from services.application.casework import (
    EvidenceItem,
    LegalTest,
    PoliceResponse,
    ProposedTerm,
    RenewalCase,
    TermChange,
)
from services.application.domain import (
    Application,
    CourtApplication,
    CourtCaseOrder,
    NationalRecordTask,
    NoDeadlineToWarnOf,
    NothingToEscalate,
    Notification,
    NotificationNotOverdue,
    Order,
    OrderApplication,
    OrderNotDueForReview,
    OrderNotDueToExpire,
    OrdersAgainst,
    Subject,
    Term,
)
from services.application.personal import PERSONAL
from services.application.wire import WIRE


class ApplicationNotFound(NotFound):
    def __init__(self, application_id: UUID, kind: str = "application") -> None:
        super().__init__(f"no {kind} {application_id}")


class OrderNotFound(NotFound):
    def __init__(self, order_id: UUID) -> None:
        super().__init__(f"no order {order_id}")


A = TypeVar("A")


class NoTeamForDistrict(CommandRejected):
    def __init__(self, district: str) -> None:
        super().__init__(f"no MOSOVO team manages orders for district {district!r}")


class OrderAlreadyRecorded(CommandRejected):
    def __init__(self, court: str, case_number: str) -> None:
        super().__init__(f"an order made by {court} in case {case_number} is recorded already")


class UnknownTeam(CommandRejected):
    def __init__(self, team: str) -> None:
        super().__init__(f"the team directory has no team {team!r}")


class ApplicationService(EventSourcedService):
    name = "application"
    wire = WIRE
    personal_fields = PERSONAL
    value_types = (
        Subject,
        Term,
        Notification,
        NationalRecordTask,
        LegalTest,
        ProposedTerm,
        EvidenceItem,
        TermChange,
        RenewalCase,
        PoliceResponse,
    )
    snapshotting_intervals = every_interval(Order)

    @property
    def teams(self) -> TeamDirectory:
        return team_directory(self)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Every change to an order raises its task to update the national record."""
        within = timedelta(hours=self.settings.national_record_ack_hours)
        for obj in objs:
            if isinstance(obj, Order):
                obj.raise_national_record_tasks(self.now(), within)
        return super().save(*objs, **kwargs)

    def when_referral_accepted_open_application(self, envelope: ReferralAcceptedV1) -> None:
        if self.already_processed(envelope.producer, envelope.sequence):
            return
        accepted = envelope.payload
        application = Application(
            referral_id=accepted.referral_id,
            district=accepted.district,
            # A referral that was unsure which order fits starts as an SRO: no conviction needed.
            order_type="SHPO" if accepted.order_sought == "SHPO" else "SRO",
            subject=Subject(**accepted.subject.model_dump()),
            grounds=accepted.grounds,
            opened_at=self.now(),
            trace=Trace.caused_by(envelope, "service:application"),
        )
        self.save_processed(application, upstream=envelope.producer, sequence=envelope.sequence)

    def when_referral_subject_rectified_correct_it(
        self, envelope: ReferralSubjectRectifiedV1
    ) -> None:
        """The application made from the referral takes the corrected name and date of birth."""
        rectified = envelope.payload
        application_id = Application.create_id(rectified.referral_id)
        if self.already_processed(envelope.producer, envelope.sequence) or (
            application_id not in self.repository
        ):
            return
        application = self._get(application_id)
        trace = Trace.caused_by(envelope, "service:application")
        application.rectify_subject(
            Subject(**rectified.subject.model_dump()), rectified.reason, trace
        )
        self.save_processed(application, upstream=envelope.producer, sequence=envelope.sequence)

    def when_breach_convicted_require_notification(
        self, envelope: BreachOutcomeRecordedV1
    ) -> None:
        """A person convicted of breaching an SRO becomes subject to the full notification
        requirements (domain.md): their register of orders notes it, and each SRO in force
        against them says so from then on (and each made later, when it is made)."""
        outcome = envelope.payload
        if outcome.outcome is not BreachOutcome.CONVICTED or outcome.order_id is None:
            return
        if self.already_processed(envelope.producer, envelope.sequence):
            return
        breached = self._order(outcome.order_id)
        if breached.statutory_type != "SRO":
            return
        register = self._register(breached.subject_nominal_id)
        changed: list[Any] = [register] if register.convicted_of_breaching_an_sro() else []
        orders = {breached.id: breached}
        for order_id in register.orders:
            orders.setdefault(order_id, self._order(order_id))
        trace, today = Trace.caused_by(envelope, "service:application"), self.now().date()
        for order in orders.values():
            if order.in_force_on(today) and order.convicted_of_breach(trace):
                changed.append(order)
        if changed:
            self.save_processed(*changed, upstream=envelope.producer, sequence=envelope.sequence)

    def grant_interim_order(
        self,
        application_id: UUID,
        court: str,
        made_on: date,
        ends_on: date | None,
        terms: list[Term],
        trace: Trace,
    ) -> str:
        """The court's interim order, allocated like any other; the application goes on."""
        application = self._get(application_id)
        order = application.grant_interim_order(court, made_on, ends_on, terms, trace)
        return self._allocate_and_save(order, trace, application)

    def set_out_legal_test(self, application_id: UUID, test: LegalTest, trace: Trace) -> None:
        self._change(application_id, lambda a: a.set_out_legal_test(test, trace), Application)

    def propose_term(self, application_id: UUID, term: ProposedTerm, trace: Trace) -> None:
        self._change(application_id, lambda a: a.propose_term(term, trace), Application)

    def add_evidence(self, application_id: UUID, item: EvidenceItem, trace: Trace) -> None:
        self._change(application_id, lambda a: a.add_evidence(item, trace), Application)

    def propose_duration(
        self, application_id: UUID, ends_on: date | None, until_further_order: bool, trace: Trace
    ) -> None:
        self._change(
            application_id,
            lambda a: a.propose_duration(ends_on, until_further_order, trace),
            Application,
        )

    def submit_for_quality_assurance(self, application_id: UUID, trace: Trace) -> None:
        self._change(
            application_id, lambda a: a.submit_for_quality_assurance(trace), CourtApplication
        )

    def complete_quality_assurance(self, application_id: UUID, trace: Trace) -> list[str]:
        """Run the checklist; returns what is missing (nothing: it went to legal services)."""
        application = self._load(
            application_id, CourtApplication, ApplicationNotFound(application_id)
        )
        missing = application.complete_quality_assurance(
            self.settings.current_date(), self.settings.complaint_time_limit_months, trace
        )
        self.save(application)
        return missing

    # Applications about an order: to vary, renew or discharge it.

    def open_order_application(
        self,
        order_id: UUID,
        kind: OrderApplicationKind,
        applicant: Applicant,
        grounds: str,
        received_on: date | None,
        trace: Trace,
    ) -> UUID:
        order = self._order(order_id)
        application = order.application_to_court(
            kind, applicant, grounds, received_on, self.now(), trace
        )
        self.save(application)
        return application.id

    def propose_term_change(
        self, application_id: UUID, change: TermChange, replacing: int | None, trace: Trace
    ) -> None:
        self._change(
            application_id,
            lambda a: a.propose_term_change(change, replacing, trace),
            OrderApplication,
        )

    def set_out_renewal_case(self, application_id: UUID, case: RenewalCase, trace: Trace) -> None:
        self._change(
            application_id, lambda a: a.set_out_renewal_case(case, trace), OrderApplication
        )

    def record_police_response(
        self, application_id: UUID, response: PoliceResponse, trace: Trace
    ) -> None:
        self._change(
            application_id, lambda a: a.record_police_response(response, trace), OrderApplication
        )

    def grant_order_application(self, application_id: UUID, decided_on: date, trace: Trace) -> None:
        """The court granted the application: its order is varied, renewed or discharged."""
        application = self._load(
            application_id, OrderApplication, ApplicationNotFound(application_id)
        )
        order = self._order(application.order_id)
        application.grant(order, decided_on, trace)
        self.save(application, order)

    def return_to_drafting(self, application_id: UUID, comments: str, trace: Trace) -> None:
        self._change(
            application_id, lambda a: a.return_to_drafting(comments, trace), CourtApplication
        )

    def make_application(
        self, application_id: UUID, court: str, made_on: date, trace: Trace
    ) -> None:
        self._change(
            application_id,
            lambda a: a.make_application(
                court, made_on, self.settings.complaint_time_limit_months, trace
            ),
            CourtApplication,
        )

    def list_hearing(self, application_id: UUID, hearing_on: date, trace: Trace) -> None:
        self._change(application_id, lambda a: a.list_hearing(hearing_on, trace), CourtApplication)

    def refuse(self, application_id: UUID, decided_on: date, reason: str, trace: Trace) -> None:
        self._decided(
            application_id, decided_on, trace, lambda a: a.refuse(decided_on, reason, trace)
        )

    def withdraw(self, application_id: UUID, decided_on: date, reason: str, trace: Trace) -> None:
        self._decided(
            application_id, decided_on, trace, lambda a: a.withdraw(decided_on, reason, trace)
        )

    def _decided(
        self,
        application_id: UUID,
        on: date,
        trace: Trace,
        decide: Callable[[CourtApplication], None],
    ) -> None:
        """Refuse or withdraw the application, and save it with the interim order made pending
        it, which ends with it."""
        application = self._load(
            application_id, CourtApplication, ApplicationNotFound(application_id)
        )
        decide(application)
        how = f"the main application was {application.outcome}"
        self.save(application, *self._interim_ended(application, on, how, trace))

    def record_matter_date(self, application_id: UUID, matter_on: date, trace: Trace) -> None:
        self._change(
            application_id, lambda a: a.record_matter_relied_on(matter_on, trace), Application
        )

    def warn_if_deadline_near(self, application_id: UUID, today: date) -> bool:
        """Raise the complaint-deadline warning if it is due; False if it is not."""
        application = self._get(application_id)
        trace = Trace("service:application", application_id, application_id)
        try:
            application.warn_of_complaint_deadline(
                today,
                self.settings.complaint_time_limit_months,
                self.settings.complaint_warning_days,
                trace,
            )
        except NoDeadlineToWarnOf:
            return False
        self.save(application)
        return True

    def _change(
        self,
        application_id: UUID,
        command: Callable[[A], None],
        kind: type[A],
    ) -> None:
        """A step an application of this kind takes (`CourtApplication`: any, whatever it
        asks for)."""
        application = self._load(application_id, kind, ApplicationNotFound(application_id))
        command(application)
        self.save(application)

    def grant_order(
        self,
        application_id: UUID,
        court: str,
        made_on: date,
        ends_on: date | None,
        terms: list[Term],
        trace: Trace,
    ) -> str:
        """Record the court's grant, create the order and allocate it to the district's team;
        an interim order made on the application, and the person's earlier orders, are
        replaced by it."""
        application = self._get(application_id)
        order = application.grant_order(court, made_on, ends_on, terms, trace)
        how = f"replaced by {order.reference}"
        interim = self._interim_ended(application, made_on, how, trace)
        return self._allocate_and_save(order, trace, application, ended=interim)

    def record_order_made_on_conviction(
        self,
        subject_nominal_id: str,
        district: str,
        court: str,
        case_number: str,
        made_on: date,
        ends_on: date | None,
        terms: list[Term],
        trace: Trace,
    ) -> str:
        """Record an SHPO a court made on conviction, which reaches the force from the court,
        not from an application: allocated, and replacing the person's earlier orders, as one
        granted on an application is."""
        named = self.personal.keys.blinded("court-case", *CourtCaseOrder.naming(court, case_number))
        if named in self.repository:
            raise OrderAlreadyRecorded(court, case_number)
        order = Order.made_on_conviction(
            subject_nominal_id, district, court, case_number, made_on, ends_on, terms, trace
        )
        recorded = CourtCaseOrder(named=named, order_id=order.id)
        return self._allocate_and_save(order, trace, recorded)

    def _register(self, subject_nominal_id: str) -> OrdersAgainst:
        """The person's register of orders, named by their nominal blinded."""
        named = self.personal.keys.blinded("orders-against", subject_nominal_id)
        register: OrdersAgainst = self.load_or_new(named, lambda: OrdersAgainst(named=named))
        return register

    def _replacing(
        self, order: Order, register: OrdersAgainst, trace: Trace, *ended: Order
    ) -> list[Any]:
        """The person's register of orders with `order` in it, and the orders it replaces,
        ended (`ended`: those ended already). A full order replaces those in force on the day
        it is made; one recorded late, made before another full order the person is under, is
        itself replaced by that one on the day it was made."""
        others = register.order_made(order.id, order.interim)
        if order.interim:  # made only pending its application: it replaces none
            return [register, *ended]
        replaced = {o.id: o for o in ended}
        for order_id in others:
            replaced.setdefault(order_id, self._order(order_id))
        for other in sorted(replaced.values(), key=lambda o: o.made_on):
            other.replaced_by(order, trace)
            if not other.interim and other.made_on > order.made_on:
                order.replaced_by(other, trace)
        return [register, *(other for other in replaced.values() if other.pending_events)]

    def _interim_ended(
        self, application: CourtApplication, on: date, how: str, trace: Trace
    ) -> list[Order]:
        """The interim order made pending this application, ended with its outcome (if one
        was made)."""
        if not isinstance(application, Application) or application.interim_order_id is None:
            return []
        interim = self._order(application.interim_order_id)
        interim.end_with_main_application(on, how, trace)
        return [interim]

    def _allocate_and_save(
        self, order: Order, trace: Trace, *others: Any, ended: Sequence[Order] = ()
    ) -> str:
        """Allocate a new order to its district's team, replace the person's orders it
        replaces (`ended`: those ended with it already), raise what is due on it already (an
        order recorded late may be over), and save it with `others` (its application)."""
        today = self.now().date()
        order.allocate(self._team_for(order.district), trace)
        register = self._register(order.subject_nominal_id)
        part_2 = register.notification_requirements  # convicted of breaching an SRO
        order.require_notification(self.settings.notification_due_days, today, trace, part_2)
        replacing = self._replacing(order, register, trace, *ended)
        _, opened = self._raise_what_is_due(order, today)
        self.save(order, *others, *replacing, *opened)
        return order.reference

    def reallocate_order(self, order_id: UUID, team: str, reason: str, trace: Trace) -> None:
        if team not in self.teams.teams:
            raise UnknownTeam(team)
        order = self._order(order_id)
        order.reallocate(team, reason, self.now().date(), trace)
        self.save(order)

    def record_notification(
        self,
        order_id: UUID,
        kind: NotificationKind,
        notified_on: date,
        how_received: str,
        name: str | None,
        address: str | None,
        changed_on: date | None,
        trace: Trace,
    ) -> None:
        order = self._order(order_id)
        order.record_notification(kind, notified_on, how_received, name, address, changed_on, trace)
        self.save(order)

    def acknowledge_national_record(
        self, order_id: UUID, task_id: UUID, national_reference: str, trace: Trace
    ) -> None:
        order = self._order(order_id)
        order.acknowledge_national_record(task_id, national_reference, self.now(), trace)
        self.save(order)

    def adjourn(self, application_id: UUID, adjourned_to: date, reason: str, trace: Trace) -> None:
        self._change(
            application_id, lambda a: a.adjourn(adjourned_to, reason, trace), CourtApplication
        )

    def keep_order_calendar(self, order_id: UUID, today: date) -> list[str]:
        """Raise what the calendar says is due for an order: a national record update not
        acknowledged in time, an overdue notification, its renewal review (which opens a
        renewal application), its expiry. Returns what was raised; nothing when it is not
        due (the aggregate decides)."""
        order = self._order(order_id)
        raised, opened = self._raise_what_is_due(order, today)
        if raised:
            self.save(order, *opened)
        return raised

    def _raise_what_is_due(
        self, order: Order, today: date
    ) -> tuple[list[str], list[OrderApplication]]:
        trace = Trace("service:application", uuid5(NAMESPACE_URL, f"calendar/{order.id}"))
        raised, opened = [], []
        with suppress(NothingToEscalate):
            order.escalate_national_record(self.now(), trace)
            raised.append("national record escalated")
        with suppress(NotificationNotOverdue):
            order.flag_notification_overdue(today, trace)
            raised.append("notification overdue")
        with suppress(OrderNotDueForReview):
            months = self.settings.renewal_review_months
            renewal = order.flag_renewal_review(self.now(), months, trace)
            raised.append("renewal review due")
            opened += [renewal] if renewal else []
        with suppress(OrderNotDueToExpire):
            order.expire(today, trace)
            raised.append("expired")
        return raised, opened

    def get_application(self, application_id: UUID) -> dict[str, Any]:
        application = self._get(application_id)
        return {
            "id": str(application.id),
            "referral_id": str(application.referral_id),
            "district": application.district,
            "order_type": application.order_type,
            "subject": vars(application.subject),
            "stage": application.stage.value,
            "outcome": application.outcome.value if application.outcome else None,
            "outcome_reason": application.outcome_reason,
            "legal_test": vars(application.legal_test) if application.legal_test else None,
            "terms": [vars(t) for t in application.terms],
            "evidence": [vars(e) for e in application.evidence],
            "ends_on": application.ends_on,
            "until_further_order": application.until_further_order,
            "quality_assurance_missing": application.qa_failures,
            "legal_services_comments": application.comments,
            "matter_relied_on": application.matter_on,
            "complaint_deadline": application.complaint_deadline(
                self.settings.complaint_time_limit_months
            ),
            "deadline_warned_for": application.deadline_warned_for,
            "order_id": str(Order.create_id(application.id)) if application.outcome else None,
            "interim_order_id": str(application.interim_order_id)
            if application.interim_order_id
            else None,
        }

    def get_order(self, order_id: UUID) -> dict[str, Any]:
        order = self._order(order_id)
        return {
            "id": str(order.id),
            "reference": order.reference,
            "application_id": str(order.application_id) if order.application_id else None,
            "court": order.court,
            "case_number": order.case_number,  # an SHPO made on conviction: the court's case
            "order_type": order.order_type,
            "terms": [vars(t) for t in order.terms],
            "district": order.district,
            "team": order.team,
            "made_on": order.made_on.isoformat(),
            "ends_on": order.ends_on.isoformat() if order.ends_on else None,
            "expired": order.expired,
            "interim": order.interim,
            "notification": {
                "requirement": order.notification_basis,
                "within_days": order.notification_days,
                "due_on": order.notification_due_on,
                "status": order.notification_status(self.now().date()),
                "notifications": [vars(n) for n in order.notifications],
            },
            "national_record": [vars(task) for task in order.national_record],
        }

    def get_order_application(self, application_id: UUID) -> dict[str, Any]:
        application = self._load(
            application_id, OrderApplication, ApplicationNotFound(application_id)
        )
        return {
            "id": str(application.id),
            "order_id": str(application.order_id),
            "order_reference": application.order_reference,
            "order_type": application.order_type,
            "district": application.district,
            "team": self._order(application.order_id).team,  # managing the order now
            "kind": application.kind.value,
            "applicant": application.applicant.value,
            "grounds": application.grounds,
            "received_on": application.received_on,
            "opened_at": application.opened_at,
            "stage": application.stage.value,
            "term_changes": [vars(c) for c in application.changes],
            "renewal_case": vars(application.renewal) if application.renewal else None,
            "police_response": vars(application.response) if application.response else None,
            "quality_assurance_missing": application.qa_failures,
            "legal_services_comments": application.comments,
            "court": application.court,
            "hearing_on": application.hearing_on,
            "outcome": application.outcome.value if application.outcome else None,
            "outcome_reason": application.outcome_reason,
            "decided_on": application.decided_on,
        }

    def application_for_referral(self, referral_id: UUID) -> UUID:
        application_id = Application.create_id(referral_id)
        if application_id not in self.repository:
            raise ApplicationNotFound(application_id)
        return application_id

    def _team_for(self, district: str) -> str:
        """The MOSOVO team that manages orders in the district."""
        team = self.teams.team_for_district(district)
        if team is None:
            raise NoTeamForDistrict(district)
        return team

    def _order(self, order_id: UUID) -> Order:
        return self._load(order_id, Order, OrderNotFound(order_id))

    def _get(self, application_id: UUID) -> Application:
        return self._load(application_id, Application, ApplicationNotFound(application_id))

    def _load(self, aggregate_id: UUID, kind: type[A], missing: NotFound) -> A:
        """The aggregate with this id, if it is of this kind; `missing` raised if not."""
        aggregate = self.load(aggregate_id, missing)
        if not isinstance(aggregate, kind):
            raise missing
        return aggregate
