"""A nominal id that comes in blank names nobody: a disposal whose suspect is written as blank
text has no identified suspect (as the district contract allows) and changes nothing, where it
had been screened as a person named "" (their offence stored unsealed, with no key to seal it,
and unrelated crimes merged into that one "person"). A referral naming a blank nominal is
refused (tests/unit/test_incoming_limits.py)."""

import json

import pytest

from schemas.district import DistrictDisposalV1
from schemas.topics import topic_of
from services.referral.application import ReferralService
from tests.service.published import consume, log_size, messages
from tests.service.upstream import disposal


def as_sent(closed: DistrictDisposalV1, suspect: str) -> DistrictDisposalV1:
    """The disposal as a district system sends it, with its suspect written as `suspect`."""
    message = closed.model_dump(mode="json")
    message["payload"]["suspect_nominal_id"] = suspect
    taken = topic_of(DistrictDisposalV1).parse(json.dumps(message).encode())
    assert isinstance(taken, DistrictDisposalV1)
    return taken


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_a_disposal_whose_suspect_is_blank_names_no_suspect_and_changes_nothing(
    referral: ReferralService, blank: str
) -> None:
    first = as_sent(disposal(crime="CR/A/1", category="voyeurism"), blank)
    second = as_sent(disposal(crime="CR/B/2", category="voyeurism"), blank)

    assert first.payload.suspect_nominal_id is None
    assert consume(referral, referral.when_disposal_received_screen_it, first, second) == []

    assert log_size(referral) == 0 and messages(referral) == []
