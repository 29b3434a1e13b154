"""The backtest's market model: the closes it runs on and the modelled snapshot of each.

Option prices are modelled from VIX, not historical quotes: SPX options by BSM with ATM vol
``atm_ratio``·VIX/100 and a smile whose slope depends on the tenor; VIX futures from the
mean-reverting curve F(τ) = θ + (VIX − θ)·e^(−κτ), κ = ``rules.vix_term_kappa``; VIX options
by Black-76 with an ATM vol that rises with VIX as ``rules.vix_vol_power`` says, the rule the
scenarios move it by (``params`` gives each choice and its source).
Every daily close is priced at 16:00 New York.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from alvh_cli.backtest.params import VIX_VOL_REFERENCE, BacktestParams
from alvh_cli.errors import InputError
from alvh_cli.model.closes import EMBEDDED
from alvh_cli.model.domain import FuturePoint, Leg, Market, Smile
from alvh_cli.model.expirations import vix_expirations
from alvh_cli.model.rules import Rules
from alvh_cli.model.smile import vix_option_atm
from alvh_cli.model.timing import NEW_YORK, settlement_instant, year_fraction

FUTURES_HORIZON = timedelta(days=150)  # VIX futures listed each day: expiries up to this far out


# --------------------------------------------------------------------------- the closes


def is_embedded(history: pd.DataFrame) -> bool:
    """Whether ``history`` is the embedded data (``inputs.history.embedded_frame``: its
    named stress windows apply)."""
    sources = history.attrs.get("sources", [])
    return bool(sources) and str(sources[0]).startswith(EMBEDDED)


def closes(
    history: pd.DataFrame, params: BacktestParams
) -> tuple[tuple[date, ...], np.ndarray, np.ndarray]:
    """(days, SPX closes, VIX closes) of ``history`` up to ``params.end``; the rows before
    ``params.start`` stay (the warm-up)."""
    missing = [c for c in ("spx", "vix") if c not in history.columns]
    if missing:
        raise InputError(f"history has no '{missing[0]}' column", key=missing[0], option="history")
    frame = history[["spx", "vix"]].dropna().sort_index()
    if params.end:
        frame = frame[pd.DatetimeIndex(frame.index) <= pd.Timestamp(params.end)]
    if len(frame) < 2:
        raise InputError("fewer than two days of history in the period", option="history")
    if (frame.to_numpy() <= 0).any():
        raise InputError("spx and vix must be > 0", option="history")
    days = tuple(ts.date() for ts in pd.DatetimeIndex(frame.index))
    return days, frame["spx"].to_numpy(dtype=float), frame["vix"].to_numpy(dtype=float)


# --------------------------------------------------------------------------- each close


def close_instant(day: date) -> datetime:
    """16:00 New York on ``day``: the instant every daily close is priced at."""
    return datetime.combine(day, time(16), tzinfo=NEW_YORK)


def vix_future(vix: float, theta: float, kappa: float, tau: float) -> float:
    """F(τ) = θ + (VIX − θ)·e^(−κτ) for a tenor of ``tau`` years."""
    return theta + (vix - theta) * math.exp(-kappa * max(tau, 0.0))


def spx_smile(vix: float, params: BacktestParams) -> Smile:
    """The SPX smile on a day with this VIX: ATM ``atm_ratio``·VIX/100, the tenor-dependent
    slope."""
    return Smile(
        params.atm_ratio * vix / 100.0, params.spx_skew, params.spx_smile, params.spx_skew_term
    )


def day_market(
    day: date,
    spx: float,
    vix: float,
    params: BacktestParams,
    rules: Rules,
    expiries: Sequence[date],
) -> Market:
    """The modelled snapshot at the close of ``day``; ``expiries`` are the VIX futures listed.
    Of the method's ``rules``, the VIX curve's κ (``vix_term_kappa``) and how VIX option vol
    moves with VIX (``vix_vol_power``)."""
    kappa = rules.vix_term_kappa
    asof = close_instant(day)
    futures = tuple(
        FuturePoint(
            e,
            vix_future(
                vix, params.vix_theta, kappa, year_fraction(asof, settlement_instant("VIX", e))
            ),
        )
        for e in expiries
    )
    return Market(
        asof=asof,
        spx=float(spx),
        vix=float(vix),
        rate=params.rate,
        dividend_yield=params.dividend_yield,
        vix_futures=futures,
        spx_vol=spx_smile(vix, params),
        vix_vol=Smile(
            vix_option_atm(params.vix_atm, VIX_VOL_REFERENCE, vix, rules.vix_vol_power),
            params.vix_skew,
            params.vix_smile,
        ),
        source="backtest",
    )


def market_model(
    days: Sequence[date], spx: np.ndarray, vix: np.ndarray, params: BacktestParams, rules: Rules
) -> Callable[[int], Market]:
    """``market(i)``: the modelled snapshot at close ``i``, with the VIX futures listed that
    day (expiries up to ``FUTURES_HORIZON`` out); made once per close, then the same object
    (the method's scenario sets are shared by market)."""
    listed = vix_expirations(days[0], days[-1] + FUTURES_HORIZON)
    lows = [bisect.bisect_left(listed, d) for d in days]
    highs = [bisect.bisect_right(listed, d + FUTURES_HORIZON) for d in days]
    made: dict[int, Market] = {}

    def market(i: int) -> Market:
        m = made.get(i)
        if m is None:
            futures = listed[lows[i] : highs[i]]
            m = made[i] = day_market(days[i], spx[i], vix[i], params, rules, futures)
        return m

    return market


def intrinsic(leg: Leg, spot: float) -> float:
    """Settlement value of an option leg per unit, in points."""
    return max(spot - leg.strike, 0.0) if leg.type == "call" else max(leg.strike - spot, 0.0)
