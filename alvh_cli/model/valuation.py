"""Pricing a whole book: every leg, and each position's mark and dollar Greeks.

All legs that share a market snapshot are priced in one vectorised call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from alvh_cli.errors import InputError, InputWarning
from alvh_cli.model.dollar_greeks import spx_greeks
from alvh_cli.model.domain import Leg, Market, Position
from alvh_cli.model.legs import LegValues, value_legs
from alvh_cli.model.quotes import find_quote
from alvh_cli.model.timing import new_york_date

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


GROSS_BREAK = 0.05
"""A break of a static bound by more than this share of the strikes' distance is refused
(skew −10 for −1.0 breaks a 50-wide put pair by 30 points, 61 %); a smaller one is
warned of (the quadratic smile's own wing: 1 % of the distance)."""

PRICE_TOLERANCE = 0.05
"""Points by which two model prices may break a static bound before it counts: SPX's
smallest tick. A smaller break cannot be traded (no order locks it in), and a quadratic
smile in k that fits the money shows one deep in its wings (skew −1, smile 2 prices a put
20% out of the money 0.03 above the put 50 points higher); a slipped digit breaks them
by points (skew −10: 30 points)."""


def check_prices(positions: Sequence[Position], market: Market) -> list[InputWarning]:
    """The prices one file's ``positions`` would be valued at in ``market`` obey static
    no-arbitrage: the model at the strikes held (:func:`check_model_bounds`), then each
    vertical held as its legs are priced (:func:`check_verticals`). An InputError names
    the strikes, the prices and where they came from; the loader calls it per file, so a
    bad file costs only itself. Returns the warnings of the model's small breaks."""
    warnings = check_model_bounds(market, [g for p in positions for g in p.legs], positions)
    today = new_york_date(market.asof)
    live = [p for p in positions if p.legs and all(g.expiry >= today for g in p.legs)]
    if not live:
        return warnings  # a position with a leg past its expiry is settled (alvh apply)
    values = value_legs(market, [g for p in live for g in p.legs])
    start = 0
    for p in live:
        stop = start + len(p.legs)
        check_verticals(p, market, _slice(values, start, stop), with_model=True)
        start = stop
    return warnings


def check_model_bounds(
    market: Market, legs: Sequence[Leg], positions: Sequence[Position] = ()
) -> list[InputWarning]:
    """The model — the SVI surface or the quadratic smile, whichever prices a leg with no
    quote, ``iv`` or mark — priced at every strike held of each expiry, a call and a put at
    each, must obey the static bounds no market breaks (Merton 1973; Hull ch. 11): for
    adjacent strikes K1 < K2, ``0 ≤ C(K1) − C(K2) ≤ K2 − K1`` and
    ``0 ≤ P(K2) − P(K1) ≤ K2 − K1`` (a put worth less at a higher strike, or a vertical
    worth more than its width, is a free lunch). A smile that breaks them (``skew = -10``
    for ``-1.0``, ``smile = 1000``) would value a condor below zero and call it a profit:
    an InputError naming the key, the strikes, their prices and the positions holding
    them, when the break exceeds ``GROSS_BREAK`` of the strikes' distance. A smaller one
    is a warning: a quadratic smile that fits the money breaks the bounds by a point or
    so deep in its put wing (skew −1.1, smile 2.5 prices the 4825 put 1.05 above the 4925
    put 37 days out), a flaw of the model's wing, not a typo. Expired legs and VIX options
    without a ``[market.vix_vol]`` are not checked."""
    groups: dict[tuple, set[float]] = {}
    first: dict[tuple, Leg] = {}  # a leg of each group, the probes' pattern
    today = new_york_date(market.asof)
    for g in legs:
        if g.is_option and g.strike is not None and g.expiry >= today:
            groups.setdefault((g.underlying, g.root, g.expiry), set()).add(g.strike)
            first.setdefault((g.underlying, g.root, g.expiry), g)
    probes, where = [], []
    for (underlying, root, expiry), strikes in groups.items():
        if len(strikes) < 2 or (underlying == "VIX" and market.vix_vol is None):
            continue
        model = first[(underlying, root, expiry)]
        for k in sorted(strikes):
            for kind in ("call", "put"):
                probes.append(
                    replace(model, type=kind, strike=k, quantity=1, iv=None, mark=None,
                            mark_time=None, layer=None, key="")
                )  # fmt: skip
                where.append((underlying, root, expiry, k, kind))
    warnings: list[InputWarning] = []
    if not probes:
        return warnings
    values = value_legs(market, probes, use_quotes=False)
    price = {w: float(p) for w, p in zip(where, values.price, strict=True)}
    live = {w[:3] for w, t in zip(where, values.T, strict=True) if t > 0}
    for group in sorted(live, key=str):
        strikes = sorted(groups[group])
        for k1, k2 in zip(strikes[:-1], strikes[1:], strict=True):
            calls = price[(*group, k1, "call")], price[(*group, k2, "call")]
            puts = price[(*group, k1, "put")], price[(*group, k2, "put")]
            broken = _static_bound_broken(k1, k2, calls, puts)
            if broken is None:
                continue
            why, size = broken
            underlying, root, expiry = group
            key, what = _model_key(market, underlying)
            holders = [repr(p.id) for p in positions if any(
                (g.underlying, g.root, g.expiry) == group and g.strike in (k1, k2)
                for g in p.legs)]  # fmt: skip
            held = f" (position {', '.join(holders)})" if holders else ""
            said = (
                f"{what} prices {why} on {root} {expiry}: impossible in any market (a call is "
                "worth less at a higher strike, a put more, a vertical between 0 and its "
                "width)"
            )
            if size > GROSS_BREAK * (k2 - k1):
                raise InputError(
                    f"{said} — a typo in the smile?{held}", _model_source(market, underlying), key
                )
            warnings.append(
                InputWarning(
                    f"{said}: the model's wing is off there; its prices at these strikes are "
                    f"not to be traded on{held}",
                    _model_source(market, underlying),
                    key,
                )
            )
    return warnings


def _static_bound_broken(k1: float, k2: float, calls, puts) -> tuple[str, float] | None:
    """What breaks a static bound between strikes ``k1 < k2`` (their call and put prices),
    and by how many points; None when nothing does."""
    (c1, c2), (p1, p2), width = calls, puts, k2 - k1
    if c2 - c1 > PRICE_TOLERANCE:
        return f"the {k2:g} call at {c2:.2f}, above the {k1:g} call at {c1:.2f},", c2 - c1
    if p1 - p2 > PRICE_TOLERANCE:
        return f"the {k1:g} put at {p1:.2f}, above the {k2:g} put at {p2:.2f},", p1 - p2
    for kind, value in (("call", c1 - c2), ("put", p2 - p1)):
        if value - width > PRICE_TOLERANCE:
            why = f"the {k1:g}/{k2:g} {kind} spread at {value:.2f}, over its {width:g}-point"
            return f"{why} width,", value - width
    return None


def _model_key(market: Market, underlying: str) -> tuple[str, str]:
    """The key of the model that prices ``underlying``'s unquoted options, and its name."""
    if underlying == "VIX":
        v = market.vix_vol
        return "market.vix_vol", f"the VIX smile (skew {v.skew:g}, smile {v.smile:g})"
    if market.spx_surface is not None:
        return "market.spx_svi", "the SVI surface"
    v = market.spx_vol
    return "market.spx_vol", f"the SPX smile (atm {v.atm:g}, skew {v.skew:g}, smile {v.smile:g})"


def _model_source(market: Market, underlying: str) -> str:
    if underlying == "SPX" and market.spx_surface is not None and market.spx_surface.source:
        return market.spx_surface.source
    return market.source


def check_verticals(
    position: Position, market: Market, values: LegValues, *, with_model: bool = False
) -> None:
    """Each vertical held (a short and its wing) is worth between 0 and its width.

    A value outside that means the inputs contradict each other — two quotes or marks,
    or (``with_model``, as the loader checks a file) a quote below the model's price of
    its neighbour, a vertical below zero — and acting on it would read a loss as a
    profit (a condor valued below zero taken as a profit): an input error that names
    them. Quotes' mids may cross by their half spreads plus a nickel. A vertical priced
    on the model alone is left to :func:`check_model_bounds` (a backtest's smile in a
    crash crosses by cents deep in the wing), and one above its width with a stale quote
    to the advice, which says the short strike is breached.
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
        # Mids of far-wing quotes a tick apart can cross by a tick: tolerate the legs'
        # half bid/ask spreads plus a nickel, refuse anything beyond.
        slack = 0.05 + sum(_half_spread(market, g) for g in (short, long_))
        sources = {values.vol_source[i], values.vol_source[j]}
        given = sources <= {"quote", "iv", "mark"}
        mixed = with_model and value < -slack and bool(sources & {"quote", "iv", "mark"})
        if -slack <= value <= width + slack or not (given or mixed):
            continue
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
