"""Plain records of the check's typed results: the JSON of ``check`` and ``review``,
their CSV rows, and what the journal stores.

The core hands over typed values (:class:`alvh_cli.method.check.PositionCheck`
and the recommendations of :mod:`alvh_cli.method.actions`); these functions turn
them into dicts whose dollar amounts are :class:`~alvh_cli.output.common.Dollars`
(rounded to cents on output). No rich here: the journal uses them too.
"""

from __future__ import annotations

from alvh_cli.method.actions import Convert, OpenHedge, Roll
from alvh_cli.output.common import Dollars, leg_text_of

FIGURES = ("ev", "sd", "cvar", "worst", "max_loss")

# What the money and price keys of a recommendation mean: the JSON of check and review
# carries this as "legend", so a script need not guess which figure is rounded.
LEGEND = {
    "cost": "dollars paid at the orders' limits, all orders together (negative: received)",
    "cost_at_fills": "dollars paid at the assumed fills, unrounded (negative: received); the "
    "_after figures include it",
    "trading_cost": "dollars given up to half-spreads and fees at the assumed fills",
    "debit": "open_hedge only: the order's limit, points per spread",
    "legs": "the method's trades: quantity signed contracts (+ buy); model and price "
    "(assumed fill) in points per contract",
    "orders": "what to send a broker: one order per venue (SPX options, VIX options, each "
    "VIX future), never SPX and VIX legs together",
    "orders[].quantity": "units of the order; each leg trades ratio contracts per unit",
    "orders[].legs[].action": "BTO/STO/BTC/STC, decided against the position's legs",
    "orders[].legs[].occ": "OCC OSI symbol (null for a VIX future)",
    "orders[].legs[].price": "assumed fill per contract, points: the natural bid/ask when "
    "quoted, else the model less/plus the rules' half-spread",
    "orders[].fill_value": "net per unit at the legs' price, unrounded (points)",
    "orders[].model_value": "net per unit at model values, unrounded, in the price_effect "
    "direction (negative: the model nets the other way)",
    "orders[].limit": "points per unit on the exchange tick, fill_value rounded in the "
    "trader's favour (debit down, credit up); never signed: see price_effect",
    "orders[].price_effect": "debit (paid) or credit (received)",
    "orders[].cost": "dollars at the limit: limit x quantity x multiplier, negative when received",
}


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


def ticket_trades(trades, held=()) -> list:
    """The method's trades (``TradeLeg``) as a broker sees them: netted per contract,
    opened or closed against ``held`` (the position's legs), priced at the assumed fills."""
    from alvh_cli.output import tickets  # only where a recommendation trades

    return tickets.net_trades(
        (
            tickets.Trade(
                t.leg.underlying,
                t.leg.root,
                t.leg.type,
                t.leg.strike,
                t.leg.expiry,
                t.quantity,
                t.opening,
                t.price,
                t.model,
            )
            for t in trades
        ),
        held,
    )


def orders_of(trades, held=()) -> tuple:
    """Order tickets for a recommendation's trades (:mod:`alvh_cli.output.tickets`)."""
    from alvh_cli.output import tickets

    return tickets.orders_for(ticket_trades(trades, held))


def order_leg_json(g) -> dict:
    return {
        "action": g.action,
        "ratio": g.ratio,
        "quantity": g.quantity,
        "occ": g.occ,
        "underlying": g.underlying,
        "root": g.root,
        "type": g.type,
        "strike": g.strike,
        "expiry": g.expiry.isoformat(),
        "price": g.price,
        "model": g.price if g.model is None else g.model,
    }


def order_json(o) -> dict:
    legs = [order_leg_json(g) for g in o.legs]
    return {
        "underlying": o.underlying,
        "quantity": o.quantity,
        "price_effect": o.price_effect,
        "limit": o.limit,
        "limit_text": o.limit_text,
        "tick": o.tick,
        "fill_value": o.fill_value,
        "model_value": o.model_value,
        "cost": Dollars(o.cost),
        "ticket": f"{', '.join(leg_text_of(g) for g in legs)}: {o.quantity} at {o.limit_text}",
        "note": o.note or None,
        "legs": legs,
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


def recommendation_json(r, held=()) -> dict:
    """A recommendation as a record; ``held`` the position's legs, which decide whether an
    order leg opens or closes (BTO/STO/BTC/STC)."""
    orders = orders_of(r.trades, held) if r.trades else ()
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
            debit=orders[0].limit if len(orders) == 1 else h.debit,
            price_source=h.price_source,
            stress_gain=Dollars(h.stress_gain),
            stress_loss=Dollars(h.stress_loss),
            coverage=h.coverage,
            budget_limited=r.budget_limited,
            spend_limit=Dollars(r.spend_limit),
        )
    elif isinstance(r, Convert):
        out.update(
            instrument=r.instrument,
            root=r.root,
            expiry=r.expiry.isoformat() if r.expiry else None,
            strike=r.strike,
            quantity=r.quantity,
            parity_edge=r.parity_edge,
        )
    elif isinstance(r, Roll):
        out.update(
            instrument=r.what.replace(" ", "_"),
            from_expiry=r.from_expiry.isoformat() if r.from_expiry else None,
            to_expiry=r.to_expiry.isoformat() if r.to_expiry else None,
            from_strikes=list(r.from_strikes),
            to_strikes=list(r.to_strikes),
            quantity=r.quantity,
        )
    if r.trades and "instrument" not in out:
        out["instrument"] = describe(r.trades)
        qty = {abs(t.quantity) for t in r.trades}
        if len(qty) == 1:
            out["quantity"] = qty.pop()
    if r.trades:
        out["cost"] = Dollars(sum(o.cost for o in orders))
        out["cost_at_fills"] = Dollars(-r.cash)
        out["trading_cost"] = Dollars(r.trading_cost)
        out["legs"] = [trade_json(t) for t in r.trades]
    out["orders"] = [order_json(o) for o in orders]
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
        "recommendations": [recommendation_json(r, p.legs) for r in pc.recommendations],
    }
