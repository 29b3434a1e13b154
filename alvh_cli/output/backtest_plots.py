"""Plots of ``alvh backtest``: a run's equity with drawdowns, P&L histograms and the stress
windows; a sweep's heat map; a walk-forward's test windows. Each is one PNG, written
atomically. matplotlib is imported only when a plot is drawn.
"""

from __future__ import annotations

import math
from pathlib import Path

from alvh_cli.backtest import analysis as an
from alvh_cli.backtest import experiments as ex
from alvh_cli.errors import InputError
from alvh_cli.output import files


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError(
            "matplotlib is needed for {flag:plot}: pip install 'alvh[plot]'", option="plot"
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


def plot_sweep(sweep: ex.Sweep, path: Path | str) -> None:
    """A heat map of each policy's total P&L over the first two swept keys (the first
    value of any other key); one key swept: one row."""
    grid, results, policies = sweep.grid, sweep.results, sweep.policies
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


def plot_frontier(fr, path: Path | str) -> None:
    """Total P&L against 5% CVaR per trade: the method's points joined in order of risk
    aversion, hold and the stops as single points, each with its 95% intervals."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=100)

    def bars(points, **kw):
        xs = [p.cvar.estimate for p in points]
        ys = [p.total.estimate for p in points]
        xerr = [[x - p.cvar.low for x, p in zip(xs, points, strict=True)],
                [p.cvar.high - x for x, p in zip(xs, points, strict=True)]]  # fmt: skip
        yerr = [[y - p.total.low for y, p in zip(ys, points, strict=True)],
                [p.total.high - y for y, p in zip(ys, points, strict=True)]]  # fmt: skip
        ax.errorbar(xs, ys, xerr=xerr, yerr=yerr, capsize=2, elinewidth=0.6, **kw)
        return xs, ys

    for policy in sorted({p.policy for p in fr.points}):
        mine = [p for p in fr.points if p.policy == policy and not p.point.get("cvar_limit_credit")]
        xs, ys = bars(mine, marker="o", label=f"{policy} (γ ladder)")
        for x, y, p in zip(xs, ys, mine, strict=True):
            ax.annotate(f"γ {p.point['risk_aversion']:g}", (x, y), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")  # fmt: skip
        limited = [p for p in fr.points if p.policy == policy and p.point.get("cvar_limit_credit")]
        if limited:
            bars(limited, marker="s", linestyle="none", label=f"{policy} (CVaR limit, γ 0)")
    for b in fr.baselines:
        bars([b], marker="D", linestyle="none", label=b.policy)
    ax.set_xlabel("5% CVaR per trade, $ (right is a smaller tail loss)")
    ax.set_ylabel("total P&L, $")
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.legend(fontsize=8)
    ax.set_title(f"Frontier over {fr.trades} condors, 95% bootstrap intervals", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def _tick(value) -> str:
    return (
        f"{value:g}"
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else str(value)
    )


def plot_walk_forward(wf: ex.WalkForward, path: Path | str) -> None:
    """Each test window's total P&L per policy, with the point chosen on its train window."""
    policies = wf.policies
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
