"""The frontier: what the method keeps of the P&L for each degree of caution.

The method decides by EV + γ·CVaR (``risk_aversion`` γ, :mod:`alvh_cli.method.decision`),
optionally under a CVaR limit. A frontier runs the backtest at a ladder of γ (and of
limits, as multiples of the opening credit, at γ = 0) and sets each run's total P&L
against its 5% CVaR per trade, beside hold and the 2x/3x stops (which do not depend on
γ). All series share the entries, so one moving-block bootstrap on the same blocks gives
every point's 95% intervals (:func:`alvh_cli.backtest.bootstrap.block_bootstrap`).

Read against the stops: at each stop's CVaR (the points no worse in the tail), how much of
the stop's P&L does the method keep? And at the risk-neutral end (γ = 0, no limit), how
much of hold's?
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from alvh_cli.backtest import bootstrap as bs
from alvh_cli.backtest import sweep as sw
from alvh_cli.backtest.defaults import CONFIDENCE, CVAR_LEVEL
from alvh_cli.backtest.params import BacktestParams
from alvh_cli.backtest.policies import ALVH_POLICIES
from alvh_cli.model.rules import Rules

GAMMAS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
CREDIT_LIMITS = (1.0, 2.0, 3.0)  # cvar_limit_credit, each at γ = 0
BASELINES = ("hold", "stop2x", "stop3x")
KEEP_AT_STOP = 1.25  # the target: P&L kept at a stop's CVaR, as a multiple of the stop's
KEEP_RISK_NEUTRAL = 0.90  # ... and at γ = 0, as a share of hold's
DATES = "_opened"  # the entry dates beside a point's P&L series


def grid(gammas: Sequence[float] = GAMMAS, limits: Sequence[float] = CREDIT_LIMITS) -> list:
    """The frontier's points: each γ without a limit, then each credit limit at γ = 0."""
    points = [{"risk_aversion": float(g)} for g in gammas]
    points += [{"risk_aversion": 0.0, "cvar_limit_credit": float(m)} for m in limits]
    return points


def label(point: dict) -> str:
    text = f"γ {point['risk_aversion']:g}"
    if point.get("cvar_limit_credit"):
        text += f", CVaR ≥ −{point['cvar_limit_credit']:g}× credit"
    return text


def point_pnls(
    history: pd.DataFrame, rules: Rules, base: BacktestParams, policies, point: dict
) -> dict[str, tuple[float, ...]]:
    """{policy: per-trade P&L in entry order} of the backtest at ``point``, and the entry
    dates under ``DATES``."""
    from alvh_cli.backtest.experiments import split_point
    from alvh_cli.backtest.simulation import run_backtest

    params, effective = split_point(point, base, rules)
    result = run_backtest(history, effective, params, policies)
    out: dict = {p: tuple(float(x) for x in result.pnl(p)) for p in result.policies}
    out[DATES] = tuple(e.opened for e in result.entries)
    return out


@dataclass(frozen=True)
class FrontierPoint:
    """One policy at one point: total P&L and 5% CVaR per trade, each with its interval."""

    policy: str
    label: str
    point: dict
    total: bs.Interval
    cvar: bs.Interval
    versus: dict = field(default_factory=dict)  # {baseline: Interval of total P&L − its}


@dataclass(frozen=True)
class Frontier:
    """Every point of the method's policies and the baselines, with what the targets ask."""

    points: tuple[FrontierPoint, ...]
    baselines: tuple[FrontierPoint, ...]
    trades: int
    block_length: int
    resamples: int
    seed: int

    def best_within(self, policy: str, cvar: float) -> FrontierPoint | None:
        """The point of ``policy`` with the most P&L among those whose CVaR is no worse than
        ``cvar``."""
        ok = [p for p in self.points if p.policy == policy and p.cvar.estimate >= cvar - 1e-9]
        return max(ok, key=lambda p: p.total.estimate, default=None)

    def verdicts(self) -> list[dict]:
        """Each target and what the frontier gives: at each stop's CVaR, the most P&L of a
        point no worse in the tail against 1.25× the stop's; at γ = 0 without a limit,
        against 90% of hold's. A multiple of a loss means nothing (1.25× −7,000 is a worse
        result), so a target is the base moved by the multiple's share of its size:
        ``base + (m − 1)·|base|`` — 1.25× a gain of 4,000 is 5,000, of a loss of 4,000 it
        is −3,000. ``ratio`` is given only where the base is a gain."""
        out = []
        base = {b.policy: b for b in self.baselines}
        for policy in sorted({p.policy for p in self.points}, key=list(ALVH_POLICIES).index):
            for stop in ("stop2x", "stop3x"):
                if stop in base:
                    best = self.best_within(policy, base[stop].cvar.estimate)
                    out.append(_verdict(policy, base[stop], best, KEEP_AT_STOP))
            neutral = next(
                (
                    p
                    for p in self.points
                    if p.policy == policy
                    and p.point.get("risk_aversion") == 0
                    and not p.point.get("cvar_limit_credit")
                ),
                None,
            )
            if neutral is not None and "hold" in base:
                out.append(_verdict(policy, base["hold"], neutral, KEEP_RISK_NEUTRAL))
        return out

    def to_dict(self) -> dict:
        def row(p: FrontierPoint) -> dict:
            return {
                "policy": p.policy,
                "label": p.label,
                "point": p.point,
                "total_pnl": p.total.to_dict(),
                "cvar_5": p.cvar.to_dict(),
                "total_pnl_minus": {b: iv.to_dict() for b, iv in p.versus.items()},
            }

        return {
            "trades": self.trades,
            "bootstrap": {
                "block_length": self.block_length,
                "resamples": self.resamples,
                "seed": self.seed,
                "confidence": CONFIDENCE,
            },
            "baselines": [row(b) for b in self.baselines],
            "points": [row(p) for p in self.points],
            "targets": self.verdicts(),
        }


def target_level(base: float, multiple: float) -> float:
    """What "``multiple`` × ``base``'s P&L" asks when ``base`` may be a loss (Frontier.verdicts)."""
    return base + (multiple - 1.0) * abs(base)


def _verdict(policy: str, base: FrontierPoint, got: FrontierPoint | None, multiple: float):
    target = target_level(base.total.estimate, multiple)
    total = got.total.estimate if got is not None else None
    diff = got.versus.get(base.policy) if got is not None else None
    return {
        "difference": diff.to_dict() if diff is not None else None,
        "policy": policy,
        "against": base.policy,
        "target": multiple,
        "target_pnl": target,
        "base_pnl": base.total.estimate,
        "point": got.label if got is not None else None,
        "pnl": total,
        "ratio": total / base.total.estimate
        if total is not None and base.total.estimate > 0
        else None,
        "met": total is not None and total >= target,
    }


def run_frontier(
    history: pd.DataFrame,
    rules: Rules,
    base: BacktestParams,
    policies: Sequence[str],
    points: Sequence[dict],
    *,
    seed: int,
    resamples: int,
    workers: int = 1,
    dask_address: str | None = None,
    progress=None,
) -> Frontier:
    """The backtest at every point (the method's policies of ``policies``; the baselines
    from the first point, where γ does not reach them), and the intervals."""
    from alvh_cli.backtest.experiments import check_grid

    check_grid(points, base, rules)
    mine = tuple(p for p in policies if p in ALVH_POLICIES)
    baselines = tuple(p for p in BASELINES if p in policies)
    task = functools.partial(point_pnls, history, rules, base, (*baselines, *mine))
    runs = sw.run_grid(task, points, workers, dask_address, progress)
    series: dict[str, np.ndarray] = {b: np.array(runs[0][b]) for b in baselines}
    keys = []
    for i, (point, run) in enumerate(zip(points, runs, strict=True)):
        for policy in mine:
            key = f"{policy}#{i}"
            series[key] = np.array(run[policy])
            keys.append((key, policy, point))
    n = len(next(iter(series.values())))
    block = min(bs.month_block_length(runs[0][DATES]), n)
    boot = bs.block_bootstrap(
        series,
        block,
        n_resamples=resamples,
        seed=seed,
        statistics=("total", "cvar"),
        cvar_level=CVAR_LEVEL,
        contrasts=[(k, b) for k, _, _ in keys for b in baselines],
    )
    iv = boot.intervals

    def at(key: str, policy: str, point: dict) -> FrontierPoint:
        name = label(point) if point else policy
        versus = {
            b: boot.contrasts[bs.contrast_name(key, b)]["total"]
            for b in baselines
            if bs.contrast_name(key, b) in boot.contrasts
        }
        return FrontierPoint(policy, name, point, iv[key]["total"], iv[key]["cvar"], versus)

    keys.sort(key=lambda k: mine.index(k[1]))  # each policy's points together, in order
    return Frontier(
        tuple(at(k, p, pt) for k, p, pt in keys),
        tuple(at(b, b, {}) for b in baselines),
        n,
        block,
        resamples,
        seed,
    )
