"""The web app's service layer: the access log of every look at personal data and its policy,
the configuration the administrator publishes, and the outreach sessions held."""

from datetime import timedelta
from uuid import uuid4

import pytest

from plumbing.configuration import SCREENING_RULES, TEAM_DIRECTORY, VersionUnchanged
from schemas.configuration import ScreeningRulesPublishedV1, TeamDirectoryPublishedV1
from schemas.outreach import OutreachSessionRecordedV1
from schemas.trace import Trace
from services.web.application import WebService
from services.web.domain import (
    AccessLogPolicy,
    AccessRecorded,
    AudienceRequired,
    OutreachSession,
    OutreachSessionNotYetHeld,
    ReasonRequired,
)
from tests.service.conftest import Clock
from tests.service.published import (
    kinds,
    log_size,
    messages,
    published,
    recorder,
    stored,
    the_log,
)
from tests.service.upstream import packaged

CASEWORKER = Trace("caseworker:cw-1", uuid4())
ADMINISTRATOR = Trace("administrator:adm-1", uuid4())


def look(web: WebService, case: str = "referral NOR-1") -> bool:
    return web.record_access(
        "cw-1", "caseworker", case, "referral", "triage", CASEWORKER, exported=True
    )


def test_each_look_at_personal_data_is_recorded_with_who_why_and_when_and_kept_private(
    web: WebService, clock: Clock
) -> None:
    before = clock.now()
    assert look(web)

    [event] = [e for e in the_log(web) if isinstance(e, AccessRecorded.Recorded)]
    assert (event.username, event.role, event.case, event.what, event.purpose) == (
        "cw-1", "caseworker", "referral NOR-1", "referral", "triage",
    )  # fmt: skip
    assert event.exported and before <= event.at <= event.timestamp <= clock.now()
    assert event.trace == CASEWORKER
    assert messages(web) == []  # the log is the web app's own: nothing goes on the wire


def test_the_log_is_kept_until_turned_off_with_a_reason_and_each_change_is_recorded(
    web: WebService,
) -> None:
    assert web.logging() and web.get_access_log_policy() == {"logging": True}

    web.configure_access_log(False, "the DPO agreed a pause for the migration", ADMINISTRATOR)
    while_off = look(web), web.get_access_log_policy()
    web.configure_access_log(True, "the migration is over", ADMINISTRATOR)

    assert while_off == (False, {"logging": False})
    assert web.logging() and look(web)
    policy = stored(web, AccessLogPolicy.create_id())
    assert kinds(policy) == ["AccessLogPolicy.Configured", "AccessLogPolicy.Changed"]
    assert [(e.logging, e.trace.actor) for e in policy] == [
        (False, "administrator:adm-1"), (True, "administrator:adm-1"),
    ]  # fmt: skip
    assert len([e for e in the_log(web) if isinstance(e, AccessRecorded.Recorded)]) == 1


def test_a_change_to_the_log_without_a_reason_is_refused_and_changes_nothing(
    web: WebService,
) -> None:
    with pytest.raises(ReasonRequired, match="needs a reason"):
        web.configure_access_log(False, "  ", ADMINISTRATOR)

    assert web.logging() and log_size(web) == 0


def test_a_published_team_directory_goes_on_the_wire_whole_once_per_version(
    web: WebService,
) -> None:
    directory = packaged("teams.yaml")
    web.publish_configuration(TEAM_DIRECTORY, directory, "the first directory", ADMINISTRATOR)
    with pytest.raises(VersionUnchanged, match="already at version 1"):
        web.publish_configuration(TEAM_DIRECTORY, directory, "again", ADMINISTRATOR)
    web.publish_configuration(
        TEAM_DIRECTORY, {**directory, "version": 2}, "west moves to the east team", ADMINISTRATOR
    )

    first, second = published(web, TeamDirectoryPublishedV1)
    assert first.payload.directory.model_dump(mode="json") == directory
    assert (second.payload.directory.version, second.payload.reason) == (
        2, "west moves to the east team",
    )  # fmt: skip
    assert second.actor == "administrator:adm-1"
    assert first.aggregate_id == second.aggregate_id  # one configuration, a version an event


def test_published_screening_rules_go_on_the_wire_for_the_referral_service(
    web: WebService,
) -> None:
    rules = {**packaged("screening-rules.yaml"), "threshold": 3}

    web.publish_configuration(SCREENING_RULES, rules, "one rule in two fires", ADMINISTRATOR)

    [event] = published(web, ScreeningRulesPublishedV1)
    assert event.payload.rules.threshold == 3 and event.payload.reason == "one rule in two fires"
    assert messages(web)[0].topic == "web.configuration.v1"


def test_an_outreach_session_is_recorded_and_published_once_however_often_it_is_entered(
    web: WebService, clock: Clock
) -> None:
    held_on = clock.today() - timedelta(days=2)

    first = web.record_outreach_session(
        "north", held_on, "Response officers", "What an SRO can do", CASEWORKER
    )
    second = web.record_outreach_session(
        " north", held_on, "response  OFFICERS ", "entered again", CASEWORKER
    )

    assert first == second == OutreachSession.create_id("north", held_on, "Response officers")
    [session] = published(web, OutreachSessionRecordedV1)
    assert (session.payload.district, session.payload.held_on, session.payload.audience) == (
        "north", held_on, "Response officers",
    )  # fmt: skip


def test_an_outreach_session_not_yet_held_or_with_nobody_named_is_refused(
    web: WebService, clock: Clock
) -> None:
    with pytest.raises(OutreachSessionNotYetHeld, match="recorded once held"):
        web.record_outreach_session(
            "north", clock.today() + timedelta(days=3), "Detectives", "", CASEWORKER
        )
    with pytest.raises(AudienceRequired):
        web.record_outreach_session("north", clock.today(), " ", "", CASEWORKER)

    assert recorder(web).outbox == [] and log_size(web) == 0
