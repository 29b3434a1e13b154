"""The expiration calendar: third Fridays, SPX monthlies and VIX settlement dates.

The calendar is the NYSE holiday list from the ``holidays`` package (Cboe
follows NYSE holidays).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta

from alvh_cli.model.exchange import is_business_day, previous_business_day


def third_friday(year: int, month: int) -> date:
    """The third Friday of the month (the standard monthly expiration day)."""
    first = date(year, month, 1)
    return first + timedelta(days=(calendar.FRIDAY - first.weekday()) % 7 + 14)


def spx_monthly_expiration(year: int, month: int) -> date:
    """Standard SPX expiration: the third Friday, or the business day before it on a holiday."""
    friday = third_friday(year, month)
    return friday if is_business_day(friday) else previous_business_day(friday)


def vix_expiration(year: int, month: int) -> date:
    """Final settlement date of the VIX futures/options contract month (``year``, ``month``).

    The Wednesday 30 days before the third Friday of the following calendar
    month; when that Friday is a holiday, 30 days before the business day
    preceding it; when the resulting day is a holiday, the business day
    before it (Cboe VX contract specifications).
    """
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    friday = third_friday(year, month)
    if not is_business_day(friday):
        friday = previous_business_day(friday)
    settle = friday - timedelta(days=30)
    return settle if is_business_day(settle) else previous_business_day(settle)


def _months(year: int, month: int) -> Iterable[tuple[int, int]]:
    while True:
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _month_before(d: date) -> tuple[int, int]:
    return (d.year - 1, 12) if d.month == 1 else (d.year, d.month - 1)


def vix_expirations(start: date, end: date) -> list[date]:
    """Monthly VIX expirations in ``[start, end]``, ascending."""
    found = []
    # A contract month's expiry falls in that month; start a month early to be safe.
    for year, month in _months(*_month_before(start)):
        expiry = vix_expiration(year, month)
        if expiry > end:
            return found
        if expiry >= start:
            found.append(expiry)
    raise AssertionError("unreachable")  # pragma: no cover


def next_vix_expiration(on_or_after: date) -> date:
    """The first monthly VIX expiration on or after ``on_or_after``."""
    for year, month in _months(*_month_before(on_or_after)):
        expiry = vix_expiration(year, month)
        if expiry >= on_or_after:
            return expiry
    raise AssertionError("unreachable")  # pragma: no cover
