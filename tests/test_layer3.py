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


def test_narrow_breached_condor_closes_the_tested_vertical():
    # 10 lots, puts 5450/5500 (50 wide), calls 6100/6150; SPX 5480, through the short put.
    # Quotes make the put vertical worth 25.00 (mid 40.00 − 15.00) — its mean payoff over
    # the two scenarios, 5300 (max loss, 50) and 5700 (0) — and the call vertical 0.50;
    # the 5500 call at 20.00 is at parity with the 5500 put (r = q = 0, forward 5480).
    ic = condor((5450, 5500, 6100, 6150), units=10, credit=10.0)
    q = (quote("put", 5450, 15.0), quote("put", 5500, 40.0), quote("call", 5500, 20.0),
         quote("call", 6100, 0.60), quote("call", 6150, 0.10))  # fmt: skip
    res, pv = evaluate(ic, market(spx=5480.0, quotes=q), [5300.0, 5700.0])
    hold = by_name(res, "hold").figures
    # hold: puts pay -50 × 1000 at 5300, 0 at 5700, against -25 × 1000 today; the calls
    # expire worthless against -0.50 × 1000 today: P&L -24,500 and +25,500
    assert hold.cvar == pytest.approx(-24500.0)
    assert hold.ev == pytest.approx(500.0)
    # closing the put vertical: buy 5500 at 40.05, sell 5450 at 14.95 — $50 of spread per
    # leg and $10 of fees each: cost $120; the calls still earn their $500
    close_v = by_name(res, "close put vertical")
    assert close_v.cost == pytest.approx(120.0)
    assert close_v.figures.cvar == pytest.approx(500.0 - 120.0)
    # its EV gives up exactly its trading cost: eligible
    assert close_v.figures.ev == pytest.approx(hold.ev - 120.0) and close_v.eligible
    # one conversion: buy the 5500 put at 40.05, sell the 5500 call at 19.95 (20.10 paid),
    # $2 of fees; it pays 5500 − S: +179.90 × 100 at 5300, −220.10 × 100 at 5700
    conv1 = by_name(res, "conversion 1")
    assert conv1.figures.cvar == pytest.approx(-24500.0 + 17990.0 - 2.0)
    assert conv1.figures.ev == pytest.approx(500.0 - 2010.0 - 2.0) and not conv1.eligible
    # closing everything: 4 legs × 10 × ($5 of spread + $1 fee) = $240; it forgoes the
    # calls' +500 of EV: -240 < 500 − 1.1 × 240, not eligible
    close_all = by_name(res, "close position")
    assert close_all.cost == pytest.approx(240.0)
    assert not close_all.eligible
    assert res.alternatives[res.chosen].name == "close put vertical"


def test_wide_breached_condor_converts():
    # 10 lots, puts 5000/5500 (500 wide), r = q = 0 so the forward is 5480; scenarios
    # 5280 and 5680, 200 either side of it, so the synthetic's expected P&L is nil.
    # The put vertical is quoted rich: 115.00 (mid 125.00 − 10.00) against its mean
    # payoff ½ × 220 = 110, so holding it earns +5 × 1000 = +5,000 of EV: closing it is
    # not eligible; a conversion keeps that EV.
    ic = condor((5000, 5500, 6100, 6150), units=10, credit=10.0)
    q = (quote("put", 5000, 10.0), quote("put", 5500, 125.0), quote("call", 5500, 105.0),
         quote("call", 6100, 0.60), quote("call", 6150, 0.10))  # fmt: skip
    res, pv = evaluate(ic, market(spx=5480.0, quotes=q), [5280.0, 5680.0])
    hold = by_name(res, "hold").figures
    # hold: -220 × 1000 + 115,000 + 500 = -104,500 at 5280; +115,500 at 5680
    assert hold.cvar == pytest.approx(-104500.0)
    assert hold.ev == pytest.approx(5500.0)
    assert not by_name(res, "close put vertical").eligible
    # n conversions: buy n 5500 puts at 125.05, sell n 5500 calls at 104.95: the
    # synthetic costs 20.10 and pays 5500 − S: +199.90 × 100 n at 5280, −200.10 × 100 n at
    # 5680, less $2 of fees each. CVaR (the worse scenario) is best where they cross:
    # -104,500 + 19,988 n = 115,500 − 20,012 n → n = 5.5; n = 5 gives -4,560 at 5280 vs
    # 15,440 … the worse is -4,560; n = 6 gives 15,428 vs -4,572: n = 5 wins by $12.
    c5 = by_name(res, "conversion 5")
    assert c5.cost == pytest.approx(5 * (2 * 5.0 + 2 * 1.0))
    assert c5.figures.cvar == pytest.approx(-104500.0 + 5 * (19990.0 - 2.0))
    assert res.alternatives[res.chosen].name == "conversion 5"
    chosen = res.alternatives[res.chosen]
    assert chosen.action == Action.CONVERT
    assert {(t.leg.type, t.quantity) for t in chosen.trades} == {("put", 5), ("call", -5)}


def bsm_put(s, k, t, sigma):
    d1 = (math.log(s / k) + 0.5 * sigma * sigma * t) / (sigma * math.sqrt(t))
    d2 = d1 - sigma * math.sqrt(t)
    n = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    return k * n(-d2) - s * n(-d1), n(d1) - 1.0


def test_roll_strikes_and_credit_by_hand():
    # Flat 15% smile, r = q = 0, SPX 5600 (put side tested). The roll goes to the first
    # Friday expiry at least 7 days after Dec 18, i.e. on or after Dec 25. A holiday Friday
    # expires the business day before: Christmas gives Thursday Dec 24 (before the 25th,
    # so not a candidate) and New Year's Day gives Thursday Dec 31: the roll expiry.
    mkt = market(spx=5600.0, spx_vol=Smile(0.15, 0.0, 0.0))
    ic = condor((5400, 5500, 6100, 6200), units=10, credit=3.0)
    lf = loaded(ic, mkt)
    ev = Evaluator(mkt, lf.rules, at_expiry(5600.0, [5600.0]))
    short, long_ = layer3.tested_vertical(ic, "put", 5600.0)
    legs, values, opens = layer3.roll_vertical(ev, short, long_, "put", _costs(lf.rules))
    expiry = legs[0].expiry
    assert expiry.isoformat() == "2026-12-31"
    t = year_fraction(ASOF, settlement_instant("SPXW", expiry))
    # the 5-point strike whose put |delta| is nearest 0.16, by hand
    grid = np.arange(2800, 8401, 5)
    deltas = np.array([abs(bsm_put(5600.0, k, t, 0.15)[1]) for k in grid])
    k_short = float(grid[np.argmin(np.abs(deltas - 0.16))])
    assert legs[0].strike == k_short and legs[1].strike == k_short - 100
    # opening credit: sell the short at model − 0.10, buy the long at model + 0.10
    p_s = bsm_put(5600.0, k_short, t, 0.15)[0]
    p_l = bsm_put(5600.0, k_short - 100, t, 0.15)[0]
    credit = ((p_s - 0.10) - (p_l + 0.10)) * 100 * 10
    from alvh_cli.method.risk import cash

    assert cash(opens) == pytest.approx(credit, rel=1e-9)
    assert float(values.price[0]) == pytest.approx(p_s, rel=1e-9)


def _costs(rules):
    from alvh_cli.method.risk import Costs

    return Costs.from_rules(rules)


def test_never_an_adjustment_that_raises_tail_and_spread():
    ic = condor((5450, 5500, 6100, 6150), units=10, credit=10.0)
    q = (quote("put", 5450, 15.0), quote("put", 5500, 40.0),
         quote("call", 6100, 0.60), quote("call", 6150, 0.10))  # fmt: skip
    res, _ = evaluate(ic, market(spx=5480.0, quotes=q), [5300.0, 5700.0])
    hold = res.alternatives[0].figures
    for a in res.alternatives[1:]:
        if a.figures.cvar < hold.cvar and a.figures.sd > hold.sd:
            assert not a.eligible and "tail loss and the spread" in a.why_not


def test_value_legs_agrees_with_quote_mid():
    # the quotes above really fix today's values (the premise of the hand arithmetic)
    mkt = market(spx=5480.0, quotes=(quote("put", 5500, 40.0),))
    ic = condor((5450, 5500, 6100, 6150), units=10, credit=10.0)
    v = value_legs(mkt, [ic.legs[1]])
    assert float(v.price[0]) == pytest.approx(40.0, rel=1e-9)
