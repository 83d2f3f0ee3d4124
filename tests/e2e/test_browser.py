"""The web interface in a real browser: staff sign in, take a referral to a granted order, the
managing MOSOVO team acknowledges its alert, a variation of the order goes through QA and
court, and others are refused what they may not see.

The tests run in order and share one case: the first makes the order the others look for.
A screenshot of each key step goes to test-artifacts/screenshots/.
"""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
import yaml
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from civil_orders.stack.embedded import Stack
from schemas import dates

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
COURT = "Northtown Magistrates' Court"
PURPOSE = "preparing an application for court"
DEVICES = "To disclose every internet-capable device within 3 days of getting it."


@pytest.fixture(scope="module")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, headless=True)
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
def case() -> dict[str, str]:
    """What the first test made, for the others: the order's reference and its alert."""
    return {}


@asynccontextmanager
async def signed_in(browser: Browser, base: str, username: str) -> AsyncIterator[Page]:
    """A browser session of one of the synthetic staff, signed in with a purpose."""
    context = await browser.new_context(base_url=base)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        await page.goto("/")
        await expect(page).to_have_url(re.compile(r"/sign-in\?next="))
        await page.get_by_label("Who you are").select_option(username)
        await page.get_by_label("Purpose of this session").select_option(PURPOSE)
        await page.get_by_label("In your own words").fill("synthetic browser test")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("status")).to_contain_text("Signed in as")
        yield page
    finally:
        await context.close()


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


async def shown_after_reloads(page: Page, target: Locator, seconds: float = 20) -> None:
    """Reload until `target` is on the page: read models follow the services' events."""
    for _ in range(int(seconds * 2)):
        if await target.count():
            return
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(target.first).to_be_visible()


def nav(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)


async def said(page: Page, text: str | re.Pattern[str]) -> None:
    await expect(page.get_by_role("status")).to_contain_text(text)


async def to_a_hearing(page: Page) -> None:
    """Legal services make the application on the page to the court, which lists it today."""
    made = page.get_by_role("region", name="Make the application to the court")
    await made.get_by_label("Court", exact=True).fill(COURT)
    await made.get_by_role("button", name="Record the application").click()
    await said(page, "Application to the court recorded")
    await page.get_by_label("Hearing on").fill(dates.today().isoformat())
    await page.get_by_role("button", name="List the hearing").click()
    await said(page, "Hearing listed")


@pytest.mark.timeout(900)  # its setup may install Chromium first
async def test_a_referral_becomes_a_granted_order_through_the_web_interface(
    stack: Stack, browser: Browser, case: dict[str, str]
) -> None:
    base, reference = stack.url("web"), f"NTH-WEB-{uuid4().hex[:6].upper()}"

    # A north district referrer refers a synthetic person.
    async with signed_in(browser, base, "ref-north") as page:
        await nav(page, "Refer a person").click()
        await page.get_by_label("Your district’s reference").fill(reference)
        await page.get_by_label("Order sought").select_option("SRO")
        await page.get_by_label("Grounds").fill("Synthetic: sexualised messages to a child.")
        await page.get_by_label("Nominal id").fill(f"N{uuid4().int % 10**6:06d}")
        await page.get_by_label("Full name").fill("Robin Example")
        await page.get_by_label("Date of birth").fill("1984-05-17")
        await shot(page, "01-referral-form")
        await page.get_by_role("button", name="Send the referral").click()
        await said(page, f"Referral {reference} sent")

    # A caseworker reviews and accepts it from the queue, and opens its application.
    async with signed_in(browser, base, "cw-1") as page:
        await page.goto("/queue")
        review = page.get_by_role("button", name=f"Start review of {reference}")
        await shown_after_reloads(page, review)
        await shot(page, "02-queue")
        await review.click()
        await said(page, f"Review of {reference} started")
        await page.get_by_role("button", name=f"Accept {reference} and take it").click()
        await said(page, f"{reference} accepted")
        opening = page.get_by_role("link", name=f"Open SRO application for {reference}")
        await shown_after_reloads(page, opening)
        await opening.click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("SRO application")

        # The case is built: legal test, a term, evidence, duration; then QA.
        test = page.get_by_role("region", name="Set out the legal test")
        await test.get_by_label("Act of a sexual nature").fill("Synthetic: messages to a child.")
        await test.get_by_label("Necessity").fill("Synthetic: contact continued after warnings.")
        await test.get_by_role("button", name="Save the legal test").click()
        await said(page, "Legal test saved")
        term = page.get_by_role("region", name="Propose a term")
        await term.get_by_label("Wording").fill("Not to have unsupervised contact with a child.")
        await term.get_by_label("Why it is necessary").fill("Synthetic: the risk is to children.")
        await term.get_by_role("button", name="Add the term").click()
        await said(page, "Term added")
        evidence = page.get_by_role("region", name="Add evidence")
        await evidence.get_by_label("Kind of evidence").select_option("digital evidence")
        await evidence.get_by_label("Description").fill("Synthetic: message download.")
        await evidence.get_by_label("Source").fill("Digital forensics unit")
        await evidence.get_by_label("Dated").fill((dates.today() - timedelta(days=30)).isoformat())
        await evidence.get_by_label("act of a sexual nature").check()
        await evidence.get_by_label("necessity").check()
        await evidence.get_by_role("button", name="Add to the bundle").click()
        await said(page, "Evidence added")
        await page.get_by_label("Until further order").check()
        await page.get_by_role("button", name="Save the duration").click()
        await said(page, "Duration saved")
        await shot(page, "03-application-built")
        await page.get_by_role("button", name="Submit for quality assurance").click()
        await said(page, "Submitted for quality assurance")
        await page.get_by_role("button", name="Run quality assurance").click()
        await said(page, "Quality assurance passed")
        await shot(page, "04-quality-assurance-passed")
        application = page.url

    # Legal services make the application, list the hearing and record the grant.
    async with signed_in(browser, base, "ls-1") as page:
        await page.goto(application)
        await to_a_hearing(page)
        grant = page.get_by_role("region", name="The court granted the order")
        await grant.get_by_label("Court", exact=True).fill(COURT)
        ends = dates.today() + timedelta(days=2 * 365 + 1)
        await grant.get_by_label("Ends on").fill(ends.isoformat())
        await grant.get_by_role("button", name="Record the grant").click()
        await said(page, "The court granted order ORD-")
        await shot(page, "05-order-granted")
        found = re.search(r"ORD-[\w-]+", await page.get_by_role("status").inner_text())
        assert found is not None
        case["order"] = found.group(0)

        # The order is in the register.
        await nav(page, "Order register").click()
        await shown_after_reloads(page, page.get_by_role("link", name=case["order"]))
        await shot(page, "06-order-register")


async def test_the_managing_mosovo_team_acknowledges_the_orders_alert(
    stack: Stack, browser: Browser, case: dict[str, str]
) -> None:
    assert case, "needs the order the first test granted"
    async with signed_in(browser, stack.url("web"), "mosovo-north-1") as page:
        await nav(page, "Alerts").click()
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=case["order"]))
        acknowledge = row.get_by_role("button", name=f"Acknowledge the alert about {case['order']}")
        # it can be acknowledged once it has reached the team (delivered, or its escalation sent)
        await shown_after_reloads(page, acknowledge)
        case["alert"] = str(await row.first.get_attribute("id")).removeprefix("alert-")
        await shot(page, "07-alert-inbox")
        await acknowledge.click()
        await said(page, f"Alert about {case['order']} acknowledged")
        await shown_after_reloads(page, row.filter(has_text="Acknowledged by DC Avery Example"))
        await expect(row.get_by_role("button")).to_have_count(0)
        await shot(page, "08-alert-acknowledged")


async def test_the_managing_team_records_the_subjects_notification_on_the_order_page(
    stack: Stack, browser: Browser, case: dict[str, str]
) -> None:
    assert case, "needs the order the first test granted"
    async with signed_in(browser, stack.url("web"), "mosovo-north-1") as page:
        await page.goto(f"/orders/{case['order']}")
        due = (dates.today() + timedelta(days=3)).isoformat()
        await expect(page.locator("dl").last).to_contain_text(f"due by {due}")
        form = page.locator("form", has=page.get_by_role("button", name="Record the notification"))
        await form.get_by_label("Kind").select_option("initial")
        await form.get_by_label("Notified on").fill(dates.today().isoformat())
        await form.get_by_label("How it was received").fill("in person at the front counter")
        await form.get_by_label("Name notified").fill("Synthetic Name")
        await form.get_by_role("button", name="Record the notification").click()
        await expect(page.get_by_role("alert")).to_contain_text("gives the home address")
        await expect(form.get_by_label("Name notified")).to_have_value("Synthetic Name")
        await form.get_by_label("Home address notified").fill("1 Synthetic Row, Northtown")
        await form.get_by_role("button", name="Record the notification").click()
        await said(page, "The initial notification is recorded")
        await expect(page.locator("dl").last).to_contain_text(f"notified on {dates.today()}")
        notified = page.get_by_role("table", name="Notifications the subject made")
        await expect(notified).to_contain_text("1 Synthetic Row")
        await expect(page.get_by_text("No breach recorded.")).to_be_visible()
        await shot(page, "08b-order-notified")


async def test_a_caseworker_opens_a_defendants_discharge_application_on_the_order_page(
    stack: Stack, browser: Browser, case: dict[str, str]
) -> None:
    assert case, "needs the order the first test granted"
    async with signed_in(browser, stack.url("web"), "cw-1") as page:
        await page.goto(f"/orders/{case['order']}")
        form = page.locator("form", has=page.get_by_role("button", name="Open the application"))
        await form.get_by_label("It asks the court to").select_option("discharge")
        await form.get_by_label("Whose application").select_option("defendant")
        await form.get_by_label("Reasons or grounds").fill("Synthetic: he says he has moved away.")
        await form.get_by_role("button", name="Open the application").click()
        await expect(page.get_by_role("alert")).to_contain_text("the day the police received it")
        await form.get_by_label("Received on").fill(dates.today().isoformat())
        await form.get_by_role("button", name="Open the application").click()
        await said(page, "The discharge application is open, at drafting")
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Application to discharge order {case['order']}"
        )
        await expect(page.get_by_role("region", name="The police response")).to_be_visible()
        await shot(page, "08c-order-application-opened")
        await page.get_by_role("link", name=f"Back to order {case['order']}").click()
        listed = page.get_by_role("table", name="Applications to vary, renew or discharge")
        opened = listed.get_by_role("link", name="discharge application by the defendant")
        await expect(opened).to_have_attribute("href", re.compile(r"^/order-applications/"))


async def test_a_variation_passes_qa_with_its_reason_and_the_courts_grant_changes_the_order(
    stack: Stack, browser: Browser, case: dict[str, str]
) -> None:
    assert case, "needs the order the first test granted"
    base = stack.url("web")
    async with signed_in(browser, base, "cw-1") as page:
        await page.goto(f"/orders/{case['order']}")
        form = page.locator("form", has=page.get_by_role("button", name="Open the application"))
        await form.get_by_label("It asks the court to").select_option("variation")
        await form.get_by_label("Reasons or grounds").fill("Synthetic: the team found devices.")
        await form.get_by_role("button", name="Open the application").click()
        await said(page, "The variation application is open, at drafting")

        # A change without its reason fails QA, which names it; amended with one, QA passes.
        change = page.get_by_role("region", name="Propose a term change")
        for reason, amends in (("", ""), ("Synthetic: he hid a phone from officers.", "1")):
            await change.get_by_label("Kind").select_option("requirement")
            await change.get_by_label("Wording").fill(DEVICES)
            await change.get_by_label("Why the change is now necessary").fill(reason)
            await change.get_by_label("Amends change number").fill(amends)
            await change.get_by_role("button", name="Save the change").click()
            await said(page, "Term change saved")
            await page.get_by_role("button", name="Submit for quality assurance").click()
            await page.get_by_role("button", name="Run quality assurance").click()
            if not reason:
                await said(page, "did not pass: change 1 does not say why it is now necessary")
                await shot(page, "08d-variation-quality-assurance-failed")
        await said(page, "Quality assurance passed")
        case["variation"] = page.url

    # Legal services take it from the order's page to court; the grant varies the order.
    async with signed_in(browser, base, "ls-1") as page:
        await nav(page, "Applications about orders").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Applications about orders")
        await page.goto(f"/orders/{case['order']}")
        await page.get_by_role("link", name="variation application by the police").click()
        await to_a_hearing(page)
        await page.get_by_role("button", name="Record the grant").click()
        await said(page, "The court's grant recorded: its terms are varied")
        await shot(page, "08e-variation-granted")
        await page.get_by_role("link", name=f"Back to order {case['order']}").click()
        terms = page.get_by_role("table", name="The order's prohibitions and requirements")
        await shown_after_reloads(page, terms.get_by_text(DEVICES))
        await shot(page, "08f-order-varied")


async def test_other_teams_and_roles_are_refused_what_they_may_not_see(
    stack: Stack, browser: Browser, case: dict[str, str]
) -> None:
    assert {"alert", "variation"} <= set(case), "needs the alert and variation found earlier"
    base = stack.url("web")
    async with signed_in(browser, base, "mosovo-east-1") as page:
        await nav(page, "Alerts").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Alerts for mosovo-east")
        await expect(page.get_by_text(case["order"])).to_have_count(0)
        await shot(page, "09-other-team-alerts")
        await page.goto("/orders")
        await expect(page.get_by_text(case["order"])).to_have_count(0)
        await page.goto(f"/orders/{case['order']}")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
        await page.goto(case["variation"])
        await expect(page.get_by_role("main")).to_contain_text("sees only mosovo-east's orders")
        refused = await page.request.post(f"{base}/alerts/{case['alert']}/acknowledge")
        assert refused.status == 403
        assert "sees only mosovo-east" in await refused.text()

    async with signed_in(browser, base, "ref-north") as page:
        await expect(nav(page, "Referral queue")).to_have_count(0)
        response = await page.goto("/queue")
        assert response is not None and response.status == 403
        await expect(page.get_by_role("heading", level=1)).to_have_text("You may not do this")
        await expect(page.get_by_role("main")).to_contain_text(
            "A district referrer may not open the referral queue"
        )
        await shot(page, "10-referrer-refused-the-queue")


def with_line(document: str, key: str, value: str) -> str:
    """A YAML document with its top-level `key: ...` line set to `key: value`."""
    return re.sub(rf"^{key}: .*$", f"{key}: {value}", document, count=1, flags=re.M)


async def publish_rules(page: Page, document: str, reason: str) -> Locator:
    """Fill in the screening rules form and send it from the keyboard; the form's region."""
    form = page.get_by_role("region", name="Publish a new version of the screening rules")
    await form.get_by_label("The screening rules, as YAML").fill(document)
    reason_field = form.get_by_label("Why: recorded, and sent with the change")
    await reason_field.fill(reason)
    await reason_field.press("Enter")
    return form


async def test_the_administrator_publishes_new_screening_rules_in_the_browser(
    stack: Stack, browser: Browser
) -> None:
    async with signed_in(browser, stack.url("web"), "admin-1") as page:
        await page.get_by_role("link", name="Screening rules", exact=True).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
        await expect(page.get_by_role("table", name="Weights")).to_be_visible()
        await shot(page, "11-administration")
        form = page.get_by_role("region", name="Publish a new version of the screening rules")
        original = await form.get_by_label("The screening rules, as YAML").input_value()
        rules = yaml.safe_load(original)
        version = f"{rules['version']}-web-{uuid4().hex[:6]}"

        # Only the version and the threshold change.
        stricter = with_line(original, "version", f"'{version}'")
        stricter = with_line(stricter, "threshold", str(rules["threshold"] + 1))
        await publish_rules(page, stricter, "synthetic browser test: a stricter threshold")
        await said(page, f"Screening rules version {version} published")
        heading = page.get_by_role("heading", name=f"Screening rules, version {version}")
        await expect(heading).to_be_visible()
        threshold = page.locator("dl.facts dt:text-is('Threshold') + dd")
        await expect(threshold).to_have_text(str(rules["threshold"] + 1))
        await shot(page, "12-screening-rules-published")

        # The original rules go back under a newer version, for the other tests.
        restored = with_line(original, "version", f"'{version}-restored'")
        await publish_rules(page, restored, "synthetic browser test: put back after the test")
        await said(page, f"Screening rules version {version}-restored published")
        await expect(threshold).to_have_text(str(rules["threshold"]))

        # Access logging, already on, is confirmed on: the auditor sees the policy change.
        logging = page.get_by_role("region", name="Turn access logging on or off")
        await logging.get_by_label("On: record each look").check()
        await logging.get_by_label("Why: recorded in the access log").fill(
            "synthetic browser test: logging stays on"
        )
        await logging.get_by_role("button", name="Change the setting").click()
        await said(page, "Access logging turned on")
        await shot(page, "13-access-logging-confirmed")


async def test_a_bad_screening_rules_document_is_shown_with_why_and_kept(
    stack: Stack, browser: Browser
) -> None:
    async with signed_in(browser, stack.url("web"), "admin-1") as page:
        await nav(page, "Administration").click()
        form = page.get_by_role("region", name="Publish a new version of the screening rules")
        document = form.get_by_label("The screening rules, as YAML")
        current = await document.input_value()

        # Unreadable YAML: refused, saying where, with the text kept to correct.
        broken = with_line(current, "threshold", "[4")
        await publish_rules(page, broken, "synthetic browser test: a typing slip")
        await expect(form.get_by_role("alert")).to_contain_text("YAML could not be read at line")
        await expect(document).to_have_value(broken)
        await expect(page.get_by_role("status")).to_have_text("")
        await shot(page, "14-bad-yaml-refused")

        # A threshold out of range, and a version already in force, are refused readably.
        await publish_rules(page, with_line(current, "threshold", "0"), "synthetic: too low")
        await expect(form.get_by_role("alert")).to_contain_text(
            "rules threshold: Input should be greater than or equal to 1"
        )
        await publish_rules(page, current, "synthetic: the same version again")
        await expect(form.get_by_role("alert")).to_contain_text("already at version")
        await shot(page, "15-unchanged-version-refused")


async def test_the_auditor_reads_the_access_log_and_narrows_it_to_one_case(
    stack: Stack, browser: Browser, case: dict[str, str]
) -> None:
    assert case, "needs the case the first test made"
    async with signed_in(browser, stack.url("web"), "aud-1") as page:
        await nav(page, "Access log").click()
        # legal services' look at the first test's application, with its purpose
        rows = page.get_by_role("row")
        looked = rows.filter(has_text="Jordan Example").filter(has_text="synthetic browser test")
        await shown_after_reloads(page, looked)
        await shot(page, "16-access-log")
        application = await looked.first.get_by_role("link").inner_text()
        link = looked.first.get_by_role("link", name=application)
        await expect(link).to_have_attribute("href", f"/cases/{application}")

        await page.get_by_label("Case", exact=True).fill(application)
        await page.get_by_role("button", name="Show entries").click()
        await expect(page).to_have_url(re.compile(rf"/access-log\?case={application}"))
        await expect(page.get_by_role("main")).to_contain_text(f"Entries about {application}")
        entries = page.locator("tbody tr")
        await expect(entries.filter(has_text="Casey Example")).not_to_have_count(0)
        await expect(entries.filter(has_text="Jordan Example")).not_to_have_count(0)
        # policy changes are kept with every case's entries, marked as such
        policy = entries.filter(has_text="Policy change").filter(has_text="Rory Example")
        await expect(policy.filter(has_text="logging stays on")).not_to_have_count(0)
        for entry in await entries.all():
            assert (await entry.locator("td").nth(2).inner_text()) in (application, "every case")
        await shot(page, "17-access-log-one-case")


async def test_a_caseworker_is_refused_administration_and_the_access_log(
    stack: Stack, browser: Browser
) -> None:
    base = stack.url("web")
    async with signed_in(browser, base, "cw-1") as page:
        await expect(nav(page, "Administration")).to_have_count(0)
        await expect(nav(page, "Access log")).to_have_count(0)
        for path, what in (("/admin", "administer the configuration"),
                           ("/access-log", "read the access log")):  # fmt: skip
            response = await page.goto(path)
            assert response is not None and response.status == 403
            await expect(page.get_by_role("heading", level=1)).to_have_text("You may not do this")
            await expect(page.get_by_role("main")).to_contain_text(f"A caseworker may not {what}")
        await shot(page, "18-caseworker-refused-the-access-log")
        sent: dict[str, str | float | bool] = {"document": "version: '1'", "reason": "not mine"}
        refused = await page.request.post(f"{base}/admin/screening-rules", form=sent)
        assert refused.status == 403
