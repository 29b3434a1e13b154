"""The standard normal distribution and the error functions, with numpy alone.

What pricing needs from scipy.special, without loading it (``import
scipy.special`` costs more start-up than everything else ``alvh check`` does):

* :func:`ndtr` -- the standard normal distribution function N(x);
* :func:`ndtri` -- its inverse;
* :func:`erfc` and :func:`erfcx` -- erfc(x) and exp(x^2) erfc(x).

Each broadcasts like a numpy ufunc over float input and returns a float array
(0-d for a scalar), without warnings, and is accurate to a few units in the last
place of a double (tests/test_normal.py states the measured errors).

Sources:

* erfc, erfcx and ndtr: W. J. Cody, "Rational Chebyshev approximations for the
  error function", Math. Comp. 23 (1969) 631-638, as coded in his SPECFUN
  routine CALERF (Argonne, 1990; public domain): a rational function on each
  of |x| <= 0.46875 (erf), 0.46875 < |x| <= 4 and |x| > 4 (erfcx), with
  exp(-x^2) taken as exp(-xh^2) exp(-(x - xh)(x + xh)), xh = x rounded toward
  zero to a sixteenth, so the exponent carries no rounding error.
* ndtri: M. J. Wichura, "Algorithm AS 241: The percentage points of the normal
  distribution", Applied Statistics 37 (1988) 477-484, routine PPND16 (relative
  accuracy about 1e-16): a rational function on |p - 1/2| <= 0.425 and two in
  r = sqrt(-ln min(p, 1 - p)), split at r = 5.

Two evaluations, which give the same bits element by element. Up to
``_STACK_MAX`` elements every range is evaluated for every element, the
rational functions side by side in one Horner loop over a stacked array, and
np.where picks: few numpy calls, which is what a small array costs. Larger
arrays go in blocks of ``_BLOCK`` elements (they stay in cache), and within a
block each range is evaluated on its own elements only (np.flatnonzero): on
two million elements that measured 1.0 (ndtri) to 1.8 (ndtr) times the CPU
time of scipy.special's compiled loops. Within each
rational function the order of evaluation is the published one. A small
call costs mostly per call, not per element: pass all the values at once.
"""

from __future__ import annotations

import numpy as np

__all__ = ["erfc", "erfcx", "ndtr", "ndtri"]

_SQRT_HALF = 0.70710678118654752440084436210484903928
_SQRPI = 0.56418958354775628695  # 1 / sqrt(pi), Cody's SQRPI
_THRESH = 0.46875  # erf below, erfcx above (Cody)
_XBIG = 4.0  # the two erfcx ranges meet here (Cody)
_THRESH_NDTR = _THRESH / _SQRT_HALF  # Cody's first range in x = z sqrt 2
_STACK_MAX = 1024  # up to this many elements, all ranges side by side (see above)
_BLOCK = 32768  # elements per block above that: 256 kB per array
# exp(+-c x^2) for |x| beyond these is 0 or inf already; clipping keeps inf
# out of the split x = xh + (x - xh), where inf - inf would give NaN.
_CLIP = 40.0

# Cody (1969) / CALERF coefficients, lowest degree first, as published.
# erf(x) = x P(x^2) / Q(x^2) for |x| <= 0.46875.
_A = (
    3.16112374387056560e00,
    1.13864154151050156e02,
    3.77485237685302021e02,
    3.20937758913846947e03,
    1.85777706184603153e-1,
)
_B = (
    2.36012909523441209e01,
    2.44024637934444173e02,
    1.28261652607737228e03,
    2.84423683343917062e03,
)
# erfcx(x) = P(x) / Q(x) for 0.46875 < x <= 4.
_C = (
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
    2.15311535474403846e-8,
)
_D = (
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
)
# erfcx(x) = (1/sqrt(pi) - z P(z) / Q(z)) / x, z = 1/x^2, for x > 4.
_P = (
    3.05326634961232344e-1,
    3.60344899949804439e-1,
    1.25781726111229246e-1,
    1.60837851487422766e-2,
    6.58749161529837803e-4,
    1.63153871373020978e-2,
)
_Q = (
    2.56852019228982242e00,
    1.87295284992346047e00,
    5.27905102951428412e-1,
    6.05183413124413191e-2,
    2.33520497626869185e-3,
)

# Wichura (1988) / PPND16 coefficients, lowest degree first, as published.
# Transcription check: the paper's hash sums, the sums of the coefficients'
# mantissas (d.ddd in d.ddd x 10^k, the denominators' constant 1 left out), are
# 55.8831928806149014439 for A and B, 49.33206503301610289036 for C and D and
# 47.52583317549289671629 for E and F (tests/test_normal.py recomputes them).
_SPLIT1 = 0.425
_SPLIT2 = 5.0
_CONST1 = 0.180625  # 0.425^2
_CONST2 = 1.6
_PA = (
    3.3871328727963666080e0,
    1.3314166789178437745e2,
    1.9715909503065514427e3,
    1.3731693765509461125e4,
    4.5921953931549871457e4,
    6.7265770927008700853e4,
    3.3430575583588128105e4,
    2.5090809287301226727e3,
)
_PB = (
    1.0,
    4.2313330701600911252e1,
    6.8718700749205790830e2,
    5.3941960214247511077e3,
    2.1213794301586595867e4,
    3.9307895800092710610e4,
    2.8729085735721942674e4,
    5.2264952788528545610e3,
)
_PC = (
    1.42343711074968357734e0,
    4.63033784615654529590e0,
    5.76949722146069140550e0,
    3.64784832476320460504e0,
    1.27045825245236838258e0,
    2.41780725177450611770e-1,
    2.27238449892691845833e-2,
    7.74545014278341407640e-4,
)
_PD = (
    1.0,
    2.05319162663775882187e0,
    1.67638483018380384940e0,
    6.89767334985100004550e-1,
    1.48103976427480074590e-1,
    1.51986665636164571966e-2,
    5.47593808499534494600e-4,
    1.05075007164441684324e-9,
)
_PE = (
    6.65790464350110377720e0,
    5.46378491116411436990e0,
    1.78482653991729133580e0,
    2.96560571828504891230e-1,
    2.65321895265761230930e-2,
    1.24266094738807843860e-3,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
)
_PF = (
    1.0,
    5.99832206555887937690e-1,
    1.36929880922735805310e-1,
    1.48753612908506148525e-2,
    7.86869131145613259100e-4,
    1.84631831751005468180e-5,
    1.42151175831644588870e-7,
    2.04426310338993978564e-15,
)


def _pairs_cody(num, den, steps: int = 9):
    """CALERF's rational function as Horner steps on (numerator, denominator).

    CALERF computes xnum = top z, xden = z, then xnum = (xnum + num[i]) z and
    xden = (xden + den[i]) z, and finally adds num[n-1] and den[n-1]. Leading
    (0, 0) steps pad a shorter function to ``steps`` without changing a bit.
    """
    n = len(den)
    seq = [(num[n], 1.0), *zip(num[:n], den, strict=True)]
    return [(0.0, 0.0)] * (steps - len(seq)) + seq


def _pairs_as241(num, den):
    """PPND16's rational function as Horner steps, highest degree first."""
    return list(zip(num, den, strict=True))[::-1]


# Horner steps, shape (step, 6, 1): rows 2k and 2k + 1 are the numerator and
# denominator of range k, the last axis is repeated over the elements.
_CODY = np.array(
    [
        [*num_den]
        for step in zip(_pairs_cody(_A, _B), _pairs_cody(_C, _D), _pairs_cody(_P, _Q), strict=True)
        for num_den in step
    ]
).reshape(9, 6, 1)
_AS241 = np.array(
    [
        [*num_den]
        for step in zip(
            _pairs_as241(_PA, _PB), _pairs_as241(_PC, _PD), _pairs_as241(_PE, _PF), strict=True
        )
        for num_den in step
    ]
).reshape(8, 6, 1)


def erfc(x):
    """Complementary error function erfc(x) = 1 - erf(x), in [0, 2].

    Cody (1969), CALERF with JINT = 1. erfc(-inf) = 2, erfc(inf) = 0; NaN
    propagates. Underflows to 0 beyond x = 27.3.
    """
    return _evaluate(x, _erfc_stacked, _erfc_split)


def erfcx(x):
    """Scaled complementary error function exp(x^2) erfc(x).

    Cody (1969), CALERF with JINT = 2. About 1/(x sqrt(pi)) for large x, so
    it keeps full relative accuracy where erfc(x) underflows; overflows to inf
    below x = -26.63. erfcx(-inf) = inf, erfcx(inf) = 0; NaN propagates.
    """
    return _evaluate(x, _erfcx_stacked, _erfcx_split)


def ndtr(x):
    """Standard normal distribution function N(x) = erfc(-x / sqrt(2)) / 2.

    Cody (1969) with exp(-x^2 / 2) split on x itself, so the rounding of
    x / sqrt(2) shifts only the slowly varying rational factor and N(x) keeps
    full relative accuracy deep into the lower tail, down to x = -37.5 where
    N(x) reaches the smallest normal double (scipy.special.ndtr, which rounds
    x / sqrt(2) inside the exponential, loses about x^2 units in the last
    place there). N(-inf) = 0, N(inf) = 1; NaN propagates.
    """
    return _evaluate(x, _ndtr_stacked, _ndtr_split)


def ndtri(p):
    """Inverse of the standard normal distribution function: N(ndtri(p)) = p.

    Wichura (1988), AS 241 PPND16. ndtri(0) = -inf, ndtri(1) = inf; NaN for p
    outside [0, 1] and for NaN. Near 1 the input itself carries only absolute
    precision (1 - p is rounded), as for any quantile function of p.
    """
    return _evaluate(p, _ndtri_stacked, _ndtri_split)


def _evaluate(x, stacked, split):
    """stacked(x) for a small array, split(x) block by block for a large one."""
    x = np.asarray(x, dtype=float)
    flat = x.ravel()
    with np.errstate(all="ignore"):
        if flat.size <= _STACK_MAX:
            out = stacked(flat)
        else:
            out = np.empty(flat.shape)
            for start in range(0, flat.size, _BLOCK):
                out[start : start + _BLOCK] = split(flat[start : start + _BLOCK])
    return out.reshape(x.shape)


# ---- every range for every element (small arrays), 1-d in and out


def _erfc_stacked(x):
    y = np.abs(x)
    erf_near, scaled = _calerf(x, y)
    t = _exp_sq(y, -1.0) * scaled  # erfc(|x|)
    return np.where(y <= _THRESH, 1.0 - erf_near, np.where(x < 0, 2.0 - t, t))


def _erfcx_stacked(x):
    y = np.abs(x)
    erf_near, scaled = _calerf(x, y)
    near = np.exp(x * x) * (1.0 - erf_near)
    away = np.where(
        x < 0, 2.0 * _exp_sq(y, 1.0) - scaled, scaled
    )  # erfcx(-y) = 2e^{y^2} - erfcx(y)
    return np.where(y <= _THRESH, near, away)


def _ndtr_stacked(x):
    y = np.abs(x)
    erf_near, scaled = _calerf(x * _SQRT_HALF, y * _SQRT_HALF)
    t = 0.5 * _exp_sq(y, -0.5) * scaled  # N(-|x|)
    return np.where(y <= _THRESH_NDTR, 0.5 + 0.5 * erf_near, np.where(x < 0, t, 1.0 - t))


def _calerf(z, y):
    """CALERF's three ranges for every element of ``z``; ``y`` = |z|.

    Returns erf(z) (right where |z| <= 0.46875) and erfcx(|z|) (right where
    |z| > 0.46875).
    """
    w = 1.0 / (y * y)
    near, middle, far = _rational(_CODY, np.array((z * z, y, w)))
    return z * near, np.where(y <= _XBIG, middle, (_SQRPI - w * far) / y)


def _ndtri_stacked(p):
    q = p - 0.5
    lower = p < 0.5
    s = np.sqrt(-np.log(np.where(lower, p, 1.0 - p)))
    central, near, far = _rational(_AS241, np.array((_CONST1 - q * q, s - _CONST2, s - _SPLIT2)))
    tail = np.where(s <= _SPLIT2, near, far)
    tail = np.where(np.isinf(s), np.inf, tail)  # p = 0 or 1: inf / inf above
    return np.where(np.abs(q) <= _SPLIT1, q * central, np.where(lower, -tail, tail))


def _rational(steps, args):
    """Rational functions side by side: row k of ``args`` goes to range k.

    Horner's rule on numerators and denominators together, each step adding
    the step's coefficients and multiplying by the argument, on full-size
    arrays (numpy broadcasts a (6, 1) column slower than it adds two arrays).
    """
    z = np.repeat(args, 2, axis=0)
    coef = np.repeat(steps, z.shape[1], axis=2)
    acc = coef[0] * z
    for step in coef[1:-1]:
        acc += step
        acc *= z
    acc += coef[-1]
    return acc[0::2] / acc[1::2]


# ---- each range on its own elements (one block of a large array), 1-d


def _erfc_split(x):
    return _split(np.abs(x) <= _THRESH, x, _erfc_near_zero, _erfc_away)


def _erfcx_split(x):
    return _split(np.abs(x) <= _THRESH, x, _erfcx_near_zero, _erfcx_away)


def _ndtr_split(x):
    return _split(np.abs(x) <= _THRESH_NDTR, x, _ndtr_near_zero, _ndtr_away)


def _ndtri_split(p):
    return _split(np.abs(p - 0.5) <= _SPLIT1, p, _ndtri_central, _ndtri_tail)


def _split(inner, x, f_inner, f_outer):
    """f_inner(x) where ``inner``, else f_outer(x), each on its own elements."""
    if inner.all():
        return f_inner(x)
    if not inner.any():
        return f_outer(x)
    out = np.empty(x.shape)
    i = np.flatnonzero(inner)
    out[i] = f_inner(x[i])
    i = np.flatnonzero(~inner)
    out[i] = f_outer(x[i])
    return out


def _erf_near_zero(x):
    """erf(x) for |x| <= 0.46875: x P(x^2) / Q(x^2)."""
    return x * _cody_ratio(_A, _B, x * x)


def _erfc_near_zero(x):
    return 1.0 - _erf_near_zero(x)


def _erfcx_near_zero(x):
    return np.exp(x * x) * (1.0 - _erf_near_zero(x))


def _ndtr_near_zero(x):
    """N(x) for |x| / sqrt 2 <= 0.46875."""
    return 0.5 + 0.5 * _erf_near_zero(x * _SQRT_HALF)


def _erfc_away(x):
    """erfc(x) for |x| > 0.46875: exp(-x^2) erfcx(|x|), reflected for x < 0."""
    y = np.abs(x)
    t = _exp_sq(y, -1.0) * _erfcx_above(y)
    return np.where(x < 0, 2.0 - t, t)


def _erfcx_away(x):
    """erfcx(x) for |x| > 0.46875; erfcx(-y) = 2 exp(y^2) - erfcx(y)."""
    y = np.abs(x)
    t = _erfcx_above(y)
    negative = x < 0
    if negative.any():
        t = np.where(negative, 2.0 * _exp_sq(y, 1.0) - t, t)
    return t


def _ndtr_away(x):
    """N(x) for |x| / sqrt 2 > 0.46875: N(-|x|) = exp(-x^2 / 2) erfcx(|x| / sqrt 2) / 2."""
    y = np.abs(x)
    t = 0.5 * _exp_sq(y, -0.5) * _erfcx_above(y * _SQRT_HALF)
    return np.where(x < 0, t, 1.0 - t)


def _erfcx_above(y):
    """erfcx(y) for y > 0.46875 (Cody's second and third ranges)."""
    return _split(y <= _XBIG, y, _erfcx_middle, _erfcx_far)


def _erfcx_middle(y):
    return _cody_ratio(_C, _D, y)


def _erfcx_far(y):
    w = 1.0 / (y * y)
    return (_SQRPI - w * _cody_ratio(_P, _Q, w)) / y


def _cody_ratio(num, den, z):
    """CALERF's rational function, in its own order of evaluation.

    xnum = top z, xden = z, then xnum = (xnum + num[i]) z and xden = (xden +
    den[i]) z, and finally num[n-1] and den[n-1] added: ``num`` has one
    coefficient more than ``den`` (the top one, last), the denominator is monic.
    """
    n = len(den)
    xnum = num[n] * z
    xden = z.copy()
    for i in range(n - 1):
        xnum += num[i]
        xnum *= z
        xden += den[i]
        xden *= z
    xnum += num[n - 1]
    xden += den[n - 1]
    xnum /= xden
    return xnum


def _ndtri_central(p):
    """AS 241 for |p - 1/2| <= 0.425: q A(r) / B(r), r = 0.425^2 - q^2."""
    q = p - 0.5
    r = _CONST1 - q * q
    return q * (_poly(_PA, r) / _poly(_PB, r))


def _ndtri_tail(p):
    """AS 241 for |p - 1/2| > 0.425, in s = sqrt(-ln min(p, 1 - p))."""
    lower = p < 0.5
    s = np.sqrt(-np.log(np.where(lower, p, 1.0 - p)))
    z = _split(s <= _SPLIT2, s, _ndtri_near, _ndtri_far)
    z = np.where(np.isinf(s), np.inf, z)  # p = 0 or 1: inf / inf above
    return np.where(lower, -z, z)


def _ndtri_near(s):
    r = s - _CONST2
    return _poly(_PC, r) / _poly(_PD, r)


def _ndtri_far(s):
    r = s - _SPLIT2
    return _poly(_PE, r) / _poly(_PF, r)


def _poly(coef, x):
    """Polynomial with coefficients lowest degree first, by Horner's rule."""
    out = coef[-1] * x + coef[-2]
    for c in coef[-3::-1]:
        out *= x
        out += c
    return out


# ---- shared


def _exp_sq(y, c: float):
    """exp(c y^2) for y >= 0 and c in {-1, -1/2, 1}, without the rounding of y^2.

    With yh = y rounded down to a multiple of 1/16, c yh^2 and y - yh are
    exact, so c y^2 = c yh^2 + c (y - yh)(y + yh) is split without error in
    its large part (Cody's device in CALERF). y is capped where the result is
    0 or inf already, which keeps inf - inf out of the split.
    """
    y = np.minimum(y, _CLIP)
    yh = np.floor(16.0 * y) / 16.0
    return np.exp(c * (yh * yh)) * np.exp(c * ((y - yh) * (y + yh)))
