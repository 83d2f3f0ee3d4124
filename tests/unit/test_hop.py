"""The hop into the event store runs a command again when it lost a race for an aggregate."""

import pytest
from eventsourcing.persistence import IntegrityError

from plumbing.eventstore import CONFLICT_ATTEMPTS, hop


async def test_a_command_that_lost_a_race_is_run_again_on_the_fresh_state() -> None:
    attempts: list[int] = []

    def save_after_two_conflicts() -> str:
        attempts.append(len(attempts) + 1)
        if len(attempts) < CONFLICT_ATTEMPTS:
            raise IntegrityError("duplicate key value violates unique constraint")
        return "saved"

    assert await hop(save_after_two_conflicts) == "saved"
    assert attempts == list(range(1, CONFLICT_ATTEMPTS + 1))


async def test_a_command_that_keeps_conflicting_gives_up_after_a_few_attempts() -> None:
    attempts: list[int] = []

    def always_conflicts() -> None:
        attempts.append(1)
        raise IntegrityError("duplicate key value violates unique constraint")

    with pytest.raises(IntegrityError):
        await hop(always_conflicts)
    assert len(attempts) == CONFLICT_ATTEMPTS
