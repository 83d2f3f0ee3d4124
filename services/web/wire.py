"""Which web-app events other services see: the configuration the administrator publishes."""

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
from services.web.application import WebService


def to_wire(
    service: WebService, event: DomainEventProtocol
) -> tuple[type[Envelope], Payload] | None:
    if not isinstance(event, Configuration.Set | Configuration.Changed):
        return None
    published: Configuration = service.repository.get(
        event.originator_id, version=event.originator_version
    )
    if published.kind == TEAM_DIRECTORY:
        directory = TeamDirectory.model_validate(published.document)
        return TeamDirectoryPublishedV1, TeamDirectoryPublished(
            directory=directory, reason=event.reason
        )
    rules = ScreeningRules.model_validate(published.document)
    return ScreeningRulesPublishedV1, ScreeningRulesPublished(rules=rules, reason=event.reason)
