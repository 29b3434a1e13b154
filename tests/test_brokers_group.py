"""Grouping imported legs into condors and hedge layers, and the TOML emitter.

Hand-built legs with the expected grouping worked out in each test's comment; hypothesis for
the invariants: grouping never creates or loses a contract, every condor it writes is one the
loader accepts, condors laid side by side come back as they were, and the emitter's TOML
reads back to the same values.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_cli.inputs.brokers.common import ImportedLeg
from alvh_cli.inputs.brokers.group import RecommendedSpread, group
from alvh_cli.toml_text import toml_string, toml_table, toml_value

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEC = date(2026, 12, 18)
JAN = date(2027, 1, 20)


def leg(typ, strike, qty, price, root="SPXW", expiry=DEC, account="A", opened=None):
    underlying = "VIX" if root.startswith("VIX") else "SPX"
    return ImportedLeg(underlying, root, typ, float(strike), expiry, qty, price, account, opened)


def condor(lp, sp, sc, lc, n, prices=(4.0, 6.0, 5.0, 3.0), **kw):
    return [
        leg("put", lp, n, prices[0], **kw),
        leg("put", sp, -n, prices[1], **kw),
        leg("call", sc, -n, prices[2], **kw),
        leg("call", lc, n, prices[3], **kw),
    ]


def shape(c):
    return (c.root, c.expiry, c.strikes, c.size)


def held(legs):
    """Net contracts per account and contract."""
    out = Counter()
    for g in legs:
        out[(g.account, g.contract)] += g.quantity
    return {k: v for k, v in out.items() if v}


def written(result):
    legs = [g for c in result.positions for g in c.legs]
    legs += [g for c in result.positions for h in c.hedges for g in h.legs]
    legs += [g for lo in result.leftovers for g in lo.legs]
    return held(legs)


# --------------------------------------------------------------------------- condors


def test_two_condors_of_one_expiry_told_apart_by_size():
    legs = condor(5400, 5450, 6300, 6350, 2) + condor(5500, 5550, 6200, 6250, 3)
    r = group(legs)
    assert sorted(shape(c) for c in r.positions) == [
        ("SPXW", DEC, (5400.0, 5450.0, 6300.0, 6350.0), 2),
        ("SPXW", DEC, (5500.0, 5550.0, 6200.0, 6250.0), 3),
    ]
    assert r.leftovers == () and r.notes == ()


def test_broken_condor_is_listed_not_guessed():
    # the long call is gone: the short call has no wing, the put vertical no call side
    legs = condor(5400, 5450, 6300, 6350, 2)[:3]
    r = group(legs)
    assert r.positions == ()
    assert sorted((lo.describe(), lo.reason) for lo in r.leftovers) == [
        (
            "SPXW 2026-12-18 5400 put x+2 + SPXW 2026-12-18 5450 put x-2",
            "SPXW 2026-12-18 5400/5450 put vertical x2 without a call vertical of the same "
            "account, root and expiry to make a condor",
        ),
        (
            "SPXW 2026-12-18 6300 call x-2",
            "short call with no long call above it (a condor's call wing)",
        ),
    ]


def test_mixed_spx_and_spxw_roots_never_make_one_condor():
    # SPX (AM) puts and SPXW (PM) calls of the same day are different contracts
    legs = condor(5400, 5450, 6300, 6350, 1)
    legs = [g if g.type == "call" else replace(g, root="SPX") for g in legs]
    r = group(legs)
    assert r.positions == ()
    assert len(r.leftovers) == 2
    for lo in r.leftovers:
        assert lo.reason.endswith(
            "legs of the same expiry are in the export, but SPX (AM) and SPXW (PM) are "
            "different contracts and a condor's legs share one root"
        )


def test_same_size_condors_pair_by_open_date_then_strike_order():
    a = condor(5400, 5450, 6300, 6350, 2, opened=date(2026, 11, 3))
    b = condor(5500, 5550, 6200, 6250, 2, opened=date(2026, 11, 10))
    r = group(a + b)
    assert sorted(c.strikes for c in r.positions) == [
        (5400, 5450, 6300, 6350),
        (5500, 5550, 6200, 6250),
    ]
    assert r.notes == ()
    # without dates: lowest short put (5450) with the lowest short call (6200), and a note
    undated = [replace(g, opened=None) for g in a + b]
    r = group(undated)
    assert sorted(c.strikes for c in r.positions) == [
        (5400, 5450, 6200, 6250),
        (5500, 5550, 6300, 6350),
    ]
    assert r.notes == (
        "SPXW 2026-12-18: 2 put and 2 call verticals of 2 contracts were paired by strike order "
        "(lowest short put with lowest short call): the export does not say which were sold "
        "together; edit the file if they were traded otherwise",
    )


def test_larger_side_splits_and_the_rest_is_left_over():
    # puts 5400/5450 x3, calls 6300/6350 x2 → a condor x2 and the put vertical's third contract
    legs = [
        leg("put", 5400, 3, 4.0), leg("put", 5450, -3, 6.0),
        leg("call", 6300, -2, 5.0), leg("call", 6350, 2, 3.0),
    ]  # fmt: skip
    r = group(legs)
    assert [shape(c) for c in r.positions] == [("SPXW", DEC, (5400, 5450, 6300, 6350), 2)]
    (lo,) = r.leftovers
    assert lo.describe() == "SPXW 2026-12-18 5400 put x+1 + SPXW 2026-12-18 5450 put x-1"
    assert r.notes == (
        "SPXW 2026-12-18: SPXW 2026-12-18 5400/5450 put vertical x3 is larger than the other "
        "side it pairs with: 2 of its 3 contracts make a condor, the other 1 stays apart",
    )


def test_wings_nest_instead_of_crossing():
    # a lone short put above the condor's put vertical keeps its hands off the condor's wing;
    # a wider vertical around it (5300/5600) is found as such
    legs = condor(5400, 5450, 6300, 6350, 2) + [leg("put", 5600, -1, 12.0)]
    r = group(legs)
    assert [shape(c)[2:] for c in r.positions] == [((5400, 5450, 6300, 6350), 2)]
    assert [lo.describe() for lo in r.leftovers] == ["SPXW 2026-12-18 5600 put x-1"]
    legs += [leg("put", 5300, 1, 2.0), leg("call", 6500, -1, 1.0), leg("call", 6600, 1, 0.5)]
    r = group(legs)
    assert sorted(shape(c)[2:] for c in r.positions) == [
        ((5300, 5600, 6500, 6600), 1),
        ((5400, 5450, 6300, 6350), 2),
    ]
    assert r.leftovers == ()


def test_accounts_do_not_mix():
    legs = condor(5400, 5450, 6300, 6350, 1, account="A")[:2]
    legs += condor(5400, 5450, 6300, 6350, 1, account="B")[2:]
    r = group(legs)
    assert r.positions == () and len(r.leftovers) == 2


def test_debit_or_too_wide_credit_is_listed():
    # 6 + 5 - 9 - 3 = -1: a debit
    r = group(condor(5400, 5450, 6300, 6350, 1, prices=(9.0, 6.0, 5.0, 3.0)))
    assert r.positions == ()
    assert r.leftovers[0].reason == (
        "iron condor SPXW 2026-12-18 5400/5450/6300/6350 x1: its cost basis nets to a debit of "
        "1 per unit, not a credit; check the export's prices"
    )
    # 60 + 5 - 1 - 3 = 61 > 50-point wings
    r = group(condor(5400, 5450, 6300, 6350, 1, prices=(1.0, 60.0, 5.0, 3.0)))
    assert "a credit of 61 per unit exceeds the widest wing (50 points)" in r.leftovers[0].reason


def test_ids_are_stable_and_name_the_account():
    r = group(condor(5412.5, 5450, 6300, 6350, 1, account="U1"))
    assert r.positions[0].id == "U1-SPXW-20261218-5412.5-5450-6300-6350"
    r = group(condor(5400, 5450, 6300, 6350, 1, account=""))
    assert r.positions[0].id == "SPXW-20261218-5400-5450-6300-6350"


# --------------------------------------------------------------------------- hedges


def rec(pid, layer, qty, long=21, short=30, condor=None):
    return RecommendedSpread(pid, "book.toml", layer, JAN, long, short, qty, "2026-11-20", condor)


def vix(long_qty=6, short_qty=-6, account="A"):
    return [
        leg("call", 21, long_qty, 2.35, root="VIX", expiry=JAN, account=account),
        leg("call", 30, short_qty, 1.00, root="VIX", expiry=JAN, account=account),
    ]


CID = "A-SPXW-20261218-5400-5450-6300-6350"


def test_hedge_matches_by_id_or_by_the_files_condor():
    base = condor(5400, 5450, 6300, 6350, 2)
    r = group(base + vix(), [rec(CID, 1, 6)])
    (c,) = r.positions
    assert [(h.layer, [g.quantity for g in h.legs]) for h in c.hedges] == [(1, [6, -6])]
    sig = ("SPXW", DEC, 5400.0, 5450.0, 6300.0, 6350.0)
    r = group(base + vix(), [rec("dec-ic", 2, 6, condor=sig)])
    assert [h.layer for h in r.positions[0].hedges] == [2]


def test_hedge_matching_two_positions_is_listed():
    legs = condor(5400, 5450, 6300, 6350, 2) + condor(5500, 5550, 6200, 6250, 1) + vix()
    other = "A-SPXW-20261218-5500-5550-6200-6250"
    r = group(legs, [rec(CID, 1, 6), rec(other, 1, 6)])
    assert r.hedges == ()
    assert r.leftovers[-1].reason.startswith("x6 matches more than one recommendation")


def test_vix_legs_that_are_not_a_call_spread():
    legs = condor(5400, 5450, 6300, 6350, 2) + [
        leg("put", 18, 2, 1.0, root="VIX", expiry=JAN),
        leg("call", 30, -3, 1.0, root="VIX", expiry=JAN),
    ]
    r = group(legs, [rec(CID, 1, 6)], no_match="-")
    assert sorted(lo.reason for lo in r.leftovers) == [
        "a VIX put: alvh's hedge layers are VIX call spreads",
        "short VIX call with no long VIX call below it (not a call spread)",
    ]


# --------------------------------------------------------------------------- invariants

STRIKES = st.sampled_from([float(k) for k in range(5000, 6600, 50)])


@st.composite
def random_legs(draw):
    contracts = draw(
        st.dictionaries(
            st.tuples(st.sampled_from(["SPX", "SPXW"]), st.sampled_from(["put", "call"]), STRIKES),
            st.integers(-4, 4).filter(bool),
            max_size=12,
        )
    )
    prices = st.floats(0.05, 40, allow_nan=False)
    return [leg(t, k, q, draw(prices), root=root) for (root, t, k), q in contracts.items()]


@settings(max_examples=300, deadline=None)
@given(random_legs())
def test_grouping_never_creates_or_loses_a_contract(legs):
    r = group(legs)
    assert written(r) == held(legs)
    for c in r.positions:
        lp, sp, sc, lc = c.legs
        assert lp.strike < sp.strike < sc.strike < lc.strike
        assert (lp.quantity, sp.quantity, sc.quantity, lc.quantity) == (
            c.size,
            -c.size,
            -c.size,
            c.size,
        )
        assert c.size > 0 and 0 < c.credit <= c.width + 1e-9
        assert {g.root for g in c.legs} == {c.root}


@st.composite
def side_by_side(draw):
    """Condors whose put verticals, and whose call verticals, do not overlap; distinct sizes."""
    n = draw(st.integers(1, 4))
    puts = sorted(
        draw(
            st.lists(
                st.sampled_from(range(4000, 5800, 5)), min_size=2 * n, max_size=2 * n, unique=True
            )
        )
    )
    calls = sorted(
        draw(
            st.lists(
                st.sampled_from(range(5805, 7000, 5)), min_size=2 * n, max_size=2 * n, unique=True
            )
        )
    )
    sizes = draw(st.permutations(range(1, n + 1)))
    order = draw(st.permutations(range(n)))  # which call vertical goes with which put vertical
    out = []
    for i in range(n):
        j = order[i]
        out.append((puts[2 * i], puts[2 * i + 1], calls[2 * j], calls[2 * j + 1], sizes[i]))
    return out


@settings(max_examples=200, deadline=None)
@given(side_by_side())
def test_condors_side_by_side_come_back_as_they_were(condors):
    legs = [g for lp, sp, sc, lc, n in condors for g in condor(lp, sp, sc, lc, n)]
    r = group(legs)
    assert r.leftovers == ()
    assert sorted((c.strikes, c.size) for c in r.positions) == sorted(
        ((float(lp), float(sp), float(sc), float(lc)), n) for lp, sp, sc, lc, n in condors
    )


# --------------------------------------------------------------------------- TOML


@given(st.text())
def test_toml_strings_read_back(s):
    assert tomllib.loads(f"k = {toml_string(s)}")["k"] == s


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_toml_floats_read_back(x):
    assert tomllib.loads(f"k = {toml_value(x)}")["k"] == x


def test_toml_tables_read_back():
    table = {
        "asof": datetime(2026, 11, 24, 15, 45, tzinfo=timezone(timedelta(hours=-5))),
        "spx": 5850.25,
        "n": 3,
        "on": True,
        "day": date(2026, 11, 24),
        "vix_futures": [{"expiry": DEC, "price": 19.1}, {"expiry": JAN, "price": 19.8}],
        "spx_vol": {"atm": 0.165, "skew": -1.1},
        "quotes": [{"type": "put", "strike": 5400, "note": 'a "b"\n'}],
        "odd key": [1, 2],
    }
    assert tomllib.loads("\n".join(toml_table("market", table)))["market"] == table


@pytest.mark.parametrize("bad", [object(), {1, 2}])
def test_toml_refuses_what_it_cannot_write(bad):
    with pytest.raises(TypeError):
        toml_value(bad)


def test_hedge_stays_in_its_account():
    # the journal's id names account B's condor; account A holds the same strikes
    sig = ("SPXW", DEC, 5400.0, 5450.0, 6300.0, 6350.0)
    legs = condor(5400, 5450, 6300, 6350, 2, account="A") + vix(account="A")
    r = group(legs, [rec("B-SPXW-20261218-5400-5450-6300-6350", 1, 6, condor=sig)])
    assert r.hedges == ()
    legs += condor(5400, 5450, 6300, 6350, 2, account="B")
    r = group(legs, [rec("B-SPXW-20261218-5400-5450-6300-6350", 1, 6, condor=sig)])
    assert r.hedges == ()
    assert r.leftovers[-1].reason == (
        "alvh recommended this spread for B-SPXW-20261218-5400-5450-6300-6350, a condor in "
        "another account than this spread's (A)"
    )
