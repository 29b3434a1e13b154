"""Order tickets: every recommendation as orders a broker accepts.

A recommendation says what to trade; a ticket says how to enter it: one order
per venue (SPX options, VIX options, each VIX future on CFE: VX or VXM), each
leg with its action (BTO/STO/BTC/STC), its contracts and its OSI symbol, the leg
quantities reduced to a ratio times an order quantity, and one limit price per
order, on the product's tick (:mod:`alvh_cli.model.contracts`), named "debit" or
"credit" and never signed.

- **Complex orders**: Cboe, *Complex Order Handling*
  (markets.cboe.com/us/options/trading/complex_orders): electronic handling for
  up to 16 legs with a leg ratio between 1:3 and 3:1. A wider ratio gets a note,
  not a refusal: brokers may still route it.

Rounding "in the trader's favour": a debit rounds **down** (pay no more than the
prices given) and a credit rounds **up** (receive no less). alvh gives the
assumed fills (:class:`alvh_cli.method.actions.TradeLeg` ``price``: the natural
bid/ask where quoted, else the model less/plus the rules' half-spread), not the
model values, so the limit starts where the scenario figures assume the trade
fills and moves at most one tick toward the model. The trade-off:

- never a worse price than the figures assumed: ``cost`` at the limit is at or
  below the cost at the fills, so a recommendation's "after" figures stay
  conservative;
- up to a tick less marketable. On a quoted package the natural net is usually
  on the tick already and nothing moves; unquoted, the assumed half-spread
  concession (by default 0.10 a leg on SPX, 0.05 on VIX: at least the largest
  tick of each, 0.10 and 0.05) exceeds what rounding takes back (under one
  tick), so the limit still sits beyond the model value, toward a fill.
  Rounding the other way would pay past the natural — more likely to fill, at a
  price no figure accounted for.
- on a fast close (Layer 3, a stop) a trader who must be filled now gives a
  tick or more by hand; ``fill_value`` and ``model_value`` stay beside the limit
  so the gap is visible.

Prices are index points per unit of the order; dollars are
``limit × quantity × multiplier``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import reduce
from typing import TYPE_CHECKING

from alvh_cli.model.contracts import (
    MAX_COMPLEX_RATIO,
    lists_expiry,
    multiplier,
    osi_symbol,
    product_of,
    tick_round,
)

if TYPE_CHECKING:
    from alvh_cli.model.domain import Leg

ACTIONS = ("BTO", "STO", "BTC", "STC")


@dataclass(frozen=True)
class Trade:
    """One contract to trade, before it is grouped into orders.

    ``quantity`` is signed contracts to trade (+ buy, − sell); ``opening`` says
    whether it opens a position or closes one held; ``price`` is the value per
    contract in points (≥ 0) the limit is built from (a model value, or the
    natural bid/ask: the caller's choice, reported by the caller); ``model`` the
    model value per contract in points when it differs from ``price`` (None: the same).
    """

    underlying: str  # "SPX" | "VIX"
    root: str  # "SPX" | "SPXW" | "VIX" | "VIXW"
    type: str  # "put" | "call" | "future"
    strike: float | None  # None for futures
    expiry: date
    quantity: int
    opening: bool
    price: float
    model: float | None = None

    @property
    def action(self) -> str:
        """BTO, STO, BTC or STC."""
        return ("B" if self.quantity > 0 else "S") + ("TO" if self.opening else "TC")

    @property
    def contract(self) -> tuple:
        return (self.underlying, self.root, self.type, self.strike, self.expiry)


@dataclass(frozen=True)
class OrderLeg:
    """One leg of an order.

    ``ratio`` is contracts per unit of the order and ``quantity`` the contracts
    in all (ratio × the order's quantity), both positive: the direction is in
    ``action``. ``occ`` is the OSI symbol (None for a VIX future, which has
    none). ``price`` is the value per contract in points the limit was built from,
    ``model`` the model value per contract (None: the same as ``price``).
    """

    action: str  # "BTO" | "STO" | "BTC" | "STC"
    ratio: int
    quantity: int
    occ: str | None
    underlying: str
    root: str
    type: str
    strike: float | None
    expiry: date
    price: float
    model: float | None = None

    @property
    def is_buy(self) -> bool:
        return self.action[0] == "B"


@dataclass(frozen=True)
class Order:
    """One order a broker accepts: legs on one venue, one limit.

    ``quantity`` is the number of units (spreads); each leg trades ``ratio``
    contracts per unit. ``limit`` is points per unit on the product's tick,
    ≥ 0, rounded in the trader's favour from ``fill_value``, the unrounded net per
    unit of the legs' ``price``; ``price_effect`` says whether it is paid
    ("debit") or received ("credit"). ``model_value`` is the unrounded net per unit
    of the legs' ``model`` values, in the same direction (negative when the model
    nets the other way); without model values it equals ``fill_value``. ``tick``
    is the increment the limit was rounded to (points).
    """

    underlying: str  # "SPX" | "VIX"
    legs: tuple[OrderLeg, ...]
    quantity: int
    price_effect: str  # "debit" | "credit"
    limit: float
    model_value: float
    tick: float
    note: str = ""
    fill_value: float | None = None

    @property
    def multiplier(self) -> float:
        """Dollars per point per unit: 100 for options, 1000 for a VIX future (100 for VXM)."""
        g = self.legs[0]
        return multiplier(g.underlying, g.type, g.root)

    @property
    def cost(self) -> float:
        """Dollars paid at the limit (negative when received): ± limit × quantity × multiplier;
        0 for a future, which is entered at its price and pays no premium."""
        if self.legs[0].type == "future":
            return 0.0
        sign = 1.0 if self.price_effect == "debit" else -1.0
        return sign * self.limit * self.quantity * self.multiplier

    @property
    def limit_text(self) -> str:
        """The limit as a ticket shows it: "debit 2.10", "credit 51.55"."""
        return f"{self.price_effect} {self.limit:.2f}"

    @property
    def is_complex(self) -> bool:
        return len(self.legs) > 1


def trades_against(
    held: Iterable[Leg],
    underlying: str,
    root: str,
    type: str,
    strike: float | None,
    expiry: date,
    quantity: int,
    price: float,
) -> list[Trade]:
    """Trade ``quantity`` (signed) of one contract against the legs ``held``.

    What offsets a held position closes it (a buy against a short is BTC), the
    rest opens: buying 15 against 10 short is BTC 10 and BTO 5. A broker needs
    the right position effect: an account may not be allowed to sell to open.
    """
    if quantity == 0:
        return []
    held_qty = sum(
        g.quantity
        for g in held
        if (g.underlying, g.root, g.type, g.strike, g.expiry)
        == (underlying, root, type, strike, expiry)
    )
    closing = 0
    if held_qty * quantity < 0:
        closing = int(math.copysign(min(abs(held_qty), abs(quantity)), quantity))
    out = []
    for qty, opening in ((closing, False), (quantity - closing, True)):
        if qty:
            out.append(Trade(underlying, root, type, strike, expiry, qty, opening, price))
    return out


def closing_trades(legs: Iterable[Leg], prices: Iterable[float]) -> list[Trade]:
    """Trades that close every one of ``legs`` (``prices``: points per contract, same order)."""
    return [
        Trade(g.underlying, g.root, g.type, g.strike, g.expiry, -g.quantity, False, float(p))
        for g, p in zip(legs, prices, strict=True)
    ]


def net_trades(trades: Iterable[Trade], held: Iterable[Leg] = ()) -> list[Trade]:
    """What a broker sees: ``trades`` netted per contract, then split against ``held``.

    A recommendation may close one leg and open another on the same contract (a
    position holding 10 short puts and 1 long put of the same series is 9 short
    at the broker), so the quantities of a contract are summed first; a contract
    that nets to zero is not traded. The net is then closed against what is held
    and the rest opened (:func:`trades_against`): BTO/STO/BTC/STC come from the
    holdings, not from how the method labelled the leg. Each net trade keeps the
    price (and model value) of the trades on its side, in first-seen order.
    """
    held = tuple(held)
    nets: dict[tuple, list[Trade]] = {}
    for t in trades:
        nets.setdefault(t.contract, []).append(t)
    out: list[Trade] = []
    for contract, group in nets.items():
        qty = sum(t.quantity for t in group)
        if qty == 0:
            continue
        side = next(t for t in group if (t.quantity > 0) == (qty > 0))
        for part in trades_against(held, *contract, qty, side.price):
            out.append(Trade(*part.contract, part.quantity, part.opening, part.price, side.model))
    return out


def _venue(t: Trade) -> tuple:
    """Trades sharing a venue key can be one order: SPX options (SPX and SPXW together),
    VIX options, or one VIX future, VX or VXM (futures trade on CFE, each an order of its
    own)."""
    if t.type == "future":
        return (product_of(t.root, t.type), t.expiry)
    return (product_of(t.root, t.type),)


def orders_for(trades: Sequence[Trade], note: str = "") -> tuple[Order, ...]:
    """Group ``trades`` into orders: one per venue, in the order the venues first appear.

    Within an order the same contract with the same action is summed; leg
    quantities are reduced by their greatest common divisor to a ratio × the
    order quantity (a 10-lot condor closes as 10 × 1:1:1:1). The net per unit
    ``Σ ±ratio·price`` (+ buy) is the model value; ≥ 0 is a debit, < 0 a
    credit, and the limit is its absolute value on the tick (:func:`round_limit`).
    ``note`` is carried on every order, with any caution of ours appended. A contract
    whose root does not list its expiry (:func:`lists_expiry`) is a ValueError: a ticket
    never names one.
    """
    groups: dict[tuple, dict[tuple, Trade]] = {}
    for t in trades:
        if t.quantity == 0:
            continue
        if not math.isfinite(t.price) or t.price < 0:
            raise ValueError(f"trade price must be finite and >= 0 points, got {t.price!r}")
        if t.type != "future" and not lists_expiry(t.root, t.expiry):
            raise ValueError(f"{t.root} lists no {t.expiry} expiry: no ticket names it")
        legs = groups.setdefault(_venue(t), {})
        key = (*t.contract, t.action)
        if key in legs:
            prev = legs[key]
            if prev.price != t.price:
                raise ValueError(f"{t.action} {t.contract} given twice at different prices")
            t = Trade(*t.contract, prev.quantity + t.quantity, t.opening, t.price, t.model)
        legs[key] = t
    return tuple(_order(list(legs.values()), note) for legs in groups.values())


def _order(trades: list[Trade], note: str) -> Order:
    size = reduce(math.gcd, (abs(t.quantity) for t in trades))
    legs = tuple(
        OrderLeg(
            action=t.action,
            ratio=abs(t.quantity) // size,
            quantity=abs(t.quantity),
            occ=None if t.type == "future" else osi_symbol(t.root, t.expiry, t.type, t.strike),
            underlying=t.underlying,
            root=t.root,
            type=t.type,
            strike=t.strike,
            expiry=t.expiry,
            price=t.price,
            model=t.model,
        )
        for t in trades
    )
    net = sum((g.ratio if g.is_buy else -g.ratio) * g.price for g in legs)
    effect = "debit" if net >= 0 else "credit"
    value = abs(net)
    model_net = sum(
        (g.ratio if g.is_buy else -g.ratio) * (g.price if g.model is None else g.model)
        for g in legs
    )
    model_value = model_net if effect == "debit" else -model_net
    complex_ = len(legs) > 1
    product = product_of(trades[0].root, trades[0].type)
    limit, tick = tick_round(value, product, effect, complex_)
    notes = [note] if note else []
    ratios = [g.ratio for g in legs]
    if complex_ and max(ratios) > MAX_COMPLEX_RATIO * min(ratios):
        notes.append(
            f"leg ratio {max(ratios)}:{min(ratios)} is wider than 3:1, which Cboe's complex "
            "order book does not take electronically; the broker may split it"
        )
    contracts = [g.occ or f"{g.underlying} {g.type} {g.expiry}" for g in legs]
    if len(set(contracts)) < len(contracts):
        notes.append("one contract both closes and opens here; some brokers need two orders")
    if limit == 0 and value > 0:
        notes.append(
            f"the {effect} {value:.4f} rounds down to 0.00 in your favour; "
            "such a limit rarely fills (one tick more will)"
        )
    return Order(
        underlying=trades[0].underlying,
        legs=legs,
        quantity=size,
        price_effect=effect,
        limit=limit,
        model_value=model_value,
        tick=tick,
        note="; ".join(notes),
        fill_value=value,
    )


def ticket_trades(trades, held: Iterable[Leg] = ()) -> list[Trade]:
    """The method's trades (``alvh_cli.method.actions.TradeLeg``) as a broker sees them:
    netted per contract, opened or closed against ``held`` (the position's legs), priced
    at the assumed fills."""
    return net_trades(
        (
            Trade(
                t.leg.underlying,
                t.leg.root,
                t.leg.type,
                t.leg.strike,
                t.leg.expiry,
                t.quantity,
                t.opening,
                t.price,
                t.model,
            )
            for t in trades
        ),
        held,
    )


def orders_of(trades, held: Iterable[Leg] = ()) -> tuple[Order, ...]:
    """Order tickets for a recommendation's trades, against the position's legs ``held``."""
    return orders_for(ticket_trades(trades, held))


def with_orders(rec, held: Iterable[Leg] = ()):
    """``rec`` (a ``Recommendation``) carrying the orders of its trades."""
    if not rec.trades:
        return rec
    return replace(rec, orders=orders_of(rec.trades, held))
