"""Configuration as events: the administrator publishes a new version of the team directory
or the screening rules through the web app; each service that uses it adopts it from the
event into its own store. Until a version is published, the settings' files are the first."""

from functools import cache
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import yaml
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event

from plumbing.errors import CommandRejected
from plumbing.eventstore import EventSourcedService, Trace
from schemas.configuration import ScreeningRules, TeamDirectory
from schemas.envelope import Envelope

TEAM_DIRECTORY, SCREENING_RULES = "team directory", "screening rules"


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


def _document(service: EventSourcedService, kind: str, path: Path) -> Any:
    """The last published version (one read of the service's store), else the file's."""
    try:
        return service.repository.get(Configuration.create_id(kind)).document
    except AggregateNotFoundError:
        return _file(path)


@cache
def _file(path: Path) -> Any:
    """The settings' file, read once per process (as before anything was published)."""
    return yaml.safe_load(path.read_text())


def team_directory(service: EventSourcedService) -> TeamDirectory:
    """The team directory in force: the last published version, else the settings' file."""
    document = _document(service, TEAM_DIRECTORY, service.settings.team_directory)
    return TeamDirectory.model_validate(document)


def screening_rules(service: EventSourcedService) -> ScreeningRules:
    """The screening rules in force: the last published version, else the settings' file."""
    document = _document(service, SCREENING_RULES, service.settings.screening_rules)
    return ScreeningRules.model_validate(document)
