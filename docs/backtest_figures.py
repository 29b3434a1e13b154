"""Print, as Markdown, every backtest figure the README's Backtest section quotes.

    PYTHONPATH=. python docs/backtest_figures.py                 # the embedded 2014-2018 data
    PYTHONPATH=. python docs/backtest_figures.py --history FILE  # a long history of your own
    PYTHONPATH=. python docs/backtest_figures.py --plot docs/backtest.png

Runs what ``alvh backtest`` runs at the defaults (with ``--fractional`` and
``--sensitivity model``), then the same at ten contracts; the bootstrap is seeded, so the
output is the same on every run. With ``--history`` the long run's headline figures are
printed instead of the ten-contract ones.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def money(x) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=Path, action="append")
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    from alvh_cli.backtest import analysis, experiments
    from alvh_cli.backtest import engine as bt
    from alvh_cli.backtest import sweep as sw
    from alvh_cli.backtest.options import load_history
    from alvh_cli.method.rules import Rules

    workers = args.workers or (sw.default_workers() if sw.has_module("joblib") else 1)
    history = load_history(args.history)
    rules = Rules()
    params = bt.BacktestParams()
    policies = bt.POLICIES
    start = time.perf_counter()
    result = bt.run_backtest(history, rules, params, policies)
    took = time.perf_counter() - start
    points = experiments.model_points(params, rules)
    runs = experiments.sensitivity(
        history, rules, params, bt.DEFAULT_POLICIES, [p for _, p in points], workers
    )
    cost_row = {1.0: {p: result.summary[p]["total_pnl"] for p in policies}}
    for (_label, point), summaries in zip(points, runs, strict=True):
        if set(point) == {"spread_multiplier"}:
            cost_row[point["spread_multiplier"]] = {p: summaries[p]["total_pnl"] for p in summaries}
    rows = [
        ("as run", {}, experiments.headline({p: result.summary[p] for p in bt.DEFAULT_POLICIES}))
    ]
    rows += [
        (label, point, experiments.headline(s))
        for (label, point), s in zip(points, runs, strict=True)
    ]
    rep = analysis.report(result, 0, 10_000, cost_row, rows)
    if args.plot:
        from alvh_cli.output.backtest import plot_report

        plot_report(rep, args.plot)

    s = result.summary
    print(
        f"<!-- {result.dates[0]} to {result.dates[-1]}, {len(result.entries)} entries, "
        f"run_backtest {took:.1f} s with alvh_frac -->\n"
    )
    lines = [
        ("trades", "trades", "int"), ("win rate", "win_rate", "pct"),
        ("mean P&L / trade", "mean_pnl", "money"), ("median P&L / trade", "median_pnl", "money"),
        ("total P&L", "total_pnl", "money"),
        ("mean return on risk / trade", "return_on_risk", "pct"),
        ("P&L per day held", "pnl_per_day_held", "money2"),
        ("max drawdown (daily equity)", "max_drawdown", "money"),
        ("worst trade", "worst_trade", "money"), ("5% CVaR / trade", "cvar_5", "money"),
        ("fees", "fees", "money"), ("half-spreads paid", "spread_cost", "money"),
        ("hedge spend (VIX layers)", "hedge_spend", "money"),
        ("trades that reached 2x", "adjusted_trades", "int"),
        ("their total P&L", "adjusted_pnl", "money"),
    ]  # fmt: skip

    def cell(p, key, kind):
        v = s[p][key]
        if kind == "int":
            return str(v)
        if kind == "pct":
            return f"{v:.1%}"
        if kind == "money2":
            return f"{v:,.2f}"
        return money(v)

    body = [[label, *(cell(p, k, kind) for p in policies)] for label, k, kind in lines]
    body.append(
        ["exits: stop or close / profit take / expiry"]
        + [
            f"{s[p]['exits']['stop']} / {s[p]['exits']['profit_take']} / {s[p]['exits']['expiry']}"
            for p in policies
        ]
    )
    for m in sorted(cost_row):
        body.append(
            [f"total P&L, half-spreads x{m:g}"] + [money(cost_row[m].get(p)) for p in policies]
        )
    print(table(["per policy, $", *policies], body), "\n")

    from alvh_cli.output.backtest import ATTRIBUTION_LINES

    body = [
        [label, *(money(s[p]["attribution"][c]) for p in policies)]
        for label, c in ATTRIBUTION_LINES
    ]
    print(table(["where the P&L came from, $", *policies], body), "\n")

    body = [
        [
            f"{r.episode.name} ({r.episode.start} to {r.episode.end})",
            f"{r.spx_change:+.1%}",
            f"{r.vix_high:.1f}",
            *(money(r.pnl[p]) for p in policies),
            money(r.vix_layers["alvh"]),
        ]
        for r in rep.episodes
    ]
    print(table(["window", "SPX", "VIX high", *policies, "alvh VIX layers"], body), "\n")

    b = rep.bootstrap
    body = []
    for name in [*policies, *b.contrasts]:
        ivs = b.intervals.get(name) or b.contrasts[name]
        body.append(
            [name]
            + [
                f"{money(ivs[x].estimate)} [{money(ivs[x].low)}, {money(ivs[x].high)}]"
                for x in ("total", "cvar", "max_drawdown")
            ]
        )
    print(
        f"<!-- bootstrap: {b.n_resamples} resamples, blocks of {b.block_length}, seed {b.seed} -->"
    )
    print(
        table(["95% interval", "total P&L", "5% CVaR / trade", "max drawdown by trade"], body), "\n"
    )

    keys = list(rows[0][2])
    body = [[label, *(money(f.get(k)) for k in keys)] for label, _, f in rows]
    print(table(["model choice varied", *keys], body), "\n")

    if not args.history:
        ten = bt.run_backtest(history, rules, bt.make_params({"contracts": 10}), policies)
        body = [
            [p, money(ten.summary[p]["total_pnl"]), money(ten.summary[p]["pnl_per_unit"]),
             money(ten.summary[p]["max_drawdown"]), money(ten.summary[p]["cvar_5"])]
            for p in policies
        ]  # fmt: skip
        print(
            table(["10 contracts", "total P&L", "per condor unit", "max drawdown", "5% CVaR"], body)
        )


if __name__ == "__main__":
    main()
