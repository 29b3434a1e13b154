"""Output of ``alvh check``: the positions, their scenario figures and the orders."""

from __future__ import annotations

import math

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
    common.print_recommendations(
        console,
        [
            (pc.position.id, rec)
            for pc in result.positions
            for rec in position_json(pc)["recommendations"]
        ],
    )
    for pc in result.positions:
        for r in pc.recommendations:
            if r.alternatives:
                print_alternatives(console, pc.position.id, r)


def loss(x) -> str:
    if x is None or (isinstance(x, float) and math.isinf(x)):
        return "unlimited"
    return money(x)


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
