"""The breach service's personal data: whose each aggregate holds, and which fields."""

from plumbing.personal import PersonalFields
from services.breach.domain import Breach, KnownOrder, PossibleBreach, SubjectBreaches, Term

PERSONAL = PersonalFields(
    people={
        KnownOrder: "subject_nominal_id",
        SubjectBreaches: "subject_nominal_id",
        Breach: "subject_nominal_id",
        PossibleBreach: "subject_nominal_id",
    },
    fields={
        Term: ("wording",),
        KnownOrder.Registered: ("subject_nominal_id",),
        KnownOrder: ("subject_nominal_id",),
        SubjectBreaches.Started: ("subject_nominal_id",),
        SubjectBreaches.Reidentified: ("subject_nominal_id",),
        SubjectBreaches: ("subject_nominal_id",),
        Breach.Recorded: ("subject_nominal_id", "location", "condition_breached", "how_detected"),
        Breach.OutcomeRecorded: ("sentence",),
        PossibleBreach.Raised: ("subject_nominal_id",),
        PossibleBreach: ("subject_nominal_id", "dismissal_reason"),
        PossibleBreach.Dismissed: ("reason",),
    },
)
