"""Position figures: the mark of a hand-worked condor, P&L, and the VIX-to-SPX Greek map."""

from __future__ import annotations

import math

from builders import condor, loaded, market, vix_spread

from alvh_cli.model.valuation import value_book
from alvh_cli.output.records import price_json


def bsm(is_call, s, k, t, sigma):
    """Black-Scholes with r = q = 0, written out independently of alvh_cli.model.pricing."""
    d1 = (math.log(s / k) + 0.5 * sigma * sigma * t) / (sigma * math.sqrt(t))
    d2 = d1 - sigma * math.sqrt(t)
    n = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    if is_call:
        return s * n(d1) - k * n(d2)
    return k * n(-d2) - s * n(-d1)


def test_mark_multiple_of_a_hand_worked_condor():
    """SPX 5800, r = q = 0, flat 15% vol, T = 24/365 (16:00 to 16:00 New York, no DST change).

    debit to close = P(5500) − P(5400) + C(6100) − C(6200), per unit, from Black-Scholes
    written out in bsm below; credit 3.00 → mark = debit / 3.
    """
    t = 24 / 365
    debit = (
        bsm(False, 5800, 5500, t, 0.15)
        - bsm(False, 5800, 5400, t, 0.15)
        + bsm(True, 5800, 6100, t, 0.15)
        - bsm(True, 5800, 6200, t, 0.15)
    )
    pv = value_book([loaded(condor(units=10, credit=3.0), market(spx=5800.0))])[0]
    assert math.isclose(pv.debit_to_close, debit, rel_tol=1e-10)
    assert math.isclose(pv.mark_multiple, debit / 3.0, rel_tol=1e-10)
    # P&L against entry prices 1.0/2.5/2.0/0.5: Σ (price − entry) × q × 100
    prices = [
        bsm(False, 5800, 5400, t, 0.15),
        bsm(False, 5800, 5500, t, 0.15),
        bsm(True, 5800, 6100, t, 0.15),
        bsm(True, 5800, 6200, t, 0.15),
    ]
    entries, qty = [1.0, 2.5, 2.0, 0.5], [10, -10, -10, 10]
    pnl = sum((p - e) * q * 100 for p, e, q in zip(prices, entries, qty, strict=True))
    assert math.isclose(pv.pnl, pnl, rel_tol=1e-10)


def test_vix_legs_map_to_spx_delta_through_the_stress_model():
    """A VIX leg's $ delta in SPX points is its futures delta × dF/dS, with
    F(S') = F + (VIX·(S'/S)^β − VIX)·e^(−κτ), so dF/dS = e^(−κτ)·VIX·β/S."""
    mkt = market(spx=5790.0, vix=20.0)
    pos = condor(hedges=vix_spread(21, 26, 8, 1.0, 0.3))
    pv = value_book([loaded(pos, mkt)])[0]
    i = 4  # the long VIX 21 call
    tau = float(pv.values.T[i])  # VIX options settle with their future
    slope = math.exp(-5.0 * tau) * 20.0 * -4.9 / 5790.0
    expected = float(pv.values.delta[i]) * 8 * 100 * slope
    assert math.isclose(float(pv.spx_dollars["delta"][i]), expected, rel_tol=1e-9)
    total = pv.greeks["condor"]["delta"] + pv.greeks["hedges"]["delta"]
    assert math.isclose(pv.greeks["total"]["delta"], total, rel_tol=1e-12)
    assert pv.greeks["hedges"]["delta"] < 0  # long VIX calls gain as SPX falls


def test_price_book_rows_are_per_leg_dollars():
    pos = condor(hedges=vix_spread(21, 26, 8, 1.0, 0.3))
    data = price_json(value_book([loaded(pos, market(spx=5790.0))]))
    assert len(data["legs"]) == 6
    for row in data["legs"]:
        mult = 100.0
        assert math.isclose(row["value"], row["price"] * row["quantity"] * mult, rel_tol=1e-9)
    assert data["positions"][0]["credit"] == 3.0


def test_quotes_that_contradict_each_other_are_an_input_error():
    """Short put 5500 quoted 0.10/0.20 while the long 5400 is 74.40/74.60: the put spread
    would be worth −74.4, less than nothing; alvh refuses rather than call it a profit."""
    import pytest

    from alvh_cli.errors import InputError
    from alvh_cli.model.domain import Quote

    quotes = (
        Quote("SPX", "put", 5400, condor().expiry, 74.40, 74.60),
        Quote("SPX", "put", 5500, condor().expiry, 0.10, 0.20),
    )
    with pytest.raises(InputError) as err:
        value_book([loaded(condor(), market(spx=5790.0, quotes=quotes))])
    text = str(err.value)
    assert text.startswith("test.toml: market.quotes: the put spread 5400/5500 prices at -74.")
    assert "market.quotes[1] mid 0.15 vs market.quotes[0] mid 74.5" in text
