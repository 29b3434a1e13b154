"""The forward and discount factor of one expiry from put-call parity on its quotes.

For European options of one expiry, put-call parity says
``C(K) − P(K) = D·(F − K)`` for every strike ``K``, with ``F`` the forward
and ``D`` the discount factor to settlement (Hull, "Options, Futures, and
Other Derivatives", ch. 11). So ``C − P`` is a straight line in ``K`` with
slope ``−D`` and intercept ``D·F``; fitting that line by least squares over
near-the-money pairs gives both, with no rate or dividend assumption.

Cboe's VIX white paper ("White Paper: Cboe Volatility Index", Cboe 2019,
"The VIX Index Calculation: Step-by-Step", step 1) determines the forward
index level "by identifying the strike price at which the absolute
difference between the call and put prices is smallest", as
``F = K* + e^{RT}·(C − P)`` with ``R`` a Treasury rate. Here the same strike
``K*`` anchors the choice, but a line is fitted through many pairs around
it, so ``D`` comes from the quotes too and no single noisy pair sets ``F``.

Which pairs (:func:`parity_forward`):

1. a strike is *eligible* when both its call and its put have a two-sided
   market: finite bid > 0, ask ≥ bid, and a spread no wider than
   ``max_relative_spread`` (default 0.5) of the mid — a wider one says the
   mid is a guess;
2. ``K*`` is the eligible strike with the smallest ``|C_mid − P_mid|``
   (Cboe's rule); the fit takes the ``max_pairs`` (default 30) eligible
   strikes nearest ``K*``;
3. the line is fitted once, then the ``max_pairs`` eligible strikes nearest
   the fitted ``F`` are taken and the line refitted if they differ (``K*``
   lies up to half a strike step from ``F``).

Weighted least squares, each pair weighted by ``1/(s_C² + s_P²)`` with
``s`` the bid-ask spreads: the mid of a wider market is a less certain
price, and its error enters ``C − P`` through both legs. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ParityError", "ParityFit", "parity_forward"]

MAX_PAIRS = 30
"""Pairs nearest the money in the least-squares fit. At SPX's 5-point strikes 30 pairs
span about ±75 points; quotes rounded to the tick pin ``D`` to about 2e-4 that way,
where 8 pairs (±20 points) leave it uncertain by 3e-3 (benchmarks/chain.py's chain)."""

_SPREAD_FLOOR = 0.01  # points: a locked quote (bid = ask) gets a finite weight

MAX_RELATIVE_SPREAD = 0.5
"""A call or put whose (ask − bid)/mid exceeds this is not used for parity."""

DISCOUNT_BOUNDS = (0.5, 1.1)
"""A fitted discount factor outside these is refused as bad data, not a market: 0.5 is
a 14 % rate over five years, 1.1 a −10 % rate over a year."""


class ParityError(ValueError):
    """Put-call parity could not give a forward for this expiry; the message says why."""


@dataclass(frozen=True)
class ParityFit:
    """Forward and discount factor of one expiry from put-call parity.

    ``forward`` in points (the expiry's forward of the underlying),
    ``discount`` the factor from the quote time to settlement (``e^{−rT}``),
    ``strikes`` the pairs used, ``rms_residual`` the RMS of
    ``(C − P) − D·(F − K)`` over them, in points.
    """

    forward: float
    discount: float
    strikes: tuple[float, ...]
    rms_residual: float

    @property
    def n_pairs(self) -> int:
        return len(self.strikes)

    def rate(self, T: float) -> float:
        """The continuously compounded rate ``−ln(D)/T`` for ``T`` years (decimal)."""
        return -np.log(self.discount) / T


def parity_forward(
    strikes,
    call_bid,
    call_ask,
    put_bid,
    put_ask,
    *,
    max_pairs: int = MAX_PAIRS,
    max_relative_spread: float = MAX_RELATIVE_SPREAD,
) -> ParityFit:
    """Forward ``F`` and discount factor ``D`` of one expiry from call and put quotes.

    Arrays aligned by strike (one call and one put per strike, NaN where a
    side is missing), prices in points. Pairs chosen and fitted as the module
    docstring says. Raises :class:`ParityError` when fewer than two eligible
    strikes remain, or the fit gives ``F ≤ 0`` or ``D`` outside
    ``DISCOUNT_BOUNDS``.
    """
    if max_pairs < 2:
        raise ValueError("max_pairs must be at least 2")
    K, cb, ca, pb, pa = (
        np.asarray(a, dtype=float).ravel() for a in (strikes, call_bid, call_ask, put_bid, put_ask)
    )
    if not (K.shape == cb.shape == ca.shape == pb.shape == pa.shape):
        raise ValueError("strike and quote arrays must have the same length")
    with np.errstate(invalid="ignore"):
        c_mid, p_mid = 0.5 * (cb + ca), 0.5 * (pb + pa)
        eligible = (
            np.isfinite(K)
            & (K > 0)
            & _two_sided(cb, ca, c_mid, max_relative_spread)
            & _two_sided(pb, pa, p_mid, max_relative_spread)
        )
    idx = np.flatnonzero(eligible)
    if np.unique(K[idx]).size < 2:
        raise ParityError(
            f"{np.unique(K[idx]).size} strike(s) with a two-sided call and put; parity needs 2"
        )
    K, diff = K[idx], (c_mid - p_mid)[idx]
    weight = 1.0 / ((ca - cb) ** 2 + (pa - pb) ** 2 + _SPREAD_FLOOR**2)[idx]
    centre = K[np.argmin(np.abs(diff))]
    chosen = _nearest(K, centre, max_pairs)
    slope, intercept = _line(K[chosen], diff[chosen], weight[chosen])
    if slope < 0:
        again = _nearest(K, intercept / -slope, max_pairs)
        if not np.array_equal(np.sort(again), np.sort(chosen)):
            chosen = again
            slope, intercept = _line(K[chosen], diff[chosen], weight[chosen])
    discount = -slope
    if not DISCOUNT_BOUNDS[0] <= discount <= DISCOUNT_BOUNDS[1]:
        raise ParityError(
            f"parity gives a discount factor of {discount:.4g}, outside "
            f"{DISCOUNT_BOUNDS[0]}..{DISCOUNT_BOUNDS[1]}: the call and put quotes disagree"
        )
    forward = intercept / discount
    if not forward > 0:
        raise ParityError(f"parity gives a forward of {forward:.4g}")
    order = np.sort(chosen)
    resid = diff[order] - discount * (forward - K[order])
    return ParityFit(
        forward=float(forward),
        discount=float(discount),
        strikes=tuple(float(k) for k in K[order]),
        rms_residual=float(np.sqrt(np.mean(resid * resid))),
    )


def _two_sided(bid, ask, mid, max_relative_spread: float) -> np.ndarray:
    return (
        np.isfinite(bid)
        & np.isfinite(ask)
        & (bid > 0)
        & (ask >= bid)
        & (ask - bid <= max_relative_spread * mid)
    )


def _nearest(K: np.ndarray, centre: float, n: int) -> np.ndarray:
    """Indices of the ``n`` strikes nearest ``centre`` (the lower strike first on a tie)."""
    order = np.lexsort((K, np.abs(K - centre)))
    return order[:n]


def _line(K: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least-squares slope and intercept of ``y`` on ``K`` (centred for conditioning)."""
    k0 = np.dot(w, K) / w.sum()
    y0 = np.dot(w, y) / w.sum()
    x = K - k0
    slope = float(np.dot(w * x, y - y0) / np.dot(w * x, x))
    return slope, float(y0 - slope * k0)
