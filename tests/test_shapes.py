"""Every shape a trade can take after the advice is followed loads, prices and gets a decision.

The shapes: a condor; a condor whose sides expire on different dates (after a roll); a lone
vertical (after closing the other side); broken wings; unequal sizes after a partial close;
a condor with a synthetic beside it (a conversion); a condor with a VIX call spread. Each
leg's price is checked against an independent Black-Scholes-Merton (SPX) or Black-76 (VIX
options on their future) written here from the textbook formulas (Hull, ch. 15 and 18),
with the leg's own vol as ``alvh price`` reports it, to 1e-8 points.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

NY = ZoneInfo("America/New_York")
ASOF = datetime(2026, 11, 24, 15, 45, tzinfo=NY)
SPX, R, Q = 5699.88, 0.042, 0.013
FUTURES = {date(2026, 12, 16): 22.0, date(2027, 1, 20): 21.6}

MARKET = """\
[market]
asof = 2026-11-24T15:45:00-05:00
spx = 5699.88
vix = 22.8
rate = 0.042
dividend_yield = 0.013
vix_futures = [ { expiry = 2026-12-16, price = 22.0 }, { expiry = 2027-01-20, price = 21.6 } ]

[market.spx_vol]
atm = 0.208
skew = -1.0
smile = 2.0

[market.vix_vol]
atm = 0.95
skew = 0.6
"""


def leg(type_, strike, qty, price, expiry="2026-12-18", **extra) -> str:
    more = "".join(f"{k} = {v}\n" for k, v in extra.items())
    return (
        f'\n[[positions.legs]]\ntype = "{type_}"\nstrike = {strike}\nexpiry = {expiry}\n'
        f"quantity = {qty}\nentry_price = {price}\n{more}"
    )


def position(pid: str, *legs: str, credit: float | None = None) -> str:
    head = f'\n[[positions]]\nid = "{pid}"\nopened = 2026-10-22\n'
    if credit is not None:
        head += f"credit = {credit}\n"
    return head + "".join(legs)


CONDOR = (leg("put", 5550, 2, 10.0), leg("put", 5600, -2, 14.0),
          leg("call", 6000, -2, 6.0), leg("call", 6050, 2, 3.5))  # fmt: skip

SHAPES = {
    "condor": position("condor", *CONDOR),
    "sides apart": position(
        "apart",
        leg("put", 5500, 2, 30.0, "2027-01-15", root='"SPX"'),
        leg("put", 5550, -2, 36.0, "2027-01-15", root='"SPX"'),
        leg("call", 6000, -2, 6.0),
        leg("call", 6050, 2, 3.5),
        credit=8.5,
    ),
    "lone vertical": position("lone", leg("call", 6000, -2, 6.0), leg("call", 6050, 2, 3.5)),
    "broken wings": position(
        "broken",
        leg("put", 5500, 1, 7.0),
        leg("put", 5600, -1, 14.0),
        leg("call", 6000, -1, 6.0),
        leg("call", 6025, 1, 4.5),
    ),  # fmt: skip
    "partial close": position(
        "partial",
        leg("put", 5550, 3, 10.0),
        leg("put", 5600, -3, 14.0),
        leg("call", 6000, -4, 6.0),
        leg("call", 6050, 4, 3.5),
        leg("put", 5550, 1, 10.0, closed="2026-11-20", exit_price=12.0),
        leg("put", 5600, -1, 14.0, closed="2026-11-20", exit_price=18.5),
        credit=6.5,
    ),  # fmt: skip
    "with a synthetic": position(
        "synthetic",
        *CONDOR,
        leg("put", 5600, 1, 20.0, layer=3, opened="2026-11-20"),
        leg("call", 5600, -1, 140.0, layer=3, opened="2026-11-20"),
    ),
    "with a VIX spread": position(
        "hedged",
        *CONDOR,
        '\n[[positions.legs]]\nunderlying = "VIX"\ntype = "call"\nstrike = 25\n'
        "expiry = 2026-12-16\nquantity = 4\nentry_price = 1.10\nlayer = 1\nentry_vix = 20.0\n",
        '\n[[positions.legs]]\nunderlying = "VIX"\ntype = "call"\nstrike = 32\n'
        "expiry = 2026-12-16\nquantity = -4\nentry_price = 0.40\nlayer = 1\nentry_vix = 20.0\n",
    ),
}


def _n(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def bsm(call: bool, s, k, t, r, q, v) -> float:
    d1 = (math.log(s / k) + (r - q + 0.5 * v * v) * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    if call:
        return s * math.exp(-q * t) * _n(d1) - k * math.exp(-r * t) * _n(d2)
    return k * math.exp(-r * t) * _n(-d2) - s * math.exp(-q * t) * _n(-d1)


def black76(call: bool, f, k, t, r, v) -> float:
    d1 = (math.log(f / k) + 0.5 * v * v * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    df = math.exp(-r * t)
    return df * (f * _n(d1) - k * _n(d2)) if call else df * (k * _n(-d2) - f * _n(-d1))


def years_to(root: str, expiry: date) -> float:
    """ACT/365 from asof to settlement: SPXW at 16:00 New York, SPX and VIX at 09:30."""
    hour, minute = (16, 0) if root == "SPXW" else (9, 30)
    settle = datetime(expiry.year, expiry.month, expiry.day, hour, minute, tzinfo=NY)
    return (settle - ASOF).total_seconds() / (365.0 * 86400.0)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_loads_prices_and_gets_a_decision(shape, alvh, tmp_path):
    from alvh_cli.app.price import price

    path = tmp_path / "book.toml"
    path.write_text(MARKET + SHAPES[shape])
    (pv,) = price([path]).values  # the library's values, unrounded
    for g, vol, got in zip(pv.legs, pv.values.vol, pv.values.price, strict=True):
        t = years_to(g.root, g.expiry)
        call = g.type == "call"
        if g.underlying == "SPX":
            want = bsm(call, SPX, g.strike, t, R, Q, float(vol))
        else:
            want = black76(call, FUTURES[g.expiry], g.strike, t, R, float(vol))
        assert float(got) == pytest.approx(want, abs=1e-8), g.key
    priced = alvh(["price", path, "--format", "json"])
    assert priced.code == 0, priced.err
    checked = alvh(["check", path, "--format", "json"])
    assert checked.code in (0, 1), checked.err
    (p,) = json.loads(checked.out)["positions"]
    assert p["recommendations"] and p["recommendations"][0]["reason"]
    assert math.isfinite(p["mark_multiple"]) and p["tested_side"] in ("put", "call", "none")


def test_a_partial_close_counts_what_was_realised():
    """The partial close by hand: one lot of the four 5550/5600 put verticals, sold at 14 −
    10 = 4.00 credit, bought back at 18.50 − 12 = 6.50: realised (12 − 10)·1·100 + (18.5 −
    14)·(−1)·100 = 200 − 450 = −250 dollars; the opening stays 4 lots at 6.50 credit, and
    with everything held worth 0 the closing cost of that lot, 6.50, is 6.50 / 4 per
    opening unit."""
    from alvh_cli.inputs.positions import load_text

    (p,) = load_text(MARKET + SHAPES["partial close"], "partial.toml").positions
    assert p.units == 4 and p.credit == 6.5
    assert p.realised() == pytest.approx(-250.0)
    assert [g.quantity for g in p.legs] == [3, -3, -4, 4]
    assert p.net_debit([0.0] * 4) == pytest.approx(6.5 / 4)
