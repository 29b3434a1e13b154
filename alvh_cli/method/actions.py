"""What the method recommends, as typed values.

A recommendation is one of the ``Action`` kinds with the legs it trades and
the figures that justify it; it is turned into JSON, CSV or a table only at
the output edge. Every money field says its unit in ``metadata["unit"]``
("dollars", "points", "contracts", "ratio", "vix"), so the output rounds by
unit, never by a key's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING

from alvh_cli.method.scenarios import RiskFigures
from alvh_cli.model.domain import Leg

if TYPE_CHECKING:
    from alvh_cli.method.orders import Order


class Action(str, Enum):
    HOLD = "hold"
    OPEN_HEDGE = "open_hedge"
    TRIM_HEDGE = "trim_hedge"
    CLOSE_HEDGE = "close_hedge"
    ROLL = "roll"
    CONVERT = "convert"
    CLOSE_VERTICAL = "close_vertical"
    CLOSE_POSITION = "close_position"
    TAKE_PROFIT = "take_profit"


def dollars(**kw):
    return field(metadata={"unit": "dollars"}, **kw)


def points(**kw):
    return field(metadata={"unit": "points"}, **kw)


@dataclass(frozen=True)
class TradeLeg:
    """One leg of an order: ``quantity`` signed contracts (+ buy, − sell), ``opening``
    True for a new leg, False for one that closes a leg held. ``model`` is the
    model price per unit; ``price`` what the fill is assumed to be (the natural
    bid/ask when quoted, else the model less/plus the assumed half-spread)."""

    leg: Leg
    quantity: int | float  # a float only for a method sized in fractions (integral=False)
    opening: bool
    model: float = points()
    price: float = points()
    quoted: bool = False


@dataclass(frozen=True)
class Alternative:
    """One Layer 3 alternative as evaluated over the scenario set."""

    name: str  # "hold", "convert 3", "close put vertical", "roll put vertical", ...
    action: Action
    figures: RiskFigures
    cost: float = dollars()  # trading cost: half-spreads and fees, > 0
    cash: float = dollars()  # net premium at the assumed fills: > 0 received, < 0 paid
    eligible: bool = True  # meets the trader's CVaR limit (always, without one)
    why_not: str = ""
    trades: tuple[TradeLeg, ...] = ()
    objective: float = dollars(default=0.0)  # EV + γ·CVaR: what the choice maximises


@dataclass(frozen=True)
class Recommendation:
    """What to do with one position, and why.

    ``trading_cost`` is what the trade gives up in dollars (half-spreads and
    fees); ``cash`` the net premium at the assumed fills (> 0 received). ``before``
    and ``after`` are the position's scenario figures without and with the
    change; ``alternatives`` what else was evaluated (Layer 3).
    ``objective_before`` and ``objective_after`` are what the decision maximises
    (:mod:`alvh_cli.method.decision`) of ``before`` and ``after``.
    ``attention`` marks a decision a trader must see even when it is to hold
    (Layer 3, or past the 2x stop). ``orders`` are the trades as a broker takes them
    (:func:`alvh_cli.method.orders.with_orders`: netted against the position's legs,
    one order per venue, limits on the exchange tick).
    """

    action: Action
    reason: str
    layer: int | None = None
    trades: tuple[TradeLeg, ...] = ()
    trading_cost: float = dollars(default=0.0)
    cash: float = dollars(default=0.0)
    before: RiskFigures | None = None
    after: RiskFigures | None = None
    alternatives: tuple[Alternative, ...] = ()
    attention: bool = False
    budget_limited: bool = False
    orders: tuple[Order, ...] = ()
    objective_before: float | None = dollars(default=None)  # EV + γ·CVaR of before / after
    objective_after: float | None = dollars(default=None)
    preference: str = ""  # the objective and limit the alternatives were weighed by


@dataclass(frozen=True)
class HedgeDetail:
    """The hedge an ``open_hedge`` buys: a VIX call spread, a VIX call alone, or a long VIX
    future (VX or VXM). Per unit in points, counts in units, money in dollars.

    ``debit`` is the premium per unit at the assumed fill (a future: its price there);
    ``budget_cost`` what the whole order charges to the hedge budget (premium and fees; a
    future: its roll-down to spot while held, and its fees and half-spread)."""

    expiry: date
    long_strike: float | None  # None for a future
    short_strike: float | None  # None for a call alone or a future
    quantity: int
    debit: float = points()
    price_source: str = "model"  # "natural" | "model"
    stress_gain: float = dollars(default=0.0)  # net, at the old stress point
    stress_loss: float = dollars(default=0.0)  # the condor's, at the old stress point
    coverage: float = field(default=0.0, metadata={"unit": "ratio"})
    instrument: str = "vix_call_spread"  # | "vix_call" | "vix_future"
    root: str = "VIX"  # a future: "VIX" (VX, $1,000 a point) or "VXM" ($100)
    budget_cost: float = dollars(default=0.0)


@dataclass(frozen=True)
class OpenHedge(Recommendation):
    hedge: HedgeDetail | None = None
    spend_limit: float = dollars(default=0.0)  # what this layer could spend


@dataclass(frozen=True)
class Convert(Recommendation):
    """A conversion (put side: buy n puts, sell n calls at the short put strike) or a
    reversal (the mirror on the call side)."""

    instrument: str = "conversion"
    strike: float = points(default=0.0)
    expiry: date | None = None
    root: str = "SPXW"
    quantity: int = 0
    parity_edge: float | None = points(default=None)


@dataclass(frozen=True)
class Roll(Recommendation):
    """The tested vertical (or a hedge) closed and reopened on a later expiry."""

    what: str = "put vertical"  # or "call vertical", "hedge layer 1"
    from_expiry: date | None = None
    to_expiry: date | None = None
    from_strikes: tuple[float, float] = ()
    to_strikes: tuple[float, float] = ()
    quantity: int = 0


def instrument_of(trades) -> str:
    """What a list of trades is, in a word: "vix_call_spread", "iron_condor", or the kinds."""
    kinds = sorted({(t.leg.underlying, t.leg.type) for t in trades})
    if kinds == [("VIX", "call")] and len(trades) == 2:
        return "vix_call_spread"
    if kinds == [("SPX", "call"), ("SPX", "put")] and len(trades) == 4:
        return "iron_condor"
    if len(kinds) == 1 and len(trades) == 2 and kinds[0][0] == "SPX":
        return f"{kinds[0][1]}_vertical"
    return "+".join(f"{u.lower()}_{t}" for u, t in kinds)
