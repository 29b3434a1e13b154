"""Output of ``alvh backtest``: the report (table, JSON or CSV), the trades CSV, and the
progress bars of long runs (a sweep's, a walk-forward's and a frontier's tables are
:mod:`alvh_cli.output.experiments`, the plots :mod:`alvh_cli.output.backtest_plots`).

Files are written atomically. rich is imported only when used.
"""

from __future__ import annotations

import contextlib
import csv
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from alvh_cli.backtest import analysis as an
from alvh_cli.backtest import experiments as ex
from alvh_cli.backtest.costs import CostModel
from alvh_cli.backtest.results import CATEGORIES, BacktestResult
from alvh_cli.output import common, files

CANNOT_TELL = (
    "Modelled prices: options are priced from VIX by a model (BSM with a smile fitted to one "
    "calm day's chain), not from historical quotes; real skew, spreads and the volatility "
    "premium move in ways this model does not.",
    "One VIX futures curve: futures come from a one-factor mean-reverting curve, not the "
    "historical contango and backwardation, so VIX hedge values are approximate.",
    "No early assignment or pin risk: SPX options are European and cash-settled at the "
    "close; expiry-day pin risk, margin and taxes are not modelled.",
    "Mostly in-sample: the method's rules and the model's choices were made while looking "
    "at 2014-2018 (the risk aversion on 2000-2014, by walk-forward); only --walk-forward "
    "reports figures chosen out of sample.",
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
    *(f"pnl_{c}" for c in CATEGORIES),
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
    "hedge_days",
    "actions",
)
MONEY_COLUMNS = ("fees", "spread_cost", "max_loss", "hedge_spend", "hedge_pnl")


# --------------------------------------------------------------------------- files


def write_trades(result: BacktestResult, path: Path | str) -> None:
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
        cents = key.startswith("pnl") or key in MONEY_COLUMNS
        return round(value, 2 if cents else 4)
    return value


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
        TextColumn("{task.fields[count]}"),  # "starting" until the first tick gives a total
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )

    def bar(label: str):
        task = bars.add_task(label, total=None, count="starting")

        def tick(done: int, total: int) -> None:
            bars.update(task, completed=done, total=total, count=f"{done}/{total}")

        return tick

    with bars:
        yield bar


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
    ("  median days a VIX hedge was held", "median_hedge_days", "days"),
    ("trades that reached 2x", "adjusted_trades", "int"),
    ("  their total P&L", "adjusted_pnl", "money"),
    ("  their mean P&L", "adjusted_mean_pnl", "money"),
)


def _format(kind: str, summary: dict, key: str) -> str:
    value = summary[key]
    if kind == "int":
        return str(value)
    if kind == "days":
        return "n/a" if value is None or math.isnan(value) else f"{value:g}"
    if kind == "pct":
        return "n/a" if value is None or math.isnan(value) else f"{value:.1%}"
    if kind == "exits":
        return f"{value['stop']} / {value['profit_take']} / {value['expiry']}"
    if kind == "counts":
        keys = ("hedges", "conversions", "rolls", "trims", "unwinds")
        return " / ".join(str(summary[k]) for k in keys)
    return money(value, 2 if kind == "money2" else 0)


def money(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def describe(result: BacktestResult) -> list[str]:
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
        f"Model: SPX BSM, ATM vol = {p.atm_ratio:g} x VIX/100, skew {p.spx_skew:g} at 30 days "
        f"{p.spx_skew_term:+g} per ln(T/30d), smile {p.spx_smile:g}, "
        f"r {p.rate:g}, q {p.dividend_yield:g}; VIX futures F(t) = {p.vix_theta:g} + "
        f"(VIX - {p.vix_theta:g})e^(-{r.vix_term_kappa:g}t); VIX options Black-76, atm "
        f"{p.vix_atm:g} x (VIX/16)^{r.vix_vol_power:g}, skew {p.vix_skew:g}, "
        f"smile {p.vix_smile:g}.",
        f"Costs: half-spread {p.spx_half_spread:g} x max(1, VIX/{p.spx_spread_vix:g})"
        f"^{p.spx_spread_power:g} (SPX) / {p.vix_half_spread:g} x max(1, "
        f"VIX/{p.spx_spread_vix:g})^{p.vix_spread_power:g} (VIX) points per leg{spread}; "
        f"fees ${p.commission:g} commission + Cboe fee (x{p.exchange_fees:g}) + "
        f"${p.clearing_fee:g} OCC + ${p.regulatory_fee:g} ORF per contract "
        f"(${CostModel.from_params(p).flat_fee():.2f} for SPX at $1 or more); none on cash "
        "settlement.",
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
        out["attribution"] = dollars(summary["attribution"])
    for key in ("fees", "spread_cost", "hedge_spend", "hedge_pnl", "adjusted_pnl"):
        if key in summary:
            out[key] = common.Dollars(summary[key])
    return out


def dollars(value):
    """Every number in a nested dict/list as ``Dollars`` (a table of money)."""
    if isinstance(value, dict):
        return {k: dollars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [dollars(v) for v in value]
    if isinstance(value, float):
        return common.Dollars(value)
    return value


def report_in_dollars(data: dict) -> dict:
    """The report's JSON with its money as ``Dollars``: summaries, attribution, the P&L in
    each stress window, the bootstrap's estimates and bounds, the sensitivity rows."""
    data["policies"] = {p: summary_in_dollars(s) for p, s in data["policies"].items()}
    data["attribution"] = dollars(data["attribution"])
    for row in data["episodes"]:
        row["pnl"], row["vix_layers_pnl"] = dollars(row["pnl"]), dollars(row["vix_layers_pnl"])
    if "bootstrap" in data:
        for part in ("series", "contrasts"):
            data["bootstrap"][part] = dollars(data["bootstrap"][part])
    if "cost_sensitivity" in data:
        data["cost_sensitivity"] = dollars(data["cost_sensitivity"])
    for row in data.get("model_sensitivity", []):
        for key, value in row.items():
            if key not in ("variant", "point"):
                row[key] = dollars(value)
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
    if fmt == "json":
        return common.emit_json(report_in_dollars(report.to_dict()))
    if fmt == "csv":
        return common.emit_csv(_csv_rows(report))
    console = common.console()
    result = report.result
    console.print("alvh backtest", style="bold")
    for line in describe(result):
        console.print(line, highlight=False)
    console.print(result.note, style="bold yellow")
    _print_policies(console, report)
    _print_attribution(console, result)
    if report.episodes:
        _print_episodes(console, report)
    if report.bootstrap is not None:
        _print_bootstrap(console, report)
    if report.sensitivity:
        _print_sensitivity(console, report)
    console.print("What the backtest cannot tell:", style="bold")
    for line in CANNOT_TELL:
        console.print(f"- {line}", highlight=False)


def _csv_rows(report: an.BacktestReport) -> list[dict]:
    """One row per policy: its summary, its bootstrap bounds, its totals at each spread."""
    rows = []
    for p in report.result.policies:
        row = {"policy": p, **summary_in_dollars(report.result.summary[p].to_dict())}
        if report.bootstrap is not None:
            for stat, iv in report.bootstrap.intervals[p].items():
                row[f"{stat}_low"] = common.Dollars(iv.low)
                row[f"{stat}_high"] = common.Dollars(iv.high)
        if report.cost_row:
            for m, totals in sorted(report.cost_row.items()):
                row[f"total_pnl_spreads_x{m:g}"] = common.Dollars(totals[p])
        rows.append(row)
    return rows


def _policy_table(title: str, policies: Sequence[str]):
    table = common.table(title)
    table.add_column("")
    for policy in policies:
        table.add_column(policy, justify="right")
    return table


def _print_policies(console, report: an.BacktestReport) -> None:
    result = report.result
    policies = result.policies
    table = _policy_table("Per policy, dollars (one condor = 100 x points)", policies)
    summaries = {p: result.summary[p].to_dict() for p in policies}
    for label, key, kind in ROWS:
        table.add_row(label, *(_format(kind, summaries[p], key) for p in policies))
    if report.cost_row:
        for m, totals in sorted(report.cost_row.items()):
            table.add_row(f"total P&L, half-spreads x{m:g}", *(money(totals[p]) for p in policies))
    console.print(table)
    console.print(
        "Drawdown is from the daily equity curve (open trades at the model mid). 5% CVaR: mean "
        "of the worst 5% of trades. Return on risk: P&L over the condor's max loss at entry "
        "(the wider wing less the credit). 'Reached 2x': the condor's debit to close was >= 2x "
        "the credit on a daily close before any profit take (the trades a 2x stop closes).",
        highlight=False,
    )


def _print_attribution(console, result: BacktestResult) -> None:
    policies = result.policies
    table = _policy_table("Where the P&L came from, dollars", policies)
    for label, category in ATTRIBUTION_LINES:
        values = [result.summary[p].attribution[category] for p in policies]
        if category.startswith("condor") or any(abs(v) > 0.005 for v in values):
            table.add_row(label, *(money(v) for v in values))
    table.add_row("total", *(money(result.summary[p].total_pnl) for p in policies))
    console.print(table)
    console.print(
        "Each part is the fills, fees and settlements of those legs; the parts add up to the "
        "total. VIX layers hedge the put side (alvh buys them only when it is tested).",
        highlight=False,
    )


def _print_episodes(console, report: an.BacktestReport) -> None:
    policies = report.result.policies
    table = common.table("Stress windows: P&L in the window, dollars")
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
            *(money(row.pnl[p]) for p in policies),
        ]
        if "alvh" in policies:
            cells.append(money(row.vix_layers["alvh"]))
        table.add_row(*cells)
    console.print(table)
    console.print(
        "A window's P&L is the change of the daily equity curve from the close before it "
        "to its last close (open trades at the model mid). "
        + (
            "Named windows of the embedded data."
            if report.result.embedded
            else "Windows: the deepest SPX drawdowns of the period traded."
        ),
        highlight=False,
    )


def _print_bootstrap(console, report: an.BacktestReport) -> None:
    b = report.bootstrap
    title = (
        f"Uncertainty: {b.confidence:.0%} intervals, moving-block bootstrap ({b.n_resamples:,} "
        f"resamples of {b.n} trades in blocks of {b.block_length}, seed {b.seed})"
    )
    table = common.table(title)
    for name in ("", "total P&L", "5% CVaR / trade", "max drawdown by trade"):
        table.add_column(name, justify="left" if not name else "right")
    for name in [*report.result.policies, *b.contrasts]:
        ivs = b.intervals.get(name) or b.contrasts[name]
        table.add_row(
            name,
            *(
                f"{money(ivs[s].estimate)} [{money(ivs[s].low)}, {money(ivs[s].high)}]"
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


def _print_sensitivity(console, report: an.BacktestReport) -> None:
    table = common.table(
        "How the headline figures move with each modelling choice (dollars)",
    )
    keys = list(report.sensitivity[0][2])
    table.add_column("")
    for key in keys:
        table.add_column(key.replace("_", " "), justify="right")
    for label, _point, figures in report.sensitivity:
        table.add_row(label, *(money(figures.get(k)) for k in keys))
    console.print(table)


# --------------------------------------------------------------------------- a run


def write_files(
    outcome: an.BacktestReport | ex.Sweep | ex.WalkForward,
    trades: Path | str | None = None,
    plot: Path | str | None = None,
) -> None:
    """The files a backtest command asked for: the report's trades CSV, the plot of what
    ran (:mod:`alvh_cli.output.backtest_plots`)."""
    if trades is not None:
        write_trades(outcome.result, trades)
    if plot is not None:
        from alvh_cli.output import backtest_plots as plots

        draw = pick(
            outcome, plots.plot_report, plots.plot_sweep, plots.plot_walk_forward,
            plots.plot_frontier,
        )  # fmt: skip
        draw(outcome, plot)


def pick(outcome, report, sweep, walk_forward, frontier):
    """Of four functions, the one for what ran."""
    from alvh_cli.backtest.frontier import Frontier

    if isinstance(outcome, Frontier):
        return frontier
    if isinstance(outcome, ex.WalkForward):
        return walk_forward
    return sweep if isinstance(outcome, ex.Sweep) else report
