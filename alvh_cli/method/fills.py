"""A fill applied to a position: the legs an order closes and opens, at the trader's price.

An order (:mod:`alvh_cli.method.orders`) is filled at one net price per unit; the legs get
their own prices by moving each leg's assumed fill by the same amount per contract, buys
up and sells down, until the legs net to the price filled (a leg never below 0). What
the order closes is taken from the legs held, oldest first; a partial close splits a leg
into the part still held and the part closed. Legs opened carry the day and, when alvh
recommended them, their layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from alvh_cli.method.orders import Order, Trade
from alvh_cli.model.domain import Leg, Position


class NotHeld(ValueError):
    """An order closes a contract the position no longer holds (in that size)."""


def allocate(order: Order, fill: float) -> list[Trade]:
    """The order's legs as trades whose prices net to ``fill`` per unit (points, ≥ 0, in the
    order's direction: paid for a debit, received for a credit)."""
    legs = list(order.legs)
    sign = [1.0 if g.is_buy else -1.0 for g in legs]
    target = fill if order.price_effect == "debit" else -fill
    prices = [float(g.price) for g in legs]
    free = list(range(len(legs)))
    for _ in range(len(legs) + 1):  # each round pins at most one more leg at 0
        net = sum(s * g.ratio * p for s, g, p in zip(sign, legs, prices, strict=True))
        weight = sum(legs[i].ratio for i in free)
        if not free or math.isclose(net, target, abs_tol=1e-12):
            break
        shift = (target - net) / weight
        pinned = False
        for i in list(free):
            moved = prices[i] + sign[i] * shift
            if moved < 0:
                prices[i], pinned = 0.0, True
                free.remove(i)
            else:
                prices[i] = moved
        if not pinned:
            break
    prices = _rounded(prices, legs, sign, target)
    return [
        Trade(g.underlying, g.root, g.type, g.strike, g.expiry,
              g.quantity if g.is_buy else -g.quantity, g.action.endswith("TO"), p, g.model)
        for g, p in zip(legs, prices, strict=True)
    ]  # fmt: skip


PRICE_DECIMALS = 4  # a leg's price as written: a hundredth of a cent a point


def _rounded(prices: list[float], legs, sign: list[float], target: float) -> list[float]:
    """The prices to ``PRICE_DECIMALS``, the rounding taken up by the leg of the largest
    ratio, so the legs still net to ``target`` (itself on the tick) and read back as
    written."""
    out = [round(p, PRICE_DECIMALS) for p in prices]
    net = sum(s * g.ratio * p for s, g, p in zip(sign, legs, out, strict=True))
    k = max(range(len(legs)), key=lambda i: (legs[i].ratio, out[i]))
    out[k] = round(max(out[k] + sign[k] * (target - net) / legs[k].ratio, 0.0), PRICE_DECIMALS)
    return out


def apply_trades(
    position: Position,
    trades: Sequence[Trade],
    day: date,
    layer: int | None = None,
    entry_vix: float | None = None,
) -> Position:
    """``position`` after ``trades`` on ``day``: closing trades close legs held (oldest
    first, splitting a leg closed in part), opening ones add legs at their prices, marked
    with ``layer`` (and ``entry_vix`` on VIX legs) when alvh recommended them. Raises
    :class:`NotHeld` when a closing trade finds less held than it closes."""
    held = list(position.legs)
    closed = list(position.closed)
    for t in trades:
        if not t.opening:
            held, done = _close(held, t, day)
            closed += done
            continue
        held.append(
            Leg(
                t.underlying,
                t.root,
                t.type,
                t.strike,
                t.expiry,
                t.quantity,
                float(t.price),
                layer=layer,
                entry_vix=entry_vix if t.underlying == "VIX" else None,
                opened=day,
            )  # fmt: skip
        )
    return replace(position, legs=tuple(held), closed=tuple(closed))


def _close(held: list[Leg], t: Trade, day: date) -> tuple[list[Leg], list[Leg]]:
    left = -t.quantity  # the held quantity this trade takes away (signed like the legs)
    order = sorted(
        (i for i, g in enumerate(held) if g.contract == t.contract and g.quantity * left > 0),
        key=lambda i: (held[i].opened or date.min, i),
    )
    done: list[Leg] = []
    out = list(held)
    for i in order:
        if left == 0:
            break
        g = held[i]
        take = left if abs(left) <= abs(g.quantity) else g.quantity
        if take == g.quantity:
            out[i] = None
            done.append(replace(g, closed=day, exit_price=float(t.price)))
        else:
            out[i] = replace(g, quantity=g.quantity - take)
            done.append(replace(g, quantity=take, closed=day, exit_price=float(t.price), key=""))
        left -= take
    if left != 0:
        what = f"{t.root} {t.type} {t.strike:g} {t.expiry}" if t.strike else f"{t.root} {t.type}"
        raise NotHeld(f"{what}: {abs(t.quantity)} to close, {abs(t.quantity) - abs(left)} held")
    return [g for g in out if g is not None], done


def settlement_trades(position: Position, spx: float | None, vix: float | None) -> list[Trade]:
    """Closing trades for every leg held at its expiry's settlement value: ``spx`` the SPX
    settlement (the special opening quotation for AM-settled SPX, the close for SPXW),
    ``vix`` the VIX settlement (VRO) for VIX options and futures. Intrinsic values per
    contract; a leg whose settlement is not given is left held."""
    out = []
    for g in position.legs:
        level = spx if g.underlying == "SPX" else vix
        if level is None:
            continue
        if g.type == "future":
            value = float(level)
        elif g.type == "call":
            value = max(level - g.strike, 0.0)
        else:
            value = max(g.strike - level, 0.0)
        out.append(Trade(*g.contract, -g.quantity, False, value))
    return out


def signature(trades: Sequence[Trade]) -> str:
    """The trades in a few words, the same for the same order: "BTC 10 SPXW 2026-12-18
    5650 put; STC 10 SPXW 2026-12-18 5550 put"."""
    return "; ".join(
        sorted(
            f"{t.action} {abs(t.quantity):g} {t.root} {t.expiry} "
            f"{'' if t.strike is None else f'{t.strike:g} '}{t.type}"
            for t in trades
        )
    )
