"""Two replicas of a service share its store. Each keeps the aggregates it used lately and
hands them out without reading the store again while it hears every store of events; when
the other replica stores events, it reads afresh. So a command through one replica, right
after a change through the other, is decided on the change."""

from typing import Any

import httpx

from civil_orders.drills.demo import CASEWORKER, refer
from civil_orders.drills.synthetic import Synthetic
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack


async def test_a_replica_decides_on_what_the_other_replica_just_changed(
    stack: Stack, client: Client
) -> None:
    referral = await refer(client, Synthetic(seed=907), "north")
    path = f"/referrals/{referral['id']}"
    stack.start("referral#2")
    try:
        first, second = stack.url("referral"), stack.url("referral#2")
        async with httpx.AsyncClient(timeout=30) as http:

            async def status_at(replica: str) -> Any:
                return (await http.get(f"{replica}{path}")).json()["status"]

            assert await status_at(first) == "received"  # the first replica keeps it now
            headers = {"X-Actor": CASEWORKER}
            reviewed = await http.post(f"{second}{path}/review", headers=headers)
            assert reviewed.status_code < 300, reviewed.text

            async def seen() -> bool:
                return await status_at(first) == "under review"

            await eventually(seen, 10, "the first replica to see the review")
            accepted = await http.post(f"{first}{path}/accept", headers=headers)
            assert accepted.status_code < 300, accepted.text
            assert await status_at(second) == "accepted"
    finally:
        stack.stop("referral#2")


def test_a_replica_told_to_wait_for_the_leader_alone_starts_and_is_ready(stack: Stack) -> None:
    """KAFKA_ACKS=1 (a drill setting) reaches the service's broker and its relay as the
    number the Kafka clients take: the service starts, and `start` waits until it is ready."""
    stack.start("breach#2", env={"KAFKA_ACKS": "1"})
    try:
        ready = httpx.get(f"{stack.url('breach#2')}/health/ready", timeout=10)
        assert ready.status_code == 200, ready.text
    finally:
        stack.stop("breach#2")
