from datetime import date
from pathlib import Path

import yaml

from plumbing.settings import PACKAGED_CONFIG
from schemas.configuration import ScreeningRules
from services.referral.screening import Disposal, screen

RULES = ScreeningRules.model_validate(
    yaml.safe_load(Path(PACKAGED_CONFIG, "screening-rules.yaml").read_text())
)


def disposal(**changes: object) -> Disposal:
    fields: dict[str, object] = {
        "crime_reference": "CR/1/26",
        "outcome_code": "15",
        "offence_category": "sexual offence",
        "victim_age_band": "adult",
        "intelligence_flags": (),
        "disposed_on": date(2026, 6, 1),
    }
    return Disposal(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_sexual_offence_against_a_child_closed_for_evidential_difficulties_is_flagged() -> None:
    screening = screen(disposal(victim_age_band="13 to 15"), [], RULES)

    assert screening is not None
    assert screening.score == 6 >= RULES.threshold
    assert screening.fired == ("offence category: sexual offence", "child victim: 13 to 15")
    assert screening.rules_version == "2026-12-03"


def test_an_outcome_the_rules_do_not_screen_is_passed_over() -> None:
    assert screen(disposal(outcome_code="1"), [], RULES) is None


def test_a_disposal_that_named_no_suspect_is_screened_only_where_intelligence_links_one() -> None:
    linked = ("intelligence links a suspect",)
    for code in ("14", "18"):  # domain.md: usually not actionable unless intelligence links one
        assert screen(disposal(outcome_code=code, victim_age_band="under 13"), [], RULES) is None
        screening = screen(disposal(outcome_code=code, intelligence_flags=linked), [], RULES)
        assert screening is not None and screening.score == 5


def test_earlier_disposals_count_only_within_the_window_and_before_this_one() -> None:
    earlier = [date(2025, 1, 1), date(2020, 1, 1), date(2026, 9, 1)]

    screening = screen(disposal(offence_category="voyeurism"), earlier, RULES)

    assert screening is not None
    assert screening.fired == (
        "offence category: voyeurism",
        "repeat suspect: 1 earlier within 730 days",
    )
    assert screening.score == 5


def test_an_offence_outside_the_categories_scores_only_what_else_fired() -> None:
    screening = screen(
        disposal(offence_category="criminal damage", intelligence_flags=("sexual risk",)), [], RULES
    )

    assert screening is not None
    assert (screening.score, screening.fired) == (2, ("intelligence: sexual risk",))


def test_the_same_rules_are_always_written_as_the_same_bytes_whatever_the_order_given() -> None:
    document = RULES.model_dump(mode="json")
    shuffled = {**document, "outcome_codes": list(reversed(document["outcome_codes"]))}

    assert ScreeningRules.model_validate(shuffled).model_dump_json() == RULES.model_dump_json()
    assert document["outcome_codes"] == sorted(document["outcome_codes"])
