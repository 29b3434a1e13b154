"""The VIX futures curve of a market snapshot (points).

VIX futures not listed in the snapshot are interpolated linearly in calendar
days between the listed ones, never extrapolated.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from alvh_cli.errors import InputError
from alvh_cli.model.domain import Market
from alvh_cli.model.timing import settlement_instant, year_fraction


def future_prices(market: Market, expiries: Sequence[date]) -> np.ndarray:
    """VIX futures prices for ``expiries``: exact where listed, else linear in calendar days.

    An expiry outside the listed range (or any expiry when none is listed) is
    an input error naming it and ``market.vix_futures``.
    """
    days = np.fromiter((d.toordinal() for d in expiries), dtype=float, count=len(expiries))
    curve = sorted(market.vix_futures, key=lambda p: p.expiry)
    if not curve:
        if len(expiries):
            raise _missing_future(market, expiries[0], "market.vix_futures is empty")
        return days
    listed = np.array([p.expiry.toordinal() for p in curve], dtype=float)
    outside = (days < listed[0]) | (days > listed[-1])
    if outside.any():
        missing = expiries[int(np.argmax(outside))]
        if len(curve) == 1:
            have = f"the only listed expiry is {curve[0].expiry}"
        else:
            have = f"listed expiries run {curve[0].expiry} to {curve[-1].expiry}"
        raise _missing_future(market, missing, have)
    return np.interp(days, listed, [p.price for p in curve])


def future_price(market: Market, expiry: date) -> float:
    """The VIX future for ``expiry`` (see :func:`future_prices`)."""
    return float(future_prices(market, [expiry])[0])


def _missing_future(market: Market, expiry: date, have: str) -> InputError:
    return InputError(
        f"no VIX future at or around {expiry}: {have}; add it to market.vix_futures",
        source=market.source,
        key="market.vix_futures",
    )


def future_tenor(market: Market, expiry: date) -> float:
    """Years from ``market.asof`` to the settlement of the VIX future ``expiry`` (0 once past)."""
    return max(year_fraction(market.asof, settlement_instant("VIX", expiry)), 0.0)
