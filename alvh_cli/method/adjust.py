"""Layer 3 conversion/reversal, and the expected value of a position at expiry.

Put side tested: buy n puts and sell n calls at the short put strike (a
synthetic short) — n short puts become n short calls. Call side: the mirror.
n is the integer in 0..(short contracts on that side) that brings the
position's SPX-mapped delta closest to zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from alvh_cli.model.domain import SPX_MULTIPLIER, Leg, Market
from alvh_cli.model.legs import value_legs
from alvh_cli.model.pricing import black76_greeks
from alvh_cli.model.quotes import natural_price


@dataclass(frozen=True)
class Conversion:
    """A conversion (put side) or reversal (call side) on the tested short strike."""

    side: str  # tested side
    root: str
    strike: float
    expiry: date
    quantity: int  # synthetic units: put side buys n puts and sells n calls
    max_quantity: int
    delta_before: float  # $ per SPX point, hedges mapped to SPX
    delta_after: float
    unit_delta: float  # $ per SPX point of one synthetic
    price: float  # points per synthetic paid (> 0) or received (< 0)
    price_source: str  # "natural" | "model"
    parity_edge: float | None  # C − P − e^(−rT)(F − K) from quote mids, points
    ev_before: float | None  # $ expected P&L at expiry of the SPX legs, smile-implied
    ev_after: float | None
    sd_before: float | None
    sd_after: float | None

    @property
    def legs(self) -> tuple[tuple[str, int], ...]:
        """(type, signed quantity) of the two legs to trade."""
        n = self.quantity
        return (("put", n), ("call", -n)) if self.side == "put" else (("call", n), ("put", -n))


def best_count(delta: float, unit_delta: float, max_count: int) -> int:
    """The n in 0..max_count minimising |delta + n·unit_delta| (the smaller n on a tie)."""
    if max_count <= 0 or unit_delta == 0:
        return 0
    n = np.arange(max_count + 1)
    return int(np.argmin(np.abs(delta + n * unit_delta)))


def conversion(pv, side: str, delta_before: float) -> Conversion:
    """Layer 3 on ``pv`` (a valuation.PositionValues) with its SPX-mapped ``delta_before``."""
    position, market = pv.position, pv.loaded.market
    roles = position.legs_by_role()
    short = roles["short_put"] if side == "put" else roles["short_call"]
    k, expiry, root = short.strike, short.expiry, short.root
    legs = [
        Leg("SPX", root, "put", k, expiry, 1, 0.0, key="conversion put"),
        Leg("SPX", root, "call", k, expiry, 1, 0.0, key="conversion call"),
    ]
    v = value_legs(market, legs)
    buy, sell = ("put", "call") if side == "put" else ("call", "put")
    idx = {"put": 0, "call": 1}
    unit_delta = float(v.delta[idx[buy]] - v.delta[idx[sell]]) * SPX_MULTIPLIER
    n = best_count(delta_before, unit_delta, abs(short.quantity))
    ask = natural_price(market, "SPX", buy, k, expiry, "buy", root)
    bid = natural_price(market, "SPX", sell, k, expiry, "sell", root)
    if ask is not None and bid is not None:
        price, source = ask - bid, "natural"
    else:
        price, source = float(v.price[idx[buy]] - v.price[idx[sell]]), "model"
    edge = _parity_edge(market, root, k, expiry, float(v.forward[0]), float(v.T[0]))
    after_legs = [
        Leg("SPX", root, buy, k, expiry, n, 0.0),
        Leg("SPX", root, sell, k, expiry, -n, 0.0),
    ]
    model = float(v.price[idx[buy]] - v.price[idx[sell]])
    ev = expected_pnl(pv, after_legs, model, float(price))
    return Conversion(
        side,
        root,
        k,
        expiry,
        n,
        abs(short.quantity),
        delta_before,
        delta_before + n * unit_delta,
        unit_delta,
        float(price),
        source,
        edge,
        *ev,
    )


def _parity_edge(market: Market, root: str, k: float, expiry: date, fwd: float, t: float):
    from alvh_cli.model.quotes import find_quote

    call = find_quote(market, "SPX", "call", k, expiry, root)
    put = find_quote(market, "SPX", "put", k, expiry, root)
    if call is None or put is None:
        return None
    return call.mid - put.mid - math.exp(-market.rate * t) * (fwd - k)


def expected_pnl(pv, extra_legs: list[Leg], model_price: float, paid_price: float):
    """(EV before, EV after, sd before, sd after) in $ at the condor's expiry of its SPX legs
    (VIX legs settle on another date and are left out).

    Under the distribution the smile implies, a European payoff's expectation is its
    price grown at the rate (Breeden–Litzenberger), so EV is each leg's own valuation
    grown to expiry less its entry price — consistent with the mark to the cent. The
    extra legs add n × (model value grown − price paid). The spread (sd) of the payoff
    comes from the smile's density, repaired where its far wing is not arbitrage-free.
    """
    position, market = pv.position, pv.loaded.market
    expiry = position.expiry
    mask = np.array([g.underlying == "SPX" and g.expiry == expiry for g in pv.legs])
    i0 = int(np.argmax(mask))
    fwd, t = float(pv.values.forward[i0]), float(pv.values.T[i0])
    if t <= 0:
        return None, None, None, None
    growth = math.exp(market.rate * t)
    entry = np.array([g.entry_price for g in pv.legs])
    each = (pv.values.price * growth - entry) * pv.values.quantity * pv.values.multiplier
    ev_before = float(each[mask].sum())
    n = abs(extra_legs[0].quantity) if extra_legs else 0
    ev_after = ev_before + n * SPX_MULTIPLIER * (model_price * growth - paid_price)

    grid, prob = smile_density(market, fwd, t)

    def spread(legs) -> float:
        pay = np.zeros_like(grid)
        for g in legs:
            up = g.type == "call"
            pay += np.maximum(grid - g.strike if up else g.strike - grid, 0) * g.quantity
        mean = float((prob * pay).sum())
        return SPX_MULTIPLIER * math.sqrt(max(float((prob * (pay - mean) ** 2).sum()), 0.0))

    spx_legs = [g for g, m in zip(pv.legs, mask, strict=True) if m]
    return ev_before, ev_after, spread(spx_legs), spread(spx_legs + extra_legs)


def smile_density(market: Market, fwd: float, t: float, points: int = 4001):
    """Terminal SPX points and probabilities implied by the smile (Breeden–Litzenberger).

    The distribution function is the digital put 1 + ∂C/∂K of undiscounted
    calls, clipped to [0, 1] and made non-decreasing — a quadratic smile is not
    arbitrage-free far in its wings, and there this repair drops what is not a
    probability. Each cell's mass sits at its midpoint; the mass beyond the
    grid sits at its ends.
    """
    from alvh_cli.model.smile import smile_vol

    width = max(market.spx_vol.atm, 0.05) * math.sqrt(t)
    grid = np.linspace(fwd * math.exp(-14 * width), fwd * math.exp(6 * width), points)
    vols = smile_vol(market.spx_vol, np.log(grid / fwd))
    calls = black76_greeks(True, fwd, grid, t, 0.0, vols).price
    cdf = np.maximum.accumulate(np.clip(1.0 + np.diff(calls) / np.diff(grid), 0.0, 1.0))
    # cdf[i] is P(S < midpoint i); cell masses between midpoints, tails at the ends
    mass = np.diff(np.concatenate(([0.0], cdf, [1.0])))
    return grid, mass
