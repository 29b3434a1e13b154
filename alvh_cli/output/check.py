"""Output of ``alvh check``: the positions, their scenario figures and the orders."""

from __future__ import annotations

import math

from alvh_cli.method.actions import Action, Convert, OpenHedge, Roll
from alvh_cli.output import common
from alvh_cli.output.common import money, num
from alvh_cli.output.records import position_json


def check_json(result, warnings=(), errors=()) -> dict:
    data = {
        "asof": result.asof,
        "regime": common.regime_json(result.regime),
        "positions": [position_json(pc) for pc in result.positions],
    }
    return common.with_problems(data, warnings, errors)


def emit_check(result, fmt: str, warnings=(), errors=()) -> None:
    """``warnings`` (InputWarnings) and ``errors`` (bad files' InputErrors) join the JSON;
    the caller prints them on stderr for every format (``common.print_problems``)."""
    if fmt == "json":
        return common.emit_json(check_json(result, warnings, errors))
    if fmt == "csv":
        rows = []
        for pc in result.positions:
            base = position_json(pc)
            recs = base.pop("recommendations")
            for r in recs:
                r.pop("alternatives", None)
                rows.append({**base, **{f"rec.{k}": v for k, v in r.items()}})
        return common.emit_csv(rows)
    print_check(common.console(), result)


def what(r) -> str:
    """The instrument, expiry and strikes of a recommendation, in a few words."""
    if isinstance(r, OpenHedge) and r.hedge is not None:
        h = r.hedge
        return f"VIX {h.long_strike:g}/{h.short_strike:g} C {h.expiry} L{r.layer}"
    if isinstance(r, Convert):
        return f"{r.instrument} {r.root} {r.strike:g} {r.expiry}"
    if isinstance(r, Roll):
        a, b = r.from_strikes, r.to_strikes
        return (
            f"roll {r.what} {'/'.join(f'{k:g}' for k in a)} {r.from_expiry} → "
            f"{'/'.join(f'{k:g}' for k in b)} {r.to_expiry}"
        )
    if r.trades:
        kinds = sorted({f"{t.leg.underlying} {t.leg.type}" for t in r.trades})
        return f"{r.action.value.replace('_', ' ')}: {len(r.trades)} legs ({', '.join(kinds)})"
    return ""


def qty(r) -> str:
    if isinstance(r, OpenHedge) and r.hedge is not None:
        return str(r.hedge.quantity)
    if isinstance(r, (Convert, Roll)):
        return str(r.quantity)
    if r.trades:
        return str(math.gcd(*(abs(t.quantity) for t in r.trades)))
    return ""


def change(before, after, name: str) -> str:
    if before is None:
        return ""
    b = getattr(before, name)
    if after is None or after is before:
        return common.money(b)
    return f"{common.money(b)} → {common.money(getattr(after, name))}"


def print_check(console, result) -> None:
    from rich.table import Table

    regime = result.regime
    console.print(
        f"alvh check as of {result.asof} — regime: {regime.label} ({regime.note})", style="bold"
    )
    if result.positions:
        console.print(f"scenarios: {result.positions[0].scenario_source}")
    t = Table(title_justify="left")
    cols = ("position", "DTE", "credit", "debit", "mark", "side", "layer", "on", "$delta",
            "$theta", "P&L $", "EV $", "CVaR $", "max loss $", "2x stop", "3x stop")  # fmt: skip
    left = ("position", "side", "on", "2x stop", "3x stop")
    for col in cols:
        t.add_column(col, justify="left" if col in left else "right", no_wrap=col != "position")
    for pc in result.positions:
        g = pc.greeks
        f = pc.figures
        style = "bold red" if pc.layer >= 3 else "yellow" if pc.layer >= 1 else ""
        t.add_row(
            pc.position.id,
            str(pc.dte),
            num(pc.position.credit),
            num(pc.debit_to_close),
            f"{pc.mark_multiple:.2f}x",
            pc.tested_side,
            str(pc.layer),
            ",".join(map(str, pc.position.deployed_layers)) or "-",
            money(g["delta"]),
            money(g["theta"]),
            money(pc.pnl),
            money(f.ev),
            money(f.cvar),
            loss(f.max_loss),
            pc.traditional["stop_2x"],
            pc.traditional["stop_3x"],
            style=style,
        )
    console.print(t)
    console.print(
        "EV, CVaR: mean and worst-5% mean of the P&L over the scenario horizon; max loss: the "
        "worst P&L at expiry; all in $ from today's marks."
    )
    print_recommendations(console, result.positions)
    for pc in result.positions:
        for r in pc.recommendations:
            if r.alternatives:
                print_alternatives(console, pc.position.id, r)


def loss(x) -> str:
    if x is None or (isinstance(x, float) and math.isinf(x)):
        return "unlimited"
    return money(x)


def print_recommendations(console, positions) -> None:
    from rich.table import Table

    r = Table(title="Recommendations", title_justify="left")
    right = ("qty", "cash $", "CVaR $", "EV $")
    for col in ("position", "action", "what", *right, "reason"):
        r.add_column(
            col, justify="right" if col in right else "left", overflow="fold",
            no_wrap=col in ("action", *right),
        )  # fmt: skip
    for pc in positions:
        for rec in pc.recommendations:
            action = rec.action.value + (" !" if rec.attention else "")
            r.add_row(
                pc.position.id,
                action,
                what(rec),
                qty(rec),
                money(rec.cash) if rec.trades else "",
                change(rec.before, rec.after, "cvar"),
                change(rec.before, rec.after, "ev"),
                rec.reason,
                style="bold" if rec.action != Action.HOLD or rec.attention else "",
            )
    console.print(r)
    console.print(
        "! = needs attention (layer 3 or past the 2x stop) even when the decision is to hold. "
        "cash $: premium received (> 0) or paid at the assumed fills; CVaR/EV: before → after."
    )


def print_alternatives(console, pid: str, rec) -> None:
    from rich.table import Table

    t = Table(title=f"{pid}: layer 3 alternatives (chosen in bold)", title_justify="left")
    right = ("EV $", "sd $", "CVaR $", "worst rung $", "max loss $", "cost $")
    for col in ("alternative", *right, "verdict"):
        t.add_column(col, justify="right" if col in right else "left", overflow="fold")
    chosen = rec.after
    for a in rec.alternatives:
        f = a.figures
        mine = f is chosen
        t.add_row(
            a.name,
            money(f.ev),
            money(f.sd),
            money(f.cvar),
            f"{money(f.worst)} ({f.worst_label})",
            loss(f.max_loss),
            money(a.cost),
            "chosen" if mine else ("eligible" if a.eligible else a.why_not),
            style="bold" if mine else "",
        )
    console.print(t)
