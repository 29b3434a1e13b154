"""Layer rules at their boundaries, and the decisions the engine reaches there.

The mark multiple is debit to close / credit, and the debit does not depend on
the credit, so each test prices the condor once and then sets the credit to
land the mark just below or just above a threshold.
"""

from __future__ import annotations

import math
from datetime import date

import pytest
from builders import condor, contango_market, loaded, market, vix_spread, with_credit

from alvh_cli.method.check import check_position, traditional
from alvh_cli.method.regime import Regime
from alvh_cli.model.domain import FuturePoint
from alvh_cli.model.valuation import value_book
from alvh_cli.output.records import position_json

EPS = 1e-6


def debit_of(position, mkt) -> float:
    return value_book([loaded(position, mkt)])[0].debit_to_close


def run(position, mkt, mark=None, regime=None, **rules):
    if mark is not None:
        position = with_credit(position, debit_of(position, mkt) / mark)
    pv = value_book([loaded(position, mkt, **rules)])[0]
    return position_json(check_position(pv, regime or Regime()))


def actions(row):
    return [r["action"] for r in row["recommendations"]]


# SPX 5800 with shorts 5500/6100: the put side is tested (5800 < 5800 midpoint? no:
# midpoint (5500+6100)/2 = 5800, spot must be *below* it) — use 5790.
MKT = market(spx=5790.0)
CONTANGO = contango_market()
IC = condor()


@pytest.mark.parametrize(
    ("threshold", "below", "above"),
    [(1.5, 0, 1), (2.0, 1, 2), (3.0, 2, 3)],
)
def test_layer_boundaries(threshold, below, above):
    assert run(IC, MKT, threshold - EPS)["layer"] == below
    assert run(IC, MKT, threshold + EPS)["layer"] == above


# The hedge program's mechanics at the layers, not the decision rule: Layer 3 adjustments only
# at Layer 3, and γ 1, at which these spreads beat holding.
HEDGING = dict(adjust_from_layer=3, risk_aversion=1.0)


def test_boundary_recommendations():
    assert actions(run(IC, MKT, 1.5 - EPS, **HEDGING)) == ["hold"]
    row = run(IC, MKT, 1.5 + EPS, **HEDGING)
    assert set(actions(row)) == {"open_hedge"}
    for rec in row["recommendations"]:
        assert rec["layer"] == 1
        assert rec["instrument"] in ("vix_call_spread", "vix_call", "vix_future")
        assert rec["quantity"] >= 1
        if rec["instrument"] == "vix_call_spread":
            assert rec["long_strike"] < rec["short_strike"]
        # the hedges bought lower the position's CVaR, their cost included
        assert rec["cvar_after"] > rec["cvar_before"]
    # layer 1 spends at most layer1_budget_share of the budget: 0.5 × 0.35 × credit × 1000
    credit = row["credit"]
    spent = sum(r["cost"] for r in row["recommendations"])
    assert 0 < spent <= 0.5 * 0.35 * credit * 1000 + 1e-6


def test_layer3_is_an_explicit_decision_among_alternatives():
    row = run(IC, market(spx=5560.0), 3.0 + EPS)
    assert row["layer"] == 3 and row["attention"]
    (rec,) = row["recommendations"]
    names = [a["name"] for a in rec["alternatives"]]
    assert names[0] == "hold"
    assert [f"conversion {n}" for n in range(1, 11)] == names[1:11]
    assert "close put vertical" in names and "close position" in names
    assert any(n.startswith("roll puts to ") for n in names)
    # the choice has the best objective EV + γ·CVaR (γ 0.05 by default, no limit): every
    # alternative's objective from its own EV and CVaR, the chosen one the largest
    gamma = 0.05
    best = max(a["ev"] + gamma * a["cvar"] for a in rec["alternatives"])
    assert rec["ev_after"] + gamma * rec["cvar_after"] == pytest.approx(best, abs=0.02)
    assert all(a["eligible"] for a in rec["alternatives"])  # no limit: all are eligible
    # every alternative carries its figures and trading cost
    for a in rec["alternatives"]:
        assert {"ev", "sd", "cvar", "worst", "max_loss", "trading_cost"} <= set(a)


def test_elevated_regime_scales_thresholds():
    elevated = Regime(elevated=True, active=2, note="test")
    # 1.5 × 0.85 = 1.275 and 2.0 × 0.85 = 1.7
    assert run(IC, MKT, 1.275 - EPS, elevated)["layer"] == 0
    assert run(IC, MKT, 1.275 + EPS, elevated)["layer"] == 1
    assert run(IC, MKT, 1.7 + EPS, elevated)["layer"] == 2
    assert run(IC, MKT, 1.7 + EPS)["layer"] == 1  # same mark, normal regime
    assert run(IC, MKT, 1.3, elevated)["regime"] == "elevated"


def test_custom_rules_move_the_boundary():
    assert run(IC, MKT, 1.45, layer1_multiple=1.4)["layer"] == 1
    assert run(IC, MKT, 1.45)["layer"] == 0


def test_deployed_layer_not_recommended_again():
    hedged = condor(hedges=vix_spread(22, 27, 5, 1.0, 0.4, layer=1))
    row = run(hedged, MKT, 1.6, **HEDGING)
    assert row["deployed_layers"] == [1]
    assert actions(row) == ["hold"]
    assert "layer 1 already on" in row["recommendations"][0]["reason"]
    # at 2x the second layer is still due, within the budget left: 0.35 × credit × 1000
    # less the $300 layer 1 cost
    row = run(hedged, MKT, 2.1, **HEDGING)
    recs = row["recommendations"]
    assert {(r["action"], r["layer"]) for r in recs} == {("open_hedge", 2)}
    spent = sum(r["cost"] for r in recs)
    assert 0 < spent <= 0.35 * row["credit"] * 1000 - 300 + 1e-6


def test_vix_spike_brings_layer_1_in_at_1_2x():
    spike = Regime(elevated=False, active=1, note="test", spike=True)
    assert run(IC, MKT, 1.2 - EPS, spike)["layer"] == 0
    row = run(IC, MKT, 1.2 + EPS, spike)
    assert row["layer"] == 1 and "VIX spike" in row["layer_reason"]
    assert run(IC, MKT, 1.2 + EPS)["layer"] == 0  # no spike: 1.5x


def test_unwind_when_mark_recovers_and_vix_back():
    # 1.5 × 0.8 = 1.2: below it with VIX (20) at or under the entry VIX (22) the unwind is
    # weighed; with the futures in contango the spread loses EV held, so selling wins. (Paid
    # 1.20 a spread: worth about 1.9 here, under the 2x trim line.)
    hedged = condor(hedges=vix_spread(22, 27, 5, 1.6, 0.4, layer=1, entry_vix=22.0))
    row = run(hedged, CONTANGO, 1.2 - EPS)
    assert actions(row) == ["close_hedge"]
    rec = row["recommendations"][0]
    assert rec["layer"] == 1 and rec["instrument"] == "vix_call_spread"
    assert rec["objective_after"] > rec["objective_before"]  # it beats holding, by the rule
    assert actions(run(hedged, CONTANGO, 1.2 + EPS)) == ["hold"]


def test_an_unwind_that_does_not_beat_holding_is_not_made():
    # Flat futures at VIX 20: the spread held keeps its EV and its tail; selling it loses
    # both (after its trading cost), so the unwind is weighed and the hold says why.
    hedged = condor(hedges=vix_spread(22, 27, 5, 1.0, 0.4, layer=1, entry_vix=22.0))
    (rec,) = run(hedged, MKT, 1.2 - EPS)["recommendations"]
    assert rec["action"] == "hold" and "does not beat holding" in rec["reason"]
    assert "unwind" in rec["reason"] and "→" in rec["reason"]


def test_no_unwind_while_vix_above_entry():
    hedged = condor(hedges=vix_spread(22, 27, 5, 1.0, 0.4, layer=1, entry_vix=18.0))
    row = run(hedged, MKT, 1.0)
    assert actions(row) == ["hold"]
    assert "keep the hedge" in row["recommendations"][0]["reason"]


@pytest.mark.parametrize(("mark", "expected"), [(0.5 - EPS, "take_profit"), (0.5 + EPS, "hold")])
def test_profit_take_boundary(mark, expected):
    assert actions(run(IC, MKT, mark)) == [expected]


def test_profit_take_closes_hedges_too():
    hedged = condor(hedges=vix_spread(22, 27, 5, 1.0, 0.4, layer=1))
    rec = run(hedged, MKT, 0.4)["recommendations"][0]
    assert rec["action"] == "take_profit"
    assert len(rec["legs"]) == 6


def test_call_side_never_buys_vix_calls():
    # SPX 6050, 50 under the short call: the call side is tested at layer 1; VIX calls do
    # not hedge a rally, so the call vertical's alternatives are weighed instead
    row = run(IC, market(spx=6050.0), 1.8)
    assert row["tested_side"] == "call" and row["layer"] == 1
    (rec,) = row["recommendations"]
    assert rec["action"] != "open_hedge"
    names = [a["name"] for a in rec["alternatives"]]
    assert "reversal 1" in names and "close call vertical" in names


def test_layer3_when_spot_through_short_put():
    row = run(IC, market(spx=5480.0), 1.6)
    assert row["layer"] == 3
    assert "through the short put" in row["recommendations"][0]["reason"]


def test_layer3_on_short_delta():
    # A wide condor at a low mark whose short put has |delta| >= 0.5 once spot sits on it;
    # lowering the rule below the short put's |delta| must trigger layer 3 by delta alone.
    pv = value_book([loaded(IC, MKT)])[0]
    short_put_delta = abs(float(pv.values.delta[1]))
    row = run(IC, MKT, 1.1, layer3_short_delta=round(short_put_delta - 0.01, 2))
    assert row["layer"] == 3
    assert "|delta|" in row["recommendations"][0]["reason"]


def test_traditional_stops():
    assert traditional(1.99) == {"stop_2x": "hold", "stop_3x": "hold"}
    assert traditional(2.0) == {"stop_2x": "close", "stop_3x": "hold"}
    assert traditional(3.0) == {"stop_2x": "close", "stop_3x": "close"}


def test_row_matches_design_json_shape():
    row = run(IC, MKT, 1.6)
    for key in (
        "id",
        "source",
        "expiry",
        "dte",
        "credit",
        "debit_to_close",
        "mark_multiple",
        "tested_side",
        "layer",
        "deployed_layers",
        "regime",
        "greeks",
        "pnl",
        "traditional",
        "recommendations",
        "figures",
        "attention",
    ):
        assert key in row
    assert row["dte"] == 24
    assert set(row["greeks"]) == {"delta", "gamma", "vega", "theta"}


def test_a_condor_valued_below_zero_is_never_a_profit_take():
    from alvh_cli.model.rules import Rules

    rules = Rules()  # profit_take 0.5: 0 ≤ mark ≤ 0.5
    assert rules.profit_take_hit(0.5) and rules.profit_take_hit(0.0)
    assert not rules.profit_take_hit(-0.04) and not rules.profit_take_hit(-2.04)
    assert not rules.profit_take_hit(0.51)


def test_profit_take_zero_turns_it_off():
    assert actions(run(IC, MKT, 0.1, profit_take=0.0)) == ["hold"]


def test_elevated_regime_scales_layer3_and_unwind():
    elevated = Regime(elevated=True, active=3, note="test")
    # layer 3 at 3.0 × 0.85 = 2.55
    assert run(IC, MKT, 2.55 - EPS, elevated)["layer"] == 2
    assert run(IC, MKT, 2.55 + EPS, elevated)["layer"] == 3
    # unwind below layer1 × 0.85 × 0.8 = 1.02 (1.2 in a normal regime)
    hedged = condor(hedges=vix_spread(22, 27, 5, 1.6, 0.4, layer=1, entry_vix=22.0))
    assert actions(run(hedged, CONTANGO, 1.1, elevated)) == ["hold"]
    assert actions(run(hedged, CONTANGO, 1.1)) == ["close_hedge"]
    assert actions(run(hedged, CONTANGO, 1.02 - EPS, elevated)) == ["close_hedge"]


def test_hedge_worth_twice_its_cost_is_trimmed_to_recover_it():
    # 10 × VIX 20/30 call spread bought for 0.50 ($500 paid). VIX 30 and its futures at 30:
    # the spread is worth about 6 (Black-76, the builders' VIX smile), far over 2 × 0.50.
    # Selling n spreads at their bid (model − 0.05 per leg) less $1 a contract in fees must
    # bring back the $500: the fewest whole spreads that do.
    d = date
    hedged = condor(hedges=vix_spread(20, 30, 10, 0.8, 0.3, layer=1, entry_vix=25.0))
    futures = tuple(FuturePoint(x, 30.0) for x in (d(2026, 12, 16), d(2027, 1, 20), d(2027, 2, 17)))
    mkt = market(spx=5790.0, vix=30.0, vix_futures=futures)
    row = run(hedged, mkt, 1.3)  # below layer 1, above the unwind line (1.2x)
    (rec,) = [r for r in row["recommendations"] if r["action"] == "trim_hedge"]
    pv = value_book([loaded(with_credit(hedged, debit_of(hedged, mkt) / 1.3), mkt)])[0]
    long_, short = float(pv.values.price[4]), float(pv.values.price[5])
    per_spread = ((long_ - 0.05) - (short + 0.05)) * 100 - 2 * 1.0
    n = int(-(-500.0 // per_spread))  # ceil
    credit = (long_ - 0.05) - (short + 0.05)  # per spread, at the assumed fills
    assert rec["quantity"] == n and n < 10
    assert rec["cost_at_fills"] == pytest.approx(-n * credit * 100)
    paid = rec["cost_at_fills"]
    assert -paid - 2 * n * 1.0 >= 500.0 > -paid * (n - 1) / n - 2 * (n - 1)
    # The ticket: one VIX order selling n spreads to close, a complex VIX credit on the
    # 0.01 tick rounded up (in the seller's favour); cost is what that limit brings in.
    (order,) = rec["orders"]
    assert [(g["action"], g["strike"], g["quantity"]) for g in order["legs"]] == [
        ("STC", 20, n),
        ("BTC", 30, n),
    ]
    assert order["price_effect"] == "credit" and order["quantity"] == n
    assert order["limit"] == pytest.approx(math.ceil(credit * 100 - 1e-6) / 100)
    assert rec["cost"] == pytest.approx(-n * order["limit"] * 100)


def test_hedge_near_its_expiry_is_rolled_while_the_condor_runs():
    # A layer on the 2026-12-16 VIX expiry, 22 days after asof: not yet within the default
    # hedge_roll_days (7). With 30 it is due, and the condor runs to Dec 18: roll it to the
    # first VIX expiry at or after the condor's, 2027-01-20, same strikes.
    # (in contango, where the later expiry's spread holds its value better than the one
    # rolling down to its near expiry: the roll beats holding)
    hedged = condor(hedges=vix_spread(22, 27, 5, 1.0, 0.4, layer=1, expiry=date(2026, 12, 16)))
    row = run(hedged, CONTANGO, 1.3, hedge_roll_days=30)
    (rec,) = [r for r in row["recommendations"] if r["action"] == "roll"]
    assert (rec["from_expiry"], rec["to_expiry"]) == ("2026-12-16", "2027-01-20")
    assert rec["from_strikes"] == rec["to_strikes"] == [22.0, 27.0]
    legs = {(leg["expiry"], leg["strike"], leg["quantity"], leg["opening"]) for leg in rec["legs"]}
    assert legs == {
        ("2026-12-16", 22.0, -5, False), ("2026-12-16", 27.0, 5, False),
        ("2027-01-20", 22.0, 5, True), ("2027-01-20", 27.0, -5, True),
    }  # fmt: skip
    assert rec["objective_after"] > rec["objective_before"]
    assert not [r for r in run(hedged, CONTANGO, 1.3)["recommendations"] if r["action"] == "roll"]


def test_tables_and_csv_records_are_the_json_record_less_what_they_leave_out():
    # a table's alternatives leave out their legs, a CSV row all alternatives; the rest of
    # the record, its key order too, is the JSON's
    from alvh_cli.output.records import recommendation_json

    pv = value_book([loaded(with_credit(IC, debit_of(IC, market(spx=5560.0)) / 3.001),
                            market(spx=5560.0))])[0]  # fmt: skip
    (r,) = check_position(pv, Regime()).recommendations
    full = recommendation_json(r)
    assert any(a["legs"] for a in full["alternatives"])  # "hold" trades nothing
    figures = recommendation_json(r, "figures")
    without_legs = [{k: v for k, v in a.items() if k != "legs"} for a in full["alternatives"]]
    assert figures == {**full, "alternatives": without_legs}
    assert [list(a) for a in figures["alternatives"]] == [list(a) for a in without_legs]
    none = recommendation_json(r, "none")
    assert none == {k: v for k, v in full.items() if k != "alternatives"}
    assert list(none) == [k for k in full if k != "alternatives"] and "preference" in none
