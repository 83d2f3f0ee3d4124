"""Auditor replay: every stored event of one case across the four services, in time order,
and each of the case's aggregates as it stood at any moment. Reads the event stores only."""

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from psycopg import sql

from plumbing.settings import Settings
from schemas import dates
from schemas.refusals import NotFound
from services.application.application import ApplicationService
from services.application.domain import Application, Order, OrderApplication
from services.breach.application import BreachService
from services.breach.domain import Breach, KnownOrder, PossibleBreach
from services.notification.application import NotificationService
from services.notification.domain import Alert
from services.referral.application import ReferralService
from services.referral.domain import Candidate, Referral

SERVICES = (ReferralService, ApplicationService, BreachService, NotificationService)
SERVICE_ORDER = [service.name for service in SERVICES]
NOT_FIELDS = {"originator_id", "originator_version", "originator_topic", "timestamp", "trace"}
PAGE = 500


class CaseNotFound(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(
            f"no referral, application or order has the id or reference {ref!r} "
            "(give a referral, application or order id, or an order reference like ORD-2026-…)"
        )


class NotATime(ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(
            f"{text!r} is not a time: give an ISO 8601 date, meaning the end of that day UTC "
            "(2026-03-01), or a date and time (2026-03-01T14:30:00Z; without a zone, UTC)"
        )


def parse_as_of(text: str) -> datetime:
    """An ISO 8601 moment; a date alone means the end of that day, UTC."""
    with suppress(ValueError):
        return datetime.combine(date.fromisoformat(text), time.max, UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise NotATime(text) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Recorded:
    """One stored event of the case: where and when, who, under which correlation, and what."""

    time: datetime
    service: str
    position: int  # in the service's log
    aggregate: str
    aggregate_id: UUID
    event: str
    version: int
    actor: str | None
    correlation_id: UUID | None
    causation_id: UUID | None
    fields: dict[str, Any]

    @classmethod
    def of(cls, service: str, position: int, event: Any) -> "Recorded":
        aggregate, _, name = type(event).__qualname__.rpartition(".")
        trace = getattr(event, "trace", None)
        return cls(
            event.timestamp,
            service,
            position,
            aggregate,
            event.originator_id,
            name,
            event.originator_version,
            trace.actor if trace else None,
            trace.correlation_id if trace else None,
            trace.causation_id if trace else None,
            {k: v for k, v in vars(event).items() if k not in NOT_FIELDS},
        )


@dataclass(frozen=True)
class State:
    """An aggregate as it stood after its event at `version`."""

    service: str
    aggregate: str
    aggregate_id: UUID
    version: int
    fields: dict[str, Any]


@dataclass(frozen=True)
class Case:
    """The aggregates of one case, in each service, found from its referral (an SHPO made
    on conviction, from the order: it has no referral or application)."""

    referral_id: UUID | None
    application_id: UUID | None
    orders: dict[UUID, str]  # order id: reference
    members: dict[str, set[UUID]]


@dataclass(frozen=True)
class CaseHistory:
    ref: str
    case: Case
    as_of: datetime | None
    generated_at: datetime
    events: list[Recorded]
    states: list[State]


def consult(database_url: str, ref: str, as_of: datetime | None = None) -> CaseHistory:
    """The history of the case `ref` names, up to `as_of` if given, with its states then.

    Every reading of a case's history goes through here: the one place to record who consulted
    which case, when and why (Data Protection Act 2018 s.62), when that log comes.
    """
    with EventStores(database_url) as stores:
        canonical, case = find_case(stores, ref.strip())
        events = sorted(
            (e for e in stores.events_of(case) if as_of is None or e.time <= as_of),
            key=lambda e: (e.time, SERVICE_ORDER.index(e.service), e.position),
        )
        states = stores.states_after(events)
    return CaseHistory(canonical, case, as_of, dates.now(), events, states)


def find_case(stores: "EventStores", ref: str) -> tuple[str, Case]:
    """The case a referral, application or order id, or an order reference, belongs to;
    with the reference in the form it is stored (for file names)."""
    with suppress(ValueError):
        given = UUID(ref)
        return str(given), _case_of(stores, given, ref)
    for granted in stores.scan("application", Order.Granted):
        reference = Order.reference_for(granted.originator_id, granted.made_on)
        if reference == ref.upper():
            return reference, _case_of(stores, granted.originator_id, ref)
    raise CaseNotFound(ref)


def _case_of(stores: "EventStores", aggregate_id: UUID, ref: str) -> Case:
    first = stores.first_event("referral", aggregate_id) or stores.first_event(
        "application", aggregate_id
    )
    if isinstance(first, Order.Granted):
        if first.application_id is None:  # made on conviction: a case of its own
            order = {first.originator_id: Order.reference_for(first.originator_id, first.made_on)}
            return _with_breaches_and_alerts(stores, Case(None, None, order, {
                "referral": set(), "application": {first.originator_id}
            }))  # fmt: skip
        first = stores.first_event("application", first.application_id)
    if isinstance(first, Application.Opened):
        first = stores.first_event("referral", first.referral_id)
    if not isinstance(first, Referral.Received):
        raise CaseNotFound(ref)
    return _members(stores, first.originator_id)


def _members(stores: "EventStores", referral_id: UUID) -> Case:
    application_id = Application.create_id(referral_id)
    opened = stores.first_event("application", application_id) is not None
    orders = {}
    for interim in (False, True):
        granted = stores.first_event("application", Order.create_id(application_id, interim))
        if isinstance(granted, Order.Granted):
            orders[granted.originator_id] = Order.reference_for(
                granted.originator_id, granted.made_on
            )
    candidates = {
        e.originator_id
        for e in stores.scan("referral", Candidate.Promoted)
        if e.referral_id == referral_id
    }
    members = {
        "referral": {referral_id, *candidates},
        "application": {application_id, *orders} if opened else set(),
    }
    case = Case(referral_id, application_id if opened else None, orders, members)
    return _with_breaches_and_alerts(stores, case)


def _with_breaches_and_alerts(stores: "EventStores", case: Case) -> Case:
    """The case, with its orders' applications (to vary, renew or discharge them), breaches,
    possible breaches and alerts among its members."""
    references = set(case.orders.values())
    members = {
        **case.members,
        "breach": {KnownOrder.create_id(r) for r in references},
        "notification": set(),
    }
    if references:
        members["application"] = members["application"] | {
            e.originator_id
            for e in stores.scan("application", OrderApplication.Opened)
            if e.order_id in case.orders
        }
        members["breach"] |= {
            e.originator_id
            for kind in (Breach.Recorded, PossibleBreach.Raised)
            for e in stores.scan("breach", kind)
            if e.order_reference in references
        }
        members["notification"] = {
            e.originator_id
            for e in stores.scan("notification", Alert.Requested)
            if e.order_reference in references
        }
    return replace(case, members=members)


class EventStores:
    """The four services' event stores, opened to read: nothing is created or subscribed."""

    def __init__(self, database_url: str) -> None:
        settings = Settings(database_url=database_url, kafka_bootstrap_servers="(not used)")
        self.services = {service.name: service(settings, read_only=True) for service in SERVICES}

    def __enter__(self) -> "EventStores":
        return self

    def __exit__(self, *_: object) -> None:
        for store in self.services.values():
            store.close()

    def first_event(self, service: str, aggregate_id: UUID) -> Any | None:
        store = self.services[service]
        stored = store.recorder.select_events(aggregate_id, limit=1)
        return store.mapper.to_domain_event(stored[0]) if stored else None

    def scan(self, service: str, kind: type) -> Iterator[Any]:
        """Every stored event of one kind, in log order, a page at a time."""
        store, after = self.services[service], 0
        while page := store.recorder.select_notifications(
            after, PAGE, topics=[get_topic(kind)], inclusive_of_start=False
        ):
            yield from (store.mapper.to_domain_event(n) for n in page)
            after = page[-1].id

    def events_of(self, case: Case) -> Iterator[Recorded]:
        for service, ids in case.members.items():
            if ids:
                yield from self._recorded(service, ids)

    def _recorded(self, service: str, ids: set[UUID]) -> Iterator[Recorded]:
        """The stored events of these aggregates with their positions in the service's log
        (the library's own queries leave the position out)."""
        store = self.services[service]
        recorder = store.process_recorder
        statement = sql.SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {}.{} "
            "WHERE originator_id = ANY(%b) ORDER BY notification_id"
        ).format(sql.Identifier(store.name), sql.Identifier(recorder.events_table_name))
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (list(ids),))
            rows = cursor.fetchall()
        for row in rows:
            stored = StoredEvent(
                row["originator_id"], row["originator_version"], row["topic"], bytes(row["state"])
            )
            event = store.mapper.to_domain_event(stored)
            yield Recorded.of(service, row["notification_id"], event)

    def states_after(self, events: list[Recorded]) -> list[State]:
        """Each aggregate as it stood after the last of these events of it."""
        last = {(e.service, e.aggregate_id): e for e in events}
        return [
            State(e.service, e.aggregate, e.aggregate_id, e.version, self._state(e))
            for e in last.values()
        ]

    def _state(self, last: Recorded) -> dict[str, Any]:
        repository = self.services[last.service].repository
        aggregate: Any = repository.get(last.aggregate_id, version=last.version)
        return {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}
