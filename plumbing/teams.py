"""The team directory: districts, their MOSOVO teams and the teams' alert channels."""

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl


class Channel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["webhook"]
    url: HttpUrl


class Team(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    districts: list[str] = Field(min_length=1)
    channels: list[Channel] = Field(min_length=1)


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
