"""The hedges a position holds, day by day: the unwind, the trim, the roll, and the
profit take that closes everything.

Each trade is weighed like every other decision (:func:`judged`): it is made only
when its figures after beat holding under the trader's preference, and its reason
says before → after. What brings each one up:

* the unwind: the held legs' mark below ``layer1_multiple`` × ``unwind_fraction``
  and VIX at or below the layer's entry (volatility has contracted);
* the trim: a layer worth ``hedge_take_profit`` × its cost — enough is sold to get
  the cost back, the rest rides;
* the roll: a layer within ``hedge_roll_days`` of its expiry while the condor runs
  past it, to the first VIX expiry at or after the condor's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import numpy as np

from alvh_cli.method.actions import (
    Action,
    Recommendation,
    Roll,
    TradeLeg,
)
from alvh_cli.method.decision import Preference, change_text
from alvh_cli.method.risk import Costs, cash, trade, trading_cost
from alvh_cli.method.scenarios import RiskFigures
from alvh_cli.model.domain import Leg
from alvh_cli.model.expirations import vix_expirations
from alvh_cli.model.legs import value_legs
from alvh_cli.model.valuation import PositionValues


def _days(n: int) -> str:
    return f"{n} day{'s' * (n != 1)}"


def _layer_legs(pv: PositionValues, layer: int) -> list[tuple[int, Leg]]:
    return [(i, g) for i, g in enumerate(pv.legs) if g.layer == layer]


def _close(pv, ev, items, fraction_units=None) -> tuple[TradeLeg, ...]:
    costs = Costs.from_rules(ev.rules)
    legs = [g for _, g in items]
    qty = [-g.quantity for g in legs] if fraction_units is None else fraction_units
    return trade(ev.market, legs, qty, [float(pv.values.price[i]) for i, _ in items], costs, False)


def _after_removing(pv, ev, leg_pnl_rows, remove_qty: dict, cost: float, before, added=None):
    """Figures of the position with ``remove_qty`` contracts of some legs closed, and
    ``added`` (legs, today's prices, P&L per scenario) opened."""
    legs, today = [], []
    pnl = np.zeros(ev.scenarios.n)
    for i, g in enumerate(pv.legs):
        q = g.quantity + remove_qty.get(i, 0)
        if q == 0:
            continue
        legs.append(replace(g, quantity=q))
        today.append(float(pv.values.price[i]))
        pnl += leg_pnl_rows[i] * (q / g.quantity)
    if added is not None:
        legs += list(added[0])
        today += [float(x) for x in added[1]]
        pnl += added[2]
    return ev.figures(pnl - cost, legs, today, cost)


def judged(recs: Sequence[Recommendation], pref: Preference) -> list[Recommendation]:
    """Each trade kept when its figures after beat holding under ``pref`` (the figures
    said in its reason), else a hold that says what it would have done."""
    out = []
    for r in recs:
        if not r.trades or r.after is None:
            out.append(r)
            continue
        figures = change_text(pref, r.before, r.after)
        if pref.choose([r.before, r.after]) == 1:
            out.append(replace(r, reason=f"{r.reason}: {figures}"))
        else:
            out.append(
                Recommendation(
                    Action.HOLD,
                    f"{r.reason}; not done, it does not beat holding: {figures}",
                    r.layer,
                    before=r.before,
                    after=r.before,
                )
            )
    return out


def unwind(pv, ev, threshold: float, before: RiskFigures) -> list[Recommendation]:
    p, market = pv.position, pv.market
    rows = ev.pnl(pv.legs, pv.values)
    out: list[Recommendation] = []
    for layer in p.hedge_layers:
        items = [(i, g) for i, g in _layer_legs(pv, layer) if g.underlying == "VIX"]
        recorded = [g.entry_vix for _, g in items if g.entry_vix is not None]
        entry_vix = min(recorded) if recorded else None
        if entry_vix is not None and market.vix > entry_vix:
            out.append(
                Recommendation(
                    Action.HOLD,
                    f"{_mark_text(pv)} < {threshold:.4g}x but VIX {market.vix:g} > "
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
                f"unwind: {_mark_text(pv)} < {threshold:.4g}x, {vix_note}",
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
    for layer in pv.position.hedge_layers:
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
    rows = None
    out: list[Recommendation] = []
    for layer in p.hedge_layers:
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
        new_values = value_legs(market, new)
        opens = trade(market, new, [g.quantity for g in new], new_values.price, costs, True)
        trades = closes + opens
        cost = trading_cost(trades, costs)
        rows = ev.pnl(pv.legs, pv.values) if rows is None else rows
        added = (new, new_values.price, ev.pnl(new, new_values).sum(axis=0))
        remove = {i: -g.quantity for i, g in items}
        after = _after_removing(pv, ev, rows, remove, cost, before, added)
        out.append(
            Roll(
                Action.ROLL,
                f"layer {layer} expires {expiry}, {_days((expiry - today).days)} away "
                f"(<= {rules.hedge_roll_days}), the condor on to {p.expiry}: roll it to "
                f"{later[0]}",
                layer,
                trades=trades,
                trading_cost=cost,
                cash=cash(trades),
                before=before,
                after=after,
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


def _mark_text(pv: PositionValues) -> str:
    """The multiple the unwind line is read against: the held legs' after a change."""
    if pv.open_multiple == pv.mark_multiple:
        return f"mark {pv.mark_multiple:.2f}x"
    return f"held legs' mark {pv.open_multiple:.2f}x"
