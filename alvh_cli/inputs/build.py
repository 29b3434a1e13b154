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
from alvh_cli.inputs.schema import OCC_REPLACES
from alvh_cli.inputs.show import show, show_num
from alvh_cli.model.contracts import DEFAULT_ROOT, ROOT_UNDERLYING, parse_osi
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
from alvh_cli.model.timing import resolve_asof, settlement_timestamp


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
    lp, sp, sc, lc = sanity.check_condor(legs, from_occ, source, key)
    credit = pv.get("credit")
    given = credit is not None
    if credit is None:
        credit = sanity.net_credit(legs, source, key)
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
        if ROOT_UNDERLYING[root] != underlying:
            allowed = " or ".join(f'"{r}"' for r, u in ROOT_UNDERLYING.items() if u == underlying)
            raise InputError(
                f"must be {allowed} for {underlying} legs, got {root!r}", source, f"{key}.root"
            )
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
    sanity.check_trading_day(expiry, what, source, f"{key}.{'occ' if 'occ' in lv else 'expiry'}")
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


def build_market(mv: dict, source: str) -> Market:
    vix = mv["vix"]
    asof = resolve_asof(mv["asof"])
    today = sanity.check_asof_trading_day(asof, source)
    futures = []
    seen: dict[date, str] = {}
    for i, fv in enumerate(mv.get("vix_futures", [])):
        k = f"market.vix_futures[{i}]"
        sanity.check_trading_day(fv["expiry"], "VIX futures", source, f"{k}.expiry")
        sanity.check_horizon(fv["expiry"], today, source, f"{k}.expiry")
        if fv["expiry"] in seen:
            raise InputError(
                f"duplicate expiry {fv['expiry']} (also {seen[fv['expiry']]})",
                source,
                f"{k}.expiry",
            )
        seen[fv["expiry"]] = k
        sanity.check_future_price(fv["price"], vix, source, f"{k}.price")
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
        sanity.check_trading_day(sv["expiry"], "options", source, f"{k}.expiry")
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
    sanity.check_trading_day(
        expiry, "options", source, f"{key}.{'occ' if 'occ' in qv else 'expiry'}"
    )
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
