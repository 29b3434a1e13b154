"""Layer 3 conversion/reversal and the smile-implied distribution."""

from __future__ import annotations

import math

import numpy as np
from builders import condor, loaded, market
from hypothesis import given
from hypothesis import strategies as st

from alvh_cli.method.adjust import best_count, conversion, smile_density
from alvh_cli.model.domain import Quote, Smile
from alvh_cli.model.pricing import black76_greeks
from alvh_cli.model.valuation import value_book


@given(
    delta=st.floats(-1e6, 1e6),
    unit=st.floats(-500, 500).filter(lambda u: abs(u) > 1e-6),
    max_count=st.integers(0, 200),
)
def test_best_count_equals_brute_force(delta, unit, max_count):
    n = best_count(delta, unit, max_count)
    brute = min(range(max_count + 1), key=lambda k: (abs(delta + k * unit), k))
    assert abs(delta + n * unit) <= abs(delta + brute * unit) + 1e-9
    assert 0 <= n <= max_count


def test_best_count_hand_example():
    # delta +1,234 $/pt; one synthetic short is −99.5 $/pt: 12 → +40, 13 → −59.5: n = 12.
    assert best_count(1234.0, -99.5, 20) == 12
    # never more than the short contracts on the tested side
    assert best_count(1234.0, -99.5, 5) == 5
    assert best_count(-50.0, -99.5, 5) == 0


def test_conversion_on_breached_put_side():
    mkt = market(spx=5480.0, vix=28.0, rate=0.04, dividend_yield=0.013)
    lf = loaded(condor(units=10), mkt)
    pv = value_book([lf])[0]
    delta = pv.greeks["total"]["delta"]
    c = conversion(pv, "put", delta)
    # one synthetic short (buy put, sell call, same strike/expiry) has delta −e^(−qT)·100
    t = float(pv.values.T[0])
    assert math.isclose(c.unit_delta, -100 * math.exp(-0.013 * t), rel_tol=1e-9)
    assert c.quantity == best_count(delta, c.unit_delta, 10)
    assert abs(c.delta_after) <= abs(delta)
    assert c.parity_edge is None  # no quotes
    # Under the smile's own distribution a synthetic bought at its model price is fair:
    # E[K − S_T]·100 = (K − F)·100 = e^(rT)·price·100, so the EV moves by the carry only.
    carry = c.quantity * c.price * 100 * (math.exp(0.04 * t) - 1)
    assert math.isclose(c.ev_after, c.ev_before + carry, abs_tol=1.0)
    assert c.price_source == "model"
    # model synthetic: P − C = e^(−rT)(K − F) by parity
    fwd = float(pv.values.forward[0])
    assert math.isclose(c.price, math.exp(-0.04 * t) * (5500 - fwd), abs_tol=1e-6)


def test_parity_edge_from_quotes():
    base = market(spx=5480.0, vix=28.0, rate=0.04, dividend_yield=0.013)
    pv0 = value_book([loaded(condor(), base)])[0]
    t, fwd = float(pv0.values.T[1]), float(pv0.values.forward[1])
    quotes = (
        Quote("SPX", "call", 5500, pv0.position.expiry, 120.0, 122.0),
        Quote("SPX", "put", 5500, pv0.position.expiry, 140.0, 142.0),
    )
    mkt = market(spx=5480.0, vix=28.0, rate=0.04, dividend_yield=0.013, quotes=quotes)
    pv = value_book([loaded(condor(), mkt)])[0]
    c = conversion(pv, "put", pv.greeks["total"]["delta"])
    assert math.isclose(
        c.parity_edge, 121.0 - 141.0 - math.exp(-0.04 * t) * (fwd - 5500), abs_tol=1e-9
    )
    assert c.price_source == "natural"
    assert math.isclose(c.price, 142.0 - 120.0)  # pay the put's ask, receive the call's bid


def test_smile_density_reprices_the_smile():
    """Breeden–Litzenberger: on an arbitrage-free smile the density reprices the forward
    and the puts the smile itself prices (Black-76, undiscounted)."""
    mkt = market(spx=5800.0, spx_vol=Smile(0.18, -0.3, 0.3))  # 1 + dC/dK >= 0 on the grid
    fwd, t = 5810.0, 30 / 365
    grid, p = smile_density(mkt, fwd, t)
    assert math.isclose(p.sum(), 1.0) and (p >= 0).all()
    assert math.isclose((p * grid).sum(), fwd, rel_tol=2e-4)
    for k in (5400.0, 5600.0, 5800.0, 6000.0):
        kk = math.log(k / fwd)
        vol = 0.18 - 0.3 * kk + 0.3 * kk * kk
        put = float(black76_greeks(False, fwd, k, t, 0.0, vol).price)
        assert math.isclose((p * np.maximum(k - grid, 0)).sum(), put, rel_tol=2e-3, abs_tol=0.02)


def test_smile_density_stays_a_distribution_where_the_wing_is_not_arbitrage_free():
    # skew −1.1, smile 2.5 at 30 days: 1 + ∂C/∂K turns negative about 16% below the money
    mkt = market(spx=5800.0, spx_vol=Smile(0.18, -1.1, 2.5))
    grid, p = smile_density(mkt, 5810.0, 30 / 365)
    assert (p >= 0).all() and math.isclose(p.sum(), 1.0)
    assert math.isclose((p * grid).sum(), 5810.0, rel_tol=1e-2)  # the repair moves it ~0.5%


def test_expected_value_agrees_with_the_mark_on_a_skewed_smile():
    """With r = 0 the smile-implied expectation of each leg's payoff is its price, so the
    condor's EV at expiry equals its P&L at today's marks, whatever the skew; and a
    synthetic bought at its model price leaves the EV unchanged."""
    mkt = market(spx=5480.0, vix=28.0, spx_vol=Smile(0.28, -1.1, 2.5))
    pv = value_book([loaded(condor(units=10), mkt)])[0]
    c = conversion(pv, "put", pv.greeks["total"]["delta"])
    assert c.quantity > 0
    assert math.isclose(c.ev_before, pv.pnl, abs_tol=1e-6)
    assert math.isclose(c.ev_after, c.ev_before, abs_tol=1e-6)
    assert c.sd_after < c.sd_before  # the synthetic flattens the breached put spread
