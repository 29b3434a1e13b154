"""Put-call parity forward and discount factor (alvh_cli.model.parity)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_cli.model import pricing
from alvh_cli.model.parity import ParityError, parity_forward


def quotes(strikes, calls, puts, half=0.05):
    """Arrays for parity_forward from call and put mids, each ± ``half``."""
    K = np.asarray(strikes, dtype=float)
    c, p = np.asarray(calls, dtype=float), np.asarray(puts, dtype=float)
    return K, c - half, c + half, p - half, p + half


def test_two_pairs_by_hand():
    # C − P = D·(F − K). At K = 100: 8.00 − 2.06 = 5.94; at K = 110: 2.50 − 6.46 = −3.96.
    # Slope (−3.96 − 5.94)/(110 − 100) = −0.99, so D = 0.99; intercept
    # D·F = 5.94 + 0.99·100 = 104.94, so F = 104.94/0.99 = 106.
    fit = parity_forward(*quotes([100, 110], [8.00, 2.50], [2.06, 6.46]))
    assert fit.discount == pytest.approx(0.99, abs=1e-12)
    assert fit.forward == pytest.approx(106.0, abs=1e-10)
    assert fit.strikes == (100.0, 110.0)
    assert fit.rms_residual == pytest.approx(0.0, abs=1e-12)
    # The implied rate over half a year: −ln(0.99)/0.5 = 0.0201007...
    assert fit.rate(0.5) == pytest.approx(0.020100671707002896, rel=1e-12)


def test_recovers_forward_and_discount_of_a_black76_chain():
    # Parity holds for any model: Black-76 prices at any vols have C − P = D·(F − K)
    # exactly, so the fit must give F and D back to rounding (1e-12 relative).
    F, D, T = 5874.9, 0.9941, 0.1425
    K = np.arange(5500.0, 6255.0, 5.0)
    vol = 0.16 - 0.5 * np.log(K / F)  # a steep skew changes nothing
    r = -math.log(D) / T
    c = pricing.black76_greeks(True, F, K, T, r, vol).price
    p = pricing.black76_greeks(False, F, K, T, r, vol).price
    fit = parity_forward(K, c * 0.99, c * 1.01, p * 0.99, p * 1.01)
    assert fit.forward == pytest.approx(F, rel=1e-12)
    assert fit.discount == pytest.approx(D, rel=1e-12)
    assert fit.n_pairs == 30
    # the 30 strikes nearest F = 5874.9: 5800 (74.9 away) .. 5945 (70.1); 5950 is 75.1 away
    assert fit.strikes[0] == 5800.0 and fit.strikes[-1] == 5945.0


def test_far_pairs_and_wide_spreads_are_left_out():
    # Exact parity at F = 100, D = 0.98 on strikes 90..110; a wrong quote far out
    # (K = 200) and a near-the-money pair whose call spread is wider than half
    # its mid (K = 101) would both move the line if they were used.
    K = np.arange(90.0, 111.0, 1.0)
    diff = 0.98 * (100.0 - K)
    c = np.maximum(diff, 0) + 2.0
    p = c - diff
    cb, ca, pb, pa = c - 0.02, c + 0.02, p - 0.02, p + 0.02
    i = int(np.flatnonzero(K == 101.0)[0])
    cb[i], ca[i] = c[i] - 3.0 + 5.0, c[i] + 3.0 + 5.0  # mid 5 too high, spread 6 > mid/2
    K = np.append(K, 200.0)
    cb, ca = np.append(cb, 40.0), np.append(ca, 40.1)
    pb, pa = np.append(pb, 1.0), np.append(pa, 1.1)
    fit = parity_forward(K, cb, ca, pb, pa, max_pairs=10)
    assert fit.forward == pytest.approx(100.0, abs=1e-9)
    assert fit.discount == pytest.approx(0.98, abs=1e-12)
    assert 101.0 not in fit.strikes and 200.0 not in fit.strikes


def test_one_sided_and_zero_bid_strikes_are_not_pairs():
    K = [100.0, 105.0, 110.0]
    nan = float("nan")
    with pytest.raises(ParityError) as err:
        parity_forward(K, [5.0, 0.0, 1.0], [5.2, 0.1, 1.2], [1.0, 3.0, nan], [1.2, 3.2, nan])
    assert str(err.value) == "1 strike(s) with a two-sided call and put; parity needs 2"


def test_a_rising_call_minus_put_is_refused():
    # C − P rising with K means a negative discount factor: the quotes are wrong.
    with pytest.raises(ParityError) as err:
        parity_forward(*quotes([100, 110], [2.0, 8.0], [2.0, 2.0]))
    assert str(err.value) == (
        "parity gives a discount factor of -0.6, outside 0.5..1.1: the call and put quotes disagree"
    )


@settings(max_examples=60, deadline=None)
@given(
    F=st.floats(50.0, 8000.0),
    rate=st.floats(-0.01, 0.08),
    T=st.floats(2 / 365, 2.0),
    vol=st.floats(0.05, 1.0),
    n=st.integers(2, 60),
)
def test_parity_recovers_any_forward_and_discount(F, rate, T, vol, n):
    # Invariant: whatever the forward, rate, expiry and vol, quotes symmetric around
    # Black-76 prices give F and D back (rounding only; 1e-8 relative).
    D = math.exp(-rate * T)
    K = F * np.linspace(0.9, 1.1, n)
    c = pricing.black76_greeks(True, F, K, T, rate, vol).price
    p = pricing.black76_greeks(False, F, K, T, rate, vol).price
    ok = (c > 1e-6 * F) & (p > 1e-6 * F)
    if ok.sum() < 2:
        return
    fit = parity_forward(K[ok], 0.9 * c[ok], 1.1 * c[ok], 0.9 * p[ok], 1.1 * p[ok])
    assert fit.forward == pytest.approx(F, rel=1e-8)
    assert fit.discount == pytest.approx(D, rel=1e-8)
