"""Cost model: half-spreads, fills and fees against hand arithmetic from the rule and the fee
tables quoted in ``alvh_cli.backtest.costs``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alvh_cli.backtest.costs import SPREAD_SENSITIVITY, CostModel
from alvh_cli.errors import InputError

COSTS = CostModel()


@pytest.mark.parametrize(
    ("underlying", "vix", "half"),
    [
        ("SPX", 16.0, 0.10),  # the calm-day chain's median
        ("SPX", 10.0, 0.10),  # floor below VIX 16
        ("SPX", 24.0, 0.15),  # 0.10 · 24/16
        ("SPX", 32.0, 0.20),
        ("SPX", 40.0, 0.25),
        ("VIX", 16.0, 0.05),
        ("VIX", 10.0, 0.05),  # the same floor below VIX 16
        ("VIX", 24.0, 0.075),  # 0.05 · 24/16: VIX options widen as SPX's do
        ("VIX", 40.0, 0.125),  # 0.05 · 40/16
    ],
)
def test_half_spread_rule(underlying, vix, half):
    assert float(COSTS.half_spread(underlying, vix)) == pytest.approx(half)


def test_half_spread_vectorised_and_power():
    got = COSTS.half_spread(np.array(["SPX", "VIX", "SPX"]), 24.0)
    assert got == pytest.approx([0.15, 0.075, 0.15])
    steep = CostModel(spx_vix_power=2.0)
    assert float(steep.half_spread("SPX", 32.0)) == pytest.approx(0.40)  # 0.10 · 2²
    assert float(steep.half_spread("VIX", 32.0)) == pytest.approx(0.10)  # 0.05 · 2: its own
    flat = CostModel(vix_spread_power=0.0)  # the first build's flat VIX half-spread
    assert float(flat.half_spread("VIX", 40.0)) == pytest.approx(0.05)
    assert float(flat.half_spread("SPX", 40.0)) == pytest.approx(0.25)


def test_spread_multiplier_scales_spreads_not_fees():
    double = COSTS.with_spreads(2.0)
    assert float(double.half_spread("SPX", 32.0)) == pytest.approx(0.40)
    assert float(double.half_spread("VIX", 32.0)) == pytest.approx(0.20)  # 2 · 0.05 · 2
    assert double.fees("SPX", 2.0, 1) == COSTS.fees("SPX", 2.0, 1)
    assert SPREAD_SENSITIVITY == (0.5, 1.0, 2.0)
    assert float(COSTS.with_spreads(0.5).half_spread("SPX", 16.0)) == pytest.approx(0.05)


def test_fills_move_against_the_trader():
    # model 2.00, VIX 16 → h = 0.10
    assert float(COSTS.fill_price(2.0, 1, "SPX", 16.0, opening=True)) == pytest.approx(2.10)
    assert float(COSTS.fill_price(2.0, -1, "SPX", 16.0, opening=True)) == pytest.approx(1.90)
    assert float(COSTS.fill_price(2.0, 1, "SPX", 16.0, opening=False)) == pytest.approx(1.90)
    assert float(COSTS.fill_price(2.0, -1, "SPX", 16.0, opening=False)) == pytest.approx(2.10)
    # a sale never receives less than nothing
    assert float(COSTS.fill_price(0.04, -1, "SPX", 16.0, opening=True)) == 0.0
    # a condor opened and closed at unchanged model prices loses 2h on each of 4 legs:
    # 4 · 0.20 points · $100 = $80 a condor at VIX 16
    model = np.array([0.80, 2.50, 1.60, 0.40])
    qty = np.array([1, -1, -1, 1])
    opened = COSTS.fill_price(model, qty, "SPX", 16.0, opening=True)
    closed = COSTS.fill_price(model, qty, "SPX", 16.0, opening=False)
    assert float(np.dot(closed - opened, qty)) * 100 == pytest.approx(-80.0)


@pytest.mark.parametrize(
    ("underlying", "premium", "fee"),
    [
        ("SPX", 0.05, 0.36),
        ("SPX", 0.95, 0.36),
        ("SPX", 0.999, 0.45),  # quotes are in cents: 1.00
        ("SPX", 1.00, 0.45),
        ("SPX", 25.0, 0.45),
        ("VIX", 0.05, 0.10),
        ("VIX", 0.10, 0.10),
        ("VIX", 0.11, 0.25),
        ("VIX", 0.99, 0.25),
        ("VIX", 1.00, 0.40),
        ("VIX", 1.99, 0.40),
        ("VIX", 2.00, 0.45),
        ("VIX", 7.50, 0.45),
    ],
)
def test_exchange_fee_tiers(underlying, premium, fee):
    assert float(COSTS.exchange_fee(underlying, premium)) == pytest.approx(fee)


def test_fees_of_a_condor_by_hand():
    # exchange: 0.36 + 0.45 + 0.45 + 0.36 = 1.62; commission 4 · 0.65 = 2.60;
    # clearing 4 · 0.025 = 0.10; ORF 4 · 0.02815 = 0.1126 → 4.4326 a condor, 8.8652 for two
    premium = [0.80, 2.50, 1.60, 0.40]
    assert COSTS.fees("SPX", premium, [1, -1, -1, 1]) == pytest.approx(4.4326)
    assert COSTS.fees("SPX", premium, [2, -2, -2, 2]) == pytest.approx(8.8652)
    # one SPX contract at $2.00: 0.65 + 0.45 + 0.025 + 0.02815
    assert float(COSTS.fee_per_contract("SPX", 2.0)) == pytest.approx(1.15315)
    # a VIX call spread, 5 × 1.20 long and 5 × 0.45 short (0.05315 = clearing + ORF):
    # (0.65 + 0.40 + 0.05315)·5 + (0.65 + 0.25 + 0.05315)·5 = 10.2815
    assert COSTS.fees(["VIX", "VIX"], [1.20, 0.45], [5, -5]) == pytest.approx(10.2815)


def test_as_dict_round_trips_numbers():
    d = COSTS.to_dict()
    assert d["spx_half_spread"] == 0.10 and d["commission"] == 0.65
    assert d["spx_exchange_fee"] == [[0.0, 0.36], [1.0, 0.45]]


@given(
    st.floats(1.0, 150.0),
    st.floats(1.0, 150.0),
    st.floats(0.0, 50.0),
    st.sampled_from(["SPX", "VIX"]),
)
def test_fill_properties(vix_a, vix_b, model, underlying):
    lo, hi = sorted((vix_a, vix_b))
    assert COSTS.half_spread(underlying, lo) <= COSTS.half_spread(underlying, hi)
    buy = float(COSTS.fill_price(model, 1, underlying, hi, opening=True))
    sell = float(COSTS.fill_price(model, 1, underlying, hi, opening=False))
    assert buy >= model >= sell >= 0.0
    h = float(COSTS.half_spread(underlying, hi))
    if model >= h:
        assert buy - sell == pytest.approx(2 * h)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"commission": -0.65}, "commission"),
        ({"spx_half_spread": float("nan")}, "spx_half_spread"),
        ({"spx_reference_vix": 0.0}, "spx_reference_vix"),
        ({"clearing_fee": "0.02"}, "clearing_fee"),
        ({"spx_exchange_fee": ((0.5, 0.36),)}, "spx_exchange_fee"),
        ({"vix_exchange_fee": ((0.0, 0.1), (0.0, 0.2))}, "vix_exchange_fee"),
        ({"vix_exchange_fee": ()}, "vix_exchange_fee"),
    ],
)
def test_bad_model_is_one_input_error(kwargs, key):
    with pytest.raises(InputError) as err:
        CostModel(**kwargs)
    assert err.value.key == key


def test_bad_leg_inputs():
    with pytest.raises(InputError) as err:
        COSTS.half_spread("NDX", 16.0)
    assert err.value.key == "underlying" and "'NDX'" in str(err.value)
    with pytest.raises(InputError) as err:
        COSTS.half_spread("SPX", 0.0)
    assert err.value.key == "vix"


OTHER = CostModel(
    spread_multiplier=1.7, spx_vix_power=1.3, vix_spread_power=0.6, exchange_fee_scale=0.5
)


@given(
    st.floats(1.0, 150.0),
    st.floats(0.0, 50.0),
    st.sampled_from([-3, -1, 0.25, 2]),
    st.sampled_from(["SPX", "VIX"]),
    st.booleans(),
    st.sampled_from([COSTS, OTHER]),
)
def test_one_leg_paths_equal_the_vectorised_ones(vix, premium, quantity, underlying, opening, c):
    """The backtest fills one leg at a time with plain floats: bit for bit the array answer."""
    assert c.half_spread_one(underlying, vix) == float(c.half_spread(underlying, vix))
    assert c.fill_one(premium, quantity, underlying, vix, opening) == float(
        c.fill_price(premium, quantity, underlying, vix, opening)
    )
    assert c.fee_one(underlying, premium) == float(c.fee_per_contract(underlying, premium))


@pytest.mark.parametrize("premium", [0.995, 0.9949999, 1.0, 0.105, 0.1049, 1.995, 2.0, 0.0])
def test_fee_tier_edges_one_leg(premium):
    for underlying in ("SPX", "VIX"):
        assert COSTS.fee_one(underlying, premium) == float(
            COSTS.fee_per_contract(underlying, premium)
        )


def test_exchange_fee_scale():
    # a $1.20 SPX contract: 0.65 + 0.45·s + 0.025 + 0.02815
    assert COSTS.fee_one("SPX", 1.2) == pytest.approx(1.15315)
    assert CostModel(exchange_fee_scale=0).fee_one("SPX", 1.2) == pytest.approx(0.70315)
    assert OTHER.fee_one("VIX", 2.5) == pytest.approx(0.65 + 0.225 + 0.05315)
    with pytest.raises(InputError):
        COSTS.fee_one("NDX", 1.0)
