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
def test_the_search_and_branch_and_bound_agree(seed, candidates, budget, lam):
    """Where the points within the bound's distance are too many, branch and bound (HiGHS)
    decides instead; on the same program both must reach the same objective."""
    from alvh_cli.method import hedge_milp as hm

    rng = np.random.default_rng(seed)
    n = 80
    p = rng.normal(0, 300, n) - np.where(rng.random(n) < 0.1, 1500, 0)
    cost = rng.uniform(40, 400, candidates)
    g = rng.normal(0, 100, (candidates, n)) + np.where(p < -800, 500, -20) - cost[:, None] * 0.2
    searched = choose(p, g, cost, budget, 0.05, lam)
    old = hm.MAX_POINTS
    hm.MAX_POINTS = 0  # every search too big: branch and bound decides
    try:
        milp = choose(p, g, cost, budget, 0.05, lam)
    finally:
        hm.MAX_POINTS = old
    a = hm.objective(p, g, cost, 0.05, lam, searched.counts)
    b = hm.objective(p, g, cost, 0.05, lam, milp.counts)
    assert a == pytest.approx(b, rel=1e-9, abs=1e-9)


def test_cvar_rows_is_cvar_of_each_row():
    from alvh_cli.method.hedge_milp import cvar_rows

    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 53))
    for level in (0.05, 0.1, 1 / 53, 0.5):
        assert np.allclose(cvar_rows(x, level), [cvar(row, level) for row in x], rtol=0, atol=1e-12)


# ------------------------------------------------------------ the full program, exactly
# (the property test over 400+ real candidates is in test_hedges.py)


def full_milp(p, g, cost, budget, level, lam, most=None, limits=()):
    """The whole program as one MILP (every candidate, every scenario): the truth the
    reductions of ``choose`` must reach. HiGHS at a relative gap of 1e-9."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_array, hstack, identity, vstack

    n, c = len(p), len(cost)
    cap = np.floor(budget / cost + 1e-9)
    if most is not None:
        cap = np.minimum(cap, most)
    objective = np.concatenate([lam * cost, [1.0], np.full(n, 1.0 / (level * n))])
    tail = hstack([csr_array(-g.T), csr_array(-np.ones((n, 1))), -identity(n, format="csr")])
    rows = np.vstack([cost, *(a for a, _ in limits)])
    upper = np.concatenate([p, [budget], [b for _, b in limits]])
    a = vstack([tail, csr_array(np.hstack([rows, np.zeros((len(rows), 1 + n))]))]).tocsr()
    res = milp(
        objective,
        constraints=LinearConstraint(a, -np.inf, upper),
        bounds=Bounds(
            np.concatenate([np.zeros(c), [-np.inf], np.zeros(n)]),
            np.concatenate([cap, [np.inf], np.full(n, np.inf)]),
        ),
        integrality=np.concatenate([np.ones(c), np.zeros(1 + n)]),
        options={"mip_rel_gap": 1e-9},
    )
    return np.round(res.x[:c])


def test_equal_objectives_go_to_the_fewest_contracts():
    # B is exactly two A's at twice the cost: 2 × A and 1 × B are the same hedge. Crash
    # -1000, calm +200, level 0.5 (CVaR = the worse of the two); A nets +150 / -10 for
    # $60. Four A's: min(-400, 160) = -400; budget $240 buys at most 4 A or 2 B. The best
    # is 4 A ≡ 2 B ≡ 2 A + 1 B (all -400): the fewest contracts is 2 B.
    p = np.array([-1000.0, 200.0])
    g = np.array([[150.0, -10.0], [300.0, -20.0]])
    a = choose(p, g, np.array([60.0, 120.0]), 240.0, 0.5)
    assert a.counts.tolist() == [0.0, 2.0]


def test_points_within_a_distance_are_every_one_of_them():
    from alvh_cli.method.hedge_milp import _within

    rng = np.random.default_rng(5)
    weight = np.array([0.0, 1.5, 0.7, 2.0, 0.3])
    below = np.array([False, False, True, False, True])
    cap = np.array([3.0, 4.0, 2.0, 3.0, 5.0])
    rows = np.vstack([rng.uniform(10, 60, 5), rng.uniform(0, 5, 5)])
    room = np.array([200.0, 20.0])
    got = _within(weight, below, cap, rows, room, 3.1, 10_000)
    want = []
    for n in itertools.product(*(range(int(c) + 1) for c in cap)):
        n = np.array(n, float)
        dist = np.where(below, cap - n, n)
        if dist @ weight <= 3.1 + 1e-12 and np.all(rows @ n <= room + 1e-9):
            want.append(tuple(n))
    assert sorted(map(tuple, got)) == sorted(want)
    assert _within(weight, below, cap, rows, room, 3.1, 5) is None


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(2, 4),
    st.floats(100.0, 1500.0),
    st.floats(0.0, 0.5),
)
def test_caps_and_further_limits_as_enumeration(seed, candidates, budget, lam):
    """``most`` caps each count and ``limits`` add rows Σ a·n ≤ b (a ≥ 0): the answer is the
    best point of the box that keeps every one, found by enumerating them all."""
    rng = np.random.default_rng(seed)
    n = 40
    p = rng.normal(0, 300, n) - np.where(rng.random(n) < 0.15, 1500, 0)
    cost = rng.uniform(40, 300, candidates)
    g = rng.normal(0, 80, (candidates, n)) + np.where(p < -800, 400, -15)
    most = rng.integers(0, 6, candidates).astype(float)
    row = rng.integers(0, 4, candidates).astype(float)
    bound = float(rng.integers(0, 12))
    a = choose(p, g, cost, budget, 0.1, lam, most=most, limits=[(row, bound)])
    assert np.all(a.counts <= most) and a.counts @ row <= bound + 1e-9
    assert a.counts @ cost <= budget + 1e-9
    best = -np.inf
    for point in itertools.product(*(range(int(m) + 1) for m in most)):
        x = np.array(point, float)
        if x @ cost <= budget + 1e-9 and x @ row <= bound + 1e-9:
            best = max(best, cvar(p + x @ g, 0.1) - lam * float(x @ cost))
    got = cvar(p + a.counts @ g, 0.1) - lam * float(a.counts @ cost)
    assert got >= best - 1e-6 * (1 + abs(best))
