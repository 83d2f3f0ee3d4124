"""The application service's personal data: whose each aggregate holds, and which fields."""

from plumbing.personal import PersonalFields
from services.application.casework import (
    EvidenceItem,
    LegalTest,
    PoliceResponse,
    ProposedTerm,
    RenewalCase,
    TermChange,
)
from services.application.domain import (
    Application,
    Notification,
    Order,
    OrderApplication,
    Subject,
    Term,
)

PERSONAL = PersonalFields(
    people={
        Application: "subject.nominal_id",
        Order: "subject_nominal_id",
        OrderApplication: "subject_nominal_id",
    },
    fields={
        Subject: ("nominal_id", "name", "date_of_birth"),
        LegalTest: (
            "necessity",
            "act_of_a_sexual_nature",
            "qualifying_offence",
            "conviction_or_caution",
            "conduct_since",
        ),
        ProposedTerm: ("wording", "necessary_and_proportionate"),
        EvidenceItem: ("description", "source"),
        Term: ("wording",),
        Notification: ("name", "address"),
        TermChange: ("wording", "reason"),
        RenewalCase: ("why_risk_remains",),
        PoliceResponse: ("reasons",),
        Application.Opened: ("grounds",),
        Application.OutcomeRecorded: ("reason",),
        Application.ReturnedByLegalServices: ("comments",),
        Application.Adjourned: ("reason",),
        Application.SubjectRectified: ("reason",),
        Order.Granted: ("subject_nominal_id", "case_number"),
        Order.Reallocated: ("reason",),
        Order: ("subject_nominal_id", "case_number"),
        OrderApplication.Opened: ("subject_nominal_id", "grounds"),
        OrderApplication.OutcomeRecorded: ("reason",),
        OrderApplication.ReturnedByLegalServices: ("comments",),
        OrderApplication.Adjourned: ("reason",),
    },
)
