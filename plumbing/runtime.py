"""One composition root for every service: settings, event store, broker, relay, HTTP.

Nothing connects at import time; `create_app` builds a FastAPI app whose lifespan does it.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from faststream.kafka import KafkaBroker

from plumbing.arrivals import Arrivals
from plumbing.consumer import Consumers, Fetching, consumer_group, one_at_a_time
from plumbing.deadletters import DeadLetters
from plumbing.eventstore import EventSourcedService, hop
from plumbing.follower import Follower, LogFollower
from plumbing.http import install_correlation, install_error_handlers, install_text_guard
from plumbing.metrics import ExtraMetrics, broker_middleware, metrics
from plumbing.projection import LocalProjection
from plumbing.readmodel import Projection, subscribe_projections
from plumbing.relay import OutboxRelay, RelayProducer, follow_the_cluster
from plumbing.settings import Settings
from plumbing.topics_admin import apply_topics, cluster_id

log = structlog.get_logger()


async def standard_uuids(connection: asyncpg.Connection) -> None:
    """Read ids as the standard library's UUID, which the event store can record."""
    await connection.set_type_codec(
        "uuid", schema="pg_catalog", encoder=str, decoder=UUID, format="text"
    )


async def keep_session(connection: asyncpg.Connection) -> None:
    """What a connection goes back to the pool with: nothing to undo (asyncpg still rolls
    back a transaction left open). The services keep no session state on these connections
    (their locks and settings are the transaction's), and asyncpg's default reset is a
    round trip and a transaction of the server's every time a connection is released."""


async def no_extra_metrics(pool: asyncpg.Pool) -> None:
    return None


@dataclass(frozen=True)
class ServiceDefinition:
    """A service: its event store (`application`, None for one that only reads events; it
    says how its events go on the wire), its routes, policies, log followers and timers."""

    name: str
    application: type[EventSourcedService] | None
    router: APIRouter
    subscribe: Callable[[Consumers, Any, Settings], None] = lambda consumers, service, s: None
    followers: Callable[[Any, Settings], list[LogFollower]] = field(
        default=lambda service, settings: []
    )
    # read models of its own events, kept in the transaction that stores them
    local_projections: Callable[[Any], list[LocalProjection]] = field(default=lambda service: [])
    # timers and the like, run for the life of the process
    tasks: Callable[[Any, Settings, asyncpg.Pool], list[Coroutine[Any, Any, None]]] = field(
        default=lambda service, settings, pool: []
    )
    extra_metrics: ExtraMetrics = no_extra_metrics
    # read models of the events on the broker, each in its own schema
    projections: tuple[Projection, ...] = ()
    # anything else the routes need, built from the settings at start (kept on app.state)
    state: Callable[[Settings], dict[str, Any]] = field(default=lambda settings: {})
    # a dependency every route of the app runs first (the web app's access check)
    guard: Callable[..., Any] | None = None
    # how long its consumer's fetches wait at the broker: the shorter, the sooner a lone event
    # arrives and the more an idle consumer polls (see the settings it is chosen from)
    fetch_max_wait_ms: Callable[[Settings], int] = field(
        default=lambda settings: settings.kafka_fetch_max_wait_ms
    )


def kafka_broker(settings: Settings, client_id: str) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=client_id,
        acks=settings.producer_acks(),
        linger_ms=settings.kafka_linger_ms,
        enable_idempotence=settings.kafka_idempotence,
        middlewares=[broker_middleware(client_id)],
        logger=logging.getLogger("faststream"),  # through our JSON handler
        log_level=logging.DEBUG,
    )


health = APIRouter(tags=["health"])


feed = APIRouter(tags=["event feed"])
POSITION_MAX = 2**63 - 1  # a position is a PostgreSQL bigint


@feed.get("/events", response_class=Response)
async def events(
    request: Request,
    after: int = Query(0, ge=0, le=POSITION_MAX),
    limit: int = Query(500, ge=1, le=5000),
) -> Response:
    """This service's published events after a position, as the outbox relays them: for
    replaying read models from the start without the broker. `{"events": [{"topic",
    "event"}], "next": where to continue, "head": the newest position}`."""
    state = request.app.state
    outbox = f'"{state.service.name}".outbox'
    async with state.pool.acquire() as connection, connection.transaction():
        rows = await connection.fetch(
            f"""SELECT notification_id, topic, value FROM {outbox}
                WHERE notification_id > $1 ORDER BY notification_id LIMIT $2""",
            after,
            limit,
        )
        head = await connection.fetchval(f"SELECT coalesce(max(notification_id), 0) FROM {outbox}")
    page = b",".join(b'{"topic":"%s","event":%s}' % (r["topic"].encode(), r["value"]) for r in rows)
    position = rows[-1]["notification_id"] if rows else after
    body = b'{"events":[%s],"next":%d,"head":%d}' % (page, position, head)
    return Response(body, media_type="application/json")


@health.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "alive"}


@health.get("/health/ready")
async def ready(request: Request, response: Response) -> dict[str, Any]:
    state = request.app.state
    checks = {
        "database": await _database_ok(state.pool),
        "broker": await state.broker.ping(timeout=2.0),
        "consumer": state.consumers.consuming,
        "followers": all(follower.running() for follower in state.followers),
    }
    if not all(checks.values()):
        response.status_code = 503
    return {"status": "ready" if all(checks.values()) else "not ready", "checks": checks}


async def _database_ok(pool: asyncpg.Pool) -> bool:
    try:
        one: object = await pool.fetchval("SELECT 1")
        return one == 1
    except (OSError, asyncpg.PostgresError):
        return False


def create_app(definition: ServiceDefinition, settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config = settings or Settings()
        await apply_topics(config.kafka_bootstrap_servers)
        service = None
        if definition.application is not None:
            service = await hop(definition.application, config)
            await hop(service.keep_projections, *definition.local_projections(service))
        broker = kafka_broker(config, definition.name)
        pool = await asyncpg.create_pool(
            config.database_url, min_size=1, max_size=4, init=standard_uuids, reset=keep_session
        )
        dead_letters = DeadLetters(pool, broker, definition.name)
        await dead_letters.setup()
        arrivals = Arrivals(pool, definition.name)
        await arrivals.setup()
        fetching = Fetching(
            definition.fetch_max_wait_ms(config), config.kafka_max_batch, config.kafka_poll_ms
        )
        run = service.process_batch if service is not None else one_at_a_time
        cluster = await cluster_id(config.kafka_bootstrap_servers)
        group = consumer_group(definition.name, cluster)
        personal = service.personal if service is not None else None
        consumers = Consumers(broker, group, dead_letters, run, fetching, personal, arrivals)
        definition.subscribe(consumers, service, config)
        for projection in definition.projections:
            async with pool.acquire() as connection:
                await projection.create(connection)
        subscribe_projections(consumers, definition.projections, pool)
        consumers.subscribe()
        await broker.start()
        producers: list[RelayProducer] = []  # the relay's, for the cluster it publishes to

        async def relay_to(service: EventSourcedService, cluster: str) -> OutboxRelay:
            """The relay for `cluster`, with a Kafka producer of its own: one that knew the
            last cluster's partitions sent to those the new one lacks, which the embedded
            broker acknowledged and dropped."""
            for producer in producers:
                await producer.stop()
            producers[:] = [RelayProducer(config, definition.name)]
            await producers[0].start()
            return OutboxRelay(service, producers[0].publish, cluster, config.relay_batch)

        followers: list[Follower[Any]] = []
        if service is not None:
            followers = [await relay_to(service, cluster), *definition.followers(service, config)]
        for follower in followers:
            follower.start()

        async def move_to(new_cluster: str) -> None:
            if service is not None:  # followers[0] is its relay
                await hop(followers[0].stop)
                followers[0] = await relay_to(service, new_cluster)
                followers[0].start()
            await consumers.rejoin(consumer_group(definition.name, new_cluster))

        watch = follow_the_cluster(
            config.kafka_bootstrap_servers, cluster, config.kafka_cluster_check_seconds, move_to
        )
        tasks = [asyncio.create_task(t) for t in [watch, *definition.tasks(service, config, pool)]]
        app.state.__dict__.update(
            service=service,
            settings=config,
            broker=broker,
            pool=pool,
            followers=followers,
            consumers=consumers,
            dead_letters=dead_letters,
            extra_metrics=definition.extra_metrics,
            **definition.state(config),
        )
        log.info("service started", followers=[f.name for f in followers])
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for follower in followers:
                await hop(follower.stop)
            for producer in producers:
                await producer.stop()
            await broker.stop()
            await pool.close()
            if service is not None:
                service.close()
            log.info("service stopped")

    guards = [Depends(definition.guard)] if definition.guard else None
    app = FastAPI(
        title=f"civil-orders {definition.name} service", lifespan=lifespan, dependencies=guards
    )
    install_error_handlers(app)
    install_text_guard(app)  # inside the correlation middleware, which logs its refusals
    install_correlation(app)
    app.include_router(health)
    app.include_router(metrics)
    if definition.application is not None:
        app.include_router(feed)
    app.include_router(definition.router)
    return app
