"""Plain records of the check's typed results: the JSON of ``check`` and ``review``,
their CSV rows, and what the journal stores.

The core hands over typed values (:class:`alvh_cli.method.check.PositionCheck`
and the recommendations of :mod:`alvh_cli.method.actions`); these functions turn
them into dicts whose dollar amounts are :class:`~alvh_cli.output.common.Dollars`
(rounded to cents on output). No rich here: the journal uses them too.
"""

from __future__ import annotations

from alvh_cli.method.actions import Convert, OpenHedge, Roll
from alvh_cli.output.common import Dollars

FIGURES = ("ev", "sd", "cvar", "worst", "max_loss")


def figures_json(f, suffix: str = "") -> dict:
    if f is None:
        return {}
    return {
        **{f"{k}{suffix}": Dollars(getattr(f, k)) for k in FIGURES},
        f"worst_rung{suffix}": f.worst_label,
    }


def trade_json(t) -> dict:
    g = t.leg
    return {
        "underlying": g.underlying,
        "root": g.root,
        "type": g.type,
        "strike": g.strike,
        "expiry": g.expiry.isoformat(),
        "quantity": t.quantity,
        "opening": t.opening,
        "layer": g.layer,
        "model": t.model,
        "price": t.price,
        "quoted": t.quoted,
    }


def alternative_json(a) -> dict:
    return {
        "name": a.name,
        "action": a.action.value,
        **figures_json(a.figures),
        "trading_cost": Dollars(a.cost),
        "cash": Dollars(a.cash),
        "eligible": a.eligible,
        "why_not": a.why_not or None,
        "legs": [trade_json(t) for t in a.trades],
    }


def recommendation_json(r) -> dict:
    out = {
        "action": r.action.value,
        "layer": r.layer,
        "reason": r.reason,
        "attention": r.attention,
    }
    if isinstance(r, OpenHedge) and r.hedge is not None:
        h = r.hedge
        out.update(
            instrument="vix_call_spread",
            expiry=h.expiry.isoformat(),
            long_strike=h.long_strike,
            short_strike=h.short_strike,
            quantity=h.quantity,
            debit=h.debit,
            price_source=h.price_source,
            stress_gain=Dollars(h.stress_gain),
            stress_loss=Dollars(h.stress_loss),
            coverage=h.coverage,
            budget_limited=r.budget_limited,
            spend_limit=Dollars(r.spend_limit),
        )
    elif isinstance(r, Convert):
        n = max(r.quantity, 1)
        out.update(
            instrument=r.instrument,
            root=r.root,
            expiry=r.expiry.isoformat() if r.expiry else None,
            strike=r.strike,
            quantity=r.quantity,
            debit=-r.cash / (n * 100.0),
            parity_edge=r.parity_edge,
        )
    elif isinstance(r, Roll):
        n = max(r.quantity, 1)
        out.update(
            instrument=r.what.replace(" ", "_"),
            from_expiry=r.from_expiry.isoformat() if r.from_expiry else None,
            to_expiry=r.to_expiry.isoformat() if r.to_expiry else None,
            from_strikes=list(r.from_strikes),
            to_strikes=list(r.to_strikes),
            quantity=r.quantity,
            debit=-r.cash / (n * 100.0),
        )
    if r.trades and "instrument" not in out:
        out["instrument"] = describe(r.trades)
        qty = {abs(t.quantity) for t in r.trades}
        if len(qty) == 1:
            out["quantity"] = qty.pop()
    if r.trades:
        out["cost"] = Dollars(-r.cash)
        out["trading_cost"] = Dollars(r.trading_cost)
        out["legs"] = [trade_json(t) for t in r.trades]
    out.update(figures_json(r.before, "_before"))
    out.update(figures_json(r.after, "_after"))
    if r.alternatives:
        out["alternatives"] = [alternative_json(a) for a in r.alternatives]
    return out


def describe(trades) -> str:
    """What a list of trades is, in a word: "vix_call_spread", "iron_condor", or the kinds."""
    kinds = sorted({(t.leg.underlying, t.leg.type) for t in trades})
    if kinds == [("VIX", "call")] and len(trades) == 2:
        return "vix_call_spread"
    if kinds == [("SPX", "call"), ("SPX", "put")] and len(trades) == 4:
        return "iron_condor"
    if len(kinds) == 1 and len(trades) == 2 and kinds[0][0] == "SPX":
        return f"{kinds[0][1]}_vertical"
    return "+".join(f"{u.lower()}_{t}" for u, t in kinds)


def position_json(pc) -> dict:
    p = pc.position
    return {
        "id": p.id,
        "source": p.source,
        "expiry": pc.expiry.isoformat(),
        "dte": pc.dte,
        "units": p.units,
        "credit": p.credit,
        "debit_to_close": pc.debit_to_close,
        "mark_multiple": pc.mark_multiple,
        "tested_side": pc.tested_side,
        "layer": pc.layer,
        "layer_reason": pc.layer_reason,
        "deployed_layers": list(p.deployed_layers),
        "regime": pc.regime,
        "attention": pc.attention,
        "greeks": {k: Dollars(v) for k, v in pc.greeks.items()},
        "pnl": Dollars(pc.pnl),
        "traditional": pc.traditional,
        "figures": figures_json(pc.figures),
        "scenarios": pc.scenario_source,
        "recommendations": [recommendation_json(r) for r in pc.recommendations],
    }
