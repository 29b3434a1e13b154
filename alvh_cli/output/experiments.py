"""Output of the backtest's experiments: a sweep's table, a walk-forward's folds, the
frontier's points and targets (table, JSON or CSV); and :func:`emit_run`, which prints
whichever a backtest command ran."""

from __future__ import annotations

from alvh_cli.backtest import experiments as ex
from alvh_cli.backtest.analysis import BacktestReport
from alvh_cli.output import common
from alvh_cli.output.backtest import dollars, emit_backtest, money, pick, summary_in_dollars

# --------------------------------------------------------------------------- sweeps


def emit_sweep(sweep: ex.Sweep, fmt: str) -> None:
    """One row per grid point: the swept values, each policy's total P&L, alvh's max
    drawdown and 5% CVaR (table), or every summary (JSON, CSV)."""
    grid, results, policies = sweep.grid, sweep.results, sweep.policies
    records = [{k: summary_in_dollars(s.to_dict()) for k, s in r.items()} for r in results]
    if fmt == "json":
        return common.emit_json(
            {"points": [{"point": p, "policies": r} for p, r in zip(grid, records, strict=True)]}
        )
    if fmt == "csv":
        return common.emit_csv([{**p, **r} for p, r in zip(grid, records, strict=True)])
    console = common.console()
    keys = list(grid[0])
    table = common.table(f"Sweep: {len(grid)} points, total P&L, dollars")
    for k in keys:
        table.add_column(k, justify="right")
    for p in policies:
        table.add_column(p, justify="right")
    extra = [p for p in ("alvh", "alvh_frac") if p in policies]
    for p in extra:
        table.add_column(f"{p} max DD", justify="right")
        table.add_column(f"{p} 5% CVaR", justify="right")
    for point, r in zip(grid, results, strict=True):
        cells = [str(point[k]) for k in keys] + [money(r[p].total_pnl) for p in policies]
        for p in extra:
            cells += [money(r[p].max_drawdown), money(r[p].cvar_5)]
        table.add_row(*cells)
    console.print(table)
    console.print(
        "Every point is in-sample: choosing the best row and quoting its figures overstates "
        "what it would have done. --walk-forward chooses on past windows only.",
        highlight=False,
    )


def emit_walk_forward(wf: ex.WalkForward, fmt: str) -> None:
    """Each fold: its windows, the point chosen on the train window, the test results."""
    policies = wf.policies
    if fmt == "json":
        data = wf.to_dict()
        for fold in data["folds"]:
            # a bounded objective with no point within the bound: its best tail, not a score
            fold["train_outside_bound_cvar"] = ex.outside_bound(fold["train_score"])
            fold["train_score"] = _json_score(fold["train_score"])
            fold["test_result"] = {
                k: summary_in_dollars(v.to_dict()) for k, v in fold["test_result"].items()
            }
        data["pooled_test_total_pnl"] = dollars(data["pooled_test_total_pnl"])
        return common.emit_json(data)
    if fmt == "csv":
        rows = []
        for f in wf.result.folds:
            row = {**f.window.to_dict(), **{f"chosen.{k}": v for k, v in f.chosen.items()}}
            row |= {"train_score": _json_score(f.train_score), "test_score": f.test_score}
            row |= {f"{p}.total_pnl": common.Dollars(f.test_result[p].total_pnl) for p in policies}
            rows.append(row)
        return common.emit_csv(rows)
    console = common.console()
    r = wf.result
    table = common.table(
        f"Walk-forward ({wf.train_days}-day train, {wf.test_days}-day test windows): "
        f"test-window P&L, dollars",
    )
    for name in ("test window", "chosen on the train window before it", "train score"):
        table.add_column(name)
    for p in policies:
        table.add_column(p, justify="right")
    for f in r.folds:
        table.add_row(
            f"{f.window.test_start} to {f.window.test_end}",
            ", ".join(f"{k}={v}" for k, v in f.chosen.items()),
            _train_score(f.train_score),
            *(money(f.test_result[p].total_pnl) for p in policies),
        )
    table.add_row("all test windows", "", "", *(money(wf.pooled[p]) for p in policies))
    console.print(table)
    console.print(
        f"Objective: {r.objective}. Only test-window results are shown: no figure here was "
        "chosen on the data it is measured on. Trades open and expire within their window.",
        highlight=False,
    )


def _train_score(score: float) -> str:
    cvar = ex.outside_bound(score)
    if cvar is None:
        return money(score, 2)
    return f"none within the bound; best CVaR {cvar:,.0f}"


def _json_score(score: float) -> float | None:
    return None if ex.outside_bound(score) is not None else score


# --------------------------------------------------------------------------- the frontier


def emit_frontier(fr, fmt: str) -> None:
    """Each point's total P&L and 5% CVaR per trade with their intervals, the baselines
    first; then what the targets ask and what the frontier gives."""
    data = fr.to_dict()
    if fmt == "json":
        return common.emit_json(data)
    rows = [*fr.baselines, *fr.points]
    if fmt == "csv":
        return common.emit_csv(
            [
                {
                    "policy": p.policy,
                    "point": p.label,
                    **{f"total_pnl.{k}": common.Dollars(v) for k, v in p.total.to_dict().items()},
                    **{f"cvar_5.{k}": common.Dollars(v) for k, v in p.cvar.to_dict().items()},
                }
                for p in rows
            ]
        )
    console = common.console()
    table = common.table(
        f"Frontier: total P&L and 5% CVaR per trade over {fr.trades} condors, dollars, "
        f"95% intervals"
    )
    for name, justify in (("policy", "left"), ("point", "left"), ("total P&L", "right"),
                          ("5% CVaR / trade", "right")):  # fmt: skip
        table.add_column(name, justify=justify)
    for p in rows:
        table.add_row(
            p.policy, "" if p.label == p.policy else p.label, _interval(p.total), _interval(p.cvar)
        )
    console.print(table)
    for v in data["targets"]:
        console.print(target_line(v), highlight=False)
    console.print(
        "Every point is in-sample unless the history's period was not used to choose "
        "anything; the intervals are the moving-block bootstrap's, on the same blocks for "
        "every point. γ is risk_aversion: each decision maximises EV + γ·CVaR.",
        highlight=False,
    )


def target_line(v: dict) -> str:
    """One target of the frontier (``Frontier.verdicts``) in words and dollars."""
    mult = f"{v['target']:.2f}× " if v["against"] != "hold" else f"{v['target']:.0%} of "
    if v["point"] is None:
        got = f"no point is within {v['against']}'s CVaR"
    else:
        got = f"{money(v['pnl'])} at {v['point']}"
        if v["ratio"] is not None:
            got += f" ({v['ratio']:.2f}× {v['against']}'s)"
        d = v.get("difference")
        if d is not None:
            got += (
                f", {d['estimate']:+,.0f} [{d['low']:+,.0f}, {d['high']:+,.0f}] against "
                f"{v['against']}"
            )
    where = "at γ 0" if v["against"] == "hold" else f"at {v['against']}'s CVaR or better"
    return (
        f"{v['policy']} {where}: {got}; target {mult}{v['against']}'s "
        f"{money(v['base_pnl'])} = {money(v['target_pnl'])}: "
        f"{'met' if v['met'] else 'NOT met'}"
    )


def _interval(iv) -> str:
    return f"{money(iv.estimate)} [{money(iv.low)}, {money(iv.high)}]"


def emit_run(outcome: BacktestReport | ex.Sweep | ex.WalkForward, fmt: str) -> None:
    """Print what a backtest command ran (``alvh_cli.app.backtest.BacktestRun.outcome``):
    the report, the sweep, the walk-forward or the frontier."""
    pick(outcome, emit_backtest, emit_sweep, emit_walk_forward, emit_frontier)(outcome, fmt)
