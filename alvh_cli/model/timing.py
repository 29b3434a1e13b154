"""New York time: the exchange's zone and close, settlement instants, ACT/365 and DTE.

The one home of market time (DESIGN §2, §3): :data:`NEW_YORK` and the 16:00
close (:data:`CLOSE`); how a file's ``asof`` becomes an instant (a local
date-time is New York wall time, a bare date the close); and time to expiry,
ACT/365 in fractional days from ``asof`` to the settlement instant (09:30
New York for AM-settled SPX monthlies and VIX, 16:00 for SPXW), computed on
UTC instants so a DST change costs or gains its hour. The exchange's
calendar (holidays, half days) is :mod:`alvh_cli.model.exchange`.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
CLOSE = time(16, 0)
"""The exchange's regular close, New York wall time: SPXW settle at it, a bare date as
``asof`` means it, and a backtest prices each day at it (13:00 on half days is
:func:`alvh_cli.model.exchange.close_time`)."""
SECONDS_PER_YEAR = 365.0 * 86400.0

AM_SETTLEMENT = time(9, 30)  # SPX monthly (SET) and VIX (SOQ): the opening print
PM_SETTLEMENT = CLOSE  # SPXW: the close
_SETTLEMENT_TIME = {
    "SPX": AM_SETTLEMENT,
    "VIX": AM_SETTLEMENT,
    "VIXW": AM_SETTLEMENT,
    "VXM": AM_SETTLEMENT,  # the Mini VIX future settles on the same opening quotation as VX
    "SPXW": PM_SETTLEMENT,
}


def settlement_instant(root: str, expiry: date) -> datetime:
    """When a contract settles, as an aware New York datetime.

    "SPX" (AM monthly), "VIX" and "VIXW" (and the "VXM" Mini VIX future) settle at the
    09:30 open of the expiry date; "SPXW" at the 16:00 close.
    """
    try:
        at = _SETTLEMENT_TIME[root]
    except KeyError:
        known = sorted(_SETTLEMENT_TIME)
        raise ValueError(f"unknown root {root!r}: expected one of {known}") from None
    return datetime.combine(expiry, at, tzinfo=NEW_YORK)


@functools.lru_cache(maxsize=4096)
def settlement_timestamp(root: str, expiry: date) -> float:
    """:func:`settlement_instant` as a POSIX timestamp (seconds), cached for the hot path."""
    return settlement_instant(root, expiry).timestamp()


def aware(moment: datetime) -> datetime:
    """``moment`` itself, or read as New York wall time when it has no offset (DESIGN §2)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=NEW_YORK)


def at_close(day: date) -> datetime:
    """The regular close (:data:`CLOSE`, 16:00 New York) on ``day``, as an aware datetime."""
    return datetime.combine(day, CLOSE, tzinfo=NEW_YORK)


def resolve_asof(value: date | datetime) -> datetime:
    """A file's ``asof`` as an aware instant (DESIGN §2).

    An offset date-time is kept as is; a local date-time is New York wall
    time; a bare date is the close (16:00 New York) on that day.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value
        return value.replace(tzinfo=NEW_YORK)
    return at_close(value)


def new_york_date(moment: datetime) -> date:
    """The New York calendar day of ``moment`` (an offset-less one is New York's already)."""
    return aware(moment).astimezone(NEW_YORK).date()


def new_york_stamp(moment: datetime) -> str:
    """``moment`` in New York as messages show it: ``2026-11-24 15:45 EST``."""
    return aware(moment).astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M %Z")


def year_fraction(asof: datetime, instant: datetime) -> float:
    """ACT/365 years from ``asof`` to ``instant``: elapsed seconds / (365·86400).

    Computed on POSIX timestamps (UTC), so the hour lost or gained at a DST
    change is counted. (Subtracting two datetimes that share a tzinfo would
    compare wall clocks and miss it.) Negative once ``instant`` has passed.
    """
    return (aware(instant).timestamp() - aware(asof).timestamp()) / SECONDS_PER_YEAR


def dte(asof: datetime, expiry: date) -> int:
    """Calendar days from ``asof``'s New York date to ``expiry`` (what a trader calls DTE)."""
    return (expiry - new_york_date(asof)).days
