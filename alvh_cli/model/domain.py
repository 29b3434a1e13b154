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
    for the trader's own legs (the opening condor among them) and 1..3 for ALVH
    adjustments. ``opened`` is the day the leg was opened (None: with the
    position); ``closed`` the day it was closed, at ``exit_price`` points (None:
    held). ``mark`` is the broker's mark per contract in points at ``mark_time``
    (from an import), priced like a quote. ``key`` is where the leg sits in its
    file (``positions[0].legs[2]``).
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
    opened: date | None = None
    closed: date | None = None
    exit_price: float | None = None
    mark: float | None = None
    mark_time: datetime | None = None

    @property
    def is_option(self) -> bool:
        return self.type in ("put", "call")

    @functools.cached_property
    def multiplier(self) -> float:
        """Dollars per index point of one contract (:func:`contract_multiplier`): read for
        every trade, floor and P&L row, so worked out once per leg."""
        return contract_multiplier(self.underlying, self.type, self.root)

    @property
    def contract(self) -> tuple:
        """What the exchange lists: (underlying, root, type, strike, expiry)."""
        return (self.underlying, self.root, self.type, self.strike, self.expiry)


@dataclass(frozen=True)
class Position:
    """What the trader holds from one trade: the legs held, and those closed since.

    A position begins as an iron condor (or, written or imported after a change, a
    vertical): its *opening legs* are the SPX legs without ``layer`` that were not
    opened after the position. ``credit`` is the opening credit per unit in points and
    ``units`` the opening size in contracts per leg; both keep their meaning whatever
    is done later, so the mark multiple and the stops' verdicts keep theirs
    (:meth:`net_debit`). ``legs`` are the legs held (all the engine prices and
    trades); ``closed`` the legs closed since, with their exit prices.
    """

    id: str
    legs: tuple[Leg, ...]
    credit: float
    opened: date | None = None
    source: str = ""
    key: str = ""  # positions[i]
    closed: tuple[Leg, ...] = ()
    units: int = 0  # 0: the largest short SPX leg held (a position built in code)

    def __post_init__(self):
        if not self.units:
            size = max((abs(g.quantity) for g in self.legs if _short_spx(g)), default=1)
            object.__setattr__(self, "units", int(size))

    def is_opening(self, leg: Leg) -> bool:
        """A leg of the opening trade: SPX, no layer, not opened after the position."""
        return (
            leg.underlying == "SPX"
            and leg.layer is None
            and (leg.opened is None or self.opened is None or leg.opened <= self.opened)
        )

    @functools.cached_property
    def opening(self) -> tuple[Leg, ...]:
        """The opening legs, held or closed, in the file's order."""
        return tuple(g for g in (*self.legs, *self.closed) if self.is_opening(g))

    @functools.cached_property
    def opening_trade(self) -> tuple[Leg, ...]:
        """The opening trade as it was done: the opening legs of each contract as one leg of
        their total size (a leg closed in part is written as two), first-seen order."""
        return opening_trade(self.opening)

    @functools.cached_property
    def layer_legs(self) -> tuple[Leg, ...]:
        """The legs held that alvh recommended (VIX hedges, Layer 3 synthetics and rolls)."""
        return tuple(g for g in self.legs if g.layer is not None)

    @functools.cached_property
    def hedges(self) -> tuple[Leg, ...]:
        """The VIX hedge legs held (layers 1 and 2, and any VIX layer leg): what the hedge
        budget, the unwind, the trim and the hedge roll are about."""
        return tuple(g for g in self.layer_legs if g.underlying == "VIX")

    @property
    def hedge_layers(self) -> tuple[int, ...]:
        """The layers of the VIX hedges held."""
        return tuple(sorted({g.layer for g in self.hedges}))

    @functools.cached_property
    def spx_legs(self) -> tuple[Leg, ...]:
        """The SPX legs held: the condor as it stands, with whatever replaced parts of it."""
        return tuple(g for g in self.legs if g.underlying == "SPX")

    @property
    def expiry(self) -> date:
        """The last expiry of the SPX legs held (the position's end); of any leg held, or
        of the opening legs, when none is."""
        pool = self.spx_legs or self.legs or self.opening or self.closed
        return max(g.expiry for g in pool)

    @property
    def is_closed(self) -> bool:
        return not self.legs

    @property
    def deployed_layers(self) -> tuple[int, ...]:
        """Every layer alvh recommended that is held (hedges and Layer 3 trades)."""
        return tuple(sorted({g.layer for g in self.layer_legs}))

    def shorts(self, side: str) -> tuple[Leg, ...]:
        """The short SPX ``side`` ("put" or "call") options held."""
        return tuple(g for g in self.spx_legs if g.type == side and g.quantity < 0)

    def vertical(self, side: str, spot: float) -> tuple[Leg, Leg | None] | None:
        """The ``side`` vertical held nearest the money: its short (the largest, then the
        nearest ``spot``) and its wing, the long of the same type and expiry beyond it
        (None when there is none). None when no short ``side`` option is held."""
        shorts = self.shorts(side)
        if not shorts:
            return None
        short = min(shorts, key=lambda g: (-abs(g.quantity), abs(g.strike - spot), g.expiry))
        beyond = (lambda k: k < short.strike) if side == "put" else (lambda k: k > short.strike)
        wings = [
            g
            for g in self.spx_legs
            if g.type == side and g.quantity > 0 and g.expiry == short.expiry
            and g.root == short.root and beyond(g.strike)
        ]  # fmt: skip
        wing = min(wings, key=lambda g: abs(g.strike - short.strike), default=None)
        return short, wing

    @property
    def credit_dollars(self) -> float:
        """The opening credit received, dollars (points × units × the SPX multiplier)."""
        return self.credit * self.units * 100.0

    @functools.cached_property
    def revision(self) -> str:
        """A short fingerprint of the trade as recorded (legs held and closed, credit, size):
        a check's JSON carries it, so an order checked on one state of a file is not
        applied to another."""
        import hashlib

        legs = sorted(
            repr(
                (g.contract, g.quantity, g.entry_price, g.layer, g.opened, g.closed, g.exit_price)
            )  # fmt: skip
            for g in (*self.legs, *self.closed)
        )
        text = repr((self.id, self.credit, self.units, self.opened, legs))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def changed(self) -> bool:
        """An SPX leg closed or opened since the opening trade (a roll, a close, a
        conversion): the position is no longer its opening condor."""
        return any(g.underlying == "SPX" for g in self.closed) or any(
            not self.is_opening(g) for g in self.spx_legs
        )

    def open_multiple(self, prices) -> float | None:
        """What the SPX legs held cost to close against what they were sold for (their
        own entry prices; ``prices`` per contract in the order of ``legs``): the risk still
        held, whatever was realised. None when they were bought for a net debit (no credit
        to measure against) or nothing is held."""
        debit = sum(-p * g.quantity for g, p in zip(self.legs, prices, strict=True)
                    if g.underlying == "SPX")  # fmt: skip
        credit = sum(-g.entry_price * g.quantity for g in self.spx_legs)
        return debit / credit if credit > 0 else None

    def realised(self) -> float:
        """Dollars realised on the legs closed: Σ (exit − entry) × quantity × multiplier."""
        return float(
            sum((g.exit_price - g.entry_price) * g.quantity * g.multiplier for g in self.closed)
        )

    def net_debit(self, prices) -> float:
        """What closing the SPX side now costs, per opening unit in points, counting
        everything done since the opening credit: the debit to close the SPX legs held
        (``prices``: per contract, in the order of ``legs``), plus what was paid to close
        SPX legs (their exit prices), plus the net premium of SPX legs opened since (their
        entry prices). For an unchanged condor it is its debit to close; ``net_debit /
        credit`` is the mark multiple, and ``(credit − net_debit) × units × 100`` the
        dollars the SPX side has made."""
        held = sum(-p * g.quantity for g, p in zip(self.legs, prices, strict=True)
                   if g.underlying == "SPX")  # fmt: skip
        closing = sum(-g.exit_price * g.quantity for g in self.closed if g.underlying == "SPX")
        later = sum(
            g.entry_price * g.quantity
            for g in (*self.legs, *self.closed)
            if g.underlying == "SPX" and not self.is_opening(g)
        )
        return float(held + closing + later) / self.units


def opening_trade(legs) -> tuple[Leg, ...]:
    """``legs`` with the legs of one contract and side (long or short) summed into the
    first of them: a leg closed in part is written as the part held and the part closed."""
    from dataclasses import replace

    total: dict[tuple, Leg] = {}
    for g in legs:
        key = (g.contract, g.quantity > 0)
        first = total.get(key)
        total[key] = g if first is None else replace(first, quantity=first.quantity + g.quantity)
    return tuple(total.values())


def _short_spx(g: Leg) -> bool:
    return g.underlying == "SPX" and g.quantity < 0


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

CARRY_BOUNDS = (-0.05, 0.2)
"""The rate and dividend yield a snapshot may hold (continuous, annual decimals): outside
them a figure is a typo (4.2 for 0.042) or quotes that disagree, not a market."""


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
    # InputWarnings found while reading it alone (flat smile, a quote much wider than its
    # neighbours); not part of the market's value, so not compared. A loaded book carries
    # each file's warnings, these among them, in LoadedFile.warnings.
    warnings: tuple = field(default=(), compare=False)
    spx_surface: SpxSurface | None = None


@dataclass(frozen=True)
class PositionFile:
    """One loaded file: its positions, its own market (if any) and rule overrides."""

    path: str
    positions: tuple[Position, ...]
    market: Market | None = None
    rules: dict = field(default_factory=dict)  # raw [rules] table, validated in rules.py
