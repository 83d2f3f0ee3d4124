"""Whatever the contracts take in from outside makes wire messages well within what a Kafka
broker takes (`message.max.bytes`, about 1 MiB), personal fields sealed as the outbox seals
them: the most items, each of the most characters, of the characters that weigh most once
written out (an emoji, sealed: escaped in JSON, encrypted, then in base64; a control
character, plain: escaped)."""

from datetime import timedelta
from uuid import uuid4

import pytest
from pydantic import ValidationError

from plumbing.eventstore import EventSourcedService
from schemas import dates
from schemas.breach import BreachRecordedV1
from schemas.common import CODE, LINE, MAX_ITEMS, NAME, NARRATIVE, REFERENCE, ReferredSubject
from schemas.district import DistrictBreachReport, DistrictDisposal, DistrictReferral
from schemas.envelope import Envelope, Payload
from schemas.referral import ProactiveCandidateIdentifiedV1, ReferralAcceptedV1
from schemas.trace import Trace
from services.breach.application import BreachService
from services.referral.application import ReferralService
from tests.service.conftest import Clock
from tests.service.published import consume, messages, payloads
from tests.service.upstream import disposal, order_allocated, order_granted

KAFKA_MESSAGE = 1024 * 1024
WELL_WITHIN = KAFKA_MESSAGE // 2
SEALED, PLAIN = "\U0001f600", "\x01"  # the heaviest character sealed, and written plain
CASEWORKER = Trace("caseworker:cw-1", uuid4())


def most(length: int, character: str = SEALED) -> str:
    return character * length


def heaviest(limit: int, character: str = SEALED) -> list[str]:
    """The most items a list may hold, each as long as it may be; each differs."""
    return [f"{n:03d}" + most(limit - 3, character) for n in range(MAX_ITEMS)]


def refused_with_more(largest: Payload, **more: object) -> None:
    """`largest` is as large as its contract allows: with one item or character more, refused."""
    with pytest.raises(ValidationError):
        type(largest).model_validate(largest.model_dump() | more)


def sizes(service: EventSourcedService, kind: type[Envelope] | None = None) -> list[int]:
    return [len(m.value) for m in messages(service, kind)]


def test_the_largest_referral_accepted_is_published_well_within_a_kafka_message(
    referral: ReferralService,
) -> None:
    largest = DistrictReferral(
        district=most(CODE, PLAIN),
        district_reference=most(REFERENCE, PLAIN),
        referring_officer=most(NAME),
        subject=ReferredSubject(
            nominal_id=most(NAME), name=most(NAME), date_of_birth=dates.today().replace(1980)
        ),
        order_sought="SRO",
        grounds=most(NARRATIVE),
        crime_references=heaviest(REFERENCE),
        previous_convictions=heaviest(LINE),
    )

    refused_with_more(largest, crime_references=[*largest.crime_references, "CR/1/26"])
    refused_with_more(largest, grounds=largest.grounds + "x")
    referral_id = referral.receive_referral(largest, "staff form", CASEWORKER)
    referral.start_review(referral_id, CASEWORKER)
    referral.accept_referral(referral_id, CASEWORKER, "caseworker:cw-2")

    [accepted] = sizes(referral, ReferralAcceptedV1)
    assert accepted < WELL_WITHIN, f"ReferralAccepted is {accepted} bytes on the wire"
    assert max(sizes(referral)) == accepted  # the largest of its messages


def test_the_largest_disposal_screened_raises_a_candidate_well_within_a_kafka_message(
    referral: ReferralService,
) -> None:
    sent = disposal(flags=tuple(heaviest(NAME, PLAIN)))
    largest = DistrictDisposal(
        **sent.payload.model_dump()
        | {
            "district": most(CODE, PLAIN),
            "crime_reference": most(REFERENCE, PLAIN),
            "offence": most(LINE),
            "suspect_nominal_id": most(NAME),
        }
    )

    refused_with_more(largest, intelligence_flags=[*largest.intelligence_flags, "x"])
    assert consume(referral, referral.when_disposal_received_screen_it,
                   sent.model_copy(update={"payload": largest})) == []  # fmt: skip

    [raised] = sizes(referral, ProactiveCandidateIdentifiedV1)
    assert raised < WELL_WITHIN, f"ProactiveCandidateIdentified is {raised} bytes on the wire"
    assert max(sizes(referral)) == raised


def test_the_largest_breach_reported_is_published_well_within_a_kafka_message(
    breach: BreachService, clock: Clock
) -> None:
    reference = "ORD-2026-TIER01"
    granted = order_granted(reference, starts_on=clock.today() - timedelta(days=10))
    assert consume(breach, breach.when_order_granted_register_it, granted) == []
    assert consume(breach, breach.when_order_allocated_note_team, order_allocated()) == []
    largest = DistrictBreachReport(
        district=most(CODE, PLAIN),
        report_reference=most(REFERENCE, PLAIN),
        order_reference=reference,
        occurred_at=clock.now() - timedelta(hours=2),
        location=most(LINE),
        condition_breached=most(NARRATIVE),
        how_detected=most(LINE),
        reporting_officer=most(NAME),
    )

    refused_with_more(largest, condition_breached=largest.condition_breached + "x")
    breach.record_breach(largest, CASEWORKER)

    [recorded] = sizes(breach, BreachRecordedV1)
    assert recorded < WELL_WITHIN, f"BreachRecorded is {recorded} bytes on the wire"
    [payload] = payloads(breach, BreachRecordedV1)
    assert payload["condition_breached"].startswith("sealed:")
