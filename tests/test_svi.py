"""Raw SVI: values, Durrleman's g, fitting, interpolation in time (alvh_cli.model.svi)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_cli.model import pricing
from alvh_cli.model.svi import (
    CalendarViolation,
    SviParams,
    calendar_violations,
    durrleman_g,
    fit_svi,
    interpolate_total_variance,
    interpolate_vol,
    svi_total_variance,
    svi_vol,
)

# Axel Vogt's slice, Gatheral & Jacquier (2014) Example 3.1: g(k) < 0 around k = 0.9.
VOGT = SviParams(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153)


def test_total_variance_and_vol_by_hand():
    p = SviParams(a=0.04, b=0.4, rho=-0.4, m=0.1, sigma=0.2)
    # k = m: w = a + b·σ = 0.04 + 0.4·0.2 = 0.12.
    assert svi_total_variance(p, 0.1) == pytest.approx(0.12, abs=1e-15)
    # k = 0.3: d = 0.2, sqrt(0.2² + 0.2²) = 0.28284271;
    # w = 0.04 + 0.4·(−0.4·0.2 + 0.28284271) = 0.04 + 0.4·0.20284271 = 0.12113708;
    # over T = 0.5, iv = sqrt(0.24227417) = 0.49221354.
    assert svi_total_variance(p, 0.3) == pytest.approx(0.121137085, abs=1e-9)
    assert svi_vol(p, 0.3, 0.5) == pytest.approx(0.492213541, abs=1e-9)
    # minimum total variance a + b·σ·sqrt(1 − ρ²) = 0.04 + 0.08·0.91651514 = 0.11332121
    assert p.min_total_variance == pytest.approx(0.113321211, abs=1e-9)
    # vectorised over k and T together
    got = svi_vol(p, np.array([0.1, 0.3]), np.array([[0.5], [1.0]]))
    assert got.shape == (2, 2)
    assert got[1, 0] == pytest.approx(math.sqrt(0.12), abs=1e-15)
    assert np.isnan(svi_vol(p, 0.0, 0.0))


def test_g_is_the_risk_neutral_density_factor():
    # Gatheral & Jacquier (2014), Lemma 2.2: the density of ln(S_T/F) at k is
    # g(k)/sqrt(2π·w)·exp(−d₋²/2), d₋ = −k/√w − √w/2. Independent check: the
    # density from Black prices by central second differences in strike
    # (Breeden-Litzenberger), p(k) = K·∂²C/∂K² with F = 1, T = 1, no discounting.
    for params in (SviParams(0.01, 0.2, -0.6, 0.05, 0.2), VOGT):
        k = np.linspace(-0.8, 1.2, 21)
        K, h = np.exp(k), 1e-4

        def call(strike, params=params):
            w = svi_total_variance(params, np.log(strike))
            return pricing.black76_greeks(True, 1.0, strike, 1.0, 0.0, np.sqrt(w)).price

        numeric = K * (call(K + h) - 2 * call(K) + call(K - h)) / (h * h)
        w = svi_total_variance(params, k)
        d2 = -k / np.sqrt(w) - np.sqrt(w) / 2
        formula = durrleman_g(params, k) / np.sqrt(2 * np.pi * w) * np.exp(-0.5 * d2 * d2)
        np.testing.assert_allclose(formula, numeric, atol=2e-6)


def test_g_finds_the_arbitrage_in_vogts_slice():
    k = np.linspace(-1.5, 1.5, 61)
    g = durrleman_g(VOGT, k)
    # negative between about k = 0.7 and 1.25 (Gatheral & Jacquier 2014, Figure 2)
    assert g[np.isclose(k, 0.9)][0] < -0.03
    assert (g[k < 0.6] > 0).all() and (g[k > 1.3] > 0).all()
    # no density where total variance is not positive
    assert durrleman_g(SviParams(-0.1, 0.1, 0.0, 0.0, 0.1), 0.0) == -np.inf


def test_fit_recovers_the_parameters_of_exact_vols():
    # Vols made from known parameters have zero residual at those parameters, where
    # Gauss-Newton converges quadratically: the fit stops within 1e-10 relative
    # steps of them, so 1e-7 absolute on each parameter is a tight test.
    truth = SviParams(a=0.0022, b=0.07, rho=-0.72, m=0.02, sigma=0.07)
    T = 0.1425
    k = np.linspace(-0.3, 0.15, 70)
    iv = svi_vol(truth, k, T)
    vega = pricing.black76_greeks(k > 0, 1.0, np.exp(k), T, 0.0, iv).vega
    for weights in (None, vega):
        fit = fit_svi(k, iv, T, weights=weights)
        for name in ("a", "b", "rho", "m", "sigma"):
            assert getattr(fit.params, name) == pytest.approx(getattr(truth, name), abs=1e-7)
        assert fit.rms_vol_points < 1e-8 and fit.max_error_vol_points < 1e-8
        assert fit.n_points == 70 and fit.T == T
        assert fit.butterfly_free and not fit.repaired and fit.converged
        assert (fit.k_min, fit.k_max) == (-0.3, 0.15)


def test_fit_reports_its_error_in_vol_points():
    # A constant 0.5 vol point added to half the strikes and taken from the others
    # cannot be fitted by a smooth smile: the RMS error is near 0.5 points.
    truth = SviParams(a=0.01, b=0.1, rho=-0.5, m=0.0, sigma=0.1)
    k = np.linspace(-0.4, 0.2, 60)
    wiggle = np.where(np.arange(60) % 2 == 0, 0.005, -0.005)
    fit = fit_svi(k, svi_vol(truth, k, 0.5) + wiggle, 0.5)
    assert 0.45 < fit.rms_vol_points <= 0.5 + 1e-9
    assert fit.max_error_vol_points >= fit.rms_vol_points


def test_an_arbitrage_smile_is_repaired():
    # Fitting Vogt's vols exactly would keep its butterfly arbitrage; the repaired
    # fit has g ≥ 0 over the fitted range at the cost of some error.
    k = np.linspace(-1.5, 1.5, 61)
    fit = fit_svi(k, svi_vol(VOGT, k, 1.0), 1.0)
    assert fit.repaired and fit.butterfly_free
    assert durrleman_g(fit.params, np.linspace(-1.5, 1.5, 1001)).min() >= 0
    assert 0 < fit.rms_vol_points < 1.5


def test_fit_needs_five_points_and_a_positive_T():
    with pytest.raises(ValueError, match="4 usable implied vols; raw SVI needs at least 5"):
        fit_svi([0.0, 0.1, 0.2, 0.3, np.nan], [0.2] * 5, 0.5)
    with pytest.raises(ValueError, match="T must be > 0 years, got 0"):
        fit_svi(np.linspace(0, 1, 9), [0.2] * 9, 0)


def ssvi_slice(theta: float, phi: float, rho: float) -> SviParams:
    """The raw SVI form of an SSVI slice (Gatheral & Jacquier 2014, section 4):
    a = θ(1 − ρ²)/2, b = θφ/2, m = −ρ/φ, σ = sqrt(1 − ρ²)/φ."""
    return SviParams(
        theta * (1 - rho * rho) / 2,
        theta * phi / 2,
        rho,
        -rho / phi,
        math.sqrt(1 - rho * rho) / phi,
    )


@settings(max_examples=40, deadline=None)
@given(
    T=st.floats(7 / 365, 1.5),
    atm=st.floats(0.08, 0.45),
    rho=st.floats(-0.95, 0.3),
    slope=st.floats(0.2, 0.95),
    noise=st.floats(0.0, 0.01),
    seed=st.integers(0, 2**32 - 1),
)
def test_fitted_smile_has_no_butterfly_arbitrage(T, atm, rho, slope, noise, seed):
    # Inputs free of butterfly arbitrage: an SSVI slice with θφ(1 + |ρ|) < 4 and
    # θφ²(1 + |ρ|) ≤ 4 (Gatheral & Jacquier 2014, Theorem 4.2); φ is set to
    # `slope` of the largest the two bounds allow. Market noise of up to ±`noise`
    # (1 vol point at most) is added. Whatever the fit does, the slice it returns
    # must have g(k) ≥ 0 on the strikes it was fitted to.
    theta = atm * atm * T
    one = 1 + abs(rho)
    phi = slope * min(4 / (theta * one), math.sqrt(4 / (theta * one)))
    params = ssvi_slice(theta, phi, rho)
    sd = math.sqrt(theta)
    k = np.linspace(-4 * sd, 2.5 * sd, 50)
    rng = np.random.default_rng(seed)
    iv = svi_vol(params, k, T) + rng.uniform(-noise, noise, k.size)
    vega = pricing.black76_greeks(k > 0, 1.0, np.exp(k), T, 0.0, iv).vega
    fit = fit_svi(k, iv, T, weights=vega)
    assert fit.butterfly_free
    assert durrleman_g(fit.params, k).min() >= 0


# ------------------------------------------------------------------- in time

S1 = SviParams(0.01, 0.1, -0.5, 0.0, 0.1)  # w(0) = 0.01 + 0.1·0.1 = 0.02
S2 = SviParams(0.04, 0.1, -0.5, 0.0, 0.1)  # w(0) = 0.05


def test_interpolation_is_linear_in_total_variance_at_fixed_k():
    times = [0.25, 0.5]
    # halfway in T: w = (0.02 + 0.05)/2 = 0.035; iv = sqrt(0.035/0.375) = 0.30550505
    assert interpolate_total_variance(times, [S1, S2], 0.0, 0.375) == pytest.approx(0.035)
    assert interpolate_vol(times, [S1, S2], 0.0, 0.375) == pytest.approx(0.305505046, abs=1e-9)
    # at a slice's own T: that slice, at every k
    k = np.linspace(-0.5, 0.5, 11)
    np.testing.assert_allclose(
        interpolate_total_variance(times, [S1, S2], k, 0.5), svi_total_variance(S2, k)
    )
    # a quarter of the way at k = 0.2: w1 = 0.01 + 0.1·(−0.5·0.2 + sqrt(0.05)) = 0.022360680,
    # w2 = w1 + 0.03 = 0.052360680; w = w1 + 0.25·0.03 = 0.029860680
    assert interpolate_total_variance(times, [S1, S2], 0.2, 0.3125) == pytest.approx(
        0.02986067977, abs=1e-10
    )


def test_extrapolation_holds_the_nearest_slices_vol_flat():
    times = [0.25, 0.5]
    # before the first slice: iv = sqrt(0.02/0.25) = 0.28284271 at any earlier T
    assert interpolate_vol(times, [S1, S2], 0.0, 0.125) == pytest.approx(math.sqrt(0.08))
    assert interpolate_vol(times, [S1, S2], 0.0, 1 / 365) == pytest.approx(math.sqrt(0.08))
    # after the last: iv = sqrt(0.05/0.5) = 0.31622777
    assert interpolate_vol(times, [S1, S2], 0.0, 2.0) == pytest.approx(math.sqrt(0.1))
    assert np.isnan(interpolate_vol(times, [S1, S2], 0.0, 0.0))
    # broadcasting: k along one axis, T along the other
    assert interpolate_vol(times, [S1, S2], np.zeros(3), np.array([[0.1], [0.3], [1.0]])).shape == (
        3,
        3,
    )


def test_interpolation_refuses_unsorted_or_mismatched_slices():
    with pytest.raises(ValueError, match="ascending"):
        interpolate_total_variance([0.5, 0.25], [S1, S2], 0.0, 0.3)
    with pytest.raises(ValueError, match="one SVI slice per time"):
        interpolate_total_variance([0.25], [S1, S2], 0.0, 0.3)


def test_calendar_violations_find_crossing_slices():
    k = np.linspace(-0.5, 0.5, 11)
    assert calendar_violations([0.25, 0.5], [S1, S2], k) == ()
    # the later slice with 0.03 less total variance everywhere
    (v,) = calendar_violations([0.25, 0.5], [S2, S1], k)
    assert isinstance(v, CalendarViolation)
    assert (v.earlier, v.later) == (0, 1)
    assert v.shortfall == pytest.approx(0.03)


def test_levenberg_marquardt_finds_rosenbrocks_minimum_from_several_starts():
    """Rosenbrock's function as least squares, r = (10·(u₂ − u₁²), 1 − u₁): its only
    minimum is u = (1, 1) with zero cost (Moré, Garbow & Hillstrom 1981, problem 1).
    Three starting points solved together, the classic (−1.2, 1) among them."""
    from alvh_cli.model.svi import _forward_differences, _levenberg_marquardt

    def residuals(u, rows):
        return np.stack([10.0 * (u[:, 1] - u[:, 0] ** 2), 1.0 - u[:, 0]], axis=1)

    def analytic(u, rows, need_jac):
        jac = np.zeros((u.shape[0], 2, 2))
        jac[:, 0, 0], jac[:, 0, 1], jac[:, 1, 0] = -20.0 * u[:, 0], 10.0, -1.0
        return residuals(u, rows), jac

    starts = np.array([[-1.2, 1.0], [2.0, -1.0], [0.5, 3.0]])
    for fun in (analytic, _forward_differences(residuals)):
        u, converged = _levenberg_marquardt(fun, starts)
        np.testing.assert_allclose(u, 1.0, atol=1e-6)
        assert converged.all()


def test_fitting_many_expiries_together_fits_each_as_alone():
    """fit_svi_many pads the expiries to one shape and solves them in one loop; each fit
    must be the fit of that expiry alone (the same error, to rounding)."""
    from alvh_cli.model.svi import fit_svi_many

    rng = np.random.default_rng(7)
    smiles = []
    # the three expiries of tests/chain_builders.py, with 0.2 vol points of noise
    for T, n, truth in (
        (0.066, 12, SviParams(0.0009, 0.045, -0.75, 0.012, 0.04)),
        (0.143, 40, SviParams(0.0022, 0.07, -0.72, 0.02, 0.07)),
        (0.314, 25, SviParams(0.0055, 0.11, -0.68, 0.03, 0.10)),
    ):
        k = np.linspace(-0.3, 0.15, n) * math.sqrt(T / 0.1)
        smiles.append((k, svi_vol(truth, k, T) + rng.normal(0, 0.002, n), T, None))
    together = fit_svi_many(smiles)
    for smile, fit in zip(smiles, together, strict=True):
        alone = fit_svi(*smile[:3])
        assert fit.rms_vol_points == pytest.approx(alone.rms_vol_points, rel=1e-6)
        assert fit.rms_vol_points < 0.25 and not fit.repaired
        assert fit.n_points == alone.n_points
