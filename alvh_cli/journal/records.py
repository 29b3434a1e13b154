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


def to_dict(record) -> dict:
    """A recorded value (a dataclass of this module) as plain JSON-ready data."""
    return jsonable({f.name: _plain(getattr(record, f.name)) for f in fields(record)})


def _plain(value):
    if is_dataclass(value):
        return to_dict(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


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
