"""Which web-app events other services see: the configuration the administrator publishes,
and the outreach sessions recorded."""

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
from schemas.outreach import OutreachSessionRecorded, OutreachSessionRecordedV1
from services.web.domain import OutreachSession


def published(event: Any, published: Configuration) -> Wire:
    if published.kind == TEAM_DIRECTORY:
        directory = TeamDirectory.model_validate(published.document)
        return TeamDirectoryPublishedV1, TeamDirectoryPublished(
            directory=directory, reason=event.reason
        )
    rules = ScreeningRules.model_validate(published.document)
    return ScreeningRulesPublishedV1, ScreeningRulesPublished(rules=rules, reason=event.reason)


def outreach_session(event: OutreachSession.Recorded, _: OutreachSession) -> Wire:
    return OutreachSessionRecordedV1, OutreachSessionRecorded(
        district=event.district, held_on=event.held_on, audience=event.audience, notes=event.notes
    )


WIRE: dict[type, Make] = {
    Configuration.Set: published,
    Configuration.Changed: published,
    OutreachSession.Recorded: outreach_session,
}
