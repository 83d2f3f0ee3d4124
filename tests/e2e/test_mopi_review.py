"""MoPI review: each person's record falls due for review by the services' clock, by the nature
of their casework; a reviewer retains it (why, until when) or disposes of their personal data,
which erases them; nobody subject to an order in force is disposed of."""

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest

from civil_orders.drills.demo import CASEWORKER, accept, grant
from civil_orders.stack.client import Client, eventually
from civil_orders.stack.embedded import Stack, running_stack
from schemas import dates
from schemas.personal import ERASED
from services.application.domain_dates import years_after
from services.referral.domain import SubjectRecord
from services.web.pages.common import PURPOSE_COOKIE, STATUS_COOKIE
from tests.e2e.test_erasure import (
    flagged_as_suspect,
    person,
    referral_service_knows,
    referred_by_staff,
)
from tests.web import Web, as_

TODAY = dates.today()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own: its referral service is run years ahead, and every record there
    falls due."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REVIEW_CHECK_SECONDS", "0.5")
        with running_stack(Path(tmp_path_factory.mktemp("review")), usual_ports=False) as own:
            yield own


def referral_service_on(stack: Stack, day: date) -> None:
    """The referral service restarted with its clock on `day`."""
    stack.stop("referral")
    stack.start("referral", env={"CLOCK_DATE": day.isoformat()})


async def queued(reviewer: Web, subject_key: str) -> dict[str, Any]:
    async def due() -> dict[str, Any] | None:
        queue = (await reviewer.request("GET", "/api/reviews")).json()
        return next((r for r in queue if r["subject_key"] == subject_key), None)

    return await eventually(due, 30, f"{subject_key} to be queued for review")


async def review_of(reviewer: Web, subject_key: str) -> dict[str, Any]:
    path = f"/api/reviews/{subject_key}"
    response = await reviewer.request("GET", path, params={"purpose": "MoPI review"})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def page(reviewer: Web, method: str, path: str, **form: Any) -> httpx.Response:
    """A page of the web interface, as the reviewer signed in with a stated purpose."""
    cookies = {PURPOSE_COOKIE: quote("MoPI review")}
    headers = {"Authorization": f"Bearer {reviewer.token}"}
    async with httpx.AsyncClient(base_url=reviewer.url, cookies=cookies) as browser:
        return await browser.request(method, path, headers=headers, **form)


async def disposals_logged(auditor: Web, subject_key: str) -> list[tuple[str, str]]:
    async def logged() -> list[tuple[str, str]] | None:
        log = await auditor.request("GET", "/api/access-log", params={"case": subject_key})
        disposals = [e for e in log.json() if e["what"] == "disposal of personal data"]
        return [(e["actor"], e["purpose"]) for e in disposals if e["case"] == subject_key] or None

    return await eventually(logged, 15, "the disposal in the access log")


async def test_a_review_falls_due_on_the_clock_is_retained_to_a_later_date_then_disposes(
    stack: Stack, client: Client
) -> None:
    declined, ordered, suspect = person(), person(), person()
    # one person referred and declined (group 3: six years), one subject to an order in force
    # for two years (group 1: ten), one flagged by screening a disposal (group 3)
    referral_id = await referred_by_staff(client, declined)
    detail = {"reason": "no sexual risk identified", "detail": "Synthetic: no risk."}
    await client.command("referral", f"/referrals/{referral_id}/decline", CASEWORKER, detail)
    ordered_referral = await referred_by_staff(client, ordered)
    reference = await grant(client, (await accept(client, ordered_referral))["id"])
    await referral_service_knows(client, ordered["nominal_id"], reference)
    await flagged_as_suspect(client, suspect)
    first = str(SubjectRecord.create_id(declined["nominal_id"]))
    second = str(SubjectRecord.create_id(ordered["nominal_id"]))
    third = str(SubjectRecord.create_id(suspect["nominal_id"]))
    caseworker, manager = await as_(client, "cw-1"), await as_(client, "mgr-1")
    dpo, auditor = await as_(client, "dpo-1"), await as_(client, "aud-1")

    scheduled = await review_of(caseworker, first)
    managed = await review_of(caseworker, second)
    flagged = await review_of(caseworker, third)
    assert (scheduled["group"], scheduled["due_on"]) == (3, years_after(TODAY, 6).isoformat())
    assert (managed["group"], managed["due_on"]) == (1, years_after(TODAY, 10).isoformat())
    assert (flagged["group"], flagged["due_on"]) == (3, years_after(TODAY, 6).isoformat())
    assert not scheduled["due"]

    # ten years on, both are due for review
    ten_years_on = years_after(TODAY, 10) + timedelta(days=1)
    referral_service_on(stack, ten_years_on)
    shown = await queued(caseworker, first)
    await queued(caseworker, second)
    assert shown["subject_nominal_id"] == declined["nominal_id"]  # opened for the reviewer
    assert declined["nominal_id"] in (await page(caseworker, "GET", "/reviews")).text

    # retained for two more years, with the reason: off the queue, reviewed then
    next_review = years_after(ten_years_on, 2)
    retain = {"reason": "Synthetic: new intelligence", "next_review_on": next_review.isoformat()}
    retained = await caseworker.request("POST", f"/api/reviews/{first}/retain", json=retain)
    kept = await review_of(caseworker, first)
    # the person subject to an order in force is not disposable
    refused = await manager.request(
        "POST", f"/api/reviews/{second}/dispose", json={"reason": "Synthetic: MoPI review"}
    )

    assert retained.status_code == 200, retained.text
    assert (kept["due_on"], kept["due"]) == (next_review.isoformat(), False)
    # the decision is part of what a subject access gives the person
    sar = {"nominal_id": declined["nominal_id"], "purpose": "SAR-2036-001"}
    exported = (await dpo.request("POST", "/api/subjects/access", json=sar)).json()
    [decision] = exported["subject"]["review"]["retained"]
    assert (decision["by"], decision["reason"]) == ("caseworker:cw-1", retain["reason"])
    assert refused.status_code == 409 and "order in force" in refused.json()["detail"]
    assert reference in refused.json()["detail"]

    # at the next review, disposal erases the person
    referral_service_on(stack, next_review)
    await queued(caseworker, first)
    dispose = {"reason": "Synthetic: no longer necessary"}
    disposed = await page(caseworker, "POST", f"/reviews/{first}/dispose", data=dispose)
    again = await caseworker.request("POST", f"/api/reviews/{first}/dispose", json=dispose)
    referral = (await client.get("referral", f"/referrals/{referral_id}")).json()

    assert disposed.status_code == 303, disposed.text  # back to the list, saying so
    assert "disposed" in unquote(disposed.cookies[STATUS_COOKIE])
    assert again.status_code == 409
    assert referral["subject_nominal_id"] == ERASED
    assert (await review_of(caseworker, first))["disposed_at"] is not None
    # and the access log records the disposal and who decided it
    assert await disposals_logged(auditor, first) == [("caseworker:cw-1", dispose["reason"])]
