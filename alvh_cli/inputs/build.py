"""Building the domain types from validated tables, with the checks a table cannot express.

A leg gives ``occ`` or type/strike/expiry; the condor's shape; unique ids;
bid ≤ ask; dates on trading days; VIX futures near spot. OSI symbols are
strict except for the padding spaces after the root.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime

from alvh_cli.errors import InputError
from alvh_cli.inputs import market_warnings, sanity
from alvh_cli.inputs.schema import CLOSE_NY, NEW_YORK, OCC_REPLACES
from alvh_cli.inputs.validate import show, show_num
from alvh_cli.model.contracts import DEFAULT_ROOT, ROOT_UNDERLYING, parse_osi, root_problem
from alvh_cli.model.domain import (
    FuturePoint,
    Leg,
    Market,
    Position,
    Quote,
    Smile,
    SpxSurface,
    SviSlice,
)
from alvh_cli.model.exchange import is_business_day, previous_business_day
from alvh_cli.model.timing import settlement_timestamp


def resolve_asof(value: date | datetime) -> datetime:
    """Make ``asof`` timezone-aware (DESIGN §2).

    An offset date-time is kept as is; a local date-time is New York wall
    time; a bare date is 16:00 New York (the close) on that day.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value
        return value.replace(tzinfo=_new_york())
    return datetime.combine(value, CLOSE_NY, tzinfo=_new_york())


def build_positions(raw_positions: list[dict], source: str) -> tuple[Position, ...]:
    seen: dict[str, str] = {}
    positions = []
    for i, pv in enumerate(raw_positions):
        key = f"positions[{i}]"
        pid = pv["id"]
        if not pid.isprintable():
            raise InputError(
                f"id must be printable text (no control characters or tabs), got {show(pid)}",
                source,
                f"{key}.id",
            )
        if pid in seen:
            raise InputError(f"duplicate id {pid!r} (also {seen[pid]})", source, f"{key}.id")
        seen[pid] = key
        positions.append(_build_position(pv, source, key))
    return tuple(positions)


def _build_position(pv: dict, source: str, key: str) -> Position:
    legs = []
    from_occ = []
    for j, lv in enumerate(pv["legs"]):
        legs.append(_build_leg(lv, source, f"{key}.legs[{j}]"))
        from_occ.append("occ" in lv)
    lp, sp, sc, lc = _check_condor(legs, from_occ, source, key)
    credit = pv.get("credit")
    given = credit is not None
    if credit is None:
        credit = _net_credit(legs, source, key)
    width = max(sp.strike - lp.strike, lc.strike - sc.strike)
    if credit > width + 1e-9:
        what = "" if given else " (the net entry premium of the condor legs)"
        raise InputError(
            f"a credit of {show_num(credit)}{what} exceeds the widest wing "
            f"({show_num(width)} points): "
            "no iron condor can take in more than its width",
            source,
            f"{key}.credit",
        )
    return Position(
        id=pv["id"],
        legs=tuple(legs),
        credit=credit,
        opened=pv.get("opened"),
        source=source,
        key=key,
    )


def _occ_fields(raw: dict, source: str, key: str) -> tuple[str, str, float, date, str]:
    """Root, type, strike, expiry and underlying from a table's ``occ`` (leg or quote)."""
    clash = [n for n in OCC_REPLACES if n in raw]
    if clash:
        raise InputError(
            f"'occ' and '{clash[0]}' both given: give either the OSI symbol or "
            "type, strike and expiry",
            source,
            f"{key}.{clash[0]}",
        )
    try:
        root, typ, strike, expiry = parse_osi(raw["occ"])
    except InputError as e:
        raise e.located(source, f"{key}.occ") from None
    underlying = ROOT_UNDERLYING[root]
    if raw.get("underlying", underlying) != underlying:
        raise InputError(
            f"{raw['underlying']!r} does not match the occ root {root!r} ({underlying})",
            source,
            f"{key}.underlying",
        )
    return root, typ, strike, expiry, underlying


def _build_leg(lv: dict, source: str, key: str) -> Leg:
    if "occ" in lv:
        root, typ, strike, expiry, underlying = _occ_fields(lv, source, key)
    else:
        underlying = lv.get("underlying", "SPX")
        if not any(n in lv for n in OCC_REPLACES[1:]):
            raise InputError("a leg needs either occ or type, strike and expiry", source, key)
        for n in ("type", "expiry"):
            if n not in lv:
                raise InputError("required (or give occ)", source, f"{key}.{n}")
        typ = lv["type"]
        expiry = lv["expiry"]
        root = lv.get("root", DEFAULT_ROOT[underlying])
        problem = root_problem(root, underlying, typ)
        if problem is not None:
            raise InputError(problem, source, f"{key}.root")
        if typ == "future":
            if underlying != "VIX":
                raise InputError(
                    "'future' is only for VIX legs (set underlying = \"VIX\")",
                    source,
                    f"{key}.type",
                )
            for n in ("strike", "iv"):
                if n in lv:
                    raise InputError(f"a future has no {n}", source, f"{key}.{n}")
            strike = None
        else:
            if "strike" not in lv:
                raise InputError("required (or give occ)", source, f"{key}.strike")
            strike = lv["strike"]
    what = "VIX futures" if typ == "future" else "options"
    _check_trading_day(expiry, what, source, f"{key}.{'occ' if 'occ' in lv else 'expiry'}")
    layer = lv.get("layer")
    if layer is None:
        if underlying != "SPX":
            raise InputError(
                "required on a VIX leg: the condor is SPX options only, hedge legs carry "
                "layer = 1, 2 or 3",
                source,
                f"{key}.layer",
            )
        if "entry_vix" in lv:
            raise InputError(
                "only layer legs record entry_vix (this leg has no layer)",
                source,
                f"{key}.entry_vix",
            )
    return Leg(
        underlying=underlying,
        root=root,
        type=typ,
        strike=strike,
        expiry=expiry,
        quantity=lv["quantity"],
        entry_price=lv["entry_price"],
        iv=lv.get("iv"),
        layer=layer,
        entry_vix=lv.get("entry_vix"),
        key=key,
    )


_ROLES = ("long put", "short put", "short call", "long call")


def _check_condor(
    legs: list[Leg], from_occ: list[bool], source: str, key: str
) -> tuple[Leg, Leg, Leg, Leg]:
    """The legs without ``layer`` must be exactly one iron condor (DESIGN §2).

    Returns the condor legs as (long put, short put, short call, long call)."""
    where = f"{key}.legs"
    condor = [(j, g) for j, g in enumerate(legs) if g.layer is None]
    if len(condor) != 4:
        raise InputError(
            "the condor needs 4 legs without layer (long put, short put, short call, "
            f"long call), got {len(condor)}",
            source,
            where,
        )
    for j, g in condor:
        if not g.is_option or g.underlying != "SPX":  # VIX legs are caught in _build_leg
            raise InputError("a condor leg must be an SPX put or call", source, f"{where}[{j}]")
    puts = [(j, g) for j, g in condor if g.type == "put"]
    calls = [(j, g) for j, g in condor if g.type == "call"]
    if len(puts) != 2:
        raise InputError(
            f"the condor needs 2 puts and 2 calls, got {len(puts)} put"
            f"{'s' * (len(puts) != 1)} and {len(calls)} call{'s' * (len(calls) != 1)}",
            source,
            where,
        )
    ordered = []
    for kind, pair in (("put", puts), ("call", calls)):
        longs = [(j, g) for j, g in pair if g.quantity > 0]
        shorts = [(j, g) for j, g in pair if g.quantity < 0]
        if len(longs) != 1:
            sign = "long" if longs else "short"
            j = pair[1][0]
            raise InputError(
                f"the condor needs one long and one short {kind}, got two {sign} {kind}s",
                source,
                f"{where}[{j}].quantity",
            )
        ordered.append((longs[0], shorts[0]))
    (lp, sp), (sc, lc) = ordered[0], ordered[1][::-1]
    roles = list(zip(_ROLES, (lp, sp, sc, lc), strict=True))

    def field_key(j: int, name: str) -> str:
        return f"{where}[{j}].{'occ' if from_occ[j] else name}"

    (j0, first) = roles[0][1]
    for role, (j, g) in roles[1:]:
        if g.expiry != first.expiry:
            raise InputError(
                f"the condor legs must share one expiry: {role} expires {g.expiry}, "
                f"long put (legs[{j0}]) {first.expiry}",
                source,
                field_key(j, "expiry"),
            )
        if g.root != first.root:
            raise InputError(
                f"the condor legs must share one root: {role} is {g.root}, "
                f"long put (legs[{j0}]) {first.root}",
                source,
                field_key(j, "root"),
            )
        if abs(g.quantity) != abs(first.quantity):
            raise InputError(
                f"the condor legs must be equal size: {role} is {abs(g.quantity)} contracts, "
                f"long put (legs[{j0}]) {abs(first.quantity)}",
                source,
                f"{where}[{j}].quantity",
            )
    for (lo_role, (jl, lo)), (hi_role, (jh, hi)) in zip(roles, roles[1:], strict=False):
        if not lo.strike < hi.strike:
            rel = "equal to" if lo.strike == hi.strike else "below"
            raise InputError(
                "the condor legs must be long put < short put < short call < long call, "
                f"got {hi_role} {show_num(hi.strike)} (legs[{jh}]) {rel} "
                f"{lo_role} {show_num(lo.strike)} (legs[{jl}])",
                source,
                where,
            )
    return lp[1], sp[1], sc[1], lc[1]


def _net_credit(legs: list[Leg], source: str, key: str) -> float:
    """Short entry prices minus long entry prices of the condor legs, per unit."""
    condor = [g for g in legs if g.layer is None]
    short = sum(g.entry_price for g in condor if g.quantity < 0)
    long = sum(g.entry_price for g in condor if g.quantity > 0)
    net = round(short - long, 10)
    if net <= 0:
        what = "0" if net == 0 else f"a debit of {show_num(-net)}"
        raise InputError(
            f"credit not given and the condor legs' entry prices net to {what} "
            f"(short {show_num(round(short, 10))} - long {show_num(round(long, 10))}); "
            "give credit or check entry_price",
            source,
            f"{key}.credit",
        )
    return net


def build_market(mv: dict, source: str) -> Market:
    vix = mv["vix"]
    asof = resolve_asof(mv["asof"])
    today = _check_asof_trading_day(asof, source)
    futures = []
    seen: dict[date, str] = {}
    for i, fv in enumerate(mv.get("vix_futures", [])):
        k = f"market.vix_futures[{i}]"
        _check_trading_day(fv["expiry"], "VIX futures", source, f"{k}.expiry")
        sanity.check_horizon(fv["expiry"], today, source, f"{k}.expiry")
        if fv["expiry"] in seen:
            raise InputError(
                f"duplicate expiry {fv['expiry']} (also {seen[fv['expiry']]})",
                source,
                f"{k}.expiry",
            )
        seen[fv["expiry"]] = k
        _check_future_price(fv["price"], vix, source, f"{k}.price")
        futures.append(FuturePoint(expiry=fv["expiry"], price=fv["price"]))
    quotes = []
    strike_keys = []
    seen_quotes: dict[tuple, str] = {}
    for i, qv in enumerate(mv.get("quotes", [])):
        k = f"market.quotes[{i}]"
        q = _build_quote(qv, source, k)
        where = "occ" if "occ" in qv else "expiry"
        sanity.check_horizon(q.expiry, today, source, f"{k}.{where}")
        strike_keys.append(f"{k}.{'occ' if 'occ' in qv else 'strike'}")
        contract = (q.underlying, q.type, q.strike, q.expiry, q.root)
        if contract in seen_quotes:
            raise InputError(
                f"duplicate quote for {q.root or q.underlying} {q.type} {show_num(q.strike)} "
                f"{q.expiry} (also {seen_quotes[contract]})",
                source,
                k,
            )
        seen_quotes[contract] = k
        quotes.append(q)
    spx_vol = mv.get("spx_vol", {})
    vix_vol = mv.get("vix_vol")
    surface = None
    if mv.get("spx_svi"):
        surface = _build_surface(mv["spx_svi"], mv["spx"], asof, source)
    market = Market(
        asof=asof,
        spx=mv["spx"],
        vix=vix,
        rate=mv["rate"],
        dividend_yield=mv["dividend_yield"],
        vix_futures=tuple(sorted(futures, key=lambda p: p.expiry)),
        spx_vol=Smile(
            atm=spx_vol.get("atm", vix / 100.0),
            skew=spx_vol.get("skew", 0.0),
            smile=spx_vol.get("smile", 0.0),
        ),
        vix_vol=None
        if vix_vol is None
        else Smile(vix_vol["atm"], vix_vol.get("skew", 0.0), vix_vol.get("smile", 0.0)),
        quotes=tuple(quotes),
        source=source,
        spx_surface=surface,
    )
    sanity.check_quote_strikes(market, strike_keys, source)
    # with a fitted surface the flat smile prices nothing today (scenarios still move it)
    flat = "spx_vol" not in mv and surface is None
    warnings = [market_warnings.flat_smile(market)] if flat else []
    keys = [f"market.quotes[{i}]" for i in range(len(quotes))]
    warnings += market_warnings.wide_quotes(market.quotes, keys, source)
    return replace(market, warnings=tuple(warnings))


FORWARD_FACTOR = 2.0  # an SPX forward more than 2x away from spx is a typo, not a carry


def _build_surface(raw: list[dict], spx: float, asof: datetime, source: str) -> SpxSurface:
    """The SPX surface of ``[[market.spx_svi]]``: its forwards belong to the file's ``spx``.

    Checked beyond the field table: a non-negative minimum total variance
    ``a + b·σ·sqrt(1 − ρ²)`` (raw SVI's own condition, Gatheral 2004), a
    trading-day expiry settling after ``asof``, one slice per root and
    expiry, a forward within a factor 2 of ``spx``.
    """
    slices = []
    seen: dict[tuple, str] = {}
    now = asof.timestamp()
    for i, sv in enumerate(raw):
        k = f"market.spx_svi[{i}]"
        _check_trading_day(sv["expiry"], "options", source, f"{k}.expiry")
        contract = (sv["root"], sv["expiry"])
        if contract in seen:
            raise InputError(
                f"duplicate slice for {sv['root']} {sv['expiry']} (also {seen[contract]})",
                source,
                f"{k}.expiry",
            )
        seen[contract] = k
        if settlement_timestamp(sv["root"], sv["expiry"]) <= now:
            raise InputError(
                f"{sv['root']} {sv['expiry']} has settled by asof: a slice must be of a live "
                "expiry",
                source,
                f"{k}.expiry",
            )
        floor = sv["a"] + sv["b"] * sv["sigma"] * math.sqrt(1.0 - sv["rho"] ** 2)
        if floor < 0:
            raise InputError(
                f"a + b*sigma*sqrt(1 - rho^2) = {floor:.6g} is below 0: the slice's total "
                "variance goes negative",
                source,
                f"{k}.a",
            )
        if not spx / FORWARD_FACTOR <= sv["forward"] <= spx * FORWARD_FACTOR:
            raise InputError(
                f"{show_num(sv['forward'])} is more than {FORWARD_FACTOR:g}x away from spx "
                f"{show_num(spx)} — a typo? (a forward is spx with carry)",
                source,
                f"{k}.forward",
            )
        slices.append(
            SviSlice(
                expiry=sv["expiry"],
                root=sv["root"],
                a=sv["a"],
                b=sv["b"],
                rho=sv["rho"],
                m=sv["m"],
                sigma=sv["sigma"],
                forward=sv["forward"],
                discount=sv["discount"],
                rms=sv["rms"],
                n_quotes=sv.get("n_quotes"),
                butterfly_free=sv.get("butterfly_free"),
            )
        )
    slices.sort(key=lambda s: settlement_timestamp(s.root, s.expiry))
    return SpxSurface(spot=spx, slices=tuple(slices), source=source)


def _build_quote(qv: dict, source: str, key: str) -> Quote:
    if "occ" in qv:
        root, typ, strike, expiry, underlying = _occ_fields(qv, source, key)
    else:
        for n in ("type", "strike", "expiry"):
            if n not in qv:
                raise InputError("required (or give occ)", source, f"{key}.{n}")
        underlying = qv.get("underlying", "SPX")
        root = qv.get("root")
        typ, strike, expiry = qv["type"], qv["strike"], qv["expiry"]
        if root is not None and ROOT_UNDERLYING[root] != underlying:
            allowed = " or ".join(f'"{r}"' for r, u in ROOT_UNDERLYING.items() if u == underlying)
            raise InputError(
                f"must be {allowed} for {underlying} quotes, got {root!r}", source, f"{key}.root"
            )
    _check_trading_day(expiry, "options", source, f"{key}.{'occ' if 'occ' in qv else 'expiry'}")
    if qv["bid"] > qv["ask"]:
        raise InputError(
            f"bid must be <= ask, got bid {show_num(qv['bid'])} above ask {show_num(qv['ask'])}",
            source,
            f"{key}.bid",
        )
    return Quote(
        underlying=underlying,
        type=typ,
        strike=strike,
        expiry=expiry,
        bid=qv["bid"],
        ask=qv["ask"],
        root=root,
    )


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
VIX_FUTURE_FACTOR = 3.0  # a VIX future more than 3x away from spot VIX is a typo


def _check_trading_day(d: date, what: str, source: str, key: str) -> None:
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


def _check_asof_trading_day(asof: datetime, source: str) -> date:
    """A snapshot comes from a trading day: a Saturday ``asof`` is a typo, and a holiday's
    has no prices of its own. Returns the New York date of ``asof``."""
    d = asof.astimezone(_new_york()).date()
    if is_business_day(d):
        return d
    day = f"a {_WEEKDAYS[d.weekday()]}" if d.weekday() >= 5 else "an exchange holiday"
    raise InputError(
        f"{d} is {day}, not a trading day: no market snapshot comes from it "
        f"(the trading day before is {previous_business_day(d)})",
        source,
        "market.asof",
    )


def _check_future_price(price: float, vix: float, source: str, key: str) -> None:
    """A VIX future trades near spot VIX: more than 3x away either way is a typo."""
    f = VIX_FUTURE_FACTOR
    slack = 1 + 1e-9  # exactly 3x as written (54.6 on 18.2) is fine
    if price > vix * f * slack:
        rel = f"more than {f:g}x spot VIX {show_num(vix)}"
    elif price * slack < vix / f:
        rel = f"less than 1/{f:g} of spot VIX {show_num(vix)}"
    else:
        return
    raise InputError(
        f"{show_num(price)} is {rel} — a typo? (VIX futures trade near spot VIX)", source, key
    )


def _new_york():
    from zoneinfo import ZoneInfo

    return ZoneInfo(NEW_YORK)
