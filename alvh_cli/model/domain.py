"""Domain types: legs, positions, quotes and the market snapshot.

Plain frozen dataclasses shared by every module. Units:
prices in index points per unit, quantities in signed contracts, rates and
volatilities as annual decimals, dates as ``datetime.date``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime

SPX_MULTIPLIER = 100.0
VIX_OPTION_MULTIPLIER = 100.0
VIX_FUTURE_MULTIPLIER = 1000.0  # VX, the standard VIX future (root "VIX" on a leg)
VIX_MINI_FUTURE_MULTIPLIER = 100.0  # VXM, the Mini VIX future (root "VXM")


def contract_multiplier(underlying: str, type: str, root: str = "") -> float:
    """Dollars per index point of one contract: SPX and VIX options 100, a VIX future 1,000
    (VX) or 100 when its root is "VXM" (the Mini VIX future, 1/10 the size)."""
    if underlying == "SPX":
        return SPX_MULTIPLIER
    if type != "future":
        return VIX_OPTION_MULTIPLIER
    return VIX_MINI_FUTURE_MULTIPLIER if root == "VXM" else VIX_FUTURE_MULTIPLIER


@dataclass(frozen=True)
class Leg:
    """One contract line of a position.

    ``quantity`` is signed contracts (+ long, − short); ``entry_price`` is the
    premium paid or received per index point (always ≥ 0). ``layer`` is None
    for the condor's own legs and 1..3 for ALVH adjustments already on.
    ``key`` is where the leg sits in its file (``positions[0].legs[2]``).
    """

    underlying: str  # "SPX" | "VIX"
    root: str  # "SPX" (AM monthly) | "SPXW" (PM) | "VIX" | "VIXW"; a future "VIX" (VX) | "VXM"
    type: str  # "put" | "call" | "future"
    strike: float | None  # None for futures
    expiry: date
    quantity: int
    entry_price: float
    iv: float | None = None
    layer: int | None = None
    entry_vix: float | None = None
    key: str = ""

    @property
    def is_option(self) -> bool:
        return self.type in ("put", "call")

    @property
    def multiplier(self) -> float:
        return contract_multiplier(self.underlying, self.type, self.root)


@dataclass(frozen=True)
class Position:
    """An iron condor (the legs without ``layer``) and the ALVH layers on it.

    ``credit`` is the opening credit per condor unit in points (given in the
    file or the net entry premium of the condor legs).
    """

    id: str
    legs: tuple[Leg, ...]
    credit: float
    opened: date | None = None
    source: str = ""
    key: str = ""  # positions[i]

    @functools.cached_property
    def condor(self) -> tuple[Leg, ...]:
        """The four condor legs ordered long put, short put, short call, long call (worked
        out once per position: the engine asks for them many times a check)."""
        puts = sorted(
            (g for g in self.legs if g.layer is None and g.type == "put"), key=lambda g: g.strike
        )
        calls = sorted(
            (g for g in self.legs if g.layer is None and g.type == "call"), key=lambda g: g.strike
        )
        return (*puts, *calls)

    @functools.cached_property
    def hedges(self) -> tuple[Leg, ...]:
        return tuple(g for g in self.legs if g.layer is not None)

    @property
    def units(self) -> int:
        """Condor size in contracts per leg."""
        return abs(self.legs_by_role()["short_put"].quantity)

    @property
    def expiry(self) -> date:
        return self.condor[0].expiry

    @property
    def deployed_layers(self) -> tuple[int, ...]:
        return tuple(sorted({g.layer for g in self.hedges if g.layer is not None}))

    def legs_by_role(self) -> dict[str, Leg]:
        lp, sp, sc, lc = self.condor
        return {"long_put": lp, "short_put": sp, "short_call": sc, "long_call": lc}


@dataclass(frozen=True)
class Quote:
    """A bid/ask for one listed contract, in points."""

    underlying: str  # "SPX" | "VIX"
    type: str  # "put" | "call"
    strike: float
    expiry: date
    bid: float
    ask: float
    root: str | None = None  # None matches any root

    @property
    def mid(self) -> float:
        return 0.5 * (self.bid + self.ask)


@dataclass(frozen=True)
class Smile:
    """iv(k) = atm + skew(T)·k + smile·k², k = ln(K/F), floored at ``VOL_FLOOR``.

    ``skew`` is the slope at the reference tenor of ``SKEW_REFERENCE_DAYS`` (30) days;
    ``skew_term`` makes it depend on the tenor T: skew(T) = skew + skew_term·ln(T / 30
    days), T clipped to ``SKEW_TENOR_DAYS`` (1 to 730 days). ``skew_term`` 0 (the default,
    and every position file's smile) is one slope for every tenor.
    """

    atm: float
    skew: float = 0.0
    smile: float = 0.0
    skew_term: float = 0.0

    def skew_at(self, T):
        """The slope at tenors ``T`` (years; scalar or array); ``skew`` when ``skew_term`` is 0."""
        if not self.skew_term or T is None:
            return self.skew
        import numpy as np

        days = np.clip(np.asarray(T, dtype=float) * 365.0, *SKEW_TENOR_DAYS)
        return self.skew + self.skew_term * np.log(days / SKEW_REFERENCE_DAYS)


SKEW_REFERENCE_DAYS = 30.0
SKEW_TENOR_DAYS = (1.0, 730.0)


VOL_FLOOR = 0.01


@dataclass(frozen=True)
class FuturePoint:
    expiry: date
    price: float


@dataclass(frozen=True)
class SviSlice:
    """One expiry of the SPX volatility surface: a raw SVI smile and the expiry's parity forward.

    ``root`` and ``expiry`` name the contract (its settlement instant follows
    from the root: ``alvh_cli.model.timing``). ``a``, ``b``, ``rho``, ``m``, ``sigma`` are
    raw SVI (Gatheral 2004): total implied variance ``w(k) = a + b·(ρ·(k − m)
    + sqrt((k − m)² + σ²))`` in years·vol² at ``k = ln(K/F)``; they do not
    depend on ``asof`` (the vol is ``sqrt(w/T)`` with ``T`` from the pricing
    ``asof``). ``forward`` (points, at the surface's ``spot``) and
    ``discount`` (to settlement) come from put-call parity on the chain.
    ``rms`` is the fit's RMS error against the chain's implied vols, in vol
    points; ``n_quotes`` the out-of-the-money quotes it was fitted to and
    ``butterfly_free`` its Durrleman check (both None when not known).
    """

    expiry: date
    root: str  # "SPX" (AM) | "SPXW" (PM)
    a: float
    b: float
    rho: float
    m: float
    sigma: float
    forward: float
    discount: float
    rms: float
    n_quotes: int | None = None
    butterfly_free: bool | None = None


@dataclass(frozen=True)
class SpxSurface:
    """The SPX volatility surface: SVI slices ascending in settlement, and their forwards' spot.

    ``spot`` is the SPX level the slices' forwards belong to. Priced at
    another level ``S`` (a stressed market), every forward scales by
    ``S/spot``: the carry ``F/S`` of each expiry is what the chain says, the
    level is the market's. ``source`` names where it came from (chain files
    or a market file), for messages; ``unfitted`` lists the chain's expiries
    that could not be fitted, as (root, expiry, reason), for reports.
    """

    spot: float
    slices: tuple[SviSlice, ...]
    source: str = ""
    unfitted: tuple[tuple[str, date, str], ...] = ()


@dataclass(frozen=True)
class Market:
    """A market snapshot at ``asof`` (timezone-aware).

    ``spx_vol.atm`` is already resolved (``vix/100`` when the file omits it).
    ``vix_vol`` is None when the file gives no VIX smile; pricing a VIX option
    without quote or ``iv`` is then an error naming ``market.vix_vol``.
    ``spx_surface`` is the fitted SVI surface from option chains, or None:
    when present, SPX options take their forward and discount from it and,
    without ``iv`` or quote, their vol (``alvh_cli.model.surface``);
    ``spx_vol`` stays the reference smile that scenarios move with VIX.
    """

    asof: datetime
    spx: float
    vix: float
    rate: float
    dividend_yield: float
    vix_futures: tuple[FuturePoint, ...] = ()
    spx_vol: Smile = field(default_factory=lambda: Smile(0.2))
    vix_vol: Smile | None = None
    quotes: tuple[Quote, ...] = ()
    source: str = ""  # file the snapshot came from
    # InputWarnings found while reading it (flat smile, a quote much wider than its
    # neighbours); not part of the market's value, so not compared.
    warnings: tuple = field(default=(), compare=False)
    spx_surface: SpxSurface | None = None


@dataclass(frozen=True)
class PositionFile:
    """One loaded file: its positions, its own market (if any) and rule overrides."""

    path: str
    positions: tuple[Position, ...]
    market: Market | None = None
    rules: dict = field(default_factory=dict)  # raw [rules] table, validated in rules.py
