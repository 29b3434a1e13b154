"""Output of ``alvh backtest``: the summary table, JSON or CSV, the trades CSV, the equity PNG.

Both files are written atomically. rich and matplotlib are imported only when used.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from alvh_cli.backtest import engine as bt
from alvh_cli.errors import InputError
from alvh_cli.output import common

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


def write_trades(result: bt.BacktestResult, path: Path | str) -> None:
    """One CSV row per policy and trade (money in dollars, credit in points per unit)."""

    def write(fh):
        out = csv.DictWriter(fh, fieldnames=TRADE_COLUMNS, lineterminator="\n")
        out.writeheader()
        for row in result.trades:
            out.writerow({k: _cell(k, row[k]) for k in TRADE_COLUMNS})

    common.write_atomic(path, write)


def _cell(key: str, value: Any) -> Any:
    if isinstance(value, float):
        money = key.startswith("pnl") or key in MONEY_COLUMNS
        return round(value, 2 if money else 4)
    return value


def plot_equity(result: bt.BacktestResult, path: Path | str) -> None:
    """A PNG of each policy's daily equity curve (matplotlib: ``pip install 'alvh[plot]'``)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError(
            "matplotlib is needed for --plot: pip install 'alvh[plot]'", "--plot"
        ) from None
    fig, ax = plt.subplots(figsize=(10, 5), dpi=110)
    for policy in result.policies:
        ax.plot(result.dates, result.equity[policy], label=policy, linewidth=1.2)
    ax.axhline(0.0, color="grey", linewidth=0.6)
    ax.set_ylabel("cumulative P&L, $ (open trades at model mid)")
    ax.set_title(
        f"alvh backtest {result.dates[0]} to {result.dates[-1]}: "
        f"{len(result.entries)} weekly condors, {result.params.contracts} contract(s) each"
    )
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    fig.text(0.01, 0.01, result.note, fontsize=7, color="dimgrey")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    try:
        common.write_atomic(path, lambda fh: fig.savefig(fh, format="png"), mode="wb")
    finally:
        plt.close(fig)


ROWS = (  # (label, summary key, kind)
    ("trades", "trades", "int"),
    ("win rate", "win_rate", "pct"),
    ("mean P&L / trade", "mean_pnl", "money"),
    ("median P&L / trade", "median_pnl", "money"),
    ("total P&L", "total_pnl", "money"),
    ("max drawdown (daily equity)", "max_drawdown", "money"),
    ("worst trade", "worst_trade", "money"),
    ("5% CVaR / trade", "cvar_5", "money"),
    ("exits: stop or close / profit take / expiry", "exits", "exits"),
    ("hedge spend (VIX layers)", "hedge_spend", "money"),
    ("hedge P&L (all layers)", "hedge_pnl", "money"),
    ("VIX layers / conversions / unwinds", "hedges", "counts"),
    ("fees", "fees", "money"),
    ("half-spreads paid", "spread_cost", "money"),
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
        return f"{summary['hedges']} / {summary['conversions']} / {summary['unwinds']}"
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:,.0f}"


def describe(result: bt.BacktestResult) -> list[str]:
    """The run's assumptions in a few lines (shown above the table)."""
    p, r = result.params, result.rules
    day = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")[p.weekday]
    take = f"{r.profit_take:.0%} of the credit (every policy)" if p.profit_take else "off"
    return [
        f"Period {result.dates[0]} to {result.dates[-1]}: {len(result.dates)} closes, "
        f"{len(result.entries)} entr{'y' if len(result.entries) == 1 else 'ies'}. "
        f"Data: {result.source}",
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
        f"^{p.spx_spread_power:g} (SPX) / {p.vix_half_spread:g} (VIX) points per leg"
        f"{'' if p.spread_multiplier == 1 else f' x {p.spread_multiplier:g}'}; fees "
        f"${p.costs.flat_fee():.2f} per SPX contract at $1 or more; none on cash settlement. "
        f"Profit take: {take}.",
        f"alvh: each decision sees only the closes before it ({p.warmup} trading days of "
        "warm-up before the first entry) for its scenario set and the VIX spike signal; the "
        "other signals are not used.",
    ]


MONEY = frozenset(key for _, key, kind in ROWS if kind == "money")


def summary_in_dollars(summary: dict) -> dict:
    """One policy's summary with its dollar figures (the ``money`` rows) as ``Dollars``."""
    return {k: common.Dollars(v) if k in MONEY else v for k, v in summary.items()}


def emit_backtest(result: bt.BacktestResult, fmt: str) -> None:
    """Print the summary: a rich table (metrics × policies), JSON, or CSV (one row per policy)."""
    if fmt == "json":
        data = result.to_dict()
        data["policies"] = {p: summary_in_dollars(s) for p, s in data["policies"].items()}
        return common.emit_json(data)
    if fmt == "csv":
        return common.emit_csv(
            [{"policy": p, **summary_in_dollars(result.summary[p])} for p in result.policies]
        )
    from rich.table import Table

    console = common.console()
    console.print("alvh backtest", style="bold")
    for line in describe(result):
        console.print(line, highlight=False)
    console.print(result.note, style="bold yellow")
    table = Table(title="Per policy, dollars (one condor = 100 x points)", title_justify="left")
    table.add_column("")
    for policy in result.policies:
        table.add_column(policy, justify="right")
    for label, key, kind in ROWS:
        table.add_row(label, *(_format(kind, result.summary[p], key) for p in result.policies))
    console.print(table)
    console.print(
        "Drawdown is from the daily equity curve (open trades at the model mid). 5% CVaR: mean "
        "of the worst 5% of trades. 'Reached 2x': the condor's debit to close was >= 2x the "
        "credit on a daily close before any profit take (the trades a 2x stop closes).",
        highlight=False,
    )
