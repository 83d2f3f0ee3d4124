"""The administrator publishes the team directory and the screening rules through the web
app; the services adopt each new version from its event and work by it."""

import copy
import time
from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from civil_orders.drills.demo import accept, grant, refer
from civil_orders.drills.synthetic import Synthetic
from civil_orders.operations.scan import disposal_envelope
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack
from plumbing.configuration import TEAM_DIRECTORY, adopt, team_directory
from plumbing.eventstore import EventSourcedService
from plumbing.settings import Settings
from schemas import dates
from schemas.configuration import TeamDirectory, TeamDirectoryPublished, TeamDirectoryPublishedV1
from schemas.district import DistrictDisposal, VictimAgeBand
from tests.web import Web, as_


@pytest.fixture
async def admin(client: Client) -> AsyncIterator[Web]:
    """The administrator; whatever the test publishes is put back as a newer version after."""
    person = await as_(client, "admin-1")
    teams = (await person.request("GET", "/api/admin/teams")).json()
    rules = (await person.request("GET", "/api/admin/screening-rules")).json()
    yield person
    for path, key, document in (("teams", "directory", teams), ("screening-rules", "rules", rules)):
        current = (await person.request("GET", f"/api/admin/{path}")).json()
        if current != document:
            restored = {**document, "version": _next(current["version"])}
            body = {key: restored, "reason": "put back after the test"}
            assert (await person.request("PUT", f"/api/admin/{path}", json=body)).status_code == 204


def _next(version: Any) -> Any:
    return version + 1 if isinstance(version, int) else f"{version}+1"


async def test_a_new_team_directory_allocates_new_orders_by_it(client: Client, admin: Web) -> None:
    directory = (await admin.request("GET", "/api/admin/teams")).json()
    moved = copy.deepcopy(directory)
    moved["version"] = _next(directory["version"])
    for team in moved["teams"].values():
        team["districts"] = [d for d in team["districts"] if d != "west"]
    moved["teams"]["mosovo-south"]["districts"].append("west")

    published = await admin.request(
        "PUT", "/api/admin/teams", json={"directory": moved, "reason": "west moves to south"}
    )
    assert published.status_code == 204
    assert (await admin.request("GET", "/api/admin/teams")).json() == moved

    async def allocated_south() -> str | None:
        application = await accept(client, (await refer(client, Synthetic(), "west"))["id"])
        reference = await grant(client, application["id"])

        async def team() -> str | None:
            path = f"/orders?order_reference={reference}"
            found = [o["team"] for o in (await client.get("readmodels", path)).json()]
            return found[0] if found and found[0] else None

        return (
            reference if await eventually(team, 30, "the order's team") == "mosovo-south" else None
        )

    assert await eventually(allocated_south, 60, "a west order allocated to mosovo-south")


async def test_new_screening_rules_flag_what_the_old_ones_passed_over(
    client: Client, admin: Web
) -> None:
    rules = (await admin.request("GET", "/api/admin/screening-rules")).json()
    lowered = {**rules, "version": _next(rules["version"]), "threshold": 1}
    published = await admin.request(
        "PUT", "/api/admin/screening-rules", json={"rules": lowered, "reason": "synthetic review"}
    )
    assert published.status_code == 204

    async def flagged() -> bool | None:
        crime = f"CR/CONFIG/{Synthetic().run}"
        await client.publish(disposal_envelope(_minor_disposal(crime), "test"))

        async def candidate() -> list[Any] | None:
            found = (await client.get("referral", f"/candidates?crime_reference={crime}")).json()
            return found or None

        try:
            [raised] = await eventually(candidate, 5, f"a candidate for {crime}")
        except TimeoutError:
            return None  # the referral service has not adopted the new rules yet
        return raised["rules_version"] == lowered["version"]

    assert await eventually(flagged, 60, "a disposal flagged under the new rules")


def _minor_disposal(crime: str) -> DistrictDisposal:
    """Scores 3 (a child victim) under the packaged rules: below their threshold of 4."""
    return DistrictDisposal(
        district="north", crime_reference=crime, outcome_code="15", offence="synthetic theft",
        offence_category="theft", sexual_offence=False, suspect_nominal_id=f"SYN-{crime}",
        victim_age_band=VictimAgeBand.UNDER_13, disposed_on=date(2026, 1, 5),
    )  # fmt: skip


async def test_only_an_administrator_publishes_and_a_bad_or_unchanged_version_is_refused(
    client: Client, admin: Web
) -> None:
    directory = (await admin.request("GET", "/api/admin/teams")).json()
    caseworker = await as_(client, "cw-1")
    broken = copy.deepcopy(directory)
    broken["version"] = _next(directory["version"])
    broken["teams"]["mosovo-north"]["channels"] = []

    refused = await caseworker.request(
        "PUT", "/api/admin/teams", json={"directory": directory, "reason": "not mine to do"}
    )
    invalid = await admin.request(
        "PUT", "/api/admin/teams", json={"directory": broken, "reason": "no channels at all"}
    )
    unchanged = await admin.request(
        "PUT", "/api/admin/teams", json={"directory": directory, "reason": "same version again"}
    )

    assert refused.status_code == 403
    assert invalid.status_code == 422
    assert "channels" in str(invalid.json()["detail"])
    assert unchanged.status_code == 409
    assert "already at version" in unchanged.json()["detail"]


class Replica(EventSourcedService):
    """A service of the test's own, in a schema beside the stack's, to run two replicas of."""

    name = "configuration_replicas"


def test_a_replica_works_by_the_version_its_peer_adopted_and_validates_each_version_once(
    stack: Stack,
) -> None:
    settings = Settings(database_url=stack.database_url, kafka_bootstrap_servers="unused:9092")
    adopting, other = Replica(settings), Replica(settings)
    try:
        before = team_directory(other)
        assert team_directory(other) is before  # validated once, not on every read

        moved = before.model_copy(update={"version": _next(before.version)})
        adopt(adopting, TEAM_DIRECTORY, moved.model_dump(mode="json"), "test", published(moved))

        # as soon as the store's notice of the adoption reaches the other replica
        heard_by = time.monotonic() + 5
        while (now := team_directory(other)) != moved and time.monotonic() < heard_by:
            time.sleep(0.05)
        assert now == moved
        assert team_directory(other) is now
    finally:
        adopting.close()
        other.close()


def published(directory: TeamDirectory) -> TeamDirectoryPublishedV1:
    return TeamDirectoryPublishedV1(
        event_id=uuid4(), occurred_at=dates.now(), producer="web", aggregate_id=uuid4(),
        aggregate_version=1, correlation_id=uuid4(), actor="administrator:admin-1",
        payload=TeamDirectoryPublished(directory=directory, reason="a test of replicas"),
    )  # fmt: skip
