from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from plumbing.eventstore import Trace
from services.referral.domain import (
    DeclineReason,
    Referral,
    ReferralNotAwaitingTriage,
    Status,
    Subject,
)

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
CASEWORKER = Trace("caseworker:cw-1", uuid4())


def received(reference: str = "NTH-1") -> Referral:
    return Referral(
        district="north",
        district_reference=reference,
        source="district:north",
        referring_officer="PC 1 (synthetic)",
        subject=Subject("SYN1", "Arlo Dunmere", date(1981, 5, 4)),
        order_sought="SRO",
        grounds="synthetic grounds",
        crime_references=["CR/1/26"],
        previous_convictions=[],
        received_at=AT,
        trace=Trace("district-system:north", uuid4()),
    )


def test_the_same_district_reference_always_names_the_same_referral() -> None:
    assert received("NTH-7").id == received("NTH-7").id
    assert received("NTH-7").id != received("NTH-8").id


def test_a_caseworker_reviews_then_accepts_a_referral_and_each_step_records_who() -> None:
    referral = received()
    referral.start_review(AT, CASEWORKER)
    referral.accept(AT, CASEWORKER)

    [_, review_started, accepted] = referral.collect_events()
    assert isinstance(review_started, Referral.ReviewStarted)
    assert isinstance(accepted, Referral.Accepted)
    assert referral.status is Status.ACCEPTED
    assert [who for _, who, _ in referral.history] == [
        "district-system:north",
        "caseworker:cw-1",
        "caseworker:cw-1",
    ]


def test_an_accepted_referral_cannot_be_declined() -> None:
    referral = received()
    referral.accept(AT, CASEWORKER)

    with pytest.raises(ReferralNotAwaitingTriage, match="accepted"):
        referral.decline(DeclineReason.INSUFFICIENT_EVIDENCE, "too late", AT, CASEWORKER)


def test_a_declined_referral_keeps_its_reason() -> None:
    referral = received()
    referral.decline(DeclineReason.OUT_OF_FORCE_AREA, "lives in another force", AT, CASEWORKER)

    assert referral.status is Status.DECLINED
    assert referral.decline_reason == (DeclineReason.OUT_OF_FORCE_AREA, "lives in another force")
