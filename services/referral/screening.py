"""Screening non-positive disposals for suspects who may still pose a risk of sexual harm.

The rules are data (a reviewed, versioned file); this module only applies them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from schemas.configuration import ScreeningRules


@dataclass(frozen=True)
class Disposal:
    crime_reference: str
    outcome_code: str
    offence_category: str
    victim_age_band: str
    intelligence_flags: tuple[str, ...]
    disposed_on: date


@dataclass(frozen=True)
class Screening:
    score: int
    fired: tuple[str, ...]
    rules_version: str


def screens(outcome_code: str, intelligence_flags: Sequence[str], rules: ScreeningRules) -> bool:
    """Whether the rules screen a disposal with this outcome at all: one that named no suspect
    (14, 18) only where intelligence links one."""
    if outcome_code in rules.linked_by_intelligence:
        return bool(intelligence_flags)
    return outcome_code in rules.outcome_codes


def screen(disposal: Disposal, earlier: list[date], rules: ScreeningRules) -> Screening | None:
    """Score a disposal of an identified suspect; None when its outcome is not screened.
    `earlier` holds the dates of the suspect's earlier non-positive disposals."""
    if not screens(disposal.outcome_code, disposal.intelligence_flags, rules):
        return None
    fired: list[tuple[str, int]] = []
    category_weight = rules.offence_categories.get(disposal.offence_category, 0)
    if category_weight:
        fired.append((f"offence category: {disposal.offence_category}", category_weight))
    if disposal.victim_age_band in rules.child_victim.age_bands:
        fired.append((f"child victim: {disposal.victim_age_band}", rules.child_victim.weight))
    window = timedelta(days=rules.repeat_suspect.window_days)
    recent = [d for d in earlier if timedelta(0) <= disposal.disposed_on - d <= window]
    if recent:
        label = f"repeat suspect: {len(recent)} earlier within {window.days} days"
        fired.append((label, rules.repeat_suspect.weight))
    if disposal.intelligence_flags:
        label = f"intelligence: {', '.join(disposal.intelligence_flags)}"
        fired.append((label, rules.intelligence_flag.weight))
    return Screening(sum(w for _, w in fired), tuple(f for f, _ in fired), rules.version)
