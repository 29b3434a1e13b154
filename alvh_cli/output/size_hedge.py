"""Output of ``alvh size-hedge``: the scenario set, the candidates, the counts and why."""

from __future__ import annotations

from alvh_cli.output import common
from alvh_cli.output.common import Dollars, leg_text_of, money
from alvh_cli.output.records import figures_json, hedge_book_json, order_leg_json, position_json


def hedge_json(h, count=None) -> dict:
    out = {
        "instrument": h.instrument,
        "expiry": h.expiry.isoformat(),
        "long_strike": h.long_strike,
        "short_strike": h.short_strike,
        "debit": h.debit,
        "model_debit": h.model_debit,
        "price_source": h.price_source,
        "cost": Dollars(h.cost),
        "roll_cost": Dollars(h.roll_cost),
        "stress_gain": Dollars(h.stress_gain),
    }
    if h.instrument == "vix_future":
        out["root"] = h.root
    if count is not None:
        out["count"] = count
    return out


def ranked_json(r) -> dict:
    return {
        **hedge_json(r.hedge, r.count),
        "ev_gain": Dollars(r.ev_gain),
        "tail_gain": Dollars(r.tail_gain),
        "objective_change_per_dollar": r.margin,
        "fits": r.fits,
    }


def plan_json(plan) -> dict | None:
    if plan is None:
        return None
    return {
        "layer": plan.layer,
        "budget": Dollars(plan.budget),
        "budget_spent": Dollars(plan.spent),
        "spend_limit": Dollars(plan.limit),
        "vix_expiries": [e.isoformat() for e in plan.expiries],
        "candidates_priced": plan.n_candidates,
        "objective": plan.objective,
        "cvar_limit_met": plan.meets,
        "candidates": [ranked_json(r) for r in plan.ranked],
        "chosen": [hedge_json(h, n) for h, n in plan.chosen],
        "spend": Dollars(plan.spend),
        **figures_json(plan.before, "_before"),
        **figures_json(plan.after, "_after"),
        "stress_loss": Dollars(plan.stress_loss),
        "budget_limited": plan.budget_limited,
        "note": plan.note or None,
        "book": hedge_book_json(plan),
    }


def size_hedge_json(checks) -> dict:
    out = []
    for pc in checks:
        item = position_json(pc)
        item["stress_rung"] = {"label": pc.stress[0], "spx": pc.stress[1], "vix": pc.stress[2]}
        item["ladder"] = [
            {"rung": label, "spx": s, "vix": v, "pnl": Dollars(x)} for label, s, v, x in pc.ladder
        ]
        if pc.hedge_plan is not None and pc.hedge_plan.ladder_after:
            for row, after in zip(item["ladder"], pc.hedge_plan.ladder_after, strict=True):
                row["pnl_hedged"] = Dollars(after)
        item["hedge_plan"] = plan_json(pc.hedge_plan)
        out.append(item)
    return {"positions": out}


def emit_size_hedge(checks, fmt: str) -> None:
    data = size_hedge_json(checks)
    if fmt == "json":
        return common.emit_json(data)
    if fmt == "csv":
        return common.emit_csv(
            [
                {"id": p["id"], "rank": i + 1, **c}
                for p in data["positions"]
                if p["hedge_plan"]
                for i, c in enumerate(p["hedge_plan"]["candidates"])
            ]
        )
    console = common.console()
    for pc in checks:
        print_one(console, pc)


def print_one(console, pc) -> None:
    """One position's size-hedge report.

    Over 80 lines: the report top to bottom (heading, figures, the candidates table, the
    choice and its notes), each part a few lines.
    """
    from rich.table import Table

    p, plan = pc.position, pc.hedge_plan
    console.print(
        f"{p.id} ({p.source}): mark {pc.mark_multiple:.2f}x, {common.side_text(pc.tested_side)} — "
        f"{pc.layer_reason}",
        style="bold",
    )
    f = pc.figures
    console.print(
        f"Scenarios: {pc.scenario_source}. As held: EV ${money(f.ev)}, SD ${money(f.sd)}, "
        f"CVaR ${money(f.cvar)} (mean of the worst share), worst rung ${money(f.worst)} "
        f"({f.worst_label}), max loss at expiry {_loss(f.max_loss)}."
    )
    hedged = plan is not None and bool(plan.ladder_after) and bool(plan.chosen)
    t = Table(title="Ladder (revalued at the horizon)", title_justify="left")
    cols = ["rung", "SPX", "VIX", "P&L $"] + (["with hedges $"] if hedged else [])
    for col in cols:
        t.add_column(col, justify="left" if col == "rung" else "right")
    for k, (label, s, v, x) in enumerate(pc.ladder):
        row = [label, f"{s:,.2f}", f"{v:.2f}", money(x)]
        if hedged:
            row.append(money(plan.ladder_after[k]))
        t.add_row(*row)
    console.print(t)
    if plan is None:
        console.print(
            "No hedge layer is due: "
            + "; ".join(r.reason for r in pc.recommendations)
            + ". `--layer 1` sizes one anyway."
        )
        console.print()
        return
    console.print(
        f"Layer {plan.layer}: hedge budget ${money(plan.budget)} (hedge_budget × the credit), "
        f"spent "
        f"${money(plan.spent)}, this layer may spend ${money(plan.limit)}. "
        f"{plan.n_candidates} hedge{'s' * (plan.n_candidates != 1)} priced on "
        + ", ".join(e.isoformat() for e in plan.expiries)
        + "."
    )
    if plan.book is not None:
        console.print(
            f"Hedged as a book of {plan.book.positions} positions due a layer, as check "
            "decides: the candidates and counts below are the book's program's; this "
            f"position's share is {plan.book.share:.0%} (its loss in the book's tail). "
            "--per-position-hedges on check, or --layer here, sizes its own."
        )
    if plan.ranked:
        c = Table(
            title="Candidates by their part in the choice (EV and tail gain: what the count "
            f"adds to the EV and the CVaR; obj/$: the change of {plan.objective} per $ of the "
            "last contract bought, or of one more; *: one more does not fit the layer's limits)",
            title_justify="left",
        )
        cols = ("hedge", "debit", "src", "unit $", "count", "EV gain $", "tail gain $", "obj/$")
        for col in cols:
            c.add_column(col, justify="left" if col in ("hedge", "src") else "right")
        for r in plan.ranked:
            h = r.hedge
            c.add_row(
                h.name,
                f"{h.debit:.2f}",
                h.price_source,
                money(h.cost),
                str(r.count),
                money(r.ev_gain),
                money(r.tail_gain),
                f"{r.margin:+.2f}" + ("" if r.fits else "*"),
                style="bold" if r.count else "",
            )
        console.print(c)
    if plan.chosen:
        buys = " and ".join(f"{n} × {s.name} at {s.debit:.2f}" for s, n in plan.chosen)
        b, a = plan.before, plan.after
        what = (
            "This position's share of the book's choice"
            if plan.book is not None
            else f"Choice (integer counts maximising {plan.objective}, over every candidate)"
        )
        console.print(
            f"{what}: buy {buys} for ${money(plan.spend)}. "
            f"CVaR ${money(b.cvar)} → ${money(a.cvar)}, "
            f"EV ${money(b.ev)} → ${money(a.ev)}, "
            f"worst rung ${money(b.worst)} → ${money(a.worst)}, max loss {_loss(b.max_loss)} → "
            f"{_loss(a.max_loss)}.",
            style="bold",
        )
        for rec in pc.recommendations:
            for o in rec.orders if rec.action.value == "open_hedge" else ():
                legs = ", ".join(leg_text_of(order_leg_json(g)) for g in o.legs)
                way = "down" if o.price_effect == "debit" else "up"
                console.print(
                    f"Order: {o.underlying} {legs}; {o.limit_text} × {o.quantity} "
                    f"({o.fill_value:.4f} at the assumed fills, rounded {way} to the "
                    f"{o.tick:g} tick)."
                )
        gain = sum(s.stress_gain * n for s, n in plan.chosen)
        if plan.stress_loss == plan.stress_loss:  # not NaN
            console.print(
                f"At the old stress point ({pc.stress[0]}): the position loses "
                f"${money(plan.stress_loss)}; the new hedges make ${money(gain)} there, net of "
                "their cost (a VIX hedge pays in larger moves: see the ladder)."
            )
    if plan.note:
        console.print(plan.note)
    console.print()


def _loss(x) -> str:
    from alvh_cli.output.common import loss_text as loss

    value = loss(x)
    return value if value == "unlimited" else f"${value}"
