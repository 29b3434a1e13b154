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
