"""Presentation of ``alvh review``: rich tables for people, JSON and CSV for scripts.

JSON: ``{"asof", "regime", "journal", "totals", "positions", "recommendations",
"warnings", "errors", "changes"}`` (``changes`` only with ``--changes``). CSV: one row per
recommendation with its position's fields, or with ``--changes`` one row per
change. rich is imported only for the table.
"""

from __future__ import annotations

from alvh_cli.output import common
from alvh_cli.output.common import money, num


def _since(result) -> dict | None:
    s = result.since
    if s is None:
        return None
    return {"review_id": s.id, "run_at": s.run_at, "asof": s.asof, "status": s.status}


def review_json(result, warnings=(), errors=()) -> dict:
    """The JSON document of one review (before rounding)."""
    data = {
        "asof": result.asof,
        "regime": common.regime_json(result.regime),
        "journal": {"path": result.journal_path, "review_id": result.review_id},
        "totals": result.totals,
        "positions": result.rows,
        "recommendations": result.recommendations,
    }
    common.with_problems(data, warnings, errors, notes=result.warnings)
    if result.changes is not None:
        data["changes"] = {"since": _since(result), "changes": result.changes}
    return data


def emit_review(result, fmt: str, warnings=(), errors=()) -> None:
    """Write ``result`` to stdout as ``table`` (rich), ``json`` or ``csv``; ``warnings`` and
    ``errors`` as in ``output.check.emit_check``."""
    if fmt == "json":
        data = review_json(result, warnings, errors)
        return common.emit_json(data)
    if fmt == "csv":
        if result.changes is not None:
            return common.emit_csv(result.changes)
        fields = {(r["source"], r["id"]): r for r in result.rows}
        rows = []
        for rec in result.recommendations:
            base = fields[(rec["source"], rec["id"])]
            rows.append(
                {**base, **{f"rec.{k}": v for k, v in rec.items() if k not in ("id", "source")}}
            )
        return common.emit_csv(rows)
    print_review(common.console(), result)


def _regime_text(regime) -> str:
    label = regime.label
    return f"{label} ({regime.note})"


def print_review(console, result) -> None:
    from rich.table import Table

    t = result.totals
    journal = (
        f"journal {result.journal_path} (review #{result.review_id})"
        if result.review_id is not None
        else f"journal {result.journal_path} (not recorded)"
        if result.journal_path
        else "no journal"
    )
    console.print(
        f"alvh review as of {result.asof} — regime: {_regime_text(result.regime)}", style="bold"
    )
    n, acting = t["positions"], t["needs_action"]
    console.print(
        f"{n} position{'s' * (n != 1)}, {acting} need{'s' * (acting == 1)} action; {journal}"
    )
    for warning in result.warnings:
        console.print(f"warning: {warning}", style="yellow")

    book = Table(title="Book, most urgent first", title_justify="left")
    for col in (
        "position",
        "file",
        "DTE",
        "mark",
        "side",
        "layer",
        "on",
        "action",
        "$delta",
        "$vega",
        "$theta",
        "P&L $",
        "hedge $ / budget",
    ):
        book.add_column(
            col, justify="left" if col in ("position", "file", "side", "on", "action") else "right"
        )
    for r in result.rows:
        g = r["greeks"]
        style = "bold red" if r["layer"] >= 3 else "yellow" if r["layer"] >= 1 else ""
        book.add_row(
            r["id"],
            _short(r["source"]),
            str(r["dte"]),
            f"{r['mark_multiple']:.2f}x",
            r["tested_side"],
            str(r["layer"]),
            ",".join(map(str, r["deployed_layers"])) or "-",
            "/".join(dict.fromkeys(r["actions"])),
            money(g["delta"]),
            money(g["vega"]),
            money(g["theta"]),
            money(r["pnl"]),
            f"{money(r['hedge_spent'])} / {money(r['hedge_budget'])}",
            style=style,
        )
    console.print(book)

    tot = Table(title="Book totals (dollars)", title_justify="left")
    for col in (
        "$delta",
        "$gamma",
        "$vega",
        "$theta",
        "P&L $",
        "hedges on $",
        "budget $",
        "used",
        "proposed today $",
        "left after $",
    ):
        tot.add_column(col, justify="right")
    used = t["hedge_budget_used"]
    tot.add_row(
        money(t["delta"]),
        money(t["gamma"]),
        money(t["vega"]),
        money(t["theta"]),
        money(t["pnl"]),
        money(t["hedge_spent"]),
        money(t["hedge_budget"]),
        "n/a" if used is None else f"{used:.0%}",
        money(t["hedge_proposed"]),
        money(t["hedge_remaining"] - t["hedge_proposed"]),
    )
    console.print(tot)

    actions = [r for r in result.recommendations if r["action"] != "hold"]
    holds = sum(1 for r in result.rows if not r["needs_action"])
    if actions:
        common.print_recommendations(console, [(r["id"], r) for r in actions])
    console.print(
        f"{holds} position{'s' if holds != 1 else ''} hold"
        + ("" if actions else "; nothing to do today")
    )

    if result.changes is not None:
        print_changes(console, result)


def print_changes(console, result) -> None:
    from rich.table import Table

    s = result.since
    if s is None:
        console.print(
            f"Changes: no earlier review of this book in the journal; {len(result.rows)} "
            + ("position is new." if len(result.rows) == 1 else "positions are new.")
        )
        return
    head = f"Changes since review #{s.id} (run {s.run_at}, as of {s.asof})"
    if not result.changes:
        console.print(f"{head}: none.")
        return
    t = Table(title=head, title_justify="left")
    for col in ("position", "file", "change", "mark", "detail"):
        t.add_column(col, justify="right" if col == "mark" else "left", overflow="fold")
    for c in result.changes:
        marks = " → ".join(
            num(m) + "x" for m in (c["mark_before"], c["mark_after"]) if m is not None
        )
        t.add_row(c["id"], _short(c["source"]), c["kind"].replace("_", " "), marks, c["detail"])
    console.print(t)


def _short(source: str) -> str:
    """The file name of a source path (the table has no room for directories)."""
    return source.replace("\\", "/").rsplit("/", 1)[-1]
