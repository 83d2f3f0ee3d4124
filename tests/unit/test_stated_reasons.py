"""A reason or purpose is stated for the record (DPA 2018 s.45: why a person's data was
disposed of, corrected, kept on review, exported or withheld): one that is only spaces says
nothing, so the HTTP edge refuses it with a 422 naming the field, before any service acts
(the web app's purposes: tests/service/test_web.py)."""

from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest

from services.application.main import router as applications
from services.breach.main import router as breaches
from services.referral.main import router as referrals
from services.referral.main import subjects
from services.referral.reviewing import reviews
from tests.unit.test_incoming_limits import edge

BLANK = "  \t  "
NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()

STATED: list[tuple[Any, str, dict[str, Any], list[Any]]] = [
    (subjects, "/subjects/erase", {"nominal_id": "N1", "reason": BLANK}, ["body", "reason"]),
    (subjects, "/subjects/rectify", {"nominal_id": "N1", "name": "A B", "reason": BLANK},
     ["body", "reason"]),
    (reviews, f"/reviews/{uuid4()}/retain", {"reason": BLANK, "next_review_on": NEXT_YEAR},
     ["body", "reason"]),
    (reviews, f"/reviews/{uuid4()}/dispose", {"reason": BLANK}, ["body", "reason"]),
]  # fmt: skip


@pytest.mark.parametrize(("router", "path", "body", "field"), STATED)
async def test_a_reason_of_only_spaces_is_refused_naming_its_field(
    router: Any, path: str, body: dict[str, Any], field: list[Any]
) -> None:
    async with edge(router) as client:
        response = await client.post(path, json=body, headers={"X-Actor": "mgr-1"})

    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == field
    assert error["msg"] == "String should have at least 3 characters"


YESTERDAY = (date.today() - timedelta(days=1)).isoformat()

# a reason, detail or other text that need be no longer than a word, but must be one
SAID: list[tuple[Any, str, dict[str, Any]]] = [
    (applications, f"/orders/{uuid4()}/reallocate", {"team": "mosovo-east", "reason": " "}),
    (applications, f"/applications/{uuid4()}/refuse", {"decided_on": YESTERDAY, "reason": "  "}),
    (applications, f"/applications/{uuid4()}/withdraw", {"decided_on": YESTERDAY, "reason": "\t"}),
    (applications, f"/applications/{uuid4()}/adjourn", {"adjourned_to": NEXT_YEAR, "reason": " "}),
    (breaches, f"/possible-breaches/{uuid4()}/dismiss", {"reason": "   "}),
    (referrals, f"/referrals/{uuid4()}/reassign", {"caseworker": "caseworker:cw-1", "reason": " "}),
    (referrals, f"/referrals/{uuid4()}/decline",
     {"reason": "insufficient evidence", "detail": "  "}),
    (referrals, f"/candidates/{uuid4()}/dismiss", {"reason": "no risk", "detail": " "}),
    (referrals, f"/referrals/{uuid4()}/resubmit", {"answers": "  "}),
    (applications, f"/applications/{uuid4()}/return", {"comments": " "}),
    (applications, f"/applications/{uuid4()}/evidence",
     {"kind": "witness statement", "description": " ", "source": "DC 1", "dated": YESTERDAY,
      "supports": ["necessity"]}),
    (applications, f"/applications/{uuid4()}/grant",
     {"court": "  ", "made_on": YESTERDAY, "ends_on": None, "terms": []}),
    (applications, f"/orders/{uuid4()}/applications",
     {"kind": "variation", "applicant": "police", "grounds": " "}),
]  # fmt: skip


@pytest.mark.parametrize(("router", "path", "body"), SAID)
async def test_a_reason_or_detail_of_only_spaces_says_nothing_and_is_refused(
    router: Any, path: str, body: dict[str, Any]
) -> None:
    async with edge(router) as client:
        response = await client.post(path, json=body, headers={"X-Actor": "mgr-1"})

    assert response.status_code == 422, response.text
    assert any(
        error["msg"] == "Value error, must say something, not only spaces"
        for error in response.json()["detail"]
    ), response.text
