"""Layers 1 and 2: VIX call spreads chosen to cut the position's CVaR, per dollar.

Candidates are listed (integer) strikes of VIX call spreads up to
``hedge_max_width`` wide on the VIX expiries just before and just after the
condor's expiry. Each is bought at its assumed fill (the natural price when
both legs are quoted, else the model price plus the assumed half-spread per
leg) with a fee per contract, and revalued in full in every scenario. The
counts across candidates minimise CVaR of the position's P&L with the hedges
(their cost included) plus ``hedge_min_cvar_per_dollar`` × spend, within what
the layer may spend (:mod:`alvh_cli.method.hedge_milp`): Layer 1 up to
``layer1_budget_share`` of the hedge budget, Layer 2 the rest. The old
stress point (SPX to the tested short strike) is a ladder rung, and each
spread's net gain there is shown beside it for continuity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from alvh_cli.method import hedge_milp
from alvh_cli.method.risk import Costs, Evaluator, fill
from alvh_cli.method.scenarios import RiskFigures, cvar
from alvh_cli.model.domain import VIX_OPTION_MULTIPLIER, Leg, Position
from alvh_cli.model.expirations import vix_expirations
from alvh_cli.model.legs import value_legs

MIN_DEBIT = 0.05  # points: VIX options trade in nickels below $3; cheaper spreads are not fillable
SHOWN = 8  # candidates kept for display


@dataclass(frozen=True)
class Spread:
    """One candidate VIX call spread. ``debit`` per spread in points at the assumed fill;
    ``cost`` dollars per spread (debit and fees); ``pnl`` dollars per spread in each
    scenario, net of ``cost``; ``stress_gain`` that P&L at the old stress point."""

    expiry: date
    long_strike: float
    short_strike: float
    debit: float
    model_debit: float
    price_source: str  # "natural" | "model"
    cost: float
    pnl: np.ndarray
    stress_gain: float

    @property
    def name(self) -> str:
        return f"{self.long_strike:g}/{self.short_strike:g} C {self.expiry}"


@dataclass(frozen=True)
class HedgePlan:
    """The working behind a Layer 1/2 decision (dollars unless said).

    ``chosen`` pairs each spread bought with its count; ``shown`` the best
    candidates alone, each with the CVaR change per dollar it would give if
    the layer's limit went to it alone (``alone``: (count, CVaR change per $)).
    """

    layer: int
    budget: float
    spent: float
    limit: float
    expiries: tuple[date, ...]
    shown: tuple[tuple[Spread, int, float], ...]
    chosen: tuple[tuple[Spread, int], ...]
    spend: float
    before: RiskFigures
    after: RiskFigures
    stress_loss: float  # the position's loss at the old stress point, > 0 a loss
    budget_limited: bool
    note: str
    n_candidates: int
    ladder_after: tuple[float, ...] = ()  # the position's P&L per ladder rung with the hedges


def hedge_spent(position: Position) -> float:
    """Dollars already spent on VIX hedge layers: the net entry debit of every VIX layer leg.

    Layer 3 legs are SPX synthetics or verticals, not hedge premium; counting
    them would let a reversal taken for a credit refill the budget.
    """
    return float(
        sum(
            g.entry_price * g.quantity * g.multiplier
            for g in position.hedges
            if g.underlying == "VIX"
        )
    )


def hedge_budget(position: Position, hedge_budget_share: float) -> float:
    """All VIX hedge debits may not exceed this share of the opening credit, in dollars."""
    return hedge_budget_share * position.credit * position.units * 100.0


def candidate_expiries(market, condor_expiry: date, horizon_end: date) -> tuple[date, ...]:
    """The VIX expiries just before and just after the condor's expiry, among those with a
    listed (or interpolable) future; the one before only when it settles after the horizon."""
    listed = sorted(f.expiry for f in market.vix_futures)
    if not listed:
        return ()
    near = vix_expirations(condor_expiry - timedelta(days=40), condor_expiry + timedelta(days=40))
    before = [e for e in near if e < condor_expiry and e > horizon_end]
    after = [e for e in near if e >= condor_expiry]
    out = []
    if before:
        out.append(before[-1])
    if after:
        out.append(after[0])
    return tuple(e for e in out if listed[0] <= e <= listed[-1])


def candidates(
    ev: Evaluator, expiries: tuple[date, ...], costs: Costs, stress_col: int | None
) -> list[Spread]:
    """Every listed-strike call spread up to ``hedge_max_width`` wide on ``expiries``."""
    from alvh_cli.model.vix_curve import future_prices

    market, rules = ev.market, ev.rules
    out: list[Spread] = []
    width = int(rules.hedge_max_width)
    for expiry, f in zip(expiries, future_prices(market, expiries), strict=True):
        lo = max(1, math.floor(min(f, market.vix) * 0.8))
        hi = math.ceil(max(2.0 * f, f + 2 * width))
        strikes = np.arange(lo, hi + 1, dtype=float)
        legs = [Leg("VIX", "VIX", "call", float(k), expiry, 1, 0.0) for k in strikes]
        today = value_legs(market, legs)
        later = ev.prices(legs, today)  # (strikes, scenarios)
        n = len(strikes)
        i, w = np.meshgrid(np.arange(n), np.arange(1, width + 1), indexing="ij")
        i, j = i.ravel(), (i + w).ravel()
        keep = j < n
        i, j = i[keep], j[keep]
        model = today.price[i] - today.price[j]
        keep = model >= MIN_DEBIT
        # each strike's fill to buy one and to sell one, priced once for all its pairs
        priced = list(zip(legs, today.price.tolist(), strict=True))
        buys = [fill(market, g, 1, p, costs) for g, p in priced]
        sells = [fill(market, g, -1, p, costs) for g, p in priced]
        for a, b in zip(i[keep], j[keep], strict=True):
            buy, q1 = buys[a]
            sell, q2 = sells[b]
            debit = buy - sell
            cost = debit * VIX_OPTION_MULTIPLIER + 2 * costs.fee
            pnl = (later[a] - later[b]) * VIX_OPTION_MULTIPLIER - cost
            out.append(
                Spread(
                    expiry,
                    float(strikes[a]),
                    float(strikes[b]),
                    float(debit),
                    float(today.price[a] - today.price[b]),
                    "natural" if q1 and q2 else "model",
                    float(cost),
                    pnl,
                    float(pnl[stress_col]) if stress_col is not None else math.nan,
                )
            )
    return out


def plan(
    ev: Evaluator,
    position: Position,
    position_pnl: np.ndarray,
    position_figures: RiskFigures,
    today_value: float,
    layer: int,
    expiries: tuple[date, ...],
    stress_col: int | None,
    *,
    integral: bool = True,
) -> HedgePlan:
    """Choose Layer ``layer``'s spreads for ``position`` (its P&L per scenario given)."""
    rules = ev.rules
    costs = Costs.from_rules(rules)
    budget = hedge_budget(position, rules.hedge_budget)
    spent = hedge_spent(position)
    cap = budget * (rules.layer1_budget_share if layer == 1 else 1.0)
    limit = max(cap - spent, 0.0)
    stress_loss = -float(position_pnl[stress_col]) if stress_col is not None else math.nan
    cands = candidates(ev, expiries, costs, stress_col)
    level = rules.cvar_level
    hist = ev.scenarios.historical
    empty = HedgePlan(
        layer, budget, spent, limit, expiries, (), (), 0.0, position_figures, position_figures,
        stress_loss, False, "", len(cands),
    )  # fmt: skip
    if not expiries:
        return _with_note(empty, "no VIX future listed around the condor's expiry")
    if not cands:
        return _with_note(empty, "no VIX call spread of at least 0.05 on those expiries")
    if limit < min(c.cost for c in cands):
        return _with_note(
            empty,
            f"layer {layer} may spend ${cap:,.0f} of the ${budget:,.0f} hedge budget and "
            f"${spent:,.0f} is spent: nothing fits",
        )
    g = np.array([c.pnl for c in cands])
    cost = np.array([c.cost for c in cands])
    p = position_pnl
    alloc = hedge_milp.choose(
        p[hist], g[:, hist], cost, limit, level, rules.hedge_min_cvar_per_dollar, integral=integral
    )
    shown = _alone(p[hist], g[:, hist], cost, limit, level, cands)
    chosen = tuple(
        (cands[k], int(n) if integral else float(n)) for k, n in enumerate(alloc.counts) if n > 1e-9
    )
    if not chosen:
        best = shown[0] if shown else None
        why = (
            f"no VIX call spread cuts the {level:.0%} CVaR by ${rules.hedge_min_cvar_per_dollar:g}"
            f" or more per $1 spent"
        )
        if best is not None:
            why += f" (best alone: {best[0].name}, ${best[2]:+.2f} per $1)"
        return _with_note(
            HedgePlan(
                layer,
                budget,
                spent,
                limit,
                expiries,
                shown,
                (),
                0.0,
                position_figures,
                position_figures,
                stress_loss,
                False,
                "",
                len(cands),
            ),  # fmt: skip
            why,
        )
    hedged = p + alloc.counts @ g
    new_legs = [
        leg
        for c, n in chosen
        for leg in (
            Leg("VIX", "VIX", "call", c.long_strike, c.expiry, n, 0.0),
            Leg("VIX", "VIX", "call", c.short_strike, c.expiry, -n, 0.0),
        )
    ]
    new_today = value_legs(ev.market, new_legs).price if new_legs else np.empty(0)
    spend = float(alloc.spend)
    after = ev.figures(
        hedged,
        [*position.legs, *new_legs],
        [*today_value, *new_today],
        spend - float(new_today @ [g_.quantity * g_.multiplier for g_ in new_legs]),
    )
    limited = _budget_binds(p[hist], g[:, hist], cost, alloc.counts, limit, level, rules)
    note = ""
    if limited:
        note = (
            f"budget-limited: layer {layer} may spend ${cap:,.0f} of the ${budget:,.0f} hedge "
            f"budget (${spent:,.0f} spent before)"
        )
    return HedgePlan(
        layer, budget, spent, limit, expiries, shown, chosen, spend, position_figures, after,
        stress_loss, limited, note, len(cands),
        tuple(float(x) for x in hedged[ev.scenarios.ladder]),
    )  # fmt: skip


def _with_note(p: HedgePlan, note: str) -> HedgePlan:
    from dataclasses import replace

    return replace(p, note=note)


def _alone(p, g, cost, limit, level, cands) -> tuple[tuple[Spread, int, float], ...]:
    """The best candidates each bought alone with the whole limit: (spread, count, CVaR change
    per $ spent), best first."""
    counts = np.floor(limit / cost + 1e-9)
    base = cvar(p, level)
    k = max(1, math.ceil(level * len(p)))
    tail = np.argsort(p)[:k]
    score = g[:, tail].mean(axis=1) / cost
    order = np.argsort(-score, kind="stable")[: 4 * SHOWN]
    rows = []
    for idx in order:
        n = int(counts[idx])
        if n <= 0:
            continue
        per = (cvar(p + n * g[idx], level) - base) / (n * cost[idx])
        rows.append((cands[idx], n, float(per)))
    rows.sort(key=lambda r: -r[2])
    return tuple(rows[:SHOWN])


def _budget_binds(p, g, cost, counts, limit, level, rules) -> bool:
    """True when one more spread of some candidate would lower CVaR + λ·spend further: the
    allocation is optimal within the limit, so only the limit stops it."""
    lam = rules.hedge_min_cvar_per_dollar
    now = -cvar(p + counts @ g, level) + lam * float(counts @ cost)
    k = max(1, math.ceil(level * len(p)))
    tail = np.argsort(p + counts @ g)[: 4 * k]
    score = g[:, tail].mean(axis=1) / cost
    for idx in np.argsort(-score)[:SHOWN]:
        more = counts.copy()
        more[idx] += 1
        if float(more @ cost) <= limit + 1e-9:
            continue
        if -cvar(p + more @ g, level) + lam * float(more @ cost) < now - 1e-9:
            return True
    return False
