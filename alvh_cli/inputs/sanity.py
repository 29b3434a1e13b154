"""Inputs no market can produce: strikes far from their underlying, expiries years away.

These checks look at two values together — a strike against spot, an expiry
against ``asof`` — so they run where both are known: quotes against their own
``[market]`` table (``build.py``), position legs against the snapshot that
prices them (``book.py``, which may take the snapshot from ``--market``).
Each raises :class:`~alvh_cli.errors.InputError` naming the file, the key and
the position.

The bands are wide on purpose: they catch a slipped digit (``spx = 60000``,
a strike of ``54000`` or ``1e308``), not an unusual trade.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from alvh_cli.errors import InputError
from alvh_cli.inputs.show import show_num
from alvh_cli.model.domain import Market, PositionFile

# A strike within 1/5 to 5x of its underlying. SPX condors and their wings sit
# within a few percent of spot, VIX hedges within 1/2 to 3x of the VIX futures:
# outside 1/5..5x the number is a typo, not a trade.
STRIKE_BAND = 5.0
# Listed SPX and VIX expiries a condor trader meets are under 3 years out;
# 2099 is a typo for 2029 or 2026.
MAX_YEARS_OUT = 3


def latest_expiry(asof: date) -> date:
    """The last expiry alvh accepts for a snapshot of ``asof``: the same day 3 years on
    (28 February for a 29 February asof)."""
    try:
        return asof.replace(year=asof.year + MAX_YEARS_OUT)
    except ValueError:  # 29 February
        return asof.replace(year=asof.year + MAX_YEARS_OUT, day=28)


def check_horizon(
    expiry: date, asof: date, source: str, key: str, position: str | None = None
) -> None:
    """Refuse an expiry more than ``MAX_YEARS_OUT`` years after ``asof`` (New York dates);
    ``position`` is the id of the position the expiry belongs to, if any."""
    last = latest_expiry(asof)
    if expiry > last:
        whose = f"; position {position!r}" if position is not None else ""
        raise InputError(
            f"{expiry} is more than {MAX_YEARS_OUT} years after asof {asof} — a typo? "
            f"(alvh takes expiries up to {last}{whose})",
            source,
            key,
        )


def _outside(strike: float, low_ref: float, high_ref: float) -> str | None:
    """``"above"`` when ``strike`` > 5 × ``high_ref``, ``"below"`` when < ``low_ref`` / 5."""
    if strike > STRIKE_BAND * high_ref:
        return "above"
    if strike * STRIKE_BAND < low_ref:
        return "below"
    return None


def _strike_message(strike: float, side: str, low: tuple[str, float], high: tuple[str, float]):
    if side == "above":
        return f"{show_num(strike)} is more than {STRIKE_BAND:g}x {high[0]} — a typo?"
    return f"{show_num(strike)} is less than 1/{STRIKE_BAND:g} of {low[0]} — a typo?"


def vix_references(market: Market) -> tuple[tuple[str, float], tuple[str, float]]:
    """The lowest and the highest of spot VIX and its futures, each with a label.

    A VIX option's strike is judged against the whole curve: its own future
    is what it prices on, and a hedge strike well above spot VIX is normal in
    contango."""
    points = [(f"VIX {show_num(market.vix)}", market.vix)] + [
        (f"the VIX future {f.expiry} ({show_num(f.price)})", f.price) for f in market.vix_futures
    ]
    return min(points, key=lambda p: p[1]), max(points, key=lambda p: p[1])


def _check_spx_strikes(
    items: Sequence[tuple[str, float]],
    market: Market,
    source: str,
    whose: str,
    suffix: str = "",
) -> None:
    """SPX strikes (key, strike) against ``market.spx``.

    When two or more strikes are all out of band on the same side, it is the
    spot that slipped: the error names ``market.spx`` in the market's file.
    Otherwise it names the first strike out of band (and, when it is the only
    strike, says either may have slipped)."""
    spot = (f"SPX {show_num(market.spx)}", market.spx)
    sides = [_outside(strike, market.spx, market.spx) for _, strike in items]
    if len(items) >= 2 and sides[0] is not None and all(s == sides[0] for s in sides):
        strikes = sorted(strike for _, strike in items)
        span = f"({show_num(strikes[0])} to {show_num(strikes[-1])})"
        band = f"{STRIKE_BAND:g}"
        rel = f"more than {band}x" if sides[0] == "below" else f"less than 1/{band} of"
        raise InputError(
            f"{show_num(market.spx)} is {rel} every strike of {whose} {span} — a typo?",
            market.source or source,
            "market.spx",
        )
    for (key, strike), side in zip(items, sides, strict=True):
        if side is not None:
            message = _strike_message(strike, side, spot, spot)
            if len(items) == 1:  # one strike against the spot: either may have slipped
                message = message.replace("a typo?", "a typo in the strike or in market.spx?")
            raise InputError(message + suffix, source, key)


def check_quote_strikes(market: Market, quote_keys: Sequence[str], source: str) -> None:
    """Every quote's strike within 1/5..5x of its underlying (SPX spot; VIX and its futures).

    ``quote_keys[i]`` is where ``market.quotes[i]``'s strike sits in the file
    (``market.quotes[3].strike`` or ``.occ``)."""
    spx = [
        (key, q.strike)
        for q, key in zip(market.quotes, quote_keys, strict=True)
        if q.underlying == "SPX"
    ]
    _check_spx_strikes(spx, market, source, "the SPX quotes")
    low, high = vix_references(market)
    for q, key in zip(market.quotes, quote_keys, strict=True):
        if q.underlying == "VIX":
            side = _outside(q.strike, low[1], high[1])
            if side is not None:
                raise InputError(_strike_message(q.strike, side, low, high), source, key)


def check_position_strikes(position_file: PositionFile, market: Market) -> None:
    """Every leg's strike within 1/5..5x of its underlying in the snapshot that prices it.

    SPX legs against ``market.spx`` (a whole condor out of band on one side
    blames the spot), VIX option legs against VIX and its futures."""
    low, high = vix_references(market)
    for p in position_file.positions:
        suffix = f" (position {p.id!r})"
        spx = [(f"{g.key}.strike", g.strike) for g in p.legs if g.underlying == "SPX"]
        _check_spx_strikes(spx, market, position_file.path, f"position {p.id!r}", suffix)
        for g in p.legs:
            if g.underlying == "VIX" and g.strike is not None:
                side = _outside(g.strike, low[1], high[1])
                if side is not None:
                    raise InputError(
                        _strike_message(g.strike, side, low, high) + suffix,
                        position_file.path,
                        f"{g.key}.strike",
                    )
