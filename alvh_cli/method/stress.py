"""The stress scenario of DESIGN §4 and full revaluation under it.

SPX moves to the tested short strike (to the long strike when spot is already
through the short one), or by ``stress_spx_move``. VIX moves in log terms with
``vix_beta``; a VIX future of tenor τ moves by the spot VIX move × e^(−κτ);
the SPX smile's ATM level moves by the VIX move / 100 and keeps its shape in
moneyness against the new forward. Every leg is revalued in full; a leg's
volatility keeps its residual over the smile (a quote's or a fixed ``iv``'s
premium or discount to the model smile survives the move).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from alvh_cli.method.rules import Rules
from alvh_cli.model.domain import VOL_FLOOR, FuturePoint, Leg, Market, Position
from alvh_cli.model.legs import LegValues, value_legs
from alvh_cli.model.smile import smile_vol, spx_forward
from alvh_cli.model.vix_curve import future_prices, future_tenor


@dataclass(frozen=True)
class Scenario:
    """Spot, VIX and the stressed market; ``how`` says why SPX moved where it did."""

    spx: float
    vix: float
    spx_stressed: float
    vix_stressed: float
    market: Market  # the stressed snapshot
    how: str

    @property
    def spx_move(self) -> float:
        return self.spx_stressed / self.spx - 1.0


def tested_side(position: Position, spot: float) -> str:
    """ "put" when spot is below the midpoint of the short strikes, else "call"."""
    roles = position.legs_by_role()
    mid = 0.5 * (roles["short_put"].strike + roles["short_call"].strike)
    return "put" if spot < mid else "call"


def stress_target(position: Position, market: Market, rules: Rules, side: str) -> tuple[float, str]:
    """Where SPX goes in the stress, and a few words on why."""
    if rules.stress_spx_move is not None:
        return market.spx * (1.0 + rules.stress_spx_move), f"SPX {rules.stress_spx_move:+.1%}"
    roles = position.legs_by_role()
    short, long_ = (
        (roles["short_put"], roles["long_put"])
        if side == "put"
        else (roles["short_call"], roles["long_call"])
    )
    through = market.spx <= short.strike if side == "put" else market.spx >= short.strike
    if through:
        return float(
            long_.strike
        ), f"SPX to the long {side} {long_.strike:g} (already through the short)"
    return float(short.strike), f"SPX to the short {side} {short.strike:g}"


def stressed_vix(market: Market, rules: Rules, spx_stressed: float) -> float:
    """VIX_s = VIX · (S_s / S)^beta."""
    return market.vix * (spx_stressed / market.spx) ** rules.vix_beta


def stress_market(market: Market, rules: Rules, spx_stressed: float) -> Market:
    """The snapshot after the instantaneous stress move (same ``asof``)."""
    vix_s = stressed_vix(market, rules, spx_stressed)
    dvix = vix_s - market.vix
    futures = tuple(
        FuturePoint(
            f.expiry,
            max(
                f.price + dvix * math.exp(-rules.vix_term_kappa * future_tenor(market, f.expiry)),
                0.01,
            ),
        )
        for f in market.vix_futures
    )
    smile = replace(market.spx_vol, atm=max(market.spx_vol.atm + dvix / 100.0, 0.01))
    return replace(
        market, spx=spx_stressed, vix=vix_s, vix_futures=futures, spx_vol=smile, quotes=()
    )


def build(
    position: Position, market: Market, rules: Rules, side: str, spx_move: float | None = None
) -> Scenario:
    if spx_move is not None:
        rules = replace(rules, stress_spx_move=spx_move)
    target, how = stress_target(position, market, rules, side)
    stressed = stress_market(market, rules, target)
    return Scenario(market.spx, market.vix, target, stressed.vix, stressed, how)


def revalue(base: LegValues, legs: Sequence[Leg], scenario: Scenario) -> LegValues:
    """Full revaluation of ``legs`` (valued as ``base`` today) in the stressed market.

    Each option's vol is the stressed smile at its new moneyness plus the
    residual its vol had over the smile today. Without a VIX smile a VIX
    option keeps today's vol (sticky strike).
    """
    if not legs:
        return base
    stressed = scenario.market
    is_vix = np.array([g.underlying == "VIX" for g in legs])
    strike = np.array([g.strike if g.strike is not None else np.nan for g in legs])
    fwd = spx_forward(stressed, base.T)
    if is_vix.any():
        fwd = np.where(is_vix, 0.0, fwd)
        fwd[is_vix] = future_prices(
            stressed, [g.expiry for g, v in zip(legs, is_vix, strict=True) if v]
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.log(strike / fwd)
    smile_now = np.where(is_vix, np.nan, smile_vol(stressed.spx_vol, k))
    if stressed.vix_vol is not None:
        smile_now = np.where(is_vix, smile_vol(stressed.vix_vol, k), smile_now)
    residual = np.where(np.isnan(base.smile_vol), 0.0, base.vol - base.smile_vol)
    vols = np.where(np.isnan(smile_now), base.vol, smile_now + residual)
    vols = np.where(np.isnan(strike), np.nan, np.maximum(vols, VOL_FLOOR))
    return value_legs(stressed, legs, vols=vols)
