"""The daily question: what to do with each position today.

``check_book`` takes valued positions (:mod:`alvh_cli.model.valuation`) and
returns a :class:`PositionCheck` per position: its figures over the scenario
set and typed recommendations (:mod:`alvh_cli.method.actions`). Nothing here
reads a file or knows a command-line option.

Order of the rules, first match wins per position:

1. profit take (mark ≤ 1 − ``profit_take``): close the condor and its hedges;
2. hedges on: the unwind when volatility has contracted, else a hedge worth
   ``hedge_take_profit`` × its cost is partly sold, a hedge near its expiry
   is rolled;
3. Layer 3 (mark ≥ ``layer3_multiple``, spot through a short strike, or a
   short |delta| ≥ ``layer3_short_delta``), or the call side tested at a
   layer: the alternatives of :mod:`alvh_cli.method.layer3`;
4. Layers 1–2 on the put side: VIX call spreads by :mod:`alvh_cli.method.hedges`.

A position at Layer 3 or past the 2x stop always gets an explicit decision
and counts as needing attention, even when the decision is to hold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np

from alvh_cli.method.actions import (
    Action,
    Convert,
    OpenHedge,
    Recommendation,
    Roll,
    TradeLeg,
)
from alvh_cli.method.regime import Regime
from alvh_cli.method.risk import Costs, Evaluator, cash, trade, trading_cost
from alvh_cli.method.scenarios import MIN_WINDOWS, History, RiskFigures, embedded_history
from alvh_cli.method.stress import stress_target, tested_side
from alvh_cli.model.domain import Leg, Position
from alvh_cli.model.exchange import is_business_day
from alvh_cli.model.expirations import vix_expirations
from alvh_cli.model.legs import value_legs
from alvh_cli.model.rules import Rules
from alvh_cli.model.valuation import PositionValues

if TYPE_CHECKING:  # imported where a layer is due: a quiet book never pays for them
    from alvh_cli.method import hedges as hedges_mod
    from alvh_cli.method import layer3 as layer3_mod


@dataclass(frozen=True)
class PositionCheck:
    """One position checked: what it is worth, where it stands, what to do.

    Money in dollars, prices in points per condor unit; ``figures`` are the
    position as held over the scenario set (P&L from today's marks).
    """

    position: Position
    expiry: date
    dte: int
    debit_to_close: float
    mark_multiple: float
    tested_side: str
    layer: int
    layer_reason: str
    regime: str
    greeks: dict[str, float]
    pnl: float
    traditional: dict[str, str]
    figures: RiskFigures | None
    scenario_source: str
    recommendations: tuple[Recommendation, ...]
    attention: bool
    hedge_plan: hedges_mod.HedgePlan | None = None
    layer3: layer3_mod.Layer3 | None = None
    stress: tuple[str, float, float] = ()  # old stress rung: (label, SPX level, VIX level)
    ladder: tuple[tuple[str, float, float, float], ...] = ()  # (rung, SPX, VIX, P&L $) as held

    @property
    def needs_action(self) -> bool:
        return self.attention or any(r.action != Action.HOLD for r in self.recommendations)


@dataclass
class CheckResult:
    asof: str
    positions: list[PositionCheck]
    regime: Regime = field(default_factory=Regime)

    @property
    def needs_action(self) -> bool:
        return any(p.needs_action for p in self.positions)


def traditional(mark: float) -> dict[str, str]:
    """What the blunt stops would do at today's mark."""
    return {
        "stop_2x": "close" if mark >= 2.0 else "hold",
        "stop_3x": "close" if mark >= 3.0 else "hold",
    }


def thresholds(rules: Rules, regime: Regime) -> tuple[float, float, float]:
    """Layer 1/2/3 multiples in force: scaled in an elevated regime, layer 1 from
    ``layer1_elevated_multiple`` while the VIX spike signal is on."""
    t1, t2, t3 = rules.thresholds(bool(regime.elevated))
    if regime.spike:
        t1 = min(t1, rules.layer1_elevated_multiple)
    return t1, t2, t3


def required_layer(pv: PositionValues, side: str, rules: Rules, regime: Regime) -> tuple[int, str]:
    """The layer today's mark and spot call for (0..3), and the reason in a few words."""
    t1, t2, t3 = thresholds(rules, regime)
    mark = pv.mark_multiple
    roles = pv.position.legs_by_role()
    short = roles["short_put"] if side == "put" else roles["short_call"]
    spot = pv.market.spx
    i = pv.legs.index(short)
    short_delta = abs(float(pv.values.delta[i]))
    through = spot <= short.strike if side == "put" else spot >= short.strike
    if mark >= t3:
        why = f"mark {mark:.2f}x >= {t3:.4g}x"
        layer = 3
    elif through:
        why, layer = f"SPX {spot:,.2f} through the short {side} {short.strike:g}", 3
    elif short_delta >= rules.layer3_short_delta:
        why = f"short {side} |delta| {short_delta:.2f} >= {rules.layer3_short_delta:g}"
        layer = 3
    elif mark >= t2:
        why, layer = f"mark {mark:.2f}x >= {t2:.4g}x", 2
    elif mark >= t1:
        why, layer = f"mark {mark:.2f}x >= {t1:.4g}x", 1
    else:
        why, layer = f"mark {mark:.2f}x < {t1:.4g}x", 0
    if regime.spike and layer == 1 and mark < rules.thresholds(bool(regime.elevated))[0]:
        why += " (VIX spike: layer 1 early)"
    elif regime.elevated and layer:
        why += f" (elevated regime: thresholds × {rules.elevated_scale:g})"
    return layer, why


def _days(n: int) -> str:
    return f"{n} day{'s' * (n != 1)}"


def trading_days_until(start: date, end: date) -> int:
    n, day = 0, start
    while day < end:
        day += timedelta(days=1)
        n += is_business_day(day)
    return n


class Engine:
    """Scenario sets shared by the positions of one check (one per market and horizon).

    The historical scenarios come from ``history`` up to each market's date; when
    that gives fewer than ``MIN_WINDOWS`` windows the embedded closes stand in
    (and say so), unless ``fallback`` is False (a backtest must not see the future:
    it then runs on the windows it has).
    """

    def __init__(self, history: History | None = None, fallback: bool = True):
        self.history = history if history is not None else embedded_history()
        self.fallback = fallback
        self._evaluators: dict[tuple, Evaluator] = {}

    def evaluator(self, pv: PositionValues) -> Evaluator:
        rules, market = pv.rules, pv.market
        left = trading_days_until(market.asof.date(), pv.position.expiry)
        horizon = max(1, min(int(rules.scenario_horizon_days), left))
        key = (id(market), rules, horizon)
        ev = self._evaluators.get(key)
        if ev is None:
            if len(self._evaluators) > 64:
                self._evaluators.clear()
            past = self.history.before(market.asof.date())
            if self.fallback and len(past.spx) < MIN_WINDOWS + horizon:
                own = embedded_history()
                past = replace(
                    own,
                    source=f"{own.source} ({past.source} has under {MIN_WINDOWS} windows "
                    f"before {market.asof.date()})",
                )
            ev = Evaluator.from_history(market, rules, past, horizon)
            self._evaluators[key] = ev
        return ev


def check_book(
    loaded: Sequence,
    regimes: Sequence[Regime] | None = None,
    *,
    history: History | None = None,
) -> CheckResult:
    """Check every position of loaded files (``alvh_cli.inputs.book.load_book``);
    ``regimes`` one per file (default: 'unavailable'), ``history`` the closes behind the
    historical scenarios (default: the embedded ones)."""
    from alvh_cli.model.valuation import value_book

    regimes = list(regimes) if regimes is not None else [Regime() for _ in loaded]
    per_file = [r for lf, r in zip(loaded, regimes, strict=True) for _ in lf.file.positions]
    return check_values(value_book(loaded), per_file, history=history)


def check_values(
    values: Sequence[PositionValues],
    regimes: Sequence[Regime] | None = None,
    *,
    history: History | None = None,
) -> CheckResult:
    """Check valued positions; ``regimes`` one per position."""
    regimes = list(regimes) if regimes is not None else [Regime() for _ in values]
    engine = Engine(history)
    rows = [check_position(pv, r, engine) for pv, r in zip(values, regimes, strict=True)]
    asofs = sorted({pv.market.asof.isoformat() for pv in values})
    return CheckResult(
        asofs[0] if len(asofs) == 1 else ",".join(asofs), rows, regimes[0] if regimes else Regime()
    )


def check_position(
    pv: PositionValues,
    regime: Regime | None = None,
    engine: Engine | None = None,
    *,
    force_layer: int | None = None,
    vix_expiries: tuple[date, ...] | None = None,
    integral: bool = True,
    figures: bool = True,
) -> PositionCheck:
    """What to do with one position. ``force_layer`` sizes that hedge layer whatever the
    mark (``size-hedge --layer``); ``vix_expiries`` replaces the candidate expiries;
    ``integral=False`` sizes every adjustment in fractions of a contract (the method free
    of rounding, for a backtest: hedge counts from the LP without integrality, conversions
    in tenths of the tested side, a trim by the exact share that recovers the layer's
    cost). ``figures=False`` skips the scenario figures of a position with nothing to
    decide (a backtest's quiet days)."""
    regime = regime or Regime()
    engine = engine or Engine()
    p, market, rules = pv.position, pv.market, pv.rules
    side = tested_side(p, market.spx)
    layer, why = required_layer(pv, side, rules, regime)
    if not figures and layer == 0 and not p.hedges and force_layer is None:
        return _quiet(pv, regime, side, why)
    level, stress_how = stress_target(p, market, rules, side)
    ev = engine.evaluator(pv).with_rungs([(f"stress: {stress_how}", level)])
    scen = ev.scenarios
    if scen.n_hist < MIN_WINDOWS:
        return _blind(pv, regime, side, layer, why, scen)
    stress_col = scen.n - 1
    leg_pnl = ev.pnl(p.legs, pv.values)
    held = leg_pnl.sum(axis=0)
    before = ev.figures(held, p.legs, pv.values.price, 0.0)
    trad = traditional(pv.mark_multiple)
    attention = layer == 3 or trad["stop_2x"] == "close"
    plan = l3 = None
    recs: list[Recommendation] = []

    deployed = max(p.deployed_layers, default=0)
    t1 = thresholds(rules, regime)[0]
    if rules.profit_take > 0 and pv.mark_multiple <= 1.0 - rules.profit_take:
        recs = [take_profit(pv, ev, before)]
        attention = False
    else:
        target = force_layer or layer
        sizing_due = target in (1, 2) and side == "put" and deployed < target
        if p.hedges and pv.mark_multiple < t1 * rules.unwind_fraction:
            recs += unwind(pv, ev, t1 * rules.unwind_fraction, before)
        elif p.hedges and not sizing_due:
            # a layer being added needs the hedges on: no profit taken on them that day
            recs += monetise(pv, ev, before, integral=integral)
            recs += roll_hedges(pv, ev, before)
        if force_layer is None and (layer == 3 or (side == "call" and layer >= 1)):
            from alvh_cli.method import layer3 as layer3_mod

            l3 = layer3_mod.evaluate(ev, p, pv.values, leg_pnl, side, integral=integral)
            decision = layer3_decision(l3, layer, why, side, attention, p)
            # closing everything makes the hedges' own orders moot
            recs = [decision] if decision.action == Action.CLOSE_POSITION else [*recs, decision]
        elif target in (1, 2) and (side == "put" or force_layer is not None):
            if deployed >= target and force_layer is None:
                recs.append(
                    Recommendation(
                        Action.HOLD,
                        f"{why}; layer {deployed} already on",
                        layer,
                        before=before,
                        attention=attention,
                    )  # fmt: skip
                )
            else:
                from alvh_cli.method import hedges as hedges_mod

                expiries = vix_expiries or hedges_mod.candidate_expiries(
                    market, p.expiry, hedges_mod.earliest_expiry(ev)
                )
                plan = hedges_mod.plan(
                    ev, p, held, before, pv.values.price, target, expiries, stress_col,
                    integral=integral,
                )  # fmt: skip
                recs += open_hedges(plan, ev, why, attention)
        elif not recs:
            recs.append(Recommendation(Action.HOLD, why, layer or None, before=before))
    if not recs:
        recs.append(Recommendation(Action.HOLD, why, layer or None, before=before))
    if attention and all(r.action == Action.HOLD for r in recs):
        recs = [replace(r, attention=True) for r in recs]
        if trad["stop_2x"] == "close" and "2x stop" not in recs[0].reason:
            recs[0] = replace(
                recs[0],
                reason=f"{recs[0].reason}; past the 2x stop (mark {pv.mark_multiple:.2f}x): "
                "alvh holds, the figures say why",
            )
    # a method sized in fractions of a contract (a backtest) has no orders to send
    recs = _with_orders(recs, p) if integral else tuple(recs)
    return PositionCheck(
        p,
        p.expiry,
        int(pv.values.dte[pv.legs.index(p.condor[0])]),
        pv.debit_to_close,
        pv.mark_multiple,
        side,
        layer,
        why,
        regime.label,
        pv.greeks["total"],
        pv.pnl,
        trad,
        before,
        scen.source,
        tuple(recs),
        attention,
        plan,
        l3,
        (
            scen.labels[stress_col - scen.n_hist],
            float(scen.spx[stress_col]),
            float(scen.vix[stress_col]),
        ),
        tuple(
            (label, float(s_), float(v_), float(x))
            for label, s_, v_, x in zip(
                scen.labels,
                scen.spx[scen.ladder],
                scen.vix[scen.ladder],
                held[scen.ladder],
                strict=True,
            )
        ),
    )


def _quiet(pv: PositionValues, regime: Regime, side: str, why: str) -> PositionCheck:
    """A position below layer 1 with no hedges, checked without its scenario figures: a
    hold, or the profit take."""
    p, rules = pv.position, pv.rules
    recs: tuple[Recommendation, ...] = (Recommendation(Action.HOLD, why),)
    if rules.profit_take > 0 and pv.mark_multiple <= 1.0 - rules.profit_take:
        costs = Costs.from_rules(rules)
        trades = trade(
            pv.market, p.legs, [-g.quantity for g in p.legs], pv.values.price, costs, False
        )
        recs = (
            Recommendation(
                Action.TAKE_PROFIT,
                f"mark {pv.mark_multiple:.2f}x: profit take",
                None,
                trades=trades,
                trading_cost=trading_cost(trades, costs),
                cash=cash(trades),
            ),  # fmt: skip
        )
        recs = _with_orders(recs, p)
    return PositionCheck(
        p, p.expiry, int(pv.values.dte[pv.legs.index(p.condor[0])]), pv.debit_to_close,
        pv.mark_multiple, side, 0, why, regime.label, pv.greeks["total"], pv.pnl,
        traditional(pv.mark_multiple), None, "", recs, False,
    )  # fmt: skip


def _with_orders(recs, p: Position) -> tuple[Recommendation, ...]:
    """Each recommendation with the orders of its trades (the order code is loaded only
    where a recommendation trades)."""
    if not any(r.trades for r in recs):
        return tuple(recs)
    from alvh_cli.method.orders import with_orders

    return tuple(with_orders(r, p.legs) for r in recs)


def _blind(pv, regime, side, layer, why, scen) -> PositionCheck:
    """Too little history for a scenario set (a backtest's first weeks): no figures, so no
    hedge or adjustment is chosen; a position that needs attention still says so."""
    p = pv.position
    trad = traditional(pv.mark_multiple)
    attention = layer == 3 or trad["stop_2x"] == "close"
    rec = Recommendation(
        Action.HOLD,
        f"{why}; only {scen.n_hist} historical windows (under {MIN_WINDOWS}): no scenario "
        "figures, so nothing is chosen",
        layer or None,
        attention=attention,
    )
    if pv.rules.profit_take > 0 and pv.mark_multiple <= 1.0 - pv.rules.profit_take:
        return _quiet(pv, regime, side, why)
    return PositionCheck(
        p, p.expiry, int(pv.values.dte[pv.legs.index(p.condor[0])]), pv.debit_to_close,
        pv.mark_multiple, side, layer, why, regime.label, pv.greeks["total"], pv.pnl, trad,
        None, scen.source, (rec,), attention,
    )  # fmt: skip


# ------------------------------------------------------------------ layer 3


def layer3_decision(
    l3: layer3_mod.Layer3, layer: int, why: str, side: str, attention: bool, p: Position
) -> Recommendation:
    """The chosen alternative as a recommendation, the others beside it."""
    alt = l3.alternatives[l3.chosen]
    hold = l3.alternatives[0]
    others = len(l3.alternatives) - 1
    if alt.action == Action.HOLD:
        if layer < 3:
            reason = f"{why}; call side tested: no adjustment beats holding over the scenarios"
        else:
            reason = (
                f"{why}; layer 3: holding is the best of {others + 1} alternatives "
                f"(CVaR {hold.figures.cvar:,.0f}, EV {hold.figures.ev:,.0f})"
            )
        return Recommendation(
            Action.HOLD, reason, layer, before=hold.figures, after=hold.figures,
            alternatives=l3.alternatives, attention=attention,
        )  # fmt: skip
    gain = alt.figures.cvar - hold.figures.cvar
    reason = (
        f"{why}; {alt.name}: CVaR {hold.figures.cvar:,.0f} → {alt.figures.cvar:,.0f} "
        f"({gain:+,.0f}), EV {hold.figures.ev:,.0f} → {alt.figures.ev:,.0f}, "
        f"best of {others + 1}"
    )
    common = dict(
        reason=reason,
        layer=3,
        trades=alt.trades,
        trading_cost=alt.cost,
        cash=alt.cash,
        before=hold.figures,
        after=alt.figures,
        alternatives=l3.alternatives,
        attention=attention,
    )
    if alt.action == Action.CONVERT:
        first = alt.trades[0].leg
        return Convert(
            Action.CONVERT,
            instrument="conversion" if side == "put" else "reversal",
            strike=float(first.strike),
            expiry=first.expiry,
            root=first.root,
            quantity=abs(alt.trades[0].quantity),
            parity_edge=l3.parity_edge,
            **common,
        )
    if alt.action == Action.ROLL:
        old = [t.leg for t in alt.trades if not t.opening]
        new = [t.leg for t in alt.trades if t.opening]
        return Roll(
            Action.ROLL,
            what=f"{side} vertical",
            from_expiry=old[0].expiry,
            to_expiry=new[0].expiry,
            from_strikes=tuple(sorted(g.strike for g in old)),
            to_strikes=tuple(sorted(g.strike for g in new)),
            quantity=abs(alt.trades[0].quantity),
            **common,
        )
    return Recommendation(alt.action, **common)


# ------------------------------------------------------------------ layers 1-2


def open_hedges(
    plan: hedges_mod.HedgePlan, ev: Evaluator, why: str, attention: bool
) -> list[Recommendation]:
    if not plan.chosen:
        return [
            Recommendation(
                Action.HOLD,
                f"{why}; {plan.note}",
                plan.layer,
                before=plan.before,
                after=plan.before,
                attention=attention,
            )  # fmt: skip
        ]
    costs = Costs.from_rules(ev.rules)
    out: list[Recommendation] = []
    for k, (spread, n) in enumerate(plan.chosen):
        count = int(round(n)) if float(n).is_integer() else n
        legs = spread.legs(plan.layer)
        model = value_legs(ev.market, legs).price
        units = [count * g.quantity for g in legs]
        trades = trade(ev.market, legs, units, model, costs, True) if count > 0 else ()
        stress_loss = plan.stress_loss
        gains = sum(s.stress_gain * c for s, c in plan.chosen)
        coverage = gains / stress_loss if stress_loss and stress_loss > 0 else math.nan
        reason = (
            f"{why}; CVaR {plan.before.cvar:,.0f} → {plan.after.cvar:,.0f} for "
            f"${plan.spend:,.0f} ({(plan.after.cvar - plan.before.cvar) / plan.spend:+.2f} per $)"
        )
        if len(plan.chosen) > 1:
            reason += f"; hedge {k + 1} of {len(plan.chosen)}"
        if plan.note:
            reason += f"; {plan.note}"
        out.append(
            OpenHedge(
                Action.OPEN_HEDGE,
                reason,
                plan.layer,
                trades=trades,
                trading_cost=trading_cost(trades, costs),
                cash=cash(trades),
                before=plan.before,
                after=plan.after,
                attention=attention,
                budget_limited=plan.budget_limited,
                hedge=spread.detail(count, stress_loss, coverage),
                spend_limit=plan.limit,
            )
        )
    return out


# ------------------------------------------------------------------ hedges on


def _layer_legs(pv: PositionValues, layer: int) -> list[tuple[int, Leg]]:
    return [(i, g) for i, g in enumerate(pv.legs) if g.layer == layer]


def _close(pv, ev, items, fraction_units=None) -> tuple[TradeLeg, ...]:
    costs = Costs.from_rules(ev.rules)
    legs = [g for _, g in items]
    qty = [-g.quantity for g in legs] if fraction_units is None else fraction_units
    return trade(ev.market, legs, qty, [float(pv.values.price[i]) for i, _ in items], costs, False)


def _after_removing(pv, ev, leg_pnl_rows, remove_qty: dict[int, int], cost: float, before):
    """Figures of the position with ``remove_qty`` contracts of some legs closed."""
    legs, today = [], []
    pnl = np.zeros(ev.scenarios.n)
    for i, g in enumerate(pv.legs):
        q = g.quantity + remove_qty.get(i, 0)
        if q == 0:
            continue
        legs.append(replace(g, quantity=q))
        today.append(float(pv.values.price[i]))
        pnl += leg_pnl_rows[i] * (q / g.quantity)
    return ev.figures(pnl - cost, legs, today, cost)


def unwind(pv, ev, threshold: float, before: RiskFigures) -> list[Recommendation]:
    p, market = pv.position, pv.market
    rows = ev.pnl(pv.legs, pv.values)
    out: list[Recommendation] = []
    for layer in p.deployed_layers:
        items = _layer_legs(pv, layer)
        recorded = [g.entry_vix for _, g in items if g.entry_vix is not None]
        entry_vix = min(recorded) if recorded else None
        if entry_vix is not None and market.vix > entry_vix:
            out.append(
                Recommendation(
                    Action.HOLD,
                    f"mark {pv.mark_multiple:.2f}x < {threshold:.4g}x but VIX {market.vix:g} > "
                    f"layer {layer} entry {entry_vix:g}: keep the hedge",
                    layer,
                    before=before,
                )
            )
            continue
        trades = _close(pv, ev, items)
        costs = Costs.from_rules(ev.rules)
        cost = trading_cost(trades, costs)
        vix_note = (
            f"VIX {market.vix:g} <= entry {entry_vix:g}"
            if entry_vix is not None
            else "entry_vix not recorded, VIX test skipped"
        )
        after = _after_removing(pv, ev, rows, {i: -g.quantity for i, g in items}, cost, before)
        out.append(
            Recommendation(
                Action.CLOSE_HEDGE,
                f"unwind: mark {pv.mark_multiple:.2f}x < {threshold:.4g}x, {vix_note}",
                layer,
                trades=trades,
                trading_cost=cost,
                cash=cash(trades),
                before=before,
                after=after,
            )
        )
    return out


def monetise(pv, ev, before: RiskFigures, *, integral: bool = True) -> list[Recommendation]:
    """A VIX layer worth ``hedge_take_profit`` × its cost: sell enough to get the cost back —
    whole spreads (rounded up), or with ``integral=False`` the exact fraction of the layer
    whose sale recovers the cost."""
    rules = pv.rules
    costs = Costs.from_rules(rules)
    rows = None
    out: list[Recommendation] = []
    for layer in pv.position.deployed_layers:
        # the layer's options: a future has no premium to recover (it rides to the unwind)
        items = [(i, g) for i, g in _layer_legs(pv, layer) if g.underlying == "VIX" and g.is_option]
        if not items:
            continue
        paid = sum(g.entry_price * g.quantity * g.multiplier for _, g in items)
        sale = _close(pv, ev, items)
        worth = cash(sale) - costs.fee * sum(abs(t.quantity) for t in sale)
        if paid <= 0 or worth < rules.hedge_take_profit * paid:
            continue
        if integral:
            unit = math.gcd(*(abs(g.quantity) for _, g in items))
            per_unit = worth / unit
            sell = min(unit, math.ceil(paid / per_unit - 1e-9))
            ratio = [g.quantity // unit for _, g in items]
        else:  # the layer as one block: sell the share paid / worth of every leg
            unit, sell = 1, min(1.0, paid / worth)
            ratio = [g.quantity for _, g in items]
        trades = _close(pv, ev, items, [-r * sell for r in ratio])
        cost = trading_cost(trades, costs)
        if rows is None:
            rows = ev.pnl(pv.legs, pv.values)
        remove = {i: -r * sell for (i, _), r in zip(items, ratio, strict=True)}
        out.append(
            Recommendation(
                Action.TRIM_HEDGE,
                f"layer {layer} worth ${worth:,.0f}, {worth / paid:.1f}x its ${paid:,.0f} cost "
                f"(>= {rules.hedge_take_profit:g}x): sell {_amount(sell)} of {unit} to recover "
                "the cost, the rest rides",
                layer,
                trades=trades,
                trading_cost=cost,
                cash=cash(trades),
                before=before,
                after=_after_removing(pv, ev, rows, remove, cost, before),
            )
        )
    return out


def roll_hedges(pv, ev, before: RiskFigures) -> list[Recommendation]:
    """A VIX layer within ``hedge_roll_days`` of its expiry while the condor runs past it:
    roll it to the first VIX expiry at or after the condor's (same strikes)."""
    p, market, rules = pv.position, pv.market, pv.rules
    today = market.asof.date()
    costs = Costs.from_rules(rules)
    out: list[Recommendation] = []
    for layer in p.deployed_layers:
        items = [(i, g) for i, g in _layer_legs(pv, layer) if g.underlying == "VIX" and g.is_option]
        if not items:
            continue
        expiry = min(g.expiry for _, g in items)
        if (expiry - today).days > rules.hedge_roll_days or p.expiry <= expiry:
            continue
        later = [e for e in vix_expirations(p.expiry, p.expiry + timedelta(days=40))]
        listed = sorted(f.expiry for f in market.vix_futures)
        later = [e for e in later if listed and listed[0] <= e <= listed[-1]]
        if not later:
            out.append(
                Recommendation(
                    Action.HOLD,
                    f"layer {layer} expires {expiry}, before the condor: no VIX future listed "
                    f"at or after {p.expiry} to roll it to",
                    layer,
                    before=before,
                )
            )
            continue
        new = [replace(g, expiry=later[0], entry_price=0.0, key="") for _, g in items]
        closes = _close(pv, ev, items)
        model = value_legs(market, new).price
        opens = trade(market, new, [g.quantity for g in new], model, costs, True)
        trades = closes + opens
        out.append(
            Roll(
                Action.ROLL,
                f"layer {layer} expires {expiry}, {_days((expiry - today).days)} away "
                f"(<= {rules.hedge_roll_days}), the condor on to {p.expiry}: roll it to "
                f"{later[0]}",
                layer,
                trades=trades,
                trading_cost=trading_cost(trades, costs),
                cash=cash(trades),
                before=before,
                what=f"hedge layer {layer}",
                from_expiry=expiry,
                to_expiry=later[0],
                from_strikes=tuple(sorted(g.strike for _, g in items)),
                to_strikes=tuple(sorted(g.strike for g in new)),
                quantity=_block(g.quantity for _, g in items),
            )
        )
    return out


def _block(quantities) -> int | float:
    """The size of a layer in spreads: the gcd of its legs' contracts, or the largest leg
    when they are fractions (a method sized without rounding)."""
    qs = [abs(q) for q in quantities]
    return math.gcd(*(int(q) for q in qs)) if all(float(q).is_integer() for q in qs) else max(qs)


def _amount(x) -> str:
    return f"{x:g}" if float(x).is_integer() else f"{x:.3f}"


def take_profit(pv, ev, before: RiskFigures) -> Recommendation:
    p = pv.position
    trades = _close(pv, ev, list(enumerate(pv.legs)))
    costs = Costs.from_rules(pv.rules)
    cost = trading_cost(trades, costs)
    flat = np.full(ev.scenarios.n, -cost)
    return Recommendation(
        Action.TAKE_PROFIT,
        f"mark {pv.mark_multiple:.2f}x <= {1 - pv.rules.profit_take:.2f}x: "
        f"{1 - pv.mark_multiple:.0%} of the credit captured on the condor"
        + (" (its hedges close with it)" if p.hedges else ""),
        None,
        trades=trades,
        trading_cost=cost,
        cash=cash(trades),
        before=before,
        after=ev.figures(flat, [], [], cost),
    )


# ------------------------------------------------------------------ size-hedge


def size_hedges(
    loaded: Sequence,
    regimes: Sequence[Regime] | None = None,
    *,
    history: History | None = None,
    position: str | None = None,
    layer: int | None = None,
    spx_move: float | None = None,
    vix_expiry: date | None = None,
) -> list[PositionCheck]:
    """The check of each position (or of ``position``) with the working of its hedge layer.

    ``layer`` sizes that layer whatever today's mark calls for; ``spx_move`` moves the
    old stress rung; ``vix_expiry`` replaces the candidate VIX expiries. Without them
    the result is exactly what ``check`` decides. The caller checks its options
    (``size_hedge_problem``); an unknown ``position`` gives an empty list.
    """
    from alvh_cli.model.valuation import value_book

    regimes = list(regimes) if regimes is not None else [Regime() for _ in loaded]
    per_position = [r for lf, r in zip(loaded, regimes, strict=True) for _ in lf.file.positions]
    values = value_book(loaded)
    pairs = list(zip(values, per_position, strict=True))
    if position is not None:
        pairs = [(pv, r) for pv, r in pairs if pv.position.id == position]
    engine = Engine(history)
    out = []
    for pv, regime in pairs:
        if spx_move is not None:
            pv = replace(pv, rules=replace(pv.rules, stress_spx_move=spx_move))
        out.append(
            check_position(
                pv,
                regime,
                engine,
                force_layer=layer,
                vix_expiries=(vix_expiry,) if vix_expiry else None,
            )
        )
    return out


def size_hedge_problem(
    loaded: Sequence,
    position: str | None,
    spx_move: float | None,
    vix_expiry: date | None,
) -> tuple[str, str] | None:
    """(option, message) when a size-hedge option cannot be honoured, else None. The
    options are named by their role ("position", "spx_move", "vix_expiry"); the
    command line maps them to its flags."""
    from alvh_cli.model.expirations import vix_expiration

    if spx_move is not None and not (-0.9 <= spx_move <= 0.9 and spx_move != 0):
        return "spx_move", (
            f"must be a non-zero fraction between -0.9 and 0.9 (e.g. -0.05), got {spx_move:g}"
        )
    if vix_expiry is not None:
        listed = vix_expiration(vix_expiry.year, vix_expiry.month)
        if vix_expiry != listed:
            return "vix_expiry", (
                f"{vix_expiry} is not a VIX expiration (the {vix_expiry:%B %Y} one is {listed})"
            )
        for lf in loaded:
            if vix_expiry <= lf.market.asof.date():
                return "vix_expiry", f"{vix_expiry} is not after asof {lf.market.asof.date()}"
    if position is not None:
        ids = [p.id for lf in loaded for p in lf.file.positions]
        if position not in ids:
            return "position", f"no position '{position}' (positions: {', '.join(ids)})"
    return None
