"""Which web-app events other services see: the configuration the administrator publishes."""

from typing import Any

from plumbing.configuration import TEAM_DIRECTORY, Configuration
from plumbing.outbox import Make, Wire
from schemas.configuration import (
    ScreeningRules,
    ScreeningRulesPublished,
    ScreeningRulesPublishedV1,
    TeamDirectory,
    TeamDirectoryPublished,
    TeamDirectoryPublishedV1,
)


def published(event: Any, published: Configuration) -> Wire:
    if published.kind == TEAM_DIRECTORY:
        directory = TeamDirectory.model_validate(published.document)
        return TeamDirectoryPublishedV1, TeamDirectoryPublished(
            directory=directory, reason=event.reason
        )
    rules = ScreeningRules.model_validate(published.document)
    return ScreeningRulesPublishedV1, ScreeningRulesPublished(rules=rules, reason=event.reason)


WIRE: dict[type, Make] = {Configuration.Set: published, Configuration.Changed: published}
