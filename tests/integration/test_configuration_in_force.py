"""The configuration in force (here the team directory) is read from the store once a version
for as long as nothing may have changed it, and a replica takes up the version another
adopted as soon as it hears of the store: two replicas of the notification service on this
folder's embedded PostgreSQL (no other test here uses its schema)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml

from plumbing.configuration import TEAM_DIRECTORY, Configuration, set_configuration
from plumbing.settings import Settings
from schemas.trace import Trace
from services.notification.application import NotificationService
from tests.waiting import eventually

ADMINISTRATOR = Trace("administrator:admin-1", uuid4())
DIRECTORY = yaml.safe_load((Path(__file__).parents[2] / "config" / "teams.yaml").read_text())


@pytest.fixture(scope="module")
def replicas(database_url: str) -> Iterator[list[NotificationService]]:
    settings = Settings(database_url=database_url, kafka_bootstrap_servers="-")
    services = [NotificationService(settings), NotificationService(settings)]
    try:
        hearing = "both replicas hearing their store"
        eventually(lambda: not any(s.repository.fastforward for s in services), hearing, 10.0)
        yield services
    finally:
        for service in services:
            service.close()


def counting_reads(service: NotificationService, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one each time the service reads the directory from its store."""
    reads: list[int] = []
    directory_id, get = Configuration.create_id(TEAM_DIRECTORY), service.events.get

    def counted(originator_id: Any, *args: Any, **kwargs: Any) -> Any:
        if originator_id == directory_id:
            reads.append(1)
        return get(originator_id, *args, **kwargs)

    monkeypatch.setattr(service.events, "get", counted)
    return reads


def publish(service: NotificationService, version: int) -> None:
    document = {**DIRECTORY, "version": version}
    service.save(set_configuration(service, TEAM_DIRECTORY, document, "a test", ADMINISTRATOR))


def test_a_version_is_read_once_and_a_replica_takes_up_the_one_another_adopted(
    replicas: list[NotificationService], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = replicas
    reads = counting_reads(first, monkeypatch)

    assert [first.teams.version for _ in range(5)] == [1] * 5  # the settings' file
    assert len(reads) == 1

    publish(second, 2)  # the other replica adopts a published version
    eventually(lambda: first.teams.version == 2, "version 2 taken up", 10.0)
    read_by_then = len(reads)
    assert [first.teams.version for _ in range(5)] == [2] * 5
    assert len(reads) == read_by_then

    publish(first, 3)  # its own adoption: in force at once
    assert first.teams.version == 3
    eventually(lambda: second.teams.version == 3, "version 3 taken up", 10.0)
