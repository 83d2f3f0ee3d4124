"""What a caseworker builds: the legal test, the proposed terms, the evidence bundle; the
changes an application about an order asks for; and the quality-assurance checklists an
application must pass before legal services see it."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from schemas.common import FOREIGN_TRAVEL
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
FOREIGN_TRAVEL_YEARS = 5  # at most, at a time (renewable)


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
        Element.ACT_OF_A_SEXUAL_NATURE: stated(test.act_of_a_sexual_nature),
        Element.QUALIFYING_OFFENCE: stated(test.qualifying_offence, test.conviction_or_caution),
        Element.CONDUCT_SINCE: stated(test.conduct_since),
        Element.NECESSITY: stated(test.necessity),
    }
    return [
        f"the legal test does not state the {e}"
        for e in elements_required(order_type)
        if not given[e]
    ]


def stated(*texts: str | None) -> bool:
    """Each text says something: blank or only spaces states nothing."""
    return all(text and text.strip() for text in texts)


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
        if not stated(term.wording):
            problems.append(f"term {number} has no wording")
        if not stated(term.necessary_and_proportionate):
            problems.append(f"term {number} does not say why it is necessary and proportionate")
        if vague := vague_words(term.wording):
            problems.append(f"term {number} is too vague to enforce: {', '.join(vague)}")
    return problems


def vague_words(wording: str) -> list[str]:
    lowered = wording.lower()
    return [w for w in VAGUE if w in lowered.split() or f" {w}" in lowered]


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
        if term.kind == FOREIGN_TRAVEL:
            if latest := travel_too_long(term.until, today):
                problems.append(f"term {number} {travel_for_at_most(latest)}")
        elif term.until is not None and term.until < minimum:
            problems.append(
                f"term {number} ends before the {order_type} minimum of {minimum.isoformat()}"
            )
    return problems


def travel_too_long(until: date | None, made_on: date) -> date | None:
    """The latest a foreign travel prohibition made (or varied) on `made_on` may run to, when
    one to `until` (None: until further order) runs past it; None when it does not."""
    latest = years_after(made_on, FOREIGN_TRAVEL_YEARS)
    return latest if until is None or until > latest else None


def travel_for_at_most(latest: date) -> str:
    return (
        f"is a foreign travel prohibition: for a fixed period of at most {FOREIGN_TRAVEL_YEARS} "
        f"years at a time, to {latest.isoformat()} at the latest"
    )


# Applications about an order: to vary, renew or discharge it.


class TermAction(StrEnum):
    ADD = "add"
    REWORD = "reword"
    REMOVE = "remove"


@dataclass(frozen=True)
class TermChange:
    """One change a variation asks for: a term added, or one of the order's terms (by its
    number, from 1) reworded or removed; and why the order needs the change now."""

    action: TermAction
    term_number: int | None
    kind: str | None
    wording: str | None
    until: date | None
    reason: str


@dataclass(frozen=True)
class RenewalCase:
    """Why the risk remains, and how long the renewed order should run."""

    why_risk_remains: str
    ends_on: date | None
    until_further_order: bool


@dataclass(frozen=True)
class PoliceResponse:
    """The police's answer to a defendant's application: consent or opposition, and why."""

    consents: bool
    reasons: str


def variation_checks(changes: list[TermChange], terms_in_order: int, today: date) -> list[str]:
    """A variation names each term it changes and why the change is now necessary and
    proportionate, in wording an officer can enforce (a foreign travel prohibition, for at
    most 5 years); and leaves the order some term."""
    if not changes:
        return ["the application names no term to change"]
    problems = []
    for number, change in enumerate(changes, start=1):
        if change.kind == FOREIGN_TRAVEL and (latest := travel_too_long(change.until, today)):
            problems.append(f"change {number} {travel_for_at_most(latest)}")
        if not change.reason.strip():
            why = (
                "why the term is no longer necessary"
                if change.action == TermAction.REMOVE
                else "why it is now necessary and proportionate"
            )
            problems.append(f"change {number} does not say {why}")
        if change.wording and (vague := vague_words(change.wording)):
            problems.append(f"change {number} is too vague to enforce: {', '.join(vague)}")
    added = sum(c.action == TermAction.ADD for c in changes)
    removed = sum(c.action == TermAction.REMOVE for c in changes)
    if terms_in_order - removed + added < 1:
        problems.append("the variation removes every term: apply to discharge the order instead")
    return problems


def renewal_checks(case: RenewalCase | None, order_ends_on: date | None) -> list[str]:
    """A renewal shows why the risk remains and runs the order on past its end."""
    if case is None or not case.why_risk_remains.strip():
        return ["the application does not show why the risk remains"]
    if case.ends_on is None and not case.until_further_order:
        return ["the renewal states no new end date"]
    if case.ends_on is not None and order_ends_on is not None and case.ends_on <= order_ends_on:
        return [f"the new end date is not after the order's end ({order_ends_on.isoformat()})"]
    return []


def response_checks(response: PoliceResponse | None) -> list[str]:
    """The police's response to a defendant's application records consent or opposition."""
    if response is None:
        return ["the police response records neither consent nor opposition"]
    if not response.reasons.strip():
        return ["the police response does not give its reasons"]
    return []
