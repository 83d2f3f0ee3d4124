"""Applications about an order (to vary, renew or discharge it) go through casework and QA
with their own checklist; only the court's grant changes the order."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from schemas.application import Applicant, OrderApplicationKind
from schemas.trace import Trace
from services.application.casework import PoliceResponse, RenewalCase, TermAction, TermChange
from services.application.domain import (
    ApplicationNotAtStage,
    DischargeNeedsPoliceConsent,
    NewTermNumbered,
    NoSuchChange,
    NoSuchTerm,
    NotForThisApplication,
    Order,
    OrderApplication,
    OrderNotInForce,
    Outcome,
    ReceivedDateRequired,
    Stage,
    Term,
    TermAlreadyChanged,
    TermChangeIncomplete,
)

CASEWORKER = Trace("caseworker:cw-1", uuid4())
OPENED = datetime(2026, 7, 1, 9, tzinfo=UTC)
NO_CONTACT = Term("prohibition", "Not to have unsupervised contact with any child under 16.", None)
NO_PARKS = Term("prohibition", "Not to enter Northtown Park.", None)
DEVICES = "To disclose every internet-capable device within 3 days of getting it."


def order(ends_on: date | None = date(2028, 6, 1)) -> Order:
    made = Order(
        application_id=uuid4(),
        case_number=None,
        interim=False,
        order_type="SRO",
        subject_nominal_id="SYN9",
        district="north",
        court="Northtown MC",
        made_on=date(2026, 6, 1),
        ends_on=ends_on,
        terms=[NO_CONTACT, NO_PARKS],
        trace=CASEWORKER,
    )
    made.allocate("mosovo-north", CASEWORKER)
    made.collect_events()
    return made


def opened(
    about: Order,
    kind: OrderApplicationKind,
    applicant: Applicant = Applicant.POLICE,
    received_on: date | None = None,
) -> OrderApplication:
    return about.application_to_court(
        kind, applicant, "the team's reasons", received_on, OPENED, CASEWORKER
    )


def change(
    action: TermAction, number: int | None, reason: str, wording: str | None = None
) -> TermChange:
    kind = None if action is TermAction.REMOVE else "requirement"
    return TermChange(action, number, kind, wording, None, reason)


def to_court(application: OrderApplication) -> list[str]:
    """Through QA (returning what it found missing) and, if it passed, to a hearing."""
    application.submit_for_quality_assurance(CASEWORKER)
    missing = application.complete_quality_assurance(date(2026, 7, 2), 6, CASEWORKER)
    if not missing:
        application.make_application("Northtown MC", date(2026, 7, 3), 6, CASEWORKER)
        application.list_hearing(date(2026, 7, 20), CASEWORKER)
    return missing


def test_a_variation_fails_qa_when_a_changed_term_has_no_reason_and_passes_with_one() -> None:
    about = order()
    variation = opened(about, OrderApplicationKind.VARIATION)
    variation.propose_term_change(change(TermAction.ADD, None, "", DEVICES), None, CASEWORKER)

    assert to_court(variation) == [
        "change 1 does not say why it is now necessary and proportionate"
    ]
    assert variation.stage is Stage.DRAFTING

    with pytest.raises(NoSuchChange):
        variation.propose_term_change(change(TermAction.ADD, None, "why", DEVICES), 2, CASEWORKER)
    variation.propose_term_change(
        change(TermAction.ADD, None, "he has hidden devices from officers", DEVICES),
        1,  # amends the change without a reason
        CASEWORKER,
    )
    assert to_court(variation) == []
    assert variation.stage is Stage.HEARING_LISTED
    assert len(variation.changes) == 1


def test_the_order_changes_only_when_the_court_grants_the_variation() -> None:
    about = order()
    variation = opened(about, OrderApplicationKind.VARIATION)
    variation.propose_term_change(
        change(
            TermAction.REWORD, 2, "the park is now a school site", "Not to enter Northtown School."
        ),
        None,
        CASEWORKER,
    )
    variation.propose_term_change(
        change(TermAction.ADD, None, "he has hidden devices from officers", DEVICES),
        None,
        CASEWORKER,
    )
    to_court(variation)
    assert about.terms == [NO_CONTACT, NO_PARKS]
    assert about.collect_events() == []

    variation.grant(about, date(2026, 7, 20), CASEWORKER)

    [varied] = about.collect_events()
    assert isinstance(varied, Order.Varied)
    assert about.terms == [
        NO_CONTACT,
        Term("requirement", "Not to enter Northtown School.", None),
        Term("requirement", DEVICES, None),
    ]
    assert variation.outcome is Outcome.GRANTED


def test_a_refused_variation_leaves_the_order_as_it_was() -> None:
    about = order()
    variation = opened(about, OrderApplicationKind.VARIATION)
    variation.propose_term_change(
        change(TermAction.REMOVE, 2, "he has moved away"), None, CASEWORKER
    )
    to_court(variation)

    variation.refuse(date(2026, 7, 20), "the risk near the park remains", CASEWORKER)

    assert about.terms == [NO_CONTACT, NO_PARKS]
    assert about.collect_events() == []


def test_a_variation_names_terms_the_order_has_once_each_and_leaves_it_a_term() -> None:
    variation = opened(order(), OrderApplicationKind.VARIATION)

    with pytest.raises(NoSuchTerm, match="numbered 1 to 2"):
        variation.propose_term_change(change(TermAction.REMOVE, 3, "why"), None, CASEWORKER)
    with pytest.raises(NewTermNumbered, match="has no number"):
        variation.propose_term_change(change(TermAction.ADD, 1, "why", DEVICES), None, CASEWORKER)
    with pytest.raises(TermChangeIncomplete):
        variation.propose_term_change(change(TermAction.ADD, None, "why"), None, CASEWORKER)
    variation.propose_term_change(
        change(TermAction.REMOVE, 1, "no longer needed"), None, CASEWORKER
    )
    with pytest.raises(TermAlreadyChanged):
        variation.propose_term_change(change(TermAction.REMOVE, 1, "again"), None, CASEWORKER)
    variation.propose_term_change(
        change(TermAction.REMOVE, 2, "no longer needed"), None, CASEWORKER
    )

    assert to_court(variation) == [
        "the variation removes every term: apply to discharge the order instead"
    ]


def test_a_variation_with_no_change_or_a_vague_one_fails_qa() -> None:
    about = order()
    assert to_court(opened(about, OrderApplicationKind.VARIATION)) == [
        "the application names no term to change"
    ]
    vague = opened(about, OrderApplicationKind.VARIATION)
    vague.propose_term_change(
        change(TermAction.ADD, None, "risk", "Not to behave inappropriately online."),
        None,
        CASEWORKER,
    )
    assert to_court(vague) == ["change 1 is too vague to enforce: inappropriate"]


def test_a_renewal_shows_why_the_risk_remains_and_runs_past_the_end() -> None:
    about = order(ends_on=date(2028, 6, 1))
    renewal = opened(about, OrderApplicationKind.RENEWAL)
    assert to_court(renewal) == ["the application does not show why the risk remains"]

    renewal.set_out_renewal_case(
        RenewalCase("two breaches this year", date(2028, 1, 1), False), CASEWORKER
    )
    assert to_court(renewal) == ["the new end date is not after the order's end (2028-06-01)"]

    renewal.set_out_renewal_case(
        RenewalCase("two breaches this year", date(2030, 6, 1), False), CASEWORKER
    )
    assert to_court(renewal) == []
    renewal.grant(about, date(2026, 7, 20), CASEWORKER)

    [renewed] = about.collect_events()
    assert isinstance(renewed, Order.Renewed)
    assert about.ends_on == date(2030, 6, 1)


def test_a_defendants_discharge_needs_the_police_response_and_consent_within_the_minimum() -> None:
    about = order()
    with pytest.raises(ReceivedDateRequired):
        opened(about, OrderApplicationKind.DISCHARGE, Applicant.DEFENDANT)
    discharge = opened(about, OrderApplicationKind.DISCHARGE, Applicant.DEFENDANT, date(2026, 7, 1))

    assert to_court(discharge) == ["the police response records neither consent nor opposition"]
    discharge.record_police_response(PoliceResponse(False, "he still seeks contact"), CASEWORKER)
    assert to_court(discharge) == []

    with pytest.raises(DischargeNeedsPoliceConsent):
        discharge.grant(about, date(2026, 7, 20), CASEWORKER)
    assert about.collect_events() == []


def test_a_police_discharge_ends_the_order_when_granted() -> None:
    about = order()
    discharge = opened(about, OrderApplicationKind.DISCHARGE)
    assert to_court(discharge) == []

    discharge.grant(about, date(2026, 7, 20), CASEWORKER)

    [ended] = about.collect_events()
    assert isinstance(ended, Order.Expired)
    assert about.expired and "police's application" in ended.reason


def test_each_kind_of_application_takes_only_its_own_drafting_steps() -> None:
    about = order()
    with pytest.raises(NotForThisApplication, match="a renewal application has no term"):
        opened(about, OrderApplicationKind.RENEWAL).propose_term_change(
            change(TermAction.REMOVE, 1, "why"), None, CASEWORKER
        )
    with pytest.raises(NotForThisApplication, match="police response"):
        opened(about, OrderApplicationKind.DISCHARGE).record_police_response(
            PoliceResponse(True, "agreed"), CASEWORKER
        )
    made = opened(about, OrderApplicationKind.DISCHARGE)
    to_court(made)
    with pytest.raises(ApplicationNotAtStage):
        made.submit_for_quality_assurance(CASEWORKER)


def test_no_application_is_opened_about_an_order_that_has_ended() -> None:
    about = order(ends_on=date(2026, 6, 30))
    about.expire(date(2026, 6, 30), CASEWORKER)

    with pytest.raises(OrderNotInForce):
        opened(about, OrderApplicationKind.RENEWAL)


def test_a_renewal_review_opens_the_polices_renewal_application() -> None:
    about = order(ends_on=date(2026, 9, 1))

    renewal = about.flag_renewal_review(OPENED, 3, CASEWORKER)

    assert renewal is not None
    assert (renewal.kind, renewal.applicant) == (OrderApplicationKind.RENEWAL, Applicant.POLICE)
    assert renewal.order_id == about.id and renewal.stage is Stage.DRAFTING
    assert "ends on 2026-09-01" in renewal.grounds
