"""Choices turned into recommendations: the Layer 3 alternative chosen, or the hedge
program's spreads, each with its figures before → after and why.

The hedge program competes with the Layer 3 alternatives (:func:`hedge_wins`): one
decision, by the trader's preference, over everything weighed that day.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from alvh_cli.method.actions import (
    Action,
    Convert,
    OpenHedge,
    Recommendation,
    Roll,
)
from alvh_cli.method.decision import Preference, change_text, objective_text
from alvh_cli.method.risk import Costs, Evaluator, cash, trade, trading_cost
from alvh_cli.model.domain import Position
from alvh_cli.model.legs import value_legs

if TYPE_CHECKING:
    from alvh_cli.method import hedges as hedges_mod
    from alvh_cli.method import layer3 as layer3_mod


def hedge_wins(plan, l3, pref: Preference) -> bool:
    """The hedge program's choice beats every Layer 3 alternative (hold among them), or
    holding where ``l3`` is None — unless the plan is a book's share that the book's CVaR
    limit requires (``book_hedge.rivals``)."""
    if plan is None or not plan.chosen:
        return False
    from alvh_cli.method.book_hedge import rivals

    figures = rivals(plan, l3, plan.before)
    return pref.choose([*figures, plan.after]) == len(figures)


def layer3_decision(
    l3: layer3_mod.Layer3, layer: int, why: str, side: str, attention: bool, p: Position,
    plan=None,
) -> Recommendation:  # fmt: skip
    """The chosen alternative as a recommendation, the others beside it (and the hedge
    program's choice, ``plan``, which it beat)."""
    alt = l3.alternatives[l3.chosen]
    hold = l3.alternatives[0]
    pref = l3.preference
    n = len(l3.alternatives)
    beaten = ""
    if plan is not None and plan.chosen:
        beaten = (
            f"; the best layer {plan.layer} hedge, ${plan.spend:,.0f}, would give "
            f"{pref.objective(plan.after):,.0f}"
        )
    if alt.action == Action.HOLD:
        reason = f"{why}; holding is the best of {n} alternatives"
        reason += f" ({objective_text(pref, hold.figures)}){beaten}"
        return Recommendation(
            Action.HOLD, reason, layer, before=hold.figures, after=hold.figures,
            alternatives=l3.alternatives, attention=attention, preference=pref.describe(),
        )  # fmt: skip
    reason = f"{why}; {alt.name}: {change_text(pref, hold.figures, alt.figures)}, best of {n}"
    if pref.limited and not pref.meets(hold.figures):
        within = "within" if pref.meets(alt.figures) else "none within; the smallest tail loss"
        reason += f" ({within} the CVaR limit {pref.cvar_floor:,.0f})"
    reason += beaten
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
        preference=pref.describe(),
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


def open_hedges(
    plan: hedges_mod.HedgePlan, ev: Evaluator, why: str, attention: bool, pref: Preference
) -> list[Recommendation]:
    if not hedge_wins(plan, None, pref):
        why_not = (
            f"the best hedge within the budget does not beat holding: "
            f"{change_text(pref, plan.before, plan.after)}"
            if plan.chosen
            else plan.note
        )
        return [
            Recommendation(
                Action.HOLD,
                f"{why}; {why_not}",
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
        reason = f"{why}; {change_text(pref, plan.before, plan.after)} for ${plan.spend:,.0f}"
        if len(plan.chosen) > 1:
            reason += f"; hedge {k + 1} of {len(plan.chosen)}"
        if plan.note and k == 0:
            reason += f"; {plan.note}"
        elif plan.note:  # the program's note once, on its first hedge: not once an order
            reason += " (with hedge 1: see its reason)"
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
