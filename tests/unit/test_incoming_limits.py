"""What comes in from outside holds at most a plausible amount (`schemas/common.py`), so that
what is accepted fits a Kafka message once sealed (see tests/service/test_wire_sizes.py): one
item or one character more is dead-lettered from a district topic, naming the field, while the
next message still arrives, and refused with a 422 by the HTTP edge."""

import json
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker, TestKafkaBroker

from civil_orders.drills.synthetic import Synthetic
from plumbing.consumer import Consumers
from plumbing.http import install_correlation, install_error_handlers, install_text_guard
from schemas.common import CODE, LINE, MAX_ITEMS, NAME, NARRATIVE, REFERENCE
from schemas.district import DistrictBreachReportV1, DistrictDisposalV1, DistrictReferralV1
from schemas.envelope import Envelope
from schemas.topics import topic_of
from services.application.main import router as applications
from services.breach.main import router as breaches
from services.referral.main import referrals
from tests.messages import valid_referral
from tests.service.upstream import disposal
from tests.unit.test_consumer import RecordedDeadLetters


def over(limit: int) -> str:
    return "x" * (limit + 1)


def too_many(limit: int = REFERENCE) -> list[str]:
    return [f"{n:0{limit}d}" for n in range(MAX_ITEMS + 1)]


def valid(kind: type[Envelope]) -> dict[str, Any]:
    if kind is DistrictReferralV1:
        return valid_referral()
    if kind is DistrictDisposalV1:
        return disposal().model_dump(mode="json")
    return Synthetic().breach("north", "ORD-2026-000001").model_dump(mode="json")


def limit(kind: type[Envelope], field: str, value: object, how: str) -> Any:
    return pytest.param(kind, field, value, id=f"{kind.type_name()} {field}: {how}")


LIMITS = [
    limit(DistrictReferralV1, "crime_references", too_many(), "an item too many"),
    limit(DistrictReferralV1, "crime_references", ["CR/1/26", over(REFERENCE)], "too long"),
    limit(DistrictReferralV1, "crime_references", ["CR/1/26", ""], "empty"),
    limit(DistrictReferralV1, "previous_convictions", too_many(LINE), "an item too many"),
    limit(DistrictReferralV1, "previous_convictions", [over(LINE)], "too long"),
    limit(DistrictReferralV1, "grounds", over(NARRATIVE), "too long"),
    limit(DistrictReferralV1, "district", over(CODE), "too long"),
    limit(DistrictReferralV1, "district_reference", over(REFERENCE), "too long"),
    limit(DistrictReferralV1, "referring_officer", over(NAME), "too long"),
    limit(DistrictReferralV1, "subject.name", over(NAME), "too long"),
    limit(DistrictReferralV1, "subject.nominal_id", over(NAME), "too long"),
    limit(DistrictReferralV1, "subject.nominal_id", " \t", "blank"),
    limit(DistrictDisposalV1, "intelligence_flags", too_many(NAME), "an item too many"),
    limit(DistrictDisposalV1, "intelligence_flags", [over(NAME)], "too long"),
    limit(DistrictDisposalV1, "suspect_nominal_id", over(NAME), "too long"),
    limit(DistrictDisposalV1, "crime_reference", over(REFERENCE), "too long"),
    limit(DistrictDisposalV1, "offence", over(LINE), "too long"),
    limit(DistrictDisposalV1, "offence_category", over(NAME), "too long"),
    limit(DistrictBreachReportV1, "condition_breached", over(NARRATIVE), "too long"),
    limit(DistrictBreachReportV1, "location", over(LINE), "too long"),
    limit(DistrictBreachReportV1, "how_detected", over(LINE), "too long"),
    limit(DistrictBreachReportV1, "report_reference", over(REFERENCE), "too long"),
    limit(DistrictBreachReportV1, "reporting_officer", over(NAME), "too long"),
]


@pytest.mark.parametrize(("kind", "field", "value"), LIMITS)
async def test_a_district_message_holding_more_than_its_contract_allows_is_dead_lettered(
    kind: type[Envelope], field: str, value: object
) -> None:
    message = valid(kind)
    *parents, name = field.split(".")
    part = message["payload"]
    for parent in parents:
        part = part[parent]
    part[name] = value
    next_one = valid(kind)
    received: list[Envelope] = []
    broker, dead_letters = KafkaBroker(), RecordedDeadLetters()
    consumers = Consumers(broker, "limits", dead_letters)  # type: ignore[arg-type]
    consumers.on(kind, received.append)
    consumers.subscribe()

    async with TestKafkaBroker(broker) as test_broker:
        for sent in (message, next_one):
            await test_broker.publish(json.dumps(sent).encode(), topic_of(kind).name)

    assert [r.event_id for r in received] == [
        topic_of(kind).parse(json.dumps(next_one).encode()).event_id
    ]
    [(_, _, reason)] = dead_letters.letters
    assert f"payload.{field}" in reason, reason


def edge(router: APIRouter) -> httpx.AsyncClient:
    """A service's HTTP edge with its routes (refused input never reaches the service)."""
    app = FastAPI()
    install_error_handlers(app)
    install_correlation(app)
    install_text_guard(app)
    app.include_router(router)
    app.state.service = None  # never reached
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://service")


async def test_a_referral_over_the_limits_is_refused_by_the_http_edge_with_a_422() -> None:
    body = valid_referral()["payload"] | {"crime_references": too_many()}  # type: ignore[operator]

    async with edge(referrals) as client:
        response = await client.post("/referrals", json=body, headers={"X-Actor": "cw-1"})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "crime_references"]
    assert error["msg"] == "List should have at most 100 items after validation, not 101"


async def test_an_order_granted_with_a_term_worded_past_the_limit_is_refused_with_a_422() -> None:
    term = {"kind": "prohibition", "wording": over(NARRATIVE)}
    body = {"court": "Northtown Magistrates' Court", "made_on": "2026-01-05", "ends_on": None}

    async with edge(applications) as client:
        response = await client.post(
            f"/applications/{uuid4()}/grant", json=body | {"terms": [term]},
            headers={"X-Actor": "legal:lg-1"},
        )  # fmt: skip

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "terms", 0, "wording"]
    assert error["msg"] == f"String should have at most {NARRATIVE} characters"


def command(router: APIRouter, path: str, body: dict[str, str], field: str, most: int) -> Any:
    return pytest.param(router, path, body, field, most, id=f"{path} {field}")


NOTIFIED = {"kind": "initial", "notified_on": "2026-01-05", "how_received": "in person",
            "name": "Alex Example", "address": "1 High Street, Northtown"}  # fmt: skip
COMMANDS = [
    command(applications, "/applications/{}/adjourn",
            {"adjourned_to": "2026-06-01", "reason": "defence asked for time"}, "reason", LINE),
    command(applications, "/orders/{}/reallocate",
            {"team": "mosovo-east", "reason": "moved to the east district"}, "team", CODE),
    command(applications, "/orders/{}/reallocate",
            {"team": "mosovo-east", "reason": "moved to the east district"}, "reason", LINE),
    command(applications, "/orders/{}/notifications", NOTIFIED, "how_received", LINE),
    command(applications, "/orders/{}/notifications", NOTIFIED, "name", NAME),
    command(applications, "/orders/{}/notifications", NOTIFIED, "address", LINE),
    command(breaches, "/breaches/{}/outcome",
            {"outcome": "convicted", "sentence": "12 weeks' imprisonment"}, "sentence", LINE),
    command(breaches, "/possible-breaches/{}/dismiss",
            {"reason": "notified in time at another station"}, "reason", LINE),
]  # fmt: skip


@pytest.mark.parametrize(("router", "path", "body", "field", "most"), COMMANDS)
async def test_a_command_with_text_past_the_limit_of_its_kind_is_refused_with_a_422(
    router: APIRouter, path: str, body: dict[str, str], field: str, most: int
) -> None:
    async with edge(router) as client:
        response = await client.post(
            path.format(uuid4()), json=body | {field: over(most)}, headers={"X-Actor": "cw-1"}
        )

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert error["msg"] == f"String should have at most {most} characters"
