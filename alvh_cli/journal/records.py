"""The journal's typed records: what a review decided per position, and each recommendation
as the journal keeps it (action, reason, hedge spread, orders).

Stored as JSON (``to_dict``) and read back with ``recommendation_from_dict``, which also
reads the rows of earlier versions (they stored more keys per recommendation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import date


@dataclass(frozen=True)
class RecordedOrderLeg:
    """One leg of an order as recorded: action BTO/STO/BTC/STC, ``ratio`` contracts per
    unit, ``quantity`` contracts in all, the OSI symbol (None for a VIX future), the
    contract, and ``price``, the assumed fill per contract in points."""

    action: str
    ratio: int
    quantity: int
    occ: str | None
    underlying: str
    root: str
    type: str
    strike: float | None
    expiry: date
    price: float


@dataclass(frozen=True)
class RecordedOrder:
    """One order as recorded: ``quantity`` units at ``limit`` points per unit, paid
    (``price_effect`` "debit") or received ("credit")."""

    underlying: str
    quantity: int
    price_effect: str
    limit: float
    legs: tuple[RecordedOrderLeg, ...] = ()


@dataclass(frozen=True)
class RecordedRecommendation:
    """One recommendation as the journal keeps it.

    ``instrument`` names what it trades ("vix_call_spread", "conversion",
    "put_vertical", ...); an ``open_hedge`` carries its spread (``expiry``,
    ``long_strike``, ``short_strike``, ``quantity`` in spreads), which ``alvh import``
    matches against a broker's VIX legs. ``cost`` is dollars at the orders' limits
    (None without orders).
    """

    action: str
    layer: int | None = None
    reason: str = ""
    attention: bool = False
    instrument: str | None = None
    expiry: date | None = None
    long_strike: float | None = None
    short_strike: float | None = None
    quantity: float | None = None
    cost: float | None = None
    orders: tuple[RecordedOrder, ...] = ()


@dataclass(frozen=True)
class Decision:
    """One position's decision in one review: the layer today's mark calls for, the
    layers on, the mark, the tested side, the actions and the recommendations.

    ``source`` is the file as given, ``source_key`` its absolute path (what matches a
    position across reviews).
    """

    source: str
    position_id: str
    layer: int
    source_key: str = ""
    deployed_layers: tuple[int, ...] = ()
    mark_multiple: float | None = None
    tested_side: str = ""
    actions: tuple[str, ...] = ()
    recommendations: tuple[RecordedRecommendation, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        """What matches a position across reviews: (resolved file, position id)."""
        return (self.source_key or self.source, self.position_id)


@dataclass(frozen=True)
class RecordedFill:
    """One leg a fill traded: the contract, signed contracts (+ bought), the price per
    contract in points, and whether it opened a leg or closed one held."""

    underlying: str
    root: str
    type: str
    strike: float | None
    expiry: date
    quantity: float
    price: float
    opening: bool


@dataclass(frozen=True)
class Execution:
    """A fill applied to a position (``alvh apply``), beside the recommendation it followed.

    ``action`` is the recommendation's ("close_vertical", "open_hedge", ...) or "settle"
    for legs closed at their expiry's settlement. ``order`` is the order as recommended
    (its limit); ``fill`` the net price per unit the trader got, in the order's direction
    (a debit paid or a credit received, ≥ 0); ``slippage`` fill against the limit in points
    per unit, > 0 when worse for the trader, and ``slippage_dollars`` over the order.
    ``review_id`` is the review whose recommendation it followed (None when none was
    found). ``signature`` names the trades, so the same order is not applied twice;
    ``position`` is the position's TOML after the fill (an import after the fill reads
    the same position from it).
    """

    asof: str
    source: str
    position_id: str
    action: str
    legs: tuple[RecordedFill, ...]
    signature: str
    source_key: str = ""
    layer: int | None = None
    order: RecordedOrder | None = None
    fill: float | None = None
    limit: float | None = None
    slippage: float | None = None
    slippage_dollars: float | None = None
    realised: float = 0.0
    review_id: int | None = None
    position: str = ""
    revision_before: str = ""  # the position's revision the fill was applied to


def _date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _order_leg(d: Mapping) -> RecordedOrderLeg:
    return RecordedOrderLeg(
        str(d["action"]), int(d["ratio"]), int(d["quantity"]), d.get("occ"),
        str(d["underlying"]), str(d["root"]), str(d["type"]), _number(d.get("strike")),
        _date(d["expiry"]), float(d["price"]),
    )  # fmt: skip


def _order(d: Mapping) -> RecordedOrder:
    return RecordedOrder(
        str(d["underlying"]),
        int(d["quantity"]),
        str(d["price_effect"]),
        float(d["limit"]),
        tuple(_order_leg(g) for g in d.get("legs") or ()),
    )


def recommendation_from_dict(d: Mapping) -> RecordedRecommendation:
    """A recorded recommendation read back; keys it does not know (an earlier version's)
    are ignored, and an order it cannot read is left out."""
    orders = []
    for o in d.get("orders") or ():
        try:
            orders.append(_order(o))
        except (KeyError, TypeError, ValueError):
            continue
    layer = d.get("layer")
    return RecordedRecommendation(
        action=str(d.get("action", "")),
        layer=int(layer) if isinstance(layer, (int, float)) else None,
        reason=str(d.get("reason") or ""),
        attention=bool(d.get("attention", False)),
        instrument=d.get("instrument"),
        expiry=_date(d.get("expiry")),
        long_strike=_number(d.get("long_strike")),
        short_strike=_number(d.get("short_strike")),
        quantity=_number(d.get("quantity")),
        cost=_number(d.get("cost")),
        orders=tuple(orders),
    )


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def to_dict(record) -> dict:
    """A recorded value (a dataclass of this module) as plain JSON-ready data."""
    cls = type(record)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(record))
    return {name: _ready(getattr(record, name)) for name in names}


def _ready(value):
    """A field's value JSON-ready: nested records as dicts, tuples as lists, then as
    :func:`jsonable`. The exact types a record holds come first, in one pass: a review of
    1,000 positions records tens of thousands of values."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is float:
        return value if value - value == 0.0 else None
    if t is tuple:
        return [_ready(v) for v in value]
    if t is date:
        return value.isoformat()
    if is_dataclass(value):
        return to_dict(value)
    if isinstance(value, tuple):
        return [_ready(v) for v in value]
    return jsonable(value)


def jsonable(value):
    """A JSON-safe copy: numpy scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def execution_from_dict(d: Mapping) -> Execution:
    """An execution read back from its JSON."""
    order = d.get("order")
    return Execution(
        asof=str(d["asof"]),
        source=str(d["source"]),
        position_id=str(d["position_id"]),
        action=str(d["action"]),
        legs=tuple(
            RecordedFill(
                g["underlying"],
                g["root"],
                g["type"],
                _number(g.get("strike")),
                _date(g["expiry"]),
                float(g["quantity"]),
                float(g["price"]),
                bool(g["opening"]),
            )  # fmt: skip
            for g in d.get("legs") or ()
        ),
        signature=str(d.get("signature", "")),
        source_key=str(d.get("source_key") or ""),
        layer=d.get("layer"),
        order=_order(order) if isinstance(order, Mapping) else None,
        fill=_number(d.get("fill")),
        limit=_number(d.get("limit")),
        slippage=_number(d.get("slippage")),
        slippage_dollars=_number(d.get("slippage_dollars")),
        realised=float(d.get("realised") or 0.0),
        review_id=d.get("review_id"),
        position=str(d.get("position") or ""),
        revision_before=str(d.get("revision_before") or ""),
    )
