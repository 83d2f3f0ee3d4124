"""The team directory: districts, their MOSOVO teams and how each team is alerted."""

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl


class WebhookChannel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["webhook"]
    url: HttpUrl

    def describe(self) -> str:
        return f"webhook {self.url}"


class EmailChannel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["email"]
    to: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")

    def describe(self) -> str:
        return f"email {self.to}"


Channel = Annotated[WebhookChannel | EmailChannel, Field(discriminator="kind")]


class Team(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    districts: list[str] = Field(min_length=1)
    channels: list[Channel] = Field(min_length=1, description="Tried in order until one works.")
    fallback: Channel = Field(description="Where failed and unacknowledged alerts escalate.")


class TeamDirectory(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
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
