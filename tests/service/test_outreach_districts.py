"""An outreach session is set beside the referrals its district's own staff made: one for a
district the force does not have (a typo) would match none, so it is refused, naming the
district field and the districts of the team directory in force."""

from datetime import timedelta

from plumbing.configuration import TEAM_DIRECTORY
from plumbing.settings import Settings
from schemas.outreach import OutreachSessionRecordedV1
from services.web.application import WebService
from tests.service.conftest import Clock
from tests.service.published import published
from tests.service.test_web import ADMINISTRATOR, as_, referral_service, web_app
from tests.service.upstream import packaged


async def test_a_session_for_a_district_not_in_the_directory_is_refused_naming_those_known(
    settings: Settings, web: WebService, clock: Clock
) -> None:
    session = {"district": "nrth", "held_on": str(clock.today() - timedelta(days=2)),
               "audience": "north BCU response officers"}  # fmt: skip

    async with web_app(settings, web, referral_service({})) as http:
        refused = await http.post("/api/outreach", json=session, headers=as_(settings, "cw-1"))
        page = await http.post("/outreach", data=session, headers=as_(settings, "cw-1"))

    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["loc"] == ["body", "district"]
    assert error["msg"] == "'nrth' is not one of the force's districts: east, north, south, west"
    assert page.status_code == 422 and "not one of the force&#39;s districts" in page.text
    assert published(web, OutreachSessionRecordedV1) == []


async def test_a_session_for_a_district_the_published_directory_added_is_recorded(
    settings: Settings, web: WebService, clock: Clock
) -> None:
    directory = packaged("teams.yaml")
    directory["teams"]["mosovo-east"]["districts"].append("central")
    web.publish_configuration(
        TEAM_DIRECTORY, {**directory, "version": 2}, "central joins the east team", ADMINISTRATOR
    )
    session = {"district": "central", "held_on": str(clock.today() - timedelta(days=2)),
               "audience": "central CID"}  # fmt: skip

    async with web_app(settings, web, referral_service({})) as http:
        recorded = await http.post("/api/outreach", json=session, headers=as_(settings, "cw-1"))

    assert recorded.status_code == 201, recorded.text
    [event] = published(web, OutreachSessionRecordedV1)
    assert event.payload.district == "central"
