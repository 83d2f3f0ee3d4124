"""Synthetic, fictional people and cases for demos, tests and benchmarks. Never real ones."""

import random
from datetime import date, datetime, timedelta
from typing import TypeVar
from uuid import NAMESPACE_URL, uuid4, uuid5

from schemas import dates
from schemas.common import OrderSought, ReferredSubject
from schemas.district import (
    DistrictBreachReport,
    DistrictBreachReportV1,
    DistrictDisposal,
    DistrictReferral,
    DistrictReferralV1,
    VictimAgeBand,
)
from schemas.envelope import Envelope, Payload

# Invented name parts; combinations are fictional by construction.
GIVEN = ["Arlo", "Bryn", "Cass", "Dell", "Emrys", "Fenn", "Gale", "Hollis", "Ives", "Jory"]
FAMILY = ["Ashdown", "Brackwater", "Coldharbour", "Dunmere", "Eskdale", "Fallowfield", "Grisedale"]
DISTRICTS = ["north", "south", "east", "west"]


class Synthetic:
    def __init__(self, seed: int = 7) -> None:
        self.random = random.Random(seed)
        self.run = uuid4().hex[:6].upper()
        self.counter = 0

    def subject(self) -> ReferredSubject:
        self.counter += 1
        born = date(1960, 1, 1) + timedelta(days=self.random.randrange(0, 40 * 365))
        return ReferredSubject(
            nominal_id=f"SYN{self.run}{self.counter:05d}",
            name=f"{self.random.choice(GIVEN)} {self.random.choice(FAMILY)}",
            date_of_birth=born,
        )

    def referral(
        self,
        district: str | None = None,
        order_sought: OrderSought = OrderSought.SRO,
        referred_at: datetime | None = None,
    ) -> DistrictReferralV1:
        """A district's referral, made now or (for a history) at `referred_at`."""
        district = district or self.random.choice(DISTRICTS)
        self.counter += 1
        payload = DistrictReferral(
            district=district,
            district_reference=f"{district[:3].upper()}-{self.run}-{self.counter:05d}",
            referring_officer=f"PC {self.random.randint(1000, 9999)} (synthetic)",
            subject=self.subject(),
            order_sought=order_sought,
            grounds="Synthetic grounds: repeated approaches to children near a school.",
            crime_references=[f"CR/{self.random.randint(100, 999)}/26"],
        )
        return _envelope(DistrictReferralV1, payload, district, referred_at)

    def disposals(self, count: int, suspects: int) -> list[DistrictDisposal]:
        """A backlog of non-positive disposals over two years, shared among `suspects`."""
        categories = ["sexual offence", "voyeurism", "exposure", "criminal damage", "theft"]
        bands = list(VictimAgeBand)
        backlog = []
        for number in range(count):
            category = self.random.choice(categories)
            backlog.append(
                DistrictDisposal(
                    district=self.random.choice(DISTRICTS),
                    crime_reference=f"CR/{self.run}/{number:06d}",
                    outcome_code=self.random.choice(["1", "10", "14", "15", "16", "17", "18"]),
                    offence=f"synthetic {category}",
                    offence_category=category,
                    sexual_offence=category in categories[:3],
                    suspect_nominal_id=f"SYN{self.run}S{self.random.randrange(suspects):05d}",
                    victim_age_band=self.random.choice(bands),
                    disposed_on=date(2024, 1, 1) + timedelta(days=self.random.randrange(730)),
                )
            )
        return sorted(backlog, key=lambda d: d.disposed_on)

    def breach(
        self, district: str, order_reference: str, occurred_at: datetime | None = None
    ) -> DistrictBreachReportV1:
        self.counter += 1
        payload = DistrictBreachReport(
            district=district,
            report_reference=f"{district[:3].upper()}-BR-{self.run}-{self.counter:05d}",
            order_reference=order_reference,
            occurred_at=occurred_at or dates.now() - timedelta(hours=2),
            location="Synthetic Park, Northtown",
            condition_breached="Not to have unsupervised contact with any child under 16.",
            how_detected="home visit",
            reporting_officer=f"DC {self.random.randint(1000, 9999)} (synthetic)",
        )
        return _envelope(DistrictBreachReportV1, payload, district)


E = TypeVar("E", bound=Envelope)


def _envelope(cls: type[E], payload: Payload, district: str, at: datetime | None = None) -> E:
    """District systems key their events by district, so each district's arrive in order."""
    return cls(  # type: ignore[call-arg]  # the subclass fixes type and version
        event_id=uuid4(),
        occurred_at=at or dates.now(),
        producer=f"district:{district}",
        aggregate_id=uuid5(NAMESPACE_URL, f"civil-orders:district/{district}"),
        aggregate_version=1,
        correlation_id=uuid4(),
        actor=f"district-system:{district}",
        payload=payload,
    )
