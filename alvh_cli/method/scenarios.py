"""The scenario set of the method, and full revaluation of any legs over it.

Every recommendation is judged on the same set of joint SPX/VIX moves over a
horizon of ``scenario_horizon_days`` trading days:

* *historical* — every overlapping horizon window of a daily SPX/VIX history
  gives one move (filtered historical simulation, Barone-Adesi, Giannopoulos
  and Vosper 1999): the window's SPX log return scaled by VIX now / VIX at the
  window's start, centred so that the scenarios' mean SPX level is the
  forward S·e^((r−q)h) — alvh takes no view on direction, so a bull-market
  sample does not turn into a long-delta recommendation; VIX moves by the
  window's observed log change, its dependence on the starting level
  regressed out (:func:`level_pull`: VIX mean-reverts, so a window from a
  calm start says little about the drift from a high one). Equal weights:
  EV and CVaR are computed over these.
* *ladder* — fixed SPX rungs (−2, −5, −10, −20, +3, +6 %) plus any rungs the
  caller adds (the old stress point: SPX to the tested short strike). VIX
  follows ``VIX·(S_s/S)^β`` with a crash floor taken from real crash weeks
  (:data:`CRASH_FLOOR`) and the record close as a cap, so a −10 % week reaches
  the VIX levels of August 2015 rather than the 1.7× a log-linear beta gives.

Revaluation is at the horizon instant: each SPX option on the moved spot, its
time to settlement shortened by the horizon, its volatility the smile with the
ATM level moved by (VIX_s − VIX)/100 at its new moneyness plus the residual the
leg's own vol had over the smile today; each VIX future on the one-factor
curve F(τ) = θ + (VIX − θ)·e^(−κτ) (θ implied by the future's own price, so
the curve's roll-down over the horizon is priced); VIX options by Black-76 on
the moved future with the VIX smile, its ATM vol moved to the scenario's VIX by
(VIX_s/VIX)^``vix_vol_power`` (:func:`alvh_cli.model.smile.vix_option_atm`, the
rule the backtest's market follows too). One pricing call per model covers every
leg × scenario: no Python loop per scenario.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from alvh_cli.model import pricing
from alvh_cli.model.closes import History
from alvh_cli.model.domain import VOL_FLOOR, Leg, Market
from alvh_cli.model.exchange import is_business_day
from alvh_cli.model.legs import LegValues
from alvh_cli.model.smile import carry_rates, smile_vol, vix_option_atm
from alvh_cli.model.timing import year_fraction

LADDER = (-0.02, -0.05, -0.10, -0.20, 0.03, 0.06)
"""SPX moves of the fixed rungs, as simple returns over the horizon."""

# A week's SPX move and where VIX closed at its end, in real crashes (Cboe VIX
# closes; S&P 500 closes): 2018-10-03→10 −4.8 % → 22.96; 2018-12-14→21 −7.1 % →
# 30.11; 2015-08-17→24 −10.0 % → 40.74; 2011-08-01→08 −13.0 % → 48.00;
# 2008-10-03→10 −18.2 % → 69.95. A ladder rung's VIX is at least this level
# (linear in the move between the points, flat beyond the last), whatever VIX
# starts from: a log-linear beta from a calm VIX of 13 reaches only 22 at −10 %.
CRASH_FLOOR = ((0.0, 0.0), (-0.048, 22.96), (-0.071, 30.11), (-0.100, 40.74),
               (-0.130, 48.00), (-0.182, 69.95))  # fmt: skip
VIX_RECORD_CLOSE = 82.69  # 2020-03-16, the highest VIX close: a rung's VIX cap
VIX_RECORD_LOW = 9.14  # 2017-11-03, the lowest VIX close: a rung's VIX floor
MIN_WINDOWS = 60  # fewer historical windows than this give no usable distribution


@dataclass(frozen=True)
class ScenarioSet:
    """Joint SPX/VIX levels at the horizon, one per scenario.

    The first ``n_hist`` are historical windows (equal weights); the rest are
    ladder rungs named by ``labels``. ``horizon`` is in years (ACT/365) from
    ``asof`` to the horizon instant, ``horizon_days`` in trading days.
    """

    spx0: float
    vix0: float
    horizon_days: int
    horizon: float
    spx: np.ndarray
    vix: np.ndarray
    n_hist: int
    labels: tuple[str, ...]
    source: str

    @property
    def n(self) -> int:
        return len(self.spx)

    @property
    def historical(self) -> slice:
        return slice(0, self.n_hist)

    @property
    def ladder(self) -> slice:
        return slice(self.n_hist, self.n)

    @property
    def spx_move(self) -> np.ndarray:
        """SPX simple return of each scenario."""
        return self.spx / self.spx0 - 1.0


def horizon_instant(asof: datetime, trading_days: int) -> datetime:
    """``asof`` moved forward by ``trading_days`` exchange days, same wall-clock time."""
    day = asof.date()
    left = trading_days
    while left > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            left -= 1
    return asof.replace(year=day.year, month=day.month, day=day.day)


def ladder_vix(vix: float, move: np.ndarray, beta: float) -> np.ndarray:
    """VIX after an SPX move of ``move`` (simple return): ``VIX·(1+move)^β``, at least the
    crash floor of :data:`CRASH_FLOOR` for a fall, within the record low and high closes."""
    move = np.asarray(move, dtype=float)
    base = vix * (1.0 + move) ** beta
    xs, ys = zip(*reversed(CRASH_FLOOR), strict=True)  # increasing moves for np.interp
    floor = np.where(move < 0, np.interp(move, xs, ys), 0.0)
    cap = max(vix, VIX_RECORD_CLOSE)
    return np.clip(np.maximum(base, floor), min(vix, VIX_RECORD_LOW), cap)


def historical_moves(history: History, horizon_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Every overlapping window's (SPX log return scaled to VIX 1, VIX log change).

    The SPX return is divided by the VIX at the window's start: multiplied by
    today's VIX it is the filtered (volatility-rescaled) move.
    """
    h = horizon_days
    if len(history.spx) <= h:
        return np.empty(0), np.empty(0)
    s, v = history.spx, history.vix
    r = np.log(s[h:] / s[:-h]) / v[:-h]
    dv = np.log(v[h:] / v[:-h])
    return r, dv


def level_pull(history: History, dv: np.ndarray, vix: float, horizon_days: int) -> np.ndarray:
    """What each window's VIX log change gains or loses for starting from today's VIX
    instead of its own: b·(ln VIX − ln VIX_start), b the OLS slope of the windows' log
    changes on their starting log level (clipped to [−1, 0]).

    VIX mean-reverts (in 2014–2018 weekly windows b ≈ −0.21: about a 3-week half-life),
    so a window from a calm start applied at a high VIX would otherwise carry a calm
    market's spike odds and none of the pull back down; regressing the level out keeps
    the window's surprise and moves its drift to today's level (Barone-Adesi et al.'s
    filtering, applied to the level rather than the scale).
    """
    n = len(dv)
    if n < MIN_WINDOWS:
        return np.zeros(n)
    start = np.log(history.vix[:n])
    x = start - start.mean()
    b = float((x * (dv - dv.mean())).sum() / (x * x).sum()) if (x * x).sum() > 0 else 0.0
    b = min(max(b, -1.0), 0.0)
    return b * (math.log(vix) - start)


def build(
    market: Market,
    history: History,
    *,
    horizon_days: int,
    vix_beta: float,
    rungs: Sequence[tuple[str, float]] = (),
) -> ScenarioSet:
    """The scenario set for ``market``: ``history``'s windows then the ladder and ``rungs``
    (label, SPX level at the horizon)."""
    asof = market.asof
    h = year_fraction(asof, horizon_instant(asof, horizon_days))
    r, dv = historical_moves(history, horizon_days)
    if len(r):
        r = r * market.vix
        # centred so that E[S_h] is the forward: no drift of the sample becomes a view
        r = r - np.log(np.mean(np.exp(r))) + (market.rate - market.dividend_yield) * h
    spx_hist = market.spx * np.exp(r)
    vix_hist = market.vix * np.exp(dv + level_pull(history, dv, market.vix, horizon_days))
    moves = [*LADDER, *(level / market.spx - 1.0 for _, level in rungs)]
    labels = [f"SPX {m:+.0%}" for m in LADDER] + [label for label, _ in rungs]
    move = np.array(moves, dtype=float)
    spx_l = market.spx * (1.0 + move)
    vix_l = ladder_vix(market.vix, move, vix_beta)
    first = date.fromordinal(int(history.dates[0])) if len(history.dates) else None
    last = date.fromordinal(int(history.dates[-1])) if len(history.dates) else None
    span = "" if f"{first}..{last}" in history.source else f" {first}..{last}"
    source = (
        f"{history.source}: {len(r):,} window{'s' * (len(r) != 1)} of {horizon_days} "
        f"trading day{'s' * (horizon_days != 1)}{span}"
        if len(r)
        else f"{history.source}: no complete {horizon_days}-day window"
    )
    return ScenarioSet(
        market.spx,
        market.vix,
        horizon_days,
        h,
        np.concatenate([spx_hist, spx_l]),
        np.concatenate([vix_hist, vix_l]),
        len(r),
        tuple(labels),
        source,
    )


def future_move(
    future: np.ndarray,
    tenor: np.ndarray,
    vix0: float,
    vix: np.ndarray,
    horizon: float,
    kappa: float,
) -> np.ndarray:
    """VIX futures at the horizon: (futures,) today × (scenarios,) VIX → (futures, scenarios).

    One-factor curve F(τ) = θ + (VIX − θ)·e^(−κτ) with θ implied by each
    future's price today: F_h = F + (VIX_s − VIX)·e^(−κ(τ−h)) + (VIX − F)·ρ,
    ρ = e^(−κτ)(e^(κh) − 1) / (1 − e^(−κτ)) the share of the basis that rolls
    off over the horizon (h/τ as κ → 0; all of it once τ ≤ h, where the future
    has settled to spot).
    """
    f = np.asarray(future, dtype=float)[:, None]
    tau = np.asarray(tenor, dtype=float)[:, None]
    left = np.maximum(tau - horizon, 0.0)
    damp = np.exp(-kappa * left)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kappa > 0:
            roll = np.exp(-kappa * tau) * math.expm1(kappa * horizon) / -np.expm1(-kappa * tau)
        else:
            roll = horizon / tau
    roll = np.where(tau <= horizon, 1.0, roll)
    moved = f + (vix[None, :] - vix0) * damp + (vix0 - f) * roll
    return np.maximum(moved, 0.01)


def revalue(
    legs: Sequence[Leg],
    base: LegValues,
    market: Market,
    scenarios: ScenarioSet,
    kappa: float,
    vix_vol_power: float,
    atm_per_vix: float = 1.0,
) -> np.ndarray:
    """Each leg's price per unit at the horizon in each scenario: (legs, scenarios) points.

    ``base`` is ``legs`` valued today in ``market``. A leg settling within the
    horizon is worth its intrinsic value at the scenario's level (SPX) or
    future (VIX). ``kappa``, ``vix_vol_power`` and ``atm_per_vix`` are the rules
    ``vix_term_kappa``, ``vix_vol_power`` and ``spx_atm_per_vix``.
    """
    n_legs, n = len(legs), scenarios.n
    out = np.empty((n_legs, n))
    if not n_legs:
        return out
    h = scenarios.horizon
    kind = np.array(
        [0 if g.underlying == "SPX" else (2 if g.type == "future" else 1) for g in legs]
    )
    strike = np.array([np.nan if g.strike is None else g.strike for g in legs])
    is_call = np.array([g.type == "call" for g in legs])
    t_left = np.maximum(base.T - h, 0.0)
    residual = np.where(np.isnan(base.smile_vol), 0.0, base.vol - base.smile_vol)

    spx = np.flatnonzero(kind == 0)
    if len(spx):
        s = scenarios.spx[None, :]
        t = t_left[spx, None]
        # the smile's moneyness on the snapshot's rate and yield, as LegValues.smile_vol
        # takes it; the price on each leg's own carry (a fitted chain's forward and
        # discount when the snapshot has one), as value_legs prices it
        fwd = s * np.exp((market.rate - market.dividend_yield) * t)
        k = np.log(strike[spx, None] / fwd)
        sm = market.spx_vol
        move = atm_per_vix * (scenarios.vix - scenarios.vix0) / 100.0
        atm = np.maximum(sm.atm + move, VOL_FLOOR)[None, :]
        vol = np.maximum(atm + sm.skew_at(t) * k + sm.smile * k * k, VOL_FLOOR)
        vol = np.maximum(vol + residual[spx, None], VOL_FLOOR)
        r, q = carry_rates(market, base.T[spx])
        out[spx] = pricing.bsm_price(
            is_call[spx, None], s, strike[spx, None], t, r[:, None], q[:, None], vol
        )

    vix = np.flatnonzero(kind != 0)
    if len(vix):
        tenor = np.maximum(base.T[vix], 0.0)
        f = future_move(base.forward[vix], tenor, scenarios.vix0, scenarios.vix, h, kappa)
        fut = kind[vix] == 2
        out[vix[fut]] = f[fut]
        opt = ~fut
        if opt.any():
            rows = vix[opt]
            fo = f[opt]
            k = np.log(strike[rows, None] / fo)
            if market.vix_vol is not None:
                sm = market.vix_vol
                atm = vix_option_atm(sm.atm, scenarios.vix0, scenarios.vix, vix_vol_power)
                vol = smile_vol(sm, k, atm=atm) + residual[rows, None]
            else:
                vol = np.broadcast_to(base.vol[rows, None], k.shape)
            vol = np.maximum(vol, VOL_FLOOR)
            out[rows] = pricing.black76_price(
                is_call[rows, None], fo, strike[rows, None], t_left[rows, None], market.rate, vol
            )
    return out


def pnl_matrix(base: LegValues, horizon_prices: np.ndarray) -> np.ndarray:
    """Dollar P&L of each leg as held, from today's value to each scenario: (legs, scenarios)."""
    scale = (base.quantity * base.multiplier)[:, None]
    return (horizon_prices - base.price[:, None]) * scale


# ----------------------------------------------------------------------- risk figures


def _tail_size(n: int, level: float) -> tuple[float, int, bool, int]:
    """The tail of ``level`` of ``n`` equally likely outcomes: its size k = level·n, the
    outcomes wholly in it, whether the next is in it in part (k − whole of it), and so how
    many of the smallest outcomes it reads."""
    k = level * n
    whole = int(math.floor(k + 1e-9))
    part = whole < n and k - whole > 1e-9
    return k, whole, part, whole + 1 if part else whole


def cvar(pnl: np.ndarray, level: float) -> float:
    """Conditional value at risk of equally likely outcomes, as a P&L (negative = loss).

    The mean of the worst ``level`` share of outcomes, the boundary outcome
    counted in part (Rockafellar and Uryasev 2002, eq. for discrete
    distributions): the same figure the linear program minimises.
    """
    x = np.asarray(pnl, dtype=float)
    n = len(x)
    if n == 0:
        return math.nan
    if n >= 4096:  # the tail found in a sample first (cvars): the same floats
        return float(cvars(x[None, :], level)[0])
    k, whole, part, take = _tail_size(n, level)
    # the tail alone sorted: the row's sorted values up to the tail, summed the same way
    x = np.sort(np.partition(x, take - 1)[:take]) if 0 < take < n else np.sort(x)
    total = x[:whole].sum()
    if part:
        total += (k - whole) * x[whole]
    return float(total / k)


def tail_weights(pnl: np.ndarray, level: float) -> np.ndarray:
    """The weight of each outcome in :func:`cvar` of ``pnl``: 1/(αN) on the worst ⌊αN⌋, the
    fraction left on the next (ties by position), so ``weights @ pnl`` is the CVaR and
    ``weights @ x`` any other P&L's mean over that tail (its CVaR contribution)."""
    x = np.asarray(pnl, dtype=float)
    n = len(x)
    k, whole, part, take = _tail_size(n, level)
    q = np.zeros(n)
    if take == 0:
        return q
    # the outcomes at or under the take-th smallest, in position order, hold the first
    # ``take`` of the stable order of all: sorting them alone (stable) gives that order
    cut = np.partition(x, take - 1)[take - 1]
    under = np.flatnonzero(x <= cut)
    order = under[np.argsort(x[under], kind="stable")]
    q[order[:whole]] = 1.0 / k
    if part:
        q[order[whole]] = (k - whole) / k
    return q


TAIL_STRIDE = 8
"""Every how many outcomes :func:`smallest` samples a row to bound its tail."""


def smallest(x: np.ndarray, take: int) -> np.ndarray:
    """The ``take`` smallest values of each row of ``x`` (rows, outcomes), in no order: the
    same values ``np.partition(x, take - 1, axis=1)[:, :take]`` gives, found in fewer
    outcomes.

    A row's sample (every ``TAIL_STRIDE``-th outcome) gives a bound: its value about one
    and a half times ``take`` from the bottom of the row. Where at least ``take`` of the
    row's outcomes are at or under the bound, all of its ``take`` smallest are among them,
    and so among the outcomes under some row's bound: only those columns are partitioned.
    A row with too few under its bound, or too many (a flat row: a position closed whole),
    is partitioned whole; so is every row when their tails share few outcomes (the
    columns are then more than half the row)."""
    m, n = x.shape
    if take < 2 * TAIL_STRIDE or n < 8 * take:
        return np.partition(x, take - 1, axis=1)[:, :take]
    j = -(-3 * take // (2 * TAIL_STRIDE))  # 1.5 tails: ~1 row in 20 falls short, whole
    bound = np.partition(x[:, ::TAIL_STRIDE], j - 1, axis=1)[:, j - 1]
    below = x <= bound[:, None]
    count = below.sum(axis=1)
    narrow = (count >= take) & (count <= 4 * take)
    cols = np.flatnonzero(below[narrow].any(axis=0))
    if len(cols) > n // 2:  # rows whose tails are in different outcomes: no saving
        return np.partition(x, take - 1, axis=1)[:, :take]
    out = np.empty((m, take))
    rows = np.flatnonzero(narrow)
    if len(rows):
        out[rows] = np.partition(x[np.ix_(rows, cols)], take - 1, axis=1)[:, :take]
    rows = np.flatnonzero(~narrow)
    if len(rows):
        out[rows] = np.partition(x[rows], take - 1, axis=1)[:, :take]
    return out


def cvars(pnl: np.ndarray, level: float) -> np.ndarray:
    """:func:`cvar` of each row of ``pnl`` (rows, outcomes), the same floats row by row: only
    the tail is sorted (:func:`smallest` then a sort of what it finds: the row's sorted
    values up to its tail), and a row's sum along its own axis is the same pairwise sum as
    the 1-d one."""
    x = np.asarray(pnl, dtype=float)
    m, n = x.shape
    if n == 0:
        return np.full(m, math.nan)
    k, whole, part, take = _tail_size(n, level)
    if take == 0:
        return np.zeros(m) / k
    tail = smallest(x, take)
    tail.sort(axis=1)
    total = tail[:, :whole].sum(axis=1)
    if part:
        total += (k - whole) * tail[:, whole]
    return total / k


@dataclass(frozen=True)
class RiskFigures:
    """A position's (or an alternative's) figures, in dollars of P&L from today's marks.

    ``ev`` and ``sd`` are the mean and standard deviation over the historical
    scenarios, ``cvar`` the mean of their worst ``cvar_level`` share; ``worst``
    the worst ladder rung (``worst_label`` names it); ``max_loss`` the worst
    P&L at expiry over every level of the underlyings (−inf: unlimited).
    Negative is a loss throughout.
    """

    ev: float
    sd: float
    cvar: float
    worst: float
    worst_label: str
    max_loss: float

    def to_dict(self, suffix: str = "") -> dict[str, float | str]:
        return {
            f"ev{suffix}": self.ev,
            f"sd{suffix}": self.sd,
            f"cvar{suffix}": self.cvar,
            f"worst{suffix}": self.worst,
            f"worst_rung{suffix}": self.worst_label,
            f"max_loss{suffix}": self.max_loss,
        }


def figures(pnl: np.ndarray, scenarios: ScenarioSet, level: float, max_loss: float) -> RiskFigures:
    """Risk figures of one P&L vector over ``scenarios``."""
    hist = pnl[scenarios.historical]
    lad = pnl[scenarios.ladder]
    i = int(np.argmin(lad)) if len(lad) else -1
    return RiskFigures(
        float(hist.mean()) if len(hist) else math.nan,
        float(hist.std()) if len(hist) else math.nan,
        cvar(hist, level),
        float(lad[i]) if i >= 0 else math.nan,
        scenarios.labels[i] if i >= 0 else "",
        max_loss,
    )


def figures_rows(
    pnl: np.ndarray, scenarios: ScenarioSet, level: float, max_loss: np.ndarray
) -> list[RiskFigures]:
    """:func:`figures` of each row of ``pnl`` (rows, scenarios), ``max_loss`` one per row: the
    same figures, each a reduction along its own row (numpy's row-wise mean, standard
    deviation and sum are its 1-d ones, row by row)."""
    m = len(pnl)
    hist = pnl[:, scenarios.historical]
    lad = pnl[:, scenarios.ladder]
    if not m or not hist.shape[1] or not lad.shape[1]:
        return [
            figures(row, scenarios, level, float(x)) for row, x in zip(pnl, max_loss, strict=True)
        ]
    mean, sd = mean_sd(hist)
    cv = cvars(hist, level)
    worst = np.argmin(lad, axis=1)
    low = lad[np.arange(m), worst]
    labels = scenarios.labels
    return [
        RiskFigures(e, s, c, w, labels[i], x)
        for e, s, c, w, i, x in zip(
            mean.tolist(), sd.tolist(), cv.tolist(), low.tolist(), worst.tolist(),
            np.asarray(max_loss, dtype=float).tolist(), strict=True,
        )
    ]  # fmt: skip


def mean_sd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's mean and standard deviation: the floats of ``x.mean(axis=1)`` and
    ``x.std(axis=1)``, the rows summed once. numpy's standard deviation sums each row for its
    mean as the mean does (the same pairwise sum, divided by the count), then the squared
    deviations from it; here that first sum is the mean's own."""
    n = x.shape[1]
    mean = np.add.reduce(x, axis=1) / n
    dev = x - mean[:, None]
    np.multiply(dev, dev, out=dev)
    return mean, np.sqrt(np.add.reduce(dev, axis=1) / n)


def expiry_floor(
    legs: Sequence[Leg],
    values: Sequence[float],
    quantities: Sequence[float] | None = None,
    memo: dict | None = None,
) -> float:
    """The worst P&L at expiry of ``legs`` (today's per-unit ``values``), in dollars, held in
    their own quantities or in ``quantities``.

    Legs are grouped by underlying and expiry; within a group the payoff is
    piecewise linear in the settlement level, so its minimum is at zero, at a
    strike, or unbounded below when the group is net short calls. Groups
    settle at different levels, so the floor of the whole is the sum of the
    groups' floors (each level can be reached). Futures settle at their level.

    ``memo``: a dict shared by calls over legs in common (a position's alternatives, most
    of which keep a group as held), where each group's floor is kept by its members
    (type, strike, quantity, multiplier): a group's floor is a function of those alone.
    """
    qs = [g.quantity for g in legs] if quantities is None else quantities
    groups: dict[tuple[str, date], list[tuple]] = {}
    paid = 0.0
    for g, v, q in zip(legs, values, qs, strict=True):
        m = g.multiplier
        paid += v * q * m
        groups.setdefault((g.underlying, g.expiry), []).append((g.type, g.strike, q, m))
    total = -float(paid)
    for members in groups.values():
        if memo is None:
            low = _group_floor(members)
        else:
            key = tuple(members)
            low = memo.get(key)
            if low is None:
                low = memo[key] = _group_floor(members)
        if low == -math.inf:
            return -math.inf
        total += low
    return total


def _group_floor(members: list[tuple]) -> float:
    """A group's lowest payoff at expiry (its legs' type, strike, quantity, multiplier):
    −inf when it is net short calls, else its payoff's minimum over 0 and its strikes."""
    slope_up = 0.0
    for kind, _, q, m in members:
        if kind in ("call", "future"):
            slope_up += q * m
    if slope_up < 0:
        return -math.inf
    levels = {0.0, *(k for _, k, _, _ in members if k is not None)}
    return min(_payoff(members, s) for s in levels)


def _payoff(members, level: float) -> float:
    """The payoff at ``level`` of a group's legs (type, strike, quantity, multiplier)."""
    out = 0.0
    for kind, k, q, m in members:
        if kind == "call":
            v = max(level - k, 0.0)
        elif kind == "put":
            v = max(k - level, 0.0)
        else:
            v = level
        out += v * q * m
    return out
