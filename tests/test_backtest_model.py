"""The backtest's price model and cost parameters: the tenor-dependent SPX slope fitted to
the chain's numbers, VIX option vol rising with VIX, the cost model the parameters build, and
the parameter table itself.

Expected numbers are worked by hand in the comments (least squares on four points, powers,
fee sums), not read back from the code.
"""

from __future__ import annotations

import math
from dataclasses import fields
from datetime import date

import numpy as np
import pytest

from alvh_cli.backtest.costs import CostModel
from alvh_cli.backtest.market import day_market, spx_smile
from alvh_cli.backtest.params import (
    KEYS,
    LEGACY,
    LEGACY_RULES,
    PARAMS,
    BacktestParams,
    make_params,
)
from alvh_cli.errors import InputError
from alvh_cli.model.domain import Smile
from alvh_cli.model.rules import DEFAULTS, Rules, override
from alvh_cli.model.smile import smile_vol, vix_option_atm

# One SPXW chain on a calm day (VIX ≈ 16): fitted slope by tenor in days.
CHAIN = {23: -0.66, 44: -0.61, 87: -0.47, 188: -0.35}


def test_skew_default_is_the_least_squares_fit_of_the_chain():
    # x = ln(days): 3.1355, 3.7842, 4.4659, 5.2364 (mean 4.1555); y mean −0.5225.
    # Sxy = Σ(x − x̄)(y − ȳ) = 0.37554, Sxx = Σ(x − x̄)² = 2.44330 → b = 0.15370,
    # a = ȳ − b·x̄ = −1.16120; at 30 days a + b·ln 30 = −1.16120 + 0.15370·3.40120 = −0.63844.
    p = BacktestParams()
    assert p.spx_skew == pytest.approx(-0.638, abs=5e-4)
    assert p.spx_skew_term == pytest.approx(0.1537, abs=5e-4)
    smile = spx_smile(16.0, p)
    for days, slope in CHAIN.items():
        assert float(smile.skew_at(days / 365)) == pytest.approx(slope, abs=0.031)
    # falling steepness with tenor, the first build's −1.1 only near a day
    assert float(smile.skew_at(1 / 365)) == pytest.approx(-0.638 + 0.154 * math.log(1 / 30))
    assert float(smile.skew_at(45 / 365)) == pytest.approx(-0.638 + 0.154 * math.log(1.5))


def test_skew_term_zero_is_one_slope_for_every_tenor():
    flat = Smile(0.16, -1.1, 2.5)
    k = np.array([-0.2, -0.05, 0.0, 0.1])
    for t in (None, 0.01, 0.5, np.array([0.01, 0.1, 0.5, 1.0])):
        got = smile_vol(flat, k, t)
        assert np.array_equal(got, 0.16 - 1.1 * k + 2.5 * k * k)
    # with a term: iv = atm + (skew + term·ln(T/30d))·k + smile·k², T clipped to 1..730 days
    sm = Smile(0.16, -0.6, 2.5, 0.15)
    t = np.array([0.0, 60 / 365, 5.0])
    days = np.array([1.0, 60.0, 730.0])
    want = 0.16 + (-0.6 + 0.15 * np.log(days / 30)) * -0.1 + 2.5 * 0.01
    assert smile_vol(sm, -0.1, t) == pytest.approx(want)


def test_legacy_is_the_first_builds_smile():
    p = make_params(LEGACY)
    smile = spx_smile(20.0, p)
    assert (smile.atm, smile.skew, smile.smile, smile.skew_term) == (0.2, -1.1, 2.5, 0.0)
    flat = override(Rules(), LEGACY_RULES, "test")
    assert day_market(date(2018, 2, 5), 2648.94, 40.0, p, flat, ()).vix_vol.atm == 0.9


def test_vix_option_vol_rises_with_vix():
    # 0.9·(VIX/16)^0.41: 16 → 0.9; 32 → 0.9·e^(0.41·ln 2) = 0.9·e^0.284190 = 0.9·1.328686
    # = 1.195817; 12 → 0.9·e^(0.41·ln 0.75) = 0.9·e^−0.117950 = 0.9·0.888741 = 0.799867
    assert Rules().vix_vol_power == 0.41
    assert vix_option_atm(0.9, 16.0, 16.0, 0.41) == pytest.approx(0.9)
    assert vix_option_atm(0.9, 16.0, 32.0, 0.41) == pytest.approx(1.195817, abs=1e-6)
    assert vix_option_atm(0.9, 16.0, 12.0, 0.41) == pytest.approx(0.799867, abs=2e-6)
    assert vix_option_atm(0.9, 16.0, 32.0, 0.0) == 0.9
    p = BacktestParams()
    for vix in (12.0, 16.0, 32.0, 37.32):
        m = day_market(date(2018, 2, 5), 2648.94, vix, p, Rules(), ())
        assert m.vix_vol.atm == pytest.approx(0.9 * (vix / 16) ** 0.41)
    assert m.spx_vol.skew_term == p.spx_skew_term


def test_the_scenarios_move_vix_option_vol_as_the_backtests_market_does():
    # A day at VIX 16 whose scenario goes to VIX 32 revalues a VIX option at the ATM vol the
    # backtest's market gives a day at VIX 32: one rule for both.
    from alvh_cli.method.scenarios import ScenarioSet, revalue
    from alvh_cli.model.domain import Leg
    from alvh_cli.model.legs import value_legs

    p, rules = BacktestParams(), Rules()
    expiry = date(2018, 3, 21)
    today = day_market(date(2018, 1, 16), 2776.42, 16.0, p, rules, (expiry,))
    later = day_market(date(2018, 1, 16), 2776.42, 32.0, p, rules, (expiry,))
    assert later.vix_vol.atm == pytest.approx(1.195817, abs=1e-6)
    leg = Leg("VIX", "VIX", "call", 30.0, expiry, 1, 0.0)
    base = value_legs(today, [leg])
    f = later.vix_futures[0].price  # the moved future: θ + (32 − θ)·e^(−κτ)
    jump = ScenarioSet(2776.42, 16.0, 0, 0.0, np.array([2776.42]), np.array([32.0]), 1, (), "t")
    got = revalue([leg], base, today, jump, rules.vix_term_kappa, rules.vix_vol_power)
    assert got[0, 0] == pytest.approx(float(value_legs(later, [leg]).price[0]), rel=1e-9)
    assert later.vix_futures[0].price == pytest.approx(f)


def test_spx_atm_vol_is_a_ratio_of_vix():
    # ATM = atm_ratio·VIX/100: 0.88·37.32/100 = 0.328416 at the default, 0.3732 at ratio 1
    m = day_market(date(2018, 2, 5), 2648.94, 37.32, BacktestParams(), Rules(), ())
    assert m.spx_vol.atm == pytest.approx(0.328416, abs=1e-9)
    m = day_market(date(2018, 2, 5), 2648.94, 37.32, make_params({"atm_ratio": 1.0}), Rules(), ())
    assert m.spx_vol.atm == pytest.approx(0.3732, abs=1e-9)


def test_costs_from_params():
    c = CostModel.from_params(BacktestParams())
    # SPX half-spread 0.10·max(1, VIX/16): 0.10 at VIX 12, 0.25 at VIX 40
    assert float(c.half_spread("SPX", 12.0)) == pytest.approx(0.10)
    assert float(c.half_spread("SPX", 40.0)) == pytest.approx(0.25)
    assert float(c.half_spread("VIX", 40.0)) == pytest.approx(0.125)  # 0.05·40/16
    # a $1.20 SPX contract: 0.65 + 0.45 + 0.025 + 0.02815 = 1.15315; the engine's flat fee
    assert float(c.fee_per_contract("SPX", 1.20)) == pytest.approx(1.15315)
    assert c.flat_fee() == pytest.approx(1.15315)
    legacy = CostModel.from_params(make_params(LEGACY))
    assert float(legacy.half_spread("SPX", 40.0)) == pytest.approx(0.05)  # flat
    assert float(legacy.half_spread("VIX", 40.0)) == pytest.approx(0.02)  # flat
    assert float(legacy.fee_per_contract("VIX", 2.5)) == pytest.approx(0.65)  # commission only
    half = CostModel.from_params(make_params({"spread_multiplier": 0.5, "exchange_fees": 2}))
    assert float(half.half_spread("SPX", 32.0)) == pytest.approx(0.10)  # 0.5·0.10·2
    assert float(half.fee_per_contract("SPX", 0.5)) == pytest.approx(0.65 + 0.72 + 0.05315)


def test_params_generated_from_the_table():
    names = [f.name for f in fields(BacktestParams)]
    assert names == [*PARAMS, "profit_take", "start", "end"] and tuple(names) == KEYS
    p = BacktestParams()
    for key, spec in PARAMS.items():
        assert getattr(p, key) == spec.default
        assert isinstance(getattr(p, key), int if spec.integer else float)
    for key in LEGACY:
        assert key in PARAMS
    for key in LEGACY_RULES:
        assert key in DEFAULTS and key not in PARAMS  # one home for each choice
    with pytest.raises(InputError, match="unknown backtest parameter 'slippage_spx'"):
        make_params({"slippage_spx": 0.05})
    with pytest.raises(InputError, match="exchange_fees: must be between 0 and 10"):
        make_params({"exchange_fees": -1})


def test_model_sensitivity_runs_the_atm_ratios():
    from alvh_cli.backtest.experiments import model_points

    def ratios(base):
        points = [p for _, p in model_points(base, Rules())]
        return [p["atm_ratio"] for p in points if set(p) == {"atm_ratio"}]

    # the two chains' ATM / VIX and the first build's ATM = VIX, beside the default 0.88
    assert ratios(BacktestParams()) == [0.77, 0.87, 1.0]
    assert ratios(make_params({"atm_ratio": 0.87})) == [0.77, 1.0]  # not the run itself again
    assert LEGACY["atm_ratio"] == 1.0
