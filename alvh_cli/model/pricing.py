"""European option prices, Greeks and implied volatility, vectorised with numpy.

Two models:

* Black-Scholes-Merton on a spot ``S`` with continuous dividend yield ``q``
  (SPX options), and
* Black-76 on a forward or future ``F`` (VIX options on the VIX future).

Every function broadcasts over all of its arguments like a numpy ufunc and
returns numpy arrays (0-d for all-scalar input). ``is_call`` is a bool or a bool
array (True = call, False = put).

Units, per one unit of underlying, i.e. per index point
and before the contract multiplier:

* ``T`` in years (ACT/365), ``r``, ``q`` and ``sigma`` as annualised decimals
  (0.05 = 5 %, 0.20 = 20 vol), rates continuously compounded;
* ``price`` in points;
* ``delta`` per point of the underlying (of the future for Black-76);
* ``gamma`` per point squared;
* ``vega`` per 1 volatility point, i.e. dV/dsigma * 0.01;
* ``theta`` per calendar day, i.e. -dV/dT / 365 (negative for a long option
  in the usual case);
* ``rho`` per 1 % of rate, i.e. dV/dr * 0.01 (Black-76: with F held fixed, so
  rho = -T * price / 100).

At expiry (``T == 0``) or zero volatility the functions return the limit: the
discounted intrinsic value of the forward, a step delta (0.5 of the discounted
step exactly at the money) and zero gamma and vega, with no NaN and no
warning. Negative ``T`` or ``sigma`` give NaN.

Only numpy is imported (the normal distribution comes from
:mod:`alvh_cli.model.normal` unless scipy.special is loaded already or the arrays are
large: see ``use_normal``), so the module loads fast.

Why one long module (about 660 lines): the prices, the Greeks and their inversion share
one set of numerics (the normal distribution in use, the exact limits at expiry and zero
vol, the erfcx form of the normalised call); the inversion is one published algorithm
whose branches read best side by side.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from alvh_cli.model import normal as _numpy_normal

# The normal distribution in use. numpy's own (alvh_cli.model.normal) costs no import, so a
# one-file `alvh check` starts fast; scipy.special's compiled loops cost ~1 µs a call where
# numpy's take tens of µs (7x faster on the 1,000-element arrays a book prices by the
# hundred), but importing scipy.special costs ~0.2 s once. So "auto" takes scipy's as soon
# as scipy.special is loaded anyway (a hedge was sized, a chain fitted) or an array is
# large enough (COMPILED_FROM elements) to pay for the import itself. Both agree to a few
# units in the last place of N(x) (tests/test_normal.py); a price or Greek to 1e-15 of the
# option's scale, S e^{-qT} + K e^{-rT} (tests/test_pricing.py).
_NUMPY = {"ndtr": _numpy_normal.ndtr, "ndtri": _numpy_normal.ndtri, "erfcx": _numpy_normal.erfcx}
_MODES = ("auto", "numpy", "compiled", "sized")
_mode = ["auto"]
COMPILED_FROM = 50_000
"""Elements from which an array is priced with scipy.special's loops in "auto" mode even
when scipy.special is not loaded yet (its import, ~0.2 s, is then a fraction of the work)."""


def _normal(name: str, x):
    mode = _mode[0]
    if mode == "numpy" or (mode == "sized" and np.size(x) < COMPILED_FROM):
        return _NUMPY[name](x)
    special = sys.modules.get("scipy.special")
    if special is None and (mode == "compiled" or np.size(x) >= COMPILED_FROM):
        from scipy import special
    if special is None:
        return _NUMPY[name](x)
    return getattr(special, name)(x)


def ndtr(x):
    return _normal("ndtr", x)


def ndtri(p):
    return _normal("ndtri", p)


def erfcx(x):
    return _normal("erfcx", x)


def use_normal(mode: str) -> None:
    """Which normal distribution prices from now on in this process: ``"auto"`` (the
    default: scipy.special's compiled loops once scipy.special is loaded or for arrays of
    ``COMPILED_FROM`` elements, else numpy's), ``"numpy"`` (always numpy's: no scipy import),
    ``"compiled"`` (always scipy's: imports it at the first call) or ``"sized"`` (scipy's
    for arrays of ``COMPILED_FROM`` elements, numpy's below, loaded or not:
    :func:`sized_normal`)."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {', '.join(_MODES)}, got {mode!r}")
    _mode[0] = mode


def normal_mode() -> str:
    """The mode set by :func:`use_normal` (or :func:`pinned_normal`)."""
    return _mode[0]


@contextmanager
def pinned_normal(compiled: bool = False) -> Iterator[str]:
    """One normal distribution for the whole block, whatever the arrays: scipy.special's
    when ``compiled`` or when scipy.special is loaded already, else numpy's; the mode before
    is put back after. Yields the mode pinned ("numpy" or "compiled").

    "auto" picks per call (by array size and by whether scipy.special was loaded by then),
    so an option priced in a bigger batch, or after a hedge was sized, can differ in its
    last bits from the same option priced alone or earlier. Pinned, every price in the
    block is the same function of its own inputs: a result does not depend on which
    positions came before, on how revaluations were batched or cached, or on which process
    computed it. Inside an explicit "numpy" or "compiled" mode (``use_normal``) that mode
    is kept."""
    before = _mode[0]
    if before == "auto":
        loaded = "scipy.special" in sys.modules
        use_normal("compiled" if compiled or loaded else "numpy")
    elif before == "sized":  # by the block's own needs, not by what is loaded
        use_normal("compiled" if compiled else "numpy")
    if _mode[0] == "compiled":
        from scipy import special  # noqa: F401  (imported once, before the block's work)
    try:
        yield _mode[0]
    finally:
        _mode[0] = before


@contextmanager
def sized_normal() -> Iterator[str]:
    """In "auto" mode, the normal distribution chosen by the array's size alone for the
    block (``"sized"``): what "auto" does in a process that has not loaded scipy.special.
    For the pricing done before a check pins its own (loading and valuing a book), so
    that a book valued after a hedge was sized in the same process (which loads scipy)
    has the same figures as in a fresh one. Another mode in force is kept. Usable as a
    decorator."""
    before = _mode[0]
    if before == "auto":
        _mode[0] = "sized"
    try:
        yield _mode[0]
    finally:
        _mode[0] = before


def use_compiled_normal() -> None:
    """Use scipy.special's ndtr, ndtri and erfcx from now on in this process, whatever the
    array (for long runs: a backtest, a sweep worker)."""
    from scipy import special  # noqa: F401  (imported now, not in the first pricing call)

    use_normal("compiled")


__all__ = [
    "Greeks",
    "black76_greeks",
    "black76_price",
    "bsm_greeks",
    "bsm_price",
    "implied_vol",
    "implied_vol_black76",
    "norm_pdf",
]

DAYS_PER_YEAR = 365.0
"""Calendar days per year: theta is dV/dt per calendar day (ACT/365)."""

_INV_SQRT_2PI = 0.3989422804014326779399460599343818684758586311649
_SQRT_2_OVER_PI = 0.7978845608028653558798921198687637369517172623298
_INV_SQRT_2 = 0.7071067811865475244008443621048490392848359376887
_SQRT_3 = 1.732050807568877293527446341505872366942805253810
_TWO_PI = 6.283185307179586476925286766559005768394338798750
_TWO_PI_OVER_SQRT_27 = 1.209199576156145233729385505094770488189377498728
_PI_OVER_6 = 0.523598775598298873077107230546583814032861566563
_SQRT_PI_OVER_2 = 1.253314137315500251207882642405522626503493370305
_EPS = np.finfo(float).eps
_TINY = np.finfo(float).tiny
_HUGE = np.finfo(float).max
_SQRT_HUGE = np.sqrt(_HUGE)
# Stand-in for a zero total volatility: x / _ZERO_VOL is +-inf (or 0 at the
# money), which makes N(d1) and N(d2) the exact expiry step.
_ZERO_VOL = 1e-300


def norm_pdf(x):
    """Standard normal density phi(x) = exp(-x^2/2) / sqrt(2 pi)."""
    x = np.asarray(x, dtype=float)
    return _INV_SQRT_2PI * np.exp(-0.5 * x * x)


@dataclass(frozen=True)
class Greeks:
    """Price and Greeks of one option per unit of underlying, as numpy arrays.

    Units: price in points; delta per point of the underlying; gamma per
    point squared; vega per volatility point (0.01); theta per calendar day;
    rho per 1 % of rate.
    """

    price: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray
    rho: np.ndarray


def bsm_greeks(is_call, S, K, T, r, q, sigma) -> Greeks:
    """Black-Scholes-Merton price and Greeks of European options.

    ``S`` spot (points), ``K`` strike (points), ``T`` years to expiry, ``r``
    risk-free rate and ``q`` dividend yield (continuous, decimal), ``sigma``
    volatility (decimal). Delta and gamma are with respect to ``S``; rho is
    dV/dr with ``S`` and ``q`` held fixed. Units as in :class:`Greeks`.
    """
    return _greeks(is_call, S, K, T, r, q, sigma, futures=False)


def black76_greeks(is_call, F, K, T, r, sigma) -> Greeks:
    """Black-76 price and Greeks of European options on a forward or future.

    ``F`` forward (points), ``K`` strike (points), ``T`` years to expiry,
    ``r`` discount rate (continuous, decimal), ``sigma`` volatility of ``F``.
    Delta and gamma are with respect to ``F``; rho is dV/dr with ``F`` held
    fixed (= -T * price / 100). Units as in :class:`Greeks`.
    """
    return _greeks(is_call, F, K, T, r, r, sigma, futures=True)


def _greeks(is_call, S, K, T, r, q, sigma, *, futures: bool) -> Greeks:
    # Black-76 is BSM with q = r on S = F, except for rho (F fixed, not S).
    is_call = np.asarray(is_call, dtype=bool)
    S, K, T, r, q, sigma = (np.asarray(a, dtype=float) for a in (S, K, T, r, q, sigma))
    shape = np.broadcast_shapes(
        is_call.shape, S.shape, K.shape, T.shape, r.shape, q.shape, sigma.shape
    )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        w = np.where(is_call, 1.0, -1.0)
        sqrt_t = np.sqrt(T)  # NaN for T < 0
        v = sigma * sqrt_t  # total volatility sigma * sqrt(T)
        if np.any(v < 0):
            v = np.where(v < 0, np.nan, v)
        zero = v == 0
        v_safe = np.where(zero, _ZERO_VOL, v)
        df_r = np.exp(-r * T)
        df_q = df_r if futures else np.exp(-q * T)
        x = np.log(S / K) if futures else np.log(S / K) + (r - q) * T  # ln(F/K)
        d1 = x / v_safe + 0.5 * v_safe
        wd1 = w * d1
        n1, n2 = _pair(ndtr, wd1, wd1 - w * v_safe)  # N(w d1), N(w d2)
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
        if zero.any():
            pdf = np.where(zero, 0.0, pdf)
        fwd_pv = S * df_q  # S e^{-qT} = F e^{-rT}
        a = fwd_pv * n1  # value of the asset leg
        b = K * df_r * n2  # value of the strike leg
        price = w * (a - b)
        delta = w * df_q * n1
        fwd_pdf = fwd_pv * pdf
        vega = fwd_pdf * sqrt_t
        g = fwd_pdf / v_safe  # S e^{-qT} phi(d1) / (sigma sqrt T); 0 when v == 0
        gamma = g / (S * S)
        theta = (w * (q * a - r * b) - (0.5 * sigma * sigma) * g) / DAYS_PER_YEAR
        rho = (-0.01 * T) * price if futures else (0.01 * T) * w * b
        vega *= 0.01
    return Greeks(*(_full(o, shape) for o in (price, delta, gamma, vega, theta, rho)))


def bsm_price(is_call, S, K, T, r, q, sigma) -> np.ndarray:
    """The price alone of :func:`bsm_greeks` (same limits at T = 0 and σ = 0), for
    revaluing many options where no Greek is needed."""
    return _price(is_call, S, K, T, r, q, sigma, futures=False)


def black76_price(is_call, F, K, T, r, sigma) -> np.ndarray:
    """The price alone of :func:`black76_greeks`."""
    return _price(is_call, F, K, T, r, r, sigma, futures=True)


def _price(is_call, S, K, T, r, q, sigma, *, futures: bool) -> np.ndarray:
    # The price lines of _greeks, nothing else.
    is_call = np.asarray(is_call, dtype=bool)
    S, K, T, r, q, sigma = (np.asarray(a, dtype=float) for a in (S, K, T, r, q, sigma))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        w = np.where(is_call, 1.0, -1.0)
        v = sigma * np.sqrt(T)
        if np.any(v < 0):
            v = np.where(v < 0, np.nan, v)
        v_safe = np.where(v == 0, _ZERO_VOL, v)
        df_r = np.exp(-r * T)
        df_q = df_r if futures else np.exp(-q * T)
        x = np.log(S / K) if futures else np.log(S / K) + (r - q) * T
        wd1 = w * (x / v_safe + 0.5 * v_safe)
        n1, n2 = _pair(ndtr, wd1, wd1 - w * v_safe)
        price = w * (S * df_q * n1 - K * df_r * n2)
    return price


def _pair(f, a, b):
    """f(a), f(b) from one call of f: its cost is mostly per call, not per element."""
    out = f(np.stack(np.broadcast_arrays(a, b)))
    return out[0], out[1]


def _full(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` as a writeable array of the broadcast shape."""
    return a if a.shape == shape else np.broadcast_to(a, shape).copy()


# --------------------------------------------------------------------------
# Implied volatility
# --------------------------------------------------------------------------


def implied_vol(price, is_call, S, K, T, r, q):
    """Black-Scholes-Merton implied volatility (decimal, 0.20 = 20 vol).

    ``price`` in points; other arguments as in :func:`bsm_greeks`. Returns NaN,
    without warnings, where no volatility reproduces the price: price at or
    below the discounted intrinsic value e^{-rT} max(+-(F - K), 0) of the
    forward F = S e^{(r-q)T}, at or above the upper bound (S e^{-qT} for a
    call, K e^{-rT} for a put), T <= 0, or any input not finite or S, K <= 0.
    """
    price, S, K, T, r, q = (np.asarray(a, dtype=float) for a in (price, S, K, T, r, q))
    with np.errstate(all="ignore"):
        df = np.exp(-r * T)
        x = np.log(S / K) + (r - q) * T
        F = S * np.exp((r - q) * T)
        return _implied_vol_forward(price / df, is_call, F, K, x, T)


def implied_vol_black76(price, is_call, F, K, T, r):
    """Black-76 implied volatility (decimal) of options on a forward or future.

    ``price`` in points; other arguments as in :func:`black76_greeks`. Returns
    NaN, without warnings, where no volatility reproduces the price: price at or
    below the discounted intrinsic e^{-rT} max(+-(F - K), 0), at or above the
    upper bound (e^{-rT} F for a call, e^{-rT} K for a put), T <= 0, or any
    input not finite or F, K <= 0.
    """
    price, F, K, T, r = (np.asarray(a, dtype=float) for a in (price, F, K, T, r))
    with np.errstate(all="ignore"):
        df = np.exp(-r * T)
        return _implied_vol_forward(price / df, is_call, F, K, np.log(F / K), T)


def _implied_vol_forward(c, is_call, F, K, x, T):
    """Implied vol from an undiscounted price ``c``; ``x`` = ln(F/K)."""
    is_call = np.asarray(is_call, dtype=bool)
    shape = np.broadcast_shapes(c.shape, is_call.shape, F.shape, K.shape, x.shape, T.shape)
    c, is_call, F, K, x, T = (np.broadcast_to(a, shape).ravel() for a in (c, is_call, F, K, x, T))
    # Time value = price of the out-of-the-money option (put-call parity);
    # normalised by sqrt(FK) it is the price of a call at -|x| (Jaeckel 2015).
    intrinsic = np.maximum(np.where(is_call, F - K, K - F), 0.0)
    beta = (c - intrinsic) / np.sqrt(F * K)
    x = -np.abs(x)
    valid = (T > 0) & np.isfinite(T) & np.isfinite(x) & (beta > 0) & (beta < np.exp(0.5 * x))
    sigma = np.full(shape, np.nan).ravel()
    idx = np.flatnonzero(valid)
    if idx.size:
        sigma[idx] = _normalised_implied_vol(beta[idx], x[idx]) / np.sqrt(T[idx])
    return sigma.reshape(shape)


# Householder iterations of order 3 stop once a step is below this fraction of
# s: the following step would be below about (1e-7)^3, far under rounding.
_STEP_TOL = 1e-7
_MAX_ITER = 12
_R_MAX = 2.0 / (_EPS * _EPS)  # rational cubic control parameter: linear
_R_MIN = -(1.0 - np.sqrt(_EPS))


def _normalised_implied_vol(beta, x):
    """Total volatility s = sigma sqrt(T) with b(x, s) = beta, for x <= 0.

    (Long: the paper's four initial-guess branches, vectorised, then its iteration.)

    b(x, s) = e^{x/2} N(x/s + s/2) - e^{-x/2} N(x/s - s/2) is the normalised
    out-of-the-money call (Jaeckel, "Let's Be Rational", Wilmott 2015). The
    initial guess follows that paper: four branches split at s_l < s_c < s_h
    around the inflection point s_c = sqrt(2|x|), rational cubic interpolation
    of s (middle branches) or of a transformed price (outer branches). Then
    Householder steps of third order on the paper's objective for each branch,
    safeguarded by a bracket with bisection, on the unconverged subset only.
    Requires 0 < beta < e^{x/2}.
    """
    b_max = np.exp(0.5 * x)
    ax = -x
    s_c = np.sqrt(2.0 * ax)
    # At s_c, d1 = 0: b_c = e^{x/2} (1 - erfcx(sqrt|x|)) / 2 and v_c = e^{x/2} phi(0).
    b_c = 0.5 * b_max * (1.0 - erfcx(np.sqrt(ax)))
    v_c = _INV_SQRT_2PI * b_max
    s = np.empty_like(beta)
    s_left = np.full_like(beta, _TINY)
    s_right = np.full_like(beta, np.inf)
    kind = np.zeros(beta.shape, dtype=np.int8)  # 0 lower, 1 middle, 2 upper objective

    low = beta < b_c
    il = np.flatnonzero(low)
    if il.size:
        xl, bl_, sc_, bc_, vc_ = x[il], beta[il], s_c[il], b_c[il], v_c[il]
        s_l = sc_ - bc_ / vc_
        b_l, v_l = _black_lower(xl, s_l)
        lowest = bl_ < b_l
        j = np.flatnonzero(lowest)
        if j.size:
            # Guess on the lower map f(s) = 2 pi |x| / sqrt(27) N(-|x| / (sqrt(3) s))^3,
            # which behaves like b for small s: interpolate f(beta), invert.
            xj, bj, slj, blj = xl[j], bl_[j], s_l[j], b_l[j]
            f_l, fp_l, fpp_l = _lower_map(xj, slj)
            r = _convex_r_right(0.0, blj, 0.0, f_l, 1.0, fp_l, fpp_l, prefer_shape=True)
            f = _rational_cubic(bj, 0.0, blj, 0.0, f_l, 1.0, fp_l, r)
            t = bj / blj
            f = np.where(f > 0, f, (f_l * t + blj * (1.0 - t)) * t)
            ij = il[j]
            s[ij] = np.abs(xj / (_SQRT_3 * ndtri(np.cbrt(f / (_TWO_PI_OVER_SQRT_27 * -xj)))))
            s_right[ij] = slj
        j = np.flatnonzero(~lowest)
        if j.size:
            slj, blj, scj, bcj = s_l[j], b_l[j], sc_[j], bc_[j]
            d_l, d_r = 1.0 / v_l[j], 1.0 / vc_[j]
            r = _convex_r_right(blj, bcj, slj, scj, d_l, d_r, 0.0, prefer_shape=False)
            ij = il[j]
            s[ij] = _rational_cubic(bl_[j], blj, bcj, slj, scj, d_l, d_r, r)
            s_left[ij] = slj
            s_right[ij] = scj
            kind[ij] = 1

    iu = np.flatnonzero(~low)
    if iu.size:
        xu, bu, sc_, bc_, vc_, bm = x[iu], beta[iu], s_c[iu], b_c[iu], v_c[iu], b_max[iu]
        s_h = np.where(vc_ > _TINY, sc_ + (bm - bc_) / vc_, sc_)
        b_h, v_h = _black_middle(xu, s_h, bm)
        mid = bu <= b_h
        j = np.flatnonzero(mid)
        if j.size:
            shj, bhj, scj, bcj = s_h[j], b_h[j], sc_[j], bc_[j]
            d_l, d_r = 1.0 / vc_[j], 1.0 / v_h[j]
            r = _convex_r_left(bcj, bhj, scj, shj, d_l, d_r, 0.0, prefer_shape=False)
            ij = iu[j]
            s[ij] = _rational_cubic(bu[j], bcj, bhj, scj, shj, d_l, d_r, r)
            s_left[ij] = scj
            s_right[ij] = shj
            kind[ij] = 1
        j = np.flatnonzero(~mid)
        if j.size:
            # Guess on the upper map f(s) = N(-s/2), which behaves like
            # (b_max - b) / (b_max + 1/b_max) for large s.
            xj, bj, shj, bhj, bmj = xu[j], bu[j], s_h[j], b_h[j], bm[j]
            f_h, fp_h, fpp_h = _upper_map(xj, shj)
            ok = np.abs(fpp_h) < _SQRT_HUGE
            r = _convex_r_left(
                bhj, bmj, f_h, 0.0, fp_h, -0.5, np.where(ok, fpp_h, 0.0), prefer_shape=True
            )
            f = _rational_cubic(bj, bhj, bmj, f_h, 0.0, fp_h, -0.5, r)
            h = bmj - bhj
            t = (bj - bhj) / h
            f = np.where(ok & (f > 0), f, (f_h * (1.0 - t) + 0.5 * h * t) * (1.0 - t))
            ij = iu[j]
            s[ij] = -2.0 * ndtri(f)
            s_left[ij] = shj
            # Close to b_max the price flattens out: iterate on ln(b_max - b).
            kind[ij] = np.where(bj > 0.5 * bmj, 2, 1)

    for k, step in ((0, _step_lower), (1, _step_middle), (2, _step_upper)):
        ik = np.flatnonzero(kind == k)
        if ik.size:
            s[ik] = _householder(step, s[ik], s_left[ik], s_right[ik], beta[ik], x[ik], b_max[ik])
    return s


def _householder(step, s, s_left, s_right, beta, x, b_max):
    """Safeguarded third-order Householder iteration on the active subset."""
    s, s_left, s_right = s.copy(), s_left.copy(), s_right.copy()
    act = np.arange(s.size)
    for it in range(_MAX_ITER):
        sa, lo, hi = s[act], s_left[act], s_right[act]
        # A step that leaves the bracket (or a failed guess) is replaced by
        # bisection, or by doubling while the bracket is unbounded above.
        out = ~((sa > lo) & (sa < hi)) if it else ~(sa > 0)
        bisected = out.any()
        if bisected:
            sa = np.where(out, np.where(np.isinf(hi), 2.0 * lo, 0.5 * (lo + hi)), sa)
        ds, above = step(sa, beta[act], x[act], b_max[act])
        s_right[act] = np.where(above, np.minimum(hi, sa), hi)
        s_left[act] = np.where(above, lo, np.maximum(lo, sa))
        ds = np.maximum(ds, -0.5 * sa)
        ds = np.where(np.isfinite(ds), ds, 0.5 * (s_left[act] + s_right[act]) - sa)
        s[act] = sa + ds
        done = np.abs(ds) <= _STEP_TOL * sa
        if bisected:
            done &= ~out
        act = act[~done]
        if not act.size:
            break
    return s


def _householder_ratio(newton, halley, hh3):
    return (1.0 + 0.5 * halley * newton) / (1.0 + newton * (halley + hh3 * newton / 6.0))


def _step_lower(s, beta, x, b_max):
    """Householder step on g = 1/ln b(s) - 1/ln beta (lowest branch).

    ln b and b'/b come from the erfcx form of b, so they stay finite where b
    itself would underflow. Returns (ds, b > beta).
    """
    h = x / s
    t = 0.5 * s
    e1, e2 = _pair(erfcx, -_INV_SQRT_2 * (h + t), -_INV_SQRT_2 * (h - t))
    de = e1 - e2
    ln_b = -0.5 * (h * h + t * t) + np.log(0.5 * de)
    ln_beta = np.log(beta)
    bpob = _SQRT_2_OVER_PI / de  # b'/b
    b_halley = h * h / s - 0.25 * s  # b''/b'
    b_hh3 = b_halley * b_halley - 3.0 * (h / s) ** 2 - 0.25  # b'''/b'
    newton = (ln_beta - ln_b) * ln_b / ln_beta / bpob
    u = 1.0 + 2.0 / ln_b
    halley = b_halley - bpob * u
    hh3 = (
        b_hh3
        + 2.0 * bpob * bpob * (1.0 + 3.0 / ln_b * (1.0 + 1.0 / ln_b))
        - 3.0 * b_halley * bpob * u
    )
    return newton * _householder_ratio(newton, halley, hh3), ln_b > ln_beta


def _step_middle(s, beta, x, b_max):
    """Householder step on g = b(s) - beta (middle branches)."""
    h = x / s
    t = 0.5 * s
    n1, n2 = _pair(ndtr, h + t, h - t)
    b = b_max * n1 - n2 / b_max
    vega = _INV_SQRT_2PI * np.exp(-0.5 * (h * h + t * t))
    newton = (beta - b) / vega
    halley = h * h / s - 0.25 * s
    hh3 = halley * halley - 3.0 * (h / s) ** 2 - 0.25
    return newton * _householder_ratio(newton, halley, hh3), b > beta


def _step_upper(s, beta, x, b_max):
    """Householder step on g = ln(b_max - beta) - ln(b_max - b(s)) (upper branch).

    b_max - b = e^{x/2} N(-d1) + e^{-x/2} N(d2) is a sum of positive terms,
    so it keeps its relative accuracy as b approaches b_max.
    """
    h = x / s
    t = 0.5 * s
    n1, n2 = _pair(ndtr, -(h + t), h - t)
    gap = b_max * n1 + n2 / b_max  # b_max - b
    target = b_max - beta
    vega = _INV_SQRT_2PI * np.exp(-0.5 * (h * h + t * t))
    gp = vega / gap
    b_halley = h * h / s - 0.25 * s
    b_hh3 = b_halley * b_halley - 3.0 * (h / s) ** 2 - 0.25
    newton = -np.log(target / gap) / gp
    halley = b_halley + gp
    hh3 = b_hh3 + gp * (2.0 * gp + 3.0 * b_halley)
    return newton * _householder_ratio(newton, halley, hh3), gap < target


def _black_lower(x, s):
    """b(x, s) and its vega db/ds for x <= 0 and d1 = x/s + s/2 <= 0 (erfcx form)."""
    h = x / s
    t = 0.5 * s
    e = np.exp(-0.5 * (h * h + t * t))
    e1, e2 = _pair(erfcx, -_INV_SQRT_2 * (h + t), -_INV_SQRT_2 * (h - t))
    b = 0.5 * e * (e1 - e2)
    return b, _INV_SQRT_2PI * e


def _black_middle(x, s, b_max):
    """b(x, s) and its vega db/ds from the plain formula; b_max = e^{x/2}."""
    h = x / s
    t = 0.5 * s
    n1, n2 = _pair(ndtr, h + t, h - t)
    b = b_max * n1 - n2 / b_max
    return b, _INV_SQRT_2PI * np.exp(-0.5 * (h * h + t * t))


def _lower_map(x, s):
    """Jaeckel's lower map f(s) and its first two derivatives in beta, at s."""
    ax = -x
    z = ax / (_SQRT_3 * s)
    y = z * z
    s2 = s * s
    big_phi = ndtr(-z)
    phi = _INV_SQRT_2PI * np.exp(-0.5 * y)
    f = _TWO_PI_OVER_SQRT_27 * ax * big_phi**3
    fp = _TWO_PI * y * big_phi * big_phi * np.exp(y + 0.125 * s2)
    fpp = (
        _PI_OVER_6
        * y
        / (s2 * s)
        * big_phi
        * (8.0 * _SQRT_3 * s * ax + (3.0 * s2 * (s2 - 8.0) - 8.0 * x * x) * big_phi / phi)
        * np.exp(2.0 * y + 0.25 * s2)
    )
    return f, fp, fpp


def _upper_map(x, s):
    """Jaeckel's upper map f(s) = N(-s/2) and its first two derivatives in beta."""
    w = (x / s) ** 2
    f = ndtr(-0.5 * s)
    fp = -0.5 * np.exp(0.5 * w)
    fpp = _SQRT_PI_OVER_2 * np.exp(w + 0.125 * s * s) * w / s
    return f, fp, fpp


# Shape-preserving rational cubic interpolation (Delbourgo and Gregory 1985),
# as used by Jaeckel for the initial guess; vectorised.


def _rational_cubic(x, x_l, x_r, y_l, y_r, d_l, d_r, r):
    h = x_r - x_l
    t = (x - x_l) / h
    omt = 1.0 - t
    t2 = t * t
    omt2 = omt * omt
    cubic = (
        y_r * t2 * t
        + (r * y_r - h * d_r) * t2 * omt
        + (r * y_l + h * d_l) * t * omt2
        + y_l * omt2 * omt
    ) / (1.0 + (r - 3.0) * t * omt)
    return np.where(r >= _R_MAX, y_r * t + y_l * omt, cubic)


def _r_from_ratio(numerator, denominator):
    r = numerator / denominator
    r = np.where(np.abs(denominator) < _TINY, np.where(numerator > 0, _R_MAX, _R_MIN), r)
    return np.where(np.abs(numerator) < _TINY, 0.0, r)


def _r_minimum(d_l, d_r, slope, prefer_shape: bool):
    """Smallest control parameter that keeps the interpolant monotone/convex."""
    monotonic = (d_l * slope >= 0) & (d_r * slope >= 0)
    convex = (d_l <= slope) & (slope <= d_r)
    concave = (d_l >= slope) & (slope >= d_r)
    d_r_m_d_l = d_r - d_l
    d_r_m_s = d_r - slope
    s_m_d_l = slope - d_l
    lin = _R_MAX if prefer_shape else -_HUGE
    slope_ok = np.abs(slope) >= _TINY
    r1 = np.where(
        monotonic, np.where(slope_ok, (d_r + d_l) / np.where(slope_ok, slope, 1.0), lin), -_HUGE
    )
    cc = convex | concave
    sides_ok = (np.abs(s_m_d_l) >= _TINY) & (np.abs(d_r_m_s) >= _TINY)
    r2_cc = np.maximum(np.abs(d_r_m_d_l / d_r_m_s), np.abs(d_r_m_d_l / s_m_d_l))
    r2 = np.where(cc, np.where(sides_ok, r2_cc, lin), np.where(monotonic, lin, -_HUGE))
    r = np.maximum(_R_MIN, np.maximum(r1, r2))
    return np.where(monotonic | cc, r, _R_MIN)


def _convex_r_left(x_l, x_r, y_l, y_r, d_l, d_r, dd_l, *, prefer_shape: bool):
    """Control parameter matching the second derivative dd_l at the left end."""
    h = x_r - x_l
    slope = (y_r - y_l) / h
    r = _r_from_ratio(0.5 * h * dd_l + (d_r - d_l), slope - d_l)
    return np.maximum(r, _r_minimum(d_l, d_r, slope, prefer_shape))


def _convex_r_right(x_l, x_r, y_l, y_r, d_l, d_r, dd_r, *, prefer_shape: bool):
    """Control parameter matching the second derivative dd_r at the right end."""
    h = x_r - x_l
    slope = (y_r - y_l) / h
    r = _r_from_ratio(0.5 * h * dd_r + (d_r - d_l), d_r - slope)
    return np.maximum(r, _r_minimum(d_l, d_r, slope, prefer_shape))


# --------------------------------------------------------------------------
# Why no implied volatility: the reason per element
# --------------------------------------------------------------------------

NO_VOL_REASONS = {
    "not_finite": "an input is not a finite number",
    "expired": "no time to expiry",
    "bad_underlying": "the underlying or the strike is not above zero",
    "no_price": "the price is not above zero",
    "below_intrinsic": "the price is below the discounted intrinsic value",
    "at_intrinsic": "the price is the discounted intrinsic value: no time value",
    "above_bound": "the price is at or above the upper bound (discounted forward for a "
    "call, discounted strike for a put)",
}
"""Reason codes of :func:`implied_vol_reason`, with what each means."""


def implied_vol_reason(price, is_call, S, K, T, r, q):
    """Why :func:`implied_vol` returns NaN, per element: a code of ``NO_VOL_REASONS``,
    or "" where a volatility reproduces the price. Same arguments and broadcasting.

    Kept apart from the solver so its fast path carries no bookkeeping: call it
    only for the NaNs you want to explain. The tests mirror the solver's own
    (``_implied_vol_forward``): time value β = (c − intrinsic)/√(FK) of the
    undiscounted price c must lie in 0 < β < e^{−|ln(F/K)|/2} (Jaeckel, "Let's Be
    Rational", 2015; the upper end is c < F for a call, c < K for a put).
    """
    price, S, K, T, r, q = (np.asarray(a, dtype=float) for a in (price, S, K, T, r, q))
    with np.errstate(all="ignore"):
        df = np.exp(-r * T)
        x = np.log(S / K) + (r - q) * T
        F = S * np.exp((r - q) * T)
        bad = ~(np.isfinite(S) & np.isfinite(q)) | (S <= 0)
        return _no_vol_reason(price, df, is_call, F, K, x, T, bad)


def implied_vol_black76_reason(price, is_call, F, K, T, r):
    """Why :func:`implied_vol_black76` returns NaN, per element (see
    :func:`implied_vol_reason`)."""
    price, F, K, T, r = (np.asarray(a, dtype=float) for a in (price, F, K, T, r))
    with np.errstate(all="ignore"):
        df = np.exp(-r * T)
        return _no_vol_reason(price, df, is_call, F, K, np.log(F / K), T, np.zeros((), bool))


def _no_vol_reason(price, df, is_call, F, K, x, T, bad_spot):
    is_call = np.asarray(is_call, dtype=bool)
    shape = np.broadcast_shapes(
        price.shape, df.shape, is_call.shape, F.shape, K.shape, x.shape, T.shape, bad_spot.shape
    )
    price, df, is_call, F, K, x, T, bad_spot = (
        np.broadcast_to(a, shape) for a in (price, df, is_call, F, K, x, T, bad_spot)
    )
    c = price / df
    intrinsic = np.maximum(np.where(is_call, F - K, K - F), 0.0)
    beta = (c - intrinsic) / np.sqrt(F * K)
    out = np.full(shape, "", dtype=object)
    # first match wins: the order of the checks is the order of the codes' precedence
    for code, hit in (
        ("not_finite", ~(np.isfinite(price) & np.isfinite(df) & np.isfinite(F) & np.isfinite(K))),
        ("not_finite", ~np.isfinite(T)),
        ("expired", T <= 0),
        ("bad_underlying", bad_spot | (F <= 0) | (K <= 0) | ~np.isfinite(x)),
        ("no_price", price <= 0),
        ("below_intrinsic", beta < 0),
        ("at_intrinsic", beta == 0),
        ("above_bound", beta >= np.exp(-0.5 * np.abs(x))),
    ):
        out[(out == "") & hit] = code
    return out if shape else out[()]
