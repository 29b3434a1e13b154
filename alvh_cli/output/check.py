"""Output of ``alvh check``: the positions table and the recommendations."""

from __future__ import annotations

from alvh_cli.output import common
from alvh_cli.output.common import money, num


def check_json(result, warnings=(), errors=()) -> dict:
    data = {
        "asof": result.asof,
        "regime": common.regime_json(result.regime),
        "positions": result.positions,
    }
    return common.with_problems(data, warnings, errors)


def emit_check(result, fmt: str, warnings=(), errors=()) -> None:
    """``warnings`` (InputWarnings) and ``errors`` (bad files' InputErrors) join the JSON;
    the caller prints them on stderr for every format (``common.print_problems``)."""
    if fmt == "json":
        return common.emit_json(check_json(result, warnings, errors))
    if fmt == "csv":
        rows = []
        for p in result.positions:
            base = {k: v for k, v in p.items() if k != "recommendations"}
            for r in p["recommendations"]:
                rows.append({**base, **{f"rec.{k}": v for k, v in r.items()}})
        return common.emit_csv(rows)
    console = common.console()
    print_check(console, result)


def print_check(console, result) -> None:
    from rich.table import Table

    regime = result.regime
    console.print(
        f"alvh check as of {result.asof} — regime: {regime.label} ({regime.note})", style="bold"
    )
    t = Table(title_justify="left")
    for col in (
        "position",
        "DTE",
        "credit",
        "debit",
        "mark",
        "side",
        "layer",
        "on",
        "$delta",
        "$vega",
        "$theta",
        "P&L $",
        "2x stop",
        "3x stop",
    ):
        t.add_column(
            col,
            justify="left" if col in ("position", "side", "2x stop", "3x stop", "on") else "right",
        )
    for p in result.positions:
        g = p["greeks"]
        mark = f"{p['mark_multiple']:.2f}x"
        style = "bold red" if p["layer"] >= 3 else "yellow" if p["layer"] >= 1 else ""
        t.add_row(
            p["id"],
            str(p["dte"]),
            num(p["credit"]),
            num(p["debit_to_close"]),
            mark,
            p["tested_side"],
            str(p["layer"]),
            ",".join(map(str, p["deployed_layers"])) or "-",
            money(g["delta"]),
            money(g["vega"]),
            money(g["theta"]),
            money(p["pnl"]),
            p["traditional"]["stop_2x"],
            p["traditional"]["stop_3x"],
            style=style,
        )
    console.print(t)
    common.print_recommendations(
        console, [(p["id"], rec) for p in result.positions for rec in p["recommendations"]]
    )
