"""Which web-app events other services see: the configuration the administrator publishes."""

from typing import Any

from eventsourcing.domain import DomainEventProtocol

from plumbing.configuration import TEAM_DIRECTORY, Configuration
from schemas.configuration import (
    ScreeningRules,
    ScreeningRulesPublished,
    ScreeningRulesPublishedV1,
    TeamDirectory,
    TeamDirectoryPublished,
    TeamDirectoryPublishedV1,
)
from schemas.envelope import Envelope, Payload


def to_wire(event: DomainEventProtocol, aggregate: Any) -> tuple[type[Envelope], Payload] | None:
    """The wire event of a stored event, made from its aggregate as it stood just after it."""
    if not isinstance(event, Configuration.Set | Configuration.Changed):
        return None
    published: Configuration = aggregate
    if published.kind == TEAM_DIRECTORY:
        directory = TeamDirectory.model_validate(published.document)
        return TeamDirectoryPublishedV1, TeamDirectoryPublished(
            directory=directory, reason=event.reason
        )
    rules = ScreeningRules.model_validate(published.document)
    return ScreeningRulesPublishedV1, ScreeningRulesPublished(rules=rules, reason=event.reason)
