"""Tests for the market model: time, calendar, VIX curve, smile, quotes, leg valuation, expiries.

Expected values come from outside the code: hand-worked year fractions,
published Cboe/OCC expiration dates (cited where asserted), and closed-form
Black-Scholes-Merton / Black-76 prices computed here with ``math.erf``.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from alvh_cli.cli import FLAGS
from alvh_cli.errors import InputError
from alvh_cli.inputs.sanity import check_expiries
from alvh_cli.model import pricing
from alvh_cli.model.domain import FuturePoint, Leg, Market, Position, PositionFile, Quote, Smile
from alvh_cli.model.exchange import is_business_day, previous_business_day
from alvh_cli.model.expirations import (
    next_vix_expiration,
    spx_monthly_expiration,
    third_friday,
    vix_expiration,
    vix_expirations,
)
from alvh_cli.model.legs import value_legs
from alvh_cli.model.quotes import find_quote, natural_price
from alvh_cli.model.smile import smile_vol
from alvh_cli.model.timing import dte, settlement_instant, year_fraction
from alvh_cli.model.vix_curve import future_price, future_prices

NY = ZoneInfo("America/New_York")
EST = timezone(timedelta(hours=-5))
EDT = timezone(timedelta(hours=-4))
DAY = 86400.0
YEAR = 365 * DAY

ASOF = datetime(2026, 11, 24, 15, 45, tzinfo=EST)
DEC18 = date(2026, 12, 18)
DEC16 = date(2026, 12, 16)
JAN20 = date(2027, 1, 20)


def _market(**changes) -> Market:
    base = dict(
        asof=ASOF,
        spx=5850.25,
        vix=18.2,
        rate=0.042,
        dividend_yield=0.013,
        vix_futures=(
            FuturePoint(DEC16, 19.1),
            FuturePoint(JAN20, 19.8),
            FuturePoint(date(2027, 2, 17), 20.3),
        ),
        spx_vol=Smile(0.165, -1.1, 2.5),
        vix_vol=Smile(0.95, 0.8, 0.0),
        source="book/dec.toml",
    )
    base.update(changes)
    return Market(**base)


def _leg(underlying="SPX", root="SPXW", type="put", strike=5400.0, expiry=DEC18, quantity=-2,
         entry_price=6.10, iv=None, key="positions[0].legs[0]") -> Leg:  # fmt: skip
    return Leg(underlying, root, type, strike, expiry, quantity, entry_price, iv=iv, key=key)


def _N(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _bsm(is_call, S, K, T, r, q, sigma) -> float:
    d1 = (math.log(S / K) + (r - q + 0.5 * sigma * sigma) * T) / (sigma * math.sqrt(T))
    d2 = d1 - sigma * math.sqrt(T)
    if is_call:
        return S * math.exp(-q * T) * _N(d1) - K * math.exp(-r * T) * _N(d2)
    return K * math.exp(-r * T) * _N(-d2) - S * math.exp(-q * T) * _N(-d1)


def _black76(is_call, F, K, T, r, sigma) -> float:
    d1 = (math.log(F / K) + 0.5 * sigma * sigma * T) / (sigma * math.sqrt(T))
    d2 = d1 - sigma * math.sqrt(T)
    if is_call:
        return math.exp(-r * T) * (F * _N(d1) - K * _N(d2))
    return math.exp(-r * T) * (K * _N(-d2) - F * _N(-d1))


# ----------------------------------------------------------------------------- time


def test_settlement_instants_am_and_pm():
    assert settlement_instant("SPXW", DEC18) == datetime(2026, 12, 18, 16, 0, tzinfo=EST)
    assert settlement_instant("SPX", DEC18) == datetime(2026, 12, 18, 9, 30, tzinfo=EST)
    assert settlement_instant("VIX", DEC16) == datetime(2026, 12, 16, 9, 30, tzinfo=EST)
    assert settlement_instant("VIXW", DEC16) == datetime(2026, 12, 16, 9, 30, tzinfo=EST)
    # Summer: 09:30 EDT is 13:30 UTC.
    summer = settlement_instant("SPX", date(2026, 7, 17))
    assert summer.astimezone(timezone.utc) == datetime(2026, 7, 17, 13, 30, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="unknown root"):
        settlement_instant("XSP", DEC18)


def test_year_fraction_pm_settled_worked_by_hand():
    # 2026-11-24 15:45 EST → 2026-12-18 16:00 EST is 24 days and 15 minutes:
    # (24·86400 + 900) s / (365·86400) = 24.0104167/365 = 0.0657819635.
    years = year_fraction(ASOF, settlement_instant("SPXW", DEC18))
    assert years == pytest.approx((24 * DAY + 900) / YEAR, rel=1e-15)
    assert years == pytest.approx(0.0657819635, abs=1e-10)


def test_year_fraction_across_dst_start():
    # DST starts Sunday 2026-03-08: 2026-03-06 16:00 EST → 2026-03-20 16:00 EDT is
    # 14 days less the skipped hour = 335 h; 335/8760 years.
    expected = (14 * 24 - 1) / 8760
    instant = settlement_instant("SPXW", date(2026, 3, 20))
    assert instant.utcoffset() == timedelta(hours=-4)
    assert year_fraction(datetime(2026, 3, 6, 16, tzinfo=EST), instant) == pytest.approx(
        expected, rel=1e-15
    )
    # Same tzinfo object on both sides: naive datetime subtraction would say 14 days.
    assert year_fraction(datetime(2026, 3, 6, 16, tzinfo=NY), instant) == pytest.approx(
        expected, rel=1e-15
    )


def test_year_fraction_across_dst_end():
    # DST ends Sunday 2026-11-01: 2026-10-30 16:00 EDT → 2026-11-06 16:00 EST = 7 d + 1 h.
    asof = datetime(2026, 10, 30, 16, tzinfo=NY)
    years = year_fraction(asof, settlement_instant("SPXW", date(2026, 11, 6)))
    assert years == pytest.approx((7 * 24 + 1) / 8760, rel=1e-15)


def test_am_and_pm_settlement_differ_by_six_and_a_half_hours():
    am = year_fraction(ASOF, settlement_instant("SPX", DEC18))
    pm = year_fraction(ASOF, settlement_instant("SPXW", DEC18))
    assert pm - am == pytest.approx(6.5 / 8760, rel=1e-12)


def test_naive_asof_is_new_york_wall_time():
    naive = datetime(2026, 11, 24, 15, 45)
    instant = settlement_instant("SPXW", DEC18)
    assert year_fraction(naive, instant) == year_fraction(ASOF, instant)


def test_dte_uses_the_new_york_date():
    assert dte(ASOF, DEC18) == 24
    # 02:00 UTC on the 25th is still 21:00 on the 24th in New York.
    assert dte(datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc), DEC18) == 24
    assert dte(ASOF, date(2026, 11, 24)) == 0
    assert dte(ASOF, date(2026, 11, 20)) == -4


# ------------------------------------------------------------------------- calendar


def test_business_days_follow_the_nyse_calendar():
    assert not is_business_day(date(2026, 6, 19))  # Juneteenth (a Friday)
    assert not is_business_day(date(2026, 4, 3))  # Good Friday 2026
    assert not is_business_day(date(2026, 11, 26))  # Thanksgiving
    assert is_business_day(date(2026, 11, 27))  # day after: early close, still open
    assert not is_business_day(date(2026, 11, 28))  # Saturday
    assert not is_business_day(date(2027, 6, 18))  # Juneteenth 2027 observed (Sat → Fri)
    assert previous_business_day(date(2026, 6, 22)) == date(2026, 6, 18)
    assert previous_business_day(date(2026, 11, 27)) == date(2026, 11, 25)


def test_third_fridays_and_spx_monthly_expirations():
    assert third_friday(2026, 12) == date(2026, 12, 18)
    assert third_friday(2027, 1) == date(2027, 1, 15)
    assert third_friday(2026, 5) == date(2026, 5, 15)  # month starting on a Friday
    assert third_friday(2026, 8) == date(2026, 8, 21)  # month starting on a Saturday
    for year in (2026, 2027):
        for month in range(1, 13):
            friday = third_friday(year, month)
            assert friday.weekday() == 4 and 15 <= friday.day <= 21
    assert spx_monthly_expiration(2026, 12) == date(2026, 12, 18)
    # Third Friday a holiday → the Thursday before: April 2025 (Good Friday 2025-04-18;
    # the April 2025 monthlies expired Thursday 2025-04-17), June 2026 (Juneteenth on
    # Friday 2026-06-19), June 2027 (Juneteenth observed Friday 2027-06-18; the same
    # shift moves CME's June 2027 index futures to 2027-06-17, QuantConnect/Lean#9572).
    assert spx_monthly_expiration(2025, 4) == date(2025, 4, 17)
    assert spx_monthly_expiration(2026, 6) == date(2026, 6, 18)
    assert spx_monthly_expiration(2027, 6) == date(2027, 6, 17)


# Published VIX expirations (monthly futures and options settle the same day).
PUBLISHED_VIX = {
    # sixfigureinvesting.com "VIX option expiration dates" (source: OCC and Cboe
    # expiration calendars), Sep 2011 – Dec 2012.
    (2011, 9): date(2011, 9, 21),
    (2011, 10): date(2011, 10, 19),
    (2011, 11): date(2011, 11, 16),
    (2011, 12): date(2011, 12, 21),
    (2012, 1): date(2012, 1, 18),
    (2012, 2): date(2012, 2, 15),
    (2012, 3): date(2012, 3, 21),
    (2012, 4): date(2012, 4, 18),
    (2012, 5): date(2012, 5, 16),
    (2012, 6): date(2012, 6, 20),
    (2012, 7): date(2012, 7, 18),
    (2012, 8): date(2012, 8, 22),
    (2012, 9): date(2012, 9, 19),
    (2012, 10): date(2012, 10, 17),
    (2012, 11): date(2012, 11, 21),
    (2012, 12): date(2012, 12, 19),
    # Cboe Options Hub, 2011-04-19: April VX settles Wednesday 2011-04-20.
    (2011, 4): date(2011, 4, 20),
    # Holiday-adjusted: third Friday of the next month is Good Friday, so 30 days
    # before the Thursday → a Tuesday.
    # VIX and More (vixandmore.blogspot.com, 2008-02), from OCC xcal2008: Feb 2008
    # VIX options expire Tuesday 2008-02-19 (Good Friday 2008-03-21).
    (2008, 2): date(2008, 2, 19),
    # Cboe Options Hub, 2014-03-17: March VX "settle tomorrow morning, Tuesday, March
    # 18th" (Good Friday 2014-04-18). A naive "Wednesday" rule gives 03-19, wrongly.
    (2014, 3): date(2014, 3, 18),
    # Cboe 2025 expiration calendar: March 2025 VIX settled Tuesday 2025-03-18
    # (Good Friday 2025-04-18 is April's third Friday).
    (2025, 3): date(2025, 3, 18),
    # The settlement Wednesday itself a holiday: Juneteenth, Wednesday 2024-06-19,
    # so June 2024 VX settled Tuesday 2024-06-18 (Cboe 2024 calendar; QuantConnect/
    # Lean#7506 reports VX "20240619" as a contract that does not exist).
    (2024, 6): date(2024, 6, 18),
}


@pytest.mark.parametrize(("contract", "expected"), sorted(PUBLISHED_VIX.items()))
def test_vix_expiration_matches_published_dates(contract, expected):
    assert vix_expiration(*contract) == expected


def test_vix_expirations_2026_2027():
    # Derived by the Cboe rule and checked by hand against the NYSE holiday list.
    # 2026-12-16, 2027-01-20, 2027-02-17 and 2027-03-17 are the published Cboe
    # dates we were given; the holiday-adjusted ones are worked below.
    # May 2026: June's third Friday 2026-06-19 is Juneteenth → Thu 06-18 − 30 d
    #   = Tuesday 2026-05-19.
    # May 2027: June's third Friday 2027-06-18 is Juneteenth observed → Thu 06-17
    #   − 30 d = Tuesday 2027-05-18.
    # Dec 2027: January 2028's third Friday is 2028-01-21 → 2027-12-22.
    expected = [
        date(2026, 1, 21), date(2026, 2, 18), date(2026, 3, 18), date(2026, 4, 15),
        date(2026, 5, 19), date(2026, 6, 17), date(2026, 7, 22), date(2026, 8, 19),
        date(2026, 9, 16), date(2026, 10, 21), date(2026, 11, 18), date(2026, 12, 16),
        date(2027, 1, 20), date(2027, 2, 17), date(2027, 3, 17), date(2027, 4, 21),
        date(2027, 5, 18), date(2027, 6, 16), date(2027, 7, 21), date(2027, 8, 18),
        date(2027, 9, 15), date(2027, 10, 20), date(2027, 11, 17), date(2027, 12, 22),
    ]  # fmt: skip
    assert vix_expirations(date(2026, 1, 1), date(2027, 12, 31)) == expected
    for d in expected:
        assert d.weekday() in (1, 2)  # Wednesday, or Tuesday after a holiday shift
        assert is_business_day(d)
        # 30 days before the (holiday-adjusted) SPX monthly expiration of the next month
        nxt = d + timedelta(days=30)
        assert spx_monthly_expiration(nxt.year, nxt.month) == nxt


def test_vix_expirations_bounds_are_inclusive():
    assert vix_expirations(DEC16, JAN20) == [DEC16, JAN20]
    assert vix_expirations(date(2026, 12, 17), date(2027, 1, 19)) == []


def test_next_vix_expiration():
    assert next_vix_expiration(date(2026, 11, 25)) == DEC16
    assert next_vix_expiration(DEC16) == DEC16
    assert next_vix_expiration(date(2026, 12, 17)) == JAN20
    assert next_vix_expiration(date(2026, 1, 1)) == date(2026, 1, 21)
    assert next_vix_expiration(date(2026, 5, 20)) == date(2026, 6, 17)


# ------------------------------------------------------------------------ VIX curve


def test_future_exact_and_linear_in_calendar_days():
    m = _market()
    assert future_price(m, JAN20) == 19.8
    # 2027-01-06 is 21 of the 35 days from 12-16 to 01-20: 19.1 + 0.7·21/35 = 19.52.
    assert future_price(m, date(2027, 1, 6)) == pytest.approx(19.52, abs=1e-12)
    got = future_prices(m, [DEC16, date(2027, 1, 6), date(2027, 2, 3), date(2027, 2, 17)])
    # 2027-02-03 is 14 of 28 days from 01-20 to 02-17: 19.8 + 0.5·0.5 = 20.05.
    np.testing.assert_allclose(got, [19.1, 19.52, 20.05, 20.3], atol=1e-12)


def test_future_curve_order_does_not_matter():
    m = _market(vix_futures=(FuturePoint(JAN20, 19.8), FuturePoint(DEC16, 19.1)))
    assert future_price(m, date(2027, 1, 6)) == pytest.approx(19.52, abs=1e-12)


def test_future_outside_the_curve_names_the_expiry():
    m = _market()
    with pytest.raises(InputError) as err:
        future_prices(m, [JAN20, date(2027, 4, 21)])
    e = err.value
    assert e.source == "book/dec.toml" and e.key == "market.vix_futures"
    assert e.message == (
        "no VIX future at or around 2027-04-21: listed expiries run 2026-12-16 to "
        "2027-02-17; add it to market.vix_futures"
    )
    with pytest.raises(InputError, match="2026-11-18"):
        future_price(m, date(2026, 11, 18))


def test_no_futures_or_one_future():
    with pytest.raises(InputError, match="2026-12-16: market.vix_futures is empty") as err:
        future_price(_market(vix_futures=()), DEC16)
    assert err.value.key == "market.vix_futures"
    one = _market(vix_futures=(FuturePoint(DEC16, 19.1),))
    assert future_price(one, DEC16) == 19.1
    with pytest.raises(InputError, match="2027-01-20: the only listed expiry is 2026-12-16"):
        future_price(one, JAN20)
    assert future_prices(_market(vix_futures=()), []).shape == (0,)


# ---------------------------------------------------------------------------- smile


def test_smile_vol_quadratic_and_floored():
    s = Smile(0.165, -1.1, 2.5)
    # k = -0.1: 0.165 + 0.11 + 0.025 = 0.30; k = 0.2: 0.165 - 0.22 + 0.1 = 0.045
    np.testing.assert_allclose(smile_vol(s, [-0.1, 0.0, 0.2]), [0.30, 0.165, 0.045])
    # k = 0.1 with steep skew: 0.165 - 0.3 < 0 → floor 0.01
    assert smile_vol(Smile(0.165, -3.0), 0.1) == pytest.approx(0.01)


# --------------------------------------------------------------------------- quotes


def test_find_quote_matches_contract_and_root():
    q_any = Quote("SPX", "put", 5400, DEC18, 10.1, 10.5)
    q_am = Quote("SPX", "put", 5400, DEC18, 11.0, 11.6, root="SPX")
    q_pm = Quote("SPX", "put", 5400, DEC18, 9.9, 10.3, root="SPXW")
    m = _market(quotes=(q_any, q_am))
    assert find_quote(m, _leg(root="SPX")) is q_am  # exact root preferred
    assert find_quote(m, _leg(root="SPXW")) is q_any  # rootless quote matches any root
    assert find_quote(_market(quotes=(q_am,)), _leg(root="SPXW")) is None
    assert find_quote(_market(quotes=(q_pm,)), "SPX", "put", 5400.0, DEC18) is q_pm
    assert find_quote(m, "SPX", "call", 5400, DEC18) is None
    assert find_quote(m, "SPX", "put", 5405, DEC18) is None
    assert find_quote(m, "VIX", "put", 5400, DEC18) is None
    assert find_quote(m, _leg(expiry=date(2026, 12, 17))) is None


def test_natural_price_crosses_the_spread():
    m = _market(quotes=(Quote("VIX", "call", 21, DEC16, 1.30, 1.40),))
    assert natural_price(m, "VIX", "call", 21, DEC16, "buy") == 1.40
    assert natural_price(m, "VIX", "call", 21, DEC16, "sell") == 1.30
    assert natural_price(m, "VIX", "call", 22, DEC16, "buy") is None
    with pytest.raises(ValueError):
        natural_price(m, "VIX", "call", 21, DEC16, "hold")


# ------------------------------------------------------------------------ valuation


def test_spx_put_on_the_smile_matches_closed_form_bsm():
    # Worked: T = 0.0657819635 (above); F = 5850.25·e^(0.029·T) = 5861.42104;
    # k = ln(5400/F) = -0.0819931; σ = 0.165 + 1.1·0.0819931 + 2.5·0.0819931² = 0.2719996;
    # d1 = 1.210200, d2 = 1.140438; P = K e^(−rT) N(−d2) − S e^(−qT) N(−d1) = 23.08404;
    # Δ = −e^(−qT) N(−d1) = −0.1130044.
    m = _market()
    v = value_legs(m, [_leg()])
    T = (24 * DAY + 900) / YEAR
    assert v.T[0] == pytest.approx(T, rel=1e-14)
    assert v.dte[0] == 24
    assert v.forward[0] == pytest.approx(5861.421039, rel=1e-9)
    assert v.underlying[0] == 5850.25
    assert v.vol[0] == pytest.approx(0.2719996094, rel=1e-9)
    assert v.smile_vol[0] == v.vol[0]
    assert v.vol_source == ("smile",)
    expected = _bsm(False, 5850.25, 5400, T, 0.042, 0.013, v.vol[0])
    assert expected == pytest.approx(23.084037, abs=1e-6)
    assert v.price[0] == pytest.approx(expected, rel=1e-9)
    assert v.delta[0] == pytest.approx(-0.1130043823, rel=1e-7)
    assert v.multiplier[0] == 100 and v.quantity[0] == -2.0


def test_vix_call_is_black76_on_the_listed_future():
    # Settles 2026-12-16 09:30 EST: 22 days less 6.25 h after asof = 21 d 17.75 h,
    # T = 21.7395833/365 = 0.0595605023. F = 19.1 (listed); k = ln(21/19.1) = 0.0948341;
    # σ = 0.95 + 0.8·k = 1.0258673; d1 = −0.253605, d2 = −0.503968;
    # C = e^(−rT)(F N(d1) − K N(d2)) = 1.185149; Δ = e^(−rT) N(d1) = 0.398901.
    m = _market()
    leg = _leg("VIX", "VIX", "call", 21.0, DEC16, 6, 1.35)
    v = value_legs(m, [leg])
    T = (21 * DAY + 17.75 * 3600) / YEAR
    assert v.T[0] == pytest.approx(T, rel=1e-14)
    assert v.underlying[0] == v.forward[0] == 19.1
    assert v.vol[0] == pytest.approx(1.0258672821, rel=1e-9)
    assert v.vol_source == ("smile",)
    expected = _black76(True, 19.1, 21.0, T, 0.042, v.vol[0])
    assert expected == pytest.approx(1.185149, abs=1e-6)
    assert v.price[0] == pytest.approx(expected, rel=1e-9)
    assert v.delta[0] == pytest.approx(0.3989013763, rel=1e-7)
    assert v.multiplier[0] == 100


def test_weekly_vix_call_uses_the_interpolated_future():
    m = _market()
    leg = _leg("VIX", "VIXW", "call", 22.0, date(2027, 1, 6), 1, 1.0)
    v = value_legs(m, [leg])
    assert v.forward[0] == pytest.approx(19.52, abs=1e-12)
    T = year_fraction(ASOF, datetime(2027, 1, 6, 9, 30, tzinfo=EST))
    sigma = 0.95 + 0.8 * math.log(22 / 19.52)
    assert v.price[0] == pytest.approx(_black76(True, 19.52, 22.0, T, 0.042, sigma), rel=1e-9)


def test_quote_mid_becomes_the_vol_that_reprices_it():
    put_quote = Quote("SPX", "put", 5400, DEC18, 24.0, 25.0)
    vix_quote = Quote("VIX", "call", 21, DEC16, 1.30, 1.40, root="VIX")
    m = _market(quotes=(put_quote, vix_quote))
    legs = [_leg(), _leg("VIX", "VIX", "call", 21.0, DEC16, 6, 1.35)]
    v = value_legs(m, legs)
    assert v.vol_source == ("quote", "quote")
    T = (24 * DAY + 900) / YEAR
    assert _bsm(False, 5850.25, 5400, T, 0.042, 0.013, v.vol[0]) == pytest.approx(24.5, abs=1e-5)
    T_vix = (21 * DAY + 17.75 * 3600) / YEAR
    assert _black76(True, 19.1, 21.0, T_vix, 0.042, v.vol[1]) == pytest.approx(1.35, abs=1e-6)
    np.testing.assert_allclose(v.price, [24.5, 1.35], atol=1e-5)
    # The smile is still reported alongside, for scenario residuals.
    assert v.smile_vol[0] == pytest.approx(0.2719996094, rel=1e-9)
    assert v.vol[0] > v.smile_vol[0]  # the mid is richer than the smile's 23.08


def test_leg_iv_beats_quote_and_quotes_can_be_skipped():
    m = _market(quotes=(Quote("SPX", "put", 5400, DEC18, 24.0, 25.0),))
    v = value_legs(m, [_leg(iv=0.19), _leg()])
    assert v.vol_source == ("iv", "quote")
    assert v.vol[0] == 0.19
    T = (24 * DAY + 900) / YEAR
    assert v.price[0] == pytest.approx(_bsm(False, 5850.25, 5400, T, 0.042, 0.013, 0.19))
    skipped = value_legs(m, [_leg(iv=0.19), _leg()], use_quotes=False)
    assert skipped.vol_source == ("iv", "smile")


def test_quote_outside_no_arbitrage_bounds_falls_back_to_the_smile():
    # A 6000 put with S = 5850 is worth at least K e^(−rT) − S e^(−qT) ≈ 133.6; a mid of
    # 50 is below intrinsic, no vol reproduces it.
    m = _market(quotes=(Quote("SPX", "put", 6000, DEC18, 49.0, 51.0),))
    v = value_legs(m, [_leg(strike=6000.0)])
    assert v.vol_source == ("smile",)
    assert v.vol[0] == v.smile_vol[0]


def test_scenario_vols_replace_everything_for_options():
    m = _market(quotes=(Quote("SPX", "put", 5400, DEC18, 24.0, 25.0),))
    legs = [_leg(iv=0.19), _leg(), _leg("VIX", "VIX", "future", None, DEC16, -1, 19.0)]
    v = value_legs(m, legs, vols=np.array([0.30, 0.31, 0.99]))
    assert v.vol_source == ("scenario", "scenario", "")
    np.testing.assert_array_equal(v.vol[:2], [0.30, 0.31])
    assert np.isnan(v.vol[2])


def test_vix_futures_legs():
    m = _market()
    legs = [_leg("VIX", "VIX", "future", None, date(2027, 1, 6), -2, 19.0)]
    v = value_legs(m, legs)
    assert v.price[0] == pytest.approx(19.52, abs=1e-12)
    assert v.underlying[0] == v.forward[0] == v.price[0]
    assert v.delta[0] == 1.0
    assert v.gamma[0] == v.vega[0] == v.theta[0] == v.rho[0] == 0.0
    assert np.isnan(v.vol[0]) and np.isnan(v.smile_vol[0])
    assert v.vol_source == ("",)
    assert v.multiplier[0] == 1000
    # −2 futures: −$2000 per VIX point.
    assert v.dollars("delta")[0] == -2000.0


def test_dollars_is_unit_figure_times_quantity_times_multiplier():
    m = _market()
    legs = [_leg(), _leg("VIX", "VIX", "call", 21.0, DEC16, 6, 1.35)]
    v = value_legs(m, legs)
    for name in ("price", "delta", "gamma", "vega", "theta", "rho"):
        np.testing.assert_allclose(v.dollars(name), getattr(v, name) * [-2 * 100, 6 * 100])
    with pytest.raises(ValueError):
        v.dollars("vol")


def test_one_pricing_call_per_model(monkeypatch):
    calls = {"bsm": 0, "b76": 0, "iv": 0, "iv76": 0}

    def counting(name, fn):
        def wrapper(*args):
            calls[name] += 1
            return fn(*args)

        return wrapper

    monkeypatch.setattr(pricing, "bsm_greeks", counting("bsm", pricing.bsm_greeks))
    monkeypatch.setattr(pricing, "black76_greeks", counting("b76", pricing.black76_greeks))
    monkeypatch.setattr(pricing, "implied_vol", counting("iv", pricing.implied_vol))
    monkeypatch.setattr(
        pricing, "implied_vol_black76", counting("iv76", pricing.implied_vol_black76)
    )
    quotes = tuple(Quote("SPX", "put", k, DEC18, 5.0, 5.4) for k in (5200, 5300))
    quotes += (Quote("VIX", "call", 25, DEC16, 0.50, 0.60),)
    m = _market(quotes=quotes)
    legs = [_leg(strike=float(k)) for k in range(5000, 5500, 100)]
    legs += [_leg("VIX", "VIX", "call", float(k), DEC16, 1, 1.0) for k in (20, 25, 30)]
    legs += [_leg("VIX", "VIX", "future", None, JAN20, 1, 19.0)]
    v = value_legs(m, legs)
    assert calls == {"bsm": 1, "b76": 1, "iv": 1, "iv76": 1}
    assert v.vol_source.count("quote") == 3
    assert len(v.price) == 9 and np.isfinite(v.price).all()


def test_vix_option_without_smile_is_an_input_error():
    m = _market(vix_vol=None)
    leg = _leg("VIX", "VIX", "call", 21.0, DEC16, 6, 1.35)
    with pytest.raises(InputError) as err:
        value_legs(m, [leg])
    assert err.value.key == "market.vix_vol" and err.value.source == "book/dec.toml"
    assert "add [market.vix_vol] or an iv/quote" in err.value.message
    # With its own iv, or a quote, it prices; the smile column is then NaN.
    v = value_legs(m, [_leg("VIX", "VIX", "call", 21.0, DEC16, 6, 1.35, iv=1.0)])
    assert v.vol_source == ("iv",) and np.isnan(v.smile_vol[0])
    quoted = _market(vix_vol=None, quotes=(Quote("VIX", "call", 21, DEC16, 1.3, 1.4),))
    assert value_legs(quoted, [leg]).vol_source == ("quote",)


def test_vix_option_beyond_the_curve_names_the_expiry():
    leg = _leg("VIX", "VIX", "call", 21.0, date(2027, 4, 21), 6, 1.35)
    with pytest.raises(InputError, match="no VIX future at or around 2027-04-21"):
        value_legs(_market(), [leg])


def test_expired_legs_price_at_intrinsic():
    # The AM-settled 2026-11-20 monthly settled before asof: T < 0, priced at the T → 0
    # limit: put 5900 − 5850.25 = 49.75; the 5800 put is worthless.
    m = _market()
    legs = [_leg(root="SPX", strike=5900.0, expiry=date(2026, 11, 20)),
            _leg(root="SPX", strike=5800.0, expiry=date(2026, 11, 20))]  # fmt: skip
    v = value_legs(m, legs)
    assert (v.T < 0).all() and (v.dte == -4).all()
    np.testing.assert_allclose(v.price, [49.75, 0.0], atol=1e-9)


def test_no_legs():
    v = value_legs(_market(), [])
    assert v.price.shape == (0,) and v.vol_source == ()


# ------------------------------------------------------------------------- expiries


def _file(*legs: Leg) -> PositionFile:
    return PositionFile("book/dec.toml", (Position("dec-ic", legs, 4.85, key="positions[0]"),))


def test_check_expiries_names_file_and_key():
    pf = _file(
        _leg(key="positions[0].legs[0]"),
        _leg(root="SPX", expiry=date(2026, 11, 20), key="positions[0].legs[2]"),
    )
    with pytest.raises(InputError) as err:
        check_expiries(pf, _market(), allow_expired=False)
    said = (
        "book/dec.toml: positions[0].legs[2].expiry: expired 2026-11-20 09:30 EST "
        "before asof 2026-11-24 15:45 EST (position 'dec-ic'; use {})"
    )
    assert str(err.value) == said.format("allow_expired")  # the parameter, by its role
    assert str(err.value.for_command_line(FLAGS)) == said.format("--allow-expired")
    check_expiries(pf, _market(), allow_expired=True)  # allowed: no error


def test_check_expiries_uses_the_settlement_instant():
    today = date(2026, 11, 24)
    pm = _file(_leg(root="SPXW", expiry=today))
    am = _file(_leg(root="SPX", expiry=today, key="positions[0].legs[1]"))
    check_expiries(pm, _market(), allow_expired=False)  # settles 16:00, asof 15:45
    with pytest.raises(InputError, match="legs\\[1\\].expiry"):
        check_expiries(am, _market(), allow_expired=False)  # settled at 09:30
    at_close = _market(asof=datetime(2026, 11, 24, 16, 0, tzinfo=NY))
    with pytest.raises(InputError):  # settlement instant ≤ asof is expired
        check_expiries(pm, at_close, allow_expired=False)


def test_position_opened_after_asof_is_refused():
    from dataclasses import replace as _replace

    pf = _file(_leg(key="positions[0].legs[0]"))
    late = _replace(pf, positions=(_replace(pf.positions[0], opened=date(2026, 12, 1)),))
    with pytest.raises(InputError) as err:
        check_expiries(late, _market(), allow_expired=True)
    assert str(err.value) == (
        "book/dec.toml: positions[0].opened: opened 2026-12-01 is after asof "
        "2026-11-24 15:45 EST (position 'dec-ic')"
    )
