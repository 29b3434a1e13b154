"""The Cboe VIX formula and the ATM vol at which the backtest's smile has a variance swap
equal to the VIX.

Expected values come from outside the code: a flat smile's variance swap is its own
variance (the log contract's replication, Demeterfi et al. 1999: for lognormal prices
(2/T)∫Q(K)/K² dK = σ²); the model smile's variance swap is integrated here by
``scipy.integrate.quad`` over its out-of-the-money prices, written out with scipy's
normal distribution, between the strikes where those prices stop falling (found by
``scipy.optimize.minimize_scalar``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize
from scipy.stats import norm

from alvh_cli.backtest.params import PARAMS, BacktestParams
from alvh_cli.model.domain import Smile
from alvh_cli.model.pricing import black76_price
from alvh_cli.model.variance_swap import atm_ratio, cboe_variance, smile_variance_swap

T30 = 30 / 365


@pytest.mark.parametrize(("step", "tol"), [(5.0, 2e-5), (25.0, 2e-4)])
def test_flat_smile_variance_swap_is_its_variance(step, tol):
    # F between listed strikes (K0 = 2915 < F): the correction term (F/K0 − 1)²/T counts
    F, T, r, sigma = 2918.3, T30, 0.02, 0.20
    K = np.arange(1500.0, 4000.0, step)
    calls = black76_price(True, F, K, T, r, sigma)
    puts = black76_price(False, F, K, T, r, sigma)
    assert cboe_variance(K, calls, puts, F, T, r) == pytest.approx(sigma**2, abs=tol)
    # the model smile's grid: exact to the grid's step
    assert smile_variance_swap(Smile(sigma)) == pytest.approx(sigma, abs=1e-5)


def test_cboe_variance_reads_only_the_out_of_the_money_side():
    # two strikes either side of K0 = 100 = F, ΔK = 1 throughout, T = 1, R = 0:
    # σ² = 2·(P(98)/98² + P(99)/99² + (C+P)(100)/2/100² + C(101)/101² + C(102)/102²)
    K = np.array([98.0, 99.0, 100.0, 101.0, 102.0])
    calls = np.array([99.0, 99.0, 1.0, 0.5, 0.25])  # in-the-money calls: not read
    puts = np.array([0.2, 0.4, 1.2, 99.0, 99.0])
    want = 2 * (0.2 / 98**2 + 0.4 / 99**2 + 1.1 / 100**2 + 0.5 / 101**2 + 0.25 / 102**2)
    assert cboe_variance(K, calls, puts, 100.0, 1.0) == pytest.approx(want, rel=1e-12)
    # F = 100.5: K0 = 100 still, less (0.5/100)² for the forward above it
    got = cboe_variance(K, calls, puts, 100.5, 1.0)
    assert got == pytest.approx(want - 0.005**2, rel=1e-12)


def _black(is_call: bool, k: float, vol: float, T: float) -> float:
    """Black-76 price per unit forward (F = 1, undiscounted) at log-moneyness k."""
    s = vol * math.sqrt(T)
    d1 = (-k + 0.5 * s * s) / s
    d2 = d1 - s
    K = math.exp(k)
    if is_call:
        return norm.cdf(d1) - K * norm.cdf(d2)
    return K * norm.cdf(-d2) - norm.cdf(-d1)


def _quad_variance_swap(atm: float, skew: float, curvature: float, T: float) -> float:
    """(2/T)·∫ Q(K)/K² dK over [K_put, K_call], F = 1, Q the out-of-the-money price of the
    smile ``atm + skew·k + curvature·k²``; K_put and K_call the strikes below and above F
    where that price stops falling away from the money (its minimum on each side)."""

    def vol(k):
        return max(atm + skew * k + curvature * k * k, 0.01)

    def put(k):
        return _black(False, k, vol(k), T)

    def call(k):
        return _black(True, k, vol(k), T)

    k_put = optimize.minimize_scalar(put, bounds=(-1.0, 0.0), method="bounded").x
    k_call = optimize.minimize_scalar(call, bounds=(0.0, 1.0), method="bounded").x
    # dK/K² = e^{−k} dk
    puts, _ = integrate.quad(lambda k: put(k) * math.exp(-k), k_put, 0.0, epsabs=1e-12)
    calls, _ = integrate.quad(lambda k: call(k) * math.exp(-k), 0.0, k_call, epsabs=1e-12)
    return math.sqrt(2.0 / T * (puts + calls))


def test_default_atm_ratio_makes_the_variance_swap_the_vix():
    p = BacktestParams()
    skew30 = p.spx_skew  # the slope at 30 days: skew_term·ln(30/30) = 0
    atm = p.atm_ratio * 16.0 / 100.0
    got = _quad_variance_swap(atm, skew30, p.spx_smile, T30)
    assert 100 * got == pytest.approx(16.0, abs=0.05)
    # the module's grid sum agrees with the integral
    smile = Smile(atm, p.spx_skew, p.spx_smile, p.spx_skew_term)
    assert smile_variance_swap(smile) == pytest.approx(got, abs=2e-4)


def test_the_default_is_the_fit_and_one_ratio_serves_every_level():
    p = BacktestParams()
    fit = atm_ratio(p.spx_skew, p.spx_smile, p.spx_skew_term, vix=16.0)
    assert round(fit, 2) == PARAMS["atm_ratio"].default == 0.88
    # the fit barely moves with the VIX level: the ratio, not a spread, is constant
    for vix in (10.0, 20.0, 40.0, 60.0):
        assert 0.86 < atm_ratio(p.spx_skew, p.spx_smile, p.spx_skew_term, vix=vix) < 0.90
    # the first build's steeper slope puts more of the VIX in the skew
    assert atm_ratio(-1.1, 2.5, 0.0) == pytest.approx(0.806, abs=0.002)


def test_atm_ratio_solves_for_a_smile_with_no_skew():
    # a flat smile's variance swap is its ATM vol: the ratio is 1 at any level
    assert atm_ratio(0.0, 0.0, vix=25.0) == pytest.approx(1.0, abs=1e-4)
