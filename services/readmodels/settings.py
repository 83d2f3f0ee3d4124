"""The evaluation's own settings, read from the environment like the services' (and listed
with them by `civil-orders settings`)."""

from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from plumbing.settings import Settings

STAFF_COST = 33684.0  # a year, police staff scale 5


class EvaluationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    staff_cost_per_caseworker: float = Field(
        default=STAFF_COST,
        gt=0,
        description="Yearly cost of one civil order caseworker in pounds, for the evaluation's "
        "cost per order (police staff scale 5: £33,684).",
    )

    @classmethod
    def reference(cls) -> list[dict[str, str]]:
        """These settings as `Settings.reference()` lists the services'."""
        listing: Any = Settings.reference.__func__  # type: ignore[attr-defined]
        rows: list[dict[str, str]] = listing(cls)
        return rows
