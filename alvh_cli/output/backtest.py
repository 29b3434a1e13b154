"""Output of ``alvh backtest``: the report (table, JSON or CSV), the trades CSV, the plots
(equity with drawdowns, P&L histograms, the episode panel; a sweep's heat map; a
walk-forward's test windows), and the progress bar of long runs.

Files are written atomically. rich and matplotlib are imported only when used.
"""

from __future__ import annotations

import contextlib
import csv
import math
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from alvh_cli.backtest import analysis as an
from alvh_cli.backtest import results as bt
from alvh_cli.errors import InputError
from alvh_cli.output import common, files

CANNOT_TELL = (
    "Modelled prices: options are priced from VIX by a model (BSM with a smile fitted to one "
    "calm day's chain), not from historical quotes; real skew, spreads and the volatility "
    "premium move in ways this model does not.",
    "One VIX futures curve: futures come from a one-factor mean-reverting curve, not the "
    "historical contango and backwardation, so VIX hedge values are approximate.",
    "No early assignment or pin risk: SPX options are European and cash-settled at the "
    "close; expiry-day pin risk, margin and taxes are not modelled.",
    "In-sample: the method's defaults and the model's choices were made while looking at "
    "2014-2018; only --walk-forward reports figures chosen out of sample.",
)

TRADE_COLUMNS = (
    "policy",
    "id",
    "opened",
    "expiry",
    "long_put",
    "short_put",
    "short_call",
    "long_call",
    "contracts",
    "credit",
    "closed",
    "exit_reason",
    "exit_mark",
    "pnl",
    *(f"pnl_{c}" for c in bt.CATEGORIES),
    "fees",
    "spread_cost",
    "max_loss",
    "return_on_risk",
    "days_held",
    "hedge_spend",
    "hedge_pnl",
    "hedges",
    "conversions",
    "rolls",
    "trims",
    "unwinds",
    "reached_2x",
    "actions",
)
MONEY_COLUMNS = ("fees", "spread_cost", "max_loss", "hedge_spend", "hedge_pnl")


# --------------------------------------------------------------------------- files


def write_trades(result: bt.BacktestResult, path: Path | str) -> None:
    """One CSV row per policy and trade (money in dollars, credit in points per unit); the
    ``pnl_<category>`` columns add up to ``pnl``."""

    def write(fh):
        out = csv.DictWriter(fh, fieldnames=TRADE_COLUMNS, lineterminator="\n")
        out.writeheader()
        for record in result.trades:
            cells = record.to_dict()
            out.writerow({k: _cell(k, cells[k]) for k in TRADE_COLUMNS})

    files.write_atomic(path, write)


def _cell(key: str, value: Any) -> Any:
    if isinstance(value, float):
        money = key.startswith("pnl") or key in MONEY_COLUMNS
        return round(value, 2 if money else 4)
    return value


def require_matplotlib(option: str = "--plot") -> None:
    """Raise the one-line error now, before a long run, when matplotlib is missing."""
    from alvh_cli.backtest.sweep import has_module

    if not has_module("matplotlib"):
        raise InputError("matplotlib is needed for --plot: pip install 'alvh[plot]'", option)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError(
            "matplotlib is needed for --plot: pip install 'alvh[plot]'", "--plot"
        ) from None
    return plt


def _save(fig, path: Path | str) -> None:
    plt = _pyplot()
    try:
        files.write_atomic(path, lambda fh: fig.savefig(fh, format="png"), mode="wb")
    finally:
        plt.close(fig)


COLOURS = {
    "hold": "#4c72b0",
    "stop2x": "#dd8452",
    "stop3x": "#c44e52",
    "alvh": "#55a868",
    "alvh_frac": "#8172b3",
}


def plot_report(report: an.BacktestReport, path: Path | str) -> None:
    """One PNG, three panels: each policy's daily equity curve with its drawdowns shaded; a
    histogram of per-trade P&L per policy; each policy's P&L in the stress windows, with the
    VIX layers' own P&L beside alvh's."""
    plt = _pyplot()
    r = report.result
    policies = r.policies
    fig = plt.figure(figsize=(12, 12), dpi=100, layout="constrained")
    grid = fig.add_gridspec(3, len(policies), height_ratios=(1.3, 0.7, 1.0))

    ax = fig.add_subplot(grid[0, :])
    import numpy as np

    first = max(r.entries[0].first - 5, 0)  # the warm-up traded nothing: start at the entries
    dates = r.dates[first:]
    for p in policies:
        curve = r.equity[p][first:]
        peak = np.maximum.accumulate(np.concatenate([[0.0], curve]))[1:]
        colour = COLOURS.get(p)
        ax.plot(dates, curve, label=f"{p} (max drawdown {r.summary[p].max_drawdown:,.0f})",
                linewidth=1.1, color=colour)  # fmt: skip
        ax.fill_between(dates, curve, peak, where=peak > curve, color=colour, alpha=0.08)
    for row in report.episodes:
        ax.axvspan(row.episode.start, row.episode.end, color="grey", alpha=0.12, linewidth=0)
    ax.axhline(0.0, color="grey", linewidth=0.6)
    ax.set_ylabel("cumulative P&L, $")
    ax.set_title(
        f"{r.entries[0].opened} to {r.dates[-1]}: {len(r.entries)} weekly condors, "
        f"{r.params.contracts} contract(s); shaded: drawdowns from each curve's peak, grey: "
        "stress windows",
        fontsize=10,
    )
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)

    lo = min(float(r.pnl(p).min()) for p in policies)
    hi = max(float(r.pnl(p).max()) for p in policies)
    bins = np.linspace(lo, hi, 31)
    for k, p in enumerate(policies):
        ax = fig.add_subplot(grid[1, k])
        pnl = r.pnl(p)
        ax.hist(pnl, bins=bins, color=COLOURS.get(p), alpha=0.8)
        ax.axvline(0.0, color="grey", linewidth=0.6)
        ax.axvline(float(pnl.mean()), color="black", linewidth=0.8, linestyle="--")
        ax.set_title(f"{p}: per-trade P&L\n(mean {pnl.mean():,.0f})", fontsize=9)
        ax.tick_params(labelsize=7)
        if k == 0:
            ax.set_ylabel("trades")

    ax = fig.add_subplot(grid[2, :])
    rows = report.episodes
    if rows:
        width = 0.8 / (len(policies) + 1)
        x = np.arange(len(rows))
        for k, p in enumerate(policies):
            ax.bar(x + k * width, [row.pnl[p] for row in rows], width, label=p,
                   color=COLOURS.get(p))  # fmt: skip
        if "alvh" in policies:
            ax.bar(x + len(policies) * width, [row.vix_layers["alvh"] for row in rows], width,
                   label="alvh: VIX layers alone", color="#937860", hatch="//")  # fmt: skip
        ax.set_xticks(x + 0.4 - width / 2)
        ax.set_xticklabels(
            [f"{row.episode.name}\n{row.episode.start} to {row.episode.end}" for row in rows],
            fontsize=7,
        )
        ax.axhline(0.0, color="grey", linewidth=0.6)
        ax.legend(fontsize=7, ncol=3)
    ax.set_ylabel("P&L in the window, $")
    ax.set_title("Stress windows", fontsize=10)
    fig.get_layout_engine().set(rect=(0, 0.02, 1, 0.98))
    fig.text(0.01, 0.005, r.note, fontsize=7, color="dimgrey")
    _save(fig, path)


def plot_sweep(
    grid: Sequence[dict], results: Sequence[dict], policies: Sequence[str], path: Path | str
) -> None:
    """A heat map of each policy's total P&L over the first two swept keys (the first
    value of any other key); one key swept: one row."""
    from alvh_cli.backtest.sweep import pivot

    plt = _pyplot()
    keys = list(grid[0])
    x = keys[0]
    y = keys[1] if len(keys) > 1 else None
    fixed = {k: grid[0][k] for k in keys[2:]}
    chosen = [i for i, p in enumerate(grid) if all(p[k] == v for k, v in fixed.items())]
    points = [grid[i] if y else {**grid[i], "_": ""} for i in chosen]
    fig, axes = plt.subplots(1, len(policies), figsize=(4.2 * len(policies), 4), dpi=100)
    axes = [axes] if len(policies) == 1 else list(axes)
    for ax, policy in zip(axes, policies, strict=True):
        scores = [results[i][policy].total_pnl for i in chosen]
        xs, ys, rows = pivot(points, scores, x, y or "_")
        image = ax.imshow(rows, cmap="RdYlGn", aspect="auto", origin="lower")
        ax.set_xticks(range(len(xs)), [_tick(v) for v in xs])
        ax.set_yticks(range(len(ys)), [_tick(v) for v in ys])
        ax.set_xlabel(x)
        ax.set_ylabel(y or "")
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if math.isfinite(v):
                    ax.text(j, i, f"{v:,.0f}", ha="center", va="center", fontsize=7)
        ax.set_title(f"{policy}: total P&L, $", fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.8)
    note = ", ".join(f"{k}={v}" for k, v in fixed.items())
    fig.suptitle("Sweep" + (f" (at {note})" if note else ""), fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def _tick(value) -> str:
    return (
        f"{value:g}"
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else str(value)
    )


def plot_walk_forward(wf, policies: Sequence[str], path: Path | str) -> None:
    """Each test window's total P&L per policy, with the point chosen on its train window."""
    import numpy as np

    plt = _pyplot()
    folds = wf.result.folds
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(folds)), 4.5), dpi=100)
    width = 0.8 / len(policies)
    x = np.arange(len(folds))
    for k, p in enumerate(policies):
        ax.bar(x + k * width, [f.test_result[p].total_pnl for f in folds], width, label=p,
               color=COLOURS.get(p))  # fmt: skip
    ax.set_xticks(x + 0.4 - width / 2)
    ax.set_xticklabels(
        [
            f"{f.window.test_start} to {f.window.test_end}\n"
            + ", ".join(f"{k}={v}" for k, v in f.chosen.items())
            for f in folds
        ],
        fontsize=7,
    )
    ax.axhline(0.0, color="grey", linewidth=0.6)
    ax.set_ylabel("test-window P&L, $")
    ax.set_title(f"Walk-forward: {wf.result.objective}", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)


# --------------------------------------------------------------------------- progress


@contextlib.contextmanager
def progress_bars() -> Iterator:
    """Rich progress bars on stderr while the block runs, when stderr is a terminal; yields
    ``bar(label)``, which adds a bar and returns its ``progress(done, total)`` callback (None
    when there is no terminal). Safe to update from another thread."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    err = Console(stderr=True)
    if not err.is_terminal:
        yield lambda label: None
        return
    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )

    def bar(label: str):
        task = bars.add_task(label, total=None)

        def tick(done: int, total: int) -> None:
            bars.update(task, completed=done, total=total)

        return tick

    with bars:
        yield bar


@contextlib.contextmanager
def progress(label: str) -> Iterator:
    """A rich progress bar on stderr while the block runs, when stderr is a terminal; yields
    the ``progress(done, total)`` callback the core takes (a no-op otherwise)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    err = Console(stderr=True)
    if not err.is_terminal:
        yield None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with bar:
        task = bar.add_task(label, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield tick


# --------------------------------------------------------------------------- the report

ROWS = (  # (label, summary key, kind)
    ("trades", "trades", "int"),
    ("win rate", "win_rate", "pct"),
    ("mean P&L / trade", "mean_pnl", "money"),
    ("median P&L / trade", "median_pnl", "money"),
    ("total P&L", "total_pnl", "money"),
    ("  per condor unit", "pnl_per_unit", "money"),
    ("  mean return on risk / trade", "return_on_risk", "pct"),
    ("  per day held", "pnl_per_day_held", "money2"),
    ("max drawdown (daily equity)", "max_drawdown", "money"),
    ("worst trade", "worst_trade", "money"),
    ("5% CVaR / trade", "cvar_5", "money"),
    ("exits: stop or close / profit take / expiry", "exits", "exits"),
    ("fees", "fees", "money"),
    ("half-spreads paid", "spread_cost", "money"),
    ("hedge spend (VIX layers)", "hedge_spend", "money"),
    ("VIX layers / conversions / rolls / trims / unwinds", "hedges", "counts"),
    ("trades that reached 2x", "adjusted_trades", "int"),
    ("  their total P&L", "adjusted_pnl", "money"),
    ("  their mean P&L", "adjusted_mean_pnl", "money"),
)


def _format(kind: str, summary: dict, key: str) -> str:
    value = summary[key]
    if kind == "int":
        return str(value)
    if kind == "pct":
        return "n/a" if value is None or math.isnan(value) else f"{value:.1%}"
    if kind == "exits":
        return f"{value['stop']} / {value['profit_take']} / {value['expiry']}"
    if kind == "counts":
        keys = ("hedges", "conversions", "rolls", "trims", "unwinds")
        return " / ".join(str(summary[k]) for k in keys)
    return _money(value, 2 if kind == "money2" else 0)


def _money(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def describe(result: bt.BacktestResult) -> list[str]:
    """The run's assumptions in a few lines (shown above the table)."""
    p, r = result.params, result.rules
    day = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")[p.weekday]
    take = f"{r.profit_take:.0%} of the credit (every policy)" if p.profit_take else "off"
    spread = "" if p.spread_multiplier == 1 else f", both x {p.spread_multiplier:g}"
    return [
        f"Period {result.dates[0]} to {result.dates[-1]}: {len(result.dates)} closes, "
        f"{len(result.entries)} entr{'y' if len(result.entries) == 1 else 'ies'} from "
        f"{result.entries[0].opened}. Data: {result.source}",
        f"Entry: every {day} (next trading day if closed), SPXW Friday nearest {p.dte} DTE, "
        f"short strikes at {p.delta:g} delta, {p.wing:g}-point wings on a {p.strike_step:g}-point "
        f"grid, {p.contracts} contract(s).",
        f"Model: SPX BSM, ATM vol = VIX/100, skew {p.spx_skew:g} at 30 days "
        f"{p.spx_skew_term:+g} per ln(T/30d), smile {p.spx_smile:g}, "
        f"r {p.rate:g}, q {p.dividend_yield:g}; VIX futures F(t) = {p.vix_theta:g} + "
        f"(VIX - {p.vix_theta:g})e^(-{r.vix_term_kappa:g}t); VIX options Black-76, atm "
        f"{p.vix_atm:g} x (VIX/16)^{p.vix_vol_power:g}, skew {p.vix_skew:g}, "
        f"smile {p.vix_smile:g}.",
        f"Costs: half-spread {p.spx_half_spread:g} x max(1, VIX/{p.spx_spread_vix:g})"
        f"^{p.spx_spread_power:g} (SPX) / {p.vix_half_spread:g} (VIX) points per leg{spread}; "
        f"fees ${p.commission:g} commission + Cboe fee (x{p.exchange_fees:g}) + "
        f"${p.clearing_fee:g} OCC + ${p.regulatory_fee:g} ORF per contract "
        f"(${p.costs.flat_fee():.2f} for SPX at $1 or more); none on cash settlement.",
        f"Profit take: {take}.",
        f"alvh: each decision sees only the closes before it ({p.warmup} trading days of "
        "warm-up before the first entry) for its scenario set and the VIX spike signal; the "
        "other signals are not used."
        + (
            " alvh_frac: the same, every adjustment in fractions of a contract (fees pro "
            "rata: not tradable, the method free of rounding)."
            if "alvh_frac" in result.policies
            else ""
        ),
    ]


MONEY = frozenset(key for _, key, kind in ROWS if kind.startswith("money"))


def summary_in_dollars(summary: dict) -> dict:
    """One policy's summary with its dollar figures (the ``money`` rows and the attribution)
    as ``Dollars``, so JSON and CSV round them to cents."""
    out = {k: common.Dollars(v) if k in MONEY else v for k, v in summary.items()}
    if "attribution" in summary:
        out["attribution"] = _dollars(summary["attribution"])
    for key in ("fees", "spread_cost", "hedge_spend", "hedge_pnl", "adjusted_pnl"):
        if key in summary:
            out[key] = common.Dollars(summary[key])
    return out


def _dollars(value):
    """Every number in a nested dict/list as ``Dollars`` (a table of money)."""
    if isinstance(value, dict):
        return {k: _dollars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dollars(v) for v in value]
    if isinstance(value, float):
        return common.Dollars(value)
    return value


def report_in_dollars(data: dict) -> dict:
    """The report's JSON with its money as ``Dollars``: summaries, attribution, the P&L in
    each stress window, the bootstrap's estimates and bounds, the sensitivity rows."""
    data["policies"] = {p: summary_in_dollars(s) for p, s in data["policies"].items()}
    data["attribution"] = _dollars(data["attribution"])
    for row in data["episodes"]:
        row["pnl"], row["vix_layers_pnl"] = _dollars(row["pnl"]), _dollars(row["vix_layers_pnl"])
    if "bootstrap" in data:
        for part in ("series", "contrasts"):
            data["bootstrap"][part] = _dollars(data["bootstrap"][part])
    if "cost_sensitivity" in data:
        data["cost_sensitivity"] = _dollars(data["cost_sensitivity"])
    for row in data.get("model_sensitivity", []):
        for key, value in row.items():
            if key not in ("variant", "point"):
                row[key] = _dollars(value)
    return data


ATTRIBUTION_LINES = (  # (label, category)
    ("condor, put side", "condor_put"),
    ("condor, call side", "condor_call"),
    ("VIX layers (put side)", "vix"),
    ("conversions (put side)", "synthetic_put"),
    ("reversals (call side)", "synthetic_call"),
    ("rolled put verticals", "roll_put"),
    ("rolled call verticals", "roll_call"),
)


def emit_backtest(report: an.BacktestReport, fmt: str) -> None:
    """Print the report: rich tables, JSON, or CSV (one row per policy)."""
    result = report.result
    if fmt == "json":
        return common.emit_json(report_in_dollars(report.to_dict()))
    if fmt == "csv":
        rows = []
        for p in result.policies:
            row = {"policy": p, **summary_in_dollars(result.summary[p].to_dict())}
            if report.bootstrap is not None:
                for stat, iv in report.bootstrap.intervals[p].items():
                    row[f"{stat}_low"] = common.Dollars(iv.low)
                    row[f"{stat}_high"] = common.Dollars(iv.high)
            if report.cost_row:
                for m, totals in sorted(report.cost_row.items()):
                    row[f"total_pnl_spreads_x{m:g}"] = common.Dollars(totals[p])
            rows.append(row)
        return common.emit_csv(rows)
    from rich.table import Table

    console = common.console()
    console.print("alvh backtest", style="bold")
    for line in describe(result):
        console.print(line, highlight=False)
    console.print(result.note, style="bold yellow")
    policies = result.policies

    table = Table(title="Per policy, dollars (one condor = 100 x points)", title_justify="left")
    table.add_column("")
    for policy in policies:
        table.add_column(policy, justify="right")
    for label, key, kind in ROWS:
        table.add_row(label, *(_format(kind, result.summary[p].to_dict(), key) for p in policies))
    if report.cost_row:
        for m, totals in sorted(report.cost_row.items()):
            table.add_row(f"total P&L, half-spreads x{m:g}", *(_money(totals[p]) for p in policies))
    console.print(table)
    console.print(
        "Drawdown is from the daily equity curve (open trades at the model mid). 5% CVaR: mean "
        "of the worst 5% of trades. Return on risk: P&L over the condor's max loss at entry "
        "(the wider wing less the credit). 'Reached 2x': the condor's debit to close was >= 2x "
        "the credit on a daily close before any profit take (the trades a 2x stop closes).",
        highlight=False,
    )

    table = Table(title="Where the P&L came from, dollars", title_justify="left")
    table.add_column("")
    for policy in policies:
        table.add_column(policy, justify="right")
    for label, category in ATTRIBUTION_LINES:
        values = [result.summary[p].attribution[category] for p in policies]
        if category.startswith("condor") or any(abs(v) > 0.005 for v in values):
            table.add_row(label, *(_money(v) for v in values))
    table.add_row("total", *(_money(result.summary[p].total_pnl) for p in policies))
    console.print(table)
    console.print(
        "Each part is the fills, fees and settlements of those legs; the parts add up to the "
        "total. VIX layers hedge the put side (alvh buys them only when it is tested).",
        highlight=False,
    )

    if report.episodes:
        table = Table(title="Stress windows: P&L in the window, dollars", title_justify="left")
        for name in ("window", "dates", "SPX", "VIX high"):
            table.add_column(name, justify="left" if name in ("window", "dates") else "right")
        for policy in policies:
            table.add_column(policy, justify="right")
        if "alvh" in policies:
            table.add_column("alvh VIX layers", justify="right")
        for row in report.episodes:
            e = row.episode
            cells = [
                e.name + (" (part)" if e.clipped else ""),
                f"{e.start} to {e.end}",
                f"{row.spx_change:+.1%}",
                f"{row.vix_high:.1f}",
                *(_money(row.pnl[p]) for p in policies),
            ]
            if "alvh" in policies:
                cells.append(_money(row.vix_layers["alvh"]))
            table.add_row(*cells)
        console.print(table)
        console.print(
            "A window's P&L is the change of the daily equity curve from the close before it "
            "to its last close (open trades at the model mid). "
            + (
                "Named windows of the embedded data."
                if result.embedded
                else "Windows: the deepest SPX drawdowns of the period traded."
            ),
            highlight=False,
        )

    if report.bootstrap is not None:
        b = report.bootstrap
        title = (
            f"Uncertainty: {b.confidence:.0%} intervals, moving-block bootstrap ({b.n_resamples:,} "
            f"resamples of {b.n} trades in blocks of {b.block_length}, seed {b.seed})"
        )
        table = Table(title=title, title_justify="left")
        for name in ("", "total P&L", "5% CVaR / trade", "max drawdown by trade"):
            table.add_column(name, justify="left" if not name else "right")
        names = [*policies, *b.contrasts]
        for name in names:
            ivs = b.intervals.get(name) or b.contrasts[name]
            table.add_row(
                name,
                *(
                    f"{_money(ivs[s].estimate)} [{_money(ivs[s].low)}, {_money(ivs[s].high)}]"
                    for s in ("total", "cvar", "max_drawdown")
                ),
            )
        console.print(table)
        console.print(
            "Blocks of a month of consecutive entries are resampled with replacement, the same "
            "blocks for every policy, so a difference compares the policies on the same trades. "
            "Drawdown here is of the cumulative P&L in entry order, not the daily equity curve.",
            highlight=False,
        )

    if report.sensitivity:
        table = Table(
            title="How the headline figures move with each modelling choice (dollars)",
            title_justify="left",
        )
        keys = list(report.sensitivity[0][2])
        table.add_column("")
        for key in keys:
            table.add_column(key.replace("_", " "), justify="right")
        for label, _point, figures in report.sensitivity:
            table.add_row(label, *(_money(figures.get(k)) for k in keys))
        console.print(table)

    console.print("What the backtest cannot tell:", style="bold")
    for line in CANNOT_TELL:
        console.print(f"- {line}", highlight=False)


# --------------------------------------------------------------------------- sweeps


def emit_sweep(
    grid: Sequence[dict], results: Sequence[dict], policies: Sequence[str], fmt: str
) -> None:
    """One row per grid point: the swept values, each policy's total P&L, alvh's max
    drawdown and 5% CVaR (table), or every summary (JSON, CSV)."""
    money = [{k: summary_in_dollars(s.to_dict()) for k, s in r.items()} for r in results]
    if fmt == "json":
        return common.emit_json(
            {"points": [{"point": p, "policies": r} for p, r in zip(grid, money, strict=True)]}
        )
    if fmt == "csv":
        return common.emit_csv([{**p, **r} for p, r in zip(grid, money, strict=True)])
    from rich.table import Table

    console = common.console()
    keys = list(grid[0])
    table = Table(title=f"Sweep: {len(grid)} points, total P&L, dollars", title_justify="left")
    for k in keys:
        table.add_column(k, justify="right")
    for p in policies:
        table.add_column(p, justify="right")
    extra = [p for p in ("alvh", "alvh_frac") if p in policies]
    for p in extra:
        table.add_column(f"{p} max DD", justify="right")
        table.add_column(f"{p} 5% CVaR", justify="right")
    for point, r in zip(grid, results, strict=True):
        cells = [str(point[k]) for k in keys] + [_money(r[p].total_pnl) for p in policies]
        for p in extra:
            cells += [_money(r[p].max_drawdown), _money(r[p].cvar_5)]
        table.add_row(*cells)
    console.print(table)
    console.print(
        "Every point is in-sample: choosing the best row and quoting its figures overstates "
        "what it would have done. --walk-forward chooses on past windows only.",
        highlight=False,
    )


def emit_walk_forward(wf, policies: Sequence[str], fmt: str) -> None:
    """Each fold: its windows, the point chosen on the train window, the test results."""
    if fmt == "json":
        data = wf.to_dict()
        for fold in data["folds"]:
            fold["test_result"] = {
                k: summary_in_dollars(v.to_dict()) for k, v in fold["test_result"].items()
            }
        data["pooled_test_total_pnl"] = _dollars(data["pooled_test_total_pnl"])
        return common.emit_json(data)
    if fmt == "csv":
        rows = []
        for f in wf.result.folds:
            row = {**f.window.as_dict(), **{f"chosen.{k}": v for k, v in f.chosen.items()}}
            row |= {"train_score": f.train_score, "test_score": f.test_score}
            row |= {f"{p}.total_pnl": common.Dollars(f.test_result[p].total_pnl) for p in policies}
            rows.append(row)
        return common.emit_csv(rows)
    from rich.table import Table

    console = common.console()
    r = wf.result
    table = Table(
        title=f"Walk-forward ({wf.train_days}-day train, {wf.test_days}-day test windows): "
        f"test-window P&L, dollars",
        title_justify="left",
    )
    for name in ("test window", "chosen on the train window before it", "train score"):
        table.add_column(name)
    for p in policies:
        table.add_column(p, justify="right")
    for f in r.folds:
        table.add_row(
            f"{f.window.test_start} to {f.window.test_end}",
            ", ".join(f"{k}={v}" for k, v in f.chosen.items()),
            _money(f.train_score, 2),
            *(_money(f.test_result[p].total_pnl) for p in policies),
        )
    table.add_row("all test windows", "", "", *(_money(wf.pooled[p]) for p in policies))
    console.print(table)
    console.print(
        f"Objective: {r.objective}. Only test-window results are shown: no figure here was "
        "chosen on the data it is measured on. Trades open and expire within their window.",
        highlight=False,
    )


def stderr_line(text: str) -> None:
    print(text, file=sys.stderr)
