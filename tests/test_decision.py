"""The one decision rule: the best EV + γ·CVaR within the CVaR limit, hold on a tie.

Figures are made up by hand; each expected choice is worked in a comment.
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from alvh_cli.method.decision import Preference
from alvh_cli.method.scenarios import RiskFigures
from alvh_cli.model.rules import resolve


def fig(ev: float, cvar: float) -> RiskFigures:
    return RiskFigures(ev, 0.0, cvar, cvar, "", -math.inf)


HOLD = fig(500.0, -24_500.0)
CLOSE = fig(380.0, 380.0)
HALF = fig(440.0, -12_000.0)


def test_objective_in_dollars():
    # γ = 0.1: 500 + 0.1 × (−24,500) = −1,950; 380 + 38 = 418
    p = Preference(0.1)
    assert p.objective(HOLD) == -1950.0
    assert p.objective(CLOSE) == 418.0


def test_risk_neutral_takes_the_best_ev_and_a_risk_averse_trader_the_tail():
    assert Preference(0.0).choose([HOLD, CLOSE, HALF]) == 0  # EV 500 > 440 > 380
    # γ = 0.01: hold 255, close 383.8, half 320: close
    assert Preference(0.01).choose([HOLD, CLOSE, HALF]) == 1
    # γ = 0.002: hold 451, close 380.76, half 416: hold
    assert Preference(0.002).choose([HOLD, CLOSE, HALF]) == 0


def test_hold_wins_a_tie_and_a_cent_is_no_reason_to_trade():
    same = fig(500.0, -24_500.0)
    assert Preference(0.1).choose([HOLD, same]) == 0
    assert Preference(0.1).choose([HOLD, fig(500.005, -24_500.0)]) == 0
    assert Preference(0.1).choose([HOLD, fig(500.02, -24_500.0)]) == 1


def test_a_limit_takes_the_best_within_it_else_the_smallest_tail():
    # floor −15,000: hold (−24,500) is out; half (440) beats close (380) at γ = 0
    p = Preference(0.0, -15_000.0)
    assert p.choose([HOLD, CLOSE, HALF]) == 2
    assert not p.meets(HOLD) and p.why_not(HOLD, HALF).startswith("CVaR -24,500 beyond")
    # floor +1,000: nothing meets it; the smallest tail loss is closing's +380
    assert Preference(0.0, 1_000.0).choose([HOLD, HALF, CLOSE]) == 2


def test_the_tighter_of_the_two_limits_applies():
    # $5,000, or 2 × a $1,000 credit = $2,000: the floor is −2,000
    rules = resolve(({"risk_aversion": 0.2, "cvar_limit": 5000, "cvar_limit_credit": 2}, "t"))
    p = Preference.from_rules(rules, 1000.0)
    assert (p.risk_aversion, p.cvar_floor) == (0.2, -2000.0)
    assert Preference.from_rules(resolve(), 1000.0).cvar_floor == -math.inf
    assert "CVaR ≥ -2,000" in p.describe()


money = st.floats(-1e6, 1e6, allow_nan=False)


@given(
    st.lists(st.tuples(money, money), min_size=1, max_size=12),
    st.floats(0.0, 10.0),
    st.one_of(st.none(), st.floats(-1e6, 0.0)),
)
def test_the_choice_is_the_best_within_the_limit(pairs, gamma, floor):
    figures = [fig(ev, cvar) for ev, cvar in pairs]
    p = Preference(gamma, -math.inf if floor is None else floor)
    i = p.choose(figures)
    within = [f for f in figures if p.meets(f)]
    if within:
        assert p.meets(figures[i])
        assert all(p.objective(figures[i]) >= p.objective(f) - 0.01 for f in within)
        if p.meets(figures[0]):  # never worse than holding
            assert p.objective(figures[i]) >= p.objective(figures[0])
    else:
        assert figures[i].cvar == max(f.cvar for f in figures)
