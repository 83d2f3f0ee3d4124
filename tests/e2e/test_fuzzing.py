"""Fuzzing the HTTP APIs from their own OpenAPI documents (schemathesis): no request, however
malformed, is a server error; responses are as documented; a refused request stores nothing.

Every run is bounded and repeatable: a fixed number of examples per operation, derandomized,
never shrunk. Each request carries its own correlation id, which every event it causes
carries too, so what a refused request stored (nothing) can be looked up in every event store.
"""

from dataclasses import dataclass, field
from uuid import UUID, uuid4

import httpx
import psycopg
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
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

from civil_orders.stack import Stack
from civil_orders.synthetic import Synthetic
from plumbing.chain import events_table
from plumbing.settings import EVENT_STORES, SERVICE_PORTS

EXAMPLES = settings(
    max_examples=20,
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


@pytest.mark.parametrize("username", ["cw-1", "aud-1"])
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
