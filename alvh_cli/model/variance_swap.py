"""The Cboe VIX formula — a variance swap priced from out-of-the-money options — and the
ATM vol at which a smile's own variance swap equals the VIX.

The VIX is not an at-the-money vol. Cboe computes it for each of two expiries around 30
days as ("Cboe Volatility Index: VIX White Paper", Cboe, eq. 1; the replication of a
variance swap by a strip of options: Demeterfi, Derman, Kamal and Zou 1999, "A Guide to
Volatility and Variance Swaps")

    σ² = (2/T) Σ_i (ΔK_i / K_i²) e^{RT} Q(K_i) − (1/T) (F/K₀ − 1)²

with ``Q`` the out-of-the-money mid (puts below K₀, calls above, their mean at K₀), ``K₀``
the first strike at or below the forward ``F``, and ``ΔK_i`` half the distance between the
strikes either side (to the one neighbour at the ends); 100·√(σ² interpolated to 30 days)
is the index. Every strike is weighted by 1/K², so the put wing — where the skew puts the
vol — counts more than the calls: the VIX sits above the 30-day ATM vol. On two SPXW chains
the ratio ATM / VIX was 0.87 (2019-06-26: 14.04 against the chain's own 16.22) and 0.78
(2025-09-03: 12.82 against 16.41) (``benchmarks/atm_ratio.py`` computes both from the
chains).

A smile ``iv = atm + skew·k + smile·k²`` has its own variance swap: the same sum over a
fine grid of strikes (:data:`GRID_STEP`) of the smile's Black-76 prices. The sum must stop
somewhere, as Cboe's does (after two strikes in a row with no bid): it runs outward from
K₀ while the out-of-the-money price keeps falling, i.e. over the strikes where the smile
is a price. A quadratic smile's put wing rises so fast that beyond some strike a lower
put would cost more than a higher one (a put spread with a negative price); at 30 days
and the backtest's smile that strike is at k ≈ −0.19 (VIX 16) to −0.33 (VIX 60). The
quadratic over-prices the strikes it keeps (iv 0.37 at k = −0.2 against 0.31 quoted on
the 2019 chain, at the chain's ATM vol) and leaves out the quoted tail beyond; the two
nearly cancel: at the 2019 chain's ATM vol the model's smile gives 15.95 against the
chain's 16.22.

:func:`atm_ratio` solves for the ATM vol at which the smile's variance swap equals a VIX
level, and returns it as a multiple of VIX/100. Both pure numpy.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from alvh_cli.model.domain import Smile
from alvh_cli.model.pricing import black76_price
from alvh_cli.model.smile import smile_vol

__all__ = ["GRID_STEP", "VIX_DAYS", "atm_ratio", "cboe_variance", "smile_variance_swap"]

VIX_DAYS = 30.0
"""The VIX's tenor, calendar days."""

GRID_STEP = 0.0005
"""Strike step of the smile's grid, a fraction of the forward: 2.9 points at SPX 5,800,
finer than the listed 5 (halving it moves a 16 vol by under 0.001 of a point)."""

GRID_SPAN = (-3.0, 2.0)
"""Log-moneyness range of the grid (the sum stops well inside it; see the module)."""


def cboe_variance(strikes, calls, puts, forward: float, T: float, rate: float = 0.0) -> float:
    """σ² of the Cboe formula (module docstring) over ``strikes`` (ascending, points), with
    each strike's ``calls`` and ``puts`` mid (points; only the out-of-the-money side and
    both at K₀ are read), ``T`` years and ``rate`` continuous. Which strikes to include is
    the caller's: Cboe's rule for quotes, :func:`smile_variance_swap`'s for a smile."""
    K = np.asarray(strikes, dtype=float)
    if K.size < 2 or np.any(np.diff(K) <= 0):
        raise ValueError("need two or more strikes, strictly ascending")
    below = np.flatnonzero(forward >= K)
    if not below.size:
        raise ValueError(f"no strike at or below the forward {forward:g}")
    i0 = int(below[-1])
    k0 = K[i0]
    c, p = np.asarray(calls, dtype=float), np.asarray(puts, dtype=float)
    q = np.where(k0 > K, p, c)
    q[i0] = 0.5 * (c[i0] + p[i0])
    dk = np.empty_like(K)
    dk[1:-1] = 0.5 * (K[2:] - K[:-2])
    dk[0], dk[-1] = K[1] - K[0], K[-1] - K[-2]
    strip = 2.0 / T * math.exp(rate * T) * float(np.sum(dk / K**2 * q))
    return strip - (forward / k0 - 1.0) ** 2 / T


def _falling(prices: np.ndarray) -> int:
    """How many of ``prices`` (ordered away from the money) fall one after another from
    the first: the count before the first that is not below the one before it."""
    rises = np.flatnonzero(np.diff(prices) >= 0.0)
    return int(rises[0]) + 1 if rises.size else int(prices.size)


def smile_variance_swap(smile: Smile, T: float = VIX_DAYS / 365.0, step: float = GRID_STEP):
    """The smile's own variance-swap vol (decimal) for ``T`` years: the Cboe formula over a
    grid of strikes ``step`` × the forward apart, outward from K₀ while the
    out-of-the-money price falls (module docstring). Homogeneous in the forward and free
    of the rate (prices are undiscounted by the formula's e^{RT}), so computed at F = 1."""
    lo, hi = GRID_SPAN
    K = np.arange(math.exp(lo), math.exp(hi), step)
    i0 = int(np.flatnonzero(K <= 1.0)[-1])
    K = K - K[i0] + 1.0  # a strike exactly at the forward: the correction term is 0
    vol = smile_vol(smile, np.log(K), T)
    calls = black76_price(True, 1.0, K, T, 0.0, vol)
    puts = black76_price(False, 1.0, K, T, 0.0, vol)
    n_puts = _falling(puts[:i0][::-1])
    n_calls = _falling(calls[i0 + 1 :])
    keep = slice(i0 - n_puts, i0 + 1 + n_calls)
    return math.sqrt(cboe_variance(K[keep], calls[keep], puts[keep], 1.0, T))


def atm_ratio(
    skew: float,
    smile: float,
    skew_term: float = 0.0,
    vix: float = 16.0,
    T: float = VIX_DAYS / 365.0,
) -> float:
    """The ATM vol, as a multiple of ``vix``/100, at which the smile ``atm + skew(T)·k +
    smile·k²`` has a variance-swap vol (:func:`smile_variance_swap`) of ``vix``/100.

    The variance swap rises with the ATM vol, so a bisection on it; to 1e-6 of a vol.
    """
    target = vix / 100.0

    def excess(atm: float) -> float:
        return smile_variance_swap(Smile(atm, skew, smile, skew_term), T) - target

    lo, hi = 0.2 * target, 2.0 * target
    if excess(lo) > 0 or excess(hi) < 0:
        raise ValueError(f"no ATM vol in [{lo:g}, {hi:g}] gives a variance swap of {target:g}")
    while hi - lo > 1e-6:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if excess(mid) > 0 else (mid, hi)
    return 0.5 * (lo + hi) / target


@functools.lru_cache(maxsize=256)
def atm_for_vix(vix: float, skew: float = 0.0, smile: float = 0.0) -> float:
    """The 30-day ATM vol (decimal) of a smile with this ``skew`` and ``smile`` whose own
    variance swap is ``vix``/100: a flat smile's ATM is the VIX itself; with a skew the
    ATM sits below it (the default of a market file that gives the shape but no level).

    Regula falsi (Illinois) on the variance swap, which is nearly linear in the ATM vol,
    inside the bracket 0.2–2 × the VIX: a few evaluations, not a bisection's twenty, so a
    file loads fast; to 1e-7 of a vol.
    """
    target = vix / 100.0
    if skew == 0.0 and smile == 0.0:
        return target

    def excess(atm: float) -> float:
        return smile_variance_swap(Smile(atm, skew, smile)) - target

    lo, hi = 0.2 * target, 2.0 * target
    f_lo, f_hi = excess(lo), excess(hi)
    if f_lo > 0 or f_hi < 0:
        raise ValueError(f"no ATM vol in [{lo:g}, {hi:g}] gives a variance swap of {target:g}")
    side = 0
    for _ in range(60):
        x = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        fx = excess(x)
        if abs(fx) < 1e-8 or hi - lo < 1e-7:
            return x
        if fx > 0:
            hi, f_hi = x, fx
            if side == 1:  # the same end twice: halve the other's weight (Illinois)
                f_lo /= 2
            side = 1
        else:
            lo, f_lo = x, fx
            if side == -1:
                f_hi /= 2
            side = -1
    return atm_ratio(skew, smile, vix=vix) * target
