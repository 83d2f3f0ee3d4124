"""Administration: the configuration in force, and new versions of it."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import yaml
from fastapi import HTTPException, Request, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from services.web import api_records
from services.web.access import Admitted
from services.web.auth import User
from services.web.pages.common import done, page_router, render
from services.web.pages.forms import Problem, attempt, filled, text

M = TypeVar("M", bound=BaseModel)
router = page_router()
ADMIN = "/admin"


class Dumper(yaml.SafeDumper):
    """YAML as the packaged files are written: a list of plain values on one line."""

    def represent_values(self, data: list[Any]) -> yaml.SequenceNode:
        flow = all(not isinstance(item, dict | list) for item in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


Dumper.add_representer(list, Dumper.represent_values)


def as_yaml(document: Any) -> str:
    return yaml.dump(document, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)


def from_yaml(value: str) -> Any:
    """A document typed into a form; unreadable YAML is refused, saying where."""
    try:
        return yaml.safe_load(value)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        why = error.problem or error.context or "it is not YAML"
        raise HTTPException(422, f"the YAML could not be read{where}: {why}") from None
    except yaml.YAMLError as error:
        raise HTTPException(422, f"the YAML could not be read: {error}") from None


def validated(model: type[M], body: dict[str, Any]) -> M:
    """A form's fields as the API route's body, refused field by field as the API does."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        errors = error.errors(include_url=False, include_context=False, include_input=False)
        raise HTTPException(422, list(errors)) from None


async def admin_page(request: Request, user: User, problem: Problem | None = None) -> Response:
    teams = await api_records.team_directory_in_force(request, user)
    rules = await api_records.screening_rules_in_force(request, user)
    policy = await api_records.access_log_policy(request, user)
    return render(request, user, "admin.html", problem.status if problem else 200,
                  title="Administration", teams=teams, rules=rules, logging=policy["logging"],
                  documents={"teams": as_yaml(teams), "screening-rules": as_yaml(rules)},
                  problem=problem)  # fmt: skip


@router.get(ADMIN, summary="administer the configuration")
async def administration(request: Request, user: Admitted) -> Response:
    return await admin_page(request, user)


async def publishing(
    request: Request, user: User, form: str, command: Callable[[FormData], Awaitable[str]]
) -> Response:
    """A publishing form's command; its refusal is shown next to it, with what was typed."""
    values = await request.form()
    outcome = await attempt(form, values, command(values))
    if isinstance(outcome, Problem):
        return await admin_page(request, user, outcome)
    return done(ADMIN, outcome)


@router.post(f"{ADMIN}/teams", summary="publish the team directory")
async def publish_teams(request: Request, user: Admitted) -> Response:
    async def publish(form: FormData) -> str:
        document = from_yaml(text(form, "document"))
        body = validated(api_records.TeamDirectoryChange,
                         {"directory": document, "reason": text(form, "reason")})  # fmt: skip
        await api_records.publish_team_directory(request, body, user)
        return (f"Team directory version {body.directory.version} published: new orders are "
                "allocated, and alerts sent, by it.")  # fmt: skip

    return await publishing(request, user, "teams", publish)


@router.post(f"{ADMIN}/screening-rules", summary="publish the screening rules")
async def publish_rules(request: Request, user: Admitted) -> Response:
    async def publish(form: FormData) -> str:
        document = from_yaml(text(form, "document"))
        body = validated(api_records.ScreeningRulesChange,
                         {"rules": document, "reason": text(form, "reason")})  # fmt: skip
        await api_records.publish_screening_rules(request, body, user)
        return (f"Screening rules version {body.rules.version} published: the referral service "
                "screens disposals by them from now on.")  # fmt: skip

    return await publishing(request, user, "screening-rules", publish)


@router.post(f"{ADMIN}/access-log", summary="change whether looks are logged")
async def configure_access_log(request: Request, user: Admitted) -> Response:
    async def configure(form: FormData) -> str:
        body = validated(api_records.AccessLogChange, filled(form))
        await api_records.configure_access_log(request, body, user)
        state = "on" if body.logging else "off"
        return f"Access logging turned {state}; the change is in the access log, with your reason."

    return await publishing(request, user, "access-log", configure)
