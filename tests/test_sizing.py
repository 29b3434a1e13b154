"""Sizing of VIX call spreads: a hand-worked example and properties."""

from __future__ import annotations

import math
from datetime import date

import pytest
from builders import condor, loaded, market, vix_spread
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_cli.method import stress
from alvh_cli.method.sizing import hedge_budget, size
from alvh_cli.model.domain import Smile
from alvh_cli.model.valuation import value_book


def bsm(is_call, s, k, t, sigma):
    """Black-Scholes with r = q = 0, written out independently of alvh_cli.model.pricing."""
    d1 = (math.log(s / k) + 0.5 * sigma * sigma * t) / (sigma * math.sqrt(t))
    d2 = d1 - sigma * math.sqrt(t)
    n = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    if is_call:
        return s * n(d1) - k * n(d2)
    return k * n(-d2) - s * n(-d1)


def test_hand_worked_sizing():
    """SPX 5800 → 5510 (stress_spx_move −5%), VIX 20, r = q = 0, flat SPX vol 15%.

    VIX_s = 20 · 0.95^−4.9 = 20 · e^(4.9 · 0.0512933) = 25.7148.
    κ = 0: every VIX future moves by the full 5.7148 → 25.7148.
    SPX ATM vol 0.15 → 0.15 + 5.7148/100 = 0.207148 (flat smile).
    T = 24 days / 365 (asof 16:00 EST to SPXW 16:00 EST on 2026-12-18).
    Condor (10 units) stress loss = −Σ q·100·(V(5510, 0.207148) − V(5800, 0.15)).

    VIX options at 1% vol are worth their intrinsic value except at the money:
    the 20 call (ATM, T ≈ 56.7/365) is worth 20·0.01·√T·0.3989 ≈ 0.03 < 0.05,
    below the tradable minimum, so spreads must have the long leg at ≤ 19.
    A long-19 spread costs 1.00 (intrinsic, r = 0) and at F_s = 25.7148 pays
    min(short, 25.7148) − 19; with widths ≤ 5 the best is 19/24: it pays 5, gains
    5 − 1 = 4 points = $400 per spread, 4.0 per dollar (19/23 gains 3, 18/23 gains
    5 − 2 = 3 on a debit of 2, …). Coverage 25% → count = ceil(0.25 · loss / 400).
    """
    mkt = market(
        spx=5800.0,
        vix=20.0,
        spx_vol=Smile(0.15, 0.0, 0.0),
        vix_vol=Smile(0.01, 0.0, 0.0),
    )
    lf = loaded(
        condor(),
        mkt,
        stress_spx_move=-0.05,
        vix_term_kappa=0.0,
        hedge_max_width=5,
        hedge_budget=5.0,
    )
    pv = value_book([lf])[0]
    sc = stress.build(pv.position, mkt, lf.rules, "put")
    vix_s = 20 * 0.95**-4.9
    assert math.isclose(sc.vix_stressed, vix_s, rel_tol=1e-12)
    assert math.isclose(vix_s, 25.7148, abs_tol=1e-4)
    assert math.isclose(sc.market.spx_vol.atm, 0.15 + (vix_s - 20) / 100, rel_tol=1e-12)

    t = 24 / 365
    sig_s = 0.15 + (vix_s - 20) / 100
    loss = 0.0
    for is_call, k, q in (
        (False, 5400, 10),
        (False, 5500, -10),
        (True, 6100, -10),
        (True, 6200, 10),
    ):
        loss -= q * 100 * (bsm(is_call, 5510, k, t, sig_s) - bsm(is_call, 5800, k, t, 0.15))

    s = size(pv, sc, lf.rules, 1, 0.25)
    assert math.isclose(s.stress_loss, loss, rel_tol=1e-9)
    assert (s.choice.long_strike, s.choice.short_strike) == (19, 24)
    assert s.vix_expiry == date(2027, 1, 20)
    assert math.isclose(s.choice.debit, 1.0, abs_tol=1e-4)
    assert math.isclose(s.choice.gain, 400.0, abs_tol=0.01)
    assert s.quantity == math.ceil(0.25 * loss / 400.0)
    assert not s.budget_limited
    assert math.isclose(s.cost, s.quantity * 100.0, abs_tol=0.01 * s.quantity)


def test_existing_hedges_count_toward_coverage():
    mkt = market(spx=5790.0)
    bare = loaded(condor(), mkt)
    pv = value_book([bare])[0]
    sc = stress.build(pv.position, mkt, bare.rules, "put")
    fresh = size(pv, sc, bare.rules, 1, 0.25)
    hedged_pos = condor(hedges=vix_spread(21, 26, 20, 1.0, 0.3))
    hedged = loaded(hedged_pos, mkt)
    hpv = value_book([hedged])[0]
    s = size(hpv, stress.build(hedged_pos, mkt, hedged.rules, "put"), hedged.rules, 1, 0.25)
    assert s.existing_gain > 0
    assert s.needed_gain < fresh.needed_gain
    assert s.quantity <= fresh.quantity


@settings(max_examples=25, deadline=None)
@given(
    budget=st.floats(0.0, 1.0),
    coverage=st.floats(0.05, 1.5),
    spot=st.floats(5560.0, 5790.0),
    vix=st.floats(12.0, 35.0),
    units=st.integers(1, 20),
)
def test_sizing_never_exceeds_budget(budget, coverage, spot, vix, units):
    mkt = market(spx=spot, vix=vix)
    lf = loaded(condor(units=units), mkt, hedge_budget=budget)
    pv = value_book([lf])[0]
    sc = stress.build(pv.position, mkt, lf.rules, "put")
    s = size(pv, sc, lf.rules, 1, coverage)
    assert isinstance(s.quantity, int) and s.quantity >= 0
    assert s.cost <= hedge_budget(pv.position, lf.rules) - s.budget_spent + 1e-6
    if s.choice is not None and not s.budget_limited:
        assert s.existing_gain + s.stress_gain >= coverage * s.stress_loss - 1e-6


def test_budget_counts_existing_layers():
    mkt = market(spx=5700.0, vix=22.0)
    # budget = 0.35 × 3.00 × 10 × 100 = $1,050; the layer on cost 20 × (1.00 − 0.30) × 100 = $1,400
    pos = condor(hedges=vix_spread(21, 26, 20, 1.0, 0.3))
    lf = loaded(pos, mkt)
    pv = value_book([lf])[0]
    s = size(pv, stress.build(pos, mkt, lf.rules, "put"), lf.rules, 2, 0.9)
    assert math.isclose(s.budget, 1050.0) and math.isclose(s.budget_spent, 1400.0)
    # the stress still needs cover, but the layer on already spent past the budget
    assert s.needed_gain > 0 and s.quantity == 0 and s.choice is None
    assert s.note == "no spread fits the $0 of hedge budget left"


def test_budget_buys_what_fits_when_the_best_spread_does_not():
    """pick_within_budget: the best-ranked spread costs more than the budget left, a
    cheaper one fits; alvh buys the cheaper one rather than nothing."""
    from alvh_cli.method.sizing import Candidate, pick_within_budget

    best = Candidate(date(2027, 1, 20), 18, 28, 3.30, "model", 8.0, 470.0, 5)
    cheap = Candidate(date(2027, 1, 20), 21, 31, 2.10, "model", 5.0, 290.0, 8)
    assert pick_within_budget([best, cheap], 217.0) == (cheap, 1)
    assert pick_within_budget([best, cheap], 5000.0) == (best, 5)  # the best fits in full
    assert pick_within_budget([best, cheap], 100.0) == (None, 0)
    # neither fits in full: the one whose affordable count gains most ($1,000 buys
    # 3 × best = $1,410 or 4 × cheap = $1,160)
    assert pick_within_budget([best, cheap], 1000.0) == (best, 3)


def test_budget_limited_prefers_fewer_contracts_among_near_equals():
    from alvh_cli.method.sizing import Candidate, pick_within_budget

    # $1,000 left buys 142 of the 0.07 spread (200 needed) or 4 of the 2.30 one
    tiny = Candidate(date(2027, 1, 20), 28, 29, 0.07, "model", 0.20, 12.0, 200)
    wide = Candidate(date(2027, 1, 20), 19, 29, 2.30, "model", 2.55, 25.0, 100)
    # tiny: 142 × $12 = $1,704; wide: 4 × $25 = $100 → tiny wins by far
    assert pick_within_budget([tiny, wide], 1000.0, 0.10) == (tiny, 142)
    # within 10% of each other, the spread with more gain per contract wins
    mid = Candidate(date(2027, 1, 20), 20, 30, 0.70, "model", 2.5, 115.0, 20)
    # mid: 14 × $115 = $1,610 ≥ 0.9 × $1,704
    assert pick_within_budget([tiny, mid], 1000.0, 0.10) == (mid, 14)
    assert pick_within_budget([tiny, mid], 1000.0, 0.0) == (tiny, 142)


def test_quoted_spreads_cost_the_natural_price_even_with_a_zero_bid():
    """Both legs quoted: pay the long's ask, receive the short's bid (here 0.00)."""
    from alvh_cli.method.sizing import candidate_spreads
    from alvh_cli.model.domain import Quote

    jan = date(2027, 1, 20)
    quotes = (
        Quote("VIX", "call", 21, jan, 1.40, 1.50),
        Quote("VIX", "call", 26, jan, 0.00, 0.10),
    )
    mkt = market(spx=5700.0, vix=20.0, quotes=quotes)
    lf = loaded(condor(), mkt, hedge_ratio_tolerance=0.0)
    pv = value_book([lf])[0]
    sc = stress.build(pv.position, mkt, lf.rules, "put")
    by = {(c.long_strike, c.short_strike): c for c in candidate_spreads(pv, sc, lf.rules, jan)}
    c = by[(21.0, 26.0)]
    assert (c.debit, c.debit_source) == (1.50, "natural")
    assert c.gain == pytest.approx((c.stressed_value - 1.50) * 100)
    # every other pair has an unquoted leg: model price
    assert all(c.debit_source == "model" for pair, c in by.items() if pair != (21.0, 26.0))


def test_conversion_legs_are_not_hedge_spend():
    from alvh_cli.method.sizing import hedge_spent
    from alvh_cli.model.domain import Leg

    conv = (
        Leg("SPX", "SPXW", "put", 5500, date(2026, 12, 18), 2, 176.0, layer=3),
        Leg("SPX", "SPXW", "call", 5500, date(2026, 12, 18), -2, 146.0, layer=3),
    )
    pos = condor(hedges=(*vix_spread(21, 26, 5, 1.0, 0.4), *conv))
    assert hedge_spent(pos) == pytest.approx((1.0 - 0.4) * 5 * 100)  # $300, the VIX spread
