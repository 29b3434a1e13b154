"""Loading, stage 4: what the built objects say together, checked before anything prices them.

A file's own values: expiries on trading days, listed by their root (SPX
only on the monthly expiry); each position's condor (long
put < short put < short call < long call, one expiry, root and size) and a
credit within its widest wing; a snapshot from a trading day, VIX futures
not expired before its day and near spot VIX, quotes with bid <= ask, SVI
slices of live expiries with forwards near spot, one future, quote and slice
per contract. Then the position against the snapshot that prices it (its own,
or ``--market``'s): opened by ``asof``, not settled by it, expiries at most 3
years on, strikes within a band around their underlying. The bands are wide on
purpose: they catch a slipped digit (``spx = 60000``, a strike of ``54000`` or
``1e308``), not an unusual trade.

Each check raises :class:`~alvh_cli.errors.InputError` naming the file, the
key (``build.Layout`` says where each value was written) and the position.
The checks run in the file's order, so the first problem of a file is the
first one reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime

from alvh_cli.errors import InputError
from alvh_cli.inputs.build import Layout
from alvh_cli.inputs.shape import (
    check_leg_dates,
    check_net_credit,
    check_opening,
    every_leg,
)
from alvh_cli.inputs.show import show_num
from alvh_cli.model.contracts import WEEKLY_ROOT, lists_expiry, tick_size
from alvh_cli.model.domain import Leg, Market, Position, PositionFile
from alvh_cli.model.exchange import is_business_day, previous_business_day
from alvh_cli.model.expirations import spx_monthly_expiration
from alvh_cli.model.timing import (
    aware,
    new_york_date,
    new_york_stamp,
    settlement_instant,
    settlement_timestamp,
)

# A strike within 1/5 to 5x of its underlying. SPX condors and their wings sit
# within a few percent of spot, VIX hedges within 1/2 to 3x of the VIX futures:
# outside 1/5..5x the number is a typo, not a trade.
STRIKE_BAND = 5.0
# Listed SPX and VIX expiries a condor trader meets are under 3 years out;
# 2099 is a typo for 2029 or 2026.
MAX_YEARS_OUT = 3
VIX_FUTURE_FACTOR = 3.0  # a VIX future more than 3x away from spot VIX is a typo
FORWARD_FACTOR = 2.0  # an SPX forward more than 2x away from spx is a typo, not a carry
ATM_FACTOR = 3.0  # an SPX ATM vol more than 3x away from VIX/100 is a typo
# Seconds a snapshot's asof may run ahead of the clock before it is refused: two computers'
# clocks (the one that took the snapshot and this one) can disagree by that much.
CLOCK_SKEW_S = 60.0


def check_loaded(
    position_file: PositionFile, layout: Layout, snapshot: Market | None, allow_expired: bool
) -> None:
    """A position file to be priced in ``snapshot`` (its own market or a shared one): the
    file's own values (:func:`check_file`), that there is a snapshot, and the positions
    against it (:func:`check_expiries`, :func:`check_position_strikes`)."""
    check_file(position_file, layout)
    if snapshot is None:
        raise InputError(
            "no [market] table in the file and no {flag:market} given", position_file.path, "market"
        )
    check_expiries(position_file, snapshot, allow_expired)
    check_position_strikes(position_file, snapshot)


def check_file(position_file: PositionFile, layout: Layout) -> None:
    """A position file's own values: each position, then its market (if it has one)."""
    for position in position_file.positions:
        try:
            _check_position(position, layout, position_file.path)
        except InputError as exc:
            raise InputError(
                f"{exc.message} (position {position.id!r})", exc.source, exc.key, exc.line
            ) from None
    if position_file.market is not None:
        check_market(position_file.market, layout)


def check_market(market: Market, layout: Layout, now: datetime | None = None) -> None:
    """A market snapshot's own values (module docstring), in the file's order: ``asof``
    (with ``now``, the clock, not in the future: :func:`check_not_future`, before the
    checks it would fail, such as every future expired), the VIX futures, the quotes, the
    SVI slices, then the quotes' strikes."""
    today = check_asof_trading_day(market.asof, market.source)
    if now is not None:
        check_not_future(market, now)
    _check_futures(market, layout, today)
    _check_spx_atm(market, layout)
    strike_keys = _check_quotes(market, layout, today)
    _check_slices(market, layout)
    check_quote_strikes(market, strike_keys, market.source)


# ------------------------------------------------------------------ positions


def _check_position(position: Position, layout: Layout, source: str) -> None:
    """Trading-day expiries listed by their root, each leg's dates, the opening legs' shape,
    and a credit of at least the exchange's minimum tick within the widest wing."""
    every = every_leg(position)
    from_occ = [g.key in layout.by_occ for g in every]
    for g, occ in zip(every, from_occ, strict=True):
        what = "VIX futures" if g.type == "future" else "options"
        check_trading_day(g.expiry, what, source, f"{g.key}.{'occ' if occ else 'expiry'}")
        check_listed(g, source, f"{g.key}.{'occ' if occ else 'root'}")
        check_strike_listed(g, source, f"{g.key}.{'occ' if occ else 'strike'}")
        check_leg_dates(g, position, source)
    occ_of = {id(g): occ for g, occ in zip(every, from_occ, strict=True)}
    trade = position.opening_trade  # a leg closed in part is two legs of one contract
    wings = check_opening(list(trade), [occ_of.get(id(g), False) for g in trade], source,
                          position.key)  # fmt: skip
    given = position.key in layout.credit_given
    if not given:
        check_net_credit(position, source)
    credit = position.credit
    tick = tick_size(wings[0][0].root, credit, complex=True)
    if credit < tick - 1e-9:
        what = "" if given else " (the net entry premium of the condor legs)"
        raise InputError(
            f"a credit of {show_num(credit)}{what} is below the minimum tick of "
            f"{show_num(tick)} points: no condor or vertical opens for less (per unit, in "
            "points: 8.85, not 0.0885)",
            source,
            f"{position.key}.credit",
        )
    width = max(abs(short.strike - long_.strike) for short, long_ in wings)
    if credit > width + 1e-9:
        what = "" if given else " (the net entry premium of the condor legs)"
        kind = "iron condor" if len(wings) == 2 else "vertical"
        raise InputError(
            f"a credit of {show_num(credit)}{what} exceeds the widest wing "
            f"({show_num(width)} points): "
            f"no {kind} can take in more than its width",
            source,
            f"{position.key}.credit",
        )


def check_listed(g: Leg, source: str, key: str) -> None:
    """A leg's root lists its expiry (:func:`alvh_cli.model.contracts.lists_expiry`): an
    SPX (AM-settled) option expires only on the monthly expiration."""
    if lists_expiry(g.root, g.expiry):
        return
    monthly = spx_monthly_expiration(g.expiry.year, g.expiry.month)
    raise InputError(
        f"{g.root} options (AM-settled) expire only on the monthly expiration "
        f"({monthly:%B %Y}: {monthly}); {g.expiry} is listed as {WEEKLY_ROOT[g.root]} "
        "(PM-settled)",
        source,
        key,
    )


SPX_STRIKE_STEP = 5.0
"""SPX and SPXW strikes are listed at multiples of 5 points (Cboe: "$5, $10, $25, $50, $100
and $200" intervals), so a strike off that grid is no contract: a typo."""


def check_strike_listed(g: Leg, source: str, key: str) -> None:
    """An SPX option's strike is on the 5-point grid every SPX/SPXW strike is listed on."""
    if g.underlying != "SPX" or g.strike is None:
        return
    steps = g.strike / SPX_STRIKE_STEP
    if abs(steps - round(steps)) > 1e-9:
        below = math.floor(steps) * SPX_STRIKE_STEP
        raise InputError(
            f"{show_num(g.strike)} is not a listed strike: SPX and SPXW strikes are "
            f"multiples of {show_num(SPX_STRIKE_STEP)} points ({show_num(below)} or "
            f"{show_num(below + SPX_STRIKE_STEP)}?)",
            source,
            key,
        )


# ------------------------------------------------------------------ the market


def _check_futures(market: Market, layout: Layout, today: date) -> None:
    """Each VIX future (in the file's order): a trading-day expiry, not before the
    snapshot's day and at most 3 years on, one per expiry, a price within a factor 3 of
    spot VIX."""
    source = market.source
    seen: dict[date, str] = {}
    for i, f in enumerate(layout.futures):
        k = f"market.vix_futures[{i}]"
        check_trading_day(f.expiry, "VIX futures", source, f"{k}.expiry")
        check_future_expiry(f.expiry, today, source, f"{k}.expiry")
        check_horizon(f.expiry, today, source, f"{k}.expiry")
        if f.expiry in seen:
            raise InputError(
                f"duplicate expiry {f.expiry} (also {seen[f.expiry]})", source, f"{k}.expiry"
            )
        seen[f.expiry] = k
        check_future_price(f.price, market.vix, source, f"{k}.price")


def _check_spx_atm(market: Market, layout: Layout) -> None:
    """The smile's ATM vol within a factor 3 of VIX/100 (:func:`check_atm`), where the
    file gives a smile."""
    if layout.spx_vol_given and market.spx_vol is not None:
        check_atm(market.spx_vol.atm, market.vix, market.source, "market.spx_vol.atm")


def check_atm(atm: float, vix: float, source: str = "", key: str = "", option=None) -> None:
    """An SPX ATM vol within a factor 3 of VIX/100: VIX is the 30-day implied vol of SPX
    options, so the money's vol is near it at any listed tenor (0.001 for 0.122 priced a
    condor below zero). With ``option`` (``vix``), the flag that gave VIX is named instead
    of the vol: the vol came from quotes."""
    ref = vix / 100.0
    rel = _factor_off(atm, ref, ATM_FACTOR)
    if rel is None:
        return
    why = "(VIX is the 30-day implied vol of SPX options: the money's vol is near it)"
    if option is not None:
        raise InputError(
            f"{show_num(vix)}: the chains' ATM vol {atm:.3f} is {rel} VIX/100 = "
            f"{show_num(ref)} — a typo? {why}",
            option=option,
        )
    raise InputError(f"{show_num(atm)} is {rel} VIX/100 = {show_num(ref)} — a typo? {why}",
                     source, key)  # fmt: skip


def _check_quotes(market: Market, layout: Layout, today: date) -> list[str]:
    """Each quote: a trading-day expiry at most 3 years on, bid <= ask, one per contract.
    Returns where each quote's strike sits in the file (for :func:`check_quote_strikes`)."""
    source = market.source
    strike_keys = []
    seen: dict[tuple, str] = {}
    for i, q in enumerate(market.quotes):
        k = f"market.quotes[{i}]"
        occ = k in layout.by_occ
        expiry_key = f"{k}.{'occ' if occ else 'expiry'}"
        check_trading_day(q.expiry, "options", source, expiry_key)
        if q.bid > q.ask:
            raise InputError(
                f"bid must be <= ask, got bid {show_num(q.bid)} above ask {show_num(q.ask)}",
                source,
                f"{k}.bid",
            )
        check_horizon(q.expiry, today, source, expiry_key)
        strike_keys.append(f"{k}.{'occ' if occ else 'strike'}")
        contract = (q.underlying, q.type, q.strike, q.expiry, q.root)
        if contract in seen:
            raise InputError(
                f"duplicate quote for {q.root or q.underlying} {q.type} {show_num(q.strike)} "
                f"{q.expiry} (also {seen[contract]})",
                source,
                k,
            )
        seen[contract] = k
    return strike_keys


def _check_slices(market: Market, layout: Layout) -> None:
    """Each slice of ``[[market.spx_svi]]``: a trading-day expiry settling after ``asof``,
    one slice per root and expiry, a non-negative minimum total variance
    ``a + b·σ·sqrt(1 − ρ²)`` (raw SVI's own condition, Gatheral 2004), a forward within a
    factor 2 of ``spx`` (the slices' forwards belong to the file's ``spx``)."""
    source = market.source
    seen: dict[tuple, str] = {}
    now = market.asof.timestamp()
    for i, s in enumerate(layout.slices):
        k = f"market.spx_svi[{i}]"
        check_trading_day(s.expiry, "options", source, f"{k}.expiry")
        contract = (s.root, s.expiry)
        if contract in seen:
            raise InputError(
                f"duplicate slice for {s.root} {s.expiry} (also {seen[contract]})",
                source,
                f"{k}.expiry",
            )
        seen[contract] = k
        if settlement_timestamp(s.root, s.expiry) <= now:
            raise InputError(
                f"{s.root} {s.expiry} has settled by asof: a slice must be of a live expiry",
                source,
                f"{k}.expiry",
            )
        floor = s.a + s.b * s.sigma * math.sqrt(1.0 - s.rho**2)
        if floor < 0:
            raise InputError(
                f"a + b*sigma*sqrt(1 - rho^2) = {floor:.6g} is below 0: the slice's total "
                "variance goes negative",
                source,
                f"{k}.a",
            )
        spx = market.spx
        if not spx / FORWARD_FACTOR <= s.forward <= spx * FORWARD_FACTOR:
            raise InputError(
                f"{show_num(s.forward)} is more than {FORWARD_FACTOR:g}x away from spx "
                f"{show_num(spx)} — a typo? (a forward is spx with carry)",
                source,
                f"{k}.forward",
            )


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


def vix_references(market: Market) -> tuple[tuple[str, float], tuple[str, float]]:
    """The lowest and the highest of spot VIX and its futures, each with a label.

    A VIX option's strike is judged against the whole curve: its own future
    is what it prices on, and a hedge strike well above spot VIX is normal in
    contango."""
    points = [(f"VIX {show_num(market.vix)}", market.vix)] + [
        (f"the VIX future {f.expiry} ({show_num(f.price)})", f.price) for f in market.vix_futures
    ]
    return min(points, key=lambda p: p[1]), max(points, key=lambda p: p[1])


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


# ------------------------------------------------------------------ against the snapshot


def check_expiries(position_file: PositionFile, market: Market, allow_expired: bool) -> None:
    """Reject a position opened after ``market.asof``, any leg expiring more than 3 years
    after it, and any leg settled at or before it unless ``allow_expired``.

    The error names the file and the key, e.g.
    ``book/dec.toml: positions[0].legs[2].expiry: expired 2026-11-20 09:30 EST
    before asof 2026-11-24 15:45 EST (position 'dec-ic'; use {flag:allow_expired})``
    (the command line names the parameter ``--allow-expired``).
    """
    asof = aware(market.asof)
    asof_ts = asof.timestamp()
    today = new_york_date(asof)
    for position in position_file.positions:
        if position.opened is not None and position.opened > today:
            raise InputError(
                f"opened {position.opened} is after asof {new_york_stamp(asof)} "
                f"(position {position.id!r})",
                source=position_file.path,
                key=f"{position.key}.opened" if position.key else "opened",
            )
        for leg in every_leg(position):
            check_horizon(
                leg.expiry,
                today,
                position_file.path,
                f"{leg.key}.expiry" if leg.key else "expiry",
                position.id,
            )
            for name in ("opened", "closed"):
                day = getattr(leg, name)
                if day is not None and day > today:
                    raise InputError(
                        f"{name} {day} is after asof {new_york_stamp(asof)} "
                        f"(position {position.id!r})",
                        source=position_file.path,
                        key=f"{leg.key}.{name}",
                    )
        if allow_expired:
            continue
        for leg in position.legs:
            if settlement_timestamp(leg.root, leg.expiry) <= asof_ts:
                settled = settlement_instant(leg.root, leg.expiry)
                key = f"{leg.key}.expiry" if leg.key else "expiry"
                raise InputError(
                    f"expired {new_york_stamp(settled)} before asof {new_york_stamp(asof)} "
                    f"(position {position.id!r}; use {{flag:allow_expired}})",
                    source=position_file.path,
                    key=key,
                )


def check_position_strikes(position_file: PositionFile, market: Market) -> None:
    """Every leg's strike within 1/5..5x of its underlying in the snapshot that prices it.

    SPX legs against ``market.spx`` (a whole condor out of band on one side
    blames the spot), VIX option legs against VIX and its futures."""
    low = high = None  # worked out at the first VIX strike: most files hold none
    for p in position_file.positions:
        suffix = f" (position {p.id!r})"
        spx = [(f"{g.key}.strike", g.strike) for g in p.legs if g.underlying == "SPX"]
        _check_spx_strikes(spx, market, position_file.path, f"position {p.id!r}", suffix)
        for g in p.legs:
            if g.underlying == "VIX" and g.strike is not None:
                if low is None:
                    low, high = vix_references(market)
                side = _outside(g.strike, low[1], high[1])
                if side is not None:
                    raise InputError(
                        _strike_message(g.strike, side, low, high) + suffix,
                        position_file.path,
                        f"{g.key}.strike",
                    )


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


def latest_expiry(asof: date) -> date:
    """The last expiry alvh accepts for a snapshot of ``asof``: the same day 3 years on
    (28 February for a 29 February asof; the last day a date can hold near year 9999)."""
    if asof.year + MAX_YEARS_OUT > date.max.year:
        return date.max
    try:
        return asof.replace(year=asof.year + MAX_YEARS_OUT)
    except ValueError:  # 29 February
        return asof.replace(year=asof.year + MAX_YEARS_OUT, day=28)


# ------------------------------------------------------------------ shared


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def check_trading_day(d: date, what: str, source: str, key: str) -> None:
    """An expiry must be an exchange trading day (a weekday that is not an NYSE holiday)."""
    if is_business_day(d):
        return
    day = f"a {_WEEKDAYS[d.weekday()]}" if d.weekday() >= 5 else "an exchange holiday"
    try:
        before = f" (the one before is {previous_business_day(d)})"
    except (OverflowError, ValueError):  # pragma: no cover - year 1
        before = ""
    raise InputError(
        f"{d} is {day}, not a trading day; {what} expire on trading days{before}", source, key
    )


def check_asof_trading_day(asof: datetime, source: str) -> date:
    """A snapshot comes from a trading day: a Saturday ``asof`` is a typo, and a holiday's
    has no prices of its own. Returns the New York date of ``asof``."""
    d = new_york_date(asof)
    if is_business_day(d):
        return d
    day = f"a {_WEEKDAYS[d.weekday()]}" if d.weekday() >= 5 else "an exchange holiday"
    raise InputError(
        f"{d} is {day}, not a trading day: no market snapshot comes from it "
        f"(the trading day before is {previous_business_day(d)})",
        source,
        "market.asof",
    )


def check_not_future(market: Market, now: datetime) -> None:
    """A snapshot cannot come from a moment still to come: an ``asof`` more than
    :data:`CLOCK_SKEW_S` after ``now`` (the clock) is a typo in the date or the time (or
    this computer's clock is wrong). Less than that is a warning
    (``market_warnings.ahead_of_clock``)."""
    check_asof_not_future(market.asof, now, market.source, "market.asof")


def check_asof_not_future(
    asof: datetime, now: datetime, source: str = "", key: str = "", option: str | None = None
) -> None:
    """:func:`check_not_future` of a snapshot time however it was given: a file's key
    (``source``, ``key``), or a parameter (``option``, its role: ``alvh market --asof``)."""
    asof = aware(asof)
    if asof.timestamp() - now.timestamp() <= CLOCK_SKEW_S:
        return
    raise InputError(
        f"{new_york_stamp(asof)} is in the future (the clock says {new_york_stamp(now)}): no "
        "snapshot comes from a moment still to come — a typo in the date or time? (a date "
        "alone means its 16:00 close)",
        source,
        key,
        option=option,
    )


def check_future_expiry(expiry: date, today: date, source: str, key: str) -> None:
    """A VIX future of a snapshot of ``today`` (its New York date) has not expired before
    that day: an older contract has settled and left the curve, and its price would bend
    the interpolation between the live ones. Settling today it is still that day's
    price (the settlement), so it is kept."""
    if expiry >= today:
        return
    raise InputError(
        f"the {expiry} future expired before the snapshot's day {today}: a settled contract "
        "is not on the day's curve — a typo, or an old row?",
        source,
        key,
    )


def _factor_off(value: float, ref: float, factor: float) -> str | None:
    """How ``value`` lies more than ``factor`` times away from ``ref`` ("more than 3x", "less
    than 1/3 of"), or None within it; exactly the factor as written (54.6 on 18.2) is
    within."""
    slack = 1 + 1e-9
    if value > ref * factor * slack:
        return f"more than {factor:g}x"
    if value * slack < ref / factor:
        return f"less than 1/{factor:g} of"
    return None


def check_future_price(price: float, vix: float, source: str, key: str) -> None:
    """A VIX future trades near spot VIX: more than 3x away either way is a typo."""
    rel = _factor_off(price, vix, VIX_FUTURE_FACTOR)
    if rel is None:
        return
    raise InputError(
        f"{show_num(price)} is {rel} spot VIX {show_num(vix)} — a typo? (VIX futures trade "
        "near spot VIX)",
        source,
        key,
    )
