"""VIX call spread selection and sizing for Layers 1 and 2.

Candidates are integer-strike VIX call spreads on one VIX expiry (the first at
or after the condor's expiry unless chosen), up to ``hedge_max_width`` wide.
Each is priced today (the natural price — pay the ask, receive the bid — when
both legs are quoted, else the model) and revalued in full in the stress
scenario. The best stress gain per dollar of debit wins (among near-equals,
the one needing fewest contracts); the count covers the layer's share of the
condor's stress loss, counting the gain of hedges already on, and never
spends past the hedge budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from alvh_cli.method.rules import Rules
from alvh_cli.method.stress import Scenario, revalue
from alvh_cli.model.domain import VIX_OPTION_MULTIPLIER, Leg
from alvh_cli.model.expirations import next_vix_expiration
from alvh_cli.model.legs import value_legs
from alvh_cli.model.quotes import natural_price
from alvh_cli.model.vix_curve import future_price

SHOWN = 5  # candidates kept in the result (size-hedge shows them)
MIN_DEBIT = 0.05  # points: VIX options trade in nickels below $3; cheaper spreads are not fillable


@dataclass(frozen=True)
class Candidate:
    """One VIX call spread: debit and stressed value in points, gain in dollars per spread."""

    expiry: date
    long_strike: float
    short_strike: float
    debit: float
    debit_source: str  # "natural" | "model"
    stressed_value: float
    gain: float  # (stressed value − debit) × 100
    count_needed: int

    @property
    def gain_per_dollar(self) -> float:
        return self.gain / (self.debit * VIX_OPTION_MULTIPLIER)


@dataclass(frozen=True)
class HedgeSizing:
    """The working behind one hedge recommendation (all money in dollars)."""

    layer: int
    coverage_target: float
    stress_loss: float  # condor's loss in the stress, > 0 when it loses
    existing_gain: float  # layers already on, in the stress
    needed_gain: float
    vix_expiry: date
    future: float
    future_stressed: float
    candidates: tuple[Candidate, ...]  # the best ``SHOWN``, best first
    choice: Candidate | None
    quantity: int
    cost: float
    stress_gain: float  # of the new spreads
    coverage: float  # cumulative, after the new spreads
    budget: float
    budget_spent: float
    budget_limited: bool
    note: str


def hedge_spent(position) -> float:
    """Dollars already spent on VIX hedge layers: the net entry debit of every VIX layer leg.

    Layer 3 conversion legs are SPX synthetics traded near parity, not hedge premium;
    counting them would let a reversal taken for a credit refill the budget.
    """
    return float(
        sum(
            g.entry_price * g.quantity * g.multiplier
            for g in position.hedges
            if g.underlying == "VIX"
        )
    )


def hedge_budget(position, rules: Rules) -> float:
    return rules.hedge_budget * position.credit * position.units * 100.0


def candidate_spreads(pv, scenario: Scenario, rules: Rules, expiry: date) -> list[Candidate]:
    """Every integer-strike call spread up to ``hedge_max_width`` wide around the future."""
    market = pv.loaded.market
    f0 = future_price(market, expiry)
    f1 = future_price(scenario.market, expiry)
    lo = max(1, math.floor(min(f0, market.vix) * 0.8))
    hi = math.ceil(max(f0, f1) * 1.2)
    strikes = np.arange(lo, hi + rules.hedge_max_width + 1, dtype=float)
    legs = [
        Leg("VIX", "VIX", "call", float(k), expiry, 1, 0.0, key=f"candidate {k:g}C")
        for k in strikes
    ]
    base = value_legs(market, legs)
    stressed = revalue(base, legs, scenario)
    ask = _natural(market, strikes, expiry, "buy")
    bid = _natural(market, strikes, expiry, "sell")
    # every (long i, short i + w) pair at once: natural where both legs are quoted
    n, widths = len(strikes), np.arange(1, rules.hedge_max_width + 1)
    i, w = np.meshgrid(np.arange(n), widths, indexing="ij")
    i, j = i.ravel(), (i + w).ravel()
    inside = j < n
    i, j = i[inside], j[inside]
    natural = np.isfinite(ask[i]) & np.isfinite(bid[j])
    debit = np.where(natural, ask[i] - bid[j], base.price[i] - base.price[j])
    value_s = stressed.price[i] - stressed.price[j]
    gain = (value_s - debit) * VIX_OPTION_MULTIPLIER
    keep = (debit >= MIN_DEBIT) & (gain > 0)
    out = [
        Candidate(
            expiry,
            float(strikes[a]),
            float(strikes[b]),
            round(float(d), 4),
            "natural" if nat else "model",
            float(v),
            float(g),
            0,
        )
        for a, b, d, nat, v, g in zip(
            i[keep], j[keep], debit[keep], natural[keep], value_s[keep], gain[keep], strict=True
        )
    ]
    return rank(out, rules.hedge_ratio_tolerance)


def _natural(market, strikes, expiry: date, side: str) -> np.ndarray:
    """Ask (buy) or bid (sell) per VIX call strike; NaN where unquoted (a 0 bid is a bid)."""
    prices = (natural_price(market, "VIX", "call", float(k), expiry, side) for k in strikes)
    return np.array([np.nan if p is None else p for p in prices], dtype=float)


def rank(cands: list[Candidate], tolerance: float) -> list[Candidate]:
    """Best first: within ``tolerance`` of the best stress gain per dollar, the spread with
    the largest gain per contract (fewest tickets and commissions) wins; the rest follow
    by gain per dollar. Ratios are nearly flat across strikes, and without this a
    five-cent spread bought by the hundred would win by a hair."""
    if not cands:
        return []
    cands = sorted(cands, key=lambda c: (-c.gain_per_dollar, c.debit, c.long_strike))
    floor = cands[0].gain_per_dollar * (1.0 - tolerance)
    near = sorted(
        (c for c in cands if c.gain_per_dollar >= floor),
        key=lambda c: (-c.gain, c.debit, c.long_strike),
    )
    return near + [c for c in cands if c.gain_per_dollar < floor]


def size(
    pv,
    scenario: Scenario,
    rules: Rules,
    layer: int,
    coverage_target: float,
    vix_expiry: date | None = None,
    condor_loss: float | None = None,
    existing_gain: float | None = None,
) -> HedgeSizing:
    """Size ``layer``'s VIX call spreads to reach ``coverage_target`` of the stress loss."""
    position = pv.position
    market = pv.loaded.market
    expiry = vix_expiry or next_vix_expiration(position.expiry)
    if condor_loss is None or existing_gain is None:
        condor_loss, existing_gain = stress_pnl(pv, scenario)
    budget = hedge_budget(position, rules)
    spent = hedge_spent(position)
    needed = coverage_target * condor_loss - existing_gain
    cands = candidate_spreads(pv, scenario, rules, expiry)
    f0, f1 = future_price(market, expiry), future_price(scenario.market, expiry)
    choice, qty, note, limited = None, 0, "", False
    left = max(budget - spent, 0.0)
    if condor_loss <= 0:
        note = (
            f"the condor gains ${-condor_loss:,.0f} in this stress "
            f"(SPX {scenario.spx_move:+.1%}); nothing to hedge"
        )
    elif needed <= 0:
        note = f"hedges on already cover {existing_gain / condor_loss:.0%} of the stress loss"
    elif not cands:
        note = "no VIX call spread on this expiry gains in the stress"
    elif all(c.gain_per_dollar < rules.hedge_min_gain_per_dollar for c in cands):
        best = max(c.gain_per_dollar for c in cands)
        note = (
            f"no worthwhile VIX call spread: the best gains ${best:.2f} per $1 of debit in "
            f"this stress ({scenario.spx_move:+.1%} SPX), under hedge_min_gain_per_dollar "
            f"{rules.hedge_min_gain_per_dollar:g}; size it against a larger move with "
            "`alvh size-hedge --spx-move -0.05`"
        )
    else:
        worthwhile = [c for c in cands if c.gain_per_dollar >= rules.hedge_min_gain_per_dollar]
        choice, qty = pick_within_budget(worthwhile, left, rules.hedge_ratio_tolerance, needed)
        if choice is not None:
            choice = replace(choice, count_needed=count_for(choice, needed))
        if choice is None:
            note = f"no spread fits the ${left:,.0f} of hedge budget left"
        elif qty < choice.count_needed:
            limited = True
            note = f"budget-limited: {qty} of {choice.count_needed} spreads fit ${left:,.0f} left"
    gain = qty * choice.gain if choice else 0.0
    cost = qty * choice.debit * VIX_OPTION_MULTIPLIER if choice else 0.0
    coverage = (existing_gain + gain) / condor_loss if condor_loss > 0 else float("nan")
    return HedgeSizing(
        layer,
        coverage_target,
        condor_loss,
        existing_gain,
        max(needed, 0.0),
        expiry,
        f0,
        f1,
        tuple(replace(c, count_needed=count_for(c, needed)) for c in cands[:SHOWN]),
        choice,
        qty,
        cost,
        gain,
        coverage,
        budget,
        spent,
        limited,
        note,
    )


def count_for(c: Candidate, needed: float) -> int:
    """Spreads of ``c`` whose stress gain covers ``needed`` dollars."""
    return max(math.ceil(needed / c.gain - 1e-9), 0)


def pick_within_budget(
    cands: list[Candidate], left: float, tolerance: float = 0.0, needed: float | None = None
) -> tuple[Candidate | None, int]:
    """The ranked-first spread whose needed count fits ``left`` dollars. When none fits in
    full, the budget buys what fits: among the spreads whose affordable count gains within
    ``tolerance`` of the most, the one with the largest gain per contract (fewest tickets)."""
    fitted = []
    for c in cands:
        affordable = math.floor(left / (c.debit * VIX_OPTION_MULTIPLIER) + 1e-9)
        want = c.count_needed if needed is None else count_for(c, needed)
        qty = min(want, affordable)
        if qty == want and qty > 0:
            return c, qty
        if qty > 0:
            fitted.append((qty * c.gain, qty, c))
    if not fitted:
        return None, 0
    most = max(total for total, _, _ in fitted)
    near = [
        (c.gain, -i, qty, c)
        for i, (total, qty, c) in enumerate(fitted)
        if total >= most * (1.0 - tolerance)
    ]
    _, _, qty, c = max(near, key=lambda t: (t[0], t[1]))
    return c, qty


def stress_pnl(pv, scenario: Scenario) -> tuple[float, float]:
    """(condor loss, hedge gain) in dollars under the scenario, by full revaluation."""
    stressed = revalue(pv.values, pv.legs, scenario)
    change = (stressed.price - pv.values.price) * pv.values.quantity * pv.values.multiplier
    condor = pv.is_condor
    return float(-change[condor].sum()), float(change[~condor].sum())


def size_hedge_report(
    loaded, *, position=None, layer=None, coverage=None, spx_move=None, vix_expiry=None
) -> dict:
    """Data for ``alvh size-hedge``: the scenario, the loss, the candidates and the choice."""
    from alvh_cli.errors import InputError
    from alvh_cli.method import stress
    from alvh_cli.method.check import layer_targets
    from alvh_cli.model.expirations import vix_expiration
    from alvh_cli.model.valuation import value_book

    if coverage is not None and not 0 < coverage <= 2:
        raise InputError(f"must be a share above 0 and at most 2, got {coverage:g}", "--coverage")
    if spx_move is not None and not (-0.9 <= spx_move <= 0.9 and spx_move != 0):
        raise InputError(
            f"must be a non-zero fraction between -0.9 and 0.9 (e.g. -0.05), got {spx_move:g}",
            "--spx-move",
        )
    if vix_expiry is not None and vix_expiry != vix_expiration(vix_expiry.year, vix_expiry.month):
        listed = vix_expiration(vix_expiry.year, vix_expiry.month)
        raise InputError(
            f"{vix_expiry} is not a VIX expiration (the {vix_expiry:%B %Y} one is {listed})",
            "--vix-expiry",
        )
    if vix_expiry is not None:
        for lf in loaded:
            if vix_expiry <= lf.market.asof.date():
                raise InputError(
                    f"{vix_expiry} is not after asof {lf.market.asof.date()}", "--vix-expiry"
                )
    values = value_book(loaded)
    if position is not None:
        ids = ", ".join(pv.position.id for pv in values)
        values = [pv for pv in values if pv.position.id == position]
        if not values:
            raise InputError(f"no position '{position}' (positions: {ids})", "--position")
    out = []
    for pv in values:
        rules = pv.loaded.rules
        side = stress.tested_side(pv.position, pv.loaded.market.spx)
        sc = stress.build(pv.position, pv.loaded.market, rules, side, spx_move)
        n = layer or (2 if pv.mark_multiple >= rules.layer2_multiple else 1)
        target = coverage if coverage is not None else layer_targets(rules)[n]
        sizing = size(pv, sc, rules, n, target, vix_expiry)
        if side == "call" and sc.spx_stressed > sc.spx:
            sizing = replace(
                sizing,
                choice=None,
                quantity=0,
                cost=0.0,
                stress_gain=0.0,
                note="call side tested: VIX falls as SPX rallies, so VIX call spreads do not "
                "hedge it; once a layer is due, `alvh check` proposes a reversal (delta "
                "adjustment) instead",
            )
        out.append({"position": pv, "side": side, "scenario": sc, "sizing": sizing})
    return {"items": out}
