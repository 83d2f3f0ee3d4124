"""Raw messages as district systems send them, for contract and consumer tests."""

from uuid import uuid4

from schemas import dates


def valid_referral() -> dict[str, object]:
    return {
        "event_id": str(uuid4()),
        "occurred_at": dates.now().isoformat(),
        "producer": "district:north",
        "aggregate_id": str(uuid4()),
        "aggregate_version": 1,
        "correlation_id": str(uuid4()),
        "actor": "district-system:north",
        "event_type": "DistrictReferral",
        "schema_version": 1,
        "payload": {
            "district": "north",
            "district_reference": "NTH-1",
            "referring_officer": "PC 1 (synthetic)",
            "subject": {
                "nominal_id": "SYN1",
                "name": "Arlo Dunmere",
                "date_of_birth": "1981-05-04",
            },
            "order_sought": "SRO",
            "grounds": "synthetic grounds",
        },
    }
