"""The macro event calendar (FOMC, CPI, PPI) as data, and NYSE trading-day windows.

An :class:`Event` is one scheduled release; the calendar files (the shipped one and a
user's) are read by ``alvh_cli.inputs.events``. Trading days are NYSE sessions:
weekdays that are not NYSE holidays (``alvh_cli.model.exchange``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from alvh_cli.model.exchange import holidays_of, is_business_day

KINDS = ("FOMC", "CPI", "PPI", "other")
TENTATIVE = "tentative"


@dataclass(frozen=True)
class Event:
    """One scheduled macro event.

    ``date`` is the New York calendar day of the release (FOMC: the decision
    day, statement at 14:00 ET; CPI and PPI: 08:30 ET). ``kind`` is one of
    ``KINDS``. ``note`` is ``"tentative"`` for a date not checked against its
    publisher, else a free remark. ``source`` is the file it came from.
    """

    date: date
    kind: str
    note: str
    source: str

    @property
    def tentative(self) -> bool:
        return self.note.strip().lower() == TENTATIVE


def nyse_holidays(first_year: int, last_year: int) -> frozenset[date]:
    """NYSE full-day closures in ``first_year..last_year``."""
    return frozenset().union(*(holidays_of(y) for y in range(first_year, last_year + 1)))


def is_trading_day(day: date) -> bool:
    """True on an NYSE session: a weekday that is not an NYSE holiday."""
    return is_business_day(day)


def trading_window_end(asof: date, trading_days: int) -> date:
    """The ``trading_days``-th NYSE session after ``asof`` (``asof`` itself for 0).

    Sessions are counted strictly after ``asof``, so with ``trading_days = 2``
    and ``asof`` Monday 2026-12-07 the window runs to Wednesday 2026-12-09.
    Same count as ``pandas.bdate_range(asof + 1 day, periods=n, freq="C",
    holidays=NYSE holidays)[-1]``.
    """
    if trading_days < 0:
        raise ValueError("trading_days must be >= 0")
    day, seen = asof, 0
    while seen < trading_days:
        day += timedelta(days=1)
        if is_trading_day(day):
            seen += 1
    return day


def events_within(events: Iterable[Event], asof: date, trading_days: int) -> list[Event]:
    """Events dated from ``asof`` (inclusive: today's release still counts) to
    ``trading_window_end(asof, trading_days)`` (inclusive), in date order."""
    end = trading_window_end(asof, trading_days)
    return sorted((e for e in events if asof <= e.date <= end), key=lambda e: e.date)
