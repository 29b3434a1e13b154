"""Why a quote was not used: the reason per element, the warning, and the per-market cache.

Bounds by hand: for a European option with discount factor e^{−rT} on a forward
F, a price no volatility reproduces is at or below the discounted intrinsic
e^{−rT}·max(±(F − K), 0) or at or above the discounted forward (call) or strike
(put). With r = 0 the discount is 1, so the examples read straight off F and K.
"""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pytest
from builders import EXPIRY, condor, market
from hypothesis import given, settings
from hypothesis import strategies as st
from test_positions import sub

from alvh_cli.inputs.market_warnings import unusable_quotes, unusable_quotes_each
from alvh_cli.model import legs as legs_mod
from alvh_cli.model import pricing
from alvh_cli.model.domain import Leg, Quote
from alvh_cli.model.legs import quote_problems, value_legs


@pytest.mark.parametrize(
    ("price", "is_call", "F", "K", "T", "reason"),
    [
        (0.5, True, 20.0, 25.0, 0.1, ""),  # out of the money call, time value only
        (0.0, True, 20.0, 25.0, 0.1, "no_price"),
        (20.0, True, 20.0, 25.0, 0.1, "above_bound"),  # a call is worth less than F
        (5.5, False, 20.0, 25.0, 0.1, ""),  # in the money put: 5 intrinsic + 0.5
        (4.9, False, 20.0, 25.0, 0.1, "below_intrinsic"),
        (5.0, False, 20.0, 25.0, 0.1, "at_intrinsic"),
        (25.0, False, 20.0, 25.0, 0.1, "above_bound"),  # a put is worth less than K
        (0.5, True, 20.0, 25.0, 0.0, "expired"),
        (0.5, True, -1.0, 25.0, 0.1, "bad_underlying"),
        (math.nan, True, 20.0, 25.0, 0.1, "not_finite"),
    ],
)
def test_black76_reason_by_hand(price, is_call, F, K, T, reason):
    assert pricing.implied_vol_black76_reason(price, is_call, F, K, T, 0.0) == reason
    iv = pricing.implied_vol_black76(price, is_call, F, K, T, 0.0)
    assert math.isfinite(iv) == (reason == "")


def test_bsm_reason_vectorised_by_hand():
    # SPX 5800, put 5900, 24 days, r 4%, q 1%: F = 5800·e^{0.03·24/365} = 5811.45,
    # discounted intrinsic e^{−0.04·24/365}·(5900 − 5811.45) = 88.32
    T = 24 / 365
    F = 5800 * math.exp(0.03 * T)
    intrinsic = math.exp(-0.04 * T) * (5900 - F)
    assert intrinsic == pytest.approx(88.32, abs=0.01)
    prices = [intrinsic - 0.01, intrinsic + 5.0, 0.0, 5900.0]
    out = pricing.implied_vol_reason(prices, False, 5800.0, 5900.0, T, 0.04, 0.01)
    assert out.tolist() == ["below_intrinsic", "", "no_price", "above_bound"]
    assert set(pricing.NO_VOL_REASONS) >= set(out.tolist()) - {""}


@settings(max_examples=300, deadline=None)
@given(
    price=st.floats(-1.0, 300.0),
    is_call=st.booleans(),
    F=st.floats(1.0, 200.0),
    K=st.floats(1.0, 200.0),
    T=st.floats(-0.1, 2.0),
    r=st.floats(-0.01, 0.1),
)
def test_reason_is_empty_exactly_where_a_vol_is_found(price, is_call, F, K, T, r):
    iv = float(pricing.implied_vol_black76(price, is_call, F, K, T, r))
    reason = pricing.implied_vol_black76_reason(price, is_call, F, K, T, r)
    assert math.isfinite(iv) == (reason == ""), (iv, reason)


def test_quote_problems_name_the_quote_the_reason_and_the_bound():
    # SPX 5400 (r = q = 0: F = 5400), the 5500 put quoted 94/96: mid 95 under its intrinsic
    # 100. A VIX 15 call quoted 20.40/20.60 on a 20 future: mid 20.50 over the call's
    # bound, the future's 20. The 5400 call quoted sanely: no problem.
    q = (
        Quote("SPX", "put", 5500.0, EXPIRY, 94.0, 96.0),
        Quote("SPX", "call", 5400.0, EXPIRY, 60.0, 61.0),
        Quote("VIX", "call", 15.0, date(2027, 1, 20), 20.4, 20.6),
    )
    mkt = market(spx=5400.0, quotes=q)
    held = [
        Leg("SPX", "SPXW", "put", 5500.0, EXPIRY, -1, 2.0),
        Leg("SPX", "SPXW", "call", 5400.0, EXPIRY, -1, 2.0),
        Leg("VIX", "VIX", "call", 15.0, date(2027, 1, 20), 1, 1.0, layer=1),
        Leg("SPX", "SPXW", "put", 5500.0, EXPIRY, 1, 2.0, iv=0.2),  # own iv: no quote
    ]
    problems = quote_problems(mkt, held)
    assert [(p.quote.strike, p.reason) for p in problems] == [
        (5500.0, "below_intrinsic"),
        (15.0, "above_bound"),
    ]
    assert problems[0].bound == pytest.approx(100.0)
    assert problems[1].bound == pytest.approx(20.0)
    # the valuation falls back to the smile for exactly those legs
    v = value_legs(mkt, held)
    assert v.vol_source == ("smile", "quote", "smile", "iv")
    (w1, w2) = unusable_quotes(mkt, held)
    assert (w1.key, w2.key) == ("market.quotes[0]", "market.quotes[2]")
    assert w1.message == (
        "SPXW put 5500 2026-12-18: mid 95 (bid 94, ask 96) is below its intrinsic value "
        "100.00; no volatility reproduces it, so the leg is priced from the smile instead"
    )
    assert "at or above the most the option can be worth, 20.00" in w2.message


def test_each_file_is_told_of_its_own_unusable_quotes_as_alone():
    """Files of one book told together (``unusable_quotes_each``, a quote's mid tried once for
    them all) are told what each is told alone, in its own order: the 5500 put quote (no
    root) under its intrinsic for the AM (SPX) and the PM (SPXW) leg both, in the order
    each file meets them; the VIX call over its bound; nothing for a file without them."""
    q = (
        Quote("SPX", "put", 5500.0, EXPIRY, 94.0, 96.0),
        Quote("SPX", "call", 5400.0, EXPIRY, 60.0, 61.0),
        Quote("VIX", "call", 15.0, date(2027, 1, 20), 20.4, 20.6),
    )
    mkt = market(spx=5400.0, quotes=q)
    pm = Leg("SPX", "SPXW", "put", 5500.0, EXPIRY, -1, 2.0)
    am = Leg("SPX", "SPX", "put", 5500.0, EXPIRY, -1, 2.0)
    vix = Leg("VIX", "VIX", "call", 15.0, date(2027, 1, 20), 1, 1.0, layer=1)
    sane = Leg("SPX", "SPXW", "call", 5400.0, EXPIRY, -1, 2.0)
    files = [[vix, pm], [sane], [am, pm], [pm, vix, am], []]
    each = unusable_quotes_each(mkt, files)
    for legs, told in zip(files, each, strict=True):
        alone = [(p.quote, p.root) for p in quote_problems(mkt, legs)]
        assert [(w.key, w.message.split(" ")[0]) for w in told] == [
            (f"market.quotes[{q.index(quote)}]", root) for quote, root in alone
        ]
        assert told == unusable_quotes(mkt, legs)
    assert [len(t) for t in each] == [2, 0, 2, 3, 0]
    assert [w.message.split(" ")[0] for w in each[3]] == ["SPXW", "SPX", "VIX"]


def test_cli_warns_about_a_quote_below_intrinsic(tmp_path, alvh):
    # SPX at 5380 is through the short 5400 put. T = 24 days 15 minutes / 365 = 0.065782
    # (15:45 to the 16:00 PM settlement), F = 5380·e^{(0.042 − 0.013)·T} = 5390.273, the
    # discounted intrinsic e^{−0.042·T}·(5400 − F) = 0.997241 × 9.727 = 9.70; a
    # 5.00/6.00 quote is under it.
    text = sub("spx = 5850.25", "spx = 5380.0")
    text = sub(
        "[rules]",
        '[[market.quotes]]\ntype = "put"\nstrike = 5400\nexpiry = 2026-12-18\n'
        "bid = 5.00\nask = 6.00\n\n[rules]",
        text,
    )
    path = tmp_path / "dec.toml"
    path.write_text(text)
    code, out, err = alvh(["price", "--format", "json", path])
    assert code == 0, err
    data = json.loads(out)
    (w,) = [w for w in data["warnings"] if w["key"] == "market.quotes[1]"]
    assert (
        "SPXW put 5400 2026-12-18: mid 5.5 (bid 5, ask 6) is below its intrinsic value 9.70;"
        in (w["message"])
    )
    assert f"warning: {path}: market.quotes[1]: SPXW put 5400" in err
    (leg,) = [g for g in data["legs"] if g["type"] == "put" and g["strike"] == 5400]
    assert leg["vol_source"] == "smile"


def test_quote_vols_are_inverted_once_per_market(monkeypatch):
    q = (Quote("SPX", "put", 5500.0, EXPIRY, 60.0, 61.0),)  # intrinsic 50, mid 60.50
    mkt = market(spx=5450.0, quotes=q)
    ic = condor((5400, 5500, 6100, 6200))
    calls = []
    real = pricing.implied_vol

    def counting(*args):
        calls.append(len(np.atleast_1d(args[0])))
        return real(*args)

    monkeypatch.setattr(pricing, "implied_vol", counting)
    first = value_legs(mkt, ic.legs)
    again = value_legs(mkt, ic.legs)
    assert calls == [1]  # the second valuation read the cache
    assert first.vol[1] == again.vol[1] and first.vol_source[1] == "quote"
    # and the cached vol is the quote mid's: it reprices the mid
    assert float(again.price[1]) == pytest.approx(60.5, rel=1e-9)
    # another market (same quote, another spot) inverts afresh
    value_legs(market(spx=5460.0, quotes=q), ic.legs)
    assert calls == [1, 1]
    assert len(legs_mod._QUOTE_VOLS) <= 16
