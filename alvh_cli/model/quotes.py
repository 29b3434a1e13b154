"""Quotes in a market snapshot: finding a contract's quote and its natural price (points)."""

from __future__ import annotations

from datetime import date

from alvh_cli.model.domain import Leg, Market, Quote

# A quote much wider than its neighbours: more than WIDE_FACTOR times the median width of
# the NEIGHBOURS nearest quoted strikes on each side (same underlying, root, type and
# expiry), and at least WIDE_MIN wider than it
WIDE_FACTOR = 3.0
WIDE_MIN = 0.20  # points: below this, a wide-looking quote is a tick or two
NEIGHBOURS = 3  # quoted strikes on each side

_INDEXES: dict[int, tuple[tuple[Quote, ...], dict]] = {}


def quote_index(quotes: tuple[Quote, ...]) -> dict[tuple, list[Quote]]:
    """Quotes by contract, built once per quotes tuple. Keyed by identity: hashing the
    tuple (every frozen Quote) on each lookup cost more than the lookups themselves."""
    hit = _INDEXES.get(id(quotes))
    if hit is not None and hit[0] is quotes:
        return hit[1]
    index: dict[tuple, list[Quote]] = {}
    for q in quotes:
        index.setdefault((q.underlying, q.type, _strike_key(q.strike), q.expiry), []).append(q)
    if len(_INDEXES) >= 16:
        _INDEXES.clear()
    _INDEXES[id(quotes)] = (quotes, index)  # keeps the tuple alive, so the id stays its own
    return index


def _strike_key(strike: float) -> float:
    return round(float(strike), 6)


def find_quote(
    market: Market,
    leg_or_underlying: Leg | str,
    type: str | None = None,
    strike: float | None = None,
    expiry: date | None = None,
    root: str | None = None,
) -> Quote | None:
    """The quote for a contract, or None.

    Call as ``find_quote(market, leg)`` or
    ``find_quote(market, "SPX", "put", 5400, date(2026, 12, 18), root="SPXW")``.
    Underlying, type, strike and expiry must match; a quote that names a root
    must match the contract's root (a quote without one matches any root), and
    a quote naming the exact root is preferred.
    """
    if isinstance(leg_or_underlying, Leg):
        leg = leg_or_underlying
        underlying, type, strike, expiry, root = (
            leg.underlying,
            leg.type,
            leg.strike,
            leg.expiry,
            leg.root,
        )
    else:
        underlying = leg_or_underlying
    if not market.quotes:
        return None
    return lookup_quote(quote_index(market.quotes), underlying, type, strike, expiry, root)


def lookup_quote(index, underlying, type, strike, expiry, root) -> Quote | None:
    """The quote for a contract in a :func:`quote_index` (the rules of :func:`find_quote`)."""
    if strike is None or type not in ("put", "call"):
        return None
    candidates = index.get((underlying, type, _strike_key(strike), expiry))
    if not candidates:
        return None
    if root is None:
        return candidates[0]
    fallback = None
    for q in candidates:
        if q.root == root:
            return q
        if q.root is None and fallback is None:
            fallback = q
    return fallback


def natural_price(
    market: Market,
    underlying: str,
    type: str,
    strike: float,
    expiry: date,
    side: str,
    root: str | None = None,
) -> float | None:
    """The natural price: the ask to ``"buy"``, the bid to ``"sell"``; None when unquoted."""
    if side not in ("buy", "sell"):
        raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")
    quote = find_quote(market, underlying, type, strike, expiry, root)
    if quote is None:
        return None
    return quote.ask if side == "buy" else quote.bid
