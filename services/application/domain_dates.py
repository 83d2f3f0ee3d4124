"""Calendar arithmetic the domain needs, in whole months and years."""

from datetime import date


def months_earlier(day: date, months: int) -> date:
    """The same day `months` months earlier (later, if negative), or the month's last day
    where it has none."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def years_after(day: date, years: int) -> date:
    return months_earlier(day, -12 * years)
