"""The referral service's personal data: whose each aggregate holds, and which fields."""

from plumbing.personal import PersonalFields
from services.referral.domain import (
    Candidate,
    Referral,
    ScreenedDisposal,
    Subject,
    SubjectRecord,
    SuspectDisposals,
)

PERSONAL = PersonalFields(
    people={
        Referral: "subject.nominal_id",
        Candidate: "suspect_nominal_id",
        SuspectDisposals: "suspect_nominal_id",
        ScreenedDisposal: "suspect_nominal_id",
        SubjectRecord: "subject_nominal_id",
    },
    fields={
        Subject: ("nominal_id", "name", "date_of_birth"),
        Referral.Received: ("grounds", "crime_references", "previous_convictions"),
        Referral.ReturnedForInformation: ("questions",),
        Referral.Resubmitted: ("answers",),
        Referral.Reassigned: ("reason",),
        Referral.Declined: ("detail",),
        Referral.SubjectRectified: ("reason",),
        Candidate.Identified: ("suspect_nominal_id", "offence"),
        Candidate.Dismissed: ("detail",),
        SuspectDisposals.Started: ("suspect_nominal_id",),
        SuspectDisposals.Reidentified: ("suspect_nominal_id",),
        SuspectDisposals: ("suspect_nominal_id",),
        ScreenedDisposal.Screened: ("suspect_nominal_id",),
        SubjectRecord.Started: ("subject_nominal_id",),
        SubjectRecord.Reopened: ("subject_nominal_id",),
        SubjectRecord.Retained: ("reason",),
        SubjectRecord: ("subject_nominal_id",),
    },
)
