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

All ranges are evaluated for every element, their rational functions side by
side in one Horner loop over a stacked array, and the right one is picked with
np.where: pricing passes arrays of a few to a few hundred elements, where the
number of numpy calls, not the arithmetic, sets the cost. The order of
evaluation within each rational function is the published one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["erfc", "erfcx", "ndtr", "ndtri"]

_SQRT_HALF = 0.70710678118654752440084436210484903928
_SQRPI = 0.56418958354775628695  # 1 / sqrt(pi), Cody's SQRPI
_THRESH = 0.46875  # erf below, erfcx above (Cody)
_XBIG = 4.0  # the two erfcx ranges meet here (Cody)
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
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        z = x.ravel()
        erf_near, scaled, y = _calerf(z)
        t = _exp_sq(y, -1.0) * scaled  # erfc(|x|)
        out = np.where(y <= _THRESH, 1.0 - erf_near, np.where(z < 0, 2.0 - t, t))
    return out.reshape(x.shape)


def erfcx(x):
    """Scaled complementary error function exp(x^2) erfc(x).

    Cody (1969), CALERF with JINT = 2. About 1/(x sqrt(pi)) for large x, so
    it keeps full relative accuracy where erfc(x) underflows; overflows to inf
    below x = -26.63. erfcx(-inf) = inf, erfcx(inf) = 0; NaN propagates.
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        z = x.ravel()
        erf_near, scaled, y = _calerf(z)
        near = np.exp(z * z) * (1.0 - erf_near)
        # erfcx(-y) = 2 exp(y^2) - erfcx(y)
        out = np.where(y <= _THRESH, near, np.where(z < 0, 2.0 * _exp_sq(y, 1.0) - scaled, scaled))
    return out.reshape(x.shape)


def ndtr(x):
    """Standard normal distribution function N(x) = erfc(-x / sqrt(2)) / 2.

    Cody (1969) with exp(-x^2 / 2) split on x itself, so the rounding of
    x / sqrt(2) shifts only the slowly varying rational factor and N(x) keeps
    full relative accuracy deep into the lower tail, down to x = -37.5 where
    N(x) reaches the smallest normal double (scipy.special.ndtr, which rounds
    x / sqrt(2) inside the exponential, loses about x^2 units in the last
    place there). N(-inf) = 0, N(inf) = 1; NaN propagates.
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        xf = x.ravel()
        erf_near, scaled, y = _calerf(xf * _SQRT_HALF)
        # N(-|x|) = exp(-x^2 / 2) erfcx(|x| / sqrt 2) / 2
        t = 0.5 * _exp_sq(np.abs(xf), -0.5) * scaled
        out = np.where(y <= _THRESH, 0.5 + 0.5 * erf_near, np.where(xf < 0, t, 1.0 - t))
    return out.reshape(x.shape)


def ndtri(p):
    """Inverse of the standard normal distribution function: N(ndtri(p)) = p.

    Wichura (1988), AS 241 PPND16. ndtri(0) = -inf, ndtri(1) = inf; NaN for p
    outside [0, 1] and for NaN. Near 1 the input itself carries only absolute
    precision (1 - p is rounded), as for any quantile function of p.
    """
    p = np.asarray(p, dtype=float)
    with np.errstate(all="ignore"):
        pf = p.ravel()
        q = pf - 0.5
        s = np.sqrt(-np.log(np.where(q < 0, pf, 1.0 - pf)))
        args = np.array((_CONST1 - q * q, s - _CONST2, s - _SPLIT2))
        central, near, far = _rational(_AS241, args)
        tail = np.where(s <= _SPLIT2, near, far)
        out = np.where(np.abs(q) <= _SPLIT1, q * central, np.where(q < 0, -tail, tail))
        # p = 0 or 1: s = inf, where the rational functions give inf / inf
        out = np.where(np.isinf(s), np.copysign(np.inf, q), out)
    return out.reshape(p.shape)


def _calerf(z):
    """CALERF's three ranges at once, for a 1-d array ``z``.

    Returns erf(z) (right where |z| <= 0.46875), erfcx(|z|) (right where
    |z| > 0.46875) and |z|.
    """
    y = np.abs(z)
    w = 1.0 / (y * y)
    near, middle, far = _rational(_CODY, np.array((z * z, y, w)))
    scaled = np.where(y <= _XBIG, middle, (_SQRPI - w * far) / y)
    return z * near, scaled, y


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
