"""A case study: one case's story from its published history (the audit trail's events), for
an evaluation that is read far beyond the people who worked the case.

The person is "the subject"; references, ids, officers and crime numbers are left out; every
date is counted in days from the referral; people appear by role, not by name. Free text
(grounds, reasons, the terms of the order, what a breach was) is kept, opened, and marked for
a person to review before anything is published: it may name people or places.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from jinja2 import Environment, PackageLoader

IDENTIFYING = {
    "subject", "subject_nominal_id", "suspect_nominal_id", "nominal_id", "crime_references",
    "crime_reference", "district_reference", "report_reference", "referral_id",
    "application_id", "order_id", "order_reference", "referring_officer", "reporting_officer",
    "accepted_by", "from_team", "trigger_event_id", "kind",
}  # fmt: skip
FREE_TEXT = {"grounds", "reason", "condition_breached", "sentence", "wording", "location",
             "how_detected", "detail", "court", "comments"}  # fmt: skip
HEADLINES = {
    "ReferralReceived": "Referred by the {district} district ({source})",
    "ReferralStatusChanged": "Referral {status}",
    "ReferralAccepted": "A caseworker accepted the referral",
    "ApplicationOpened": "{order_type} application opened",
    "ApplicationStageChanged": "Application: {stage}",
    "OrderGranted": "The court granted the order",
    "OrderAllocated": "Management allocated to the district's MOSOVO team",
    "OrderReallocated": "Management moved to another MOSOVO team",
    "OrderVaried": "The court varied the order",
    "OrderRenewed": "The court renewed the order",
    "OrderRenewalReviewDue": "Renewal review due",
    "OrderExpired": "The order ended",
    "BreachRecorded": "Breach recorded (the subject's breach number {breach_number})",
    "BreachOutcomeRecorded": "Breach outcome: {outcome}",
    "AlertRequested": "The MOSOVO team was alerted: {kind}",
}


@dataclass(frozen=True)
class Detail:
    name: str
    value: str
    for_review: bool  # free text: a person checks it before publication


@dataclass(frozen=True)
class Moment:
    day: int  # days from the referral
    headline: str
    by: str  # the role that acted
    details: list[Detail] = field(default_factory=list)


@dataclass(frozen=True)
class CaseStudy:
    title: str
    moments: list[Moment]

    @property
    def to_review(self) -> int:
        return sum(1 for m in self.moments for d in m.details if d.for_review)


def story(events: list[dict[str, Any]], title: str = "Case study") -> CaseStudy:
    """The case's events (as the audit trail serves them, opened) as a pseudonymised story."""
    referred = _referred_on(events)
    moments = [_moment(e, referred) for e in events if e["event_type"] in HEADLINES]
    return CaseStudy(title, sorted(moments, key=lambda m: m.day))


def _referred_on(events: list[dict[str, Any]]) -> date:
    for e in events:
        if e["event_type"] == "ReferralReceived":
            return date.fromisoformat(e["payload"]["referred_on"])
    return min(_moment_of(e["occurred_at"]).date() for e in events)


def _moment(event: dict[str, Any], referred: date) -> Moment:
    payload = event["payload"]
    when = payload.get("made_on") or payload.get("occurred_at") or payload.get("decided_on")
    day = _moment_of(when or event["occurred_at"]).date()
    headline = HEADLINES[event["event_type"]].format_map(_Blank(payload))
    return Moment((day - referred).days, headline, _role(event["actor"]),
                  list(_details(payload, referred)))  # fmt: skip


def _details(payload: dict[str, Any], referred: date, prefix: str = "") -> Any:
    for name, value in payload.items():
        label = f"{prefix}{name.replace('_', ' ')}"
        if name in IDENTIFYING or value is None or name == "referred_on":
            continue
        if isinstance(value, dict):
            yield from _details(value, referred, f"{label}: ")
        elif isinstance(value, list):
            for number, item in enumerate(value, start=1):
                item = item if isinstance(item, dict) else {name: item}
                yield from _details(item, referred, f"{label} {number}: ")
        else:
            yield Detail(label, _shown(value, referred), name in FREE_TEXT)


def _shown(value: Any, referred: date) -> str:
    if isinstance(value, str):
        try:
            return f"day {(_moment_of(value).date() - referred).days}"
        except ValueError:
            return value
    return str(value)


def _moment_of(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    if not isinstance(value, str) or len(value) < 10 or value[4] != "-":
        raise ValueError(value)
    return datetime.fromisoformat(value)


def _role(actor: str) -> str:
    role = actor.split(":")[0].replace("-", " ")
    return {"service": "the system", "district system": "the district's system"}.get(role, role)


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "—"


def render_html(study: CaseStudy) -> str:
    environment = Environment(
        loader=PackageLoader("services.readmodels", "templates"), autoescape=True
    )
    return environment.get_template("case_study.html").render(s=study)
