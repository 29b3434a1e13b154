"""The volatility smile ``atm + skew·k + smile·k²`` in ``k = ln(K/F)``, how VIX options' ATM
vol moves with VIX, and the SPX forward."""

from __future__ import annotations

import numpy as np

from alvh_cli.model.domain import VOL_FLOOR, Market, Smile

# SPX 30-day ATM vol per VIX point (/100): the level at which the model smile's own variance
# swap equals the VIX, as the Cboe computes it (alvh_cli.model.variance_swap.atm_ratio:
# 0.87–0.89 at any VIX from 10 to 60; two real SPXW chains give 0.87 and 0.78). The VIX
# carries the skew; ATM vol does not. The default ATM of a market that gives none, the
# backtest's ATM, and how far the scenarios move ATM with the VIX.
ATM_PER_VIX = 0.88


def smile_vol(smile: Smile, k, T=None, atm=None) -> np.ndarray:
    """Implied vol from the smile at log-moneyness ``k = ln(K/F)``, floored at ``VOL_FLOOR``;
    ``T`` (years, broadcast with ``k``) matters only for a smile whose skew depends on the
    tenor (``Smile.skew_term``); ``atm`` (broadcast with ``k``) replaces the smile's own ATM
    level: the same shape moved to another level."""
    k = np.asarray(k, dtype=float)
    level = smile.atm if atm is None else atm
    return np.maximum(level + smile.skew_at(T) * k + smile.smile * k * k, VOL_FLOOR)


def vix_option_atm(atm, vix, new_vix, power):
    """ATM vol of VIX options (on the future) when VIX moves from ``vix``, where it is
    ``atm``, to ``new_vix`` (broadcasts): ``atm·(new_vix/vix)^power``; ``atm`` itself for
    ``power`` 0 (a fixed ATM vol).

    ``power`` is the rule ``vix_vol_power``, 0.41: the slope of weekly VVIX returns on
    weekly VIX returns (correlation above 0.6; "VIX & VVIX divergence", guest post on
    distressedvolatility.com, March 2013, six years of data). Applied to levels it is an
    assumption: the same post finds the two indexes' levels only loosely related. The
    smile's shape is kept (Marabel Romo 2015 finds VIX options' skew shape largely
    independent of the VIX level). One rule for both of its users: the backtest's market
    sets each day's VIX option ATM vol by it (from ``vix_atm`` at VIX 16), and the scenario
    revaluation moves today's to each scenario's VIX by it.
    """
    if not power:
        return atm
    return atm * (np.asarray(new_vix, dtype=float) / vix) ** power


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
