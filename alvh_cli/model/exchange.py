"""Exchange holidays and business days (Cboe follows the NYSE calendar).

The holidays come from the ``holidays`` package's NYSE calendar. Importing
that package costs ~75 ms (it loads every country), so the years alvh meets
day to day are read from a table the package generated
(``data/nyse_holidays.txt``, checked against the package by the tests); years
outside it ask the package itself.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta
from importlib.resources import files

TABLE = "nyse_holidays.txt"


@functools.cache
def _table() -> tuple[range, frozenset[date]]:
    text = (files("alvh_cli") / "data" / TABLE).read_text(encoding="utf-8")
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("# NYSE"))
    first, last = (int(y) for y in header.split(",")[1].strip().rstrip(".").split("-"))
    days = frozenset(date.fromisoformat(line) for line in lines if line and line[0] != "#")
    return range(first, last + 1), days


@functools.cache
def holidays_of(year: int) -> frozenset[date]:
    """NYSE full-day closures of ``year``."""
    years, days = _table()
    if year in years:
        return frozenset(d for d in days if d.year == year)
    return library_holidays(year)


def library_holidays(year: int) -> frozenset[date]:
    """The same closures straight from the ``holidays`` package (slow to import)."""
    import holidays

    return frozenset(holidays.financial_holidays("NYSE", years=year))


def is_business_day(d: date) -> bool:
    """True when the exchange is open on ``d`` (a weekday that is not an NYSE holiday)."""
    return d.weekday() < 5 and d not in holidays_of(d.year)


def previous_business_day(d: date) -> date:
    """The last business day strictly before ``d``."""
    d -= timedelta(days=1)
    while not is_business_day(d):
        d -= timedelta(days=1)
    return d
