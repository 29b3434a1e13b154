"""Dollar Greeks in SPX terms, VIX legs mapped to SPX points through the scenario model.

``vix_beta`` is β in VIX_s = VIX·(S_s/S)^β and ``kappa`` the decay rate κ (per
year) of a VIX future's response e^(−κτ); both come from the rules
(``vix_beta``, ``vix_term_kappa``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from alvh_cli.model.domain import Leg, Market
from alvh_cli.model.legs import LegValues
from alvh_cli.model.vix_curve import future_tenor


def vix_future_slopes(
    market: Market, vix_beta: float, kappa: float, expiries: Sequence
) -> tuple[np.ndarray, np.ndarray]:
    """dF/dS and d²F/dS² of the VIX future of each expiry under the stress model at S.

    F(S') = F + (VIX·(S'/S)^β − VIX)·e^(−κτ): these map VIX legs' Greeks to SPX
    points for display and for the delta that Layer 3 neutralises.
    """
    damp = np.array([math.exp(-kappa * future_tenor(market, e)) for e in expiries])
    beta, s = vix_beta, market.spx
    return damp * market.vix * beta / s, damp * market.vix * beta * (beta - 1.0) / (s * s)


def spx_greeks(
    legs: Sequence[Leg], values: LegValues, market: Market, vix_beta: float, kappa: float
) -> dict[str, np.ndarray]:
    """Per-leg dollar Greeks in SPX terms: VIX legs mapped through ``vix_future_slopes``.

    delta in $ per SPX point, gamma in $ per point², vega in $ per SPX vol point
    (a VIX leg's ATM-vol sensitivity: 1 vol point moves VIX 1 point, the future
    e^(−κτ) of it), theta in $ per calendar day.
    """
    scale = values.quantity * values.multiplier
    delta = values.delta * scale
    gamma = values.gamma * scale
    vega = values.vega * scale
    is_vix = np.array([g.underlying == "VIX" for g in legs])
    if is_vix.any():
        slope, curve = vix_future_slopes(market, vix_beta, kappa, [g.expiry for g in legs])
        damp = np.array([math.exp(-kappa * future_tenor(market, g.expiry)) for g in legs])
        d_f = values.delta * scale
        g_f = values.gamma * scale
        delta = np.where(is_vix, d_f * slope, delta)
        gamma = np.where(is_vix, g_f * slope**2 + d_f * curve, gamma)
        vega = np.where(is_vix, d_f * damp, vega)
    return {"delta": delta, "gamma": gamma, "vega": vega, "theta": values.theta * scale}
