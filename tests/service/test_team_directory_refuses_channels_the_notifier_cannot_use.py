"""A team directory is validated when published: a channel in it is one the notifier can
send to, else the directory is refused with a 422 naming the channel, and nothing is
published. (One it could not send to would fail every alert of the team on that channel.)"""

import copy
from typing import Any

import pytest

from plumbing.configuration import TEAM_DIRECTORY, Configuration
from plumbing.settings import Settings
from services.web.application import WebService
from tests.service.test_web import as_, referral_service, web_app
from tests.service.upstream import packaged

NORTH = ["body", "directory", "teams", "mosovo-north"]


@pytest.mark.parametrize(
    ("where", "channel", "field", "message"),
    [
        # pydantic takes any Unicode host (as punycode); httpx builds no request to it
        ("channels", {"kind": "webhook", "url": "https://☃.example/alerts"},
         [*NORTH, "channels", 0, "webhook", "url"], "httpx cannot send to this URL"),
        # a label longer than 63 characters, which the socket cannot look up
        ("channels", {"kind": "webhook", "url": f"https://{'a' * 64}.example/alerts"},
         [*NORTH, "channels", 0, "webhook", "url"], "httpx cannot send to this URL"),
        # the email package fails to read it
        ("fallback", {"kind": "email", "to": "duty@[mosovo-north"},
         [*NORTH, "fallback", "email", "to"], "String should match pattern"),
        # the email package reads two addresses, or one that is not what is written
        ("fallback", {"kind": "email", "to": "duty,north@teams.example"},
         [*NORTH, "fallback", "email", "to"], "String should match pattern"),
        ("fallback", {"kind": "email", "to": "duty@teams.example>"},
         [*NORTH, "fallback", "email", "to"], "String should match pattern"),
    ],
    ids=["emoji-host", "long-label", "unreadable-email", "two-addresses", "misread-address"],
)  # fmt: skip
async def test_a_directory_naming_a_channel_the_notifier_cannot_use_is_refused_naming_it(
    settings: Settings,
    web: WebService,
    where: str,
    channel: dict[str, Any],
    field: list[Any],
    message: str,
) -> None:
    directory = copy.deepcopy(packaged("teams.yaml"))
    directory["version"] += 1
    north = directory["teams"]["mosovo-north"]
    if where == "channels":
        north["channels"][0] = channel
    else:
        north["fallback"] = channel

    async with web_app(settings, web, referral_service({})) as http:
        response = await http.put(
            "/api/admin/teams",
            json={"directory": directory, "reason": "north's new alert system"},
            headers=as_(settings, "admin-1"),
        )

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == field
    assert message in error["msg"]
    assert Configuration.create_id(TEAM_DIRECTORY) not in web.repository
