"""The scenario set: historical windows, the ladder, the futures curve and revaluation."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pytest
from builders import ASOF, EXPIRY, market
from hypothesis import given
from hypothesis import strategies as st

from alvh_cli.method import scenarios as sc
from alvh_cli.model.closes import embedded_history
from alvh_cli.model.domain import Leg, Smile
from alvh_cli.model.legs import value_legs
from alvh_cli.model.pricing import black76_greeks, bsm_greeks
from alvh_cli.model.timing import NEW_YORK, year_fraction


def history(spx, vix, start=date(2020, 1, 6)):
    days = np.arange(len(spx)) + start.toordinal()
    return sc.History(days, np.array(spx, float), np.array(vix, float), "test")


# ------------------------------------------------------------------ cvar


def test_cvar_whole_and_fractional_tail():
    x = np.array([5.0, -10.0, 0.0, -5.0])
    # level 0.25 of 4 outcomes: the single worst, -10
    assert sc.cvar(x, 0.25) == pytest.approx(-10.0)
    # level 0.375: 1.5 outcomes — all of -10 and half of -5: (-10 - 2.5) / 1.5
    assert sc.cvar(x, 0.375) == pytest.approx(-12.5 / 1.5)
    # level 1: the mean
    assert sc.cvar(x, 1.0) == pytest.approx(-2.5)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60), st.floats(0.01, 1.0))
def test_cvar_between_worst_and_mean(values, level):
    x = np.array(values)
    c = sc.cvar(x, level)
    assert x.min() - 1e-6 * (1 + abs(x.min())) <= c <= x.mean() + 1e-6 * (1 + abs(x.mean()))


# ------------------------------------------------------------------ historical windows


def test_horizon_skips_weekends_and_holidays():
    # Wed 2026-11-25 16:00 + 2 trading days: Thanksgiving (Thu) is shut -> Fri, then Mon
    asof = datetime(2026, 11, 25, 16, 0, tzinfo=NEW_YORK)
    assert sc.horizon_instant(asof, 2) == datetime(2026, 11, 30, 16, 0, tzinfo=NEW_YORK)


def test_windows_are_scaled_by_vix_and_centred_on_the_forward():
    # three closes, one-day windows: SPX +10% at VIX 20, then -10% at VIX 40
    h = history([100.0, 110.0, 99.0], [20.0, 40.0, 30.0])
    r, dv = sc.historical_moves(h, 1)
    assert r == pytest.approx([math.log(1.1) / 20, math.log(0.9) / 40])
    assert dv == pytest.approx([math.log(2.0), math.log(0.75)])
    m = market(spx=5000.0, vix=20.0, rate=0.04, dividend_yield=0.01)
    s = sc.build(m, h, horizon_days=1, vix_beta=-4.9)
    assert s.n_hist == 2
    hist = s.spx[s.historical]
    # at VIX 20 the first window keeps its move, the second is halved (VIX 40 then)
    ratio = hist[0] / hist[1]
    assert ratio == pytest.approx(math.exp(math.log(1.1) - 0.5 * math.log(0.9)))
    # the mean level is the forward over the horizon: no drift of the sample survives
    t = year_fraction(m.asof, sc.horizon_instant(m.asof, 1))
    assert hist.mean() == pytest.approx(5000.0 * math.exp(0.03 * t), rel=1e-12)
    assert s.vix[s.historical] == pytest.approx([40.0, 15.0])


def test_history_before_a_day_excludes_later_closes():
    h = history([1, 2, 3, 4], [10, 10, 10, 10])
    assert len(h.before(date(2020, 1, 7)).spx) == 2


def test_embedded_history_loads_without_pandas():
    h = embedded_history()
    assert len(h.spx) == len(h.vix) > 1200
    assert date.fromordinal(int(h.dates[0])) == date(2014, 1, 3)
    # 2015-08-24: VIX closed at 40.74 (Cboe)
    i = int(np.searchsorted(h.dates, date(2015, 8, 24).toordinal()))
    assert h.vix[i] == pytest.approx(40.74)


# ------------------------------------------------------------------ ladder


def test_ladder_vix_follows_beta_then_the_crash_floor_and_cap():
    # a calm start: -10% by beta alone gives 13·0.9^-4.9 = 21.8; the floor lifts it to 40.74
    assert sc.ladder_vix(13.0, np.array([-0.10]), -4.9)[0] == pytest.approx(40.74)
    # from VIX 30 beta gives 30·0.9^-4.9 = 50.3, above the floor
    assert sc.ladder_vix(30.0, np.array([-0.10]), -4.9)[0] == pytest.approx(30 * 0.9**-4.9)
    # from VIX 60 a -20% rung would be 179: capped at the record close 82.69
    assert sc.ladder_vix(60.0, np.array([-0.20]), -4.9)[0] == pytest.approx(82.69)
    # a rally: 12·1.03^-4.9 = 10.38, no floor
    assert sc.ladder_vix(12.0, np.array([0.03]), -4.9)[0] == pytest.approx(12 * 1.03**-4.9)
    # -6%: the floor between (-4.8%, 22.96) and (-7.1%, 30.11), linear
    w = (0.06 - 0.048) / (0.071 - 0.048)
    assert sc.ladder_vix(12.0, np.array([-0.06]), -4.9)[0] == pytest.approx(
        22.96 + w * (30.11 - 22.96)
    )


def test_extra_rungs_are_named_and_placed():
    m = market(spx=5800.0, vix=20.0)
    s = sc.build(m, history([1.0], [1.0]), horizon_days=5, vix_beta=-4.9, rungs=[("short", 5500)])
    assert s.n_hist == 0
    assert s.labels[-1] == "short"
    assert s.spx[-1] == 5500.0
    assert s.labels[:4] == ("SPX -2%", "SPX -5%", "SPX -10%", "SPX -20%")


# ------------------------------------------------------------------ futures curve


def test_future_moves_by_damped_spot_move_plus_roll_down():
    # kappa 0: the future moves 1:1 with spot and a share h/tau of the basis rolls off
    f = sc.future_move(np.array([22.0]), np.array([0.2]), 20.0, np.array([20.0, 25.0]), 0.05, 0.0)
    assert f[0] == pytest.approx([22.0 - 2.0 * 0.25, 22.0 + 5.0 - 2.0 * 0.25])
    # kappa 5: damp e^{-5·0.15}; roll share e^{-1}(e^{0.25}-1)/(1-e^{-1})
    k, tau, h = 5.0, 0.2, 0.05
    f = sc.future_move(np.array([22.0]), np.array([tau]), 20.0, np.array([26.0]), h, k)
    roll = math.exp(-k * tau) * math.expm1(k * h) / -math.expm1(-k * tau)
    assert f[0, 0] == pytest.approx(22.0 + 6.0 * math.exp(-k * (tau - h)) - 2.0 * roll)
    # settling inside the horizon: the future is spot
    f = sc.future_move(np.array([22.0]), np.array([0.01]), 20.0, np.array([31.0]), 0.05, 5.0)
    assert f[0, 0] == pytest.approx(31.0)


def test_future_unchanged_curve_matches_one_factor_model():
    # today's curve from theta 19, VIX 15: F(tau) = 19 + (15 - 19) e^{-k tau}; after h with
    # VIX unchanged the future is the same curve at tau - h
    k, tau, h = 4.0, 0.3, 0.02
    f0 = 19 + (15 - 19) * math.exp(-k * tau)
    f = sc.future_move(np.array([f0]), np.array([tau]), 15.0, np.array([15.0]), h, k)
    assert f[0, 0] == pytest.approx(19 + (15 - 19) * math.exp(-k * (tau - h)))


# ------------------------------------------------------------------ revaluation


def test_revalue_spx_option_is_bsm_at_the_shorter_tenor_and_moved_smile():
    m = market(spx=5800.0, vix=20.0, rate=0.03, dividend_yield=0.01, spx_vol=Smile(0.2, -1.0, 2.0))
    legs = [Leg("SPX", "SPXW", "put", 5500.0, EXPIRY, -1, 0.0)]
    base = value_legs(m, legs)
    s = sc.build(m, history([1.0], [1.0]), horizon_days=5, vix_beta=-4.9)
    prices = sc.revalue(legs, base, m, s, kappa=5.0, vix_vol_power=0.41)
    j = s.labels.index("SPX -5%")
    s_h, v_h = s.spx[j], s.vix[j]
    t = float(base.T[0]) - s.horizon
    fwd = s_h * math.exp(0.02 * t)
    k = math.log(5500 / fwd)
    vol = (0.2 + (v_h - 20) / 100) - 1.0 * k + 2.0 * k * k
    want = float(bsm_greeks(False, s_h, 5500.0, t, 0.03, 0.01, vol).price)
    assert prices[0, j] == pytest.approx(want, rel=1e-12)


def test_revalue_keeps_a_fixed_iv_residual_over_the_smile():
    m = market(spx=5800.0, vix=20.0, spx_vol=Smile(0.15, 0.0, 0.0))
    legs = [Leg("SPX", "SPXW", "call", 6000.0, EXPIRY, 1, 0.0, iv=0.18)]
    base = value_legs(m, legs)
    s = sc.build(m, history([1.0], [1.0]), horizon_days=5, vix_beta=-4.9)
    prices = sc.revalue(legs, base, m, s, kappa=5.0, vix_vol_power=0.41)
    j = s.labels.index("SPX +3%")
    t = float(base.T[0]) - s.horizon
    vol = 0.15 + (s.vix[j] - 20) / 100 + 0.03  # flat smile moved, plus the 3-point residual
    want = float(bsm_greeks(True, s.spx[j], 6000.0, t, 0.0, 0.0, vol).price)
    assert prices[0, j] == pytest.approx(want, rel=1e-12)


def test_revalue_vix_option_on_the_moved_future():
    m = market(spx=5800.0, vix=20.0)
    legs = [Leg("VIX", "VIX", "call", 25.0, date(2027, 1, 20), 1, 0.0)]
    base = value_legs(m, legs)
    s = sc.build(m, history([1.0], [1.0]), horizon_days=5, vix_beta=-4.9)
    j = s.labels.index("SPX -10%")
    tau = float(base.T[0])
    f = sc.future_move(np.array([20.0]), np.array([tau]), 20.0, np.array([s.vix[j]]), s.horizon, 5)
    f = float(f[0, 0])
    k = math.log(25.0 / f)
    # the builders' VIX smile 0.9 + 0.5·k at VIX 20, its ATM moved to the rung's VIX:
    # 0.9·(VIX_s/20)^0.41 (VIX_s is 40.74 at −10 %: 0.9·e^(0.41·ln 2.037) = 0.9·e^0.291703
    # = 0.9·1.338710 = 1.204839); fixed at power 0
    assert s.vix[j] == pytest.approx(40.74)
    for power, atm in ((0.41, 0.9 * (s.vix[j] / 20.0) ** 0.41), (0.0, 0.9)):
        prices = sc.revalue(legs, base, m, s, kappa=5.0, vix_vol_power=power)
        want = float(black76_greeks(True, f, 25.0, tau - s.horizon, 0.0, atm + 0.5 * k).price)
        assert prices[0, j] == pytest.approx(want, rel=1e-12)
    assert pytest.approx(1.204839, abs=1e-6) == 0.9 * (40.74 / 20.0) ** 0.41


def test_leg_settling_inside_the_horizon_is_worth_intrinsic():
    m = market(spx=5800.0, vix=20.0)
    soon = date(2026, 11, 27)  # Friday after asof (Tue 24th); horizon 5 days ends Dec 2
    legs = [Leg("SPX", "SPXW", "put", 5700.0, soon, 1, 0.0)]
    base = value_legs(m, legs)
    s = sc.build(m, history([1.0], [1.0]), horizon_days=5, vix_beta=-4.9)
    prices = sc.revalue(legs, base, m, s, kappa=5.0, vix_vol_power=0.41)
    assert prices[0] == pytest.approx(np.maximum(5700.0 - s.spx, 0.0))


# ------------------------------------------------------------------ max loss at expiry


def test_expiry_floor_of_an_iron_condor():
    # 1 lot 5400/5500 - 6100/6200 worth 3.00 per unit now: at expiry the worst is a full
    # wing, 100 points, so from today's marks: -(100 - 3) × 100 = -9,700
    legs = [
        Leg("SPX", "SPXW", "put", 5400.0, EXPIRY, 1, 0.0),
        Leg("SPX", "SPXW", "put", 5500.0, EXPIRY, -1, 0.0),
        Leg("SPX", "SPXW", "call", 6100.0, EXPIRY, -1, 0.0),
        Leg("SPX", "SPXW", "call", 6200.0, EXPIRY, 1, 0.0),
    ]
    today = [1.0, 2.5, 2.0, 0.5]  # condor worth -(−1 + 2.5 + 2 − 0.5) = −3.0 to us
    assert sc.expiry_floor(legs, today) == pytest.approx(-9700.0)


def test_expiry_floor_unlimited_when_net_short_calls():
    legs = [Leg("SPX", "SPXW", "call", 6000.0, EXPIRY, -1, 0.0)]
    assert sc.expiry_floor(legs, [10.0]) == -math.inf


def test_expiry_floor_sums_groups_of_different_expiries():
    # a long VIX call spread can lose only its value; the SPX put spread its width
    vix = [
        Leg("VIX", "VIX", "call", 20.0, date(2027, 1, 20), 2, 0.0),
        Leg("VIX", "VIX", "call", 30.0, date(2027, 1, 20), -2, 0.0),
    ]
    spx = [
        Leg("SPX", "SPXW", "put", 5400.0, EXPIRY, 1, 0.0),
        Leg("SPX", "SPXW", "put", 5500.0, EXPIRY, -1, 0.0),
    ]
    got = sc.expiry_floor(vix + spx, [3.0, 1.0, 1.0, 2.5])
    # VIX: lose 2 × (3 − 1) × 100 = 400; SPX: short spread worth 1.5, worst 100 → -9,850
    assert got == pytest.approx(-400.0 - (100.0 - 1.5) * 100.0)


def test_asof_builder_is_a_tuesday():
    assert ASOF.weekday() == 1


@given(
    st.integers(1, 7),
    st.integers(1, 3000),
    st.integers(0, 2**32 - 1),
    st.sampled_from([1e-3, 1.0, 1e4, 1e9]),
)
def test_mean_sd_are_numpys_floats_with_the_rows_summed_once(rows, n, seed, scale):
    # figures_rows takes each row's mean and standard deviation from one sum per row: the
    # same floats as numpy's mean and std (its std sums the row again for its mean),
    # rows of a wide matrix and of one column, whole or a view of the historical columns
    x = np.random.default_rng(seed).standard_t(3, size=(rows, n + 4)) * scale
    for view in (x, x[:, :n]):
        mean, sd = sc.mean_sd(view)
        assert mean.tobytes() == view.mean(axis=1).tobytes()
        assert sd.tobytes() == view.std(axis=1).tobytes()
