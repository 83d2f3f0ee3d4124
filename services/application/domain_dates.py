"""Calendar arithmetic the domain needs, in whole years (months: `schemas.dates`)."""

from datetime import date

from schemas.dates import months_after


def years_after(day: date, years: int) -> date:
    return months_after(day, 12 * years)
