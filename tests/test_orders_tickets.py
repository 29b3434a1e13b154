"""Tests for alvh_cli.output.tickets: ticks, rounding, OSI symbols, orders.

Expected limits are worked by hand from the exchange rules cited in the module
docstring (SPX/SPXW simple: 0.05 below 3.00, 0.10 from 3.00; SPX complex 0.05;
VIX options simple: 0.01 below 3.00, 0.05 from 3.00; VIX complex 0.01; VX
futures 0.05, spreads 0.01); a debit rounds down, a credit up. OSI symbols are
written out by hand from OCC's layout (root padded to 6, YYMMDD, C/P, strike ×
1000 in 8 digits) and read back with the loader's ``parse_osi``.
"""

from __future__ import annotations

import math
from datetime import date

import pytest
from builders import EXPIRY, condor, condor_legs, vix_spread
from hypothesis import given
from hypothesis import strategies as st

from alvh_cli.method.orders import (
    Trade,
    closing_trades,
    net_trades,
    orders_for,
    trades_against,
)
from alvh_cli.model.contracts import osi_symbol, parse_osi, round_limit, tick_size
from alvh_cli.model.domain import Leg

# ----------------------------------------------------------------------------- ticks


@pytest.mark.parametrize(
    "product, price, complex_, tick",
    [
        ("SPX", 2.95, False, 0.05),
        ("SPXW", 2.99, False, 0.05),
        ("SPXW", 3.00, False, 0.10),  # "below 3.00 is 0.05 ... all other series 0.10"
        ("SPX", 3.05, False, 0.10),
        ("SPXW", 3.05, True, 0.05),  # complex: net package price in .05
        ("SPXW", 51.55, True, 0.05),
        ("VIX", 2.99, False, 0.01),  # since the 2022 change
        ("VIXW", 0.50, False, 0.01),
        ("VIX", 3.00, False, 0.05),
        ("VIX", 7.40, False, 0.05),
        ("VIX", 7.40, True, 0.01),  # complex VIX: 0.01 at any price
        ("VX", 19.10, False, 0.05),  # VX futures
        ("VX", 0.40, True, 0.01),  # VX spreads
    ],
)
def test_tick_size(product, price, complex_, tick):
    assert tick_size(product, price, complex_) == tick


# Hand examples on both sides of every tick boundary. A debit takes the largest
# valid price <= the value, a credit the smallest valid price >= it.
SPX_SIMPLE = [
    # value, debit, credit
    (0.03, 0.00, 0.05),
    (1.07, 1.05, 1.10),
    (2.90, 2.90, 2.90),
    (2.91, 2.90, 2.95),
    (2.95, 2.95, 2.95),
    (2.951, 2.95, 3.00),  # above 2.95 the next valid price up is 3.00
    (2.975, 2.95, 3.00),
    (2.999, 2.95, 3.00),
    (3.00, 3.00, 3.00),
    (3.001, 3.00, 3.10),  # from 3.00 the grid is 0.10: 3.05 is not a valid simple price
    (3.04, 3.00, 3.10),
    (3.05, 3.00, 3.10),
    (3.09, 3.00, 3.10),
    (3.10, 3.10, 3.10),
    (12.34, 12.30, 12.40),
]
SPX_COMPLEX = [
    (2.975, 2.95, 3.00),
    (3.00, 3.00, 3.00),
    (3.04, 3.00, 3.05),
    (3.05, 3.05, 3.05),  # valid for a spread, not for a single leg
    (3.06, 3.05, 3.10),
    (29.70648475, 29.70, 29.75),  # the conversion of put_breached_3x (issue: "@ 29.70648475")
    (51.53488064, 51.50, 51.55),  # the reversal of call_tested ("credit 51.55")
]
VIX_SIMPLE = [
    (0.004, 0.00, 0.01),
    (2.985, 2.98, 2.99),
    (2.991, 2.99, 3.00),
    (2.999, 2.99, 3.00),
    (3.00, 3.00, 3.00),
    (3.01, 3.00, 3.05),
    (3.04, 3.00, 3.05),
    (3.05, 3.05, 3.05),
    (3.051, 3.05, 3.10),
    (3.07, 3.05, 3.10),
]
VIX_COMPLEX = [
    (2.0853, 2.08, 2.09),  # the layer-2 spread of put_tested_2_3x (issue: cost 8 × 2.085)
    (2.999, 2.99, 3.00),
    (3.047, 3.04, 3.05),  # 0.01 above 3.00 too
    (1.6626, 1.66, 1.67),
]
VX_FUTURE = [
    (19.12, 19.10, 19.15),
    (19.15, 19.15, 19.15),
    (2.97, 2.95, 3.00),  # no 3.00 boundary for futures
]


def _cases(table, product, complex_):
    for value, debit, credit in table:
        yield product, complex_, value, "debit", debit
        yield product, complex_, value, "credit", credit


ROUNDING = [
    *_cases(SPX_SIMPLE, "SPXW", False),
    *_cases(SPX_SIMPLE, "SPX", False),
    *_cases(SPX_COMPLEX, "SPXW", True),
    *_cases(VIX_SIMPLE, "VIX", False),
    *_cases(VIX_COMPLEX, "VIX", True),
    *_cases(VX_FUTURE, "VX", False),
]


@pytest.mark.parametrize("product, complex_, value, effect, expected", ROUNDING)
def test_round_limit_hand_examples(product, complex_, value, effect, expected):
    assert round_limit(value, product, effect, complex_) == expected


def test_round_limit_is_exact_decimal():
    # 29.7 exactly (the float nearest 29.70), not 29.700000000000003
    assert repr(round_limit(29.70648475, "SPXW", "debit", True)) == "29.7"
    # float noise on a grid price does not move it a tick: 0.1 + 0.2 = 0.30000000000000004
    assert round_limit(0.1 + 0.2, "SPXW", "debit") == 0.30
    assert round_limit(1.15, "SPXW", "debit") == 1.15  # 1.15 * 100 = 114.99999999999999
    assert round_limit(1.15, "SPXW", "credit") == 1.15


@pytest.mark.parametrize("bad", [-0.01, math.nan, math.inf])
def test_round_limit_rejects_bad_price(bad):
    with pytest.raises(ValueError):
        round_limit(bad, "SPX", "debit")


def test_round_limit_rejects_bad_effect_and_product():
    with pytest.raises(ValueError, match="effect"):
        round_limit(1.0, "SPX", "buy")
    with pytest.raises(ValueError, match="no tick rule"):
        round_limit(1.0, "NDX", "debit")


def _valid_simple(x: float, product: str) -> bool:
    """On the simple-order grid: lower tick below 3.00, upper tick from it (in cents)."""
    c = round(x * 100)
    if abs(x * 100 - c) > 1e-6:
        return False
    below, above = {"SPX": (5, 10), "VIX": (1, 5)}[product]
    return c % (above if c >= 300 else below) == 0


@given(
    value=st.floats(0, 200, allow_nan=False),
    product=st.sampled_from(["SPX", "VIX"]),
    effect=st.sampled_from(["debit", "credit"]),
)
def test_round_limit_properties(value, product, effect):
    limit = round_limit(value, product, effect)
    assert _valid_simple(limit, product)
    # in the trader's favour, and never more than one tick of the grid away; a price within
    # a millionth of a tick of the grid counts as on it (float noise, round_limit's doc)
    noise = 1e-6 * tick_size(product, value) + 1e-12
    if effect == "debit":
        assert limit <= value + noise
        assert value - limit < tick_size(product, value) + noise
    else:
        assert limit >= value - noise
        assert limit - value < tick_size(product, limit) + noise
    # a valid price is left alone
    assert round_limit(limit, product, effect) == limit
    assert round_limit(limit, product, "credit" if effect == "debit" else "debit") == limit


@given(
    a=st.floats(0, 100, allow_nan=False),
    b=st.floats(0, 100, allow_nan=False),
    effect=st.sampled_from(["debit", "credit"]),
    complex_=st.booleans(),
)
def test_round_limit_monotone(a, b, effect, complex_):
    lo, hi = sorted((a, b))
    assert round_limit(lo, "SPXW", effect, complex_) <= round_limit(hi, "SPXW", effect, complex_)


# ----------------------------------------------------------------------------- OSI


@pytest.mark.parametrize(
    "root, expiry, typ, strike, symbol",
    [
        # DESIGN §2's example: SPXW 5400 put, 18 Dec 2026
        ("SPXW", date(2026, 12, 18), "put", 5400, "SPXW  261218P05400000"),
        ("SPX", date(2026, 12, 18), "call", 6150.0, "SPX   261218C06150000"),
        ("SPXW", date(2027, 3, 31), "put", 5412.5, "SPXW  270331P05412500"),
        ("VIX", date(2027, 1, 20), "call", 21, "VIX   270120C00021000"),
        ("VIXW", date(2026, 12, 9), "call", 22.5, "VIXW  261209C00022500"),
    ],
)
def test_osi_symbol_hand_written(root, expiry, typ, strike, symbol):
    got = osi_symbol(root, expiry, typ, strike)
    assert got == symbol
    assert len(got) == 21
    assert parse_osi(got) == (root, typ, float(strike), expiry)


@given(
    root=st.sampled_from(["SPX", "SPXW", "VIX", "VIXW"]),
    expiry=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    typ=st.sampled_from(["put", "call"]),
    milli=st.integers(1, 10**8 - 1),
)
def test_osi_round_trip_with_parse_osi(root, expiry, typ, milli):
    strike = milli / 1000
    symbol = osi_symbol(root, expiry, typ, strike)
    assert len(symbol) == 21
    assert parse_osi(symbol) == (root, typ, strike, expiry)
    assert osi_symbol(*_reorder(parse_osi(symbol))) == symbol


def _reorder(parsed):
    root, typ, strike, expiry = parsed
    return root, expiry, typ, strike


@pytest.mark.parametrize(
    "root, typ, strike, expiry, match",
    [
        ("SPXWEEK", "put", 5400, date(2026, 12, 18), "root"),
        ("spxw", "put", 5400, date(2026, 12, 18), "root"),
        ("SPXW", "future", 5400, date(2026, 12, 18), "puts and calls"),
        ("SPXW", "put", 5400.0001, date(2026, 12, 18), "0.001"),
        ("SPXW", "put", 100000, date(2026, 12, 18), "100000"),
        ("SPXW", "put", 0, date(2026, 12, 18), "> 0"),
        ("SPXW", "put", 5400, date(2100, 1, 4), "2-digit year"),
    ],
)
def test_osi_symbol_rejects(root, typ, strike, expiry, match):
    with pytest.raises(ValueError, match=match):
        osi_symbol(root, expiry, typ, strike)


# ----------------------------------------------------------------------------- orders

# Per-contract values for the condor of builders.condor(): long put 5400, short put
# 5500, short call 6100, long call 6200. Closing sells the longs and buys the shorts:
# net per condor = 2.61 + 1.97 - 1.02 - 0.33 = 3.23 paid, a debit; complex SPX (0.05)
# rounds it down to 3.20.
CONDOR_PRICES = (1.02, 2.61, 1.97, 0.33)


def test_ten_lot_condor_closes_as_ten_of_one_to_one():
    p = condor(units=10)
    (order,) = orders_for(closing_trades(condor_legs(p), CONDOR_PRICES))
    assert order.underlying == "SPX"
    assert order.quantity == 10
    assert [g.ratio for g in order.legs] == [1, 1, 1, 1]
    assert [g.quantity for g in order.legs] == [10, 10, 10, 10]
    assert [g.action for g in order.legs] == ["STC", "BTC", "BTC", "STC"]
    assert [g.occ for g in order.legs] == [
        "SPXW  261218P05400000",
        "SPXW  261218P05500000",
        "SPXW  261218C06100000",
        "SPXW  261218C06200000",
    ]
    assert order.price_effect == "debit"
    assert order.model_value == pytest.approx(3.23)
    assert order.limit == 3.20
    assert order.tick == 0.05
    assert order.limit_text == "debit 3.20"
    assert order.multiplier == 100
    assert order.cost == pytest.approx(3200.0)  # 3.20 × 10 × $100, paid


def test_take_profit_with_hedges_is_two_orders_listing_every_leg():
    # The case: closing condor and VIX hedges cannot be one order.
    long_c, short_c = vix_spread(21, 30, 6, 1.35, 0.40)
    p = condor(units=10, hedges=(long_c, short_c))
    # VIX legs: sell 6 × 21 call at 1.8737, buy 6 × 30 call at 0.41:
    # net per spread = 0.41 - 1.8737 = -1.4637, a credit; complex VIX (0.01) rounds up to 1.47.
    prices = (*CONDOR_PRICES, 1.8737, 0.41)
    legs = (*condor_legs(p), long_c, short_c)
    spx, vix = orders_for(closing_trades(legs, prices), note="take profit")
    assert (spx.underlying, spx.quantity, spx.limit_text) == ("SPX", 10, "debit 3.20")
    assert (vix.underlying, vix.quantity) == ("VIX", 6)
    assert [(g.action, g.ratio, g.occ) for g in vix.legs] == [
        ("STC", 1, "VIX   270120C00021000"),
        ("BTC", 1, "VIX   270120C00030000"),
    ]
    assert vix.price_effect == "credit"
    assert vix.model_value == pytest.approx(1.4637)
    assert vix.limit == 1.47
    assert vix.limit_text == "credit 1.47"
    assert vix.cost == pytest.approx(-882.0)  # 1.47 × 6 × $100, received
    assert spx.note == vix.note == "take profit"
    # every leg of the position is listed once, with its whole size, closed
    listed = {g.occ: (g.action, g.quantity) for o in (spx, vix) for g in o.legs}
    assert len(listed) == len(p.legs)
    for g in p.legs:
        action, qty = listed[osi_symbol(g.root, g.expiry, g.type, g.strike)]
        assert qty == abs(g.quantity)
        assert action == ("STC" if g.quantity > 0 else "BTC")


def test_close_hedge_lists_both_legs():
    legs = vix_spread(22, 32, 8, 2.10, 0.55)
    (order,) = orders_for(closing_trades(legs, (3.62, 1.08)))
    # sell 22 call 3.62, buy 32 call 1.08: credit 2.54 per spread, already on the 0.01 grid
    assert [(g.action, g.quantity, g.strike) for g in order.legs] == [
        ("STC", 8, 22),
        ("BTC", 8, 32),
    ]
    assert (order.quantity, order.limit_text) == (8, "credit 2.54")


def test_vix_future_is_an_order_of_its_own():
    fut = Leg("VIX", "VIX", "future", None, date(2027, 1, 20), 1, 19.40, layer=1)
    call = Leg("VIX", "VIX", "call", 25, date(2027, 1, 20), 4, 1.10, layer=1)
    opt, future = orders_for(closing_trades((call, fut), (0.853, 21.12)))
    assert [g.type for g in opt.legs] == ["call"]
    # a single VIX option sold: simple order, credit rounds up in 0.01 below 3.00
    assert (opt.quantity, opt.limit_text, opt.tick) == (4, "credit 0.86", 0.01)
    assert future.legs[0].occ is None
    assert future.legs[0].action == "STC"
    # VX future, single leg: 0.05 ticks, credit rounds up 21.12 -> 21.15; $1,000 a point.
    # Selling it receives no premium: the P&L was settled daily as the future moved
    assert (future.limit_text, future.tick, future.multiplier) == ("credit 21.15", 0.05, 1000)
    assert future.cost == 0.0


def test_mini_vix_future_ticks_in_pennies_and_is_a_tenth_of_vx():
    # CFE Mini VIX futures (VXM): $100 a point, 0.01 ticks; an order of their own beside
    # a VX on the same expiry (each future is its own venue)
    vxm = Leg("VIX", "VXM", "future", None, date(2027, 1, 20), 3, 19.40, layer=1)
    vx = Leg("VIX", "VIX", "future", None, date(2027, 1, 20), 1, 19.40, layer=1)
    big, mini = orders_for(closing_trades((vx, vxm), (21.12, 21.123)))
    assert (big.tick, big.multiplier, big.limit_text) == (0.05, 1000, "credit 21.15")
    # 21.123 rounds up to the penny: 21.13
    assert (mini.tick, mini.multiplier, mini.limit_text) == (0.01, 100, "credit 21.13")
    assert [g.root for g in mini.legs] == ["VXM"] and mini.legs[0].occ is None
    assert (mini.quantity, mini.cost) == (3, 0.0)
    assert vxm.multiplier == 100 and vx.multiplier == 1000


def test_ratio_reduction_by_gcd():
    trades = [
        Trade("VIX", "VIX", "call", 20, date(2027, 1, 20), 6, True, 2.0),
        Trade("VIX", "VIX", "call", 30, date(2027, 1, 20), -4, True, 0.5),
    ]
    (order,) = orders_for(trades)
    # gcd(6, 4) = 2: 2 × (3:2); net per unit = 3·2.0 − 2·0.5 = 5.0 debit
    assert order.quantity == 2
    assert [g.ratio for g in order.legs] == [3, 2]
    assert [g.action for g in order.legs] == ["BTO", "STO"]
    assert order.model_value == pytest.approx(5.0)
    assert order.limit_text == "debit 5.00"
    assert order.note == ""


def test_wide_ratio_gets_a_note():
    trades = [
        Trade("VIX", "VIX", "call", 20, date(2027, 1, 20), 9, True, 1.0),
        Trade("VIX", "VIX", "call", 30, date(2027, 1, 20), -2, True, 0.2),
    ]
    (order,) = orders_for(trades)
    assert (order.quantity, [g.ratio for g in order.legs]) == (1, [9, 2])
    assert "wider than 3:1" in order.note


def test_same_contract_same_action_is_summed():
    t = Trade("SPX", "SPXW", "put", 5400, EXPIRY, 3, False, 1.0)
    (order,) = orders_for([t, t])
    assert [(g.action, g.quantity) for g in order.legs] == [("BTC", 6)]
    assert order.quantity == 6


def test_spx_and_spxw_legs_share_one_order():
    trades = [
        Trade("SPX", "SPX", "put", 5500, EXPIRY, -2, False, 3.0),
        Trade("SPX", "SPXW", "put", 5500, date(2027, 1, 15), 2, True, 4.0),
    ]
    (order,) = orders_for(trades)
    assert [g.occ for g in order.legs] == ["SPX   261218P05500000", "SPXW  270115P05500000"]
    assert order.limit_text == "debit 1.00"


def test_no_trades_no_orders():
    assert orders_for([]) == ()


def test_debit_rounding_to_zero_is_flagged():
    (order,) = orders_for(closing_trades(condor_legs(condor(units=1)), (0.05, 0.07, 0.04, 0.05)))
    # 0.07 + 0.04 - 0.05 - 0.05 = 0.01 paid: rounds down to 0.00
    assert order.limit_text == "debit 0.00"
    assert "rarely fills" in order.note


def test_negative_price_rejected():
    with pytest.raises(ValueError, match=">= 0"):
        orders_for([Trade("SPX", "SPXW", "put", 5400, EXPIRY, 1, True, -1.0)])


# ----------------------------------------------------------------------------- open/close


def test_conversion_closes_the_short_put_and_opens_the_call():
    # put_breached_3x: short 10 × 5650 put; the conversion buys 1 put and sells 1 call there.
    p = condor(strikes=(5550, 5650, 6450, 6500), units=10)
    trades = [
        *trades_against(p.legs, "SPX", "SPXW", "put", 5650, EXPIRY, 1, 80.0),
        *trades_against(p.legs, "SPX", "SPXW", "call", 5650, EXPIRY, -1, 50.29351525),
    ]
    (order,) = orders_for(trades)
    assert [(g.action, g.quantity, g.occ) for g in order.legs] == [
        ("BTC", 1, "SPXW  261218P05650000"),
        ("STO", 1, "SPXW  261218C05650000"),
    ]
    # 80.0 - 50.29351525 = 29.70648475 paid; complex SPX 0.05, debit down: 29.70
    assert order.model_value == pytest.approx(29.70648475)
    assert order.limit_text == "debit 29.70"
    assert order.cost == pytest.approx(2970.0)


def test_reversal_is_a_credit_never_a_signed_price():
    # call_tested: reversal buys 1 call and sells 1 put at the short call 6150.
    p = condor(strikes=(5350, 5400, 6150, 6200), units=1)
    trades = [
        *trades_against(p.legs, "SPX", "SPXW", "call", 6150, EXPIRY, 1, 12.0),
        *trades_against(p.legs, "SPX", "SPXW", "put", 6150, EXPIRY, -1, 63.53488064),
    ]
    (order,) = orders_for(trades)
    assert [g.action for g in order.legs] == ["BTC", "STO"]
    assert order.price_effect == "credit"
    assert order.limit == 51.55  # 51.53488064 up to the 0.05 grid
    assert order.limit_text == "credit 51.55"
    assert order.cost == pytest.approx(-5155.0)


def test_buying_more_than_held_short_closes_then_opens():
    held = [Leg("SPX", "SPXW", "put", 5500, EXPIRY, -10, 2.5)]
    trades = trades_against(held, "SPX", "SPXW", "put", 5500, EXPIRY, 15, 3.0)
    assert [(t.action, t.quantity) for t in trades] == [("BTC", 10), ("BTO", 5)]
    (order,) = orders_for(trades)
    assert "both closes and opens" in order.note


def test_adding_to_a_position_opens():
    held = [Leg("SPX", "SPXW", "put", 5500, EXPIRY, -10, 2.5)]
    more = trades_against(held, "SPX", "SPXW", "put", 5500, EXPIRY, -3, 3.0)
    assert [t.action for t in more] == ["STO"]
    assert trades_against(held, "SPX", "SPXW", "put", 5500, EXPIRY, 0, 3.0) == []
    # same strike, other root: not the held contract
    other = trades_against(held, "SPX", "SPX", "put", 5500, EXPIRY, 2, 3.0)
    assert [t.action for t in other] == ["BTO"]


# ----------------------------------------------------------------------------- netting


def test_net_trades_nets_a_contract_against_the_broker_position():
    # The file holds the condor's 10 short 5500 puts and a layer-3 long 5500 put: the
    # broker shows 9 short. Closing every leg must buy 9 to close, not BTC 10 + STC 1.
    p = condor(units=10)
    extra = Leg("SPX", "SPXW", "put", 5500, EXPIRY, 1, 4.0, layer=3)
    held = (*p.legs, extra)
    trades = closing_trades(held, (1.02, 2.61, 1.97, 0.33, 2.55))
    netted = net_trades(trades, held)
    puts = [t for t in netted if (t.type, t.strike) == ("put", 5500)]
    assert [(t.action, t.quantity) for t in puts] == [("BTC", 9)]
    assert puts[0].price == 2.61  # the buy's price: the net is a buy
    (order,) = orders_for(netted)
    # per unit (gcd 1): 9·2.61 + 10·1.97 − 10·1.02 − 10·0.33 = 29.69 paid
    assert order.quantity == 1
    assert order.fill_value == pytest.approx(29.69)


def test_net_trades_decides_open_or_close_from_holdings_not_labels():
    # a conversion's legs come labelled "opening" (new layer-3 legs); at the broker the
    # put bought closes part of the short put and the call sold opens
    p = condor(strikes=(5550, 5650, 6450, 6500), units=10)
    trades = [
        Trade("SPX", "SPXW", "put", 5650, EXPIRY, 3, True, 80.0, 79.9),
        Trade("SPX", "SPXW", "call", 5650, EXPIRY, -3, True, 50.29, 50.39),
    ]
    netted = net_trades(trades, p.legs)
    assert [(t.action, t.quantity) for t in netted] == [("BTC", 3), ("STO", -3)]
    (order,) = orders_for(netted)
    # fill 80.0 − 50.29 = 29.71 debit, down to 29.70; model 79.9 − 50.39 = 29.51
    assert order.limit_text == "debit 29.70"
    assert order.fill_value == pytest.approx(29.71)
    assert order.model_value == pytest.approx(29.51)


def test_model_value_is_signed_in_the_orders_direction():
    # assumed fills net a small debit, the model a credit: model_value < 0 says so
    trades = [
        Trade("VIX", "VIX", "call", 20, date(2027, 1, 20), 1, False, 1.10, 1.00),
        Trade("VIX", "VIX", "call", 30, date(2027, 1, 20), -1, False, 1.00, 1.05),
    ]
    (order,) = orders_for(trades)
    assert order.price_effect == "debit"
    assert order.fill_value == pytest.approx(0.10)
    assert order.model_value == pytest.approx(-0.05)


def test_a_contract_that_nets_to_zero_is_not_traded():
    t = Trade("SPX", "SPXW", "put", 5400, EXPIRY, 2, True, 1.0)
    u = Trade("SPX", "SPXW", "put", 5400, EXPIRY, -2, True, 0.9)
    assert net_trades([t, u]) == []
