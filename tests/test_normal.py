"""Tests for alvh_cli.model.normal: the normal distribution without scipy.

Two kinds of truth:

* values computed with mpmath at 50-80 significant digits (the tables below,
  printed to 20 digits; N(x) = mpmath.ncdf, erfc = mpmath.erfc, erfcx as
  exp(x^2) erfc(x) at 80 digits, the quantile by 200 bisections of
  mpmath.ncdf(x) = p on [-40, 10]), each at the exact double shown;
* scipy.special over dense grids. scipy.special.ndtr and erfc round x / sqrt(2)
  (or x^2) before the exponential, so in the tails their own relative error
  grows like x^2 units in the last place (measured against mpmath: at most
  1.3 eps (1 + x^2) for ndtr and 2.1 eps (1 + 2 x^2) for erfc and for erfcx at
  x < 0); the grids allow for that and no more.

Measured maxima of the relative error against mpmath, over about 7,000
points per function (x in [-38, 38] for ndtr, [-26.6, 27] for erfc,
[-26.6, 1e6] for erfcx, p from 1e-300 to 1 - 1e-15 for ndtri):
ndtr 3.4 eps (7.5e-16), erfc 2.5 eps, erfcx 2.6 eps, ndtri 7.1e-16.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import special

from alvh_cli.model import normal
from alvh_cli.model.normal import erfc, erfcx, ndtr, ndtri

EPS = np.finfo(float).eps
TINY = np.finfo(float).tiny
ULPS = 4.0  # allowed error in units of eps, above the measured 3.4


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    """The functions must stay silent: no RuntimeWarning from numpy."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --------------------------------------------------------------------------
# Against mpmath (see the module docstring for how the values were made)
# --------------------------------------------------------------------------

NDTR = [
    (-37.5, 4.6053530095819548438e-308),
    (-30.0, 4.9067139271481870595e-198),
    (-20.0, 2.7536241186062336951e-89),
    (-10.0, 7.619853024160526066e-24),
    (-5.0, 2.8665157187919391167e-7),
    (-2.0, 2.27501319481792072e-2),
    (-1.0, 1.5865525393145705141e-1),
    (-0.5, 3.0853753872598689636e-1),
    (-1e-10, 4.9999999996010577196e-1),
    (0.3, 6.1791142218895263307e-1),
    (1.0, 8.4134474606854294859e-1),
    (3.0, 9.9865010196836990547e-1),
    (8.0, 9.999999999999993779e-1),
]
ERFC = [
    (-5.0, 1.9999999999984625402),
    (-0.5, 1.5204998778130465377),
    (1e-10, 9.9999999988716208329e-1),
    (0.2, 7.7729741078952153382e-1),
    (0.5, 4.7950012218695346232e-1),
    (1.0, 1.5729920705028513066e-1),
    (3.0, 2.2090496998585441373e-5),
    (4.5, 1.9661604415428874763e-10),
    (10.0, 2.088487583762544757e-45),
    (26.0, 5.6631924088561428465e-296),
]
ERFCX = [
    (-26.0, 7.6577249314905683515e293),
    (-10.0, 5.3762342836322708968e43),
    (-1.0, 5.0089800807622834663),
    (-0.2, 1.2726020284831957299),
    (0.1, 8.9645697996912663666e-1),
    (1.0, 4.2758357615580700441e-1),
    (4.0, 1.3699945762506138989e-1),
    (5.0, 1.1070463773306862637e-1),
    (30.0, 1.8795888861416751497e-2),
    (1000.0, 5.641893014533876542e-4),
    (1e6, 5.6418958354747419216e-7),
]
NDTRI = [
    (5e-324, -3.8467405617144346251e1),  # the smallest subnormal double
    (1e-300, -3.7047096299361199237e1),
    (1e-100, -2.1273453560965324294e1),
    (1e-20, -9.2623400897984075796),
    (1e-5, -4.2648907939228246102),
    (0.02, -2.0537489106318230443),
    (0.075, -1.4395314709384559349),  # AS 241's split |p - 1/2| = 0.425
    (0.3, -5.2440051270804081597e-1),
    (0.7, 5.2440051270804065631e-1),
    (0.975, 1.9599639845400538556),
    (0.99999, 4.2648907939238407699),
]


@pytest.mark.parametrize(
    ("f", "table"),
    [(ndtr, NDTR), (erfc, ERFC), (erfcx, ERFCX), (ndtri, NDTRI)],
    ids=["ndtr", "erfc", "erfcx", "ndtri"],
)
def test_matches_high_precision_values(f, table):
    x, want = np.array(table).T
    got = f(x)
    np.testing.assert_allclose(got, want, rtol=ULPS * EPS, atol=0)
    for xi, wi in table:  # one at a time: the same numbers as in an array
        assert abs(float(f(xi)) - wi) <= ULPS * EPS * abs(wi)


def test_ndtr_subnormal_tail():
    # N(-38) = 2.8854283600687843084e-316 (mpmath): below the smallest normal
    # double, so only absolute accuracy of a few subnormal steps (4.9e-324)
    # is possible. scipy.special.ndtr returns 0 here.
    assert abs(float(ndtr(-38.0)) - 2.8854283600687843084e-316) <= 1e-321
    assert ndtr(-39.0) == 0.0  # N(-39) = 1.3e-333, below every double


# --------------------------------------------------------------------------
# Against scipy.special over dense grids
# --------------------------------------------------------------------------


def _rel(got, want):
    return np.abs(got - want) / np.abs(want)


def test_ndtr_matches_scipy_on_a_dense_grid():
    rng = np.random.default_rng(1)
    x = np.concatenate([np.linspace(-38.0, 38.0, 40_001), rng.uniform(-38.0, 10.0, 20_000)])
    want = special.ndtr(x)
    ok = want >= TINY
    rel = _rel(ndtr(x)[ok], want[ok])
    assert np.all(rel <= ULPS * EPS * (1.0 + x[ok] ** 2))
    # Near zero neither side has a tail to lose accuracy in.
    near = np.abs(x[ok]) <= 1.0
    assert rel[near].max() <= 1e-15


def test_erfc_matches_scipy_on_a_dense_grid():
    rng = np.random.default_rng(2)
    x = np.concatenate([np.linspace(-6.0, 27.0, 40_001), rng.uniform(-3.0, 27.0, 20_000)])
    want = special.erfc(x)
    ok = want >= TINY
    rel = _rel(erfc(x)[ok], want[ok])
    assert np.all(rel <= ULPS * EPS * (1.0 + 2.0 * x[ok] ** 2))
    assert rel[np.abs(x[ok]) <= 0.5].max() <= 1e-15


def test_erfcx_matches_scipy_up_to_a_million():
    rng = np.random.default_rng(3)
    x = np.concatenate(
        [
            np.linspace(-26.6, 30.0, 40_001),
            np.geomspace(30.0, 1e6, 10_001),
            rng.uniform(-5.0, 5.0, 20_000),
            [1e10, 1e100, 1e300],
        ]
    )
    rel = _rel(erfcx(x), special.erfcx(x))
    scale = 2.0 * np.minimum(x, 0.0) ** 2
    assert np.all(rel <= ULPS * EPS * (1.0 + scale))
    assert rel[x >= 0].max() <= 1e-15


def test_ndtri_matches_scipy_from_1e_300_to_near_1():
    rng = np.random.default_rng(4)
    p = np.concatenate(
        [
            np.geomspace(1e-300, 0.5, 20_001),
            rng.uniform(0.0, 1.0, 20_000),
            1.0 - np.geomspace(1e-15, 0.5, 5_001),
            [np.nextafter(0.5, 0.0), np.nextafter(0.5, 1.0), 0.075, 0.925],
        ]
    )
    got, want = ndtri(p), special.ndtri(p)
    assert np.all(np.abs(got - want) <= 1e-15 * np.abs(want))


# --------------------------------------------------------------------------
# Special values, shapes, silence
# --------------------------------------------------------------------------


def test_special_values():
    inf, nan = np.inf, np.nan
    np.testing.assert_array_equal(ndtr([-inf, 0.0, -0.0, inf, nan]), [0.0, 0.5, 0.5, 1.0, nan])
    np.testing.assert_array_equal(erfc([-inf, 0.0, inf, nan]), [2.0, 1.0, 0.0, nan])
    np.testing.assert_array_equal(erfcx([-inf, -27.0, 0.0, inf, nan]), [inf, inf, 1.0, 0.0, nan])
    np.testing.assert_array_equal(
        ndtri([0.0, 0.5, 1.0, -0.1, 1.1, -inf, inf, nan]),
        [-inf, 0.0, inf, nan, nan, nan, nan, nan],
    )


def test_large_arguments_take_the_asymptote():
    # erfcx(x) -> 1 / (x sqrt(pi)) (1 - 1/(2x^2) + ...): beyond x = 6.7e7 the
    # correction is below half an ulp.
    x = np.array([1e8, 1e20, 1e300])
    np.testing.assert_allclose(erfcx(x), 1.0 / (x * np.sqrt(np.pi)), rtol=EPS)
    assert erfc(27.3) == 0.0 and erfc(-27.3) == 2.0


def test_range_boundaries_are_continuous():
    # Cody's ranges meet at |x| = 0.46875 and 4, AS 241's at |p - 1/2| = 0.425
    # and r = 5; on either side of each the value agrees with scipy to 2 ulp.
    for x0 in (0.46875, 4.0):
        for f in (erfc, erfcx):
            for sign in (-1.0, 1.0):
                x = sign * np.array([np.nextafter(x0, 0.0), x0, np.nextafter(x0, 9.0)])
                np.testing.assert_allclose(f(x), getattr(special, f.__name__)(x), rtol=2 * EPS)
    x = 0.46875 / normal._SQRT_HALF * np.array([-1.0, 1.0])
    x = np.concatenate([np.nextafter(x, 0.0), x, np.nextafter(x, 9.0 * x)])
    np.testing.assert_allclose(ndtr(x), special.ndtr(x), rtol=2 * EPS)
    p = np.array([0.075, 0.925, np.exp(-25.0)])
    p = np.concatenate([np.nextafter(p, 0.0), p, np.nextafter(p, 1.0)])
    np.testing.assert_allclose(ndtri(p), special.ndtri(p), rtol=4 * EPS)


@pytest.mark.parametrize("f", [ndtr, erfc, erfcx, ndtri])
def test_shapes_like_a_ufunc(f):
    x = np.linspace(0.01, 0.99, 6).reshape(2, 3)
    assert f(x).shape == (2, 3)
    assert f(x.T).shape == (3, 2)  # not contiguous
    np.testing.assert_array_equal(f(x.T), f(x).T)
    assert np.ndim(f(0.3)) == 0
    assert f(np.empty(0)).shape == (0,)
    assert f([0.2, 0.4]).dtype == np.float64
    # each element is computed alone: an array gives what single calls give
    assert [float(f(v)) for v in x.ravel()] == f(x).ravel().tolist()


@pytest.mark.parametrize("f", [ndtr, erfc, erfcx, ndtri])
def test_small_and_large_arrays_give_the_same_bits(f):
    # Up to normal._STACK_MAX elements every range is evaluated for every
    # element; larger arrays go block by block (normal._BLOCK), each range on
    # its own elements. Both must give the same numbers, bit for bit.
    rng = np.random.default_rng(6)
    n = normal._BLOCK + 7_000
    if f is ndtri:
        x = np.concatenate([rng.uniform(0.0, 1.0, n // 2), np.geomspace(5e-324, 1.0, n // 2)])
        x = np.concatenate([x, [0.0, 1.0, -1.0, 2.0, np.nan]])
    else:
        x = np.concatenate([rng.normal(0.0, 3.0, n // 2), rng.uniform(-40.0, 40.0, n // 2)])
        x = np.concatenate([x, [0.0, np.inf, -np.inf, np.nan, 4.0, -0.46875]])
    rng.shuffle(x)
    assert x.size > normal._BLOCK > normal._STACK_MAX
    small = np.concatenate([f(part) for part in np.array_split(x, x.size // 500)])
    np.testing.assert_array_equal(f(x), small)


def test_pricing_and_normal_import_no_scipy():
    code = (
        "import sys, alvh_cli.model.pricing, alvh_cli.model.normal; "
        "bad = [m for m in sys.modules if m == 'scipy' or m.startswith('scipy.')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_as241_coefficients_match_the_papers_hash_sums():
    # Wichura (1988) prints, to check a transcription, the sum of the
    # mantissas (d.ddd... of d.ddd... x 10^k) of each pair of polynomials,
    # the denominators' constant 1 left out.
    def mantissa_sum(*polys):
        return sum(c / 10.0 ** np.floor(np.log10(c)) for p in polys for c in p if c != 1.0)

    assert mantissa_sum(normal._PA, normal._PB) == pytest.approx(55.8831928806149014439, rel=1e-14)
    assert mantissa_sum(normal._PC, normal._PD) == pytest.approx(49.33206503301610289036, rel=1e-14)
    assert mantissa_sum(normal._PE, normal._PF) == pytest.approx(47.52583317549289671629, rel=1e-14)


# --------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------


def _phi(x):
    return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


@settings(max_examples=400, deadline=None)
@given(st.floats(-37.0, 8.0, allow_nan=False))
def test_ndtri_inverts_ndtr(x):
    # ndtri(N(x)) = x up to the conditioning: a relative error e in p = N(x)
    # moves the quantile by e N(x) / phi(x) (large for x > 0, where p rounds
    # towards 1), and ndtri's own error is relative to |x|.
    p = float(ndtr(x))
    assume(0.0 < p < 1.0)
    tol = 8.0 * EPS * (abs(x) + p / _phi(x)) + 1e-300
    assert abs(float(ndtri(p)) - x) <= tol


@settings(max_examples=400, deadline=None)
@given(st.floats(1e-300, 0.5, allow_nan=False))
def test_ndtr_inverts_ndtri(p):
    # N(ndtri(p)) = p: ndtri's relative error e|x| in x moves p by
    # phi(x) e |x|, i.e. relatively by about e x^2 in the lower tail.
    x = float(ndtri(p))
    tol = 8.0 * EPS * (1.0 + x * x) * p
    assert abs(float(ndtr(x)) - p) <= tol
