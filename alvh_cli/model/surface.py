"""The SPX volatility surface of a market snapshot: forwards, discount factors and SVI vols.

A market may carry an :class:`~alvh_cli.model.domain.SpxSurface`: raw SVI
slices fitted to option chains (:mod:`alvh_cli.model.chain`), each with the
forward and discount factor put-call parity gave its expiry. It is built
from chain snapshots (:mod:`alvh_cli.model.chain_market`) or read from a
market file's ``[[market.spx_svi]]``; either way the same objects, so the
two price alike. This module evaluates it.

For ``T`` years from ``asof`` (slice times ``T_j`` are the ACT/365 years
from ``asof`` to each slice's settlement instant, DESIGN §3):

- **forward** ``F(T) = S·e^{c(T)}``, ``S`` the market's SPX level: the
  carry ``c`` is piecewise linear in ``T`` through ``c(0) = 0`` and
  ``c(T_j) = ln(F_j/spot)`` (``spot`` the level the slices' forwards belong
  to), i.e. a constant carry rate between expiries; beyond the last slice,
  that slice's average rate ``c_n/T_n`` continues. At a slice's own expiry
  and ``S = spot`` this is its parity forward exactly; at another level
  (a stressed market) every forward moves with ``S``.
- **discount** ``D(T) = e^{−ρ(T)}``, ``ρ`` piecewise linear through
  ``ρ(0) = 0`` and ``ρ(T_j) = −ln D_j``, the last slice's average rate beyond.
  (Continuing the last *segment's* rate instead would amplify quote noise
  when the last two slices are hours apart, as SPX AM and PM of one day are.)
- **vol** at log-moneyness ``k = ln(K/F(T))``: total variance linear in
  ``T`` at fixed ``k`` between slices, the nearest slice's vol held flat
  outside them (:func:`alvh_cli.model.svi.interpolate_total_variance`).

SPX options priced on the surface are Black-76 on ``F`` discounted by
``D``: ``price = D·Black76(F, K, T, σ)``. That is Black-Scholes-Merton on
spot ``S`` with ``r = −ln(D)/T`` and ``q = r − ln(F/S)/T``
(:func:`spx_carry_rates`), so the Greeks come out in DESIGN §3 units —
delta per point of SPX spot (``dF/dS = F/S``), theta with spot and the
carry rates held, rho with spot and ``q`` held.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from alvh_cli.model import svi
from alvh_cli.model.domain import Market, SpxSurface
from alvh_cli.model.timing import SECONDS_PER_YEAR, aware, settlement_timestamp

__all__ = [
    "log_curve",
    "slice_times",
    "spx_carry_rates",
    "spx_forward_discount",
    "surface_vol",
]


def slice_times(surface: SpxSurface, asof: datetime) -> np.ndarray:
    """Years from ``asof`` to each slice's settlement instant (ACT/365, DESIGN §3)."""
    now = aware(asof).timestamp()
    return np.array(
        [(settlement_timestamp(s.root, s.expiry) - now) / SECONDS_PER_YEAR for s in surface.slices]
    )


def log_curve(times: np.ndarray, y: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Piecewise linear in ``T`` through ``(0, 0)`` and ``(times, y)``; beyond the last
    point the line from the origin through it. ``T ≤ 0`` gives 0."""
    t = np.concatenate([[0.0], times])
    v = np.concatenate([[0.0], y])
    T = np.maximum(T, 0.0)
    return np.where(times[-1] < T, y[-1] * T / times[-1], np.interp(T, t, v))


def _need_live(surface: SpxSurface, times: np.ndarray) -> None:
    if not surface.slices:
        raise ValueError("an SPX surface needs at least one slice")
    if times[0] <= 0:
        s = surface.slices[0]
        raise ValueError(f"SVI slice {s.root} {s.expiry} has settled before asof")


def spx_forward_discount(market: Market, T) -> tuple[np.ndarray, np.ndarray]:
    """SPX forward (points) and discount factor for ``T`` years from ``market.asof``.

    From the surface as the module docstring says; without one,
    ``S·e^{(r−q)T}`` and ``e^{−rT}`` (DESIGN §3). ``T ≤ 0`` gives ``S`` and 1.
    """
    T = np.asarray(T, dtype=float)
    tau = np.maximum(T, 0.0)
    surface = market.spx_surface
    if surface is None:
        return (
            market.spx * np.exp((market.rate - market.dividend_yield) * tau),
            np.exp(-market.rate * tau),
        )
    times = slice_times(surface, market.asof)
    _need_live(surface, times)
    carry = np.log([s.forward / surface.spot for s in surface.slices])
    rho = -np.log([s.discount for s in surface.slices])
    return market.spx * np.exp(log_curve(times, carry, tau)), np.exp(-log_curve(times, rho, tau))


def spx_carry_rates(market: Market, T) -> tuple[np.ndarray, np.ndarray]:
    """The rate ``r`` and dividend yield ``q`` (continuous, decimal) under which
    Black-Scholes-Merton on SPX spot reproduces :func:`spx_forward_discount`:
    ``r = −ln(D)/T``, ``q = r − ln(F/S)/T``. The market's own ``rate`` and
    ``dividend_yield`` where ``T ≤ 0`` (the price is intrinsic there) or
    without a surface."""
    T = np.asarray(T, dtype=float)
    if market.spx_surface is None:
        return np.full(T.shape, market.rate), np.full(T.shape, market.dividend_yield)
    F, D = spx_forward_discount(market, T)
    live = T > 0
    t = np.where(live, T, 1.0)
    r = np.where(live, -np.log(D) / t, market.rate)
    q = np.where(live, r - np.log(F / market.spx) / t, market.dividend_yield)
    return r, q


def surface_vol(market: Market, k, T) -> np.ndarray:
    """Implied vol (decimal) of the surface at log-moneyness ``k = ln(K/F(T))`` and ``T`` years.

    For ``T ≤ 0`` (a leg past settlement, priced at intrinsic) the limit of the
    first slice's vol held flat, so the vol stays finite.
    """
    surface = market.spx_surface
    if surface is None:
        raise ValueError("the market has no SPX surface")
    times = slice_times(surface, market.asof)
    _need_live(surface, times)
    params = [svi.SviParams(s.a, s.b, s.rho, s.m, s.sigma) for s in surface.slices]
    T = np.maximum(np.asarray(T, dtype=float), 1e-6 * times[0])
    return svi.interpolate_vol(times, params, k, T)
