"""Sealed values stay each person's own. Text that comes in may not carry the mark of a
sealed value (`sealed:v1:`): one person's sealed value, copied into another's referral, would
otherwise be published as it is and opened by the consumers with the first person's key. And
a personal value is always sealed for the wire with its own person's key."""

import json

import pytest

from schemas.personal import sealed_key
from schemas.referral import ReferralAcceptedV1
from schemas.topics import topic_of
from services.referral.application import ReferralService
from tests.service.published import messages, unchanged
from tests.service.test_referral import CASEWORKER, accepted, http_edge, referred
from tests.service.upstream import person

SEALED_IN_TEXT = "Text must not contain 'sealed:v1:', which marks a sealed value"


def grounds_on_the_wire(referral: ReferralService) -> list[str]:
    return [
        json.loads(m.value)["payload"]["grounds"] for m in messages(referral, ReferralAcceptedV1)
    ]


@pytest.mark.parametrize("field", ["grounds", "referring_officer"])
async def test_a_referral_posted_with_someone_elses_sealed_value_is_refused_naming_the_field(
    referral: ReferralService, field: str
) -> None:
    accepted(referral)
    [theirs] = grounds_on_the_wire(referral)
    before = unchanged(referral)
    body = referred(person(2), "NOR-TIER-0002").model_dump(mode="json") | {field: theirs}

    async with http_edge(referral) as edge:
        response = await edge.post("/referrals", json=body, headers={"X-Actor": CASEWORKER.actor})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (["body", field], SEALED_IN_TEXT)
    assert unchanged(referral) == before


@pytest.mark.parametrize("copied", [True, False], ids=["a sealed value", "text like one"])
def test_grounds_that_look_sealed_are_published_sealed_with_the_subjects_key_and_refused(
    referral: ReferralService, copied: bool
) -> None:
    """Grounds recorded before text that comes in was checked (another person's sealed value,
    or text that begins as one does) are never passed on as they are: their consumers would
    open them with the other person's key, or could not open them, and the plain text would
    be on the wire."""
    accepted(referral)
    [theirs] = grounds_on_the_wire(referral)
    looks_sealed = theirs if copied else "sealed:v1: seen outside Northtown primary school"
    recorded = referred(person(2), "NOR-TIER-0002").model_copy(update={"grounds": looks_sealed})
    referral_id = referral.receive_referral(recorded, "staff form", CASEWORKER)
    referral.start_review(referral_id, CASEWORKER)
    referral.accept_referral(referral_id, CASEWORKER, "caseworker:cw-2")

    [_, on_the_wire] = grounds_on_the_wire(referral)
    with pytest.raises(ValueError, match=SEALED_IN_TEXT):  # as the application service reads it
        topic_of(ReferralAcceptedV1).parse(
            messages(referral, ReferralAcceptedV1)[1].value, referral.personal.open_json
        )

    assert on_the_wire != looks_sealed
    assert sealed_key(on_the_wire) == referral.personal.key_for(person(2).nominal_id)
