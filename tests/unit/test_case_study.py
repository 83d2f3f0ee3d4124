"""A case study from a case's published history: pseudonymised, dated from the referral, and
its free text marked for review."""

from pathlib import Path

from services.readmodels.case_study import render_html, story
from services.readmodels.documents import write_pdf

NOMINAL, NAME = "SYNFICT00042", "Arlo Dunmere"  # fictional


def event(event_type: str, at: str, actor: str, **payload: object) -> dict[str, object]:
    return {"event_type": event_type, "occurred_at": at, "actor": actor, "payload": payload}


HISTORY = [
    event("ReferralReceived", "2021-03-01T09:00:00+00:00", "district-system:north",
          district="north", district_reference="NTH-1", source="district:north",
          order_sought="SRO", referred_on="2021-03-01"),
    event("ReferralAccepted", "2021-03-11T10:00:00+00:00", "caseworker:cw-1",
          referral_id="r-1", district="north", order_sought="SRO", accepted_by="caseworker:cw-1",
          subject={"nominal_id": NOMINAL, "name": NAME, "date_of_birth": "1980-02-02"},
          grounds="Approached children near Synthetic Park.", crime_references=["CR/1/21"]),
    event("OrderGranted", "2021-07-01T15:00:00+00:00", "legal:legal-1",
          order_reference="ORD-2021-0001", application_id="a-1", order_type="SRO",
          interim=False, subject_nominal_id=NOMINAL, district="north",
          court="Northtown Magistrates' Court", made_on="2021-06-30", starts_on="2021-06-30",
          ends_on="2023-06-30",
          terms=[{"kind": "prohibition", "wording": "Not to enter Synthetic Park.",
                  "until": None}]),
    event("BreachRecorded", "2021-09-02T08:00:00+00:00", "service:breach",
          order_id="o-1", order_reference="ORD-2021-0001", team="mosovo-north",
          district="north", report_reference="NTH-BR-1", occurred_at="2021-09-01T20:00:00+00:00",
          condition_breached="Entered Synthetic Park.", breach_number=1, repeat=False),
]  # fmt: skip


def test_the_story_counts_days_from_the_referral_and_names_roles_not_people() -> None:
    study = story(HISTORY)

    assert [(m.day, m.headline, m.by) for m in study.moments] == [
        (0, "Referred by the north district (district:north)", "the district's system"),
        (10, "A caseworker accepted the referral", "caseworker"),
        (121, "The court granted the order", "legal"),  # made on 30 June
        (184, "Breach recorded (the subject's breach number 1)", "the system"),
    ]
    granted = {d.name: d.value for d in study.moments[2].details}
    assert granted["ends on"] == "day 851" and granted["order type"] == "SRO"


def test_nothing_identifies_the_person_and_free_text_is_marked_for_review() -> None:
    study = story(HISTORY)
    html = render_html(study)

    for identifying in (NOMINAL, NAME, "1980-02-02", "ORD-2021-0001", "NTH-1", "CR/1/21", "2021"):
        assert identifying not in html
    marked = [d.value for m in study.moments for d in m.details if d.for_review]
    assert marked == ["Approached children near Synthetic Park.",
                      "Northtown Magistrates' Court", "Not to enter Synthetic Park.",
                      "Entered Synthetic Park."]  # fmt: skip
    assert study.to_review == 4 and html.count('</mark> <span class="tag">review</span>') == 4


def test_the_case_study_prints_to_pdf(tmp_path: Path) -> None:
    path = write_pdf(render_html(story(HISTORY)), tmp_path / "case.pdf")

    assert path.read_bytes().startswith(b"%PDF")
