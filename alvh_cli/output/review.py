"""Presentation of ``alvh review``: rich tables for people, JSON and CSV for scripts.

JSON: ``{"asof", "regime", "journal", "totals", "positions", "recommendations",
"legend", "warnings", "errors", "changes"}`` (``changes`` only with ``--changes``;
``legend`` says what each money and price key of a recommendation means). CSV: one row per
recommendation with its position's fields, or with ``--changes`` one row per
change. rich is imported only for the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from alvh_cli import forked
from alvh_cli.output import common, layout
from alvh_cli.output.check import position_style
from alvh_cli.output.common import money, num
from alvh_cli.output.layout import Column, Grid, Out
from alvh_cli.output.records import (
    LEGEND,
    Alternatives,
    review_recommendations_json,
    review_row_json,
    totals_json,
)

# the columns of review --changes --format csv (a Change's fields)
CHANGE_COLUMNS = (
    "kind", "source", "id", "layer_before", "layer_after", "mark_before", "mark_after",
    "actions_before", "actions_after", "detail",
)  # fmt: skip


@dataclass(frozen=True)
class _Records:
    """A review run (``alvh_cli.app.review.ReviewRun``) as the records its outputs show."""

    asof: str
    regime: object
    rows: Iterable[dict]
    totals: dict
    recommendations: Iterable[dict]
    changes: list[dict] | None
    since: object
    journal_path: str | None
    review_id: int | None
    warnings: tuple[str, ...]


def _records(
    run, *, lazy: bool = False, alternatives: Alternatives = "full", encode: bool = False
) -> _Records:
    """``lazy``: ``rows`` and ``recommendations`` are iterators that build each record as
    it is read, for a writer that streams them; else lists. ``alternatives``: as
    ``output.records.recommendation_json`` takes them. ``encode``: the records come
    written as compact JSON (``common.Encoded``), by forked copies of this process as well
    for a big book (:func:`_encoded`)."""
    rv = run.review
    if encode and run.records is not None and alternatives == "full":  # made with the checks
        rows, recommendations = _joined(run.records)
    elif encode:
        rows, recommendations = _encoded(rv.rows, alternatives)
    else:
        rows = (review_row_json(r) for r in rv.rows)
        rows = rows if lazy else list(rows)
        recommendations = review_recommendations_json(rv.rows, lazy=lazy, alternatives=alternatives)
    return _Records(
        asof=rv.asof,
        regime=rv.regime,
        rows=rows,
        totals=totals_json(rv.totals),
        recommendations=recommendations,
        changes=None if run.changes is None else [c.to_dict() for c in run.changes],
        since=run.since,
        journal_path=run.journal_path,
        review_id=run.review_id,
        warnings=rv.warnings,
    )


def _encoded(rows, alternatives: Alternatives) -> tuple[list, list]:
    """Each row's record and its recommendations' records, as compact JSON, in order:
    shared with forked copies as the checks were (``alvh_cli.method.check.fork_workers``:
    writing them is a tenth of a 1,000-file review, all of it here otherwise)."""
    from alvh_cli.method.check import fork_workers

    made = forked.ordered_map(
        lambda i: encoded_row(rows[i], alternatives), len(rows), fork_workers(len(rows))
    )
    return _joined(made)


def encoded_row(row, alternatives: Alternatives = "full") -> tuple:
    """A review row's record and its recommendations' records, as compact JSON
    (``common.Encoded``): what a review's JSON writes of it, made where its check was
    (``alvh_cli.app.review.review``'s ``records``) or here."""
    recs = review_recommendations_json([row], alternatives=alternatives)
    return common.encoded(review_row_json(row)), [common.encoded(r) for r in recs]


def _joined(made) -> tuple[list, list]:
    """The rows' records, and all their recommendations' records in row order."""
    records, recommendations = [], []
    for record, recs in made:
        records.append(record)
        recommendations.extend(recs)
    return records, recommendations


def _since(result) -> dict | None:
    s = result.since
    if s is None:
        return None
    return {"review_id": s.id, "run_at": s.run_at, "asof": s.asof, "status": s.status}


def review_json(run, *, lazy: bool = False, encode: bool = False) -> dict:
    """The JSON document of one review run (before rounding); ``lazy`` and ``encode`` as
    for :func:`_records`."""
    result = _records(run, lazy=lazy, encode=encode)
    data = {
        "asof": result.asof,
        "regime": common.regime_json(result.regime),
        "journal": {"path": result.journal_path, "review_id": result.review_id},
        "totals": result.totals,
        "positions": result.rows,
        "recommendations": result.recommendations,
        "legend": LEGEND,
    }
    common.with_problems(data, run.warnings, run.errors, notes=result.warnings)
    if result.changes is not None:
        data["changes"] = {"since": _since(result), "changes": result.changes}
    return data


@common.collector_paused()
def emit_review(run, fmt: str) -> None:
    """Write a review run to stdout as ``table`` (rich), ``json`` or ``csv``; its warnings
    and errors join the JSON (the caller prints them on stderr for every format)."""
    if fmt == "json":
        return common.emit_json(review_json(run, lazy=True, encode=common.compact_stdout()))
    result = _records(run, alternatives="full" if fmt == "csv" else "figures")
    if fmt == "csv":
        if result.changes is not None:
            return common.emit_csv(result.changes, header=CHANGE_COLUMNS)
        fields = {(r["source"], r["id"]): r for r in result.rows}
        rows = []
        for rec in result.recommendations:
            base = fields[(rec["source"], rec["id"])]
            rows.append(
                {**base, **{f"rec.{k}": v for k, v in rec.items() if k not in ("id", "source")}}
            )
        return common.emit_csv(rows)
    print_review(common.layout_console(), result)


def _regime_text(regime) -> str:
    label = regime.label
    return f"{label} ({common.note_text(regime.note)})"


def book_grid(result) -> Grid:
    cols = ("position", "file", "DTE", "mark", "side", "layer", "action", "$delta", "P&L $",
            "hedge/budget $")  # fmt: skip
    left = ("position", "file", "side", "layer", "action")
    grid = Grid(
        [Column(c, "left" if c in left else "right") for c in cols],
        title="Book, most urgent first",
    )
    for r in result.rows:
        g = r["greeks"]
        grid.add(
            r["id"],
            _short(r["source"]).removesuffix(".toml"),
            str(r["dte"]),
            f"{r['mark_multiple']:.2f}x",
            r["tested_side"],
            str(r["layer"])
            + (
                f" on {on}" if (on := ",".join(map(str, r["deployed_layers"]))) else ""
            ),  # fmt: skip
            "/".join(dict.fromkeys(r["actions"])),
            money(g["delta"]),
            money(r["pnl"]),
            f"{money(r['hedge_spent'])}/{money(r['hedge_budget'])}",
            style=position_style(r["layer"]),
        )
    return grid


def totals_items(t: dict) -> list[tuple[str, str]]:
    used = t["hedge_budget_used"]
    return [
        ("$delta", money(t["delta"])),
        ("$gamma", money(t["gamma"])),
        ("$vega", money(t["vega"])),
        ("$theta", money(t["theta"])),
        ("P&L $", money(t["pnl"])),
        ("realised $", money(t["realised_pnl"])),
        ("hedges $", money(t["hedge_spent"])),
        ("budget $", money(t["hedge_budget"])),
        ("used", "n/a" if used is None else f"{used:.0%}"),
        ("today $", money(t["hedge_proposed"])),
        ("left after $", money(t["hedge_remaining"] - t["hedge_proposed"])),
    ]


def totals_grid(t: dict) -> Grid:
    items = totals_items(t)
    grid = Grid([Column(name) for name, _ in items], title="Book totals (dollars)")
    grid.add(*(value for _, value in items))
    return grid


def changes_grid(result) -> Grid:
    s = result.since
    grid = Grid(
        [
            Column("position", "left"),
            Column("file", "left"),
            Column("change", "left"),
            Column("mark"),
            Column("detail", "left", wrap=True),
        ],
        title=f"Changes since review #{s.id} (run {s.run_at}, as of {s.asof})",
    )
    for c in result.changes:
        grid.add(c["id"], _short(c["source"]), c["kind"].replace("_", " "), _marks(c), c["detail"])
    return grid


def _marks(c: dict) -> str:
    return " → ".join(num(m) + "x" for m in (c["mark_before"], c["mark_after"]) if m is not None)


def print_review(console, result) -> None:
    t = result.totals
    journal = (
        f"journal {result.journal_path} (review #{result.review_id})"
        if result.review_id is not None
        else f"journal {result.journal_path} (not recorded)"
        if result.journal_path
        else "no journal"
    )
    # what needs the trader: every order, and every hold that needs attention (Layer 3,
    # past the 2x stop), with its reason and alternatives
    actions = [r for r in result.recommendations if r["action"] != "hold" or r["attention"]]
    grids = [book_grid(result), totals_grid(t), common.recommendations_grid(
        [(r["id"], r) for r in actions])]  # fmt: skip
    if result.changes and result.since is not None:
        grids.append(changes_grid(result))
    lay = layout.choose(console, len(result.rows), grids)
    out = Out(console, lay)
    out.line(
        f"alvh review as of {result.asof} — regime: {_regime_text(result.regime)}", style="bold"
    )
    n, acting = t["positions"], t["needs_action"]
    out.line(f"{n} position{'s' * (n != 1)}, {acting} need{'s' * (acting == 1)} action; {journal}")
    for warning in result.warnings:
        out.line(f"warning: {warning}", style="yellow")

    holds = sum(1 for r in result.rows if not r["needs_action"])
    if lay.compact:
        out.line("Book, most urgent first", style="bold")
        by_row: dict[tuple, list[dict]] = {}
        for rec in actions:
            by_row.setdefault((rec["source"], rec["id"]), []).append(rec)
        for r in result.rows:
            row_block(out, r, by_row.get((r["source"], r["id"]), []))
        out.line("Book totals (dollars)", style="bold")
        out.fields([f"{name} {value}" for name, value in totals_items(t)], indent=2)
        if actions:
            out.line(common.RECOMMENDATION_NOTE)
    else:
        out.grid(grids[0])
        out.grid(grids[1])
        if actions:
            out.grid(grids[2])
            out.line(common.RECOMMENDATION_NOTE)
    watched = sum(1 for r in result.rows if r["attention"] and "hold" in r["actions"])
    for rec in actions:
        if rec["action"] == "hold" and (alts := common.alternatives_of(rec["id"], rec)):
            out.grid(alts)
    out.line(
        f"{holds} position{'s' if holds != 1 else ''} with nothing to do"
        + (f"; {watched} held with attention (the figures above say why)" if watched else "")
        + ("" if actions else "; nothing to do today")
    )
    if result.changes is not None:
        print_changes(out, result)
    out.flush()


def row_block(out: Out, r: dict, recs: list[dict]) -> None:
    """One position of the book, stacked, with the orders it needs today."""
    g = r["greeks"]
    on = ",".join(map(str, r["deployed_layers"])) or "none"
    out.line(
        f"{r['id']} ({_short(r['source'])}): layer {r['layer']}, "
        f"{common.side_text(r['tested_side'])}, DTE {r['dte']}, layers on: {on}",
        style=position_style(r["layer"]) or "bold",
    )
    out.fields(
        [
            f"mark {r['mark_multiple']:.2f}x",
            f"P&L $ {money(r['pnl'])}",
            *([f"realised $ {money(r['realised_pnl'])}"] if r["realised_pnl"] else []),
            f"$delta {money(g['delta'])}",
            f"$vega {money(g['vega'])}",
            f"$theta {money(g['theta'])}",
            f"hedge $ {money(r['hedge_spent'])} of {money(r['hedge_budget'])}",
        ],
        indent=2,
    )
    if not recs:
        out.line("action: " + "/".join(dict.fromkeys(r["actions"])), indent=2)
    for rec in recs:
        common.recommendation_block(out, rec, indent=2)


def print_changes(out: Out, result) -> None:
    s = result.since
    if s is None:
        out.line(
            f"Changes: no earlier review of this book in the journal; {len(result.rows)} "
            + ("position is new." if len(result.rows) == 1 else "positions are new.")
        )
        return
    head = f"Changes since review #{s.id} (run {s.run_at}, as of {s.asof})"
    if not result.changes:
        out.line(f"{head}: none.")
        return
    if not out.layout.compact:
        out.grid(changes_grid(result))
        return
    out.line(head, style="bold")
    for c in result.changes:
        marks = _marks(c)
        out.line(
            f"{c['id']} ({_short(c['source'])}): {c['kind'].replace('_', ' ')}"
            + (f", mark {marks}" if marks else "")
            + f" — {c['detail']}",
            indent=2,
        )


def _short(source: str) -> str:
    """The file name of a source path (the table has no room for directories)."""
    return source.replace("\\", "/").rsplit("/", 1)[-1]
