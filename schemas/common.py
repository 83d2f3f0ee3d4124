"""Value types shared by several contracts."""

from datetime import date
from enum import StrEnum

from pydantic import Field

from schemas.dates import BirthDate, Day
from schemas.envelope import Payload
from schemas.personal import Personal


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

    nominal_id: str = Field(
        min_length=1, description="Force person-record (nominal) id.", examples=["N100234"]
    )
    name: str = Field(min_length=1, description="Full name.", examples=["Alex Example"])
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


class Term(Payload):
    """One prohibition or positive requirement of an order, with its own period."""

    kind: str = Field(pattern="^(prohibition|requirement)$", examples=["prohibition"])
    wording: Personal[str] = Field(
        min_length=1,
        description="The term as worded in the order.",
        examples=["Not to have unsupervised contact with any child under 16."],
    )
    until: Day | None = Field(
        default=None, description="Last day the term has effect; absent until further order."
    )
