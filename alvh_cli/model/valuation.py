"""Pricing a whole book: every leg, and each position's mark and dollar Greeks.

All legs that share a market snapshot are priced in one vectorised call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alvh_cli.errors import InputError
from alvh_cli.model.dollar_greeks import spx_greeks
from alvh_cli.model.domain import Leg, Market, Position
from alvh_cli.model.legs import LegValues, value_legs
from alvh_cli.model.quotes import find_quote

GREEKS = ("delta", "gamma", "vega", "theta")


@dataclass(frozen=True)
class PositionValues:
    """One position priced: its legs' values and the figures a trader reads.

    ``market`` is the snapshot it was priced in; ``rules`` the rules in force for
    it (a :class:`alvh_cli.model.rules.Rules`: the engine reads it, valuation
    only its ``vix_beta`` and ``vix_term_kappa``).
    """

    position: Position
    market: Market
    rules: Any
    legs: tuple[Leg, ...]
    values: LegValues  # per leg, same order as ``legs``
    spx_dollars: dict[str, np.ndarray]  # per leg $ Greeks in SPX terms
    debit_to_close: float  # points per opening unit: Position.net_debit
    mark_multiple: float
    pnl: float  # dollars, the legs held, against their entry prices
    greeks: dict[str, dict[str, float]] = field(default_factory=dict)  # condor/hedges/total
    realised: float = 0.0  # dollars, the legs closed (Position.realised)
    open_multiple: float = 0.0  # what the layers follow: the mark, or after a change the risk held

    def __post_init__(self):
        if not self.open_multiple:
            object.__setattr__(self, "open_multiple", self.mark_multiple)


def _slice(values: LegValues, start: int, stop: int) -> LegValues:
    sliced = {}
    for name, value in vars(values).items():
        sliced[name] = value[start:stop] if isinstance(value, (np.ndarray, tuple)) else value
    return type(values)(**sliced)


def value_book(loaded: Sequence) -> list[PositionValues]:
    """Price every position of every loaded file (``alvh_cli.model.book.LoadedFile``: a
    file with its market and rules); one pricing call per distinct market snapshot."""
    groups: dict[int, list[tuple[Any, Position]]] = {}
    markets = {}
    for lf in loaded:
        key = id(lf.market)
        markets[key] = lf.market
        groups.setdefault(key, []).extend((lf, p) for p in lf.file.positions)
    out: dict[tuple[int, int], PositionValues] = {}
    for key, items in groups.items():
        market = markets[key]
        legs = [g for _, p in items for g in p.legs]
        values = value_legs(market, legs)
        start = 0
        for lf, p in items:
            stop = start + len(p.legs)
            pv = summarise(p, lf.market, lf.rules, _slice(values, start, stop))
            out[(id(lf), id(p))] = pv
            start = stop
    return [out[(id(lf), id(p))] for lf in loaded for p in lf.file.positions]


def summarise(position: Position, market: Market, rules, values: LegValues) -> PositionValues:
    """``position`` valued (``values``, its legs in order) in ``market`` under ``rules``."""
    legs = position.legs
    check_verticals(position, market, values)
    condor = np.array([g.layer is None for g in legs], dtype=bool)
    debit = position.net_debit(values.price.tolist())
    entry = np.array([g.entry_price for g in legs], dtype=float)
    pnl = float(((values.price - entry) * values.quantity * values.multiplier).sum())
    dollars = spx_greeks(legs, values, market, rules.vix_beta, rules.vix_term_kappa)
    greeks = {
        part: {n: float(dollars[n][mask].sum()) for n in GREEKS}
        for part, mask in (("condor", condor), ("hedges", ~condor), ("total", np.ones_like(condor)))
    }
    mark = debit / position.credit
    held = position.open_multiple(values.price.tolist()) if position.changed else None
    return PositionValues(
        position, market, rules, legs, values, dollars, debit, mark, pnl, greeks,
        position.realised(), mark if held is None else held,
    )  # fmt: skip


def check_verticals(position: Position, market: Market, values: LegValues) -> None:
    """Each vertical held (a short and its wing) is worth between 0 and its width.

    When both legs are priced from the user's quotes (or ``iv``, or the broker's marks),
    a value outside that means the inputs contradict each other: acting on it would
    read a loss as a profit, so it is an input error that names them. (A leg on the
    model smile can sit slightly off a quoted neighbour; that is left to the smile.)
    """
    index = {id(g): i for i, g in enumerate(position.legs)}
    for side in ("put", "call"):
        pair = position.vertical(side, market.spx)
        if pair is None or pair[1] is None:
            continue
        short, long_ = pair
        i, j = index[id(short)], index[id(long_)]
        value = float(values.price[i] - values.price[j])
        width = abs(short.strike - long_.strike)
        given = {values.vol_source[i], values.vol_source[j]} <= {"quote", "iv", "mark"}
        # Mids of far-wing quotes a tick apart can cross by a tick: tolerate the legs'
        # half bid/ask spreads plus a nickel, refuse anything beyond.
        slack = 0.05 + sum(_half_spread(market, g) for g in (short, long_))
        if -slack <= value <= width + slack or not given:
            continue  # a leg on the smile: the smile's wing or its level, not a typo
        where = []
        for g, k in ((short, i), (long_, j)):
            q = find_quote(market, g)
            src = values.vol_source[k]
            if src == "quote" and q is not None:
                where.append(f"market.quotes[{market.quotes.index(q)}] mid {q.mid:g}")
            else:
                where.append(f"{g.key} ({src} {float(values.price[k]):.2f})")
        quoted = any(w.startswith("market.quotes") for w in where)
        raise InputError(
            f"the {side} spread {min(short.strike, long_.strike):g}/"
            f"{max(short.strike, long_.strike):g} prices at {value:.2f}, outside 0 to its "
            f"{width:g}-point width: {' vs '.join(where)} contradict each other "
            f"(position {position.id!r})",
            (market.source if quoted else position.source) or market.source or position.source,
            "market.quotes" if quoted else position.key,
        )


def _half_spread(market, leg) -> float:
    q = find_quote(market, leg)
    return 0.5 * (q.ask - q.bid) if q is not None else 0.0
