"""Value types shared by several contracts."""

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from schemas.dates import BirthDate, Day
from schemas.envelope import Payload
from schemas.personal import Personal

# What comes in from outside (a district's messages, a person's commands) holds at most a
# plausible amount: whatever is accepted then makes wire messages well within a Kafka message
# (1 MiB) once sealed, where a character may take 16 bytes (an emoji, escaped in JSON, then in
# base64) and each item of a list about 90 more. The most characters of a code (a district's),
# a reference (a crime's, an order's, a district's own), a name (a person's, an officer's, a
# marker), a line (an offence, a conviction, a place) and a narrative (grounds, a term), and
# the most items of a list:
CODE, REFERENCE, NAME, LINE, NARRATIVE = 60, 100, 200, 1_000, 10_000
MAX_ITEMS = 100

# A force's person-record id as it comes in: not blank (nor a NUL, which nothing stores)
NominalId = Annotated[str, StringConstraints(min_length=1, max_length=NAME, pattern=r"[^\s\x00]")]


def _said(text: str) -> str:
    if not text.strip():
        raise ValueError("must say something, not only spaces")
    return text


# Text that must say something: not empty, nor only spaces (kept as it was given)
NotBlank = Annotated[str, StringConstraints(min_length=1), AfterValidator(_said)]

# A reason or purpose stated for the record (the access log, a disposal of personal data, a
# correction): at least three characters once the spaces around it are dropped, as it is kept.
# For a command's body, whose text the HTTP edge checks: in a contract, the storable check
# would wrap the text before it is stripped, and the length be judged on the spaces.
Stated = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3)]


class OrderType(StrEnum):
    SRO = "SRO"
    SHPO = "SHPO"
    INTERIM_SRO = "interim SRO"
    INTERIM_SHPO = "interim SHPO"


class OrderSought(StrEnum):
    SRO = "SRO"
    SHPO = "SHPO"
    UNSURE = "unsure"


class ReferredSubject(Payload):
    """The person as a referrer names them: born within a lifetime, and not in the future."""

    nominal_id: NominalId = Field(
        description="Force person-record (nominal) id: not blank.", examples=["N100234"]
    )
    name: str = Field(
        min_length=1, max_length=NAME, description="Full name.", examples=["Alex Example"]
    )
    date_of_birth: BirthDate = Field(
        description="Date of birth: not in the future, nor more than 120 years ago.",
        examples=["1980-02-29"],
    )


class Subject(Payload):
    """The person a referral or order is about, as the services publish them: every detail
    sealed with the person's key."""

    nominal_id: Personal[str] = Field(
        min_length=1, description="Force person-record (nominal) id.", examples=["N100234"]
    )
    name: Personal[str] = Field(min_length=1, description="Full name.", examples=["Alex Example"])
    date_of_birth: Personal[date] = Field(description="Date of birth.", examples=["1980-02-29"])


# What a term of an order is. A prohibition on foreign travel is one of its own: it has
# effect for a fixed period of at most 5 years at a time (renewable), not the minimum.
FOREIGN_TRAVEL = "foreign travel prohibition"
TERM_KINDS = ("prohibition", FOREIGN_TRAVEL, "requirement")
TERM_KIND = f"^({'|'.join(TERM_KINDS)})$"


class Term(Payload):
    """One prohibition or positive requirement of an order, with its own period."""

    kind: str = Field(
        pattern=TERM_KIND,
        description="A prohibition, a foreign travel prohibition (for at most 5 years at a "
        "time), or a positive requirement.",
        examples=["prohibition"],
    )
    wording: Personal[str] = Field(
        min_length=1,
        max_length=NARRATIVE,
        description="The term as worded in the order.",
        examples=["Not to have unsupervised contact with any child under 16."],
    )
    until: Day | None = Field(
        default=None, description="Last day the term has effect; absent until further order."
    )
