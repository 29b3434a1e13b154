"""Time to settlement: settlement instants, ACT/365 year fractions and DTE (DESIGN §3).

Time to expiry is ACT/365 in fractional days from ``asof`` to the settlement
instant (09:30 New York for AM-settled SPX monthlies and VIX, 16:00 for
SPXW), computed on UTC instants so a DST change costs or gains its hour.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
SECONDS_PER_YEAR = 365.0 * 86400.0

AM_SETTLEMENT = time(9, 30)  # SPX monthly (SET) and VIX (SOQ): the opening print
PM_SETTLEMENT = time(16, 0)  # SPXW: the close
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


def year_fraction(asof: datetime, instant: datetime) -> float:
    """ACT/365 years from ``asof`` to ``instant``: elapsed seconds / (365·86400).

    Computed on POSIX timestamps (UTC), so the hour lost or gained at a DST
    change is counted. (Subtracting two datetimes that share a tzinfo would
    compare wall clocks and miss it.) Negative once ``instant`` has passed.
    """
    return (aware(instant).timestamp() - aware(asof).timestamp()) / SECONDS_PER_YEAR


def dte(asof: datetime, expiry: date) -> int:
    """Calendar days from ``asof``'s New York date to ``expiry`` (what a trader calls DTE)."""
    return (expiry - aware(asof).astimezone(NEW_YORK).date()).days
