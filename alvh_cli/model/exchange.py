"""Exchange holidays and business days (Cboe follows the NYSE calendar).

The holidays come from the ``holidays`` package's NYSE calendar. Importing
that package costs ~75 ms (it loads every country), so the years alvh meets
day to day are read from a table the package generated
(``data/nyse_holidays.txt``, checked against the package by the tests); years
outside it ask the package itself.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from importlib.resources import files

from alvh_cli.model.timing import CLOSE, NEW_YORK, aware

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


REGULAR_CLOSE = CLOSE  # New York
EARLY_CLOSE = time(13, 0)


def is_early_close(d: date) -> bool:
    """True on the NYSE's regular 13:00 half days: the day after Thanksgiving, and July 3
    and December 24 when the exchange is open on them (NYSE holiday rules; e.g. 2025-07-03,
    2025-11-28 and 2025-12-24). Ad-hoc early closes are not known."""
    if not is_business_day(d):
        return False
    if (d.month, d.day) in ((7, 3), (12, 24)):
        return True
    if d.month == 11 and d.weekday() == 4:  # a Friday: the one after the fourth Thursday?
        first_thursday = 1 + (3 - date(d.year, 11, 1).weekday()) % 7
        return d.day == first_thursday + 22
    return False


def close_time(d: date) -> time:
    """The exchange's closing time on trading day ``d``, New York wall time."""
    return EARLY_CLOSE if is_early_close(d) else REGULAR_CLOSE


def last_close(now: datetime) -> datetime:
    """The most recent exchange close at or before ``now``: 16:00 New York on a trading
    day (13:00 on the NYSE's half days). Saturday's and Sunday's is Friday's."""
    here = aware(now).astimezone(NEW_YORK)
    day = here.date()
    if is_business_day(day):
        close = datetime.combine(day, close_time(day), tzinfo=NEW_YORK)
        if close <= here:
            return close
    day = previous_business_day(day)
    return datetime.combine(day, close_time(day), tzinfo=NEW_YORK)
