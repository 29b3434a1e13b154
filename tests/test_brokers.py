"""``alvh import``: each broker fixture → a position file that loads, checks and holds the legs
the fixture says; hedge layers from the journal; bad input in one line with exit status 2.

The expected legs below are read off the fixtures by hand (tests/fixtures/brokers/, small
invented exports), with the arithmetic in the comments — not taken from the importer.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from alvh_cli import journal
from alvh_cli.inputs import positions
from alvh_cli.inputs.brokers.common import ImportedLeg, osi_option, parse_date, tos_option
from alvh_cli.inputs.brokers.detect import detect
from alvh_cli.inputs.brokers.importer import import_exports

FIXTURES = Path(__file__).parent / "fixtures" / "brokers"
MARKET = FIXTURES / "market.toml"
DEC = date(2026, 12, 18)

# (type, strike, quantity, entry price per point) for the Dec 18 SPXW 5400/5450/6300/6350 x2
# condor the fixtures share; credit 6.10 + 5.20 - 4.95 - 3.50 = 2.85.
DEC_CONDOR = [("put", 5400, 2, 4.95), ("put", 5450, -2, 6.10), ("call", 6300, -2, 5.20),
              ("call", 6350, 2, 3.50)]  # fmt: skip
# The same condor from IBKR, priced from costBasisMoney / (|position| x 100), commissions in:
# 990.68/200 = 4.9534, 1219.32/200 = 6.0966, 1039.32/200 = 5.1966, 700.68/200 = 3.5034;
# credit 6.0966 + 5.1966 - 4.9534 - 3.5034 = 2.8364.
IB_CONDOR = [("put", 5400, 2, 4.9534), ("put", 5450, -2, 6.0966), ("call", 6300, -2, 5.1966),
             ("call", 6350, 2, 3.5034)]  # fmt: skip

# fixture → the positions written: (id, root, expiry, legs, credit, opened)
EXPECTED = {
    "tastytrade_positions.csv": [
        ("5WT00001-SPXW-20261218-5400-5450-6300-6350", "SPXW", DEC, DEC_CONDOR, 2.85, None),
    ],
    # FIFO replay: 5450 put sold 3 @ 610.00/100 on 11-03, one bought back 11-12 → -2 @ 6.10;
    # the Nov 20 condor expired (Receive Deliver rows); opened = the lots' date, 2026-11-03.
    "tastytrade_transactions.csv": [
        ("SPXW-20261218-5400-5450-6300-6350", "SPXW", DEC, DEC_CONDOR, 2.85, date(2026, 11, 3)),
    ],
    # "(Weeklys)" → SPXW; no tag on Jan 15 2027, the third Friday → SPX (AM):
    # credit 11.40 + 8.30 - 9.80 - 6.70 = 3.20.
    "thinkorswim_position_statement.csv": [
        ("86612345-SPXW-20261218-5400-5450-6300-6350", "SPXW", DEC, DEC_CONDOR, 2.85, None),
        (
            "86612345-SPX-20270115-5200-5250-6400-6450",
            "SPX",
            date(2027, 1, 15),
            [
                ("put", 5200, 1, 9.80),
                ("put", 5250, -1, 11.40),
                ("call", 6400, -1, 8.30),
                ("call", 6450, 1, 6.70),
            ],
            3.20,
            None,
        ),
    ],
    "thinkorswim_account_statement.csv": [
        ("86612345-SPXW-20261218-5400-5450-6300-6350", "SPXW", DEC, DEC_CONDOR, 2.85, None),
    ],
    # lots of the 5450 put opened 11-03 and 11-04: the earliest
    "ibkr_flex.xml": [
        (
            "U1234567-SPXW-20261218-5400-5450-6300-6350",
            "SPXW",
            DEC,
            IB_CONDOR,
            2.8364,
            date(2026, 11, 3),
        ),  # fmt: skip
    ],
    # two condors of one expiry, sizes 2 and 3: 1740/300 = 5.80, 2190/300 = 7.30,
    # 2370/300 = 7.90, 1680/300 = 5.60; credit 7.30 + 7.90 - 5.80 - 5.60 = 3.80.
    "ibkr_flex.csv": [
        ("U1234567-SPXW-20261218-5400-5450-6300-6350", "SPXW", DEC, IB_CONDOR, 2.8364, None),
        (
            "U1234567-SPXW-20261218-5500-5550-6200-6250",
            "SPXW",
            DEC,
            [
                ("put", 5500, 3, 5.80),
                ("put", 5550, -3, 7.30),
                ("call", 6200, -3, 7.90),
                ("call", 6250, 3, 5.60),
            ],
            3.80,
            None,
        ),
    ],
    "ibkr_activity.csv": [
        (
            "U7654321-SPXW-20261218-5400-5450-6300-6350",
            "SPXW",
            DEC,
            IB_CONDOR,
            2.8364,
            date(2026, 11, 3),
        ),  # fmt: skip
    ],
    # two condors of one expiry and size, told apart by their open dates
    "generic_osi.csv": [
        ("IRA-SPXW-20261218-5400-5450-6300-6350", "SPXW", DEC, DEC_CONDOR, 2.85, date(2026, 11, 3)),
        (
            "IRA-SPXW-20261218-5500-5550-6200-6250",
            "SPXW",
            DEC,
            [
                ("put", 5500, 2, 5.80),
                ("put", 5550, -2, 7.30),
                ("call", 6200, -2, 7.90),
                ("call", 6250, 2, 5.60),
            ],
            3.80,
            date(2026, 11, 10),
        ),
    ],
}

# What each fixture holds that is not written, as (leg description, reason start).
VIX_SPREAD = ["VIX 2027-01-20 21 call x+6", "VIX 2027-01-20 30 call x-6"]
LEFT = {
    "tastytrade_positions.csv": VIX_SPREAD,
    "tastytrade_transactions.csv": VIX_SPREAD,
    "thinkorswim_position_statement.csv": VIX_SPREAD,
    "thinkorswim_account_statement.csv": ["SPXW 2026-12-18 5600 put x-1"],
    "ibkr_flex.xml": VIX_SPREAD,
    "ibkr_flex.csv": [],
    "ibkr_activity.csv": VIX_SPREAD,
    "generic_osi.csv": [],
}


def _import(alvh, tmp_path, *args, name="book.toml"):
    out = tmp_path / name
    no_data = {"XDG_DATA_HOME": str(tmp_path / "no-data")}  # no default journal
    code, stdout, stderr = alvh(["import", *args, "-o", out], env=no_data)
    return code, stdout, stderr, out


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_fixture_imports_to_the_legs_it_holds(fixture, tmp_path, alvh):
    code, stdout, stderr, out = _import(alvh, tmp_path, FIXTURES / fixture)
    assert stderr == ""
    assert code == (1 if LEFT[fixture] else 0), stdout
    loaded = positions.load_file(out)
    assert loaded.market is None
    got = {p.id: p for p in loaded.positions}
    assert sorted(got) == sorted(e[0] for e in EXPECTED[fixture])
    for pid, root, expiry, legs, credit, opened in EXPECTED[fixture]:
        p = got[pid]
        assert p.credit == pytest.approx(credit, abs=1e-9)
        assert p.opened == opened
        assert not p.hedges
        seen = sorted((g.type, g.strike, g.quantity, g.entry_price) for g in p.legs)
        assert seen == sorted((t, float(k), q, e) for t, k, q, e in legs)  # as written: exact
        assert {(g.root, g.expiry, g.underlying) for g in p.legs} == {(root, expiry, "SPX")}
    for leg in LEFT[fixture]:
        assert leg in stdout
    text = out.read_text()
    assert "--market today.toml" in text  # the file says it needs a snapshot


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_imported_file_checks_with_a_market_snapshot(fixture, tmp_path, alvh):
    _import(alvh, tmp_path, FIXTURES / fixture)
    code, stdout, stderr = alvh(
        ["check", tmp_path / "book.toml", "--market", MARKET, "--format", "json"]
    )
    assert code in (0, 1), stderr
    rows = {r["id"]: r for r in json.loads(stdout)["positions"]}
    for pid, *_, credit, _opened in EXPECTED[fixture]:
        assert rows[pid]["credit"] == pytest.approx(credit, abs=1e-9)


def test_market_copied_in_checks_as_is(tmp_path, alvh):
    fixture = FIXTURES / "ibkr_flex.xml"
    code, _, _, out = _import(alvh, tmp_path, fixture, "--market", MARKET)
    assert code == 1  # the VIX spread is left over
    # the snapshot in the book is the --market file's, field for field
    assert positions.load_file(out).market == replace(
        positions.load_market_file(MARKET), source=str(out)
    )
    a = alvh(["check", out, "--format", "json"])
    b = alvh(["check", out, "--market", MARKET, "--format", "json"])
    assert a[0] in (0, 1) and a[1] == b[1]


def test_transactions_add_open_dates_to_positions(tmp_path, alvh):
    code, stdout, _, out = _import(
        alvh,
        tmp_path,
        FIXTURES / "tastytrade_positions.csv",
        FIXTURES / "tastytrade_transactions.csv",
    )
    assert code == 1, stdout
    (p,) = positions.load_file(out).positions
    assert p.id == "5WT00001-SPXW-20261218-5400-5450-6300-6350"
    assert p.opened == date(2026, 11, 3)  # from the transactions; prices from the positions
    assert sorted(g.entry_price for g in p.legs) == [3.50, 4.95, 5.20, 6.10]


def test_transactions_alone_refuse_a_history_that_starts_too_late(tmp_path, alvh):
    _, stdout, _, _ = _import(alvh, tmp_path, FIXTURES / "tastytrade_transactions.csv")
    # the 6400 call is bought to close on 11-10 but never opened in the file
    assert (
        "SPXW 2026-12-18 6400 call (" + str(FIXTURES / "tastytrade_transactions.csv") + "): "
        "closing fill at " + str(FIXTURES / "tastytrade_transactions.csv") + ":10 closes 1 more "
        "than this file opened: export the history back to the opening of every position held"
    ) in stdout


def test_summary_lists_leftovers_and_skipped_lines(tmp_path, alvh):
    f = FIXTURES / "thinkorswim_account_statement.csv"
    code, stdout, _, out = _import(alvh, tmp_path, f)
    assert code == 1
    assert (
        f"  SPXW 2026-12-18 5600 put x-1 ({f}:19): short put with no long put below it "
        "(a condor's put wing)"
    ) in stdout.splitlines()
    assert f"positions: 1 → {out}" in stdout
    assert (
        "#   SPXW 2026-12-18 5600 put x-1: short put with no long put below it" in out.read_text()
    )
    g = FIXTURES / "tastytrade_positions.csv"
    _, stdout, _, _ = _import(alvh, tmp_path, g, name="b2.toml")
    assert (
        f"  AAPL ({g}:8): not an option alvh reads (a stock, future, futures option or cash line)"
    ) in stdout.splitlines()
    assert (
        f"  SPY 2026-12-18 580 put ({g}:9): not an SPX/SPXW or VIX/VIXW option "
        "(alvh imports SPX condors and VIX hedges)"
    ) in stdout.splitlines()


def test_generic_without_dates_pairs_by_strike_order_and_says_so(tmp_path, alvh):
    src = (FIXTURES / "generic_osi.csv").read_text().replace(",opened", "")
    src = "\n".join(
        line.rsplit(",", 1)[0] if i else line for i, line in enumerate(src.splitlines())
    )
    f = tmp_path / "nodates.csv"
    f.write_text(src + "\n")
    code, stdout, _, out = _import(alvh, tmp_path, f)
    assert code == 0
    # lowest short put (5450) with the lowest short call above it (6200)
    ids = sorted(p.id for p in positions.load_file(out).positions)
    assert ids == ["IRA-SPXW-20261218-5400-5450-6200-6250", "IRA-SPXW-20261218-5500-5550-6300-6350"]
    assert "were paired by strike order" in stdout


# --------------------------------------------------------------------------- hedges


def _journal(
    path: Path, recs, position_id, source="book/old.toml", asof="2026-11-20T15:45:00-05:00"
):
    conn = journal.open_journal(path)
    journal.record_review(
        conn,
        asof=asof,
        decisions=[
            journal.Decision(
                source=source,
                source_key=source,
                position_id=position_id,
                layer=1,
                mark_multiple=1.6,
                tested_side="put",
                actions=tuple(r["action"] for r in recs),
                recommendations=tuple(journal.recommendation_from_dict(r) for r in recs),
            )
        ],
    )
    conn.close()


def _rec(layer, quantity, long=21, short=30, expiry="2027-01-20"):
    return {
        "action": "open_hedge",
        "layer": layer,
        "instrument": "vix_call_spread",
        "expiry": expiry,
        "long_strike": long,
        "short_strike": short,
        "quantity": quantity,
        "debit": 1.35,
    }


TASTY_ID = "5WT00001-SPXW-20261218-5400-5450-6300-6350"


def test_vix_spread_recommended_for_the_position_becomes_its_layer(tmp_path, alvh):
    j = tmp_path / "journal.sqlite"
    _journal(j, [_rec(1, 6)], TASTY_ID)
    code, stdout, _, out = _import(
        alvh, tmp_path, FIXTURES / "tastytrade_positions.csv", "--journal", j
    )
    assert code == 0, stdout
    (p,) = positions.load_file(out).positions
    hedges = sorted((g.strike, g.quantity, g.entry_price, g.layer, g.root) for g in p.hedges)
    # Trade Price 2.35 and 1.00 per point; 6 spreads, layer 1 as recommended
    assert hedges == [(21.0, 6, 2.35, 1, "VIX"), (30.0, -6, 1.00, 1, "VIX")]
    assert p.deployed_layers == (1,)
    assert "hedges matched: 1" in stdout
    code, _, stderr = alvh(["check", out, "--market", MARKET])
    assert code in (0, 1), stderr


def test_recommendation_found_through_the_journals_position_file(tmp_path, alvh):
    # The journal knows the position as 'dec-ic' in a hand-written file with the same condor.
    book = tmp_path / "old.toml"
    legs = "".join(
        f"""
  [[positions.legs]]
  type = "{t}"
  strike = {k}
  expiry = 2026-12-18
  quantity = {q}
  entry_price = {e}
"""
        for t, k, q, e in DEC_CONDOR
    )
    book.write_text(f'[[positions]]\nid = "dec-ic"\n{legs}')
    j = tmp_path / "journal.sqlite"
    _journal(j, [_rec(2, 6)], "dec-ic", source=str(book))
    before = book.read_bytes()
    code, stdout, _, out = _import(
        alvh,
        tmp_path,
        FIXTURES / "thinkorswim_position_statement.csv",
        "--journal",
        j,
    )
    assert code == 0, stdout
    p = {p.id: p for p in positions.load_file(out).positions}[
        "86612345-SPXW-20261218-5400-5450-6300-6350"
    ]
    assert sorted((g.strike, g.quantity, g.layer) for g in p.hedges) == [(21, 6, 2), (30, -6, 2)]
    assert book.read_bytes() == before  # read, never written


def test_two_layers_recommended_add_up_to_the_spread_held(tmp_path, alvh):
    j = tmp_path / "journal.sqlite"
    _journal(j, [_rec(1, 4)], TASTY_ID, asof="2026-11-18T15:45:00-05:00")
    _journal(j, [_rec(2, 2)], TASTY_ID, asof="2026-11-20T15:45:00-05:00")
    code, stdout, _, out = _import(
        alvh, tmp_path, FIXTURES / "tastytrade_positions.csv", "--journal", j
    )
    assert code == 0, stdout
    (p,) = positions.load_file(out).positions
    assert sorted((g.layer, g.strike, g.quantity) for g in p.hedges) == [
        (1, 21, 4), (1, 30, -4), (2, 21, 2), (2, 30, -2)]  # fmt: skip


def test_spread_of_another_size_is_listed_not_guessed(tmp_path, alvh):
    j = tmp_path / "journal.sqlite"
    _journal(j, [_rec(1, 9)], TASTY_ID)
    code, stdout, _, out = _import(
        alvh, tmp_path, FIXTURES / "tastytrade_positions.csv", "--journal", j
    )
    assert code == 1
    assert not positions.load_file(out).positions[0].hedges
    assert (
        f"alvh recommended this spread as layer 1 x9 for {TASTY_ID}, not x6; "
        "add it by hand if it is one of those layers"
    ) in stdout


def test_spread_recommended_for_a_position_not_imported(tmp_path, alvh):
    j = tmp_path / "journal.sqlite"
    _journal(j, [_rec(1, 6)], "closed-nov", source="book/nov.toml")
    _, stdout, _, _ = _import(alvh, tmp_path, FIXTURES / "tastytrade_positions.csv", "--journal", j)
    assert (
        "alvh recommended this spread for position 'closed-nov' (book/nov.toml), "
        "not among the condors imported"
    ) in stdout


def test_spread_no_one_recommended(tmp_path, alvh):
    j = tmp_path / "journal.sqlite"
    _journal(j, [_rec(1, 6, long=20, short=28)], TASTY_ID)
    _, stdout, _, _ = _import(alvh, tmp_path, FIXTURES / "tastytrade_positions.csv", "--journal", j)
    assert f"alvh never recommended this spread (journal {j})" in stdout


# --------------------------------------------------------------------------- files and errors


def test_refuses_to_overwrite_without_force(tmp_path, alvh):
    out = tmp_path / "book.toml"
    out.write_text("# mine\n")
    code, stdout, stderr, _ = _import(alvh, tmp_path, FIXTURES / "ibkr_flex.csv")
    assert (code, stdout, stderr) == (
        2,
        "",
        f"alvh: {out}: already exists; use --force to replace it\n",
    )
    assert out.read_text() == "# mine\n"
    code, _, _, _ = _import(alvh, tmp_path, FIXTURES / "ibkr_flex.csv", "--force")
    assert code == 0 and "[[positions]]" in out.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".book")] == []


def test_never_writes_to_an_input(tmp_path, monkeypatch, alvh):
    src = tmp_path / "export.csv"
    shutil.copy(FIXTURES / "ibkr_flex.csv", src)
    before = src.read_bytes()
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    code, _, stderr = alvh(["import", src, "-o", src, "--force"])
    assert code == 2
    assert stderr == f"alvh: {src}: is also an input ({src}); alvh never writes to an input\n"
    assert src.read_bytes() == before


def test_output_folder_must_exist(tmp_path, monkeypatch, alvh):
    out = tmp_path / "nope" / "book.toml"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    code, _, stderr = alvh(["import", FIXTURES / "ibkr_flex.csv", "-o", out])
    assert (code, stderr) == (2, f"alvh: {out}: no such directory: {out.parent}\n")


def test_no_condor_writes_nothing(tmp_path, alvh):
    f = tmp_path / "lone.csv"
    f.write_text("symbol,quantity,entry_price\nSPXW  261218P05600000,-1,12.40\n")
    code, stdout, stderr, out = _import(alvh, tmp_path, f)
    assert code == 2
    assert stderr == (
        f"alvh: {out}: nothing written: no SPX position (an iron condor or a credit vertical) "
        "alvh can write (see the list above)\n"
    )
    assert "short put with no long put below it" in stdout
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "foo,bar\n1,2\n",
            "{f}:1: not an export alvh recognises: expected tastytrade (positions "
            "or transactions CSV), thinkorswim (Position or Account Statement), Interactive "
            "Brokers (Flex query XML/CSV or Activity Statement) or a CSV with symbol, quantity and "
            "entry_price columns; --broker says which",
        ),
        ("", "{f}: empty file"),
        (
            "symbol,quantity,entry_price\nSPX DEC 5400P,1,2\n",
            "{f}:2: symbol: not an OSI option "
            "symbol (ROOT YYMMDD C|P 8-digit strike×1000), got 'SPX DEC 5400P'",
        ),
        (
            "symbol,qty,price\nSPXW  261218P05400000,2.5,4.95\n",
            "{f}:2: qty: must be a whole number of contracts, got '2.5'",
        ),
        (
            "symbol,quantity,price\nSPXW  261218P05400000,2,abc\n",
            "{f}:2: price: not a number, got 'abc'",
        ),
        ("symbol,quantity,price\nSPXW  261218P05400000,2,\n", "{f}:2: price: required, but empty"),
        (
            "symbol,quantity,price\nSPXW  261318P05400000,2,1\n",
            "{f}:2: symbol: expiry 261318 is not a valid YYMMDD date, got 'SPXW  261318P05400000'",
        ),
        (
            "symbol,quantity,price\nSPXW  261218P05400000,2,1\nSPXW  261218P05400000,-1,1\n",
            "{f}: SPXW 2026-12-18 5400 put: long and short rows for the same contract ({f}:2, "
            "{f}:3); an export lists one net position per contract",
        ),
        (
            "<FlexQueryResponse><OpenPositions><OpenPosition></FlexQueryResponse>",
            "{f}:1: XML syntax error: mismatched tag",
        ),
        (
            "Account,Symbol,Quantity,Trade Price,Exp Date\n"
            "X,SPXW  261218P05400000,2,abc,12/18/26\n",
            "{f}:2: Trade Price: not a number, got 'abc'",
        ),
        ("\x00\x01", "{f}:1: not a text file (binary data): expected a CSV or XML export"),
    ],
    ids=[
        "unknown",
        "empty",
        "not-osi",
        "fraction",
        "price",
        "no-price",
        "bad-date",
        "long-short",
        "xml",
        "tasty-price",
        "binary",
    ],  # fmt: skip
)
def test_bad_export_is_one_line(content, message, tmp_path, alvh):
    f = tmp_path / "export.csv"
    f.write_text(content)
    code, stdout, stderr, out = _import(alvh, tmp_path, f)
    assert (code, stdout, stderr) == (2, "", "alvh: " + message.format(f=f) + "\n")
    assert not out.exists()


def test_forced_broker_that_does_not_fit(tmp_path, alvh):
    f = FIXTURES / "thinkorswim_position_statement.csv"
    code, _, stderr, _ = _import(alvh, tmp_path, f, "--broker", "tastytrade")
    assert code == 2
    assert stderr == (
        f"alvh: {f}:1: not a tastytrade export: expected the positions CSV (Symbol, Quantity, "
        "Trade Price) or the transactions CSV (Date, Action, Symbol, Quantity, Average Price)\n"
    )


def test_missing_export_and_missing_journal(tmp_path, alvh):
    code, _, stderr, _ = _import(alvh, tmp_path, tmp_path / "nope.csv")
    assert (code, stderr) == (2, f"alvh: {tmp_path / 'nope.csv'}: no such file\n")
    j = tmp_path / "nope.sqlite"
    f = FIXTURES / "ibkr_flex.xml"
    code, _, stderr, _ = _import(alvh, tmp_path, f, "--journal", j)
    assert (code, stderr) == (2, f"alvh: {j}: no such journal file\n")


def test_same_account_exported_twice(tmp_path, alvh):
    a, b = FIXTURES / "ibkr_flex.csv", tmp_path / "again.csv"
    shutil.copy(a, b)
    code, _, stderr, _ = _import(alvh, tmp_path, a, b)
    assert code == 2
    assert stderr == (
        f"alvh: {b}: SPXW 2026-12-18 5400 put x+2 is in {a} and in {b}: the same account "
        "exported twice? (give each account once, or an account column)\n"
    )


# --------------------------------------------------------------------------- pieces


@pytest.mark.parametrize(
    ("fixture", "broker"),
    [
        ("tastytrade_positions.csv", "tastytrade"),
        ("tastytrade_transactions.csv", "tastytrade"),
        ("thinkorswim_position_statement.csv", "thinkorswim"),
        ("thinkorswim_account_statement.csv", "thinkorswim"),
        ("ibkr_flex.xml", "ibkr"),
        ("ibkr_flex.csv", "ibkr"),
        ("ibkr_activity.csv", "ibkr"),
        ("generic_osi.csv", "generic"),
    ],
)
def test_detect(fixture, broker):
    path = FIXTURES / fixture
    assert detect(str(path), path.read_text()) == broker


def test_symbol_forms():
    spx = ("SPXW", "put", 5400.0, DEC)
    assert osi_option("SPXW  261218P05400000") == spx
    assert osi_option("SPXW261218P05400000") == spx
    assert tos_option(".SPXW261218P5400") == spx
    assert tos_option("SPXW261218P5400") == spx
    assert tos_option(".VIX270120C22.5") == ("VIX", "call", 22.5, date(2027, 1, 20))
    assert osi_option("AAPL  261218C00200000") == ("AAPL", "call", 200.0, DEC)
    assert osi_option("AAPL") is None


@pytest.mark.parametrize(
    "text",
    ["2026-12-18", "20261218", "12/18/2026", "12/18/26", "18 DEC 26", "18DEC26", "Dec 18, 2026",
     "DEC 18 26", "2026-12-18T15:31:07-0500", "20261218;153107", "2026-12-18, 15:31:07"],
)  # fmt: skip
def test_dates(text):
    assert parse_date(text) == DEC


def test_library_call_returns_data_without_writing(tmp_path):
    result = import_exports([FIXTURES / "generic_osi.csv"])
    assert [c.id for c in result.grouping.positions] == [
        "IRA-SPXW-20261218-5400-5450-6300-6350",
        "IRA-SPXW-20261218-5500-5550-6200-6250",
    ]
    assert result.text.startswith("# alvh position file written by `alvh import`")
    assert isinstance(result.exports[0].legs[0], ImportedLeg)
    assert list(tmp_path.iterdir()) == []


def test_thinkorswim_strategy_rows_are_not_underlyings(tmp_path):
    from alvh_cli.inputs.brokers import thinkorswim

    text = (
        "Position Statement for 1 (x) on 11/24/26 15:45:00\n\n"
        'Group "condors"\n'
        "Equities and Equity Options\n"
        "Instrument,Qty,Days,Trade Price,Mark\n"
        "SPX,,,,\n"
        "IRON CONDOR,,,,\n"
        "100 (Weeklys) 18 DEC 26 5400 PUT,+1,24,4.95,3.15\n"
        "VERTICAL,,,,\n"
        "100 18 DEC 26 5450 PUT,-1,24,6.10,4.20\n"
        "/ES,,,,\n"
        "1/50 DEC 26 /EWZ26 5400 PUT,+1,24,20.00,18.00\n"
    )
    got = thinkorswim.read("ps.csv", text)
    # "(Weeklys)" is SPXW; no tag on Dec 18 2026 (the third Friday) is the AM monthly SPX
    assert [(g.root, g.strike, g.quantity, g.entry_price) for g in got.legs] == [
        ("SPXW", 5400.0, 1, 4.95),
        ("SPX", 5450.0, -1, 6.10),
    ]
    assert [s.what for s in got.skipped] == ["1/50 DEC 26 /EWZ26 5400 PUT"]


def test_ibkr_flex_csv_with_header_and_trailer_records():
    from alvh_cli.inputs.brokers import ibkr

    text = (
        '"BOF","U1","alvh","1","20261124","20261124","20261124;164501","3"\n'
        '"HEADER","ACCT","ClientAccountID","AccountAlias"\n'
        '"DATA","ACCT","U1","main"\n'
        '"HEADER","POST","ClientAccountID","AssetClass","Symbol","Description","Quantity",'
        '"Multiplier","CostBasisPrice","LevelOfDetail","OpenDateTime"\n'
        '"DATA","POST","U1","OPT","","SPX 18DEC26 5400 P","2","100","4.95","LOT",'
        '"20261103;103107"\n'
        '"DATA","POST","U1","OPT","","SPX 18DEC26 5400 P","1","100","5.40","LOT",'
        '"20261105;110000"\n'
        '"EOF","U1"\n'
    )
    (g,) = ibkr.read("flex.csv", text).legs
    # lots only: 3 contracts at (2 x 4.95 + 1 x 5.40) / 3 = 5.10, opened on the first lot's day
    assert (g.root, g.quantity, g.opened) == ("SPX", 3, date(2026, 11, 3))
    assert g.entry_price == pytest.approx(5.10, abs=1e-12)


def test_tastytrade_positions_priced_from_cost_without_trade_price():
    from alvh_cli.inputs.brokers import tastytrade

    text = (
        "Account,Symbol,Type,Quantity,Exp Date,Cost\n"
        'X,SPXW  261218P05450000,OPTION,-2,12/18/26,"1,220.00"\n'
    )
    (g,) = tastytrade.read("p.csv", text).legs
    assert (g.quantity, g.entry_price) == (-2, 6.10)  # 1220 / (2 x 100)


# --------------------------------------------------------------------------- broker marks

# The Dec 18 condor's marks as the fixtures write them (Mark, Mark Price, markPrice, Close
# Price): 5400 put 3.15, 5450 put 4.20, 6300 call 1.90, 6350 call 0.80. Priced from them,
# the debit to close is (4.20 − 3.15) + (1.90 − 0.80) = 2.15 a unit; thinkorswim's Jan 15
# condor: (9.60 − 8.10) + (5.00 − 3.90) = 2.60.
DEC_MARKS = {5400: 3.15, 5450: 4.20, 6300: 1.90, 6350: 0.80}
JAN_MARKS = {5200: 8.10, 5250: 9.60, 6400: 5.00, 6450: 3.90}
EST = timezone(timedelta(hours=-5))  # New York in November
NOV24 = datetime(2026, 11, 24, 16, 0, tzinfo=EST)  # a date: that day's close


def _with_columns(name: str, tmp_path, extra: dict[str, dict[str, str]]) -> Path:
    """A copy of a CSV fixture with columns added: {header: {text in the row: cell}}."""
    lines = (FIXTURES / name).read_text().splitlines()
    out = [lines[0] + "".join(f",{h}" for h in extra)]
    for line in lines[1:]:
        cells = [next((v for k, v in by.items() if k in line), "") for by in extra.values()]
        out.append(line + "".join(f",{c}" for c in cells))
    path = tmp_path / name
    path.write_text("\n".join(out) + "\n")
    return path


def _ibkr_flex_csv(tmp_path) -> Path:
    marks = {f"{k:05d}000": f'"{m}"' for k, m in DEC_MARKS.items()}
    days = {k: '"20261124"' for k in marks}
    return _with_columns("ibkr_flex.csv", tmp_path, {'"MarkPrice"': marks, '"ReportDate"': days})


def _generic(tmp_path) -> Path:
    marks = {f"{k:05d}000": str(m) for k, m in DEC_MARKS.items()}
    days = {k: "2026-11-24T15:30:00-05:00" for k in marks}
    return _with_columns("generic_osi.csv", tmp_path, {"mark": marks, "mark_time": days})


# export → (the file to import, extra arguments, the mark_time written, {id: marks})
MARKED = {
    "tastytrade positions (no time stamp: --mark-time)": (
        lambda t: FIXTURES / "tastytrade_positions.csv",
        ["--mark-time", "2026-11-24T15:40"],
        datetime(2026, 11, 24, 15, 40, tzinfo=EST),  # no offset: New York time
        {"5WT00001-SPXW-20261218-5400-5450-6300-6350": DEC_MARKS},
    ),
    "thinkorswim position statement (its title's time)": (
        lambda t: FIXTURES / "thinkorswim_position_statement.csv",
        [],
        datetime(2026, 11, 24, 15, 45, tzinfo=EST),
        {
            "86612345-SPXW-20261218-5400-5450-6300-6350": DEC_MARKS,
            "86612345-SPX-20270115-5200-5250-6400-6450": JAN_MARKS,
        },  # fmt: skip
    ),
    "thinkorswim account statement (its 'through' day)": (
        lambda t: FIXTURES / "thinkorswim_account_statement.csv",
        [],
        NOV24,
        {"86612345-SPXW-20261218-5400-5450-6300-6350": DEC_MARKS},
    ),
    "IBKR flex XML (markPrice of reportDate)": (
        lambda t: FIXTURES / "ibkr_flex.xml",
        [],
        NOV24,
        {"U1234567-SPXW-20261218-5400-5450-6300-6350": DEC_MARKS},
    ),
    "IBKR flex CSV (MarkPrice of ReportDate)": (
        _ibkr_flex_csv,
        [],
        NOV24,
        {"U1234567-SPXW-20261218-5400-5450-6300-6350": DEC_MARKS},
    ),
    "IBKR activity statement (Close Price of the period's end)": (
        lambda t: FIXTURES / "ibkr_activity.csv",
        [],
        NOV24,
        {"U7654321-SPXW-20261218-5400-5450-6300-6350": DEC_MARKS},
    ),
    "generic CSV (mark, mark_time)": (
        _generic,
        [],
        datetime(2026, 11, 24, 15, 30, tzinfo=EST),
        {"IRA-SPXW-20261218-5400-5450-6300-6350": DEC_MARKS},
    ),
}


@pytest.mark.parametrize("export", sorted(MARKED))
def test_an_imported_legs_broker_mark_is_the_mark_check_uses(export, tmp_path, alvh):
    make, args, when, expected = MARKED[export]
    _, stdout, _, out = _import(alvh, tmp_path, make(tmp_path), *args)
    got = {p.id: p for p in positions.load_file(out).positions}
    for pid, marks in expected.items():
        legs = {int(g.strike): g for g in got[pid].legs}
        assert {k: g.mark for k, g in legs.items()} == marks  # as the export writes them
        assert {g.mark_time for g in legs.values()} == {when}
    run = alvh(["check", out, "--market", MARKET, "--format", "json"])
    assert run.code in (0, 1), run.err
    data = json.loads(run.out)
    used = {(m["leg"], m["mark"]) for m in data["marks"] if m["status"] == "mark"}
    assert len(used) == sum(len(m) for m in expected.values()) == len(data["marks"])
    debits = {r["id"]: r["debit_to_close"] for r in data["positions"]}
    hand = {"5400": 2.15, "5200": 2.60}  # (module comment above)
    for pid in expected:
        assert debits[pid] == pytest.approx(hand[pid.split("-")[-4]], abs=1e-9)
    priced = json.loads(alvh(["price", out, "--market", MARKET, "--format", "json"]).out)
    marked = [g for g in priced["legs"] if g["mark"] is not None]
    assert len(marked) == len(used)  # (a second condor without marks in some exports)
    for leg in marked:
        assert leg["vol_source"] == "mark" and leg["price"] == pytest.approx(leg["mark"], abs=1e-9)


def test_an_export_without_a_time_writes_marks_without_one_and_says_so(tmp_path, alvh):
    f = FIXTURES / "tastytrade_positions.csv"
    _, stdout, _, out = _import(alvh, tmp_path, f)
    assert (
        f"  {f}: the export states no time for its marks (the file's own date is not when they "
        "were taken): written without mark_time, so check does not price from them; give "
        "--mark-time with the time the export was taken"
    ) in stdout.splitlines()
    (p,) = positions.load_file(out).positions
    assert {(g.mark, g.mark_time) for g in p.legs} == {(m, None) for m in DEC_MARKS.values()}
    run = alvh(["check", out, "--market", MARKET, "--format", "json"])
    assert {m["status"] for m in json.loads(run.out)["marks"]} == {"untimed"}
    assert "has no mark_time, so its day is not known: not used" in run.err


def test_a_mark_time_no_export_needs_is_said_to_be_unused(tmp_path, alvh):
    _, stdout, _, out = _import(
        alvh, tmp_path, FIXTURES / "ibkr_flex.xml", "--mark-time", "2026-11-25T10:00"
    )
    assert "  --mark-time not used: no export holds a mark without its own time" in stdout
    (p,) = positions.load_file(out).positions
    assert {g.mark_time for g in p.legs} == {NOV24}  # the export's own report date


def test_a_mark_time_that_is_not_one_is_one_line(tmp_path, alvh):
    code, stdout, stderr, out = _import(
        alvh, tmp_path, FIXTURES / "tastytrade_positions.csv", "--mark-time", "yesterday"
    )
    assert (code, stdout) == (2, "")
    assert stderr == (
        "alvh: --mark-time: not a date or date-time (e.g. 2026-11-24T15:45 or 2026-11-24), "
        "got 'yesterday'\n"
    )
    assert not out.exists()


# --------------------------------------------------------------------------- other shapes


def test_what_a_roll_or_a_close_leaves_is_imported_as_its_shape(tmp_path, alvh):
    # account R: a condor whose put side was rolled to Dec 31 (puts 4825/4925 x5, calls
    # 6450/6500 x5 Dec 18); account C: the call side of a condor whose puts were closed
    f = tmp_path / "after.csv"
    f.write_text(
        "account,symbol,quantity,entry_price\n"
        "R,SPXW  261231P04825000,5,6.00\n"
        "R,SPXW  261231P04925000,-5,9.00\n"
        "R,SPXW  261218C06450000,-5,2.00\n"
        "R,SPXW  261218C06500000,5,1.00\n"
        "C,SPXW  261218C06300000,-2,5.20\n"
        "C,SPXW  261218C06350000,2,3.50\n"
    )
    code, stdout, _, out = _import(alvh, tmp_path, f)
    assert code == 0, stdout  # nothing left over
    got = {p.id: p for p in positions.load_file(out).positions}
    apart = got["R-SPXW-20261231-4825-4925-SPXW-20261218-6450-6500"]
    # credit 9 + 2 - 6 - 1 = 4 a unit; each side on its own expiry
    assert apart.credit == 4.0 and {g.expiry for g in apart.legs} == {date(2026, 12, 31), DEC}
    lone = got["C-SPXW-20261218-6300-6350"]
    assert lone.credit == pytest.approx(1.70) and len(lone.legs) == 2  # 5.20 - 3.50
    assert "make one position (a condor whose sides expire apart" in stdout
    assert "SPXW 2026-12-18 6300/6350 call vertical x2: a position of its own" in stdout
    run = alvh(["check", out, "--market", MARKET, "--format", "json"])
    assert run.code in (0, 1), run.err
    assert {r["id"] for r in json.loads(run.out)["positions"]} == set(got)
