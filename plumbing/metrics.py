"""Prometheus metrics at /metrics on every service.

faststream's middleware counts messages received, processed (with timings) and published;
the gauges here are read from the event store and the consumer when Prometheus scrapes, so
they are right after a restart too.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from fastapi import APIRouter, Request, Response
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, generate_latest

from plumbing.eventstore import hop
from plumbing.follower import Follower

EVENTS_STORED = Gauge(
    "civil_orders_events_stored", "Events in the service's own event store.", ["service"]
)
FOLLOWER_POSITION = Gauge(
    "civil_orders_follower_position",
    "Last stored event a follower has finished: the outbox relay (published), the alert "
    "dispatcher, a projection.",
    ["service", "follower"],
)
FOLLOWER_LAG = Gauge(
    "civil_orders_follower_lag",
    "Events stored but not yet handled by a follower; for the outbox relay, not yet published.",
    ["service", "follower"],
)
CONSUMER_LAG = Gauge(
    "civil_orders_consumer_lag",
    "Messages on a partition the service's consumer has not yet consumed.",
    ["service", "topic", "partition"],
)
HELD_BACK = Counter(
    "civil_orders_events_held_back",
    "Events that arrived before their predecessor and were held back, not applied (the "
    "producer sends them again, in order).",
    ["service", "producer"],
)
DEAD_LETTERS = Gauge("civil_orders_dead_letters", "Dead letters not yet re-driven.", ["service"])

# A service may add its own figures, read at scrape time.
ExtraMetrics = Callable[[asyncpg.Pool], Awaitable[None]]


def broker_middleware(service: str) -> KafkaPrometheusMiddleware:
    return KafkaPrometheusMiddleware(
        registry=REGISTRY, app_name=service, metrics_prefix="civil_orders"
    )


async def refresh(state: Any) -> None:
    service = state.dead_letters.service  # every service has its name; not all an event store
    if state.service is not None:
        stored = await hop(state.service.recorder.max_notification_id) or 0
        EVENTS_STORED.labels(service).set(stored)
    for follower in state.followers:
        follower_metrics(service, follower, await hop(follower.position), await hop(follower.lag))
    consumer = state.consumers.consumer()
    if consumer is not None:
        for partition in consumer.assignment():
            end = consumer.highwater(partition)
            if end is not None:
                lag = end - await consumer.position(partition)
                CONSUMER_LAG.labels(service, partition.topic, partition.partition).set(lag)
    DEAD_LETTERS.labels(service).set(await state.dead_letters.outstanding())
    await state.extra_metrics(state.pool)


def follower_metrics(service: str, follower: Follower[Any], position: int, lag: int) -> None:
    FOLLOWER_POSITION.labels(service, follower.name).set(position)
    FOLLOWER_LAG.labels(service, follower.name).set(lag)


metrics = APIRouter(tags=["operations"])


@metrics.get("/metrics", include_in_schema=False)
async def scrape(request: Request) -> Response:
    await refresh(request.app.state)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
