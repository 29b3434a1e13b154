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


def test_broken_condor_keeps_its_vertical_and_lists_the_lone_leg():
    # the long call is gone: the short call has no wing (listed, never guessed); the put
    # vertical is a position of its own, credit 6 - 4 = 2 on its 50-point width
    legs = condor(5400, 5450, 6300, 6350, 2)[:3]
    r = group(legs)
    (p,) = r.positions
    assert (p.kind, p.id, p.strikes, p.size, p.credit) == (
        "put vertical", "A-SPXW-20261218-5400-5450", (5400.0, 5450.0), 2, 2.0)  # fmt: skip
    assert p.roles == ("long put", "short put")
    assert [(lo.describe(), lo.reason) for lo in r.leftovers] == [
        (
            "SPXW 2026-12-18 6300 call x-2",
            "short call with no long call above it (a condor's call wing)",
        ),
    ]
    assert r.notes == (
        "SPXW 2026-12-18 5400/5450 put vertical x2: a position of its own (a put vertical: no "
        "call vertical of its size in the account to make a condor with); edit the file if it "
        "belongs to another position",
    )


def test_mixed_spx_and_spxw_roots_never_make_one_condor():
    # SPX (AM) puts and SPXW (PM) calls of the same day are different contracts: two
    # verticals, each a position, and the notes say why they are not one condor
    legs = condor(5400, 5450, 6300, 6350, 1)
    legs = [g if g.type == "call" else replace(g, root="SPX") for g in legs]
    r = group(legs)
    assert sorted((p.kind, p.root) for p in r.positions) == [
        ("call vertical", "SPXW"), ("put vertical", "SPX")]  # fmt: skip
    assert r.leftovers == () and len(r.notes) == 2
    for note in r.notes:
        assert "legs of the same expiry are in the export, but SPX (AM) and SPXW (PM) are " in note


def test_sides_on_different_expiries_are_one_position():
    # a condor whose put side was rolled out: puts 4825/4925 Dec 31, calls 6450/6500 Dec 18,
    # 5 each; credit 9 + 2 - 6 - 1 = 4 on the widest wing, 100 points
    dec31 = date(2026, 12, 31)
    legs = [
        leg("put", 4825, 5, 6.0, expiry=dec31), leg("put", 4925, -5, 9.0, expiry=dec31),
        leg("call", 6450, -5, 2.0), leg("call", 6500, 5, 1.0),
    ]  # fmt: skip
    r = group(legs)
    (p,) = r.positions
    assert p.kind == "iron condor" and not p.one_series and p.signature is None
    assert p.id == "A-SPXW-20261231-4825-4925-SPXW-20261218-6450-6500"
    assert (p.credit, p.width, p.size) == (4.0, 100.0, 5)
    assert p.describe() == (
        "SPXW 2026-12-31 4825/4925 put vertical + SPXW 2026-12-18 6450/6500 call vertical x5"
    )
    assert r.notes == (
        "SPXW 2026-12-31 4825/4925 put vertical x5 and SPXW 2026-12-18 6450/6500 call vertical "
        "x5, on different expiries, make one position (a condor whose sides expire apart, as a "
        "roll leaves it): the export does not say they were one trade; edit the file if they "
        "were not",
    )


def test_sides_apart_pair_by_open_date_then_the_nearest_expiry():
    # two put verticals (Dec 31, Jan 15) and two call verticals (Dec 18, Jan 8), all x1
    dec31, jan8, jan15 = date(2026, 12, 31), date(2027, 1, 8), date(2027, 1, 15)
    puts = [leg("put", 4800, 1, 3.0, expiry=e) for e in (dec31, jan15)]
    puts += [leg("put", 4900, -1, 5.0, expiry=e) for e in (dec31, jan15)]
    calls = [leg("call", 6400, -1, 4.0, expiry=e) for e in (DEC, jan8)]
    calls += [leg("call", 6500, 1, 1.0, expiry=e) for e in (DEC, jan8)]
    r = group(puts + calls)
    # the nearest expiries first: Jan 15 puts with Jan 8 calls (7 days apart; Dec 31 with
    # Jan 8 is 8), then Dec 31 with Dec 18
    assert sorted((p.sides[0][0].expiry, p.sides[1][0].expiry) for p in r.positions) == [
        (dec31, DEC), (jan15, jan8)]  # fmt: skip
    # open dates first: the Jan 15 puts were sold with the Dec 18 calls
    day = date(2026, 11, 20)
    opened = [replace(g, opened=day) if g.expiry in (jan15, DEC) else g for g in puts + calls]
    r = group(opened)
    assert sorted((p.sides[0][0].expiry, p.sides[1][0].expiry) for p in r.positions) == [
        (dec31, jan8), (jan15, DEC)]  # fmt: skip


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


def test_larger_side_splits_and_the_rest_is_a_vertical():
    # puts 5400/5450 x3, calls 6300/6350 x2 → a condor x2 and the put vertical's third
    # contract, a vertical of its own
    legs = [
        leg("put", 5400, 3, 4.0), leg("put", 5450, -3, 6.0),
        leg("call", 6300, -2, 5.0), leg("call", 6350, 2, 3.0),
    ]  # fmt: skip
    r = group(legs)
    assert sorted(shape(c) for c in r.positions) == [
        ("SPXW", DEC, (5400, 5450), 1), ("SPXW", DEC, (5400, 5450, 6300, 6350), 2)]  # fmt: skip
    assert r.leftovers == ()
    assert r.notes[0] == (
        "SPXW 2026-12-18: SPXW 2026-12-18 5400/5450 put vertical x3 is larger than the other "
        "side it pairs with: 2 of its 3 contracts make a condor, the other 1 stays apart"
    )
    assert r.notes[1].startswith("SPXW 2026-12-18 5400/5450 put vertical x1: a position of its")


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
    assert sorted((p.account, p.kind) for p in r.positions) == [
        ("A", "put vertical"), ("B", "call vertical")]  # fmt: skip


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


def test_a_vertical_alone_at_a_debit_is_listed_not_a_position():
    # long 5400 put at 7, short 5450 at 6: 6 - 7 = a debit of 1
    r = group([leg("put", 5400, 1, 7.0), leg("put", 5450, -1, 6.0)])
    assert r.positions == () and r.notes == ()
    assert r.leftovers[0].reason == (
        "SPXW 2026-12-18 5400/5450 put vertical x1: its cost basis nets to a debit of 1 per "
        "unit, not a credit; check the export's prices"
    )


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
            st.tuples(
                st.sampled_from(["SPX", "SPXW"]),
                st.sampled_from(["put", "call"]),
                STRIKES,
                st.sampled_from([DEC, date(2027, 1, 15)]),  # two monthlies: SPX lists both
            ),
            st.integers(-4, 4).filter(bool),
            max_size=12,
        )
    )
    prices = st.floats(0.05, 40, allow_nan=False)
    return [
        leg(t, k, q, draw(prices), root=root, expiry=e) for (root, t, k, e), q in contracts.items()
    ]


@settings(max_examples=300, deadline=None)
@given(random_legs())
def test_grouping_never_creates_or_loses_a_contract(legs):
    """Every position is a condor (long put < short put < short call < long call, ± size,
    each side on one root and expiry) or a credit vertical, with a credit within its
    widest wing."""
    r = group(legs)
    assert written(r) == held(legs)
    for c in r.positions:
        roles = {4: ("long put", "short put", "short call", "long call"),
                 2: (("long put", "short put"), ("short call", "long call"))}  # fmt: skip
        if len(c.legs) == 4:
            assert c.roles == roles[4]
            assert [g.strike for g in c.legs] == sorted(g.strike for g in c.legs)
            assert len(set(c.strikes)) == 4
        else:
            assert c.roles in roles[2] and c.legs[0].strike < c.legs[1].strike
        assert {abs(g.quantity) for g in c.legs} == {c.size} and c.size > 0
        for a, b in c.sides:
            assert (a.root, a.expiry) == (b.root, b.expiry)
        assert 0 < c.credit <= c.width + 1e-9


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
