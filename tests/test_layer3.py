"""Layer 3 alternatives on crafted scenario sets whose outcomes are worked by hand.

The scenario sets end at the condor's expiry, so every leg is worth its
payoff there and each alternative's P&L is arithmetic: payoff − today's
value − trading cost. Quotes fix today's values; fills are at the natural
price (bid/ask 0.10 wide: 0.05 from the mid, $5 a contract) plus $1 of fees.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from builders import ASOF, EXPIRY, condor, loaded, market

from alvh_cli.method import layer3
from alvh_cli.method.actions import Action
from alvh_cli.method.risk import Evaluator
from alvh_cli.method.scenarios import ScenarioSet
from alvh_cli.model.domain import Quote, Smile
from alvh_cli.model.legs import value_legs
from alvh_cli.model.timing import settlement_instant, year_fraction
from alvh_cli.model.valuation import value_book

T = year_fraction(ASOF, settlement_instant("SPXW", EXPIRY))  # 24 days, to the settlement


def quote(type_, strike, mid):
    return Quote("SPX", type_, float(strike), EXPIRY, mid - 0.05, mid + 0.05)


def at_expiry(spx, levels):
    """Two equally likely SPX levels at the condor's expiry, VIX unchanged."""
    levels = np.array(levels, dtype=float)
    return ScenarioSet(spx, 20.0, 17, T, levels, np.full(len(levels), 20.0), len(levels), (), "")


def evaluate(position, mkt, levels, **rules):
    lf = loaded(position, mkt, cvar_level=0.5, **rules)
    pv = value_book([lf])[0]
    ev = Evaluator(mkt, lf.rules, at_expiry(mkt.spx, levels))
    leg_pnl = ev.pnl(pv.legs, pv.values)
    return layer3.evaluate(ev, pv.position, pv.values, leg_pnl, "put"), pv


def by_name(result, name):
    return next(a for a in result.alternatives if a.name == name)


def hand_choice(result) -> str:
    """The decision among the alternatives worked out by hand (all but the rolls), by the
    rule the engine applies; the engine's own choice must be at least as good."""
    hand = [a for a in result.alternatives if a.action != Action.ROLL]
    pick = hand[result.preference.choose([a.figures for a in hand])]
    chosen = result.alternatives[result.chosen]
    assert chosen.objective >= pick.objective - 1e-9 or not result.preference.meets(pick.figures)
    return pick.name


def test_narrow_breached_condor_closes_the_tested_vertical():
    # 10 lots, puts 5450/5500 (50 wide), calls 6100/6150; SPX 5480, through the short put.
    # Quotes make the put vertical worth 25.00 (mid 40.00 − 15.00) — its mean payoff over
    # the two scenarios, 5300 (max loss, 50) and 5700 (0) — and the call vertical 0.50;
    # the 5500 call at 20.00 is at parity with the 5500 put (r = q = 0, forward 5480).
    # γ = 0.1: the objective is EV + 0.1 × CVaR (CVaR here the worse of the two).
    ic = condor((5450, 5500, 6100, 6150), units=10, credit=10.0)
    q = (quote("put", 5450, 15.0), quote("put", 5500, 40.0), quote("call", 5500, 20.0),
         quote("call", 6100, 0.60), quote("call", 6150, 0.10))  # fmt: skip
    res, pv = evaluate(ic, market(spx=5480.0, quotes=q), [5300.0, 5700.0], risk_aversion=0.1)
    hold = by_name(res, "hold")
    # hold: puts pay -50 × 1000 at 5300, 0 at 5700, against -25 × 1000 today; the calls
    # expire worthless against -0.50 × 1000 today: P&L -24,500 and +25,500
    assert hold.figures.cvar == pytest.approx(-24500.0)
    assert hold.figures.ev == pytest.approx(500.0)
    assert hold.objective == pytest.approx(500.0 - 2450.0)
    # closing the put vertical: buy 5500 at 40.05, sell 5450 at 14.95 — $50 of spread per
    # leg and $10 of fees each: cost $120; the calls still earn their $500 either way
    close_v = by_name(res, "close put vertical")
    assert close_v.cost == pytest.approx(120.0)
    assert close_v.figures.cvar == pytest.approx(380.0)
    assert close_v.objective == pytest.approx(380.0 + 38.0)
    # k of the 10 lots: P&L -25,000(1 − k/10) + 500 − 12k at 5300, +25,000(1 − k/10) + 500
    # − 12k at 5700: objective = 500 − 12k + 0.1(−24,500 + 2,488k) = −1,950 + 236.8k
    for k in range(1, 10):
        part = by_name(res, f"close put vertical {k} of 10")
        assert part.objective == pytest.approx(-1950.0 + 236.8 * k)
    # one conversion: buy the 5500 put at 40.05, sell the 5500 call at 19.95 (20.10 paid),
    # $2 of fees; it pays 5500 − S: +17,988 at 5300, −22,012 at 5700
    conv1 = by_name(res, "conversion 1")
    assert conv1.figures.cvar == pytest.approx(-24500.0 + 17988.0)
    assert conv1.figures.ev == pytest.approx(500.0 - 2012.0)
    # closing everything: 4 legs × 10 × ($5 of spread + $1 fee) = $240, P&L −240 throughout
    close_all = by_name(res, "close position")
    assert close_all.cost == pytest.approx(240.0)
    assert close_all.objective == pytest.approx(-240.0 - 24.0)
    assert res.alternatives[res.chosen].name == "close put vertical"
    assert res.chosen == max(range(len(res.alternatives)),
                             key=lambda i: res.alternatives[i].objective)  # fmt: skip


def test_risk_neutral_holds_and_a_cvar_limit_takes_the_best_within_it():
    ic = condor((5450, 5500, 6100, 6150), units=10, credit=10.0)
    q = (quote("put", 5450, 15.0), quote("put", 5500, 40.0), quote("call", 5500, 20.0),
         quote("call", 6100, 0.60), quote("call", 6150, 0.10))  # fmt: skip
    mkt = market(spx=5480.0, quotes=q)
    # γ = 0: hold's EV 500 beats every trade worked out here (each gives up at least its
    # cost); the rolls, valued at the horizon by the model, are left out of these choices
    res, _ = evaluate(ic, mkt, [5300.0, 5700.0], risk_aversion=0.0)
    assert hand_choice(res) == "hold"
    # γ = 0 and CVaR ≥ −5,000: closing k lots of the put vertical has CVaR −24,500 + 2,488k,
    # within from k = 8 (−4,596), EV 500 − 12k: 8 of 10 is the best within (EV 404); a
    # conversion never is (n = 1: −6,512; n = 2: 25,500 − 44,024); closing k lots of the
    # position (CVaR −24,500(1 − k/10) − 24k) only from k = 9, with EV 50 − 216 < 404
    res, _ = evaluate(ic, mkt, [5300.0, 5700.0], risk_aversion=0.0, cvar_limit=5000)
    assert hand_choice(res) == "close put vertical 8 of 10"
    chosen = by_name(res, "close put vertical 8 of 10")
    assert chosen.figures.cvar == pytest.approx(-24500.0 + 2488.0 * 8)
    assert chosen.figures.ev == pytest.approx(404.0)
    assert not by_name(res, "hold").eligible and by_name(res, "hold").why_not.startswith("CVaR")
    # the same limit as a multiple of the credit: 10 × 10 × 100 = $10,000 of credit, × 0.5
    res2, _ = evaluate(ic, mkt, [5300.0, 5700.0], risk_aversion=0.0, cvar_limit_credit=0.5)
    assert hand_choice(res2) == "close put vertical 8 of 10"


def test_wide_breached_condor_converts():
    # 10 lots, puts 5000/5500 (500 wide), r = q = 0 so the forward is 5480; scenarios
    # 5280 and 5680, 200 either side of it, so the synthetic's expected P&L is nil.
    # The put vertical is quoted rich: 115.00 (mid 125.00 − 10.00) against its mean
    # payoff ½ × 220 = 110, so holding it earns +5 × 1000 = +5,000 of EV: a conversion
    # keeps that EV, closing gives it up. γ = 0.5.
    ic = condor((5000, 5500, 6100, 6150), units=10, credit=10.0)
    q = (quote("put", 5000, 10.0), quote("put", 5500, 125.0), quote("call", 5500, 105.0),
         quote("call", 6100, 0.60), quote("call", 6150, 0.10))  # fmt: skip
    res, pv = evaluate(ic, market(spx=5480.0, quotes=q), [5280.0, 5680.0], risk_aversion=0.5)
    hold = by_name(res, "hold").figures
    # hold: -220 × 1000 + 115,000 + 500 = -104,500 at 5280; +115,500 at 5680
    assert hold.cvar == pytest.approx(-104500.0)
    assert hold.ev == pytest.approx(5500.0)
    # n conversions: buy n 5500 puts at 125.05, sell n 5500 calls at 104.95: the
    # synthetic costs 20.10 and pays 5500 − S: +19,988 n at 5280, −20,012 n at 5680 ($2 of
    # fees each). EV 5,500 − 12n; CVaR min(−104,500 + 19,988n, 115,500 − 20,012n):
    # n = 5: −4,560, objective 5,440 − 2,280 = 3,160; n = 6: −4,572, 5,428 − 2,286 = 3,142.
    c5 = by_name(res, "conversion 5")
    assert c5.cost == pytest.approx(5 * (2 * 5.0 + 2 * 1.0))
    assert c5.figures.cvar == pytest.approx(-104500.0 + 5 * 19988.0)
    assert c5.objective == pytest.approx(3160.0)
    assert by_name(res, "conversion 6").objective == pytest.approx(3142.0)
    # closing the put vertical: $120, P&L +380 both ways: objective 380 + 190 = 570
    assert by_name(res, "close put vertical").objective == pytest.approx(570.0)
    chosen = res.alternatives[res.chosen]
    assert chosen.name == "conversion 5" and chosen.action == Action.CONVERT
    assert {(t.leg.type, t.quantity) for t in chosen.trades} == {("put", 5), ("call", -5)}
    # past γ = 5,060 / 4,940 ≈ 1.02 the certain +380 beats the conversion's tail
    res2, _ = evaluate(ic, market(spx=5480.0, quotes=q), [5280.0, 5680.0], risk_aversion=1.1)
    assert res2.alternatives[res2.chosen].name == "close put vertical"


def bsm_put(s, k, t, sigma):
    d1 = (math.log(s / k) + 0.5 * sigma * sigma * t) / (sigma * math.sqrt(t))
    d2 = d1 - sigma * math.sqrt(t)
    n = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    return k * n(-d2) - s * n(-d1), n(d1) - 1.0


def test_roll_strikes_and_credit_by_hand():
    # Flat 15% smile, r = q = 0, SPX 5600 (put side tested). Rolls go to the first three
    # Friday expiries at least 7 days after Dec 18, i.e. on or after Dec 25. A holiday Friday
    # expires the business day before: Christmas gives Thursday Dec 24 (before the 25th,
    # so not a candidate) and New Year's Day gives Thursday Dec 31; then Jan 8 and Jan 15.
    mkt = market(spx=5600.0, spx_vol=Smile(0.15, 0.0, 0.0))
    ic = condor((5400, 5500, 6100, 6200), units=10, credit=3.0)
    lf = loaded(ic, mkt)
    ev = Evaluator(mkt, lf.rules, at_expiry(5600.0, [5600.0]))
    short, long_ = layer3.tested_vertical(ic, "put", 5600.0)
    targets = layer3.roll_targets(ev, short, long_, "put")
    expiries = [s.expiry.isoformat() for s, _ in targets]
    assert sorted(set(expiries)) == ["2026-12-31", "2027-01-08", "2027-01-15"]
    own, at_delta = targets[0], targets[1]
    # the vertical's own strikes, and the 5-point strike whose put |delta| is nearest 0.16
    assert (own[0].strike, own[1].strike) == (5500.0, 5400.0)
    t = year_fraction(ASOF, settlement_instant("SPXW", own[0].expiry))
    grid = np.arange(2800, 8401, 5)
    deltas = np.array([abs(bsm_put(5600.0, k, t, 0.15)[1]) for k in grid])
    k_short = float(grid[np.argmin(np.abs(deltas - 0.16))])
    assert at_delta[0].strike == k_short and at_delta[1].strike == k_short - 100
    assert (own[0].quantity, own[1].quantity) == (-10, 10)
    # the roll at its own strikes: close the old vertical (buy 5500 at model + 0.10, sell
    # 5400 at model − 0.10), open the new (sell 5500 at model − 0.10, buy 5400 at + 0.10)
    res = layer3.evaluate(ev, ic, value_legs(mkt, ic.legs), ev.pnl(ic.legs), "put")
    t_old = year_fraction(ASOF, settlement_instant("SPXW", EXPIRY))
    old = bsm_put(5600.0, 5500, t_old, 0.15)[0] - bsm_put(5600.0, 5400, t_old, 0.15)[0]
    new = bsm_put(5600.0, 5500, t, 0.15)[0] - bsm_put(5600.0, 5400, t, 0.15)[0]
    net = (new - 0.20) - (old + 0.20)  # points per vertical, > 0 a credit
    assert net > 0  # a week more of a 100-wide vertical 100 out: a credit
    roll = by_name(res, f"roll puts to 31Dec26 5400/5500 ({net:.2f} credit)")
    assert roll.cash == pytest.approx(net * 100 * 10, rel=1e-9)
    # at the 0.16-delta strikes, further out, the new vertical brings less than the old
    # costs: a close and a new sale for a debit, not offered
    assert not any(f"{k_short - 100:g}/{k_short:g}" in a.name for a in res.alternatives)


def test_a_close_and_resale_for_a_debit_is_not_offered_as_a_roll():
    # SPX 5450 through the short put: the vertical at the 0.16-delta strikes, far below,
    # would cost more to open than closing the old one brings: not a roll, not offered;
    # the same strikes later are (a time-shift), credit or debit
    mkt = market(spx=5450.0, spx_vol=Smile(0.15, 0.0, 0.0))
    ic = condor((5400, 5500, 6100, 6200), units=10, credit=3.0)
    lf = loaded(ic, mkt)
    ev = Evaluator(mkt, lf.rules, at_expiry(5450.0, [5450.0]))
    res = layer3.evaluate(ev, ic, value_legs(mkt, ic.legs), ev.pnl(ic.legs), "put")
    rolls = [a for a in res.alternatives if a.action == Action.ROLL]
    assert rolls
    for a in rolls:
        new_short = next(t.leg for t in a.trades if t.opening and t.quantity < 0)
        assert new_short.strike == 5500.0 or a.cash > 0, a.name


def test_a_roll_not_offered_is_not_revalued(monkeypatch):
    # Layer 3 prices every roll target today (to know which are offered) but revalues over
    # the scenarios only the synthetic and the offered rolls' legs: the rest would be work
    # thrown away (half the targets, on a tested put, are debits to other strikes)
    mkt = market(spx=5450.0, spx_vol=Smile(0.15, 0.0, 0.0))
    ic = condor((5400, 5500, 6100, 6150), units=10, credit=3.0)
    lf = loaded(ic, mkt)
    ev = Evaluator(mkt, lf.rules, at_expiry(5450.0, [5450.0]))
    held_pnl = ev.pnl(ic.legs)
    revalued = []
    real = Evaluator.pnl

    def pnl(self, legs, values=None):
        revalued.extend(legs)
        return real(self, legs, values)

    monkeypatch.setattr(Evaluator, "pnl", pnl)
    res = layer3.evaluate(ev, ic, value_legs(mkt, ic.legs), held_pnl, "put")
    targets = layer3.roll_targets(ev, ic.legs[1], ic.legs[0], "put")
    offered = [a for a in res.alternatives if a.action == Action.ROLL]
    assert len(offered) < len(targets)  # some are not offered here
    assert len(revalued) == 2 + 2 * len(offered)  # the synthetic and each offered roll
    opened = {t.leg.contract for a in offered for t in a.trades if t.opening}
    assert {g.contract for g in revalued[2:]} == opened


def test_the_choice_is_never_worse_than_holding():
    ic = condor((5450, 5500, 6100, 6150), units=10, credit=10.0)
    q = (quote("put", 5450, 15.0), quote("put", 5500, 40.0),
         quote("call", 6100, 0.60), quote("call", 6150, 0.10))  # fmt: skip
    for gamma in (0.0, 0.05, 0.3, 2.0):
        res, _ = evaluate(ic, market(spx=5480.0, quotes=q), [5300.0, 5700.0], risk_aversion=gamma)
        best = res.alternatives[res.chosen]
        assert best.objective >= res.alternatives[0].objective
        assert all(best.objective >= a.objective - 1e-9 for a in res.alternatives)


def test_value_legs_agrees_with_quote_mid():
    # the quotes above really fix today's values (the premise of the hand arithmetic)
    mkt = market(spx=5480.0, quotes=(quote("put", 5500, 40.0),))
    ic = condor((5450, 5500, 6100, 6150), units=10, credit=10.0)
    v = value_legs(mkt, [ic.legs[1]])
    assert float(v.price[0]) == pytest.approx(40.0, rel=1e-9)


def test_a_short_alone_on_the_tested_side_has_no_roll_and_no_error():
    # the put wing gone (closed, or expired worthless in a backtest), the short 5500 put
    # alone: no vertical to roll, so no roll; the conversions and closes stand. A roll's
    # bookkeeping once looked the missing wing up and raised ValueError here.
    from builders import Leg, Position

    legs = (
        Leg("SPX", "SPXW", "put", 5500, EXPIRY, -10, 2.5, key="ic.legs[1]"),
        Leg("SPX", "SPXW", "call", 6100, EXPIRY, -10, 2.0, key="ic.legs[2]"),
        Leg("SPX", "SPXW", "call", 6150, EXPIRY, 10, 0.5, key="ic.legs[3]"),
    )
    alone = Position("ic", legs, 4.0, source="test.toml", key="positions[0]")
    q = (quote("put", 5500, 40.0), quote("call", 5500, 20.0))
    res, _ = evaluate(alone, market(spx=5480.0, quotes=q), [5300.0, 5700.0])
    actions = {a.action for a in res.alternatives}
    assert Action.ROLL not in actions
    assert {Action.HOLD, Action.CONVERT, Action.CLOSE_VERTICAL} <= actions
