"""The frontier: its points, what its targets ask, and a small run end to end."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alvh_cli.backtest import frontier as fr
from alvh_cli.backtest.bootstrap import Interval
from alvh_cli.backtest.params import BacktestParams
from alvh_cli.backtest.simulation import run_backtest
from alvh_cli.inputs.history import embedded_frame
from alvh_cli.model.rules import Rules


def _pt(policy, total, cvar, point=None):
    point = point or {}
    name = fr.label(point) if point else policy
    return fr.FrontierPoint(
        policy, name, point, Interval(total, total, total, 0.0), Interval(cvar, cvar, cvar, 0.0)
    )


def test_grid_is_each_gamma_then_each_credit_limit_at_gamma_zero():
    points = fr.grid((0.0, 0.1), (2.0,))
    assert points == [
        {"risk_aversion": 0.0},
        {"risk_aversion": 0.1},
        {"risk_aversion": 0.0, "cvar_limit_credit": 2.0},
    ]
    assert fr.label(points[2]) == "γ 0, CVaR ≥ −2× credit"


@pytest.mark.parametrize(
    ("base", "multiple", "want"),
    [
        (4_000.0, 1.25, 5_000.0),  # a gain: 1.25 x 4,000
        (-4_000.0, 1.25, -3_000.0),  # a loss: a quarter of it better, not 1.25 x the loss
        (10_000.0, 0.9, 9_000.0),
        (-1_000.0, 0.9, -1_100.0),  # 90% "of" a loss: give up a tenth of its size
        (0.0, 1.25, 0.0),
    ],
)
def test_target_level_moves_the_base_by_a_share_of_its_size(base, multiple, want):
    assert fr.target_level(base, multiple) == pytest.approx(want)


def test_verdicts_read_the_best_point_within_each_stops_cvar():
    # stop2x: +4,000 at CVaR -1,700; stop3x: -2,000 at CVaR -2,600; hold +10,000 at -4,000.
    # alvh: γ 0 → 6,000 / -2,500; γ 0.1 → 5,200 / -1,600; γ 0.5 → 3,000 / -1,000.
    # Within -1,700: γ 0.1 (5,200) and γ 0.5 (3,000): the best 5,200 ≥ 1.25 x 4,000 = 5,000, met.
    # Within -2,600: all three; best γ 0 at 6,000 ≥ -2,000 + 500 = -1,500, met; no ratio of a loss.
    # γ 0 keeps 6,000 of hold's 10,000: below 9,000, not met.
    frontier = fr.Frontier(
        points=(
            _pt("alvh", 6_000, -2_500, {"risk_aversion": 0.0}),
            _pt("alvh", 5_200, -1_600, {"risk_aversion": 0.1}),
            _pt("alvh", 3_000, -1_000, {"risk_aversion": 0.5}),
        ),
        baselines=(
            _pt("hold", 10_000, -4_000),
            _pt("stop2x", 4_000, -1_700),
            _pt("stop3x", -2_000, -2_600),
        ),
        trades=100,
        block_length=4,
        resamples=10,
        seed=0,
    )
    v = {d["against"]: d for d in frontier.verdicts()}
    assert v["stop2x"]["point"] == "γ 0.1" and v["stop2x"]["met"]
    assert v["stop2x"]["ratio"] == pytest.approx(1.3) and v["stop2x"]["target_pnl"] == 5_000
    assert v["stop3x"]["point"] == "γ 0" and v["stop3x"]["met"] and v["stop3x"]["ratio"] is None
    assert v["stop3x"]["target_pnl"] == -1_500
    assert v["hold"]["point"] == "γ 0" and not v["hold"]["met"]
    assert v["hold"]["ratio"] == pytest.approx(0.6)


def test_no_point_within_a_stops_cvar_is_not_met():
    frontier = fr.Frontier(
        (_pt("alvh", 9_000, -3_000, {"risk_aversion": 0.0}),),
        (_pt("stop2x", 1_000, -1_000),),
        10,
        2,
        10,
        0,
    )
    (v,) = frontier.verdicts()
    assert v["point"] is None and v["pnl"] is None and not v["met"]
    from alvh_cli.output.experiments import target_line

    assert "no point is within stop2x's CVaR" in target_line(v) and "NOT met" in target_line(v)


@pytest.fixture(scope="module")
def small():
    history = embedded_frame().loc["2017-01-01":"2018-06-30"]
    params = BacktestParams(warmup=120)
    points = [{"risk_aversion": 0.0}, {"risk_aversion": 1.0}]
    out = fr.run_frontier(
        history, Rules(), params, ("hold", "stop2x", "alvh"), points, seed=1, resamples=300
    )
    return history, params, points, out


def test_a_frontier_point_is_the_backtest_at_that_point(small):
    history, params, points, out = small
    # the γ 1 point's total P&L is what a plain backtest at risk_aversion 1 gives, and its
    # CVaR the mean of the worst 5% of the same trades
    plain = run_backtest(history, Rules(risk_aversion=1.0), params, ("hold", "alvh"))
    pnl = np.sort(np.asarray(plain.pnl("alvh")))
    (at_one,) = [p for p in out.points if p.point == {"risk_aversion": 1.0}]
    assert at_one.total.estimate == pytest.approx(pnl.sum())
    k = max(1, math.ceil(0.05 * len(pnl) - 1e-9))
    assert at_one.cvar.estimate == pytest.approx(pnl[:k].mean())
    hold = [b for b in out.baselines if b.policy == "hold"][0]
    assert hold.total.estimate == pytest.approx(float(np.sum(plain.pnl("hold"))))
    for p in (*out.points, *out.baselines):
        assert p.total.low <= p.total.estimate <= p.total.high
        assert p.cvar.low <= p.cvar.estimate <= p.cvar.high


def test_the_frontier_refuses_a_sweep(alvh):
    code, _, err = alvh(["backtest", "--frontier", "--sweep", "risk_aversion=0,1"])
    assert code == 2 and "--frontier" in err and len(err.strip().splitlines()) == 1


def test_each_point_carries_its_difference_to_each_baseline_on_the_same_blocks(small):
    _, _, _, out = small
    base = {b.policy: b for b in out.baselines}
    for p in out.points:
        for name in ("hold", "stop2x"):
            d = p.versus[name]
            # the difference of totals, and its interval from the same resamples: it need
            # not be the difference of the two intervals' ends
            assert d.estimate == pytest.approx(p.total.estimate - base[name].total.estimate)
            assert d.low <= d.estimate <= d.high
    v = out.verdicts()[0]
    assert v["difference"]["estimate"] == pytest.approx(v["pnl"] - v["base_pnl"])
