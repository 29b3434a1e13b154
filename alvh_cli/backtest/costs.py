"""What a fill costs: half the bid-ask spread per leg, and the fees per contract.

A backtest prices options from a model, so a fill is the model price moved against the trader
by the half-spread — bought at model + h, sold at max(model − h, 0) — and every contract
traded pays commission, exchange, clearing and regulatory fees. Cash settlement at expiry
trades nothing and pays neither.

Half-spread of SPX options, in index points per leg
---------------------------------------------------
    h_SPX(VIX) = h₀ · max(1, VIX / VIX_ref)^p,   h₀ = 0.10, VIX_ref = 16, p = 1

* Level: one SPXW chain at 15:45 New York on a calm day (VIX ≈ 16) had a median half-spread
  of 0.10 over the out-of-the-money strikes 20–60 days out (90th percentile 0.15 for puts,
  0.20 for calls). One day's chain, not a study: h₀ is that median.
* Slope, p = 1: half-spread proportional to VIX is what market makers quoting a constant
  *relative* spread in implied volatility would show — at a fixed delta an option's vega is
  S·φ(d₁)·√T, the same at any volatility, so a price spread = vega × c·σ grows with σ. The
  widening itself is documented: the ask-side and bid-side VIX (Cboe's VWA and VWB, computed
  from the asks and the bids of the SPX options in the VIX) are typically 0.8–1.2 VIX points
  apart and move apart as volatility rises. How fast is not pinned down by anything found:
  on 5–6 February 2018 (VIX 17.31 → 37.32 → 29.98 at the closes) Hanweck Associates
  measured SPX quoted spreads up more than 400 % in price terms over two days, and up 92 %
  relative to the mid ("Did Options Markets Dive Off A Liquidity Cliff Last Month?",
  2018-03-14). A slope of 1 (VIX × 1.7–2.2 → spread × 1.7–2.2) is therefore an
  assumption, probably an understatement of the first days of a shock; the backtest's
  cost-sensitivity row (spreads × 0.5, 1, 2) shows how much the verdict depends on it.
* Floor: below VIX 16 the half-spread stays at h₀ — there is no evidence that it narrows
  further, and SPX quotes move in ticks of 0.05 below a price of 3.00 and 0.10 above (Cboe
  SPX product specification), so 0.10 is already one to two ticks.

Half-spread of VIX options, in VIX points per leg
-------------------------------------------------
    h_VIX(VIX) = h₀ · max(1, VIX / VIX_ref)^p,   h₀ = 0.05, VIX_ref = 16 (SPX's), p = 1

* Level: an assumption (no VIX option chain was at hand): a spread of 0.10, two ticks of the
  0.05 grid VIX options quote in below a premium of 3.00 (0.10 above; Cboe's VIX option
  specification).
* Slope, p = 1: SPX's rule, on SPX's argument. A market maker quoting a constant relative
  spread in implied vol quotes a price spread of vega × c·σ, and at a fixed delta a VIX
  option's vega is F·φ(d₁)·√T: the spread grows as F·σ. In the backtest's model a
  one-month future moves by e^(−5/12) = 0.66 of the VIX's move (``market.vix_future``) and
  σ = 0.9·(VIX/16)^0.41: from VIX 16 to 32, F·σ grows 2.15× (as VIX^1.11), to 40 2.81×
  (VIX^1.13). The exponent 1 is at the low end of that; like SPX's, an assumption, which
  the cost-sensitivity row (spreads × 0.5 and × 2) brackets. ``vix_spread_power`` 0 is
  the first build's flat half-spread.

Fees per contract, in dollars, each fill (opening or closing)
-------------------------------------------------------------
* ``commission`` 0.65: a common retail per-contract rate ($0 per order + $0.65 per contract);
  Interactive Brokers' tiered rate is $0.70 up to 10,000 contracts a month.
* ``spx_exchange_fee``: Cboe Options fees schedule (effective 2024-11-01, as listed by Cboe
  and by Interactive Brokers' Cboe fee table), public customer, SPX and SPXW: $0.36 a contract
  for a premium under $1.00, $0.45 at $1.00 or more. Some brokers pass on a flat
  "proprietary index option fee" instead: tastytrade lists $0.65 for SPX and VIX.
* ``vix_exchange_fee``: same schedule, public customer, VIX simple orders: $0.10 for a premium
  of $0.00–0.10, $0.25 for $0.11–0.99, $0.40 for $1.00–1.99, $0.45 for $2.00 or more (complex
  orders pay less: $0.05 / 0.17 / 0.30 / 0.45 in the 2020 schedule; the simple rate is used).
* ``clearing_fee`` 0.025: OCC clearing fee, raised from $0.02 to $0.025 a contract from
  2025-02-14 (SEC notice, 90 FR 10544).
* ``regulatory_fee`` 0.02815: the Options Regulatory Fee, charged by every options exchange a
  broker belongs to; Interactive Brokers' total as of 2025-03-03 (Cboe's share $0.0017).
* Not counted: the SEC Section 31 fee and FINRA's trading activity fee, charged on sales only
  — $27.80 per million dollars of proceeds in fiscal 2025 (under a cent on a $3.00 option)
  and $0.002–0.0025 a contract sold — together under one cent a contract.

Fees change every year or so; the defaults are the figures above, not a live schedule.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, fields, replace

import numpy as np

from alvh_cli.backtest.params import PARAMS
from alvh_cli.errors import InputError

SOURCE = "costs"
UNDERLYINGS = ("SPX", "VIX")
SPREAD_SENSITIVITY = (0.5, 1.0, 2.0)  # the spread multipliers of the cost-sensitivity row

Tiers = tuple[tuple[float, float], ...]  # (lowest premium, dollars a contract), premium rising


def _default(key: str) -> float:
    return float(PARAMS[key].default)


@dataclass(frozen=True)
class CostModel:
    """Half-spreads (index points per leg) and fees (dollars per contract) of a fill; the
    module docstring gives each default's source. The defaults are the backtest's
    (``params.PARAMS``: ``spx_half_spread``, ``spx_spread_vix``, ``spx_spread_power``,
    ``vix_half_spread``, ``vix_spread_power``, ``spread_multiplier``, ``commission``,
    ``exchange_fees``,
    ``clearing_fee``, ``regulatory_fee``); the exchange's fee tiers are here.
    ``spread_multiplier`` scales both half-spreads (the cost-sensitivity row), not the fees."""

    spx_half_spread: float = _default("spx_half_spread")
    spx_reference_vix: float = _default("spx_spread_vix")
    spx_vix_power: float = _default("spx_spread_power")
    vix_half_spread: float = _default("vix_half_spread")
    vix_spread_power: float = _default("vix_spread_power")
    spread_multiplier: float = _default("spread_multiplier")
    commission: float = _default("commission")
    spx_exchange_fee: Tiers = ((0.0, 0.36), (1.00, 0.45))
    vix_exchange_fee: Tiers = ((0.0, 0.10), (0.11, 0.25), (1.00, 0.40), (2.00, 0.45))
    clearing_fee: float = _default("clearing_fee")
    regulatory_fee: float = _default("regulatory_fee")
    # the exchange fee tiers times this (0: no exchange fee)
    exchange_fee_scale: float = _default("exchange_fees")

    @classmethod
    def from_params(cls, params) -> CostModel:
        """The cost model of a backtest's parameters (``BacktestParams``)."""
        return cls(
            spx_half_spread=params.spx_half_spread,
            spx_reference_vix=params.spx_spread_vix,
            spx_vix_power=params.spx_spread_power,
            vix_half_spread=params.vix_half_spread,
            vix_spread_power=params.vix_spread_power,
            spread_multiplier=params.spread_multiplier,
            commission=params.commission,
            exchange_fee_scale=params.exchange_fees,
            clearing_fee=params.clearing_fee,
            regulatory_fee=params.regulatory_fee,
        )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                _check_tiers(value, f.name)
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"must be a number, got {value!r}", SOURCE, f.name)
            elif not math.isfinite(value) or value < 0:
                raise InputError(f"must be a finite number >= 0, got {value!r}", SOURCE, f.name)
        if self.spx_reference_vix <= 0:
            raise InputError(
                f"must be > 0, got {self.spx_reference_vix!r}", SOURCE, "spx_reference_vix"
            )

    # ------------------------------------------------------------------ spreads

    def half_spread(self, underlying, vix) -> np.ndarray:
        """Half the bid-ask spread of one leg in index points, for each ``underlying``
        ("SPX" or "VIX") at the VIX level ``vix``: 0.10·max(1, VIX/16) for SPX,
        0.05·max(1, VIX/16) for VIX, both times ``spread_multiplier``."""
        kind = _underlying(underlying)
        level = np.asarray(vix, dtype=float)
        if not np.isfinite(level).all() or (level <= 0).any():
            raise InputError(f"VIX must be finite and > 0, got {vix!r}", SOURCE, "vix")
        scale = np.maximum(1.0, level / self.spx_reference_vix)
        spx = self.spx_half_spread * scale**self.spx_vix_power
        vix_options = self.vix_half_spread * scale**self.vix_spread_power
        return self.spread_multiplier * np.where(kind == "SPX", spx, vix_options)

    def fill_price(self, model, quantity, underlying, vix, opening: bool) -> np.ndarray:
        """Points per unit paid (a buy) or received (a sell) for legs with ``model`` prices and
        signed ``quantity``: a buy is opening a long or closing a short. Buys pay model + h,
        sells get model − h, never below 0."""
        price = np.asarray(model, dtype=float)
        buying = (np.asarray(quantity) > 0) == opening
        h = self.half_spread(underlying, vix)
        return np.where(buying, price + h, np.maximum(price - h, 0.0))

    # ------------------------------------------------------------------ fees

    def exchange_fee(self, underlying, premium) -> np.ndarray:
        """Cboe's fee in dollars a contract for each leg, by the tier of its ``premium``
        (points per unit, rounded to the cent as quotes are)."""
        kind = _underlying(underlying)
        cents = np.round(np.asarray(premium, dtype=float), 2)
        spx = _tier(self.spx_exchange_fee, cents)
        vix = _tier(self.vix_exchange_fee, cents)
        return self.exchange_fee_scale * np.where(kind == "SPX", spx, vix)

    def fee_per_contract(self, underlying, premium) -> np.ndarray:
        """Every fee of one contract traded, in dollars: commission + exchange + clearing +
        regulatory."""
        return (
            self.commission
            + self.exchange_fee(underlying, premium)
            + self.clearing_fee
            + self.regulatory_fee
        )

    def fees(self, underlying, premium, quantity) -> float:
        """Dollars of fees to trade legs of signed ``quantity`` contracts at ``premium``
        points per unit (the fill price), summed over the legs."""
        contracts = np.abs(np.asarray(quantity, dtype=float))
        return float(np.sum(self.fee_per_contract(underlying, premium) * contracts))

    def flat_fee(self) -> float:
        """One fee per contract for a model that takes a single figure (the method's
        ``fee_per_contract``): an SPX contract at the top tier (premium of $1.00 or more), the
        highest fee of the schedule for the options the method trades."""
        return float(self.fee_per_contract("SPX", 1.0))

    # ------------------------------------------------------------------ one leg at a time

    def half_spread_one(self, underlying: str, vix: float) -> float:
        """``half_spread`` of one leg in plain floats (the backtest's per-fill path): the same
        arithmetic, without the array machinery."""
        scale = max(1.0, vix / self.spx_reference_vix)
        if underlying == "SPX":
            return self.spread_multiplier * (self.spx_half_spread * scale**self.spx_vix_power)
        if underlying == "VIX":
            return self.spread_multiplier * (self.vix_half_spread * scale**self.vix_spread_power)
        _underlying(underlying)  # raises the error naming it
        raise AssertionError  # pragma: no cover

    def fill_one(
        self, model: float, quantity: float, underlying: str, vix: float, opening: bool
    ) -> float:
        """``fill_price`` of one leg in plain floats."""
        h = self.half_spread_one(underlying, vix)
        return model + h if (quantity > 0) == opening else max(model - h, 0.0)

    def fee_one(self, underlying: str, premium: float) -> float:
        """``fee_per_contract`` of one contract in plain floats."""
        if underlying not in UNDERLYINGS:
            _underlying(underlying)
        tiers = self.spx_exchange_fee if underlying == "SPX" else self.vix_exchange_fee
        cents = round(premium * 100.0) / 100.0  # np.round(x, 2): rint(100x) / 100
        k = max(bisect.bisect_right([low for low, _ in tiers], cents) - 1, 0)
        exchange = self.exchange_fee_scale * tiers[k][1]
        return self.commission + exchange + self.clearing_fee + self.regulatory_fee

    def fees_one(self, underlying: str, premium: float, quantity: float) -> float:
        """``fees`` of one leg in plain floats: dollars to trade ``quantity`` contracts at
        ``premium`` points per unit."""
        return self.fee_one(underlying, premium) * abs(quantity)

    def with_spreads(self, multiplier: float) -> CostModel:
        """The same model with both half-spreads times ``multiplier`` (fees unchanged)."""
        return replace(self, spread_multiplier=self.spread_multiplier * multiplier)

    def to_dict(self) -> dict:
        return {
            f.name: [list(t) for t in v] if isinstance(v, tuple) else v
            for f in fields(self)
            for v in [getattr(self, f.name)]
        }


def _underlying(underlying) -> np.ndarray:
    kind = np.asarray(underlying, dtype=object)
    bad = [u for u in np.atleast_1d(kind) if u not in UNDERLYINGS]
    if bad:
        raise InputError(
            f"no cost model for '{bad[0]}' (options on {' or '.join(UNDERLYINGS)})",
            SOURCE,
            "underlying",
        )
    return kind


def _tier(tiers: Tiers, premium: np.ndarray) -> np.ndarray:
    lows = np.array([low for low, _ in tiers])
    fees = np.array([fee for _, fee in tiers])
    return fees[np.clip(np.searchsorted(lows, premium, side="right") - 1, 0, None)]


def _check_tiers(tiers: Tiers, key: str) -> None:
    ok = bool(tiers) and all(
        isinstance(t, tuple)
        and len(t) == 2
        and all(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0 for v in t)
        for t in tiers
    )
    lows = [t[0] for t in tiers] if ok else []
    if not ok or lows[0] != 0 or any(b <= a for a, b in zip(lows, lows[1:], strict=False)):
        raise InputError(
            "must be (lowest premium, fee) pairs >= 0, starting at premium 0, premiums rising",
            SOURCE,
            key,
        )
