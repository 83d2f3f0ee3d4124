"""Fuzzing the HTTP APIs from their own OpenAPI documents (schemathesis): no request, however
malformed, is a server error; responses are as documented; a refused request stores nothing.

Every run is bounded and repeatable: a fixed number of examples per operation, derandomized,
never shrunk. Each request carries its own correlation id, which every event it causes
carries too, so what a refused request stored (nothing) can be looked up in every event store.
"""

import json
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID, uuid4

import httpx
import psycopg
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from psycopg import sql
from schemathesis import APIOperation, Case, CheckFunction, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
)

from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack
from plumbing.chain import events_table
from plumbing.deadletters import DeadLetter
from plumbing.settings import EVENT_STORES, SERVICE_PORTS
from schemas.district import DistrictBreachReportV1, DistrictDisposalV1, DistrictReferralV1
from schemas.topics import Topic, topic_of
from tests.strategies import hostile, hostile_messages, refused_by

EXAMPLES = settings(
    max_examples=12,  # per operation; the suite has to stay fast
    deadline=None,
    derandomize=True,  # the same requests on every run
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each failure names its request
    suppress_health_check=list(HealthCheck),
)
# A response to a valid request is checked for these. Not for status_code_conformance:
# FastAPI documents only success and 422, not the refusals of roles and rules (401, 403,
# 404, 409). Not for positive_data_acceptance: a request the schema allows is still refused
# when the case it names does not exist. The web app documents the bodies it passes on from
# the owning service as anything, so response_schema_conformance holds only its own to a shape.
AS_DOCUMENTED: list[CheckFunction] = [
    not_a_server_error,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# A response to an invalid request: refused (4xx; a read may pass when its invalid query
# reads as valid once sent, which negative_data_rejection allows for), never a server error.
REFUSED: list[CheckFunction] = [not_a_server_error, negative_data_rejection]
COMMANDS = ("POST", "PUT", "PATCH", "DELETE")
STORED = """
    SELECT topic, actor, correlation_id FROM (
        SELECT topic, notification_id,
               convert_from(state, 'UTF8')::json -> 'trace' -> '_data_' ->> 'actor' AS actor,
               convert_from(state, 'UTF8')::json -> 'trace' -> '_data_' -> 'correlation_id'
                   ->> '_data_' AS correlation_id
        FROM {}) AS events
    WHERE notification_id > %s AND (actor = %s OR correlation_id = ANY(%s))
"""


@dataclass
class Fuzzing:
    """Every operation of one API, as one caller: what failed, and which requests were refused."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    refused: set[UUID] = field(default_factory=set)

    def run(self, mode: GenerationMode, checks: list[CheckFunction]) -> "Fuzzing":
        schema = schemathesis.openapi.from_url(f"{self.url}/openapi.json")
        with requests.Session() as session:
            for result in schema.get_all_operations():
                assert isinstance(result, Ok), result.err()  # every operation can be fuzzed
                operation = result.ok()
                if mode.is_positive or has_inputs(operation):  # else nothing to make invalid
                    self.fuzz(operation, mode, checks, session)
        return self

    def fuzz(
        self,
        operation: APIOperation,
        mode: GenerationMode,
        checks: list[CheckFunction],
        session: requests.Session,
    ) -> None:
        @EXAMPLES
        @given(case=operation.as_strategy(generation_mode=mode))
        def request(case: Case) -> None:
            correlation_id = uuid4()
            headers = {**self.headers, "X-Correlation-Id": str(correlation_id)}
            response = case.call(session=session, headers=headers)
            if 400 <= response.status_code < 500:
                self.refused.add(correlation_id)
            try:
                case.validate_response(response, checks=checks, headers=headers)
                if mode.is_negative and case.method.upper() in COMMANDS:
                    assert 400 <= response.status_code < 500, f"invalid, yet {response.status_code}"
            except (AssertionError, BaseExceptionGroup) as failure:
                self.failures.setdefault(operation.label, f"{failure}\n{case.as_curl_command()}")

        request()


def has_inputs(operation: APIOperation) -> bool:
    return any(True for _ in operation.iter_parameters()) or bool(operation.body)


def signed_in(stack: Stack, username: str) -> dict[str, str]:
    response = httpx.post(f"{stack.url('web')}/api/token", json={"username": username})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def positions(stack: Stack) -> dict[str, int]:
    query = sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}")
    with psycopg.connect(stack.database_url) as conn:
        rows = {s: conn.execute(query.format(events_of(s))).fetchone() for s in EVENT_STORES}
    return {service: row[0] for service, row in rows.items() if row is not None}


def stored_since(
    stack: Stack, before: dict[str, int], refused: set[UUID], actor: str | None = None
) -> list[tuple[str, str, str]]:
    """Events stored since `before` by `actor`, or caused by one of the `refused` requests."""
    ids = [correlation_id.hex for correlation_id in refused]
    with psycopg.connect(stack.database_url) as conn:
        return [
            row
            for service in EVENT_STORES
            for row in conn.execute(
                sql.SQL(STORED).format(events_of(service)), (before[service], actor, ids)
            ).fetchall()
        ]


def events_of(service: str) -> sql.Identifier:
    return sql.Identifier(service, events_table(service))


@pytest.mark.parametrize("username", ["cw-1", "aud-1", "dpo-1"])
def test_the_web_api_answers_any_request_as_documented_and_stores_nothing_it_refused(
    stack: Stack, username: str
) -> None:
    before = positions(stack)
    fuzzing = Fuzzing(stack.url("web"), signed_in(stack, username))

    fuzzing.run(GenerationMode.POSITIVE, AS_DOCUMENTED)

    assert fuzzing.failures == {}
    assert fuzzing.refused  # unknown cases and other roles' work, at least
    assert stored_since(stack, before, fuzzing.refused) == []


@pytest.mark.parametrize("service", [name for name in SERVICE_PORTS if name != "web"])
def test_each_service_answers_any_request_without_a_server_error(
    stack: Stack, service: str
) -> None:
    before = positions(stack)
    fuzzing = Fuzzing(stack.url(service))  # the X-Actor header is in each schema, and fuzzed

    fuzzing.run(GenerationMode.POSITIVE, AS_DOCUMENTED)

    assert fuzzing.failures == {}
    assert stored_since(stack, before, fuzzing.refused) == []


def test_an_invalid_request_is_refused_and_stores_nothing(stack: Stack) -> None:
    before = positions(stack)
    fuzzing = Fuzzing(stack.url("web"), signed_in(stack, "cw-2"))

    fuzzing.run(GenerationMode.NEGATIVE, REFUSED)

    assert fuzzing.failures == {}
    assert stored_since(stack, before, fuzzing.refused, actor="caseworker:cw-2") == []


# What the fuzzing found, kept as plain requests ------------------------------------------

ACTOR = {"X-Actor": "caseworker:cw-1"}
PURPOSE = {"purpose": "checking what fuzzing found"}


def test_text_with_a_nul_character_is_refused_before_anything_stores_it(stack: Stack) -> None:
    referral = Synthetic(seed=901).referral("north").payload.model_dump(mode="json")
    referral["grounds"] = "seen near the school\x00"  # PostgreSQL text cannot hold it
    referrals = f"{stack.url('referral')}/referrals"
    by_reference = f"{referrals}/by-reference/north/{referral['district_reference']}"

    refused = httpx.post(referrals, json=referral, headers=ACTOR)
    queue = httpx.get(f"{stack.url('referral')}/referrals?status=%00")

    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "grounds"]
    assert httpx.get(by_reference).status_code == 404  # nothing stored to poison projections
    assert queue.status_code == 422
    assert queue.json()["detail"][0]["loc"] == ["query", "status"]


def test_the_web_app_passes_free_text_on_to_a_service_as_one_path_segment(stack: Stack) -> None:
    web = stack.url("web")
    auditor, mosovo = signed_in(stack, "aud-1"), signed_in(stack, "mosovo-north-1")

    case = httpx.get(f"{web}/api/cases/NOR%1F%3Fx/events", params=PURPOSE, headers=auditor)
    breach = httpx.post(
        f"{web}/api/breaches", json={"order_reference": "ORD\x1f?x"}, headers=mosovo
    )

    assert case.status_code == 404 and repr("NOR\x1f?x") in case.json()["detail"]  # not "NOR\x1f"
    assert breach.status_code == 404


def test_a_refusal_the_web_app_makes_itself_is_shaped_as_documented(stack: Stack) -> None:
    period = {"from": "2026-02-01", "to": "2026-01-01"}

    response = httpx.get(
        f"{stack.url('web')}/api/evaluation", params=period, headers=signed_in(stack, "aud-1")
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "to"]


# Hostile bodies and messages (hypothesis): unpaired surrogates, overlong text, nesting no
# reader should follow, and every JSON type, at any depth of a valid command or event -----

REFERRAL = Synthetic(seed=902).referral("north").payload.model_dump(mode="json")
PROMOTE = {"subject": REFERRAL["subject"], "order_sought": "SRO", "grounds": "Seen near a school."}
DECLINE = {"reason": "insufficient evidence", "detail": "Not enough to apply."}
SOMEONE = UUID(int=1)  # no such candidate or referral: a valid command is refused as not found
HOSTILE_COMMANDS = [
    ("referral", "/referrals", REFERRAL),
    ("referral", f"/candidates/{SOMEONE}/promote", PROMOTE),
    ("referral", f"/referrals/{SOMEONE}/decline", DECLINE),
    ("web", "/api/referrals", REFERRAL),
    ("web", f"/api/candidates/{SOMEONE}/promote", PROMOTE),
]
INBOUND = [
    topic_of(event) for event in (DistrictReferralV1, DistrictDisposalV1, DistrictBreachReportV1)
]
T = TypeVar("T")


def drawn(strategy: st.SearchStrategy[T]) -> list[T]:
    """What hypothesis draws from `strategy`: the same on every run; enough for every kind
    of hostile value to come up, several times over."""
    found: list[T] = []

    @settings(EXAMPLES, max_examples=40)
    @given(strategy)
    def draw(value: T) -> None:
        found.append(value)

    draw()
    return found


@pytest.mark.parametrize(("service", "path", "body"), HOSTILE_COMMANDS)
def test_a_hostile_command_is_refused_or_taken_never_a_server_error_and_refused_stores_nothing(
    stack: Stack, service: str, path: str, body: dict[str, Any]
) -> None:
    before, refused, failures = positions(stack), set[UUID](), []
    headers = signed_in(stack, "cw-1") if service == "web" else ACTOR

    with httpx.Client(base_url=stack.url(service), headers=headers) as http:
        for bad in drawn(hostile(body)):
            correlation_id = uuid4()
            sent = {"Content-Type": "application/json", "X-Correlation-Id": str(correlation_id)}
            status = http.post(path, content=bad.raw, headers=sent).status_code
            if 400 <= status < 500:
                refused.add(correlation_id)
            elif status >= 500 or bad.refused:
                failures.append(f"{status} for {bad.path}: {bad.raw[:150]!r}")

    assert failures == []
    assert refused
    assert stored_since(stack, before, refused) == []


@pytest.mark.parametrize("inbound", INBOUND, ids=lambda inbound: inbound.name)
async def test_a_hostile_message_is_dead_lettered_with_its_reason_and_the_services_go_on(
    stack: Stack, client: Client, inbound: Topic
) -> None:
    values = drawn(hostile_messages(inbound).filter(lambda raw: refused_by(inbound, raw)))
    sent = [await client.producer.send_and_wait(inbound.name, raw) for raw in values]
    where = {(record.partition, record.offset) for record in sent}

    async def all_dead_lettered() -> list[DeadLetter] | None:
        letters = [
            letter
            for letter in await client.dead_letters()
            if letter.topic == inbound.name and (letter.partition, letter.offset) in where
        ]
        return letters if len(letters) == len(where) else None

    letters = await eventually(all_dead_lettered, 60, f"{len(where)} dead letters")
    assert {letter.value for letter in letters} == set(values)  # the bytes, as they came
    assert all(letter.reason.startswith(f"invalid {inbound.name} message: ") for letter in letters)
    for service in ("referral", "breach"):
        assert stack.processes[service].poll() is None
        assert (await client.get(service, "/health/ready")).status_code == 200


# What the attacker-style review found, kept as plain requests ------------------------------

UNPAIRED = '{"district": "north", "grounds": "\\udc00"}'  # a JSON escape Python reads as text


@pytest.mark.parametrize(
    ("service", "path"), [("referral", "/referrals"), ("web", "/api/referrals")]
)
def test_an_unpaired_surrogate_is_refused_as_invalid_not_a_server_error(
    stack: Stack, service: str, path: str
) -> None:
    headers = signed_in(stack, "cw-1") if service == "web" else ACTOR
    sent = {**headers, "Content-Type": "application/json"}

    response = httpx.post(f"{stack.url(service)}{path}", content=UNPAIRED, headers=sent)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "grounds"]


async def test_a_subject_born_in_the_year_9999_is_refused_by_http_and_dead_lettered_from_kafka(
    stack: Stack, client: Client
) -> None:
    people = Synthetic(seed=903)
    by_http = people.referral("north").payload.model_dump(mode="json")
    by_http["subject"]["date_of_birth"] = "9999-12-31"
    by_kafka = people.referral("north").model_dump(mode="json")
    by_kafka["payload"]["subject"]["date_of_birth"] = "9999-12-31"

    refused = httpx.post(f"{stack.url('referral')}/referrals", json=by_http, headers=ACTOR)
    await client.publish_raw("district.referrals.v1", json.dumps(by_kafka).encode())

    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert (error["loc"], error["type"]) == (["body", "subject", "date_of_birth"], "date_future")
    assert "must not be in the future" in error["msg"]

    async def dead_lettered() -> DeadLetter | None:
        reference = by_kafka["payload"]["district_reference"]
        letters = [dead for dead in await client.dead_letters() if reference.encode() in dead.value]
        return letters[0] if letters else None

    letter = await eventually(dead_lettered, 30, "the referral's dead letter")
    assert "payload.subject.date_of_birth: must not be in the future" in letter.reason
