"""Calendar arithmetic the French rules are written in: months, years and ages."""

from __future__ import annotations

import calendar
from datetime import date
from functools import lru_cache

__all__ = ["add_months", "age_on", "month_index"]


@lru_cache(maxsize=4096)
def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)
    and to the calendar's ends (a window reaching past year 9999 ends on ``date.max``).

    Cached: a request's lines share a handful of dates and the windows are recomputed for each.
    """
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def age_on(birth: date, day: date) -> int:
    """Age in completed years on ``day``."""
    before_birthday = (day.month, day.day) < (birth.month, birth.day)
    return day.year - birth.year - int(before_birthday)


def month_index(day: date) -> int:
    """A month counter (year × 12 + month − 1): consecutive months differ by 1."""
    return day.year * 12 + day.month - 1
