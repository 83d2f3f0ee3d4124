"""Configuration as events: the administrator publishes a new version of the team directory
or the screening rules through the web app; each service that uses it adopts it from the
event into its own store. Until a version is published, the settings' files are the first."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5
from weakref import WeakKeyDictionary

import yaml
from eventsourcing.domain import Aggregate, event
from pydantic import BaseModel

from plumbing.eventstore import EventSourcedService
from schemas.configuration import ScreeningRules, TeamDirectory, TeamDirectoryPublishedV1
from schemas.envelope import Envelope
from schemas.refusals import CommandRejected
from schemas.trace import Trace

TEAM_DIRECTORY, SCREENING_RULES = "team directory", "screening rules"
M = TypeVar("M", bound=BaseModel)


class VersionUnchanged(CommandRejected):
    def __init__(self, kind: str, version: object) -> None:
        super().__init__(f"the {kind} is already at version {version}; give the change a new one")


class Configuration(Aggregate):
    """The version of one kind of configuration in force, and why it changed."""

    class Set(Aggregate.Created):
        kind: str
        document: dict[str, Any]
        reason: str
        trace: Trace

    class Changed(Aggregate.Event):
        document: dict[str, Any]
        reason: str
        trace: Trace

    @staticmethod
    def create_id(kind: str, **_: object) -> UUID:
        return uuid5(NAMESPACE_URL, f"civil-orders:configuration/{kind}")

    @event(Set)
    def __init__(self, kind: str, document: dict[str, Any], reason: str, trace: Trace) -> None:
        self.kind = kind
        self.document = document

    def change(self, document: dict[str, Any], reason: str, trace: Trace) -> None:
        if document.get("version") == self.document.get("version"):
            raise VersionUnchanged(self.kind, document.get("version"))
        self._changed(document, reason, trace)

    @event(Changed)
    def _changed(self, document: dict[str, Any], reason: str, trace: Trace) -> None:
        self.document = document


def set_configuration(
    service: EventSourcedService, kind: str, document: dict[str, Any], reason: str, trace: Trace
) -> Configuration:
    """The configuration of `kind` with `document` in force (not yet saved)."""
    configuration_id = Configuration.create_id(kind)
    if configuration_id not in service.repository:
        return Configuration(kind=kind, document=document, reason=reason, trace=trace)
    configuration: Configuration = service.repository.get(configuration_id)
    configuration.change(document, reason, trace)
    return configuration


def adopt(service: EventSourcedService, kind: str, document: dict[str, Any],
          reason: str, envelope: Envelope) -> None:  # fmt: skip
    """Adopt a published version, once, recording the upstream position with it."""
    if service.already_processed(envelope.producer, envelope.sequence):
        return
    try:
        configuration = set_configuration(
            service, kind, document, reason, Trace.caused_by(envelope)
        )
    except VersionUnchanged:
        return
    service.save_processed(configuration, upstream=envelope.producer, sequence=envelope.sequence)


def adopting_team_directories(
    service: EventSourcedService,
) -> Callable[[TeamDirectoryPublishedV1], None]:
    """The policy by which a service adopts each team directory the administrator publishes."""

    def adopt_it(envelope: TeamDirectoryPublishedV1) -> None:
        published = envelope.payload
        document = published.directory.model_dump(mode="json")
        adopt(service, TEAM_DIRECTORY, document, published.reason, envelope)

    return adopt_it


@dataclass(frozen=True)
class _Version:
    """A version of one kind of configuration, validated: `number` is the Configuration
    aggregate's version it came from, 0 for the settings' file; `news` the store's news when
    it was read (see `EventSourcedService.remember`)."""

    number: int
    model: BaseModel
    news: int


# Per service and kind, the version last validated. Only adopt() (a published version) writes
# a Configuration, and another replica of the service may be the one that did. So the version
# read stands while the service hears every store and none since by another process, nor its
# own adoption (as an aggregate kept in memory does); else the store is asked only for a newer
# event of that one aggregate, a primary-key range that is empty until a new version lands. A
# TTL would let a replica allocate or alert by the old version long after its peer adopted the
# new one; this, for as long as the store's notice takes to arrive.
_IN_FORCE: WeakKeyDictionary[EventSourcedService, dict[str, _Version]] = WeakKeyDictionary()


def _in_force(service: EventSourcedService, kind: str, path: Path, schema: type[M]) -> M:
    """The last published version of `kind`, else the settings' file, validated once each."""
    known = _IN_FORCE.setdefault(service, {})
    cached = known.get(kind)
    if cached is None or not service.unchanged_since(cached.news):
        configuration_id = Configuration.create_id(kind)
        news = service.remember(configuration_id)  # before the read: what comes after is news
        gt = cached.number if cached else None
        newest = list(service.events.get(configuration_id, gt=gt, desc=True, limit=1))
        if newest:
            [event] = newest
            assert isinstance(event, Configuration.Set | Configuration.Changed)
            model = schema.model_validate(event.document)
            cached = _Version(event.originator_version, model, news)
        elif cached is None:
            cached = _Version(0, schema.model_validate(yaml.safe_load(path.read_text())), news)
        else:
            cached = replace(cached, news=news)
        known[kind] = cached
    assert isinstance(cached.model, schema)
    return cached.model


def team_directory(service: EventSourcedService) -> TeamDirectory:
    """The team directory in force: the last published version, else the settings' file."""
    path = service.settings.team_directory
    return service.once_per_batch(
        TEAM_DIRECTORY, lambda: _in_force(service, TEAM_DIRECTORY, path, TeamDirectory)
    )


def screening_rules(service: EventSourcedService) -> ScreeningRules:
    """The screening rules in force: the last published version, else the settings' file."""
    path = service.settings.screening_rules
    return service.once_per_batch(
        SCREENING_RULES, lambda: _in_force(service, SCREENING_RULES, path, ScreeningRules)
    )
