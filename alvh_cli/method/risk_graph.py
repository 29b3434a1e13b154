"""Risk graphs: a position's P&L against SPX at a date, as held and with the day's change.

The P&L of each leg is its value at the date less its entry price, × signed
quantity × multiplier, in dollars: ``Σ (V(S, t) − entry)·q·m``. The change is
every order the check recommends for the position that day (its typed
:class:`~alvh_cli.method.actions.TradeLeg` s), applied as new legs whose entry is
the assumed fill (the natural bid/ask where quoted, else the model ± the
half-spread); closing a leg is the opposite quantity at its fill, so the held leg
and its close add up to the P&L realised. The change also pays
``fee_per_contract`` per contract traded.

Revaluation is the scenario engine's (:func:`alvh_cli.method.scenarios.revalue`),
each SPX level a scenario at the date:

* SPX options on the level with their time to settlement shortened to the date,
  the smile kept in moneyness against the new forward (sticky moneyness), its ATM
  level moved by (VIX_s − VIX)/100, each leg keeping its own vol's spread over the
  smile;
* VIX is **moved with SPX by the scenario model's beta**, not held: VIX_s =
  VIX·(S_s/S)^``vix_beta``, at least the level VIX reached in real crash weeks of
  that size and within the record low and high closes
  (:func:`~alvh_cli.method.scenarios.ladder_vix`); VIX futures follow the
  one-factor curve to the date, VIX options are priced by Black-76 on them with
  the VIX smile, its ATM vol moved with VIX (``vix_vol_power``). So a VIX hedge
  shows what it is for: it gains where SPX falls.

A leg that settles by the date is worth its payoff at that level (a VIX leg at
the VIX that level implies). "At expiry" is the condor's settlement instant: a
leg that settles later (a hedge on a later VIX expiry, a rolled vertical) still
has time value there. Nothing here reads a file or knows a command-line option
beyond the names the messages give.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import numpy as np

from alvh_cli.errors import InputError
from alvh_cli.method.actions import Action, Recommendation
from alvh_cli.method.scenarios import ScenarioSet, ladder_vix, revalue
from alvh_cli.model.domain import Leg, Market
from alvh_cli.model.exchange import is_business_day
from alvh_cli.model.legs import value_legs
from alvh_cli.model.timing import (
    NEW_YORK,
    aware,
    new_york_date,
    settlement_instant,
    year_fraction,
)

POINTS = 241
"""SPX levels on the grid (the strikes and today's spot are added to them)."""


@dataclass(frozen=True)
class Curve:
    """P&L in dollars at each SPX level of the graph, at ``when``: ``held`` as the
    position is, ``changed`` with the day's change applied (None when it holds)."""

    label: str  # "today", "2026-12-04", "expiry 2026-12-18"
    when: datetime
    held: np.ndarray
    changed: np.ndarray | None


@dataclass(frozen=True)
class RiskGraph:
    """One position's risk graph: P&L (dollars, from entry prices) against SPX.

    ``spx`` the levels (index points), ``vix`` the VIX each implies; ``curves``
    today (T+0), at a date, at the condor's expiry. ``breakevens`` are the SPX
    levels where the expiry curve crosses zero (``breakevens_changed`` with the
    change). ``change`` the recommendations applied (empty: it holds), ``fees``
    the dollars of fees they pay (in the changed curves).
    """

    position_id: str
    source: str
    spot: float
    vix0: float
    vix_beta: float
    spx: np.ndarray
    vix: np.ndarray
    curves: tuple[Curve, ...]
    shorts: tuple[tuple[str, float], ...]  # ("short put", 5500.0), ("short call", 6200.0)
    breakevens: tuple[float, ...]
    breakevens_changed: tuple[float, ...] | None
    change: tuple[Recommendation, ...]
    fees: float


def spx_grid(legs: Sequence[Leg], spot: float, points: int = POINTS) -> np.ndarray:
    """SPX levels from 8% below the lowest of spot and the SPX strikes to 5% above the
    highest, evenly spaced, with every SPX strike and ``spot`` on the grid (a payoff's
    kinks fall on grid points)."""
    strikes = [g.strike for g in legs if g.underlying == "SPX" and g.strike is not None]
    low = min([spot, *strikes]) * 0.92
    high = max([spot, *strikes]) * 1.05
    return np.unique(np.concatenate([np.linspace(low, high, points), strikes, [spot]]))


def pnl_at(
    legs: Sequence[Leg],
    market: Market,
    levels: np.ndarray,
    when: datetime,
    *,
    vix_beta: float,
    kappa: float,
    vix_vol_power: float,
    atm_per_vix: float = 1.0,
) -> np.ndarray:
    """Dollar P&L of ``legs`` from their entry prices at each SPX level, at ``when``:
    ``Σ (V(S, when) − entry_price)·quantity·multiplier`` (see the module docstring)."""
    levels = np.asarray(levels, dtype=float)
    if not legs:
        return np.zeros(len(levels))
    base = value_legs(market, legs)
    horizon = max(year_fraction(market.asof, when), 0.0)
    vix = ladder_vix(market.vix, levels / market.spx - 1.0, vix_beta)
    grid = ScenarioSet(market.spx, market.vix, 0, horizon, levels, vix, len(levels), (), "grid")
    prices = revalue(legs, base, market, grid, kappa, vix_vol_power, atm_per_vix)
    entry = np.array([g.entry_price for g in legs], dtype=float)
    scale = np.array([g.quantity * g.multiplier for g in legs], dtype=float)
    return ((prices - entry[:, None]) * scale[:, None]).sum(axis=0)


def breakevens(levels: np.ndarray, pnl: np.ndarray) -> tuple[float, ...]:
    """The levels where ``pnl`` crosses zero, linear between grid points (a level where
    it is exactly zero counts once; a flat stretch at zero gives its two ends)."""
    x, y = np.asarray(levels, dtype=float), np.asarray(pnl, dtype=float)
    out: list[float] = []
    for i in range(len(x) - 1):
        a, b = y[i], y[i + 1]
        if a == 0.0 and (i == 0 or y[i - 1] != 0.0):
            out.append(float(x[i]))
        elif a * b < 0:
            out.append(float(x[i] - a * (x[i + 1] - x[i]) / (b - a)))
    if len(y) and y[-1] == 0.0 and (len(y) == 1 or y[-2] != 0.0):
        out.append(float(x[-1]))
    return tuple(out)


def default_date(asof: datetime, expiry: date) -> date:
    """Halfway in calendar days from ``asof`` to ``expiry``, moved back to a trading day
    (never before the day after ``asof``)."""
    start = new_york_date(asof)
    day = start + timedelta(days=max((expiry - start).days // 2, 1))
    while not is_business_day(day) and day > start + timedelta(days=1):
        day -= timedelta(days=1)
    return min(day, expiry)


def date_instant(asof: datetime, day: date) -> datetime:
    """``day`` at ``asof``'s New York wall-clock time."""
    local = aware(asof).astimezone(NEW_YORK)
    return datetime.combine(day, local.timetz())


def changed_legs(
    legs: Sequence[Leg], recommendations: Sequence[Recommendation]
) -> tuple[list[Leg], int]:
    """``legs`` with the trades of every recommendation that is not a hold appended as legs
    entered at their fills; and the contracts traded."""
    out = list(legs)
    contracts = 0
    for r in recommendations:
        if r.action == Action.HOLD:
            continue
        for t in r.trades:
            out.append(replace(t.leg, quantity=t.quantity, entry_price=t.price))
            contracts += abs(t.quantity)
    return out, contracts


def risk_graph(
    pv, recommendations: Sequence[Recommendation], day: date | None = None, points: int = POINTS
) -> RiskGraph:
    """The risk graph of one valued position (``model.valuation.PositionValues``) with the
    day's ``recommendations`` (``method.check.PositionCheck.recommendations``); ``day``
    the middle curve's date (default :func:`default_date`)."""
    p, market, rules = pv.position, pv.market, pv.rules
    legs = list(pv.legs)
    # "at expiry" is the first SPX expiry held (the sides may expire apart after a roll)
    first = min(p.spx_legs or legs, key=lambda g: settlement_instant(g.root, g.expiry))
    expiry_at = settlement_instant(first.root, first.expiry)
    day = day or default_date(market.asof, first.expiry)
    moments = [
        ("today", market.asof),
        (day.isoformat(), min(date_instant(market.asof, day), expiry_at)),
        (f"expiry {first.expiry.isoformat()}", expiry_at),
    ]
    applied = tuple(r for r in recommendations if r.action != Action.HOLD and r.trades)
    changed, contracts = changed_legs(legs, applied)
    fees = rules.fee_per_contract * contracts
    levels = spx_grid(changed, market.spx, points)
    kw = {
        "vix_beta": rules.vix_beta,
        "kappa": rules.vix_term_kappa,
        "vix_vol_power": rules.vix_vol_power,
        "atm_per_vix": rules.spx_atm_per_vix,
    }
    curves = []
    for label, when in moments:
        held = pnl_at(legs, market, levels, when, **kw)
        after = pnl_at(changed, market, levels, when, **kw) - fees if applied else None
        curves.append(Curve(label, when, held, after))
    last = curves[-1]
    return RiskGraph(
        p.id,
        p.source,
        market.spx,
        market.vix,
        rules.vix_beta,
        levels,
        ladder_vix(market.vix, levels / market.spx - 1.0, rules.vix_beta),
        tuple(curves),
        tuple(
            (f"short {side}", float(pair[0].strike))
            for side in ("put", "call")
            if (pair := p.vertical(side, market.spx)) is not None
        ),
        breakevens(levels, last.held),
        breakevens(levels, last.changed) if last.changed is not None else None,
        applied,
        fees,
    )


def risk_graphs(
    loaded: Sequence,
    regimes: Sequence | None = None,
    *,
    history=None,
    position: str | None = None,
    day: date | None = None,
) -> list[RiskGraph]:
    """The risk graph of every position of loaded files (or of ``position``), each with
    what ``alvh check`` recommends for it; ``day`` the middle curve's date."""
    from alvh_cli.method.check import check_values
    from alvh_cli.model.valuation import value_book

    regimes = list(regimes) if regimes is not None else [None for _ in loaded]
    per_position = [r for lf, r in zip(loaded, regimes, strict=True) for _ in lf.file.positions]
    pairs = list(zip(value_book(loaded), per_position, strict=True))
    if position is not None:
        ids = ", ".join(pv.position.id for pv, _ in pairs)
        pairs = [(pv, r) for pv, r in pairs if pv.position.id == position]
        if not pairs:
            raise InputError(f"no position '{position}' (positions: {ids})", option="position")
    for pv, _ in pairs:
        check_date(day, pv.market.asof, pv.position.expiry, pv.position.id)
    values = [pv for pv, _ in pairs]
    checked = check_values(values, [r for _, r in pairs], history=history)
    return [
        risk_graph(pv, pc.recommendations, day)
        for pv, pc in zip(values, checked.positions, strict=True)
    ]


def check_date(day: date | None, asof: datetime, expiry: date, position_id: str) -> None:
    """``day`` must fall after ``asof``'s date and on or before the condor's expiry."""
    if day is None:
        return
    today = new_york_date(asof)
    if not today < day <= expiry:
        raise InputError(
            f"{day} is not between asof {today} and the expiry {expiry} of position "
            f"'{position_id}' (a date after {today}, on or before {expiry})",
            option="day",
        )


def graphs_for(values: Sequence, checks: Sequence, day: date | None = None) -> list[RiskGraph]:
    """Risk graphs of positions already checked: ``values`` (PositionValues) and ``checks``
    (their PositionChecks, same order), as ``alvh check --plot`` draws them."""
    return [risk_graph(pv, pc.recommendations, day) for pv, pc in zip(values, checks, strict=True)]
