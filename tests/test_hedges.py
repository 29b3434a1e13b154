"""Layers 1-2: hedges that last, the roll they will need, the tick rule, VIX futures, and the
program's choice against the full MILP (every candidate, every scenario) on the samples and
on random positions."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from builders import EST, condor, loaded, market
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_hedge_milp import full_milp, tail_mean

from alvh_cli.method import hedge_milp, hedges
from alvh_cli.method.check import ScenarioSets, check_position
from alvh_cli.method.risk import Costs, fill
from alvh_cli.method.scenarios import History
from alvh_cli.model.domain import FuturePoint
from alvh_cli.model.valuation import value_book

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "sample_positions").glob("*.toml"))


def history(days: int, seed: int = 0) -> History:
    """Daily closes of a random walk with crash days (SPX 0.9% a day, 2% of days a 2-5%
    fall; VIX moves −5× SPX, pulled back to 16): a fat-tailed scenario set small enough
    for the full MILP to be quick."""
    rng = np.random.default_rng(seed)
    r = rng.normal(0.0004, 0.009, days)
    crash = rng.random(days) < 0.02
    r[crash] -= rng.uniform(0.02, 0.05, crash.sum())
    spx = 4000.0 * np.exp(np.cumsum(r))
    shock = -5.0 * r + rng.normal(0.0, 0.04, days)
    level = np.empty(days)
    x = math.log(16.0)
    for k in range(days):
        x += shock[k] - 0.05 * (x - math.log(16.0))
        level[k] = x
    start = date(2015, 1, 5).toordinal()
    return History(np.arange(days) + start, spx, np.exp(level), "random walk with crashes")


class Programs:
    """Every hedge program a check solves: the arguments of ``hedge_milp.choose``."""

    def __init__(self, monkeypatch):
        self.seen: list[dict] = []
        self.real = real = hedge_milp.choose

        def spy(p, g, cost, budget, level, gamma=0.0, **kw):
            self.seen.append(
                dict(p=p, g=g, cost=cost, budget=budget, level=level, gamma=gamma, **kw)
            )
            return real(p, g, cost, budget, level, gamma, **kw)

        monkeypatch.setattr(hedge_milp, "choose", spy)

    def check_against_the_full_milp(self, tighter: float | None = None) -> list[tuple]:
        """(ours, the full MILP's) objective of every program seen — EV + γ·CVaR where the
        CVaR floor can be met, else the CVaR — each within 1e-6 relative. ``tighter``
        replaces each program's floor by that share of its position's own CVaR (0.9: a
        tail loss 10% smaller than holding's)."""
        out = []
        for a in list(self.seen):
            most, limits = a.get("most"), a.get("limits", ())
            floor = a.get("cvar_floor", -math.inf)
            if tighter is not None:
                floor = tighter * tail_mean(a["p"], a["level"])
            p, g, level, gamma = a["p"], a["g"], a["level"], a["gamma"]
            got = self.real(
                p, g, a["cost"], a["budget"], level, gamma, cvar_floor=floor, most=most,
                limits=limits,
            )  # fmt: skip
            full, met = full_milp(p, g, a["cost"], a["budget"], level, gamma, floor, most, limits)
            assert got.meets == met
            ours = _score(p, g, level, gamma, met, got.counts)
            want = _score(p, g, level, gamma, met, full)
            assert ours == pytest.approx(want, rel=1e-6, abs=1e-6), (ours, want)
            assert got.bound >= ours - 1e-6 * max(1.0, abs(ours))
            if met and math.isfinite(floor):
                assert tail_mean(p + got.counts @ g, level) >= floor - 1e-9
            out.append((ours, want, got))
        return out


def _score(p, g, level, gamma, met, counts) -> float:
    """EV + γ·CVaR of the hedged P&L, or its CVaR where the floor was out of reach."""
    x = p + counts @ g
    return x.mean() + gamma * tail_mean(x, level) if met else tail_mean(x, level)


def checked(position, mkt, hist=None, force_layer=None, **rules):
    (pv,) = value_book([loaded(position, mkt, **rules)])
    sets = ScenarioSets(hist, fallback=hist is None) if hist is not None else ScenarioSets()
    return check_position(pv, scenario_sets=sets, force_layer=force_layer)


def opened_legs(pc):
    return [t.leg for r in pc.recommendations if r.action.value == "open_hedge" for t in r.trades]


# ------------------------------------------------------------------------ hedges that last


def test_the_last_day_a_hedge_may_not_expire_on():
    # asof Tue 2026-11-24 16:00; 5 trading days: Nov 25, (26 Thanksgiving), 27, 30, Dec 1,
    # Dec 2 -> the horizon ends Dec 2; + hedge_roll_days 7 = Dec 9. The Dec 16 VIX expiry
    # lasts (a roll would come Dec 9 at the earliest), so it is a candidate expiry.
    mkt = market(spx=5560.0)
    (pv,) = value_book([loaded(condor(), mkt)])
    ev = ScenarioSets().evaluator(pv)
    assert hedges.earliest_expiry(ev) == date(2026, 12, 9)
    assert hedges.candidate_expiries(mkt, date(2026, 12, 18), date(2026, 12, 9)) == (
        date(2026, 12, 16),
        date(2027, 1, 20),
    )
    # from Dec 10 on, Dec 16 is too near: the next expiry after the condor's stands in
    assert hedges.candidate_expiries(mkt, date(2026, 12, 18), date(2026, 12, 16)) == (
        date(2027, 1, 20),
    )


@pytest.mark.parametrize("days_to_near", [3, 6, 7, 8, 10, 14])
@pytest.mark.parametrize("roll_days", [7, 12])
def test_no_hedge_is_opened_within_the_roll_days_of_its_expiry(days_to_near, roll_days):
    """Crafted: the check days before the Dec 16 VIX expiry, the condor on Dec 18, the put
    side tested; Layer 1 forced. Every leg opened outlasts ``hedge_roll_days`` (and the
    scenario horizon)."""
    day = date(2026, 12, 16) - timedelta(days=days_to_near)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    asof = datetime(day.year, day.month, day.day, 16, 0, tzinfo=EST)
    mkt = market(spx=5530.0, vix=24.0, asof=asof)
    pc = checked(condor(units=4, credit=1.0), mkt, force_layer=1, hedge_roll_days=roll_days)
    legs = opened_legs(pc)
    for g in legs:
        assert (g.expiry - day).days > roll_days, (g, day)
    assert pc.hedge_plan is not None
    assert all(e - day > timedelta(days=roll_days) for e in pc.hedge_plan.expiries)


def test_no_sample_opens_a_hedge_within_the_roll_days(alvh, monkeypatch):
    monkeypatch.chdir(ROOT)
    for args in (["check"], ["size-hedge", "--layer", "1"], ["size-hedge", "--layer", "2"]):
        for sample in SAMPLES:
            code, out, err = alvh([*args, str(sample), "--format", "json"])
            assert code in (0, 1), err
            for p in json.loads(out)["positions"]:
                for r in p["recommendations"]:
                    for t in r.get("legs", ()) if r["action"] == "open_hedge" else ():
                        left = (date.fromisoformat(t["expiry"]) - date(2026, 11, 24)).days
                        assert left > 7, (sample.name, t)


def test_a_forced_expiry_that_does_not_last_is_refused_with_its_reason():
    asof = datetime(2026, 12, 10, 16, 0, tzinfo=EST)
    mkt = market(spx=5530.0, vix=24.0, asof=asof)
    (pv,) = value_book([loaded(condor(units=4, credit=1.0), mkt)])
    pc = check_position(pv, force_layer=1, vix_expiries=(date(2026, 12, 16),))
    assert opened_legs(pc) == []
    assert "no VIX expiry lasts" in pc.hedge_plan.note


# ------------------------------------------------------------------ what each candidate is


def _candidates(mkt, position=None, **rules):
    (pv,) = value_book([loaded(position or condor(units=4, credit=1.0), mkt, **rules)])
    ev = ScenarioSets().evaluator(pv)
    costs = Costs.from_rules(ev.rules)
    expiries = (date(2026, 12, 16), date(2027, 1, 20))
    return ev, costs, hedges.candidates(ev, expiries, costs, None, pv.position)


def test_a_hedge_expiring_before_the_condor_carries_its_roll():
    """Dec 16 hedges must be rolled before the Dec 18 condor expires: trading them twice
    more, each at about their entry friction. A 22/30 spread unquoted: fills model ± 0.05
    a leg, so a friction of 0.10 × 100 + 2 × $1 = $12, a roll of $24 in every scenario;
    the Jan 20 one outlasts the condor and carries none."""
    ev, costs, cands = _candidates(market(spx=5530.0, vix=20.0))
    by = {(c.expiry, c.long_strike, c.short_strike): c for c in cands}
    near = by[(date(2026, 12, 16), 22.0, 30.0)]
    far = by[(date(2027, 1, 20), 22.0, 30.0)]
    assert near.friction == pytest.approx(12.0) and near.roll_cost == pytest.approx(24.0)
    assert far.roll_cost == 0.0
    later = ev.prices(list(near.legs()))
    move = (later[0] - later[1]) * 100
    assert np.allclose(near.pnl, move - near.cost - 24.0)
    # a call alone: friction 0.05 × 100 + $1 = $6, its roll $12
    alone = by[(date(2026, 12, 16), 22.0, None)]
    assert alone.friction == pytest.approx(6.0) and alone.roll_cost == pytest.approx(12.0)


def test_a_short_call_that_sells_under_a_tick_makes_no_spread_but_calls_stand_alone():
    """VIX options tick 0.01 under $3.00: unquoted, a call worth under 0.06 sells for under
    0.01 at the 0.05 half-spread, so no spread sells it; the calls alone are candidates."""
    mkt = market(spx=5530.0, vix=14.0)
    ev, costs, cands = _candidates(mkt)
    from alvh_cli.model.legs import value_legs

    for c in cands:
        if c.instrument != "vix_call_spread":
            continue
        short = c.legs()[1]
        model = float(value_legs(mkt, [short]).price[0])
        sell, _ = fill(mkt, short, -1, model, costs)
        assert sell >= 0.01 - 1e-12, c.name
    spreads = {(c.expiry, c.short_strike) for c in cands if c.instrument == "vix_call_spread"}
    alone = {(c.expiry, c.long_strike) for c in cands if c.instrument == "vix_call"}
    # far strikes sell for nothing: they are a spread's long leg or a call alone, never short
    top = max(k for e, k in alone if e == date(2026, 12, 16))
    assert (date(2026, 12, 16), top) not in spreads
    assert len(alone) > 20


def test_a_future_costs_its_roll_down_and_its_friction():
    """Contango, VIX 18: the Jan 20 future at 20 rolls toward spot while the condor runs. On
    the one-factor curve, held h years of a tenor τ it loses (F − VIX)·ρ, ρ = e^(−κτ)·
    (e^(κh) − 1)/(1 − e^(−κτ)); a VX charges the budget $1,000 × that plus its half-spread
    0.05 × $1,000 and $1, a VXM a tenth of the roll-down plus 0.05 × $100 and $1. In
    backwardation the roll-down is a gain: the futures charge their friction only."""
    from alvh_cli.model.timing import settlement_instant, year_fraction

    futures = (FuturePoint(date(2026, 12, 16), 19.0), FuturePoint(date(2027, 1, 20), 20.0),
               FuturePoint(date(2027, 2, 17), 20.5))  # fmt: skip
    mkt = market(spx=5530.0, vix=18.0, vix_futures=futures)
    ev, costs, cands = _candidates(mkt)
    vx, vxm = [c for c in cands if c.instrument == "vix_future"]
    assert (vx.root, vxm.root, vx.multiplier, vxm.multiplier) == ("VIX", "VXM", 1000, 100)
    assert vx.expiry == vxm.expiry == date(2027, 1, 20)  # the expiry after the condor's only
    tau = year_fraction(mkt.asof, settlement_instant("VIX", date(2027, 1, 20)))
    h = year_fraction(mkt.asof, settlement_instant("SPXW", date(2026, 12, 18)))
    rho = math.exp(-5 * tau) * math.expm1(5 * h) / -math.expm1(-5 * tau)
    roll = (20.0 - 18.0) * rho
    assert vx.cost == pytest.approx(1000 * roll + 50 + 1)
    assert vxm.cost == pytest.approx(100 * roll + 5 + 1)
    assert vx.friction == pytest.approx(51.0) and vxm.friction == pytest.approx(6.0)
    assert np.allclose(vx.pnl, 1000 * vx.move - 51.0) and np.allclose(vx.move * 1, vxm.move)
    back = (FuturePoint(date(2026, 12, 16), 23.0), FuturePoint(date(2027, 1, 20), 22.0),
            FuturePoint(date(2027, 2, 17), 21.5))  # fmt: skip
    ev, costs, cands = _candidates(market(spx=5530.0, vix=25.0, vix_futures=back))
    vx, vxm = [c for c in cands if c.instrument == "vix_future"]
    assert (vx.cost, vxm.cost) == (pytest.approx(51.0), pytest.approx(6.0))


def test_futures_gain_no_more_than_the_position_loses_at_its_worst_rung():
    """10·VX + VXM ≤ ⌊loss / a VXM's gain⌋ at the worst rung: a one-lot condor cannot use a
    VX there, a larger one can; a position losing nothing there gets no futures."""
    mkt = market(spx=5530.0, vix=24.0)
    for units in (1, 4, 10):
        (pv,) = value_book([loaded(condor(units=units, credit=1.0), mkt)])
        ev = ScenarioSets().evaluator(pv)
        p = ev.pnl(pv.legs, pv.values).sum(axis=0)
        cands = hedges.candidates(
            ev, (date(2026, 12, 16), date(2027, 1, 20)), Costs.from_rules(ev.rules), None,
            pv.position,
        )  # fmt: skip
        most, limits = hedges._futures_limit(ev, p, cands)
        ladder = np.arange(ev.scenarios.n)[ev.scenarios.ladder]
        worst = ladder[np.argmin(p[ladder])]
        vxm = next(c for c in cands if c.root == "VXM")
        ((units_row, bound),) = limits
        assert bound == math.floor(-p[worst] / (100 * vxm.move[worst]))
        assert {units_row[i] for i, c in enumerate(cands) if c.instrument == "vix_future"} == {
            10.0,
            1.0,
        }
        assert most is None
        if units == 1:
            assert bound < 10  # one VX gains more than a one-lot loses: VXM only


def test_hedge_spent_counts_a_futures_basis_not_its_price():
    from alvh_cli.model.domain import Leg

    fut = Leg("VIX", "VXM", "future", None, date(2027, 1, 20), 6, 21.0, layer=1, entry_vix=19.5)
    spread = (
        Leg("VIX", "VIX", "call", 22.0, date(2027, 1, 20), 3, 1.5, layer=1),
        Leg("VIX", "VIX", "call", 30.0, date(2027, 1, 20), -3, 0.4, layer=1),
    )
    p = condor(hedges=(fut, *spread))
    # spread: (1.5 − 0.4) × 3 × 100 = 330; VXM: (21.0 − 19.5) × 6 × 100 = 900
    assert hedges.hedge_spent(p) == pytest.approx(330.0 + 900.0)
    assert hedges.hedge_spent(condor(hedges=(replace(fut, entry_vix=None),))) == 0.0


# --------------------------------------------------------------- the choice, exactly


@pytest.mark.parametrize(
    "rules",
    [
        "",  # the defaults: risk_aversion 0.1, no CVaR limit
        "risk_aversion = 0.5",
        "risk_aversion = 2.0",
        "risk_aversion = 0.0\ncvar_limit_credit = 2.0",
        "risk_aversion = 0.3\ncvar_limit = 9000",
        "risk_aversion = 0.1\ncvar_limit = 1000",  # out of reach: the highest CVaR
    ],
)
def test_every_samples_program_is_the_full_milps(monkeypatch, tmp_path, rules):
    """The hedge programs of ``check`` on every sample (about 450-520 candidates, 1,252
    scenarios each) reach the full MILP's objective within 1e-6 relative, at several γ and
    CVaR limits (met, binding, out of reach)."""
    from alvh_cli.app.check import check

    path = tmp_path / "rules.toml"
    path.write_text(f"[rules]\n{rules}\n")
    programs = Programs(monkeypatch)
    check([str(s) for s in SAMPLES], rules=path)
    assert len(programs.seen) >= 3
    assert min(len(a["cost"]) for a in programs.seen) >= 400
    programs.check_against_the_full_milp()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    vix=st.floats(14.0, 32.0),
    slope=st.floats(-0.06, 0.06),
    room=st.floats(0.002, 0.03),
    units=st.integers(1, 10),
    credit=st.floats(1.0, 6.0),
    layer=st.sampled_from([1, 2]),
    gamma=st.sampled_from([0.0, 0.1, 0.5, 2.0]),
    tighter=st.sampled_from([None, 0.995, 0.97, 0.9, 0.5]),
    seed=st.integers(0, 3),
)
def test_random_positions_get_the_full_milps_choice(
    vix, slope, room, units, credit, layer, gamma, tighter, seed
):
    """Put-tested condors of random size and credit in random VIX markets (contango or
    backwardation), over a random-walk history of 300 days, at random γ: 400+ candidates
    each, the program's objective within 1e-6 relative of the full MILP's — without a CVaR
    limit, and with one at a share of holding's CVaR (binding, or out of reach)."""
    futures = tuple(
        FuturePoint(d, vix * (1 + slope * k))
        for k, d in enumerate((date(2026, 12, 16), date(2027, 1, 20), date(2027, 2, 17)), 1)
    )
    mkt = market(spx=5500.0 * (1 + room), vix=vix, vix_futures=futures)
    with pytest.MonkeyPatch.context() as mp:
        programs = Programs(mp)
        checked(
            condor(units=units, credit=credit), mkt, history(300, seed), force_layer=layer,
            risk_aversion=gamma,
        )  # fmt: skip
        (a,) = programs.seen
        assume(len(a["cost"]) >= 400)
        programs.check_against_the_full_milp(tighter)


# --------------------------------------------------------------- what size-hedge shows


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_the_ranking_is_the_choices_own(alvh, monkeypatch, tmp_path, gamma):
    """Chosen hedges come first, and removing their last contract loses objective (else the
    program would not buy it: objective change per $ ≥ 0); one more of a candidate that
    fits gains none (else the program would buy it: ≤ 0). The chosen EV gains and the
    position's EV sum to the EV after (the EV is linear in the counts)."""
    monkeypatch.chdir(ROOT)
    rules = tmp_path / "rules.toml"
    rules.write_text(f"[rules]\nrisk_aversion = {gamma}\n")
    chosen = 0
    for sample in ("put_tested_1_6x.toml", "put_tested_2_3x.toml", "book.toml"):
        code, out, err = alvh(
            ["size-hedge", f"sample_positions/{sample}", "--format", "json", "--rules", rules]
        )
        assert code in (0, 1), err
        for p in json.loads(out)["positions"]:
            plan = p["hedge_plan"]
            if not plan or not plan["chosen"]:
                continue
            chosen += 1
            assert plan["objective"] == f"EV + {gamma:g}·CVaR" and plan["cvar_limit_met"]
            rows = plan["candidates"]
            bought = [r for r in rows if r["count"]]
            assert rows[: len(bought)] == bought and len(bought) == len(plan["chosen"])
            for r in bought:
                assert r["objective_change_per_dollar"] >= -1e-9, r
            for r in rows[len(bought) :]:
                if r["fits"]:
                    assert r["objective_change_per_dollar"] <= 1e-9, r
            gains = sum(r["ev_gain"] for r in bought)
            assert plan["ev_before"] + gains == pytest.approx(plan["ev_after"], abs=0.05)
    assert chosen >= 2


# ------------------------------------------------------------------ one rule for all


def test_a_cvar_limit_only_a_hedge_meets_makes_check_buy_one():
    """put_tested_1_6x with the Layer 3 alternatives out of the way (adjust_from_layer 3):
    at γ = 0.1 no hedge raises EV + γ·CVaR, so check holds; with a CVaR limit that holding
    misses and a hedge within Layer 1's spend can meet, check buys the hedge, and its CVaR
    after meets the limit. The limit is set between the two from the program's own
    reach: halfway from holding's CVaR to the highest CVaR the spend buys (with γ large,
    the program's answer is near that)."""
    path = ROOT / "sample_positions" / "put_tested_1_6x.toml"
    from alvh_cli.inputs.book import load_book

    (lf,) = load_book([path])

    def run(**rules):
        (pv,) = value_book([replace(lf, rules=replace(lf.rules, **rules))])
        return check_position(pv)

    held = run(adjust_from_layer=3)
    assert [r.action.value for r in held.recommendations] == ["hold"]
    hold_cvar = held.figures.cvar
    steep = run(adjust_from_layer=3, risk_aversion=50.0)  # about the highest CVaR in reach
    (rec, *_) = [r for r in steep.recommendations if r.action.value == "open_hedge"]
    best = rec.after.cvar
    assert best > hold_cvar + 100
    limit = -(hold_cvar + best) / 2  # dollars of tail loss: holding misses it, a hedge meets it
    limited = run(adjust_from_layer=3, cvar_limit=limit)
    opened = [r for r in limited.recommendations if r.action.value == "open_hedge"]
    assert opened, [r.reason for r in limited.recommendations]
    assert opened[0].before.cvar < -limit <= opened[0].after.cvar + 1e-9
    assert limited.hedge_plan.meets and "CVaR ≥" in limited.hedge_plan.objective
