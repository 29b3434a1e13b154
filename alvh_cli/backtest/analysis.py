"""What a backtest's result says beyond its totals: where the money came from, what each
policy did in the stress windows, and how uncertain the totals are.

* ``attribution``: each policy's P&L by what earned it — the condor, the VIX layers, the
  Layer 3 synthetics (conversions on the put side, reversals on the call side) and the
  rolled verticals — each by the condor side it belongs to (the VIX layers hedge the put
  side: the method buys them only when that side is tested). The parts add up to the total.
* ``episode_table``: each policy's P&L in each stress window (the named windows of the
  embedded data, else the worst SPX drawdowns of the period traded), with the VIX layers'
  own P&L there, read off the daily curves.
* ``bootstrap``: moving-block bootstrap intervals (blocks of a month of entries) for each
  policy's total, CVaR and maximum drawdown by trade, and for the paired differences
  alvh − hold and alvh − stop3x (:mod:`alvh_cli.backtest.bootstrap`).

Pure functions of a ``BacktestResult``; money in dollars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from alvh_cli.backtest import bootstrap as bs
from alvh_cli.backtest import episodes as ep
from alvh_cli.backtest.defaults import CONFIDENCE, CVAR_LEVEL, RESAMPLES, SEED
from alvh_cli.backtest.results import CATEGORIES, CATEGORY_INDEX, BacktestResult

# Rows of the attribution table: (label, put-side category, call-side category).
ATTRIBUTION_ROWS = (
    ("condor", "condor_put", "condor_call"),
    ("VIX layers", "vix", None),
    ("conversions / reversals", "synthetic_put", "synthetic_call"),
    ("rolled verticals", "roll_put", "roll_call"),
)
CONTRASTS = (("alvh", "hold"), ("alvh", "stop3x"), ("alvh_frac", "hold"), ("alvh_frac", "stop3x"))
BOOTSTRAP_STATISTICS = ("total", "cvar", "max_drawdown")


def attribution(result: BacktestResult) -> dict[str, dict[str, dict[str, float]]]:
    """policy → row label → {"put", "call", "total"} dollars (``ATTRIBUTION_ROWS``), plus a
    "total" row; every row's put + call is its total, the rows add up to the policy's."""
    out = {}
    for policy in result.policies:
        parts = result.summary[policy].attribution
        rows = {}
        for label, put, call in ATTRIBUTION_ROWS:
            p = parts[put]
            c = parts[call] if call else 0.0
            rows[label] = {"put": p, "call": c, "total": p + c}
        rows["total"] = {
            side: float(sum(r[side] for r in rows.values())) for side in ("put", "call", "total")
        }
        out[policy] = rows
    return out


@dataclass(frozen=True)
class EpisodeRow:
    """One stress window: SPX's change in it and its highest VIX close, and per policy the
    P&L in the window (equity curve) and the VIX layers' own P&L there."""

    episode: ep.Episode
    spx_change: float  # fraction: SPX close at the end / before the start − 1
    vix_high: float
    pnl: dict[str, float]
    vix_layers: dict[str, float]

    def to_dict(self) -> dict:
        return {
            **self.episode.to_dict(),
            "spx_change": self.spx_change,
            "vix_high": self.vix_high,
            "pnl": self.pnl,
            "vix_layers_pnl": self.vix_layers,
        }


def episode_windows(result: BacktestResult, k: int = ep.DRAWDOWNS) -> tuple[ep.Episode, ...]:
    """The named windows of the embedded data within the period traded, else the ``k`` worst
    SPX drawdowns of that period (from the first entry to the last close)."""
    first = result.entries[0].first
    dates = result.dates[first:]
    return ep.stress_episodes(dates, result.spx[first:], result.embedded, k=k)


def episode_table(result: BacktestResult, k: int = ep.DRAWDOWNS) -> list[EpisodeRow]:
    """Each stress window with every policy's P&L in it (``episode_windows``)."""
    rows = []
    vix_row = CATEGORY_INDEX["vix"]
    days = np.array([d.toordinal() for d in result.dates])
    for e in episode_windows(result, k):
        lo = int(np.searchsorted(days, e.start.toordinal(), side="left"))
        hi = int(np.searchsorted(days, e.end.toordinal(), side="right"))
        base = result.spx[lo - 1] if lo > 0 else result.spx[lo]  # the close before the window
        rows.append(
            EpisodeRow(
                e,
                float(result.spx[hi - 1] / base - 1.0) if hi > lo else math.nan,
                float(result.vix[lo:hi].max()) if hi > lo else math.nan,
                {p: ep.window_change(result.dates, result.equity[p], e) for p in result.policies},
                {
                    p: ep.window_change(result.dates, result.curves[p][vix_row], e)
                    for p in result.policies
                },
            )
        )
    return rows


def bootstrap(
    result: BacktestResult,
    seed: int = SEED,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
) -> bs.BootstrapResult:
    """Moving-block bootstrap of the per-trade P&L of every policy, blocks of a month of
    entries, the same blocks for every policy (paired): intervals for the total, the 5% CVaR
    and the maximum drawdown by trade (the cumulative P&L in entry order, not the daily
    equity curve), and for alvh − hold and alvh − stop3x (and alvh_frac's) when run."""
    series = {p: result.pnl(p) for p in result.policies}
    block = bs.month_block_length([e.opened for e in result.entries])
    block = min(block, len(result.entries))
    contrasts = [(a, b) for a, b in CONTRASTS if a in series and b in series]
    return bs.block_bootstrap(
        series,
        block,
        n_resamples=resamples,
        seed=seed,
        confidence=confidence,
        statistics=BOOTSTRAP_STATISTICS,
        cvar_level=CVAR_LEVEL,
        contrasts=contrasts,
    )


def check_attribution(result: BacktestResult, tolerance: float = 1e-6) -> None:
    """Raise AssertionError unless every trade's attribution adds up to its P&L and each
    policy's category curves add up to its equity curve (an invariant, checked in tests)."""
    for r in result.trades:
        parts = sum(r.attribution[c] for c in CATEGORIES)
        if abs(parts - r.pnl) > tolerance:
            raise AssertionError(f"{r.policy} {r.id}: parts {parts} != P&L {r.pnl}")
    for p in result.policies:
        if not np.allclose(result.curves[p].sum(axis=0), result.equity[p], atol=tolerance):
            raise AssertionError(f"{p}: category curves do not add up to the equity curve")


@dataclass(frozen=True)
class BacktestReport:
    """A run and what is read from it: attribution, episodes, bootstrap intervals, and the
    sensitivity rows when they were run (``cost_row``: half-spread multiplier → each
    policy's total P&L; ``sensitivity``: (label, point, ``experiments.headline``) per
    modelling choice varied, the run itself first)."""

    result: BacktestResult
    attribution: dict
    episodes: list[EpisodeRow]
    bootstrap: bs.BootstrapResult | None
    cost_row: dict[float, dict[str, float]] | None = None
    sensitivity: list[tuple[str, dict, dict[str, float]]] | None = None

    def to_dict(self) -> dict:
        out = self.result.to_dict()
        out["attribution"] = self.attribution
        out["episodes"] = [row.to_dict() for row in self.episodes]
        if self.bootstrap is not None:
            out["bootstrap"] = self.bootstrap.to_dict()
        if self.cost_row is not None:
            out["cost_sensitivity"] = {
                f"{m:g}": totals for m, totals in sorted(self.cost_row.items())
            }
        if self.sensitivity is not None:
            out["model_sensitivity"] = [
                {"variant": label, "point": point, **figures}
                for label, point, figures in self.sensitivity
            ]
        return out


def report(
    result: BacktestResult,
    seed: int = SEED,
    resamples: int = RESAMPLES,
    cost_row: dict | None = None,
    sensitivity: list | None = None,
) -> BacktestReport:
    """Everything read from ``result`` (the bootstrap only with two trades or more)."""
    boot = bootstrap(result, seed, resamples) if len(result.entries) >= 2 else None
    return BacktestReport(
        result, attribution(result), episode_table(result), boot, cost_row, sensitivity
    )
