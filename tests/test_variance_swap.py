"""The Cboe VIX formula and the ATM vol at which the backtest's smile has a variance swap
equal to the VIX.

Expected values come from outside the code: a flat smile's variance swap is its own
variance (the log contract's replication, Demeterfi et al. 1999: for lognormal prices
(2/T)∫Q(K)/K² dK = σ²), and a five-strike sum worked by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

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


def test_atm_ratio_solves_for_a_smile_with_no_skew():
    # a flat smile's variance swap is its ATM vol: the ratio is 1 at any level
    assert atm_ratio(0.0, 0.0, vix=25.0) == pytest.approx(1.0, abs=1e-4)
