"""Many backtests at once: the cost-sensitivity row, the model-sensitivity table, parameter
sweeps and walk-forward — each a grid of points run by :func:`sweep.run_grid`, serially, on
local cores (joblib) or on a Dask cluster, one task function for all of them.

A point is a dict of backtest parameters (``params.PARAMS`` keys, ``profit_take`` as true or
false) and method rules (``rules.DEFAULTS`` keys; ``profit_take`` as a number is the rule);
``backtest_point`` runs the backtest at it and returns each policy's ``PolicySummary``, a
frozen dataclass of numbers, so results travel between processes exactly (pickle) and
parallel results equal serial ones bit for bit.

Walk-forward (Pardo 2008, ch. 11): the history after the warm-up is cut into consecutive
train and test windows; on each train window every grid point runs and the best by the
stated objective is chosen; only that point runs on the next test window, and only test
results are reported, so no reported figure was chosen on the data it is measured on.

Nothing here imports rich: progress is a callback ``progress(done, total)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from alvh_cli.backtest import sweep as sw
from alvh_cli.backtest.costs import SPREAD_SENSITIVITY
from alvh_cli.backtest.defaults import OBJECTIVE_METRIC, TEST_DAYS, TRAIN_DAYS
from alvh_cli.backtest.params import LEGACY, LEGACY_RULES, PARAMS, BacktestParams, make_params
from alvh_cli.backtest.results import BacktestResult, PolicySummary
from alvh_cli.backtest.simulation import run_backtest
from alvh_cli.errors import InputError
from alvh_cli.model.rules import DEFAULTS, Rules, override

Progress = Callable[[int, int], None]

# Objectives a walk-forward may maximise (or minimise: max_drawdown), per policy.
METRICS = {
    "total_pnl": True,
    "mean_pnl": True,
    "cvar_5": True,  # a P&L: higher (less negative) is better
    "max_drawdown": False,
    "return_on_risk": True,
    "pnl_per_day_held": True,
    "win_rate": True,
}


def sweep_keys() -> list[str]:
    """The keys a sweep may vary: every backtest parameter, the profit take, every rule."""
    return sorted({*PARAMS, "profit_take", *DEFAULTS})


def split_point(point: dict, base: BacktestParams, rules: Rules, option: str = sw.SWEEP):
    """(parameters, rules) of a grid point: its backtest keys over ``base``, its rule keys
    over ``rules``, each validated (an ``InputError`` naming the parameter ``option`` and
    the key). A swept rule's origin is "sweep"."""
    mine, theirs = {}, {}
    for key, value in point.items():
        if (
            key in PARAMS
            or key in ("start", "end")
            or (key == "profit_take" and isinstance(value, bool))
        ):
            mine[key] = value
        elif key in DEFAULTS:
            theirs[key] = value
        else:
            raise InputError(f"unknown sweep key '{key}'", key=key, option=option)
    try:
        params = make_params(mine, base=base)
        effective = override(rules, theirs, "sweep")
    except InputError as exc:
        key = (exc.key or "").removeprefix("rules.")
        raise InputError(exc.message, key=key, option=option) from None
    return params, effective


def backtest_point(
    history: pd.DataFrame,
    rules: Rules,
    base: BacktestParams,
    policies: Sequence[str],
    point: dict,
) -> dict[str, PolicySummary]:
    """The backtest at ``point`` (over ``base`` and ``rules``): {policy: summary}."""
    params, effective = split_point(point, base, rules)
    result = run_backtest(history, effective, params, policies)
    return {p: result.summary[p] for p in result.policies}


def task(history, rules, base, policies) -> Callable[[dict], dict]:
    """``backtest_point`` bound to one history, rules, base and policies: picklable."""
    return functools.partial(backtest_point, history, rules, base, tuple(policies))


def check_grid(grid: Sequence[dict], base: BacktestParams, rules: Rules) -> None:
    """Validate every point before anything runs: one bad value is one line, no work lost."""
    if not grid:
        raise InputError("the grid is empty: nothing to run", option=sw.SWEEP)
    for point in grid:
        split_point(point, base, rules)


def parse_grid(specs: Sequence[str], base: BacktestParams, rules: Rules) -> list[dict]:
    """``key=v1,v2`` specs → the checked grid (last key fastest)."""
    axes = sw.parse_sweeps(specs, sweep_keys())
    for key in axes:
        if key in ("start", "end"):  # pragma: no cover - not in sweep_keys
            raise InputError(f"'{key}' cannot be swept", key=key, option=sw.SWEEP)
    grid = sw.expand_grid(axes)
    check_grid(grid, base, rules)
    return grid


def run_sweep(
    history: pd.DataFrame,
    rules: Rules,
    base: BacktestParams,
    policies: Sequence[str],
    grid: Sequence[dict],
    workers: int = 1,
    dask_address: str | None = None,
    progress: Progress | None = None,
) -> list[dict[str, PolicySummary]]:
    """Every grid point's summaries, in grid order (``run_grid``)."""
    check_grid(grid, base, rules)
    sw.require_backend(workers, dask_address)
    return sw.run_grid(task(history, rules, base, policies), grid, workers, dask_address, progress)


@dataclass(frozen=True)
class Sweep:
    """A sweep's grid points and, for each, every policy's summary, in grid order."""

    grid: tuple[dict, ...]
    results: tuple[dict[str, PolicySummary], ...]
    policies: tuple[str, ...]


# --------------------------------------------------------------------------- sensitivity


def cost_points(base: BacktestParams) -> list[tuple[str, dict]]:
    """The (label, point)s of the cost-sensitivity row other than the run itself: both
    half-spreads at 0.5× and 2× (``costs.SPREAD_SENSITIVITY``) of the run's."""
    return [
        (f"half-spreads x{m:g}", {"spread_multiplier": base.spread_multiplier * m})
        for m in SPREAD_SENSITIVITY
        if m != 1.0
    ]


# SPX ATM vol / VIX the model sensitivity runs: two real chains' 30-day ATM vol over their
# own VIX-style variance swap (2025-09-03, 2019-06-26) and the first build's ATM = VIX.
ATM_RATIOS = (
    (0.77, "2025-09-03 chain"),
    (0.87, "2019-06-26 chain"),
    (1.0, "first build"),
)


def model_points(base: BacktestParams, rules: Rules) -> list[tuple[str, dict]]:
    """The modelling choices varied one at a time, each a (label, point): the SPX ATM vol at
    each of ``ATM_RATIOS`` × VIX (but the run's own), the first build's SPX slope (−1.1 at
    every tenor), flat VIX option vol, half-spreads at 0.5× and 2×, the VIX curve's κ halved
    and doubled, and the first build's model and costs together."""
    kappa = rules.vix_term_kappa
    return [
        *(
            (f"SPX ATM vol {ratio:g} x VIX ({why})", {"atm_ratio": ratio})
            for ratio, why in ATM_RATIOS
            if ratio != base.atm_ratio
        ),
        ("SPX slope -1.1 at every tenor (first build)", {"spx_skew": -1.1, "spx_skew_term": 0.0}),
        (f"VIX option vol flat at {base.vix_atm:g}", {"vix_vol_power": 0.0}),
        *cost_points(base),
        (f"kappa {kappa / 2:g} (VIX curve, half)", {"vix_term_kappa": kappa / 2}),
        (f"kappa {kappa * 2:g} (VIX curve, double)", {"vix_term_kappa": kappa * 2}),
        ("first build's model and costs", {**LEGACY, **LEGACY_RULES}),
    ]


def sensitivity_points(kind: str, base: BacktestParams, rules: Rules) -> list[tuple[str, dict]]:
    """The (label, point) runs a report shows beside its backtest: for ``kind`` "costs"
    the cost row's (``cost_points``), for "model" every modelling choice (``model_points``),
    for "none" nothing."""
    if kind == "costs":
        return cost_points(base)
    if kind == "model":
        return model_points(base, rules)
    return []


def cost_row(
    result: BacktestResult, points: Sequence[dict], runs: Sequence[dict[str, PolicySummary]]
) -> dict[float, dict[str, float]]:
    """The cost-sensitivity row: half-spread multiplier → each policy's total P&L, from the
    run itself (1) and every point (run as ``runs``) that changes the half-spreads alone."""
    row = {1.0: {p: result.summary[p].total_pnl for p in result.policies}}
    for point, summaries in zip(points, runs, strict=True):
        if set(point) == {"spread_multiplier"}:
            m = point["spread_multiplier"] / result.params.spread_multiplier
            row[m] = {p: summaries[p].total_pnl for p in result.policies}
    return row


def model_rows(
    result: BacktestResult,
    labelled: Sequence[tuple[str, dict]],
    runs: Sequence[dict[str, PolicySummary]],
) -> list[tuple[str, dict, dict[str, float]]]:
    """The model-sensitivity table: (label, point, ``headline``) for the run itself ("as
    run") and each labelled point."""
    mine = {p: result.summary[p] for p in result.policies}
    return [("as run", {}, headline(mine))] + [
        (label, point, headline(summaries))
        for (label, point), summaries in zip(labelled, runs, strict=True)
    ]


def sensitivity(
    history: pd.DataFrame,
    rules: Rules,
    base: BacktestParams,
    policies: Sequence[str],
    points: Sequence[dict],
    workers: int = 1,
    dask_address: str | None = None,
    progress: Progress | None = None,
) -> list[dict[str, PolicySummary]]:
    """The summaries at each point, run as one grid."""
    return run_sweep(history, rules, base, policies, points, workers, dask_address, progress)


def headline(summaries: dict[str, PolicySummary]) -> dict[str, float]:
    """The figures a sensitivity row shows: each policy's total, alvh − hold and alvh −
    stop3x where run, alvh's and hold's max drawdown and 5% CVaR."""
    out = {f"{p}_total": s.total_pnl for p, s in summaries.items()}
    for a, b in (("alvh", "hold"), ("alvh", "stop3x")):
        if a in summaries and b in summaries:
            out[f"{a}-{b}"] = summaries[a].total_pnl - summaries[b].total_pnl
    for p in ("hold", "alvh"):
        if p in summaries:
            out[f"{p}_max_drawdown"] = summaries[p].max_drawdown
            out[f"{p}_cvar_5"] = summaries[p].cvar_5
    return out


# --------------------------------------------------------------------------- walk-forward


OUTSIDE_BOUND = -1e15
"""A bounded objective's score of a point outside the bound: this plus the point's CVaR."""


def outside_bound(score: float) -> float | None:
    """The 5% CVaR of a point a bounded objective found outside its bound (its ``score``),
    None for a point within."""
    return score - OUTSIDE_BOUND if score < OUTSIDE_BOUND / 2 else None


def default_objective(policies: Sequence[str]) -> str:
    """What a walk-forward maximises unless told: alvh's ``OBJECTIVE_METRIC`` (the last
    policy's when alvh is not run)."""
    policy = "alvh" if "alvh" in policies else policies[-1]
    return f"{policy}.{OBJECTIVE_METRIC}"


def parse_objective(text: str, policies: Sequence[str]) -> sw.Objective:
    """``"alvh.total_pnl"`` → the objective: that policy's metric on the train window,
    maximised (``max_drawdown`` minimised). ``"alvh.total_pnl@stop2x"``: the same among
    the points whose 5% CVaR per trade is no worse than that policy's on the window (where
    none is, the point with the smallest tail loss): the most P&L at the stop's tail."""
    text, at, bound = text.partition("@")
    if at:
        if bound not in policies or bound == text.partition(".")[0]:
            raise InputError(
                f"after @ name another policy run beside it ({', '.join(policies)}), got {bound!r}",
                option="objective",
            )
        inner = parse_objective(text, policies)
        policy = text.partition(".")[0]

        def bounded(summaries: dict) -> float:
            mine, theirs = summaries[policy].cvar_5, summaries[bound].cvar_5
            if mine >= theirs - 1e-9:
                return inner.score(summaries) if inner.maximize else -inner.score(summaries)
            return OUTSIDE_BOUND + mine  # below every point within the bound, by its tail

        return sw.Objective(
            f"{inner.name} among the points at {bound}'s 5% CVaR or better",
            bounded,
            True,
        )
    policy, sep, metric = text.partition(".")
    if not sep or policy not in policies or metric not in METRICS:
        raise InputError(
            f"expected POLICY.METRIC with POLICY one of {', '.join(policies)} and METRIC one of "
            f"{', '.join(METRICS)}, got {text!r}",
            option="objective",
        )
    maximize = METRICS[metric]

    def score(summaries: dict) -> float:
        value = getattr(summaries[policy], metric)
        return math.nan if value is None else float(value)

    how = "maximise" if maximize else "minimise"
    return sw.Objective(f"{how} {policy} {metric} on the train window", score, maximize)


@dataclass(frozen=True)
class WalkForward:
    """The folds and the pooled test figures: each policy's test-window totals added up."""

    result: sw.WalkForwardResult
    pooled: dict[str, float]
    train_days: int
    test_days: int
    policies: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "train_days": self.train_days,
            "test_days": self.test_days,
            **self.result.to_dict(),
            "pooled_test_total_pnl": self.pooled,
        }


def walk_forward(
    history: pd.DataFrame,
    rules: Rules,
    base: BacktestParams,
    policies: Sequence[str],
    grid: Sequence[dict],
    objective: sw.Objective,
    train_days: int = TRAIN_DAYS,
    test_days: int = TEST_DAYS,
    workers: int = 1,
    dask_address: str | None = None,
    progress: Progress | None = None,
) -> WalkForward:
    """Choose a grid point on each train window, run it on the following test window.

    Windows tile the history from the first close after the warm-up (``base.warmup``
    closes, or ``base.start``) to the last; each run's warm-up comes from the closes before
    its window. A test window must be longer than the holding period (``dte`` + a week) so
    that a condor fits in it.
    """
    check_grid(grid, base, rules)
    if test_days <= base.dte + 7:
        raise InputError(
            f"a test window of {test_days} days cannot hold a {base.dte}-day condor: make it "
            f"much longer than the holding period (e.g. {TEST_DAYS})",
            option=sw.WALK,
        )
    frame = history[["spx", "vix"]].dropna().sort_index()
    if base.end:
        frame = frame[pd.DatetimeIndex(frame.index) <= pd.Timestamp(base.end)]
    days = [ts.date() for ts in pd.DatetimeIndex(frame.index)]
    first = base.warmup
    if base.start:
        first = max(first, sum(d < base.start for d in days))
    if first >= len(days):
        raise InputError(
            f"the history has {len(days)} closes, none after the {base.warmup}-close warm-up",
            option=sw.WALK,
        )
    windows = sw.walk_forward_windows(days[first], days[-1], train_days, test_days)
    run = task(history, rules, base, policies)
    result = sw.walk_forward(run, grid, windows, objective, workers, dask_address, progress)
    pooled = {p: float(sum(f.test_result[p].total_pnl for f in result.folds)) for p in policies}
    return WalkForward(result, pooled, train_days, test_days, tuple(policies))
