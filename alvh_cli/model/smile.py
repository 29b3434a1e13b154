"""The volatility smile ``atm + skew·k + smile·k²`` in ``k = ln(K/F)``, and the SPX forward."""

from __future__ import annotations

import numpy as np

from alvh_cli.model.domain import VOL_FLOOR, Market, Smile


def smile_vol(smile: Smile, k, T=None) -> np.ndarray:
    """Implied vol from the smile at log-moneyness ``k = ln(K/F)``, floored at ``VOL_FLOOR``;
    ``T`` (years, broadcast with ``k``) matters only for a smile whose skew depends on the
    tenor (``Smile.skew_term``)."""
    k = np.asarray(k, dtype=float)
    return np.maximum(smile.atm + smile.skew_at(T) * k + smile.smile * k * k, VOL_FLOOR)


def spx_forward(market: Market, T) -> np.ndarray:
    """SPX forward ``S·e^((r−q)T)`` for ``T`` years (negative ``T`` is treated as 0)."""
    T = np.maximum(np.asarray(T, dtype=float), 0.0)
    return market.spx * np.exp((market.rate - market.dividend_yield) * T)


def carry_rates(market: Market, T) -> tuple[np.ndarray, np.ndarray]:
    """Per-expiry rate and dividend yield for Black-Scholes-Merton on SPX spot: the
    snapshot's own, or a fitted chain's (``alvh_cli.model.surface.spx_carry_rates``,
    imported only when the snapshot has a surface: it costs start-up otherwise)."""
    if market.spx_surface is not None:
        from alvh_cli.model.surface import spx_carry_rates

        return spx_carry_rates(market, T)
    shape = np.shape(T)
    return np.full(shape, float(market.rate)), np.full(shape, float(market.dividend_yield))
