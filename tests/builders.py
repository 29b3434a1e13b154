"""Small builders of domain objects for engine tests (no files involved)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from alvh_cli.model.book import LoadedFile
from alvh_cli.model.domain import FuturePoint, Leg, Market, Position, PositionFile, Smile
from alvh_cli.model.rules import resolve

EST = timezone(timedelta(hours=-5))
ASOF = datetime(2026, 11, 24, 16, 0, tzinfo=EST)
EXPIRY = date(2026, 12, 18)  # 24 days after ASOF, SPXW settles 16:00 New York


def market(spx=5800.0, vix=20.0, **kw) -> Market:
    base = dict(
        asof=ASOF,
        spx=spx,
        vix=vix,
        rate=0.0,
        dividend_yield=0.0,
        vix_futures=(
            FuturePoint(date(2026, 12, 16), vix),
            FuturePoint(date(2027, 1, 20), vix),
            FuturePoint(date(2027, 2, 17), vix),
        ),
        spx_vol=Smile(0.15, 0.0, 0.0),
        vix_vol=Smile(0.9, 0.5, 0.0),
        source="test.toml",
    )
    base.update(kw)
    return Market(**base)


def condor(strikes=(5400, 5500, 6100, 6200), units=10, credit=3.0, hedges=(), pid="ic") -> Position:
    lp, sp, sc, lc = strikes
    legs = (
        Leg("SPX", "SPXW", "put", lp, EXPIRY, units, 1.0, key=f"{pid}.legs[0]"),
        Leg("SPX", "SPXW", "put", sp, EXPIRY, -units, 2.5, key=f"{pid}.legs[1]"),
        Leg("SPX", "SPXW", "call", sc, EXPIRY, -units, 2.0, key=f"{pid}.legs[2]"),
        Leg("SPX", "SPXW", "call", lc, EXPIRY, units, 0.5, key=f"{pid}.legs[3]"),
        *hedges,
    )
    return Position(pid, legs, credit, source="test.toml", key="positions[0]")


def condor_legs(position: Position) -> tuple[Leg, ...]:
    """The opening condor's legs ordered long put, short put, short call, long call."""
    return tuple(sorted(position.opening, key=lambda g: (g.type != "put", g.strike)))


def vix_spread(
    long_k, short_k, qty, price_long, price_short, layer=1, entry_vix=None, expiry=date(2027, 1, 20)
) -> tuple[Leg, Leg]:
    return (
        Leg(
            "VIX", "VIX", "call", long_k, expiry, qty, price_long, layer=layer, entry_vix=entry_vix
        ),
        Leg(
            "VIX",
            "VIX",
            "call",
            short_k,
            expiry,
            -qty,
            price_short,
            layer=layer,
            entry_vix=entry_vix,
        ),
    )


def loaded(position: Position, mkt: Market, **rules) -> LoadedFile:
    pf = PositionFile("test.toml", (position,), mkt, dict(rules))
    return LoadedFile(pf, mkt, resolve((dict(rules), "test.toml")))


def with_credit(position: Position, credit: float) -> Position:
    return replace(position, credit=credit)


def contango_market(spx: float = 5790.0) -> Market:
    """VIX 20 with its futures at 23, 24, 25: a VIX call spread rolls down its basis over
    the scenario horizon, so holding one loses EV — the state where an unwind or a roll to
    a later expiry can beat holding (at VIX 20 on a flat curve neither does)."""
    expiries = (date(2026, 12, 16), date(2027, 1, 20), date(2027, 2, 17))
    futures = zip(expiries, (23.0, 24.0, 25.0), strict=True)
    return market(spx=spx, vix=20.0, vix_futures=tuple(FuturePoint(d, f) for d, f in futures))
