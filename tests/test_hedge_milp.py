"""CVaR-minimising integer hedge counts against enumeration and hand-worked cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_cli.method.hedge_milp import choose
from alvh_cli.method.scenarios import cvar


def brute(p, g, cost, budget, level, lam):
    best = None
    caps = [int(budget // c) for c in cost]
    for counts in itertools.product(*(range(k + 1) for k in caps)):
        n = np.array(counts, float)
        spend = float(n @ cost)
        if spend > budget + 1e-9:
            continue
        value = cvar(p + n @ g, level) - lam * spend
        if best is None or value > best[0] + 1e-9:
            best = (value, n)
    return best


def test_two_scenarios_known_by_enumeration():
    # Scenario A (crash): the condor loses $1,000; scenario B (calm): it makes $200.
    # Spread X costs $100 and nets +300 in A, -50 in B; spread Y costs $60, nets +150 / -10.
    # At level 0.5 of two scenarios CVaR is the worse outcome. Budget $1,000.
    # Y alone: n Y gives A: -1000 + 150n, B: 200 - 10n; they cross at n = 7.5, so with
    # whole spreads n = 8 gives min(200, 120) = 120 (spend 480); n = 7: min(50, 130) = 50.
    # X mixes in worse: each X adds 300 in A but costs 50 in B (Y costs 10 per 150).
    # Enumerating every (x, y) within budget confirms (0, 8) at 120.
    p = np.array([-1000.0, 200.0])
    g = np.array([[300.0, -50.0], [150.0, -10.0]])
    cost = np.array([100.0, 60.0])
    a = choose(p, g, cost, 1000.0, 0.5)
    assert a.counts.tolist() == [0.0, 8.0]
    assert a.cvar_after == pytest.approx(120.0)
    assert a.cvar_before == pytest.approx(-1000.0)
    assert a.spend == pytest.approx(480.0)
    assert brute(p, g, cost, 1000.0, 0.5, 0.0)[1].tolist() == [0.0, 8.0]


def test_fractional_counts_reach_the_crossing():
    # the same problem without whole contracts: Y = 7.5 equalises both scenarios at 125
    p = np.array([-1000.0, 200.0])
    g = np.array([[300.0, -50.0], [150.0, -10.0]])
    a = choose(p, g, np.array([100.0, 60.0]), 1000.0, 0.5, integral=False)
    assert a.cvar_after == pytest.approx(125.0)
    assert a.counts[1] == pytest.approx(7.5)


def test_penalty_per_dollar_stops_a_hedge_that_earns_too_little():
    # one spread, cost $100, +110 in the crash: each spread lifts CVaR by 110 (level 0.5)
    # while crash-bound, i.e. $1.10 per $1. A hurdle of 1.2 per dollar buys none; 1.0 buys
    # until the calm scenario binds: -1000 + 110 n vs 200 - 10 n → n = 10 (min 100).
    p = np.array([-1000.0, 200.0])
    g = np.array([[110.0, -10.0]])
    cost = np.array([100.0])
    assert choose(p, g, cost, 5000.0, 0.5, 1.2).counts.tolist() == [0.0]
    a = choose(p, g, cost, 5000.0, 0.5, 1.0)
    assert a.counts.tolist() == [10.0]
    assert a.cvar_after == pytest.approx(100.0)


def test_budget_too_small_buys_nothing():
    a = choose(np.array([-1.0, 1.0]), np.array([[5.0, -1.0]]), np.array([100.0]), 50.0, 0.5)
    assert a.status == "no budget"
    assert a.counts.tolist() == [0.0]


def test_many_scenarios_equal_the_full_program():
    # constraint generation must give the optimum of the full program: compare with
    # enumeration on 400 scenarios and 2 candidates
    rng = np.random.default_rng(7)
    p = rng.normal(0, 300, 400)
    p[:25] -= 2000
    g = np.vstack([rng.normal(-30, 20, 400), rng.normal(-10, 5, 400)])
    g[0, :25] += 400
    g[1, :25] += 90
    cost = np.array([120.0, 45.0])
    a = choose(p, g, cost, 900.0, 0.05, 0.1)
    want = brute(p, g, cost, 900.0, 0.05, 0.1)
    got = cvar(p + a.counts @ g, 0.05) - 0.1 * float(a.counts @ cost)
    assert got == pytest.approx(want[0], abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-3000, 1000), min_size=4, max_size=12),
    st.lists(st.floats(-100, 500), min_size=4, max_size=12),
    st.lists(st.floats(-100, 200), min_size=4, max_size=12),
    st.floats(20, 300),
    st.floats(20, 300),
    st.floats(0, 1500),
)
def test_never_over_budget_and_as_good_as_enumeration(pl, g1, g2, c1, c2, budget):
    n = min(len(pl), len(g1), len(g2))
    p, g = np.array(pl[:n]), np.array([g1[:n], g2[:n]])
    cost = np.array([c1, c2])
    a = choose(p, g, cost, budget, 0.25, 0.05)
    assert float(a.counts @ cost) <= budget + 1e-6
    assert np.all(a.counts == np.round(a.counts)) and np.all(a.counts >= 0)
    want = brute(p, g, cost, budget, 0.25, 0.05)
    got = cvar(p + a.counts @ g, 0.25) - 0.05 * float(a.counts @ cost)
    assert got >= want[0] - 1e-6 * (1 + abs(want[0]))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(2, 6),
    st.floats(50.0, 2000.0),
    st.floats(0.0, 1.0),
)
def test_evaluating_every_point_gives_the_milps_answer(seed, candidates, budget, lam):
    """Small integer boxes are solved by evaluating every point; where that answers (one
    optimum, clear of the budget's edge) it must be the MILP's own point, count for count,
    or the method's decisions would change."""
    from alvh_cli.method import hedge_milp as hm

    rng = np.random.default_rng(seed)
    n = 80
    p = rng.normal(0, 300, n) - np.where(rng.random(n) < 0.1, 1500, 0)
    cost = rng.uniform(40, 400, candidates)
    g = rng.normal(0, 100, (candidates, n)) + np.where(p < -800, 500, -20) - cost[:, None] * 0.2
    answers = {}
    for limit in (0, hm.ENUMERATE_LIMIT):
        old = hm.ENUMERATE_LIMIT
        hm.ENUMERATE_LIMIT = limit
        try:
            answers[limit] = choose(p, g, cost, budget, 0.05, lam)
        finally:
            hm.ENUMERATE_LIMIT = old
    a, b = answers[0], answers[hm.ENUMERATE_LIMIT]
    assert np.array_equal(a.counts, b.counts)


def test_cvar_rows_is_cvar_of_each_row():
    from alvh_cli.method.hedge_milp import cvar_rows

    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 53))
    for level in (0.05, 0.1, 1 / 53, 0.5):
        assert np.allclose(cvar_rows(x, level), [cvar(row, level) for row in x], rtol=0, atol=1e-12)
