"""The method sized in fractions of a contract (``integral=False``, the backtest's
``alvh_frac`` policy): what a fraction means for each adjustment, worked by hand, and the
property that makes it "free of rounding" — the result per condor unit does not depend on
the number of condors.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from builders import condor, loaded, market, vix_spread, with_credit

from alvh_cli.backtest.costs import CostModel
from alvh_cli.backtest.entries import Entry
from alvh_cli.backtest.params import BacktestParams, make_params
from alvh_cli.backtest.simulation import _apply, _close_at, _OpenTrade, run_backtest
from alvh_cli.inputs.history import embedded_frame
from alvh_cli.method.actions import Action, Recommendation, TradeLeg
from alvh_cli.method.check import check_position
from alvh_cli.method.regime import Regime
from alvh_cli.model.domain import FuturePoint, Leg
from alvh_cli.model.rules import Rules
from alvh_cli.model.valuation import value_book


def _trim(integral: bool):
    # 10 × VIX 20/30 call spread bought for 0.50 ($500 paid), VIX and its futures at 30
    # (the setting of test_check's whole-spread trim).
    d = date
    hedged = condor(hedges=vix_spread(20, 30, 10, 0.8, 0.3, layer=1, entry_vix=25.0))
    futures = tuple(FuturePoint(x, 30.0) for x in (d(2026, 12, 16), d(2027, 1, 20), d(2027, 2, 17)))
    mkt = market(spx=5790.0, vix=30.0, vix_futures=futures)
    debit = value_book([loaded(hedged, mkt)])[0].debit_to_close
    pv = value_book([loaded(with_credit(hedged, debit / 1.3), mkt)])[0]
    check = check_position(pv, Regime(), integral=integral)
    (rec,) = [r for r in check.recommendations if r.action == Action.TRIM_HEDGE]
    return pv, rec


def test_fractional_trim_recovers_exactly_the_cost():
    # Selling the whole layer at the bids (model − 0.05 a leg) less $1 a contract brings
    # W = 10·[(L − 0.05) − (S + 0.05)]·100 − 20·1. The fraction sold is f = 500 / W of every
    # leg (10f spreads), so the proceeds net of fees are f·W = $500.00, to the cent: the
    # cost, no more (whole spreads round up and take more).
    pv, rec = _trim(integral=False)
    long_, short = float(pv.values.price[4]), float(pv.values.price[5])
    whole = 10 * ((long_ - 0.05) - (short + 0.05)) * 100 - 20 * 1.0
    f = 500.0 / whole
    qty = sorted(t.quantity for t in rec.trades)
    assert qty == pytest.approx([-10 * f, 10 * f], abs=1e-12)
    fees = sum(abs(t.quantity) for t in rec.trades) * 1.0
    assert rec.cash - fees == pytest.approx(500.0, abs=1e-9)
    _, whole_rec = _trim(integral=True)
    n = max(t.quantity for t in whole_rec.trades)
    assert isinstance(n, int) and n > 10 * f  # the whole-spread trim sells more


def test_fractional_conversions_are_tenths_of_the_tested_side():
    # One condor at Layer 3 (the mark set just past 3x): whole contracts allow only
    # "conversion 1"; fractions try 0.1, 0.2, ..., 1.0 of the short put.
    one = condor(units=1)
    mkt = market(spx=5560.0)
    debit = value_book([loaded(one, mkt)])[0].debit_to_close
    pv = value_book([loaded(with_credit(one, debit / 3.01), mkt)])[0]
    names = {
        integral: [
            a.name
            for a in check_position(pv, Regime(), integral=integral).layer3.alternatives
            if a.action == Action.CONVERT
        ]
        for integral in (True, False)
    }
    assert names[True] == ["conversion 1"]
    assert names[False] == [f"conversion {j / 10:.3g}" for j in range(1, 11)]


def test_fills_of_a_fraction_are_pro_rata():
    # 0.3 of a conversion at the 1970 strike, filled at the model price moved by the
    # half-spread: buy 0.3 put at 12.00 + 0.10, sell 0.3 call at 8.00 − 0.10, fees $1.15315 a
    # contract (commission 0.65 + Cboe 0.45 + OCC 0.025 + ORF 0.02815) on 0.6 contracts:
    # cash = −12.10·0.3·100 + 7.90·0.3·100 − 0.6·1.15315 = −363 + 237 − 0.69189 = −126.69189.
    entry = Entry(
        "ic", date(2015, 1, 5), date(2015, 2, 20), date(2015, 2, 20), 0, 30,
        tuple(
            Leg("SPX", "SPXW", t, k, date(2015, 2, 20), q, 1.0)
            for t, k, q in (
                ("put", 1920, 1), ("put", 1970, -1), ("call", 2030, -1), ("call", 2080, 1)
            )
        ),
        2.0, 2.1, 200.0,
    )  # fmt: skip
    t = _OpenTrade(entry, list(entry.legs), 2.0, 0.0, 0.0, 0.0)
    for g in entry.legs:
        t.kind[id(g)] = "condor_put" if g.type == "put" else "condor_call"
    syn = [
        Leg("SPX", "SPXW", "put", 1970, date(2015, 2, 20), 1, 0.0, layer=3),
        Leg("SPX", "SPXW", "call", 1970, date(2015, 2, 20), -1, 0.0, layer=3),
    ]
    rec = Recommendation(
        Action.CONVERT,
        "test",
        3,
        trades=(TradeLeg(syn[0], 0.3, True, 12.0, 12.1), TradeLeg(syn[1], -0.3, True, 8.0, 7.9)),
    )
    mkt = market(spx=1960.0, vix=16.0)
    params = BacktestParams()
    assert _apply(t, rec, 2.5, mkt, params, CostModel.from_params(params), 3)
    assert t.by["synthetic_put"] == pytest.approx(-126.69189, abs=1e-9)
    assert t.fees == pytest.approx(0.6 * 1.15315, abs=1e-12)
    assert t.spread_cost == pytest.approx(0.3 * 0.10 * 100 * 2, abs=1e-9)
    assert [g.quantity for g in t.legs[4:]] == [0.3, -0.3]
    # closing 0.1 then 0.2 of the put leaves nothing, not float dust
    put = t.legs[4]
    _close_at(t, put, -0.1, 11.0, mkt, CostModel.from_params(params))
    _close_at(t, t.legs[4], -0.2, 11.0, mkt, CostModel.from_params(params))
    assert [g.type for g in t.legs[4:]] == ["call"]


@pytest.fixture(scope="module")
def one_and_three():
    """alvh_frac over 2015 (the first entries after the warm-up) at 1 and 3 condors."""
    history = embedded_frame()
    return {
        n: run_backtest(
            history, Rules(), make_params({"contracts": n, "end": "2015-12-31"}), ("alvh_frac",)
        )
        for n in (1, 3)
    }


def test_fractional_result_per_condor_does_not_depend_on_size(one_and_three):
    # Every adjustment is a fixed share of the position, every cost is linear in contracts:
    # each trade's P&L at 3 condors is 3 × its P&L at 1, up to floating point.
    one, three = one_and_three[1], one_and_three[3]
    a, b = one.pnl("alvh_frac"), three.pnl("alvh_frac")
    assert len(a) == len(b) > 40
    assert np.max(np.abs(b - 3 * a)) < 1e-6
    # fractions traded: some action's first leg quantity is not whole ("+0.9 SPX 2095C")
    acted = [a for r in one.trades_of("alvh_frac") for a in r.actions]
    assert acted and any("." in a.split(":")[1].split()[0] for a in acted)
    s1, s3 = one.summary["alvh_frac"], three.summary["alvh_frac"]
    assert s3.pnl_per_unit == pytest.approx(s1.pnl_per_unit, abs=1e-6)
    assert s3.return_on_risk == pytest.approx(s1.return_on_risk, abs=1e-12)
