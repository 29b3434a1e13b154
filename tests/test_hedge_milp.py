"""The hedge program, EV + γ·CVaR within a CVaR floor, against enumeration, hand-worked
cases and one MILP over every candidate and scenario."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_cli.method.hedge_milp import choose


def tail_mean(x, level):
    """CVaR as a P&L, worked independently of the code: the mean of the worst level·N
    outcomes, the boundary one counted in part (Rockafellar and Uryasev 2002)."""
    x = np.sort(np.asarray(x, dtype=float))
    k = level * len(x)
    whole = int(math.floor(k + 1e-9))
    total = x[:whole].sum() + ((k - whole) * x[whole] if k - whole > 1e-9 else 0.0)
    return total / k


def value(p, g, level, gamma, counts):
    """EV + γ·CVaR of the hedged P&L."""
    x = p + np.asarray(counts, float) @ g
    return float(x.mean()) + gamma * tail_mean(x, level)


def brute(p, g, cost, budget, level, gamma, floor=-math.inf, most=None, limits=()):
    """(best value, counts, floor met) by enumerating every count vector within the budget:
    the best EV + γ·CVaR among those whose CVaR meets ``floor``, else the highest CVaR (the
    fewest contracts on a tie)."""
    caps = [int(budget // c) for c in cost]
    if most is not None:
        caps = [min(c, int(m)) for c, m in zip(caps, most, strict=True)]
    points = []
    for counts in itertools.product(*(range(k + 1) for k in caps)):
        n = np.array(counts, float)
        if n @ cost > budget + 1e-9 or any(a @ n > b + 1e-9 for a, b in limits):
            continue
        points.append(n)

    def best_of(score, keep):
        best = None
        for n in points:
            if not keep(n):
                continue
            v = score(n)
            if (
                best is None
                or v > best[0] + 1e-9
                or (v > best[0] - 1e-9 and n.sum() < best[1].sum())
            ):
                best = (v, n)
        return best

    met = best_of(
        lambda n: value(p, g, level, gamma, n),
        lambda n: tail_mean(p + n @ g, level) >= floor - 1e-9,
    )
    if met is not None:
        return (*met, True)
    return (*best_of(lambda n: tail_mean(p + n @ g, level), lambda n: True), False)


# --------------------------------------------------------- a two-scenario world, by hand
# Scenario A (crash): the condor loses $1,000; scenario B (calm): it makes $200. Level 0.5
# of two equally likely scenarios: CVaR is the worse of the two, EV their mean. Hedges, net
# of their cost (X costs $100, Y $60), both worth less than they cost on average:
#   X: +250 in A, −300 in B (mean −25);   Y: +100 in A, −140 in B (mean −20).
# With x of X and y of Y: A = −1000 + 250x + 100y, B = 200 − 300x − 140y,
# EV = −400 − 25x − 20y, CVaR = min(A, B). Budget $1,000 (10 X or 16 Y).
P2 = np.array([-1000.0, 200.0])
G2 = np.array([[250.0, -300.0], [100.0, -140.0]])
COST2 = np.array([100.0, 60.0])


def test_two_scenarios_known_by_enumeration():
    # γ = 1, objective EV + CVaR:
    #   hold (0,0): −400 − 1000 = −1400
    #   X alone: x=1 A −750, B −100: −425 − 750 = −1175; x=2 A −500, B −400: −450 − 500 = −950;
    #            x=3 A −250, B −700: −475 − 700 = −1175
    #   Y alone: y=4 A −600, B −360: −480 − 600 = −1080; y=5 A = B = −500: −500 − 500 = −1000;
    #            y=6 A −400, B −640: −520 − 640 = −1160
    #   mixes:   (1,2) A −550, B −380: −465 − 550 = −1015; (1,3) A −450, B −520: −485 − 520
    #            = −1005; (2,1) A −400, B −540: −470 − 540 = −1010
    # so 2 × X at −950 (EV −450, CVaR −500; it ties Y=5 on CVaR and beats it on EV).
    a = choose(P2, G2, COST2, 1000.0, 0.5, 1.0)
    assert a.counts.tolist() == [2.0, 0.0]
    assert (a.ev_after, a.cvar_after) == (pytest.approx(-450.0), pytest.approx(-500.0))
    assert (a.ev_before, a.cvar_before) == (pytest.approx(-400.0), pytest.approx(-1000.0))
    assert a.spend == pytest.approx(200.0) and a.meets
    assert a.bound >= -950.0 - 1e-6  # the Lagrangian bound is an upper bound of the optimum
    assert brute(P2, G2, COST2, 1000.0, 0.5, 1.0)[1].tolist() == [2.0, 0.0]
    # γ = 0.5: hold −900, x=1 −425 − 375 = −800, x=2 −450 − 250 = −700, x=3 −475 − 350 =
    # −825, y=5 −500 − 250 = −750, (1,2) −465 − 275 = −740: 2 × X again, at −700
    a = choose(P2, G2, COST2, 1000.0, 0.5, 0.5)
    assert a.counts.tolist() == [2.0, 0.0]
    assert a.ev_after + 0.5 * a.cvar_after == pytest.approx(-700.0)


def test_risk_neutral_buys_no_hedge_that_loses_on_average():
    # γ = 0: the objective is the EV alone, −400 − 25x − 20y: every contract lowers it, so
    # the best is to hold, however much CVaR a hedge would buy
    a = choose(P2, G2, COST2, 1000.0, 0.5, 0.0)
    assert a.counts.tolist() == [0.0, 0.0] and a.spend == 0.0
    assert a.ev_after == pytest.approx(-400.0) and a.cvar_after == pytest.approx(-1000.0)


def test_a_floor_only_a_hedge_meets_makes_it_buy():
    # γ = 0 holds (above); a floor CVaR ≥ −600, which holding (−1000) misses: the best EV
    # among the counts with A ≥ −600 and B ≥ −600, i.e. 250x + 100y ≥ 400 and
    # 300x + 140y ≤ 800, is the least 25x + 20y there: (2,0) costs 50 of EV, (1,2) 65,
    # (0,4) 80, (1,1) misses A (350 < 400). So 2 × X: EV −450, CVaR −500.
    a = choose(P2, G2, COST2, 1000.0, 0.5, 0.0, cvar_floor=-600.0)
    assert a.counts.tolist() == [2.0, 0.0] and a.meets
    assert a.ev_after == pytest.approx(-450.0) and a.cvar_after == pytest.approx(-500.0)
    assert brute(P2, G2, COST2, 1000.0, 0.5, 0.0, -600.0)[1:] == (
        pytest.approx([2.0, 0.0]),
        True,
    )
    # the same in fractions of a contract: the LP reaches the floor exactly, at the least
    # EV given up: X is cheaper per point of A (25/250 = 0.1 of EV per $ of A, Y 0.2), so
    # x = 1.6 makes A = −600 (B = −280), EV −440
    f = choose(P2, G2, COST2, 1000.0, 0.5, 0.0, cvar_floor=-600.0, integral=False)
    assert f.counts == pytest.approx([1.6, 0.0], abs=1e-7)
    assert f.cvar_after == pytest.approx(-600.0, abs=1e-6)


def test_a_floor_out_of_reach_gives_the_highest_cvar():
    # CVaR ≥ −400 needs 250x + 100y ≥ 600 and 300x + 140y ≤ 600: along A = B the CVaR is
    # −500 + 20.8x (x ≤ 2.18: 1200 = 550x + 240y), at most −454.5 — no counts meet it. The
    # highest CVaR in whole contracts is −500, at (2,0) and at (0,5): the fewest contracts
    # win, 2 × X.
    a = choose(P2, G2, COST2, 1000.0, 0.5, 0.1, cvar_floor=-400.0)
    assert not a.meets
    assert a.counts.tolist() == [2.0, 0.0] and a.cvar_after == pytest.approx(-500.0)
    assert brute(P2, G2, COST2, 1000.0, 0.5, 0.1, -400.0)[2] is False
    f = choose(P2, G2, COST2, 1000.0, 0.5, 0.1, cvar_floor=-400.0, integral=False)
    # in fractions: along A = B (1200 = 550x + 240y) the CVaR A = −500 + 20.8x grows with x,
    # so y = 0, x = 1200/550: A = B = −1000 + 250 × 1200/550 = −5000/11
    assert not f.meets and f.cvar_after == pytest.approx(-5000.0 / 11.0, abs=1e-6)


def test_budget_too_small_buys_nothing():
    a = choose(np.array([-1.0, 1.0]), np.array([[5.0, -1.0]]), np.array([100.0]), 50.0, 0.5, 1.0)
    assert a.status == "no budget"
    assert a.counts.tolist() == [0.0]


def test_many_scenarios_equal_enumeration():
    # constraint generation must give the optimum of the full program: compare with
    # enumeration on 400 scenarios and 2 candidates, with and without a floor
    rng = np.random.default_rng(7)
    p = rng.normal(0, 300, 400)
    p[:25] -= 2000
    g = np.vstack([rng.normal(-30, 20, 400), rng.normal(-10, 5, 400)])
    g[0, :25] += 400
    g[1, :25] += 90
    cost = np.array([120.0, 45.0])
    for gamma, floor in ((0.25, -math.inf), (1.0, -math.inf), (0.1, -1500.0)):
        a = choose(p, g, cost, 900.0, 0.05, gamma, cvar_floor=floor)
        want, counts, met = brute(p, g, cost, 900.0, 0.05, gamma, floor)
        assert a.meets == met
        assert value(p, g, 0.05, gamma, a.counts) == pytest.approx(want, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-3000, 1000), min_size=4, max_size=12),
    st.lists(st.floats(-100, 500), min_size=4, max_size=12),
    st.lists(st.floats(-100, 200), min_size=4, max_size=12),
    st.floats(20, 300),
    st.floats(20, 300),
    st.floats(0, 1500),
    st.sampled_from([0.0, 0.1, 0.5, 3.0]),
    st.one_of(st.just(-math.inf), st.floats(-3000, 500)),
)
def test_never_over_budget_and_as_good_as_enumeration(pl, g1, g2, c1, c2, budget, gamma, floor):
    n = min(len(pl), len(g1), len(g2))
    p, g = np.array(pl[:n]), np.array([g1[:n], g2[:n]])
    cost = np.array([c1, c2])
    a = choose(p, g, cost, budget, 0.25, gamma, cvar_floor=floor)
    assert float(a.counts @ cost) <= budget + 1e-6
    assert np.all(a.counts == np.round(a.counts)) and np.all(a.counts >= 0)
    want, _, met = brute(p, g, cost, budget, 0.25, gamma, floor)
    assert a.meets == met
    got = value(p, g, 0.25, gamma, a.counts) if met else tail_mean(p + a.counts @ g, 0.25)
    assert got >= want - 1e-6 * (1 + abs(want))
    if met:
        assert tail_mean(p + a.counts @ g, 0.25) >= floor - 1e-9


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.floats(50.0, 3000.0))
def test_risk_neutral_with_losing_hedges_buys_nothing(seed, candidates, budget):
    """γ = 0 and every candidate's mean P&L negative: nothing raises the EV, so nothing is
    bought, whatever it does to the tail."""
    rng = np.random.default_rng(seed)
    n = 60
    p = rng.normal(0, 300, n) - np.where(rng.random(n) < 0.1, 1500, 0)
    g = rng.normal(0, 200, (candidates, n)) + np.where(p < -800, 600, 0)
    g -= g.mean(axis=1, keepdims=True) + rng.uniform(0.01, 20, (candidates, 1))
    assert np.all(g.mean(axis=1) < 0)
    a = choose(p, g, rng.uniform(40, 300, candidates), budget, 0.05, 0.0)
    assert a.counts.tolist() == [0.0] * candidates


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(2, 6),
    st.floats(50.0, 2000.0),
    st.sampled_from([0.0, 0.1, 0.5, 2.0]),
    st.booleans(),
)
def test_the_search_and_branch_and_bound_agree(seed, candidates, budget, gamma, floored):
    """Where the points within the bound's distance are too many, branch and bound (HiGHS)
    decides instead; on the same program both must reach the same objective."""
    from alvh_cli.method import hedge_milp as hm

    rng = np.random.default_rng(seed)
    n = 80
    p = rng.normal(0, 300, n) - np.where(rng.random(n) < 0.1, 1500, 0)
    cost = rng.uniform(40, 400, candidates)
    g = rng.normal(0, 100, (candidates, n)) + np.where(p < -800, 500, -20) - cost[:, None] * 0.2
    floor = tail_mean(p, 0.05) * 0.7 if floored else -math.inf
    searched = choose(p, g, cost, budget, 0.05, gamma, cvar_floor=floor)
    old = hm.MAX_POINTS
    hm.MAX_POINTS = 0  # every search too big: branch and bound decides
    try:
        milp = choose(p, g, cost, budget, 0.05, gamma, cvar_floor=floor)
    finally:
        hm.MAX_POINTS = old
    assert searched.meets == milp.meets

    def score(counts):
        if searched.meets:
            return value(p, g, 0.05, gamma, counts)
        return tail_mean(p + counts @ g, 0.05)

    assert score(searched.counts) == pytest.approx(score(milp.counts), rel=1e-9, abs=1e-9)


def test_cvar_rows_is_cvar_of_each_row():
    from alvh_cli.method.hedge_milp import cvar_rows, objective_rows

    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 53))
    for level in (0.05, 0.1, 1 / 53, 0.5):
        want = [tail_mean(row, level) for row in x]
        assert np.allclose(cvar_rows(x, level), want, rtol=0, atol=1e-12)
        got = objective_rows(x, level, 0.3)
        assert np.allclose(got, x.mean(axis=1) + 0.3 * np.array(want), rtol=0, atol=1e-12)


# ------------------------------------------------------------ the full program, exactly
# (the property test over 400+ real candidates is in test_hedges.py)


def full_milp(p, g, cost, budget, level, gamma, floor=-math.inf, most=None, limits=()):
    """The whole program as one MILP (every candidate, every scenario): the truth the
    reductions of ``choose`` must reach. (counts, floor met). HiGHS at a relative gap of
    1e-9, in Rockafellar–Uryasev form: maximise mean(P + nG) + γ·(−ζ − Σu/(αN)) with
    u_s ≥ −(P + nG)_s − ζ, u ≥ 0, ζ + Σu/(αN) ≤ −floor; where no counts meet the floor,
    the same without it maximising −ζ − Σu/(αN) alone (the highest CVaR)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_array, hstack, identity, vstack

    n, c = len(p), len(cost)
    cap = np.floor(budget / cost + 1e-9)
    if most is not None:
        cap = np.minimum(cap, most)
    top = 1.0 / (level * n)
    tail = hstack([csr_array(-g.T), csr_array(-np.ones((n, 1))), -identity(n, format="csr")])
    rows = np.vstack([cost, *(a for a, _ in limits)])
    upper = [p, [budget], [b for _, b in limits]]
    blocks = [tail, csr_array(np.hstack([rows, np.zeros((len(rows), 1 + n))]))]
    bounds = Bounds(
        np.concatenate([np.zeros(c), [-np.inf], np.zeros(n)]),
        np.concatenate([cap, [np.inf], np.full(n, np.inf)]),
    )
    integrality = np.concatenate([np.ones(c), np.zeros(1 + n)])

    def solve(ev_weight, cvar_weight, floor):
        blocks_, upper_ = list(blocks), list(upper)
        if math.isfinite(floor):
            blocks_.append(csr_array(np.concatenate([np.zeros(c), [1.0], np.full(n, top)])[None]))
            upper_.append([-floor])
        objective = np.concatenate(
            [-ev_weight * g.mean(axis=1), [cvar_weight], np.full(n, cvar_weight * top)]
        )
        res = milp(
            objective,
            constraints=LinearConstraint(vstack(blocks_).tocsr(), -np.inf, np.concatenate(upper_)),
            bounds=bounds,
            integrality=integrality,
            options={"mip_rel_gap": 1e-9},
        )
        return None if res.x is None else np.round(res.x[:c])

    counts = solve(1.0, gamma, floor)
    if counts is None:
        return solve(0.0, 1.0, -math.inf), False
    return counts, True


def test_full_milp_is_the_enumerations_answer():
    # the reference itself, on the hand-worked world and a floor
    assert full_milp(P2, G2, COST2, 1000.0, 0.5, 1.0)[0].tolist() == [2.0, 0.0]
    assert full_milp(P2, G2, COST2, 1000.0, 0.5, 0.0)[0].tolist() == [0.0, 0.0]
    counts, met = full_milp(P2, G2, COST2, 1000.0, 0.5, 0.0, -600.0)
    assert counts.tolist() == [2.0, 0.0] and met
    assert full_milp(P2, G2, COST2, 1000.0, 0.5, 0.1, -400.0)[1] is False


def test_equal_objectives_go_to_the_fewest_contracts():
    # B is exactly two A's at twice the cost: 2 × A and 1 × B are the same hedge. Crash
    # −1000, calm +200, level 0.5 (CVaR = the worse of the two); A nets +150 / −10 for
    # $60 (mean +70). Four A's: A −400, B 160, EV −120, CVaR −400; budget $240 buys at most
    # 4 A or 2 B, and every contract raises the objective, so the best is 4 A ≡ 2 B ≡
    # 2 A + 1 B (EV + CVaR −520): the fewest contracts is 2 B.
    p = np.array([-1000.0, 200.0])
    g = np.array([[150.0, -10.0], [300.0, -20.0]])
    a = choose(p, g, np.array([60.0, 120.0]), 240.0, 0.5, 1.0)
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
    st.sampled_from([0.0, 0.1, 0.5, 2.0]),
    st.booleans(),
)
def test_caps_and_further_limits_as_enumeration(seed, candidates, budget, gamma, floored):
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
    floor = tail_mean(p, 0.1) * rng.uniform(0.3, 1.0) if floored else -math.inf
    a = choose(p, g, cost, budget, 0.1, gamma, cvar_floor=floor, most=most, limits=[(row, bound)])
    assert np.all(a.counts <= most) and a.counts @ row <= bound + 1e-9
    assert a.counts @ cost <= budget + 1e-9
    want, _, met = brute(p, g, cost, budget, 0.1, gamma, floor, most, [(row, bound)])
    assert a.meets == met
    got = value(p, g, 0.1, gamma, a.counts) if met else tail_mean(p + a.counts @ g, 0.1)
    assert got >= want - 1e-6 * (1 + abs(want))
