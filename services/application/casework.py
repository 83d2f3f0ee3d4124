"""What a caseworker builds: the legal test, the proposed terms, the evidence bundle; and
the quality-assurance checklist an application must pass before legal services see it."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from services.application.domain_dates import years_after


class EvidenceKind(StrEnum):
    STATEMENT = "statement"
    INTELLIGENCE = "intelligence"
    PREVIOUS_CONVICTIONS = "previous convictions"
    DIGITAL_EVIDENCE = "digital evidence"


class Element(StrEnum):
    """The elements of the legal test, each to be evidenced."""

    ACT_OF_A_SEXUAL_NATURE = "act of a sexual nature"
    QUALIFYING_OFFENCE = "qualifying offence"
    CONDUCT_SINCE = "conduct since"
    NECESSITY = "necessity"


@dataclass(frozen=True)
class LegalTest:
    """SRO: the act of a sexual nature. SHPO: the qualifying offence, the conviction or
    caution, and the conduct since. Both: why an order is necessary."""

    necessity: str
    act_of_a_sexual_nature: str | None = None
    qualifying_offence: str | None = None
    conviction_or_caution: str | None = None
    conduct_since: str | None = None


@dataclass(frozen=True)
class ProposedTerm:
    kind: str
    wording: str
    necessary_and_proportionate: str
    until: date | None


@dataclass(frozen=True)
class EvidenceItem:
    kind: EvidenceKind
    description: str
    source: str
    dated: date
    supports: tuple[Element, ...]


# Words that leave a prohibition too vague for an officer to enforce.
VAGUE = ("inappropriate", "reasonable", "suitable", "appropriate", "etc", "and so on")
MINIMUM_YEARS = {"SRO": 2, "SHPO": 5}


def elements_required(order_type: str) -> tuple[Element, ...]:
    if "SHPO" in order_type:
        return (Element.QUALIFYING_OFFENCE, Element.CONDUCT_SINCE, Element.NECESSITY)
    return (Element.ACT_OF_A_SEXUAL_NATURE, Element.NECESSITY)


def quality_checks(
    order_type: str,
    legal_test: LegalTest | None,
    terms: list[ProposedTerm],
    evidence: list[EvidenceItem],
    ends_on: date | None,
    until_further_order: bool,
    today: date,
) -> list[str]:
    """What is missing or wrong; an empty list means the application may go to legal services."""
    return [
        *legal_test_is_complete(order_type, legal_test),
        *every_element_is_evidenced(order_type, evidence),
        *every_term_is_justified_and_enforceable(terms),
        *duration_meets_the_statutory_minimum(
            order_type, ends_on, until_further_order, terms, today
        ),
    ]


def legal_test_is_complete(order_type: str, test: LegalTest | None) -> list[str]:
    if test is None:
        return ["the legal test has not been set out"]
    given = {
        Element.ACT_OF_A_SEXUAL_NATURE: test.act_of_a_sexual_nature,
        Element.QUALIFYING_OFFENCE: test.qualifying_offence and test.conviction_or_caution,
        Element.CONDUCT_SINCE: test.conduct_since,
        Element.NECESSITY: test.necessity,
    }
    return [
        f"the legal test does not state the {e}"
        for e in elements_required(order_type)
        if not given[e]
    ]


def every_element_is_evidenced(order_type: str, evidence: list[EvidenceItem]) -> list[str]:
    supported = {element for item in evidence for element in item.supports}
    return [
        f"no evidence supports the {element}"
        for element in elements_required(order_type)
        if element not in supported
    ]


def every_term_is_justified_and_enforceable(terms: list[ProposedTerm]) -> list[str]:
    if not terms:
        return ["the draft order has no prohibitions or requirements"]
    problems = []
    for number, term in enumerate(terms, start=1):
        if not term.necessary_and_proportionate.strip():
            problems.append(f"term {number} does not say why it is necessary and proportionate")
        vague = [
            w for w in VAGUE if w in term.wording.lower().split() or f" {w}" in term.wording.lower()
        ]
        if vague:
            problems.append(f"term {number} is too vague to enforce: {', '.join(vague)}")
    return problems


def duration_meets_the_statutory_minimum(
    order_type: str,
    ends_on: date | None,
    until_further_order: bool,
    terms: list[ProposedTerm],
    today: date,
) -> list[str]:
    if order_type.startswith("interim"):
        return []
    if ends_on is None and not until_further_order:
        return ["the draft order states no duration"]
    minimum = years_after(today, MINIMUM_YEARS[order_type])
    problems = []
    if ends_on is not None and ends_on < minimum:
        problems.append(
            f"an {order_type} must last at least {MINIMUM_YEARS[order_type]} years "
            f"(to {minimum.isoformat()} or later)"
        )
    for number, term in enumerate(terms, start=1):
        if term.until is not None and term.until < minimum:
            problems.append(
                f"term {number} ends before the {order_type} minimum of {minimum.isoformat()}"
            )
    return problems
