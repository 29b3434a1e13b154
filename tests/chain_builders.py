"""Invented option chains with a known forward, discount factor and SVI smile per expiry.

Prices are Black-76 on the forward at the SVI vol of each strike, discounted
by ``D``; bid and ask sit a fixed fraction either side, so every mid is the
model price (to rounding). A fit of such a chain must give back F, D and the
SVI parameters it was made from.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np

from alvh_cli.model import pricing
from alvh_cli.model.svi import SviParams, svi_vol

EST = timezone(timedelta(hours=-5))
QUOTE_DATE = date(2026, 11, 24)
ASOF = datetime(2026, 11, 24, 15, 45, tzinfo=EST)  # Cboe's 15:45 snapshot, New York


def years(days: int, minutes: int) -> float:
    """ACT/365 years of ``days`` calendar days plus ``minutes`` (no DST change in between)."""
    return (days * 1440 + minutes) / (365 * 1440)


@dataclass(frozen=True)
class Expiry:
    root: str
    expiry: date
    T: float  # years from ASOF to settlement, worked by hand in the test
    forward: float
    discount: float
    params: SviParams


# SPXW 2026-12-18 settles 16:00 EST: 24 days and 15 minutes after ASOF.
# SPXW 2027-01-15 settles 16:00 EST: 52 days and 15 minutes after ASOF.
# SPX 2027-03-19 (AM) settles 09:30 EDT (DST began 2027-03-14), 13:30 UTC; ASOF is 20:45
# UTC: 115 days less 7 h 15 min = 114 days 16 h 45 min.
EXPIRIES = (
    Expiry(
        "SPXW",
        date(2026, 12, 18),
        years(24, 15),
        5861.4,
        0.99725,
        SviParams(0.0009, 0.045, -0.75, 0.012, 0.04),
    ),
    Expiry(
        "SPXW",
        date(2027, 1, 15),
        years(52, 15),
        5874.9,
        0.99410,
        SviParams(0.0022, 0.07, -0.72, 0.02, 0.07),
    ),
    Expiry(
        "SPX",
        date(2027, 3, 19),
        years(114, 16 * 60 + 45),
        5904.3,
        0.98705,
        SviParams(0.0055, 0.11, -0.68, 0.03, 0.10),
    ),
)
SPOT = 5850.25


def model_prices(e: Expiry, strikes: np.ndarray, is_call: np.ndarray) -> np.ndarray:
    """Discounted Black-76 prices (points) at the expiry's SVI vols."""
    vol = svi_vol(e.params, np.log(strikes / e.forward), e.T)
    r = -math.log(e.discount) / e.T
    return pricing.black76_greeks(is_call, e.forward, strikes, e.T, r, vol).price


def chain_rows(expiries=EXPIRIES, strikes=None, spread=0.02) -> list[dict]:
    """One call and one put per strike and expiry, bid/ask ``price·(1 ∓ spread)``."""
    rows = []
    for e in expiries:
        ks = strikes if strikes is not None else np.arange(5000.0, 6505.0, 25.0)
        for is_call in (True, False):
            prices = model_prices(e, ks, np.full(ks.shape, is_call))
            for k, p in zip(ks.tolist(), prices.tolist(), strict=True):
                rows.append(
                    {
                        "root": e.root,
                        "expiration": e.expiry.isoformat(),
                        "strike": k,
                        "option_type": "C" if is_call else "P",
                        "bid": p * (1 - spread),
                        "ask": p * (1 + spread),
                    }
                )
    return rows


def write_cboe(path, rows, quote_date=QUOTE_DATE, spot=SPOT) -> None:
    """Rows in the Cboe end-of-day layout (a few of its other columns too), full precision."""
    header = [
        "underlying_symbol",
        "quote_date",
        "root",
        "expiration",
        "strike",
        "option_type",
        "open",
        "bid_size_1545",
        "bid_1545",
        "ask_size_1545",
        "ask_1545",
        "underlying_bid_1545",
        "underlying_ask_1545",
        "open_interest",
    ]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow(
                [
                    "^SPX",
                    quote_date.isoformat(),
                    r["root"],
                    r["expiration"],
                    repr(r["strike"]),
                    r["option_type"],
                    "0",
                    "10",
                    repr(r["bid"]),
                    "10",
                    repr(r["ask"]),
                    repr(spot - 0.05),
                    repr(spot + 0.05),
                    "100",
                ]
            )
