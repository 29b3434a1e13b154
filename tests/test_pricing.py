"""Tests for alvh_cli.model.pricing: textbook values, parity, finite differences,
no-arbitrage properties, implied-vol round trips and the expiry limits."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_cli.model.pricing import (
    Greeks,
    black76_greeks,
    bsm_greeks,
    implied_vol,
    implied_vol_black76,
    norm_pdf,
)

EPS = np.finfo(float).eps
ONE_HOUR = 1.0 / (365.0 * 24.0)


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    """Every function here must stay silent: no RuntimeWarning from numpy."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --------------------------------------------------------------------------
# Published values
# --------------------------------------------------------------------------


def test_hull_bsm_example():
    # Hull, "Options, Futures, and Other Derivatives", Example 15.6 (8th ed.;
    # the chapter number differs between editions): S=42, K=40, r=10%,
    # sigma=20%, T=0.5, no dividend -> c = 4.76, p = 0.81.
    # Closed form: d1 = (ln(42/40) + (0.10 + 0.02) * 0.5) / (0.2 * sqrt(0.5)) = 0.7693,
    # d2 = 0.6278, c = 42 N(d1) - 40 e^-0.05 N(d2) = 32.724 - 27.964 = 4.76,
    # p = 40 e^-0.05 N(-d2) - 42 N(-d1) = 10.085 - 9.276 = 0.81.
    g = bsm_greeks(np.array([True, False]), 42.0, 40.0, 0.5, 0.10, 0.0, 0.20)
    np.testing.assert_allclose(np.round(g.price, 2), [4.76, 0.81])


def test_haug_generalised_bsm_put():
    # Haug, "The Complete Guide to Option Pricing Formulas" (2nd ed.), generalised
    # BSM example: S=75, K=70, T=0.5, r=10%, cost of carry b=5% (q = r - b = 5%),
    # sigma=35% -> put 4.0870.
    # Closed form: d1 = (ln(75/70) + (0.05 + 0.06125) * 0.5) / (0.35 sqrt(0.5)) = 0.5036,
    # d2 = 0.2560, p = 70 e^-0.05 N(-d2) - 75 e^-0.025 N(-d1) = 26.5650 - 22.4781 = 4.0870.
    g = bsm_greeks(False, 75.0, 70.0, 0.5, 0.10, 0.05, 0.35)
    assert round(float(g.price), 4) == 4.0870


def test_haug_black76_call_and_put():
    # Haug (2nd ed.), Black-76 example: F=19, K=19, T=0.75, r=10%, sigma=28%
    # -> call = put = 1.7011. At the money d1 = -d2 = 0.28 sqrt(0.75) / 2 = 0.12124,
    # so c = p = 19 e^-0.075 (2 N(0.12124) - 1) = 17.627 * 0.09650 = 1.7011.
    g = black76_greeks(np.array([True, False]), 19.0, 19.0, 0.75, 0.10, 0.28)
    np.testing.assert_allclose(np.round(g.price, 4), [1.7011, 1.7011])


def test_haug_gamma():
    # Haug (2nd ed.), gamma example: S=55, K=60, T=0.75, r=10%, b=10% (q=0),
    # sigma=30% -> gamma 0.0278 (same for call and put).
    # d1 = (ln(55/60) + 0.145 * 0.75) / (0.3 sqrt(0.75)) = 0.0837,
    # gamma = phi(d1) / (S sigma sqrt T) = 0.39755 / 14.289 = 0.02782.
    g = bsm_greeks(np.array([True, False]), 55.0, 60.0, 0.75, 0.10, 0.0, 0.30)
    np.testing.assert_allclose(np.round(g.gamma, 4), [0.0278, 0.0278])


def test_haug_black76_delta():
    # Haug (2nd ed.), delta example for an option on a future: F=105, K=100,
    # T=0.5, r=10%, sigma=36% -> call delta 0.5946, put delta -0.3566.
    # d1 = (ln(1.05) + 0.0324) / (0.36 sqrt(0.5)) = 0.31894, e^-0.05 = 0.951229,
    # call = e^-0.05 N(d1) = 0.951229 * 0.62511 = 0.5946, put = call - e^-0.05 = -0.3566.
    g = black76_greeks(np.array([True, False]), 105.0, 100.0, 0.5, 0.10, 0.36)
    np.testing.assert_allclose(np.round(g.delta, 4), [0.5946, -0.3566])


def test_haug_theta_per_year_to_per_day():
    # Haug (2nd ed.), theta example: index put, S=430, K=405, T=0.0833, r=7%,
    # b=2% (q=5%), sigma=20% -> theta -31.1924 per year. alvh quotes theta per
    # calendar day, so expect -31.1924 / 365. Closed form: d1 = 1.09540, d2 = 1.03767,
    # theta = -S e^-qT phi(d1) sigma / (2 sqrt T) + r K e^-rT N(-d2) - q S e^-qT N(-d1)
    #       = -32.4858 + 4.2196 - 2.9262 = -31.1924.
    g = bsm_greeks(False, 430.0, 405.0, 0.0833, 0.07, 0.05, 0.20)
    assert round(float(g.theta) * 365.0, 4) == -31.1924


def test_haug_rho_per_unit_to_per_percent():
    # Haug (2nd ed.), rho example: call, S=72, K=75, T=1, r=9%, b=9% (q=0),
    # sigma=19% -> rho 38.7325 per unit of rate, i.e. 0.387325 per 1 %.
    # rho = K T e^-rT N(d2): d1 = (ln(72/75) + (0.09 + 0.01805)) / 0.19 = 0.35383,
    # d2 = 0.16383, N(d2) = 0.565068, rho = 75 * e^-0.09 * 0.565068 = 38.7325.
    g = bsm_greeks(True, 72.0, 75.0, 1.0, 0.09, 0.0, 0.19)
    assert round(float(g.rho) * 100.0, 4) == 38.7325


# --------------------------------------------------------------------------
# Parity and finite differences
# --------------------------------------------------------------------------


def _random_book(n=2000, seed=7):
    rng = np.random.default_rng(seed)
    S = rng.uniform(50.0, 6000.0, n)
    K = S * np.exp(rng.uniform(-0.5, 0.5, n))
    T = rng.uniform(0.02, 2.0, n)
    r = rng.uniform(0.0, 0.08, n)
    q = rng.uniform(0.0, 0.04, n)
    sigma = rng.uniform(0.08, 0.8, n)
    return S, K, T, r, q, sigma


def test_put_call_parity_bsm():
    # C - P = S e^{-qT} - K e^{-rT}, and delta_C - delta_P = e^{-qT};
    # gamma, vega are equal for the call and the put.
    S, K, T, r, q, sigma = _random_book()
    c = bsm_greeks(True, S, K, T, r, q, sigma)
    p = bsm_greeks(False, S, K, T, r, q, sigma)
    scale = S + K
    np.testing.assert_allclose(
        c.price - p.price, S * np.exp(-q * T) - K * np.exp(-r * T), rtol=0, atol=1e-13 * scale.max()
    )
    np.testing.assert_allclose(c.delta - p.delta, np.exp(-q * T), rtol=0, atol=1e-14)
    np.testing.assert_allclose(c.gamma, p.gamma, rtol=1e-13)
    np.testing.assert_allclose(c.vega, p.vega, rtol=1e-13)


def test_put_call_parity_black76():
    # C - P = e^{-rT} (F - K).
    F, K, T, r, _, sigma = _random_book(seed=8)
    c = black76_greeks(True, F, K, T, r, sigma)
    p = black76_greeks(False, F, K, T, r, sigma)
    np.testing.assert_allclose(
        c.price - p.price, np.exp(-r * T) * (F - K), rtol=0, atol=1e-13 * (F + K).max()
    )
    np.testing.assert_allclose(c.delta - p.delta, np.exp(-r * T), rtol=0, atol=1e-14)


def _assert_close(actual, desired, rtol, atol):
    """Elementwise |actual - desired| <= rtol |desired| + atol (atol may be an array)."""
    bad = ~(np.abs(actual - desired) <= rtol * np.abs(desired) + atol)
    assert not bad.any(), (np.asarray(actual)[bad][:5], np.asarray(desired)[bad][:5])


def _bsm_price(is_call, S, K, T, r, q, sigma):
    return bsm_greeks(is_call, S, K, T, r, q, sigma).price


def _b76_price(is_call, F, K, T, r, sigma):
    return black76_greeks(is_call, F, K, T, r, sigma).price


@pytest.mark.parametrize("is_call", [True, False])
def test_bsm_greeks_match_finite_differences(is_call):
    S, K, T, r, q, sigma = _random_book(n=500, seed=9)
    g = bsm_greeks(is_call, S, K, T, r, q, sigma)
    V = _bsm_price

    h = 1e-6 * S
    delta = (V(is_call, S + h, K, T, r, q, sigma) - V(is_call, S - h, K, T, r, q, sigma)) / (2 * h)
    np.testing.assert_allclose(g.delta, delta, rtol=1e-6, atol=1e-8)

    h = 2e-5 * S
    gamma = (
        V(is_call, S + h, K, T, r, q, sigma) - 2 * g.price + V(is_call, S - h, K, T, r, q, sigma)
    ) / (h * h)
    # second difference rounding: a few ulp of the price legs over h^2
    _assert_close(g.gamma, gamma, rtol=1e-4, atol=64 * EPS * (S + K) / (h * h))

    h = 1e-5
    vega = (V(is_call, S, K, T, r, q, sigma + h) - V(is_call, S, K, T, r, q, sigma - h)) / (2 * h)
    _assert_close(g.vega, 0.01 * vega, rtol=1e-6, atol=1e-8 * S)

    h = 1e-5 * T  # theta = -dV/dT per calendar day
    dv_dt = (V(is_call, S, K, T + h, r, q, sigma) - V(is_call, S, K, T - h, r, q, sigma)) / (2 * h)
    _assert_close(g.theta, -dv_dt / 365.0, rtol=1e-5, atol=1e-8 * S)

    h = 1e-6  # rho = dV/dr with S and q fixed, per 1 %
    rho = (V(is_call, S, K, T, r + h, q, sigma) - V(is_call, S, K, T, r - h, q, sigma)) / (2 * h)
    _assert_close(g.rho, 0.01 * rho, rtol=1e-5, atol=1e-8 * S)


@pytest.mark.parametrize("is_call", [True, False])
def test_black76_greeks_match_finite_differences(is_call):
    F, K, T, r, _, sigma = _random_book(n=500, seed=10)
    g = black76_greeks(is_call, F, K, T, r, sigma)
    V = _b76_price

    h = 1e-6 * F
    delta = (V(is_call, F + h, K, T, r, sigma) - V(is_call, F - h, K, T, r, sigma)) / (2 * h)
    np.testing.assert_allclose(g.delta, delta, rtol=1e-6, atol=1e-8)

    h = 2e-5 * F
    gamma = (
        V(is_call, F + h, K, T, r, sigma) - 2 * g.price + V(is_call, F - h, K, T, r, sigma)
    ) / (h * h)
    # second difference rounding: a few ulp of the price legs over h^2
    _assert_close(g.gamma, gamma, rtol=1e-4, atol=64 * EPS * (F + K) / (h * h))

    h = 1e-5
    vega = (V(is_call, F, K, T, r, sigma + h) - V(is_call, F, K, T, r, sigma - h)) / (2 * h)
    _assert_close(g.vega, 0.01 * vega, rtol=1e-6, atol=1e-8 * F)

    h = 1e-5 * T
    dv_dt = (V(is_call, F, K, T + h, r, sigma) - V(is_call, F, K, T - h, r, sigma)) / (2 * h)
    _assert_close(g.theta, -dv_dt / 365.0, rtol=1e-5, atol=1e-8 * F)

    h = 1e-6  # F held fixed
    rho = (V(is_call, F, K, T, r + h, sigma) - V(is_call, F, K, T, r - h, sigma)) / (2 * h)
    _assert_close(g.rho, 0.01 * rho, rtol=1e-5, atol=1e-8 * F)


def test_greeks_one_hour_to_expiry_match_finite_differences():
    # Close to expiry the Greeks are steep; use relative bumps at T = 1 hour.
    S = 5000.0
    K = np.array([4990.0, 4995.0, 5000.0, 5005.0, 5010.0])
    T, r, q, sigma = ONE_HOUR, 0.05, 0.013, 0.15
    for is_call in (True, False):
        g = bsm_greeks(is_call, S, K, T, r, q, sigma)
        h = 1e-3
        delta = (
            _bsm_price(is_call, S + h, K, T, r, q, sigma)
            - _bsm_price(is_call, S - h, K, T, r, q, sigma)
        ) / (2 * h)
        np.testing.assert_allclose(g.delta, delta, rtol=1e-6, atol=1e-9)
        h = 1e-6 * T
        dv_dt = (
            _bsm_price(is_call, S, K, T + h, r, q, sigma)
            - _bsm_price(is_call, S, K, T - h, r, q, sigma)
        ) / (2 * h)
        np.testing.assert_allclose(g.theta, -dv_dt / 365.0, rtol=1e-5)
        assert np.all(np.isfinite([g.price, g.delta, g.gamma, g.vega, g.theta, g.rho]))
        assert np.all(g.gamma > 0)


# --------------------------------------------------------------------------
# Sign conventions
# --------------------------------------------------------------------------


def test_sign_conventions():
    S, K, T, r, q, sigma = 100.0, np.array([90.0, 100.0, 110.0]), 0.25, 0.01, 0.0, 0.2
    c = bsm_greeks(True, S, K, T, r, q, sigma)
    p = bsm_greeks(False, S, K, T, r, q, sigma)
    assert np.all(c.theta < 0) and np.all(p.theta < 0)  # long options lose value
    assert np.all(c.rho > 0) and np.all(p.rho < 0)
    assert np.all(c.delta > 0) and np.all(p.delta < 0)
    assert np.all(c.gamma > 0) and np.all(c.vega > 0)


def test_black76_rho_is_minus_t_price_per_percent():
    F, K, T, r, _, sigma = _random_book(n=200, seed=11)
    for is_call in (True, False):
        g = black76_greeks(is_call, F, K, T, r, sigma)
        np.testing.assert_allclose(g.rho, -T * g.price / 100.0, rtol=1e-15, atol=0)


def test_greeks_is_a_frozen_dataclass_broadcast_to_full_shape():
    g = bsm_greeks(np.array([True, False, True]), 100.0, 100.0, 0.5, 0.03, 0.01, 0.2)
    assert isinstance(g, Greeks)
    for name in ("price", "delta", "gamma", "vega", "theta", "rho"):
        assert getattr(g, name).shape == (3,)
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.price = np.zeros(3)  # type: ignore[misc]
    np.testing.assert_allclose(norm_pdf(0.0), 1.0 / np.sqrt(2 * np.pi))


# --------------------------------------------------------------------------
# Limits: expiry, zero volatility, extreme strikes
# --------------------------------------------------------------------------


def test_expiry_gives_intrinsic_and_step_delta():
    S = 100.0
    K = np.array([80.0, 100.0, 120.0])
    c = bsm_greeks(True, S, K, 0.0, 0.05, 0.02, 0.3)
    p = bsm_greeks(False, S, K, 0.0, 0.05, 0.02, 0.3)
    np.testing.assert_array_equal(c.price, [20.0, 0.0, 0.0])
    np.testing.assert_array_equal(p.price, [0.0, 0.0, 20.0])
    np.testing.assert_array_equal(c.delta, [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(p.delta, [0.0, -0.5, -1.0])
    for g in (c, p):
        np.testing.assert_array_equal(g.gamma, 0.0)
        np.testing.assert_array_equal(g.vega, 0.0)
        np.testing.assert_array_equal(g.rho, 0.0)
        assert np.all(np.isfinite(g.theta))


def test_zero_vol_gives_discounted_forward_intrinsic():
    S, T, r, q = 100.0, 0.5, 0.05, 0.01
    F = S * np.exp((r - q) * T)  # 102.02
    K = np.array([90.0, 110.0])
    for is_call, w in ((True, 1.0), (False, -1.0)):
        g = bsm_greeks(is_call, S, K, T, r, q, 0.0)
        np.testing.assert_allclose(g.price, np.exp(-r * T) * np.maximum(w * (F - K), 0.0))
        step = np.where(w * (F - K) > 0, 1.0, 0.0)
        np.testing.assert_allclose(g.delta, w * np.exp(-q * T) * step)
        np.testing.assert_array_equal(g.gamma, 0.0)
        np.testing.assert_array_equal(g.vega, 0.0)
        assert np.all(np.isfinite(g.theta)) and np.all(np.isfinite(g.rho))
    # Exactly at the money forward (r = q so F = S = K): half the discounted step.
    atm = bsm_greeks(np.array([True, False]), 100.0, 100.0, 0.5, 0.03, 0.03, 0.0)
    np.testing.assert_array_equal(atm.price, [0.0, 0.0])
    np.testing.assert_allclose(atm.delta, [0.5 * np.exp(-0.015), -0.5 * np.exp(-0.015)])
    fut = black76_greeks(np.array([True, False]), 100.0, 95.0, 0.5, 0.05, 0.0)
    np.testing.assert_allclose(fut.price, [5.0 * np.exp(-0.025), 0.0])
    np.testing.assert_allclose(fut.delta, [np.exp(-0.025), 0.0])


def test_tiny_time_and_vol_converge_to_the_limit():
    K = np.array([90.0, 110.0])
    for T, sigma in ((1e-14, 0.2), (0.5, 1e-12)):
        g = bsm_greeks(True, 100.0, K, T, 0.05, 0.0, sigma)
        lim = bsm_greeks(True, 100.0, K, T, 0.05, 0.0, 0.0)
        np.testing.assert_allclose(g.price, lim.price, atol=1e-10)
        np.testing.assert_allclose(g.delta, lim.delta, atol=1e-10)


def test_deep_in_and_out_of_the_money_are_finite():
    K = np.array([1e-3, 1.0, 1e4, 1e6])
    for is_call in (True, False):
        g = bsm_greeks(is_call, 100.0, K, 2.0, 0.05, 0.01, 0.2)
        for a in dataclasses.astuple(g):
            assert np.all(np.isfinite(a))
    c = bsm_greeks(True, 100.0, K, 2.0, 0.05, 0.01, 0.2)
    assert 0.0 <= c.price[-1] < 1e-100
    np.testing.assert_allclose(c.delta[0], np.exp(-0.02), rtol=1e-15)


def test_negative_time_or_vol_is_nan():
    g = bsm_greeks(True, 100.0, 100.0, np.array([-0.1, 0.5]), 0.05, 0.0, np.array([0.2, -0.2]))
    assert np.all(np.isnan(g.price)) and np.all(np.isnan(g.delta))


# --------------------------------------------------------------------------
# Properties (hypothesis)
# --------------------------------------------------------------------------

spot = st.floats(10.0, 10_000.0)
moneyness = st.floats(0.5, 2.0)
years = st.floats(ONE_HOUR, 2.0)
rate = st.floats(0.0, 0.08)
div = st.floats(0.0, 0.05)
vol = st.floats(0.01, 3.0)
calls = st.booleans()
FAST = settings(max_examples=150, deadline=None)


@FAST
@given(spot, moneyness, moneyness, years, rate, div, vol)
def test_price_monotone_in_strike(S, m1, m2, T, r, q, sigma):
    K1, K2 = sorted((S * m1, S * m2))
    tol = 8 * EPS * (S + K2)
    c = bsm_greeks(True, S, np.array([K1, K2]), T, r, q, sigma).price
    p = bsm_greeks(False, S, np.array([K1, K2]), T, r, q, sigma).price
    assert c[0] >= c[1] - tol  # calls non-increasing in strike
    assert p[0] <= p[1] + tol  # puts non-decreasing in strike


@FAST
@given(calls, spot, moneyness, years, rate, div, vol, vol)
def test_price_monotone_in_vol(is_call, S, m, T, r, q, s1, s2):
    lo, hi = sorted((s1, s2))
    v = bsm_greeks(is_call, S, S * m, T, r, q, np.array([lo, hi])).price
    assert v[0] <= v[1] + 8 * EPS * S * (1 + m)


@FAST
@given(spot, moneyness, years, rate, div, vol)
def test_price_within_no_arbitrage_bounds(S, m, T, r, q, sigma):
    K = S * m
    fwd_pv, strike_pv = S * np.exp(-q * T), K * np.exp(-r * T)
    tol = 8 * EPS * (fwd_pv + strike_pv)
    c = float(bsm_greeks(True, S, K, T, r, q, sigma).price)
    p = float(bsm_greeks(False, S, K, T, r, q, sigma).price)
    assert max(fwd_pv - strike_pv, 0.0) - tol <= c <= fwd_pv + tol
    assert max(strike_pv - fwd_pv, 0.0) - tol <= p <= strike_pv + tol


# Implied-vol round trip. A price carries rounding error of a few ulp of its
# legs, dP ~ eps * (S e^{-qT} + K e^{-rT}) (observed <= 2.5x that), which moves
# the implied vol by dP / vega. So |iv - sigma| <= 1e-10 is required wherever
# that rounding alone moves the vol by less than 5e-11, i.e. where
#     vega_per_unit_vol >= 4 * eps * scale / 5e-11   (about 3.6e-5 * S).
# Everywhere else the implied vol must still reprice the input within rounding,
# and it must be finite wherever the price carries any vol information
# (vega_per_unit_vol > 1e-6 * scale).
IV_TOL = 1e-10
NOISE_ULPS = 4.0


def _check_round_trip(price, iv, sigma, vega_unit, scale, reprice):
    accurate = vega_unit >= NOISE_ULPS * EPS * scale / (0.5 * IV_TOL)
    assert np.all(np.abs(iv - sigma)[accurate] <= IV_TOL)
    informative = vega_unit > 1e-6 * scale
    assert np.all(np.isfinite(iv[informative]))
    ok = np.isfinite(iv)
    assert np.all(np.abs(reprice(iv[ok]) - price[ok]) <= 8 * EPS * scale[ok])


@settings(max_examples=300, deadline=None)
@given(calls, spot, moneyness, years, rate, div, vol)
def test_implied_vol_round_trip_bsm(is_call, S, m, T, r, q, sigma):
    K = S * m
    g = bsm_greeks(is_call, S, K, T, r, q, sigma)
    iv = implied_vol(g.price, is_call, S, K, T, r, q)
    scale = np.asarray(S * np.exp(-q * T) + K * np.exp(-r * T))
    _check_round_trip(
        np.atleast_1d(g.price),
        np.atleast_1d(iv),
        sigma,
        np.atleast_1d(100 * g.vega),
        np.atleast_1d(scale),
        lambda v: _bsm_price(is_call, S, K, T, r, q, v),
    )


@settings(max_examples=300, deadline=None)
@given(calls, spot, moneyness, years, rate, vol)
def test_implied_vol_round_trip_black76(is_call, F, m, T, r, sigma):
    K = F * m
    g = black76_greeks(is_call, F, K, T, r, sigma)
    iv = implied_vol_black76(g.price, is_call, F, K, T, r)
    scale = np.asarray(np.exp(-r * T) * (F + K))
    _check_round_trip(
        np.atleast_1d(g.price),
        np.atleast_1d(iv),
        sigma,
        np.atleast_1d(100 * g.vega),
        np.atleast_1d(scale),
        lambda v: _b76_price(is_call, F, K, T, r, v),
    )


@pytest.mark.parametrize("model", ["bsm", "black76"])
def test_implied_vol_round_trip_vectorised(model):
    # 200k options over the same domain plus vols from 1e-4 to 10, in one call.
    rng = np.random.default_rng(12)
    n = 200_000
    S = rng.uniform(10.0, 10_000.0, n)
    K = S * np.exp(rng.uniform(np.log(0.5), np.log(2.0), n))
    T = np.exp(rng.uniform(np.log(ONE_HOUR), np.log(2.0), n))
    r = rng.uniform(0.0, 0.08, n)
    q = rng.uniform(0.0, 0.05, n) if model == "bsm" else r
    sigma = np.exp(rng.uniform(np.log(1e-4), np.log(10.0), n))
    is_call = rng.random(n) < 0.5
    if model == "bsm":
        g = bsm_greeks(is_call, S, K, T, r, q, sigma)
        iv = implied_vol(g.price, is_call, S, K, T, r, q)

        def reprice(v, m):
            return _bsm_price(is_call[m], S[m], K[m], T[m], r[m], q[m], v)

    else:
        g = black76_greeks(is_call, S, K, T, r, sigma)
        iv = implied_vol_black76(g.price, is_call, S, K, T, r)

        def reprice(v, m):
            return _b76_price(is_call[m], S[m], K[m], T[m], r[m], v)

    scale = S * np.exp(-q * T) + K * np.exp(-r * T)
    vega_unit = 100 * g.vega
    accurate = vega_unit >= NOISE_ULPS * EPS * scale / (0.5 * IV_TOL)
    assert accurate.sum() > n // 4
    assert np.max(np.abs(iv - sigma)[accurate]) <= IV_TOL
    assert np.all(np.isfinite(iv[vega_unit > 1e-6 * scale]))
    ok = np.isfinite(iv)
    resid = np.abs(reprice(iv[ok], ok) - g.price[ok])
    assert np.all(resid <= 8 * EPS * scale[ok])


def test_implied_vol_one_hour_to_expiry():
    S, T, r, q = 5000.0, ONE_HOUR, 0.05, 0.013
    K = np.array([4950.0, 4990.0, 5000.0, 5010.0, 5030.0])
    sigma = np.array([0.35, 0.18, 0.15, 0.14, 0.25])
    for is_call in (True, False):
        price = _bsm_price(is_call, S, K, T, r, q, sigma)
        np.testing.assert_allclose(
            implied_vol(price, is_call, S, K, T, r, q), sigma, rtol=0, atol=IV_TOL
        )


def test_implied_vol_extreme_vols():
    # Valid vols span at least 1e-4 .. 10.
    sigma = np.array([1e-4, 1e-3, 0.01, 0.5, 2.0, 5.0, 10.0])
    T = np.array([1.0, 1.0, 1.0, 1.0, 0.5, 0.05, 0.01])
    price = _bsm_price(True, 100.0, 100.0, T, 0.0, 0.0, sigma)
    iv = implied_vol(price, True, 100.0, 100.0, T, 0.0, 0.0)
    np.testing.assert_allclose(iv, sigma, rtol=0, atol=IV_TOL)


# --------------------------------------------------------------------------
# Implied vol: no volatility reproduces the price -> NaN
# --------------------------------------------------------------------------


def test_implied_vol_nan_outside_the_attainable_range():
    S, K, T, r, q = 100.0, 90.0, 0.5, 0.05, 0.02
    F = S * np.exp((r - q) * T)
    df = np.exp(-r * T)
    intrinsic = df * (F - K)  # call is in the money
    upper = S * np.exp(-q * T)
    prices = np.array(
        [
            intrinsic - 0.01,  # below intrinsic
            intrinsic,  # at intrinsic: only sigma = 0, not a volatility
            upper,  # at the upper bound: only sigma = infinity
            upper + 1.0,  # above it
            -1.0,
            np.nan,
            np.inf,
            intrinsic + 1.0,  # valid
        ]
    )
    iv = implied_vol(prices, True, S, K, T, r, q)
    assert np.all(np.isnan(iv[:-1]))
    assert np.isfinite(iv[-1])
    # A put has upper bound K e^{-rT} and zero intrinsic here.
    iv_put = implied_vol(np.array([0.0, K * df, K * df + 1, 0.5]), False, S, K, T, r, q)
    assert np.all(np.isnan(iv_put[:3])) and np.isfinite(iv_put[3])


def test_implied_vol_nan_for_bad_time_and_inputs_in_mixed_arrays():
    price = np.array([5.0, 5.0, 5.0, 5.0, 5.0, 5.0])
    T = np.array([0.5, 0.0, -0.1, np.nan, 0.5, 0.5])
    S = np.array([100.0, 100.0, 100.0, 100.0, -100.0, 100.0])
    K = np.array([100.0, 100.0, 100.0, 100.0, 100.0, 0.0])
    iv = implied_vol(price, True, S, K, T, 0.05, 0.0)
    assert np.isfinite(iv[0])
    assert np.all(np.isnan(iv[1:]))
    iv76 = implied_vol_black76(price, False, S, K, T, 0.05)
    assert np.isfinite(iv76[0]) and np.all(np.isnan(iv76[1:]))


def test_implied_vol_black76_put_and_call_agree():
    # Parity: a call and a put at the same strike have the same implied vol.
    F, K, T, r, sigma = 20.0, np.array([15.0, 20.0, 30.0]), 0.2, 0.04, np.array([0.9, 0.8, 1.1])
    c = _b76_price(True, F, K, T, r, sigma)
    p = _b76_price(False, F, K, T, r, sigma)
    np.testing.assert_allclose(implied_vol_black76(c, True, F, K, T, r), sigma, atol=IV_TOL)
    np.testing.assert_allclose(implied_vol_black76(p, False, F, K, T, r), sigma, atol=IV_TOL)


def test_implied_vol_keeps_shape():
    price = np.full((2, 3), 5.0)
    iv = implied_vol(price, np.array([True, False, True]), 100.0, 100.0, 0.5, 0.01, 0.0)
    assert iv.shape == (2, 3)
    assert np.ndim(implied_vol(5.0, True, 100.0, 100.0, 0.5, 0.01, 0.0)) == 0


def test_module_imports_only_numpy_and_scipy_special():
    code = (
        "import sys, alvh_cli.model.pricing; "
        "bad = [m for m in ('scipy.stats', 'scipy.optimize', 'pandas') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@given(
    st.booleans(),
    st.floats(0.5, 2.0),
    st.floats(0.0, 2.0),
    st.floats(0.0, 0.1),
    st.floats(0.0, 0.05),
    st.floats(0.0, 1.5),
)
def test_price_alone_equals_the_greeks_price(is_call, moneyness, t, r, q, sigma):
    from alvh_cli.model.pricing import black76_price, bsm_price

    g = bsm_greeks(is_call, 100.0, 100.0 * moneyness, t, r, q, sigma)
    assert float(bsm_price(is_call, 100.0, 100.0 * moneyness, t, r, q, sigma)) == float(g.price)
    g = black76_greeks(is_call, 100.0, 100.0 * moneyness, t, r, sigma)
    assert float(black76_price(is_call, 100.0, 100.0 * moneyness, t, r, sigma)) == float(g.price)


# --------------------------------------------------------------------------
# The two normal distributions: numpy's own and scipy.special's compiled loops
# --------------------------------------------------------------------------


@pytest.fixture
def normal_mode():
    """``pricing.use_normal``, put back to "auto" after the test."""
    from alvh_cli.model import pricing

    yield pricing.use_normal
    pricing.use_normal("auto")


def random_book(n: int, seed: int = 20240601):
    """The pricing benchmark's domain: spot 10..10,000, strike/spot 0.5..2, T one hour to
    two years, sigma 0.01..3 (log-uniform), r 0..8 %, q 0..5 %, half calls."""
    rng = np.random.default_rng(seed)
    S = rng.uniform(10.0, 10_000.0, n)
    return (
        rng.random(n) < 0.5,
        S,
        S * np.exp(rng.uniform(np.log(0.5), np.log(2.0), n)),
        np.exp(rng.uniform(np.log(ONE_HOUR), np.log(2.0), n)),
        rng.uniform(0.0, 0.08, n),
        rng.uniform(0.0, 0.05, n),
        np.exp(rng.uniform(np.log(0.01), np.log(3.0), n)),
    )


def test_the_compiled_normal_prices_as_numpys(normal_mode):
    # Both paths compute the same formula; only N(x) differs, by a few ulp of N(x) where
    # it is not tiny (tests/test_normal.py). A price is w (a - b) with a and b up to
    # S e^{-qT} and K e^{-rT}, so what the paths may differ by is a few ulp of that scale,
    # not of the price: where a and b cancel (out of the money, or a small sigma sqrt(T))
    # the price differs relatively by up to ~1e-8, and even an option worth a tenth of its
    # scale by 1.5e-15 (theta, whose terms cancel too, 5.5e-15); theta's scale is its
    # terms' (r + q + sigma^2) (S e^{-qT} + K e^{-rT}) / 365. Gamma and vega do not use
    # N(x): identical.
    args = random_book(20_000)
    _, S, K, T, r, q, sigma = args
    normal_mode("numpy")
    a = bsm_greeks(*args)
    normal_mode("compiled")
    b = bsm_greeks(*args)
    scale = S * np.exp(-q * T) + K * np.exp(-r * T)
    assert np.max(np.abs(a.price - b.price) / scale) <= 1e-15
    assert np.max(np.abs(a.delta - b.delta) / np.exp(-q * T)) <= 1e-15
    assert np.max(np.abs(a.rho - b.rho) / (0.01 * T * scale)) <= 1e-15
    theta_scale = (r + q + sigma * sigma) * scale / 365.0
    assert np.max(np.abs(a.theta - b.theta) / theta_scale) <= 2e-15
    assert np.array_equal(a.gamma, b.gamma) and np.array_equal(a.vega, b.vega)


def test_auto_takes_scipys_loops_only_when_loaded_or_large():
    # In a fresh process: a small array is priced without importing scipy; one of
    # COMPILED_FROM elements imports scipy.special and is priced by it; after that, a
    # small array is too (scipy.special is loaded).
    code = """
import sys
import numpy as np
from alvh_cli.model import pricing
calls = []
def pricing_by(n):
    pricing.bsm_greeks(True, 100.0, np.full(n, 100.0), 0.5, 0.01, 0.0, 0.2)
    special = sys.modules.get("scipy.special")
    return special is not None
assert not pricing_by(1_000), "small array: no scipy"
assert pricing_by(pricing.COMPILED_FROM), "large array: scipy.special loaded"
from scipy import special
real = special.ndtr
special.ndtr = lambda x: (calls.append(np.size(x)), real(x))[1]
pricing.bsm_greeks(True, 100.0, np.full(10, 100.0), 0.5, 0.01, 0.0, 0.2)
assert calls == [20], calls  # N(d1) and N(d2) of the ten, in one call
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pinned_normal_holds_one_mode_and_puts_the_old_one_back():
    # In a fresh process: without scipy.special loaded, a pinned block prices with numpy's
    # normal even for an array of COMPILED_FROM elements (auto would import scipy there);
    # pinned compiled imports it; "auto" comes back after each block; an explicit mode is
    # kept inside the block.
    code = """
import sys
import numpy as np
from alvh_cli.model import pricing
with pricing.pinned_normal() as mode:
    assert mode == "numpy" and pricing.normal_mode() == "numpy"
    pricing.bsm_price(True, 100.0, np.full(pricing.COMPILED_FROM, 100.0), 0.5, 0.01, 0.0, 0.2)
assert "scipy.special" not in sys.modules
assert pricing.normal_mode() == "auto"
with pricing.pinned_normal(compiled=True) as mode:
    assert mode == "compiled" and "scipy.special" in sys.modules
assert pricing.normal_mode() == "auto"
with pricing.pinned_normal() as mode:
    assert mode == "compiled"  # scipy.special is loaded by now
pricing.use_normal("numpy")
with pricing.pinned_normal(compiled=True) as mode:
    assert mode == "numpy"
assert pricing.normal_mode() == "numpy"
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_use_normal_refuses_an_unknown_mode():
    from alvh_cli.model.pricing import use_normal

    with pytest.raises(ValueError, match="mode must be one of auto, numpy, compiled"):
        use_normal("fast")
