"""Output of ``alvh check``: the positions, their scenario figures and the orders.

Tables follow the terminal (:mod:`alvh_cli.output.layout`): full tables when they
fit, else one stacked block per position; big books are written plain.
"""

from __future__ import annotations

from alvh_cli.output import common, layout
from alvh_cli.output.common import money, num
from alvh_cli.output.layout import Column, Grid, Out
from alvh_cli.output.records import LEGEND, marks_json, position_json, recommendation_json

EV_NOTE = (
    "EV, CVaR: mean and worst-5% mean of the P&L over the scenario horizon; max loss: the "
    "worst P&L at expiry; all in $ from today's marks."
)


def check_json(
    result, warnings=(), errors=(), marks=(), *, lazy: bool = False, encode: bool = False
) -> dict:
    """``check``'s record. ``lazy``: ``positions`` is an iterator that builds each
    position's record as it is read, for a writer that streams them (a 10,000-position
    book's records are hundreds of MiB held at once); else a list. ``encode`` (lazy, for a
    compact writer): each record comes written (``common.encoded``), by whichever process
    checked its position (``CheckStream.mapped``)."""
    positions = result.positions
    if lazy and encode and hasattr(positions, "mapped"):
        records = positions.mapped(_encoded_record)
    else:
        records = (position_json(pc) for pc in positions)
    data = {
        "asof": result.asof,
        "regime": common.regime_json(result.regime),
        "positions": records if lazy else list(records),
        "marks": marks_json(marks),
        "legend": LEGEND,
    }
    return common.with_problems(data, warnings, errors)


@common.collector_paused()
def emit_check(result, fmt: str, warnings=(), errors=(), marks=()) -> None:
    """``warnings`` (InputWarnings) and ``errors`` (bad files' InputErrors) join the JSON;
    the caller prints them on stderr for every format (``common.print_problems``).
    ``marks`` ((file, ``MarkUse``)) say which broker marks priced their legs."""
    if fmt == "json":
        data = check_json(
            result, warnings, errors, marks, lazy=True, encode=common.compact_stdout()
        )
        return common.emit_json(data)
    if fmt == "csv":
        rows = []
        for pc in result.positions:
            base = position_json(pc, alternatives="none")
            recs = base.pop("recommendations")
            for r in recs:
                rows.append({**base, **{f"rec.{k}": v for k, v in r.items()}})
        return common.emit_csv(rows)
    print_check(common.layout_console(), result, marks)


def _encoded_record(pc) -> common.Encoded:
    return common.encoded(position_json(pc))


def position_style(layer: int) -> str:
    return "bold red" if layer >= 3 else "yellow" if layer >= 1 else ""


def positions_grid(result) -> Grid:
    """One row per position, in 120 columns for the samples: the debit to close and the mark
    (the credit and the Greeks are in the stacked view and the JSON), the stops' verdicts
    side by side."""
    cols = ("position", "DTE", "debit", "mark", "side", "layer", "on", "P&L $", "EV $",
            "CVaR $", "max loss $", "2x/3x stop")  # fmt: skip
    left = ("position", "side", "on", "2x/3x stop")
    grid = Grid([Column(c, "left" if c in left else "right") for c in cols])
    for pc in result.positions:
        f = pc.figures
        grid.add(
            pc.position.id,
            str(pc.dte),
            num(pc.debit_to_close),
            f"{pc.mark_multiple:.2f}x",
            pc.tested_side,
            str(pc.layer),
            ",".join(map(str, pc.position.deployed_layers)) or "-",
            money(pc.pnl),
            money(f.ev) if f else "n/a",
            money(f.cvar) if f else "n/a",
            common.loss_text(f.max_loss) if f else "n/a",
            f"{pc.traditional['stop_2x']}/{pc.traditional['stop_3x']}",
            style=position_style(pc.layer),
        )
    return grid


def print_check(console, result, marks=()) -> None:
    records = [
        (pc, [recommendation_json(r, "figures") for r in pc.recommendations])
        for pc in result.positions
    ]
    grids = [positions_grid(result)]
    recs = [(pc.position.id, rec) for pc, recs_p in records for rec in recs_p]
    grids.append(common.recommendations_grid(recs))
    alts = [grid for pid, rec in recs if (grid := common.alternatives_of(pid, rec)) is not None]
    lay = layout.choose(console, len(result.positions), [*grids, *alts])
    out = Out(console, lay)
    regime = result.regime
    note = common.note_text(regime.note)
    out.line(f"alvh check as of {result.asof} — regime: {regime.label} ({note})", style="bold")
    if result.positions:
        out.line(f"scenarios: {result.positions[0].scenario_source}")
    for line in common.marks_lines(marks):
        out.line(line)
    if lay.compact:
        for pc, recs_p in records:
            position_block(out, pc, recs_p)
        out.line(EV_NOTE)
        out.line(common.RECOMMENDATION_NOTE)
    else:
        out.grid(grids[0])
        out.line(EV_NOTE)
        out.grid(grids[1])
        out.line(common.RECOMMENDATION_NOTE)
        for grid in alts:
            out.grid(grid)
    out.flush()


def position_block(out: Out, pc, recs: list[dict]) -> None:
    """One position, stacked: what it is, its figures, then each recommendation with its
    orders, figures and reason on lines of their own."""
    p, g, f = pc.position, pc.greeks, pc.figures
    on = ",".join(map(str, p.deployed_layers)) or "none"
    out.line(
        f"{p.id}: layer {pc.layer}, {common.side_text(pc.tested_side)}, DTE {pc.dte}, "
        f"layers on: {on}",
        style=position_style(pc.layer) or "bold",
    )
    out.fields(
        [
            f"mark {pc.mark_multiple:.2f}x",
            f"debit {num(pc.debit_to_close)} on credit {num(p.credit)}",
            f"P&L $ {money(pc.pnl)}",
            *([f"realised $ {money(r)}"] if (r := p.realised()) else []),
            *([f"held legs' mark {pc.open_multiple:.2f}x"] if pc.open_multiple else []),
            f"$delta {money(g['delta'])}",
            f"$theta {money(g['theta'])}",
        ],
        indent=2,
    )
    if f is not None:
        out.fields(
            [
                f"EV $ {money(f.ev)}",
                f"CVaR $ {money(f.cvar)}",
                f"max loss $ {common.loss_text(f.max_loss)}",
                f"2x stop: {pc.traditional['stop_2x']}",
                f"3x stop: {pc.traditional['stop_3x']}",
            ],
            indent=2,
        )
    for rec in recs:
        common.recommendation_block(out, rec, indent=2)
    for r in recs:
        if r.get("alternatives"):
            alternatives_block(out, r)


def alternatives_block(out: Out, rec: dict) -> None:
    rows, hidden = common.shown_alternatives(rec)
    out.line("layer 3 alternatives (each over the scenario set):", indent=4)
    for a, mine in rows:
        out.fields(
            [
                f"{a['name']}: objective {money(a.get('objective'))}",
                f"EV {money(a.get('ev'))}",
                f"sd {money(a.get('sd'))}",
                f"CVaR {money(a.get('cvar'))}",
                f"worst {money(a.get('worst'))} ({a.get('worst_rung')})",
                f"max loss {common.loss_text(a.get('max_loss'))}",
                f"cost {money(a.get('trading_cost'))}",
                common.verdict(a, mine),
            ],
            style="bold" if mine else "",
            indent=6,
            sep=", ",
        )
    if hidden:
        out.line(common.hidden_note(hidden), indent=6)
