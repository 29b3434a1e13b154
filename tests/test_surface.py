"""The fitted SPX surface in a market: forwards, discounts, SVI vols and leg values
(alvh_cli.model.surface, alvh_cli.model.chain_market, alvh_cli.model.legs)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from chain_builders import ASOF, EXPIRIES, SPOT, chain_rows, write_cboe
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_cli.errors import InputError
from alvh_cli.inputs.chain import read_option_chain
from alvh_cli.method import scenarios
from alvh_cli.model import pricing
from alvh_cli.model.chain_market import market_from_chains, quadratic_smile, with_chains
from alvh_cli.model.domain import Leg, Market, Quote, Smile, SpxSurface, SviSlice
from alvh_cli.model.legs import value_legs
from alvh_cli.model.surface import slice_times, spx_forward_discount
from alvh_cli.model.svi import SviParams
from alvh_cli.model.timing import settlement_instant, year_fraction

R, Q = 0.042, 0.013


def w_by_hand(p: SviParams, k: float) -> float:
    """Raw SVI total variance, Gatheral (2004): a + b(ρ(k − m) + sqrt((k − m)² + σ²))."""
    return p.a + p.b * (p.rho * (k - p.m) + math.sqrt((k - p.m) ** 2 + p.sigma**2))


def years_to(root: str, expiry: date) -> float:
    return year_fraction(ASOF, settlement_instant(root, expiry))


def slices(consistent: bool = False) -> tuple[SviSlice, ...]:
    """The three expiries of chain_builders as slices; ``consistent`` puts their forwards
    and discounts on S·e^((r−q)T) and e^(−rT) of R and Q."""
    out = []
    for e in EXPIRIES:
        T = years_to(e.root, e.expiry)
        F, D = (
            (SPOT * math.exp((R - Q) * T), math.exp(-R * T))
            if consistent
            else (e.forward, e.discount)
        )
        p = e.params
        out.append(SviSlice(e.expiry, e.root, p.a, p.b, p.rho, p.m, p.sigma, F, D, 0.05, 61, True))
    return tuple(out)


def market(surface_slices=None, spot=SPOT, **kw) -> Market:
    surface = None if surface_slices is None else SpxSurface(SPOT, surface_slices, "test")
    base = dict(
        asof=ASOF,
        spx=spot,
        vix=18.2,
        rate=R,
        dividend_yield=Q,
        spx_vol=Smile(0.165, -1.1, 2.5),
        vix_vol=Smile(0.95, 0.8, 0.0),
        source="test.toml",
        spx_surface=surface,
    )
    base.update(kw)
    return Market(**base)


def leg(strike, expiry, kind="put", root="SPXW", iv=None) -> Leg:
    return Leg("SPX", root, kind, strike, expiry, 1, 1.0, iv=iv)


DEC, JAN, MAR = (e.expiry for e in EXPIRIES)


# ------------------------------------------------------------------ consistency


def test_a_surface_on_the_markets_carry_prices_as_bsm():
    """Forwards S·e^((r−q)T) and discounts e^(−rT) make D·Black76(F) Black-Scholes-Merton
    exactly: every price and Greek of a leg with a fixed iv must equal the plain market's,
    at slice expiries, between them, before the first and after the last."""
    legs = [
        leg(k, d, kind, root, iv=0.17 + 0.01 * i)
        for i, (k, d, kind, root) in enumerate(
            [
                (5400, DEC, "put", "SPXW"),
                (6100, DEC, "call", "SPXW"),
                (5700, date(2026, 12, 31), "put", "SPXW"),  # between the first two
                (5500, date(2026, 12, 4), "put", "SPXW"),  # before the first
                (6000, MAR, "call", "SPX"),
                (5200, date(2027, 6, 17), "put", "SPXW"),  # after the last
            ]
        )
    ]
    plain = value_legs(market(), legs)
    on_surface = value_legs(market(slices(consistent=True)), legs)
    for name in ("price", "delta", "gamma", "vega", "theta", "rho", "forward"):
        np.testing.assert_allclose(
            getattr(on_surface, name), getattr(plain, name), rtol=1e-9, atol=1e-11
        )
    assert on_surface.vol_source == ("iv",) * len(legs)


def test_an_unquoted_leg_at_a_slice_expiry_is_black76_on_the_parity_forward():
    """At the Dec expiry: vol = sqrt(w(k)/T) with k = ln(K/F) against the slice's parity
    forward F = 5861.4 (SPX at the surface's spot), price = D·Black76(F, K, T, vol) with
    D = 0.99725, delta = D·N(d1)·F/S (dF/dS = F/S), gamma scaled by (F/S)²."""
    e = EXPIRIES[0]
    T = years_to(e.root, e.expiry)
    mkt = market(slices())
    values = value_legs(mkt, [leg(5512.5, DEC), leg(6137.5, DEC, "call")])
    r_d = -math.log(e.discount) / T
    for i, (K, is_call) in enumerate(((5512.5, False), (6137.5, True))):
        vol = math.sqrt(w_by_hand(e.params, math.log(K / e.forward)) / T)
        assert values.vol[i] == pytest.approx(vol, rel=1e-12)
        b76 = pricing.black76_greeks(is_call, e.forward, K, T, r_d, vol)
        assert values.price[i] == pytest.approx(float(b76.price), rel=1e-10)
        assert values.delta[i] == pytest.approx(float(b76.delta) * e.forward / SPOT, rel=1e-10)
        assert values.gamma[i] == pytest.approx(
            float(b76.gamma) * (e.forward / SPOT) ** 2, rel=1e-9
        )
        assert values.vega[i] == pytest.approx(float(b76.vega), rel=1e-10)
        assert values.forward[i] == pytest.approx(e.forward, rel=1e-14)
    assert values.vol_source == ("svi", "svi")


def test_between_slices_total_variance_is_linear_in_T_and_the_carry_too():
    """SPXW 2026-12-31 lies between Dec 18 and Jan 15. By hand: the carry c = ln(F/S) and
    −ln D are linear in T between the slices; k = ln(K/F(T)); w = w₁(k) + θ(w₂(k) − w₁(k)),
    θ = (T − T₁)/(T₂ − T₁); vol = sqrt(w/T)."""
    e1, e2 = EXPIRIES[0], EXPIRIES[1]
    t1, t2 = years_to(e1.root, e1.expiry), years_to(e2.root, e2.expiry)
    T = years_to("SPXW", date(2026, 12, 31))
    theta = (T - t1) / (t2 - t1)
    c = math.log(e1.forward / SPOT) + theta * (
        math.log(e2.forward / SPOT) - math.log(e1.forward / SPOT)
    )
    F = SPOT * math.exp(c)
    D = math.exp(math.log(e1.discount) + theta * (math.log(e2.discount) - math.log(e1.discount)))
    K = 5650.0
    k = math.log(K / F)
    w = w_by_hand(e1.params, k) + theta * (w_by_hand(e2.params, k) - w_by_hand(e1.params, k))
    mkt = market(slices())
    got_f, got_d = spx_forward_discount(mkt, T)
    assert float(got_f) == pytest.approx(F, rel=1e-13)
    assert float(got_d) == pytest.approx(D, rel=1e-13)
    v = value_legs(mkt, [leg(K, date(2026, 12, 31))])
    assert v.vol[0] == pytest.approx(math.sqrt(w / T), rel=1e-12)
    b76 = pricing.black76_greeks(False, F, K, T, -math.log(D) / T, math.sqrt(w / T))
    assert v.price[0] == pytest.approx(float(b76.price), rel=1e-10)


def test_outside_the_slices_the_nearest_vol_and_average_carry_hold():
    """Before the first slice and after the last: the nearest slice's vol at the same k
    (total variance scaled by T/Tᵢ), and its average carry and rate continued
    (F = S·(Fᵢ/S)^(T/Tᵢ), D = Dᵢ^(T/Tᵢ))."""
    mkt = market(slices())
    for d, e, K in (
        (date(2026, 12, 4), EXPIRIES[0], 5600.0),
        (date(2027, 6, 17), EXPIRIES[2], 5300.0),
    ):
        Ti = years_to(e.root, e.expiry)
        T = years_to("SPXW", d)
        F = SPOT * (e.forward / SPOT) ** (T / Ti)
        D = e.discount ** (T / Ti)
        got_f, got_d = spx_forward_discount(mkt, T)
        assert float(got_f) == pytest.approx(F, rel=1e-13)
        assert float(got_d) == pytest.approx(D, rel=1e-13)
        v = value_legs(mkt, [leg(K, d)])
        assert v.vol[0] == pytest.approx(
            math.sqrt(w_by_hand(e.params, math.log(K / F)) / Ti), rel=1e-12
        )


def test_forwards_follow_the_markets_spx_and_delta_is_the_spot_derivative():
    """At SPX S ≠ the surface's spot every forward is F·S/spot (the carry kept). With the
    vols fixed (iv), the central difference of the price in S is delta and of delta is
    gamma: DESIGN §3 units on SPX spot, however the forwards were set."""
    legs = [
        leg(5500, DEC, iv=0.2),
        leg(6050, JAN, "call", iv=0.14),
        leg(5800, MAR, root="SPX", iv=0.16),
    ]
    base = market(slices())
    h = 0.5
    up = value_legs(replace(base, spx=SPOT + h), legs)
    down = value_legs(replace(base, spx=SPOT - h), legs)
    mid = value_legs(base, legs)
    np.testing.assert_allclose((up.price - down.price) / (2 * h), mid.delta, rtol=2e-6)
    np.testing.assert_allclose((up.delta - down.delta) / (2 * h), mid.gamma, rtol=2e-5)
    np.testing.assert_allclose(up.forward, mid.forward * (SPOT + h) / SPOT, rtol=1e-13)


def test_quotes_still_beat_the_surface_and_price_at_their_mid():
    q = Quote("SPX", "put", 5400.0, DEC, 10.1, 10.5, "SPXW")
    mkt = market(slices(), quotes=(q,))
    v = value_legs(mkt, [leg(5400, DEC), leg(5405, DEC)])
    assert v.vol_source == ("quote", "svi")
    assert v.price[0] == pytest.approx(10.3, abs=1e-9)


def test_smile_vol_stays_the_reference_smile_and_an_unmoved_scenario_gives_back_the_value():
    """smile_vol is market.spx_vol at k = ln(K/(S·e^((r−q)T))), not the SVI vol: the
    scenario engine moves that smile with VIX and carries the residual vol − smile_vol.
    In a scenario where nothing moves and no time passes, every leg must come back at
    its value today (the surface on the market's own carry, so the engine's forward
    S·e^((r−q)T) is the surface's)."""
    mkt = market(slices(consistent=True))
    legs = [leg(5400, DEC), leg(5450, DEC), leg(6100, DEC, "call"), leg(6150, JAN, "call")]
    base = value_legs(mkt, legs)
    assert base.vol_source == ("svi",) * 4
    T = years_to("SPXW", DEC)
    F_model = SPOT * math.exp((R - Q) * T)
    for i, g in enumerate(legs[:3]):
        k = math.log(g.strike / F_model)
        assert base.smile_vol[i] == pytest.approx(0.165 - 1.1 * k + 2.5 * k * k, rel=1e-12)
    assert not np.allclose(base.vol, base.smile_vol)
    still = scenarios.ScenarioSet(
        SPOT, 18.2, 0, 0.0, np.array([SPOT]), np.array([18.2]), 0, ("none",), "test"
    )
    again = scenarios.revalue(legs, base, mkt, still, kappa=5.0, vix_vol_power=0.41)
    np.testing.assert_allclose(again[:, 0], base.price, rtol=1e-10)


def test_an_unmoved_scenario_gives_back_the_value_when_the_chain_carry_differs():
    """The chain's forwards and discounts (slices()) disagree with the snapshot's rate and
    dividend yield: the scenario engine must still price each leg on the chain's carry,
    so a scenario where nothing moves and no time passes gives back today's value."""
    mkt = market(slices(), dividend_yield=Q + 0.005)
    legs = [leg(5400, DEC), leg(5450, DEC), leg(6100, DEC, "call"), leg(6150, JAN, "call")]
    base = value_legs(mkt, legs)
    still = scenarios.ScenarioSet(
        SPOT, 18.2, 0, 0.0, np.array([SPOT]), np.array([18.2]), 0, ("none",), "test"
    )
    again = scenarios.revalue(legs, base, mkt, still, kappa=5.0, vix_vol_power=0.41)
    np.testing.assert_allclose(again[:, 0], base.price, rtol=1e-10)


def test_an_expired_leg_on_a_surface_is_intrinsic():
    mkt = market(slices())
    v = value_legs(mkt, [leg(5900, date(2026, 11, 23)), leg(5800, date(2026, 11, 23))])
    assert v.price.tolist() == pytest.approx([5900 - SPOT, 0.0], abs=1e-9)
    assert np.isfinite(v.vol).all()


@settings(max_examples=40, deadline=None)
@given(
    strike=st.floats(4500.0, 7000.0),
    days=st.integers(2, 400),
    is_call=st.booleans(),
)
def test_put_call_parity_on_the_surface(strike, days, is_call):
    """C − P = D·(F − K) for any strike and expiry on the surface (the same vol for both:
    one strike, one expiry)."""
    from datetime import timedelta

    from alvh_cli.model.exchange import is_business_day

    d = date(2026, 11, 24) + timedelta(days=days)
    while not is_business_day(d):
        d += timedelta(days=1)
    mkt = market(slices())
    v = value_legs(mkt, [leg(strike, d, "call"), leg(strike, d, "put")])
    F, D = spx_forward_discount(mkt, v.T[0])
    assert v.price[0] - v.price[1] == pytest.approx(float(D * (F - strike)), abs=1e-8)


# ------------------------------------------------------------------ from chains


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    path = tmp_path_factory.mktemp("surface") / "spx.csv"
    write_cboe(path, chain_rows())
    return read_option_chain(path)


def test_with_chains_prices_unquoted_strikes_from_the_fit(chain):
    """The invented chain's prices are exact Black-76 at known SVI vols, so the fitted
    surface must give back those vols between the listed strikes (5512.5 lies between
    the 25-point strikes) and quotes must price their own contracts."""
    mkt = with_chains(market(), [chain])
    assert [(s.root, s.expiry) for s in mkt.spx_surface.slices] == [
        (e.root, e.expiry) for e in EXPIRIES
    ]
    assert mkt.spx_surface.spot == pytest.approx(SPOT)
    assert len(mkt.quotes) == len(chain)
    e = EXPIRIES[0]
    T = years_to(e.root, e.expiry)
    v = value_legs(mkt, [leg(5512.5, DEC), leg(5500, DEC)])
    assert v.vol_source == ("svi", "quote")
    assert v.vol[0] == pytest.approx(
        math.sqrt(w_by_hand(e.params, math.log(5512.5 / e.forward)) / T), abs=1e-7
    )


def test_with_chains_refuses_another_days_chain_and_another_spx(tmp_path):
    path = tmp_path / "old.csv"
    write_cboe(path, chain_rows(), quote_date=date(2026, 11, 23))
    with pytest.raises(InputError, match="a chain must be from the snapshot's day"):
        with_chains(market(), [read_option_chain(path)])
    path = tmp_path / "far.csv"
    write_cboe(path, chain_rows(), spot=SPOT * 1.03)
    with pytest.raises(InputError, match="more than 1% apart"):
        with_chains(market(), [read_option_chain(path)])


def test_with_chains_refuses_one_expiry_in_two_files(chain):
    with pytest.raises(InputError, match="give each expiry once"):
        with_chains(market(), [chain, chain])


def test_chain_quotes_replace_the_markets_own_for_the_contracts_they_list(chain):
    own = (
        Quote("SPX", "put", 5500.0, DEC, 1.0, 2.0),  # listed by the chain (any root): replaced
        Quote("SPX", "put", 5512.5, DEC, 20.0, 21.0),  # not listed: kept
        Quote("SPX", "put", 5500.0, DEC, 1.0, 2.0, "SPX"),  # the AM root, not listed: kept
    )
    mkt = with_chains(market(quotes=own), [chain])
    assert mkt.quotes[:2] == own[1:]
    assert len(mkt.quotes) == len(chain) + 2


def test_quadratic_smile_is_the_least_squares_parabola():
    """Least squares means the normal equations hold: on the fitting grid the residual
    SVI vol − parabola is orthogonal to 1, k and k²."""
    from alvh_cli.model import chain_market, svi

    p = EXPIRIES[0].params
    T = years_to(EXPIRIES[0].root, EXPIRIES[0].expiry)
    smile = quadratic_smile(p, T)
    atm = float(svi.svi_vol(p, 0.0, T))
    k = np.linspace(*chain_market.SMILE_SPAN, chain_market.SMILE_POINTS) * atm * math.sqrt(T)
    resid = svi.svi_vol(p, k, T) - (smile.atm + smile.skew * k + smile.smile * k * k)
    for basis in (np.ones_like(k), k, k * k):
        assert abs(float(resid @ basis)) < 1e-12 * float(np.abs(basis).sum())
    assert smile.skew < 0  # the put skew of the slice


def test_market_from_chains_reproduces_the_near_month_forward(chain):
    """rate and dividend_yield are set so that S·e^((r−q)T) and e^(−rT) give back the
    near-month (nearest 30 days: Dec 18, 24 days) parity forward and discount."""
    mkt, notes = market_from_chains([chain], asof=ASOF, vix=18.2)
    near = notes["near_month"]
    assert (near.root, near.expiry) == ("SPXW", DEC)
    fwd = SPOT * math.exp((mkt.rate - mkt.dividend_yield) * near.T)
    assert fwd == pytest.approx(near.forward, rel=1e-12)
    assert math.exp(-mkt.rate * near.T) == pytest.approx(near.discount, rel=1e-12)
    assert mkt.spx == pytest.approx(SPOT) and mkt.vix == 18.2
    assert slice_times(mkt.spx_surface, ASOF)[0] == pytest.approx(near.T)
