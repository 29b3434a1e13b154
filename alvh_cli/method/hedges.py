"""Layers 1 and 2: VIX hedges chosen by the decision rule, EV + γ·CVaR of the position.

Candidates, on the VIX expiries just before and just after the condor's expiry
(:func:`candidate_expiries`), each of which must outlast the scenario horizon by
more than ``hedge_roll_days`` (:func:`earliest_expiry`):

* VIX call spreads on listed (integer) strikes up to ``hedge_max_width`` wide,
  where the short call sells for at least the minimum tick (a leg sold for less
  is not part of a spread: the call alone is the candidate);
* VIX calls alone, on the same strikes;
* long VIX futures, VX ($1,000 a point) and VXM (the Mini, $100 a point), on the
  first of those expiries at or after the condor's, where whole contracts fit the
  budget and the position's size (below).

Each is bought at its assumed fill (the natural price when quoted, else the model
price plus the assumed half-spread per leg) with a fee per contract, and revalued
in full in every scenario. The counts across candidates maximise the trader's
objective of the position with the hedges, EV + γ·CVaR (``risk_aversion`` γ; their
costs and expected rolls are inside their scenario P&L), with its CVaR at or above
the trader's limit (``cvar_limit``, ``cvar_limit_credit``) where one is set — or, when
no hedge within the layer's spending meets that limit, the highest CVaR — within
what the layer may spend (:mod:`alvh_cli.method.hedge_milp`, exactly): Layer 1 up to
``layer1_budget_share`` of the hedge budget, Layer 2 the rest. It is the same
:class:`~alvh_cli.method.decision.Preference` that weighs holding and the Layer 3
alternatives, so a hedge is bought only where it raises that objective (with γ = 0,
only where its expected P&L is positive).

*Hedges last.* A hedge within ``hedge_roll_days`` of its expiry is rolled
(``check.roll_hedges``), so none is bought that would be due for a roll within
the scenario horizon. One on the expiry before the condor's must still be rolled
before the condor expires: its P&L carries that roll's expected cost in every
scenario — trading it twice more, out of the near expiry and into the later one,
each at about its entry friction (half-spreads and fees at today's assumed
fills) — so a later expiry wins when the roll costs more than it saves.

*Futures.* A long future costs no premium: what it charges to the budget is its
roll-down to spot while held (to the condor's expiry, on the one-factor curve
the scenarios use: (F − VIX)·ρ(hold)·multiplier, nothing in backwardation) plus
its half-spread and fee. Its scenario P&L is the future's move to the horizon
(that roll-down included) less the same friction. A future is a hedge, not a
position of its own: all futures together may gain at most what the position
loses at its worst ladder rung, there — a VX needs a position that loses $1,000
× the future's move at that rung, which is what makes a small condor a VXM
user. Futures are offered on the expiry at or after the condor's only, so none
needs a roll.

The old stress point (SPX to the tested short strike) is a ladder rung, and each
hedge's net gain there is shown beside it for continuity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from alvh_cli.method import hedge_milp
from alvh_cli.method.actions import HedgeDetail
from alvh_cli.method.decision import Preference
from alvh_cli.method.risk import Costs, Evaluator, fill
from alvh_cli.method.scenarios import (
    RiskFigures,
    cvar,
    future_move,
    horizon_instant,
    tail_weights,
)
from alvh_cli.model.contracts import tick_size
from alvh_cli.model.domain import Leg, Position, contract_multiplier
from alvh_cli.model.expirations import vix_expirations
from alvh_cli.model.legs import value_legs

MIN_DEBIT = 0.05  # points: VIX options trade in nickels below $3; cheaper spreads are not fillable
SHOWN = 8  # candidates kept for display
FUTURE_ROOTS = ("VIX", "VXM")  # a long VX (root "VIX") and a long Mini VIX future


@dataclass(frozen=True)
class Hedge:
    """One candidate VIX hedge, per unit: a call spread (``long_strike``/``short_strike``),
    a call alone (``short_strike`` None) or a long future (both None; ``root`` "VIX" for
    VX, "VXM" for the Mini).

    ``debit`` is the premium in points at the assumed fill (a future: its price there),
    ``model_debit`` at the model; ``cost`` the dollars charged to the budget (premium
    and fees; a future: roll-down and friction, module docstring); ``friction`` the
    dollars paid above the model (half-spreads and fees); ``roll_cost`` the expected
    cost of rolling it before the condor's expiry (0 when it outlasts the condor);
    ``pnl`` dollars in each scenario, net of the friction and the roll;
    ``stress_gain`` that P&L at the old stress point."""

    expiry: date
    long_strike: float | None
    short_strike: float | None
    debit: float
    model_debit: float
    price_source: str  # "natural" | "model"
    cost: float
    pnl: np.ndarray
    stress_gain: float
    friction: float = 0.0
    roll_cost: float = 0.0
    root: str = "VIX"
    move: np.ndarray | None = None  # a future: its move to the horizon, points per scenario

    @property
    def instrument(self) -> str:
        if self.long_strike is None:
            return "vix_future"
        return "vix_call" if self.short_strike is None else "vix_call_spread"

    @property
    def multiplier(self) -> float:
        """Dollars per point of one contract."""
        return contract_multiplier(
            "VIX", "future" if self.long_strike is None else "call", self.root
        )

    @property
    def name(self) -> str:
        if self.long_strike is None:
            return f"{'VXM' if self.root == 'VXM' else 'VX'} future {self.expiry}"
        if self.short_strike is None:
            return f"{self.long_strike:g} C {self.expiry}"
        return f"{self.long_strike:g}/{self.short_strike:g} C {self.expiry}"

    @property
    def key(self) -> tuple:
        return (self.expiry, self.long_strike, self.short_strike, self.root)

    def legs(self, layer: int | None = None) -> tuple[Leg, ...]:
        """One unit's legs, to open."""
        if self.long_strike is None:
            return (Leg("VIX", self.root, "future", None, self.expiry, 1, 0.0, layer=layer),)
        long = Leg("VIX", "VIX", "call", self.long_strike, self.expiry, 1, 0.0, layer=layer)
        if self.short_strike is None:
            return (long,)
        short = Leg("VIX", "VIX", "call", self.short_strike, self.expiry, -1, 0.0, layer=layer)
        return (long, short)

    def detail(self, count, stress_loss: float, coverage: float) -> HedgeDetail:
        """The order's hedge as a recommendation carries it."""
        return HedgeDetail(
            self.expiry, self.long_strike, self.short_strike, count, self.debit,
            self.price_source, self.stress_gain * count, stress_loss, coverage,
            self.instrument, self.root, self.cost * count,
        )  # fmt: skip


@dataclass(frozen=True)
class Ranked:
    """A candidate's part in the chosen program, dollars.

    ``count`` bought (0: not chosen); ``tail_gain`` what those contracts add to the CVaR
    after: count × the candidate's P&L weighted as CVaR weighs the hedged outcomes (the
    chosen rows' tail gains and the position's own tail sum to the CVaR after);
    ``ev_gain`` what they add to the EV after (count × their mean P&L; with the
    position's EV they sum to the EV after); ``margin`` the change of the program's
    objective per $ of the last contract — for a chosen one, what the objective would
    lose without it (≥ 0: else it would not be bought), for another what one more would
    add (≤ 0 where it fits: else it would be bought); ``fits`` whether one more fits the
    layer's limits (spend, the futures' size, the CVaR limit).
    """

    hedge: Hedge
    count: int | float
    tail_gain: float
    margin: float
    fits: bool
    ev_gain: float = 0.0


@dataclass(frozen=True)
class HedgePlan:
    """The working behind a Layer 1/2 decision (dollars unless said).

    ``chosen`` pairs each hedge bought with its count; ``ranked`` the candidates by
    their part in that choice (:class:`Ranked`: the chosen first, then the best of the
    rest by what one more would add). ``objective`` says what the counts maximise:
    the preference's EV + γ·CVaR within its CVaR limit, or the CVaR alone when no
    hedge within the layer's spending meets that limit (``meets`` False).
    """

    layer: int
    budget: float
    spent: float
    limit: float
    expiries: tuple[date, ...]
    ranked: tuple[Ranked, ...]
    chosen: tuple[tuple[Hedge, int], ...]
    spend: float
    before: RiskFigures
    after: RiskFigures
    stress_loss: float  # the position's loss at the old stress point, > 0 a loss
    budget_limited: bool
    note: str
    n_candidates: int
    ladder_after: tuple[float, ...] = ()  # the position's P&L per ladder rung with the hedges
    objective: str = ""  # what the counts maximise: "EV + 0.1·CVaR, CVaR ≥ −5,000" or "CVaR"
    meets: bool = True  # the CVaR after meets the trader's limit (else none within spend does)
    book: object | None = None  # book_hedge.BookShare: this plan is a share of a book's program


def hedge_spent(position: Position) -> float:
    """Dollars already spent on VIX hedge layers: the net entry debit of every VIX layer
    option, and for a VIX future its basis to spot at entry (entry price − ``entry_vix``,
    floored at 0, × multiplier: the roll-down it pays if VIX stays put; nothing when
    ``entry_vix`` is not recorded) — a future has no premium.

    Layer 3 legs are SPX synthetics or verticals, not hedge premium; counting
    them would let a reversal taken for a credit refill the budget.
    """
    total = 0.0
    for g in position.hedges:
        if g.underlying != "VIX":
            continue
        if g.type == "future":
            basis = max(g.entry_price - g.entry_vix, 0.0) if g.entry_vix is not None else 0.0
            total += basis * g.quantity * g.multiplier
        else:
            total += g.entry_price * g.quantity * g.multiplier
    return float(total)


def hedge_budget(position: Position, hedge_budget_share: float) -> float:
    """All VIX hedge debits may not exceed this share of the opening credit, in dollars."""
    return hedge_budget_share * position.credit * position.units * 100.0


def earliest_expiry(ev: Evaluator) -> date:
    """The last day a new VIX hedge may not expire on: the scenario horizon's end plus
    ``hedge_roll_days``. A hedge expiring by then would be due for a roll (within
    ``hedge_roll_days`` of its expiry) before the horizon its P&L is judged at ends."""
    end = horizon_instant(ev.market.asof, ev.base.horizon_days).date()
    return end + timedelta(days=int(ev.rules.hedge_roll_days))


def candidate_expiries(market, condor_expiry: date, earliest: date) -> tuple[date, ...]:
    """The VIX expiries just before and just after the condor's expiry that fall after
    ``earliest`` (:func:`earliest_expiry`), among those with a listed (or interpolable)
    future."""
    listed = sorted(f.expiry for f in market.vix_futures)
    if not listed:
        return ()
    near = vix_expirations(condor_expiry - timedelta(days=40), condor_expiry + timedelta(days=70))
    before = [e for e in near if earliest < e < condor_expiry]
    after = [e for e in near if e >= condor_expiry and e > earliest]
    out = []
    if before:
        out.append(before[-1])
    if after:
        out.append(after[0])
    return tuple(e for e in out if listed[0] <= e <= listed[-1])


def candidates(
    ev: Evaluator,
    expiries: tuple[date, ...],
    costs: Costs,
    stress_col: int | None,
    position: Position | None = None,
) -> list[Hedge]:
    """Every candidate on ``expiries`` (module docstring). The condor of ``position``
    decides which expiries must be rolled and which carry futures (without one: options
    only, none rolled)."""
    from alvh_cli.model.timing import settlement_instant
    from alvh_cli.model.vix_curve import future_prices

    market = ev.market
    out: list[Hedge] = []
    for expiry, f in zip(expiries, future_prices(market, expiries), strict=True):
        rolls = position is not None and expiry < position.expiry
        out += _options(ev, expiry, float(f), costs, stress_col, rolls)
        if position is not None and expiry >= position.expiry:
            last = [g.root for g in position.spx_legs if g.expiry == position.expiry]
            settles = settlement_instant(last[0] if last else "SPXW", position.expiry)
            out += _futures(ev, expiry, costs, stress_col, settles)
    return out


def _options(ev, expiry: date, f: float, costs: Costs, stress_col, rolls: bool) -> list[Hedge]:
    """The calls alone and call spreads of one expiry (each strike's calls alone first, then
    its spreads by width), priced as arrays."""
    market, rules = ev.market, ev.rules
    width = int(rules.hedge_max_width)
    lo = max(1, math.floor(min(f, market.vix) * 0.8))
    hi = math.ceil(max(2.0 * f, f + 2 * width))
    strikes = np.arange(lo, hi + 1, dtype=float)
    legs = [Leg("VIX", "VIX", "call", float(k), expiry, 1, 0.0) for k in strikes]
    today = value_legs(market, legs)
    later = ev.prices(legs, today)  # (strikes, scenarios)
    mult = legs[0].multiplier
    # each strike's fill to buy one and to sell one, priced once for all its pairs
    priced = list(zip(legs, today.price.tolist(), strict=True))
    buy, bq = map(np.array, zip(*(fill(market, g, 1, p, costs) for g, p in priced), strict=True))
    sell, sq = map(np.array, zip(*(fill(market, g, -1, p, costs) for g, p in priced), strict=True))
    n = len(strikes)
    # pairs (a, b): b = -1 for the call alone, else a short call 1..width strikes above
    a, w = np.meshgrid(np.arange(n), np.arange(width + 1), indexing="ij")
    a, b = a.ravel(), np.where(w.ravel() == 0, -1, (a + w).ravel())
    keep = b < n
    a, b = a[keep], b[keep]
    alone = b < 0
    short = np.where(alone, 0, b)
    model = today.price[a] - np.where(alone, 0.0, today.price[short])
    sold = np.where(alone, 0.0, sell[short])
    prices, at = np.unique(sold, return_inverse=True)  # a strike's sell fill, once each
    ticks = np.array([tick_size("VIX", x) for x in prices])[at]
    # a spread only where its short call sells for at least a tick
    keep = (model >= MIN_DEBIT) & (alone | (sold >= ticks - 1e-12))
    a, b, alone, short, model, sold = (
        a[keep],
        b[keep],
        alone[keep],
        short[keep],
        model[keep],
        sold[keep],
    )
    debit = buy[a] - sold
    fees = np.where(alone, 1.0, 2.0) * costs.fee
    cost = debit * mult + fees
    friction = (debit - model) * mult + fees
    roll = 2.0 * friction if rolls else np.zeros(len(a))  # out of this expiry, into the later one
    move = later[a] - np.where(alone[:, None], 0.0, later[short])
    pnl = move * mult - (cost + roll)[:, None]
    natural = bq[a] & np.where(alone, True, sq[short])
    return [
        Hedge(
            expiry,
            float(strikes[a[k]]),
            None if alone[k] else float(strikes[b[k]]),
            float(debit[k]),
            float(model[k]),
            "natural" if natural[k] else "model",
            float(cost[k]),
            pnl[k],
            float(pnl[k, stress_col]) if stress_col is not None else math.nan,
            float(friction[k]),
            float(roll[k]),
        )  # fmt: skip
        for k in range(len(a))
    ]


def _futures(ev, expiry: date, costs: Costs, stress_col, condor_settles) -> list[Hedge]:
    """A long VX and a long VXM on ``expiry`` (at or after the condor's: no roll), held
    until the condor settles (``condor_settles``)."""
    from alvh_cli.model.timing import year_fraction

    market, rules = ev.market, ev.rules
    legs = [Leg("VIX", root, "future", None, expiry, 1, 0.0) for root in FUTURE_ROOTS]
    today = value_legs(market, legs)
    later = ev.prices(legs, today)
    f, tenor = float(today.price[0]), max(float(today.T[0]), 0.0)
    hold = min(max(year_fraction(market.asof, condor_settles), 0.0), tenor)
    held = future_move(
        np.array([f]), np.array([tenor]), market.vix, np.array([market.vix]), hold,
        rules.vix_term_kappa,
    )[0, 0]  # fmt: skip
    roll_down = max(f - float(held), 0.0)  # points lost to the curve if VIX stays put
    out = []
    for k, g in enumerate(legs):
        mult = g.multiplier
        price, _ = fill(market, g, 1, f, costs)
        friction = (price - f) * mult + costs.fee
        pnl = (later[k] - f) * mult - friction
        out.append(
            Hedge(
                expiry, None, None, float(price), f, "model", roll_down * mult + friction,
                pnl, float(pnl[stress_col]) if stress_col is not None else math.nan,
                float(friction), 0.0, g.root, later[k] - f,
            )
        )  # fmt: skip
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
    preference: Preference | None = None,
) -> HedgePlan:
    """Choose Layer ``layer``'s hedges for ``position`` (its P&L per scenario given) by
    ``preference`` (default: the rules' γ and CVaR limit for this position).

    Over 80 lines: the budget, the candidates that last, the program and the plan's
    figures, in the order size-hedge prints them; each step is a few lines.
    """
    rules = ev.rules
    pref = preference or Preference.for_position(rules, position)
    costs = Costs.from_rules(rules)
    budget, spent, cap, limit = spending(position, rules, layer)
    stress_loss = -float(position_pnl[stress_col]) if stress_col is not None else math.nan
    earliest = earliest_expiry(ev)
    lasting = tuple(e for e in expiries if e > earliest)
    cands = candidates(ev, lasting, costs, stress_col, position)
    empty = HedgePlan(
        layer, budget, spent, limit, lasting, (), (), 0.0, position_figures, position_figures,
        stress_loss, False, "", len(cands), (), pref.describe(), pref.meets(position_figures),
    )  # fmt: skip
    if not expiries:
        return replace(empty, note="no VIX future listed around the condor's expiry")
    if not lasting:
        return replace(
            empty,
            note=f"no VIX expiry lasts: {', '.join(map(str, expiries))} "
            f"{'is' if len(expiries) == 1 else 'are'} within {rules.hedge_roll_days} days of "
            f"the scenario horizon's end (a hedge must expire after {earliest})",
        )
    if not cands:
        return replace(empty, note="no VIX hedge of at least 0.05 on those expiries")
    if limit < min(c.cost for c in cands):
        return replace(
            empty,
            note=f"layer {layer} may spend ${cap:,.0f} of the ${budget:,.0f} hedge budget and "
            f"${spent:,.0f} is spent: nothing fits",
        )
    p = position_pnl
    alloc, ranked, limited, objective = program(ev, p, cands, limit, pref, integral)
    counts = alloc.counts
    g = np.array([c.pnl for c in cands])
    # the hedges a plan keeps own their P&L: a candidate's is a row of its expiry's matrix
    kept = {k: replace(c, pnl=c.pnl.copy()) for k, c in enumerate(cands) if counts[k] > 1e-9}
    chosen = tuple((c, int(counts[k]) if integral else float(counts[k])) for k, c in kept.items())
    empty = replace(empty, objective=objective, meets=alloc.meets)
    if not chosen:
        best = ranked[0] if ranked else None
        why = (
            f"no VIX hedge raises {objective}"
            if alloc.meets
            else f"no VIX hedge within the spend meets the CVaR limit {pref.cvar_floor:,.0f} "
            "or raises the CVaR"
        )
        if best is not None:
            why += f" (best at the margin: {best.hedge.name}, ${best.margin:+.2f} per $1)"
        return replace(empty, ranked=ranked, note=why)
    hedged = p + counts @ g
    after = hedged_figures(ev, position, hedged, today_value, chosen)
    notes = []
    if not alloc.meets:
        notes.append(
            f"no hedge within the spend meets the CVaR limit {pref.cvar_floor:,.0f}: the "
            "highest CVaR instead"
        )
    if limited:
        notes.append(
            f"budget-limited: layer {layer} may spend ${cap:,.0f} of the ${budget:,.0f} hedge "
            f"budget (${spent:,.0f} spent before)"
        )
    return HedgePlan(
        layer, budget, spent, limit, lasting, ranked, chosen, float(alloc.spend),
        position_figures, after, stress_loss, limited, "; ".join(notes), len(cands),
        tuple(float(x) for x in hedged[ev.scenarios.ladder]), objective, alloc.meets,
    )  # fmt: skip


def hedged_figures(ev: Evaluator, position: Position, hedged, today_value, chosen) -> RiskFigures:
    """The figures of ``position`` (its legs worth ``today_value`` per unit now) with the
    ``chosen`` hedges ((hedge, count)), whose P&L together with the position's is
    ``hedged``: their friction paid, their legs in the max loss at expiry."""
    new_legs = [replace(leg, quantity=leg.quantity * n) for c, n in chosen for leg in c.legs()]
    new_today = value_legs(ev.market, new_legs).price if new_legs else np.empty(0)
    friction = float(sum(c.friction * n for c, n in chosen))
    return ev.figures(hedged, [*position.legs, *new_legs], [*today_value, *new_today], friction)


def spending(position: Position, rules, layer: int) -> tuple[float, float, float, float]:
    """(budget, spent, cap, limit) in dollars: the position's hedge budget, what its VIX
    layers spent, what Layer ``layer`` may spend of the budget in all (Layer 1 its
    ``layer1_budget_share``, Layer 2 the whole) and what is left of that today."""
    budget = hedge_budget(position, rules.hedge_budget)
    spent = hedge_spent(position)
    cap = budget * (rules.layer1_budget_share if layer == 1 else 1.0)
    return budget, spent, cap, max(cap - spent, 0.0)


def program(
    ev: Evaluator,
    pnl: np.ndarray,
    cands: list[Hedge],
    limit: float,
    pref: Preference,
    integral: bool = True,
    extra: Sequence[tuple[np.ndarray, float]] = (),
) -> tuple[hedge_milp.Allocation, tuple[Ranked, ...], bool, str]:
    """The counts of ``cands`` that maximise ``pref``'s objective of ``pnl`` (a position's,
    or a book's summed, over ``ev``'s scenarios) with the hedges, spending at most
    ``limit`` dollars (and within ``extra`` limits Σ a·n ≤ b): (the allocation, the
    candidates ranked by their part in it, whether only the spending limit kept a better
    hedge out, what the counts maximise)."""
    hist = ev.scenarios.historical
    g = np.array([c.pnl for c in cands])
    cost = np.array([c.cost for c in cands])
    level = ev.rules.cvar_level
    most, limits = _futures_limit(ev, pnl, cands, integral)
    limits = [*limits, *extra]
    alloc = hedge_milp.choose(
        pnl[hist], g[:, hist], cost, limit, level, pref.risk_aversion,
        cvar_floor=pref.cvar_floor, integral=integral, most=most, limits=limits,
    )  # fmt: skip
    # what the counts maximise: the preference, or the CVaR where its limit is out of reach
    weights = (1.0, pref.risk_aversion, pref.cvar_floor) if alloc.meets else (0.0, 1.0, -math.inf)
    objective = pref.describe() if alloc.meets else (
        f"CVaR (no hedge within the spend meets the limit {pref.cvar_floor:,.0f})"
    )  # fmt: skip
    ranked, limited = _ranked(
        pnl[hist], g[:, hist], cost, alloc.counts, (limit, most, limits), level, weights, cands
    )
    ranked = tuple(replace(r, hedge=replace(r.hedge, pnl=r.hedge.pnl.copy())) for r in ranked)
    return alloc, ranked, limited, objective


def pnl_over(ev: Evaluator, hedge: Hedge) -> np.ndarray:
    """One contract of ``hedge``'s P&L over ``ev``'s scenarios (its extra rungs included),
    as the candidate's was built (:func:`_options`, :func:`_futures`): over the
    scenarios the candidate was built on, equal to ``hedge.pnl``."""
    later = ev.prices(hedge.legs())
    if hedge.instrument == "vix_future":
        return (later[0] - hedge.model_debit) * hedge.multiplier - hedge.friction
    value = later[0] - (later[1] if len(later) > 1 else 0.0)
    return value * hedge.multiplier - (hedge.cost + hedge.roll_cost)


def futures_room(ev: Evaluator, pnl: np.ndarray, future: Hedge, integral: bool = True) -> float:
    """The most contracts of ``future`` a position whose P&L over ``ev``'s scenarios is
    ``pnl`` may hold alone: its futures' size rule (:func:`_futures_limit`)."""
    most, limits = _futures_limit(ev, pnl, [future], integral)
    if most is not None:
        return float(most[0])
    ((units, top),) = limits
    return top / float(units[0])


def _futures_limit(ev, p, cands, integral: bool = True) -> tuple[np.ndarray | None, list]:
    """(caps, limits) for the futures: together they gain at most the position's loss at
    its worst ladder rung, there — counted in Mini VIX futures (a VX is ten), so the limit
    is whole contracts: 10·VX + VXM ≤ ⌊loss / (a VXM's gain there)⌋, the gain the future's
    move × $100 (not rounded down when sized in fractions). None at all when the position
    loses nothing there or the future does not rise."""
    futures = np.array([c.instrument == "vix_future" for c in cands])
    if not futures.any():
        return None, []
    ladder = np.arange(ev.scenarios.n)[ev.scenarios.ladder]
    worst = int(ladder[np.argmin(p[ladder])])
    loss = max(-float(p[worst]), 0.0)
    move = np.array([c.move[worst] if c.instrument == "vix_future" else 0.0 for c in cands])
    mini = 100.0 * float(move.max())  # one VXM's gain at the worst rung, before friction
    if loss <= 0 or mini <= 0:
        return np.where(futures, 0.0, np.inf), []
    units = np.array([c.multiplier / 100.0 if c.instrument == "vix_future" else 0.0 for c in cands])
    room = loss / mini
    return None, [(units, float(math.floor(room + 1e-9)) if integral else room)]


def _ranked(p, g, cost, counts, room, level, weights, cands):
    """(the candidates ranked by their part in the chosen program, budget-limited).

    The program maximises V(n) = e·EV(n) + c·CVaR(n) (``weights`` (e, c, floor): the
    preference's (1, γ, its CVaR floor), or (0, 1, none) where the floor is out of reach),
    concave in the counts. One more of candidate k changes V by at most e·Ḡ_k + c·q·G_k,
    q the tail weights of the hedged P&L (a supergradient: EV is linear, CVaR concave
    with q·X ≥ CVaR(X)), so only candidates where that is positive can improve V: those,
    and the best others by that bound, are evaluated exactly.

    Budget-limited: one more contract of some candidate would raise V (and keep the CVaR
    floor), and only the layer's spending limit leaves no room for it (not the futures'
    size limit).
    """
    e, c, floor = weights
    hedged = p + counts @ g
    now = e * float(hedged.mean()) + c * cvar(hedged, level)
    tail = g @ tail_weights(hedged, level)
    mean = g.mean(axis=1)
    chosen = np.flatnonzero(counts > 1e-9)
    rest = np.flatnonzero(counts <= 1e-9)
    bound = (e * mean + c * tail) / cost
    look = np.union1d(
        rest[bound[rest] > 0], rest[np.argsort(-bound[rest], kind="stable")[: 2 * SHOWN]]
    ).astype(int)
    more = np.full(len(cost), -np.inf)
    plus = hedged[None, :] + g[look]
    more[look] = (hedge_milp.objective_rows(plus, level, c, e) - now) / cost[look]
    keeps = np.ones(len(cost), dtype=bool)
    if math.isfinite(floor):
        keeps[look] = hedge_milp.cvar_rows(plus, level) >= floor - hedge_milp.FLOOR_TOL
    limit, most, limits = room
    sized = counts + 1 <= (np.inf if most is None else most)
    for row, top in limits:
        sized &= row + row @ counts <= top + 1e-9
    priced = cost + cost @ counts <= limit + 1e-9
    fits = sized & priced & keeps
    limited = bool(np.any(sized & keeps & ~priced & (more > 1e-9)))
    less = np.full(len(cost), np.nan)
    step = np.minimum(counts[chosen], 1.0)
    minus = hedged[None, :] - step[:, None] * g[chosen]
    less[chosen] = (now - hedge_milp.objective_rows(minus, level, c, e)) / (step * cost[chosen])
    gain = counts * tail
    ev_gain = counts * mean
    part = e * ev_gain + c * gain
    first = sorted(chosen, key=lambda j: -part[j])
    others = look[np.argsort(-more[look], kind="stable")][: max(SHOWN - len(first), 4)]
    out = []
    for j in [*first, *others]:
        n = counts[j]
        n = int(round(n)) if float(n).is_integer() else float(n)
        mine = counts[j] > 1e-9
        out.append(
            Ranked(
                cands[j],
                n,
                float(gain[j]),
                float(less[j] if mine else more[j]),
                bool(fits[j]),
                float(ev_gain[j]),
            )  # fmt: skip
        )
    return tuple(out), limited
