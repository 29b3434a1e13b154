"""Contracts that exist: SPX (AM-settled) options only on the monthly expiration, SPXW on any
trading day; a file naming an SPX option on another day is refused, and every ticket alvh
writes names a root that lists its expiry.

Calendars by hand: December 2026 begins on a Tuesday, so its Fridays are the 4th, 11th and
18th (the 18th the monthly expiration); January 2027 begins on a Friday (1st, 8th, 15th:
the 15th the monthly); June 2026's third Friday is the 19th, Juneteenth, an exchange
holiday, so the June monthly expires Thursday the 18th.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from builders import loaded, market
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_cli.method import layer3
from alvh_cli.method.orders import orders_of
from alvh_cli.method.risk import Evaluator
from alvh_cli.method.scenarios import ScenarioSet
from alvh_cli.model.contracts import listing_root, lists_expiry, parse_osi
from alvh_cli.model.domain import Leg, Position, Smile
from alvh_cli.model.expirations import spx_monthly_expiration
from alvh_cli.model.valuation import value_book

ROOT = Path(__file__).resolve().parents[1]
BREACHED = ROOT / "sample_positions" / "put_breached_3x.toml"


@pytest.mark.parametrize(
    "root, expiry, listed",
    [
        ("SPX", date(2026, 12, 18), True),  # the third Friday
        ("SPX", date(2026, 12, 11), False),  # the second
        ("SPX", date(2027, 1, 15), True),
        ("SPX", date(2027, 1, 22), False),  # the issue's roll: a Friday, not the monthly
        ("SPX", date(2026, 6, 18), True),  # Thursday before the Juneteenth third Friday
        ("SPX", date(2027, 6, 17), True),  # Juneteenth (a Saturday) is observed Friday 18th
        ("SPX", date(2026, 12, 31), False),  # end of month, a Thursday
        ("SPXW", date(2027, 1, 22), True),
        ("SPXW", date(2026, 12, 18), True),  # SPXW lists the monthly date too (PM-settled)
        ("SPXW", date(2026, 12, 16), True),  # a Wednesday daily
    ],
)
def test_which_root_lists_which_expiry(root, expiry, listed):
    assert lists_expiry(root, expiry) is listed
    assert listing_root(root, expiry) == (root if listed else "SPXW")


def _spx_rooted(text: str) -> str:
    """The sample with every SPX leg written as root "SPX" (December 18 is the monthly)."""
    return re.sub(r'(?m)^(\s*)type = "(put|call)"', r'\1root = "SPX"\n\1type = "\2"', text)


def test_spx_on_a_weekly_expiry_is_one_line_naming_the_leg(tmp_path, alvh):
    path = tmp_path / "am.toml"
    text = _spx_rooted(BREACHED.read_text())
    # the long call moved to Friday 11 December: an SPXW expiry, not an SPX one
    legs = text.split("[[positions.legs]]")
    legs[4] = legs[4].replace("expiry = 2026-12-18", "expiry = 2026-12-11")
    path.write_text("[[positions.legs]]".join(legs))
    run = alvh(["check", path])
    assert run.code == 2 and run.out == ""
    assert run.err == (
        f"alvh: {path}: positions[0].legs[3].root: SPX options (AM-settled) expire only on "
        "the monthly expiration (December 2026: 2026-12-18); 2026-12-11 is listed as SPXW "
        "(PM-settled) (position 'dec-breached')\n"
    )


def test_spx_written_as_an_osi_symbol_is_named_by_its_occ(tmp_path, alvh):
    path = tmp_path / "occ.toml"
    text = BREACHED.read_text()
    text = text.replace(
        'type = "put"\n  strike = 5550\n  expiry = 2026-12-18',
        'occ = "SPX   270122P05550000"',
        1,
    )
    path.write_text(text)
    run = alvh(["check", path])
    assert run.code == 2
    assert "positions[0].legs[0].occ: SPX options (AM-settled) expire only on the monthly " in (
        run.err
    )
    assert "(January 2027: 2027-01-15); 2027-01-22 is listed as SPXW" in run.err


def test_an_spx_condor_rolls_to_spxw_off_the_monthly_expiry(tmp_path, alvh):
    """The issue's case: a roll of a root = "SPX" vertical to a Friday that is not the
    monthly expiry printed SPX legs. The breached sample, written as SPX (AM) legs, rolls
    its put vertical to 31 December (the first Friday expiry 7 days after the 18th: the
    25th is Christmas and expires the 24th, too early; New Year's Day gives the 31st)."""
    path = tmp_path / "am.toml"
    path.write_text(_spx_rooted(BREACHED.read_text()))
    run = alvh(["check", path, "--format", "json"])
    assert run.code == 1, run.err
    (p,) = json.loads(run.out)["positions"]
    (rec,) = [r for r in p["recommendations"] if r.get("alternatives")]
    roll = next(a for a in rec["alternatives"] if a["name"].startswith("roll puts to 31Dec26"))
    closes = [g for g in roll["legs"] if not g["opening"]]
    opens = [g for g in roll["legs"] if g["opening"]]
    assert {(g["root"], g["expiry"]) for g in closes} == {("SPX", "2026-12-18")}
    assert {(g["root"], g["expiry"]) for g in opens} == {("SPXW", "2026-12-31")}
    # applied at its assumed fills, the file gains SPXW legs and still loads
    fill = abs(sum(g["quantity"] * g["price"] for g in roll["legs"]) / 10)
    done = alvh(["apply", path, "-p", "dec-breached", "--alternative", roll["name"],
                 "--fill", round(fill, 2), "--no-journal"])  # fmt: skip
    assert done.code == 0, done.err
    from alvh_cli.inputs.positions import load_file

    new = [g for g in load_file(path).positions[0].legs if g.opened is not None]
    assert {(g.root, g.expiry) for g in new} == {("SPXW", date(2026, 12, 31))}


def test_the_issues_roll_to_22_january_is_spxw():
    # SPX Jan 15 2027 (monthly) condor; roll_min_days 7 → the first Friday on or after
    # Jan 22, which is not the monthly: the rolled legs and their tickets are SPXW.
    ic = _condor("SPX", date(2027, 1, 15), (4300, 4400, 6400, 6500), 2)
    mkt = market(spx=4500.0, vix=30.0, spx_vol=Smile(0.25, -1.0, 2.0))
    roll = _roll(ic, mkt, "put")
    new = [t.leg for t in roll.trades if t.opening]
    assert {(g.root, g.expiry) for g in new} == {("SPXW", date(2027, 1, 22))}
    sto = [g for o in orders_of(roll.trades, ic.legs) for g in o.legs if g.action == "STO"]
    assert [(g.root, g.occ[:12]) for g in sto] == [("SPXW", "SPXW  270122")]
    assert {g.root for o in orders_of(roll.trades, ic.legs) for g in o.legs
            if g.action == "BTC"} == {"SPX"}  # fmt: skip


def test_a_roll_onto_the_monthly_keeps_spx():
    # roll_min_days 35 from Jan 15 2027: the Fridays tried are Feb 19 (the monthly), Feb 26
    # and Mar 5; the first is the monthly, and SPX lists it.
    ic = _condor("SPX", date(2027, 1, 15), (4300, 4400, 6400, 6500), 2)
    mkt = market(spx=4500.0, vix=30.0, spx_vol=Smile(0.25, -1.0, 2.0))
    roll = _roll(ic, mkt, "put", roll_min_days=35)
    new = [t.leg for t in roll.trades if t.opening]
    assert spx_monthly_expiration(2027, 2) == date(2027, 2, 19)
    assert {(g.root, g.expiry) for g in new} == {("SPX", date(2027, 2, 19))}


def _condor(root: str, expiry: date, strikes, units: int) -> Position:
    kinds = (("put", units), ("put", -units), ("call", -units), ("call", units))
    legs = tuple(
        Leg("SPX", root, t, float(k), expiry, q, 5.0, key=f"p.legs[{i}]")
        for i, ((t, q), k) in enumerate(zip(kinds, strikes, strict=True))
    )
    return Position("p", legs, 4.0, source="t.toml", key="positions[0]")


def _flat(spx: float) -> ScenarioSet:
    """One scenario: SPX where it is, five days on (the alternatives' trades are what is
    tested, not their figures)."""
    return ScenarioSet(spx, 20.0, 5, 5 / 365, np.array([spx]), np.array([20.0]), 1, (), "")


def _layer3(position: Position, mkt, side: str, **rules):
    lf = loaded(position, mkt, **rules)
    pv = value_book([lf])[0]
    ev = Evaluator(mkt, lf.rules, _flat(mkt.spx))
    return layer3.evaluate(ev, pv.position, pv.values, ev.pnl(pv.legs, pv.values), side)


def _roll(position: Position, mkt, side: str, **rules):
    """The first roll offered: to the first expiry tried, at the vertical's own strikes."""
    res = _layer3(position, mkt, side, **rules)
    rolls = [a for a in res.alternatives if a.name.startswith(f"roll {side}s to")]
    return rolls[0]


MONTHLIES = [spx_monthly_expiration(2027, m) for m in range(1, 13)]


@settings(max_examples=40, deadline=None)
@given(
    root=st.sampled_from(["SPX", "SPXW"]),
    month=st.integers(0, 11),
    side=st.sampled_from(["put", "call"]),
    move=st.floats(-0.12, 0.12),
    roll_min_days=st.integers(1, 45),
)
def test_no_ticket_carries_a_root_and_expiry_the_exchange_does_not_list(
    root, month, side, move, roll_min_days
):
    """Every Layer 3 alternative of a condor on a listed contract (SPX on a monthly, SPXW on
    the same dates), at any spot and roll distance, trades only listed contracts."""
    ic = _condor(root, MONTHLIES[month], (5300, 5400, 6200, 6300), 3)
    mkt = market(spx=5800.0 * (1 + move), spx_vol=Smile(0.18, -1.0, 2.0))
    res = _layer3(ic, mkt, side, roll_min_days=roll_min_days)
    trades = [t for a in res.alternatives for t in a.trades]
    assert any(t.opening for t in trades)  # conversions at least open new legs
    for t in trades:
        assert lists_expiry(t.leg.root, t.leg.expiry), (t.leg.root, t.leg.expiry)
    for order in orders_of(trades, ic.legs):
        for g in order.legs:
            if g.occ is not None:
                osi_root, _, _, osi_expiry = parse_osi(g.occ)
                assert lists_expiry(osi_root, osi_expiry), g.occ


def test_a_ticket_for_an_unlisted_contract_is_refused():
    # a guard behind the rule: were a new SPX leg ever made off the monthly, no ticket
    from alvh_cli.method.orders import Trade, orders_for

    bad = Trade("SPX", "SPX", "put", 4345.0, date(2027, 1, 22), -2, True, 3.0)
    with pytest.raises(ValueError, match="SPX lists no 2027-01-22 expiry"):
        orders_for([bad])
    (order,) = orders_for([Trade("SPX", "SPXW", "put", 4345.0, date(2027, 1, 22), -2, True, 3.0)])
    assert order.legs[0].occ == "SPXW  270122P04345000"  # the issue's leg, on its listing root
