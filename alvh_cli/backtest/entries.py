"""The weekly condors a backtest opens: when, on which expiry, at which strikes, at what fill.

One iron condor is opened every week (``params.weekday``, the next trading day when the
exchange is shut) on the SPXW Friday nearest ``params.dte`` days out, its short strikes at
``params.delta`` on the strike grid and its wings ``params.wing`` points away; each leg is
filled at the model price moved by the half-spread (:mod:`alvh_cli.backtest.costs`) and pays
its fees. The same entries are run through every policy. Each entry carries its legs'
model prices and Greeks on every close of its life, worked out at once
(:func:`condor_paths`).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np

from alvh_cli.backtest.costs import CostModel
from alvh_cli.backtest.market import close_instant, intrinsic, spx_smile
from alvh_cli.backtest.params import BacktestParams
from alvh_cli.model.domain import VOL_FLOOR, Leg, Market
from alvh_cli.model.exchange import is_business_day, previous_business_day
from alvh_cli.model.legs import value_legs
from alvh_cli.model.timing import (
    SECONDS_PER_YEAR,
    settlement_instant,
    settlement_timestamp,
    year_fraction,
)

STRIKE_RANGE = 0.4  # short strikes are searched within ±40% of spot
_VALUE_FIELDS = (
    "T", "dte", "underlying", "forward", "vol", "price", "delta", "gamma", "vega", "theta", "rho",
)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One condor opened on ``opened``; shared by every policy.

    ``credit`` is the net fill per unit in points (model credit less four
    half-spreads); ``prices`` holds the model price of each condor leg on each
    close of its life (row 0 the entry, the last row the settlement at
    intrinsic); ``marks`` is debit to close / credit on each. ``entry_fees``
    are the dollars of fees per leg at entry.
    """

    id: str
    opened: date
    expiry: date
    settled: date  # the last close on or before expiry (= expiry unless the history has a gap)
    first: int  # row of ``opened`` in the history
    last: int  # row of ``settled``
    legs: tuple[Leg, ...]  # long put, short put, short call, long call; entry_price = fill
    credit: float
    model_credit: float
    entry_cash: float  # dollars received at entry, fees paid
    entry_fees: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)
    life: tuple[date, ...] = ()  # the closes from ``opened`` to ``settled``
    prices: np.ndarray = field(default_factory=lambda: np.empty((0, 4)), repr=False)
    marks: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    values: dict = field(default_factory=dict, repr=False)  # LegValues fields, rows × legs

    def values_at(self, row: int):
        """The condor's ``LegValues`` on row ``row`` of its life (before settlement): what
        ``value_legs`` gives for these four legs in that day's market, worked out for every
        close at once by ``condor_paths``."""
        from alvh_cli.model.legs import LegValues

        v = self.values
        return LegValues(
            **{name: v[name][row] for name in _VALUE_FIELDS},
            vol_source=("smile",) * 4,
            smile_vol=v["vol"][row],
            quantity=v["quantity"],
            multiplier=v["multiplier"],
        )

    @property
    def strikes(self) -> tuple[float, ...]:
        return tuple(g.strike for g in self.legs)

    @property
    def max_loss(self) -> float:
        """The condor's largest loss at expiry in dollars, the capital at risk: the wider
        wing less the credit, × 100 × contracts (fees not included)."""
        lp, sp, sc, lc = self.strikes
        wing = max(sp - lp, lc - sc)
        return (wing - self.credit) * 100.0 * abs(self.legs[1].quantity)


def entry_days(days: Sequence[date], weekday: int) -> list[int]:
    """Rows of each week's entry: the ``weekday`` close, or the next close when the exchange
    was shut that day (a holiday). A week whose entry day is missing from the history for
    another reason (a gap in the data, the first partial week) has no entry."""
    out = []
    for i, d in enumerate(days):
        target = d - timedelta(days=d.weekday() - weekday)
        if d < target:
            continue
        skipped = (target + timedelta(days=k) for k in range((d - target).days))
        if all(not is_business_day(x) for x in skipped) and (i == 0 or days[i - 1] < target):
            out.append(i)
    return out


def weekly_expiry(day: date, dte: int) -> date:
    """The SPXW Friday expiry (the business day before on a holiday) nearest ``dte`` days out."""
    friday = day + timedelta(days=(4 - day.weekday()) % 7)
    best = None
    for k in range(dte // 7 + 3):
        e = friday + timedelta(days=7 * k)
        e = e if is_business_day(e) else previous_business_day(e)
        if e <= day:
            continue
        key = (abs((e - day).days - dte), e)
        if best is None or key < best:
            best = key
    return best[1]


def condor_strikes(market: Market, expiry: date, params: BacktestParams) -> tuple[float, ...]:
    """Long put, short put, short call, long call: shorts at ``delta`` on the strike grid."""
    from alvh_cli.model.pricing import bsm_greeks
    from alvh_cli.model.smile import smile_vol, spx_forward

    step = params.strike_step
    lo = math.floor(market.spx * (1 - STRIKE_RANGE) / step)
    hi = math.ceil(market.spx * (1 + STRIKE_RANGE) / step)
    grid = np.arange(lo, hi + 1) * step
    t = year_fraction(market.asof, settlement_instant("SPXW", expiry))
    vol = smile_vol(market.spx_vol, np.log(grid / float(spx_forward(market, t))), t)
    r, q = market.rate, market.dividend_yield
    put = bsm_greeks(False, market.spx, grid, t, r, q, vol).delta
    call = bsm_greeks(True, market.spx, grid, t, r, q, vol).delta
    short_put = float(grid[np.argmin(np.abs(put + params.delta))])
    short_call = float(grid[np.argmin(np.abs(call - params.delta))])
    return short_put - params.wing, short_put, short_call, short_call + params.wing


def open_entry(
    day: date, market: Market, expiry: date, params: BacktestParams, costs: CostModel
) -> Entry:
    """The condor opened at ``day``'s close, each leg filled at the model price moved by the
    half-spread, fees paid. Its place in the history and its price path are filled in by
    ``run_backtest``."""
    strikes = condor_strikes(market, expiry, params)
    n = params.contracts
    shape = (("put", n), ("put", -n), ("call", -n), ("call", n))
    bare = [
        Leg("SPX", "SPXW", t, k, expiry, q, 0.0) for (t, q), k in zip(shape, strikes, strict=True)
    ]
    model = value_legs(market, bare).price
    legs = tuple(
        replace(
            g,
            entry_price=costs.fill_one(float(p), g.quantity, g.underlying, market.vix, True),
            key=f"legs[{j}]",
        )
        for j, (g, p) in enumerate(zip(bare, model, strict=True))
    )
    paid = tuple(costs.fees_one(g.underlying, g.entry_price, g.quantity) for g in legs)
    credit = -sum(g.entry_price * g.quantity for g in legs) / n
    model_credit = -float(sum(p * g.quantity for g, p in zip(bare, model, strict=True))) / n
    cash = credit * n * 100.0 - sum(paid)
    return Entry(
        f"ic-{day.isoformat()}", day, expiry, expiry, 0, 0, legs, credit, model_credit, cash,
        paid,
    )  # fmt: skip


def first_entry_row(days: Sequence[date], params: BacktestParams) -> int:
    """The first row an entry may open on: ``warmup`` closes in, and not before ``start``."""
    row = params.warmup
    if params.start:
        row = max(row, bisect.bisect_left(days, params.start))
    return row


def weekly_entries(
    days: Sequence[date],
    params: BacktestParams,
    costs: CostModel,
    market: Callable[[int], Market],
    first: int,
) -> list[Entry]:
    """Every weekly entry from row ``first`` whose expiry falls within the history (so that
    every trade closes)."""
    out = []
    for i in entry_days(days, params.weekday):
        if i < first:
            continue
        expiry = weekly_expiry(days[i], params.dte)
        if expiry > days[-1]:
            continue
        last = bisect.bisect_right(days, expiry) - 1
        if last <= i:
            continue
        e = open_entry(days[i], market(i), expiry, params, costs)
        out.append(replace(e, settled=days[last], first=i, last=last))
    return out


def condor_paths(entries: list[Entry], days, spx, vix, params: BacktestParams) -> list[Entry]:
    """Each condor leg's model price and Greeks on every close of its life, in one pricing
    call: the arithmetic of ``value_legs`` (BSM on spot, the day's smile at k = ln(K/F) and
    the leg's tenor), vectorised over every (close, leg); equal to it bit for bit (tested)."""
    from alvh_cli.model.pricing import bsm_greeks

    sizes = [e.last - e.first + 1 for e in entries]
    row_day = np.concatenate([np.arange(e.first, e.last + 1) for e in entries])
    close_ts = np.array([close_instant(d).timestamp() for d in days])
    ordinal = np.array([d.toordinal() for d in days])
    strike = np.repeat(np.array([e.strikes for e in entries]), sizes, axis=0)  # rows × 4
    settle = np.repeat(np.array([settlement_timestamp("SPXW", e.expiry) for e in entries]), sizes)
    expiry = np.repeat(np.array([e.expiry.toordinal() for e in entries]), sizes)
    is_call = np.array([False, False, True, True])
    s = spx[row_day][:, None]
    T = np.repeat(((settle - close_ts[row_day]) / SECONDS_PER_YEAR)[:, None], 4, axis=1)
    tau = np.maximum(T, 0.0)
    fwd = s * np.exp((params.rate - params.dividend_yield) * tau)
    k = np.log(strike / fwd)
    smile = spx_smile(1.0, params)
    atm = (params.atm_ratio * vix[row_day] / 100.0)[:, None]
    vol = np.maximum(atm + smile.skew_at(tau) * k + smile.smile * k * k, VOL_FLOOR)
    g = bsm_greeks(is_call, s, strike, tau, params.rate, params.dividend_yield, vol)
    table = {
        "T": T,
        "dte": np.repeat((expiry - ordinal[row_day])[:, None], 4, axis=1),
        "underlying": np.broadcast_to(s, T.shape),
        "forward": fwd,
        "vol": vol,
        **{name: getattr(g, name) for name in ("price", "delta", "gamma", "vega", "theta", "rho")},
    }
    out = []
    start = 0
    for e, size in zip(entries, sizes, strict=True):
        part = {name: np.ascontiguousarray(a[start : start + size]) for name, a in table.items()}
        start += size
        qty = np.array([g.quantity for g in e.legs], dtype=float)
        part["quantity"], part["multiplier"] = qty, np.full(4, 100.0)
        p = part["price"].copy()
        p[-1] = [intrinsic(g, spx[e.last]) for g in e.legs]  # cash settlement at the close
        debit = -(p @ qty) / abs(e.legs[1].quantity)
        out.append(
            replace(
                e,
                life=tuple(days[e.first : e.last + 1]),
                prices=p,
                marks=debit / e.credit,
                values=part,
            )
        )
    return out
