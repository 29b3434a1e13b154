"""Plain records of the check's typed results: the JSON of ``check`` and ``review``,
their CSV rows, and what the journal stores.

The core hands over typed values (:class:`alvh_cli.method.check.PositionCheck`
and the recommendations of :mod:`alvh_cli.method.actions`); these functions turn
them into dicts whose dollar amounts are :class:`~alvh_cli.output.common.Dollars`
(rounded to cents on output). No rich here: the journal uses them too.
"""

from __future__ import annotations

from typing import Literal

from alvh_cli.method.actions import Convert, OpenHedge, Roll, instrument_of
from alvh_cli.output.common import Dollars, leg_text_of

FIGURES = ("ev", "sd", "cvar", "worst", "max_loss")

Alternatives = Literal["full", "figures", "none"]

# What the money and price keys of a recommendation mean: the JSON of check and review
# carries this as "legend", so a script need not guess which figure is rounded.
LEGEND = {
    "hedge_book": "the positions due a hedge layer on one snapshot and condor expiry, hedged "
    "by one program: their number, pooled budget and spend, the book's EV and CVaR before and "
    "after (dollars) and this position's share of the book's tail (null: its own program)",
    "pnl": "dollars, the legs held against their entry prices; realised_pnl: the legs closed",
    "open_multiple": "after a roll or a close: what the legs held cost to close against "
    "their own credit (the layers follow it; mark_multiple counts what was realised)",
    "revision": "the position's fingerprint: alvh apply --from-json refuses a file changed since",
    "cost": "dollars paid at the orders' limits, all orders together (negative: received)",
    "cost_at_fills": "dollars paid at the assumed fills, unrounded (negative: received); the "
    "_after figures include it",
    "trading_cost": "dollars given up to half-spreads and fees at the assumed fills",
    "debit": "open_hedge only: the order's limit, points per unit (a spread, a call alone, "
    "or a future's price)",
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
    "orders[].cost": "dollars at the limit: limit x quantity x multiplier, negative when received "
    "(0 for a VIX future: no premium)",
}


def figures_json(f, suffix: str = "") -> dict:
    if f is None:
        return {}
    if not suffix:  # the common case, written out: a book has tens of thousands
        return {
            "ev": Dollars(f.ev), "sd": Dollars(f.sd), "cvar": Dollars(f.cvar),
            "worst": Dollars(f.worst), "max_loss": Dollars(f.max_loss),
            "worst_rung": f.worst_label,
        }  # fmt: skip
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


def alternative_json(a, legs: bool = True) -> dict:
    """A Layer 3 alternative as a record; ``legs`` False leaves out its trades."""
    out = {
        "name": a.name,
        "action": a.action.value,
        **figures_json(a.figures),
        "trading_cost": Dollars(a.cost),
        "cash": Dollars(a.cash),
        "objective": Dollars(a.objective),
        "eligible": a.eligible,
        "why_not": a.why_not or None,
    }
    if legs:
        out["legs"] = [trade_json(t) for t in a.trades]
    return out


def recommendation_json(r, alternatives: Alternatives = "full") -> dict:
    """A recommendation as a record, with its orders; its Layer 3 ``alternatives``
    "full", each without its legs ("figures": a table shows none), or left out ("none":
    a CSV row has no room for them; ``preference`` is still given)."""
    orders = r.orders
    out = {
        "action": r.action.value,
        "layer": r.layer,
        "reason": r.reason,
        "attention": r.attention,
    }
    if isinstance(r, OpenHedge) and r.hedge is not None:
        h = r.hedge
        out.update(
            instrument=h.instrument,
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
        if h.instrument == "vix_future":
            out.update(root=h.root, budget_cost=Dollars(h.budget_cost))
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
        out["instrument"] = instrument_of(r.trades)
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
    if r.objective_before is not None:
        out.update(
            objective_before=Dollars(r.objective_before),
            objective_after=Dollars(r.objective_after),
        )
    if r.alternatives:
        out["preference"] = r.preference
        if alternatives != "none":
            legs = alternatives == "full"
            out["alternatives"] = [alternative_json(a, legs) for a in r.alternatives]
    return out


def position_json(pc, *, recommendations: bool = True, alternatives: Alternatives = "full") -> dict:
    """A checked position as a record; ``recommendations`` False leaves its
    recommendations out (the review lists them apart); ``alternatives`` as for
    :func:`recommendation_json`."""
    p = pc.position
    out = {
        "id": p.id,
        "source": p.source,
        "revision": p.revision,
        "expiry": pc.expiry.isoformat(),
        "dte": pc.dte,
        "units": p.units,
        "credit": p.credit,
        "debit_to_close": pc.debit_to_close,
        "mark_multiple": pc.mark_multiple,
        "open_multiple": pc.open_multiple,
        "tested_side": pc.tested_side,
        "layer": pc.layer,
        "layer_reason": pc.layer_reason,
        "deployed_layers": list(p.deployed_layers),
        "regime": pc.regime,
        "attention": pc.attention,
        "greeks": {k: Dollars(v) for k, v in pc.greeks.items()},
        "pnl": Dollars(pc.pnl),
        "realised_pnl": Dollars(p.realised()),
        "traditional": pc.traditional,
        "figures": figures_json(pc.figures),
        "scenarios": pc.scenario_source,
    }
    if recommendations:
        out["recommendations"] = [recommendation_json(r, alternatives) for r in pc.recommendations]
    out["hedge_book"] = hedge_book_json(pc.hedge_plan)
    return out


def hedge_book_json(plan) -> dict | None:
    """The book program a position's hedge plan is a share of (None: its own program, or no
    hedge sized): ``method.book_hedge.BookShare`` in dollars."""
    share = getattr(plan, "book", None)
    if share is None:
        return None
    return {
        "positions": share.positions,
        "budget": Dollars(share.budget),
        "spend": Dollars(share.spend),
        "ev_before": Dollars(share.ev_before),
        "ev_after": Dollars(share.ev_after),
        "cvar_before": Dollars(share.cvar_before),
        "cvar_after": Dollars(share.cvar_after),
        "share": None if share.share != share.share else round(share.share, 6),
        "objective": share.objective,
        "limit_binding": share.binding,
    }


def review_row_json(row) -> dict:
    """A review row (``method.review.ReviewRow``): the check's position record without its
    recommendations, plus ``actions``, ``needs_action``, ``hedge_budget`` and
    ``hedge_spent`` (dollars)."""
    p = position_json(row.check, recommendations=False)
    p.update(
        actions=list(row.actions),
        needs_action=row.needs_action,
        hedge_budget=Dollars(row.hedge_budget),
        hedge_spent=Dollars(row.hedge_spent),
    )
    return p


def review_recommendations_json(rows, *, lazy: bool = False, alternatives: Alternatives = "full"):
    """Every recommendation of the review's rows (holds included), in row order, each with
    its position's ``id`` and ``source``. ``lazy``: an iterator that builds each record as
    it is read (see :func:`price_json`); else a list. ``alternatives`` as for
    :func:`recommendation_json`."""
    records = (
        {
            "id": row.check.position.id,
            "source": row.check.position.source,
            **recommendation_json(rec, alternatives),
        }  # fmt: skip
        for row in rows
        for rec in row.check.recommendations
    )
    return records if lazy else list(records)


def totals_json(t) -> dict:
    """Book totals (``method.review.BookTotals``): dollars as ``Dollars``, the ratio as is."""
    return {
        "positions": t.positions,
        "needs_action": t.needs_action,
        **{name: Dollars(getattr(t, name)) for name in ("delta", "gamma", "vega", "theta")},
        "pnl": Dollars(t.pnl),
        "realised_pnl": Dollars(t.realised),
        "hedge_budget": Dollars(t.hedge_budget),
        "hedge_spent": Dollars(t.hedge_spent),
        "hedge_proposed": Dollars(t.hedge_proposed),
        "hedge_remaining": Dollars(t.hedge_remaining),
        "hedge_budget_used": t.hedge_budget_used,
    }


def price_json(values, *, lazy: bool = False) -> dict:
    """``alvh price``'s record: every valued position (``PositionValues``) and its legs.

    ``lazy``: ``legs`` is an iterator that builds each leg's dict as it is read, for a
    writer that streams them (a 10,000-position book is 50,000 leg dicts, about
    100 MiB held at once); else a list.
    """
    summaries = [
        {
            "id": pv.position.id,
            "source": pv.position.source,
            "expiry": pv.position.expiry.isoformat(),
            "credit": pv.position.credit,
            "debit_to_close": pv.debit_to_close,
            "mark_multiple": pv.mark_multiple,
            "pnl": pv.pnl,
            "greeks": pv.greeks,
        }
        for pv in values
    ]
    rows = (row for pv in values for row in leg_rows(pv))
    asof = sorted({pv.market.asof.isoformat() for pv in values})
    data = {
        "asof": asof[0] if len(asof) == 1 else asof,
        "positions": summaries,
        "legs": rows if lazy else list(rows),
    }
    markets = {id(pv.market): pv.market for pv in values if pv.market.spx_surface is not None}
    if markets:
        data["surface"] = [surface_summary(m) for m in markets.values()]
    return data


def leg_rows(pv):
    """One plain dict per leg of a valued position: ``alvh price``'s leg rows."""
    import numpy as np

    from alvh_cli.model.valuation import GREEKS

    p, v = pv.position, pv.values
    for i, g in enumerate(pv.legs):
        yield {
            "source": p.source,
            "position": p.id,
            "leg": g.key,
            "underlying": g.underlying,
            "root": g.root,
            "type": g.type,
            "strike": g.strike,
            "expiry": g.expiry.isoformat(),
            "dte": int(v.dte[i]),
            "layer": g.layer,
            "quantity": g.quantity,
            "vol": None if np.isnan(v.vol[i]) else float(v.vol[i]),
            "vol_source": v.vol_source[i],
            "mark": g.mark,
            "mark_time": None if g.mark_time is None else g.mark_time.isoformat(),
            "price": float(v.price[i]),
            "delta": float(v.delta[i]),
            "gamma": float(v.gamma[i]),
            "vega": float(v.vega[i]),
            "theta": float(v.theta[i]),
            "rho": float(v.rho[i]),
            "value": float(v.price[i] * v.quantity[i] * v.multiplier[i]),
            **{f"dollar_{n}": float(pv.spx_dollars[n][i]) for n in GREEKS},
        }


def surface_summary(market) -> dict:
    """The market's fitted SPX surface for ``alvh price``: one row per expiry.

    Per expiry: ``T`` (years to settlement), ``dte``, the ``forward`` (points,
    at the market's SPX level) and ``discount`` it is priced on, the implied
    ``rate`` ``−ln(D)/T``, the fit's ``rms`` (vol points), ``n_quotes`` and
    ``butterfly_free`` (None where the market file did not record them). Then
    the chain's expiries that could not be fitted, with the reason.
    """
    import numpy as np

    from alvh_cli.model.surface import slice_times, spx_forward_discount
    from alvh_cli.model.timing import dte

    surface = market.spx_surface
    times = slice_times(surface, market.asof)
    forward, discount = spx_forward_discount(market, times)
    return {
        "market": market.source,
        "source": surface.source,
        "spot": surface.spot,
        "expiries": [
            {
                "root": s.root,
                "expiry": s.expiry.isoformat(),
                "dte": dte(market.asof, s.expiry),
                "T": float(t),
                "forward": float(f),
                "discount": float(d),
                "rate": float(-np.log(d) / t),
                "rms": s.rms,
                "n_quotes": s.n_quotes,
                "butterfly_free": s.butterfly_free,
            }
            for s, t, f, d in zip(surface.slices, times, forward, discount, strict=True)
        ],
        "unfitted": [
            {"root": root, "expiry": expiry.isoformat(), "reason": reason}
            for root, expiry, reason in surface.unfitted
        ],
    }


def marks_json(marks) -> list[dict]:
    """``marks`` ((file, ``MarkUse``) pairs) as records (:func:`mark_json`)."""
    return [mark_json(m, source) for source, m in marks]


def mark_json(m, source: str = "") -> dict:
    """A broker mark and what became of it (``alvh_cli.model.marks.MarkUse``): the leg, the
    mark and its time, ``status`` (a code of ``alvh_cli.model.marks.STATUS``, with its
    words in ``use``), and the model's own price of the leg (``model``, from
    ``model_source``) with ``difference`` = model − mark, points per contract."""
    import math

    from alvh_cli.model.marks import STATUS

    g = m.leg
    model = m.model if math.isfinite(m.model) else None
    return {
        "source": source,
        "leg": g.key,
        "root": g.root,
        "type": g.type,
        "strike": g.strike,
        "expiry": g.expiry.isoformat(),
        "mark": g.mark,
        "mark_time": None if g.mark_time is None else g.mark_time.isoformat(),
        "status": m.status,
        "use": STATUS[m.status],
        "model": model,
        "model_source": m.model_source or None,
        "difference": None if model is None else model - g.mark,
    }
