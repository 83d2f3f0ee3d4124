"""Configuration an administrator publishes, and the events that carry it to the services:
the team directory (districts, their MOSOVO teams, how each is alerted) and the screening
rules for non-positive disposals. Each has a version that changes with every change."""

import hashlib
from pathlib import Path
from typing import Annotated, Literal

import httpx
import yaml
from pydantic import AfterValidator, Field, HttpUrl, PlainSerializer
from pydantic_core import PydanticCustomError

from schemas.envelope import Contract, Envelope, Payload


def _sendable(url: HttpUrl) -> HttpUrl:
    """`url`, if httpx can send to it: pydantic takes any Unicode host (as punycode), httpx
    builds a request only to valid IDNA 2008, and the socket looks up labels of 1 to 63
    characters."""
    try:
        httpx.Request("POST", str(url)).url.raw_host.decode().encode("idna")
    except (httpx.InvalidURL, UnicodeError) as failure:
        raise PydanticCustomError(
            "url_unsendable", "httpx cannot send to this URL: {reason}", {"reason": str(failure)}
        ) from failure
    return url


# One email address that the email package reads as written: what it misreads would go
# elsewhere, and on some text it fails outright (tests/unit/test_channels.py). Dot-atoms in
# ASCII either side of the @ (RFC 5322); an international domain is written in punycode.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9-]+"
EMAIL_ADDRESS = rf"^{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*$"


class WebhookChannel(Contract):
    kind: Literal["webhook"]
    url: Annotated[HttpUrl, AfterValidator(_sendable)]

    def describe(self) -> str:
        """Its host and a fingerprint of the whole address, not the address: a webhook's
        path or query often holds its secret, and this is written into alert records, on
        the wire and in the audit trail, and shown to the team."""
        fingerprint = hashlib.sha256(str(self.url).encode()).hexdigest()[:8]
        return f"webhook {self.url.scheme}://{self.url.host}/… #{fingerprint}"


class EmailChannel(Contract):
    kind: Literal["email"]
    to: str = Field(
        pattern=EMAIL_ADDRESS,
        description="One email address; an international domain is written in punycode.",
    )

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
    linked_by_intelligence: Codes = Field(
        default=frozenset(),
        description="Outcome codes with no named suspect (14, 18), screened only where "
        "intelligence links one: the disposal names a suspect and an intelligence flag.",
    )
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
