"""Configuration an administrator publishes, and the events that carry it to the services:
the team directory (districts, their MOSOVO teams, how each is alerted) and the screening
rules for non-positive disposals. Each has a version that changes with every change."""

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import Field, HttpUrl, PlainSerializer

from schemas.envelope import Contract, Envelope, Payload


class WebhookChannel(Contract):
    kind: Literal["webhook"]
    url: HttpUrl

    def describe(self) -> str:
        return f"webhook {self.url}"


class EmailChannel(Contract):
    kind: Literal["email"]
    to: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")

    def describe(self) -> str:
        return f"email {self.to}"


Channel = Annotated[WebhookChannel | EmailChannel, Field(discriminator="kind")]


class Team(Contract):
    name: str
    districts: list[str] = Field(min_length=1)
    channels: list[Channel] = Field(min_length=1, description="Tried in order until one works.")
    fallback: Channel = Field(description="Where failed and unacknowledged alerts escalate.")


class TeamDirectory(Contract):
    version: int
    teams: dict[str, Team]

    @classmethod
    def load(cls, path: Path) -> "TeamDirectory":
        return cls.model_validate(yaml.safe_load(path.read_text()))

    def team_for_district(self, district: str) -> str | None:
        for team_id, team in self.teams.items():
            if district in team.districts:
                return team_id
        return None

    def districts(self) -> list[str]:
        """Every district some team manages, in order."""
        return sorted({district for team in self.teams.values() for district in team.districts})


# A set of codes, always written in the same (sorted) order: the same rules, the same bytes.
Codes = Annotated[frozenset[str], PlainSerializer(sorted, return_type=list[str])]


class _Rule(Contract):
    """A part of the screening rules."""


class ChildVictimRule(_Rule):
    age_bands: Codes
    weight: int = Field(ge=0)


class RepeatSuspectRule(_Rule):
    window_days: int = Field(ge=1)
    weight: int = Field(ge=0)


class IntelligenceRule(_Rule):
    weight: int = Field(ge=0)


class ScreeningRules(_Rule):
    version: str = Field(min_length=1)
    threshold: int = Field(ge=1)
    outcome_codes: Codes = Field(min_length=1)
    offence_categories: dict[str, int]
    child_victim: ChildVictimRule
    repeat_suspect: RepeatSuspectRule
    intelligence_flag: IntelligenceRule


class TeamDirectoryPublished(Payload):
    directory: TeamDirectory
    reason: str = Field(min_length=1, examples=["west district's orders move to the east team"])


class TeamDirectoryPublishedV1(Envelope):
    """An administrator published a new version of the team directory."""

    event_type: Literal["TeamDirectoryPublished"] = "TeamDirectoryPublished"
    schema_version: Literal[1] = 1
    payload: TeamDirectoryPublished


class ScreeningRulesPublished(Payload):
    rules: ScreeningRules
    reason: str = Field(min_length=1, examples=["voyeurism weighs more after the review"])


class ScreeningRulesPublishedV1(Envelope):
    """An administrator published a new version of the disposal screening rules."""

    event_type: Literal["ScreeningRulesPublished"] = "ScreeningRulesPublished"
    schema_version: Literal[1] = 1
    payload: ScreeningRulesPublished
