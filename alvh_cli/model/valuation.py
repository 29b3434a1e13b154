"""Pricing a whole book: every leg, and each position's mark and dollar Greeks.

All legs that share a market snapshot are priced in one vectorised call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alvh_cli.errors import InputError, InputWarning
from alvh_cli.model.dollar_greeks import spx_greeks
from alvh_cli.model.domain import Leg, Market, Position
from alvh_cli.model.legs import LegValues, value_legs
from alvh_cli.model.pricing import sized_normal
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


@sized_normal()  # a book's values the same whatever ran before in the process
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
    the strikes, the prices and where they came from. Returns the warnings of the model's
    small breaks. A book's files are checked together by :func:`check_files_prices`."""
    (outcome,) = check_files_prices([positions], market)
    if isinstance(outcome, InputError):
        raise outcome
    return outcome


def check_files_prices(
    files: Sequence[Sequence[Position]], market: Market
) -> list[list[InputWarning] | InputError]:
    """:func:`check_prices` of each file's positions in ``market``: its warnings, or the
    InputError that refuses it (one bad file costs only itself).

    A pricing call costs mostly per call, and files of one book share their snapshot
    and most of their strikes: so the model is priced once at each strike any file
    holds, and the live legs of all the files in one call. Each leg is priced element
    by element as it would be alone, so every file gets what it would get alone. Should
    pricing itself refuse (a VIX option with no smile or future to price it), the files
    are priced one by one, so that only the files it concerns are refused.
    """
    today = new_york_date(market.asof)
    every = [g for positions in files for p in positions for g in p.legs]
    live = [[p for p in positions if p.legs and all(g.expiry >= today for g in p.legs)]
            for positions in files]  # fmt: skip
    try:
        probes = _probe_prices(market, _strike_groups(market, every))
        values = value_legs(market, [g for ps in live for p in ps for g in p.legs])
    except InputError:
        if len(files) == 1:
            return [_refused(market, files[0], live[0])]
        return [check_files_prices([positions], market)[0] for positions in files]
    out: list[list[InputWarning] | InputError] = []
    start = 0
    for positions, held in zip(files, live, strict=True):
        stop = start + sum(len(p.legs) for p in held)
        try:
            legs = [g for p in positions for g in p.legs]
            warnings = _model_bounds(market, _strike_groups(market, legs), probes, positions)
            _check_live_verticals(market, held, _slice(values, start, stop))
        except InputError as exc:
            out.append(exc)
        else:
            out.append(warnings)
        start = stop
    return out


def _refused(market: Market, positions: Sequence[Position], live) -> InputError:
    """The error pricing raises for one file, where :func:`check_prices` meets it: the
    model at its strikes first, then its live legs."""
    try:
        legs = [g for p in positions for g in p.legs]
        probes = _probe_prices(market, _strike_groups(market, legs))
        _model_bounds(market, _strike_groups(market, legs), probes, positions)
        _check_live_verticals(market, live, value_legs(market, [g for p in live for g in p.legs]))
    except InputError as exc:
        return exc
    raise AssertionError("pricing refused the files together, not alone")  # pragma: no cover


def _check_live_verticals(market: Market, live: Sequence[Position], values: LegValues) -> None:
    """:func:`check_verticals` with the model of each position of ``live`` (positions with
    no leg past its expiry; ``values`` their legs in order)."""
    start = 0
    for p in live:
        stop = start + len(p.legs)
        price, sources = values.price[start:stop], values.vol_source[start:stop]
        _check_verticals(p, market, price, sources, with_model=True)
        start = stop


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
    groups = _strike_groups(market, legs)
    return _model_bounds(market, groups, _probe_prices(market, groups), positions)


def _strike_groups(market: Market, legs: Sequence[Leg]) -> dict[tuple, set[float]]:
    """The strikes held of each (underlying, root, expiry) of ``legs`` whose model
    :func:`check_model_bounds` checks: live options, two strikes or more, VIX ones only
    with a VIX smile."""
    groups: dict[tuple, set[float]] = {}
    today = new_york_date(market.asof)
    for g in legs:
        if g.is_option and g.strike is not None and g.expiry >= today:
            groups.setdefault((g.underlying, g.root, g.expiry), set()).add(g.strike)
    return {
        group: strikes
        for group, strikes in groups.items()
        if len(strikes) >= 2 and not (group[0] == "VIX" and market.vix_vol is None)
    }


def _probe_prices(market: Market, groups: dict[tuple, set[float]]) -> dict[tuple, tuple]:
    """The model's price of a call and a put of one contract at each strike of ``groups``,
    and its years to settlement: ``(underlying, root, expiry, strike, type) → (price, T)``.
    Only the contract and the market move an unquoted price, so any leg of it will do."""
    where = [
        (underlying, root, expiry, k, kind)
        for (underlying, root, expiry), strikes in groups.items()
        for k in sorted(strikes)
        for kind in ("call", "put")
    ]
    if not where:
        return {}
    probes = [Leg(u, r, kind, k, e, 1, 0.0) for u, r, e, k, kind in where]
    values = value_legs(market, probes, use_quotes=False)
    priced = zip(values.price.tolist(), values.T.tolist(), strict=True)
    return dict(zip(where, priced, strict=True))


def _model_bounds(
    market: Market, groups: dict[tuple, set[float]], probes: dict[tuple, tuple], positions
) -> list[InputWarning]:
    """:func:`check_model_bounds` of ``groups`` given the model's prices there (``probes``,
    :func:`_probe_prices`)."""
    warnings: list[InputWarning] = []
    live = [group for group in groups if probes[(*group, min(groups[group]), "call")][1] > 0]
    for group in sorted(live, key=str):
        strikes = sorted(groups[group])
        for k1, k2 in zip(strikes[:-1], strikes[1:], strict=True):
            calls = probes[(*group, k1, "call")][0], probes[(*group, k2, "call")][0]
            puts = probes[(*group, k1, "put")][0], probes[(*group, k2, "put")][0]
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
    _check_verticals(position, market, values.price, values.vol_source, with_model)


def _check_verticals(
    position: Position, market: Market, price: np.ndarray, vol_source, with_model: bool
) -> None:
    """:func:`check_verticals` on the legs' prices and the sources of their vols alone (in
    the order of ``position.legs``): a book's check takes them from the arrays of all its
    legs, with no LegValues made for each position."""
    index = {id(g): i for i, g in enumerate(position.legs)}
    for side in ("put", "call"):
        pair = position.vertical(side, market.spx)
        if pair is None or pair[1] is None:
            continue
        short, long_ = pair
        i, j = index[id(short)], index[id(long_)]
        value = float(price[i] - price[j])
        width = abs(short.strike - long_.strike)
        # Mids of far-wing quotes a tick apart can cross by a tick: tolerate the legs'
        # half bid/ask spreads plus a nickel, refuse anything beyond.
        slack = 0.05 + sum(_half_spread(market, g) for g in (short, long_))
        sources = {vol_source[i], vol_source[j]}
        given = sources <= {"quote", "iv", "mark"}
        mixed = with_model and value < -slack and bool(sources & {"quote", "iv", "mark"})
        if -slack <= value <= width + slack or not (given or mixed):
            continue
        where = []
        for g, k in ((short, i), (long_, j)):
            q = find_quote(market, g)
            src = vol_source[k]
            if src == "quote" and q is not None:
                where.append(f"market.quotes[{market.quotes.index(q)}] mid {q.mid:g}")
            else:
                where.append(f"{g.key} ({src} {float(price[k]):.2f})")
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
