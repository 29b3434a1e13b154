"""One number reader for every export and chain file, and rows that must fit their header.

A comma is read only as a thousands separator in groups of three (``1,234.56``): a European
decimal (``4.950,00``, ``1,10``) once lost its comma and read as 4.95 or 110, so an import
wrote a credit of 0.00285 or 90. Every broker layout, the chain and the futures file are
checked here as a trader meets them: exit status 2, one line naming the file, the line and
the column, no position file written and the export untouched. The line expected is found
by searching the edited fixture, not taken from the reader.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from alvh_cli.errors import InputError
from alvh_cli.inputs.brokers.common import number
from alvh_cli.inputs.chain import read_chain
from alvh_cli.inputs.numbers import read_number

FIXTURES = Path(__file__).parent / "fixtures"
BROKERS = FIXTURES / "brokers"
COMMA = "a comma is read only as a thousands separator in groups of three"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("4.95", 4.95),
        ("-2", -2.0),
        ("+20", 20.0),
        (".925", 0.925),
        ("1e-3", 0.001),
        (" 7 ", 7.0),
        ("1,234", 1234.0),
        ("1,234.56", 1234.56),
        ("-12,345,678.5", -12345678.5),
    ],
)
def test_numbers_read_as_written(text, value):
    assert read_number(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "1,10",
        "4.950,00",
        "1,2345",
        "12,34,567",
        ",5",
        "1,234,5",
        "1.234.567",
        "1_000",
        "١٢",
        "inf",
        "nan",
        "0x10",
        "5%",
        "",
        "1 000",
    ],  # fmt: skip
)
def test_anything_ambiguous_is_refused(text):
    with pytest.raises(ValueError):
        read_number(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$450.00", 450.0),
        ("($1,050.00)", -1050.0),
        ("-$45", -45.0),
        ("$1,220.50", 1220.5),
        ("N/A", None),
        ("--", None),
    ],  # fmt: skip
)
def test_export_money_cells(text, value):
    assert number(text, "x.csv", 2, "Cost", required=False) == value


def test_a_decimal_comma_names_file_line_and_column():
    with pytest.raises(InputError) as err:
        number("4.950,00", "x.csv", 7, "Trade Price", required=True)
    assert str(err.value).startswith(f"x.csv:7: Trade Price: {COMMA}")
    assert "'4.950,00'" in str(err.value)


def _state(folder: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def _line_of(text: str, needle: str) -> int:
    (line,) = [i for i, t in enumerate(text.splitlines(), 1) if needle in t]
    return line


# (fixture, text replaced, its replacement, the column named)
DECIMAL_COMMAS = [
    ("generic_osi.csv", "IRA,SPXW  261218P05400000,2,4.95,", 'IRA,SPXW  261218P05400000,2,"4,95",',
     "entry_price"),
    ("tastytrade_positions.csv", "660.00,30.00,5.20,", '660.00,30.00,"5,20",', "Trade Price"),
    ("tastytrade_transactions.csv", "-990.00,2,-495.00,", '-990.00,2,"-495,00",', "Average Price"),
    ("thinkorswim_position_statement.csv", "5400 PUT,+2,24,4.95,", '5400 PUT,+2,24,"4,95",',
     "Trade Price"),
    ("thinkorswim_account_statement.csv", "PUT,+2,4.95,", 'PUT,+2,"4.950,00",', "Trade Price"),
    ("ibkr_flex.csv", '"-1219.32"', '"-1.219,32"', "cost basis"),
    ("ibkr_activity.csv", "6300 C,-,-2,100,5.1966,-1039.32,",
     '6300 C,-,-2,100,5.1966,"-1.039,32",', "cost basis"),
    ("ibkr_flex.xml", 'costBasisMoney="990.68" fifo', 'costBasisMoney="990,68" fifo', "cost basis"),
]  # fmt: skip


@pytest.mark.parametrize(("fixture", "old", "new", "column"), DECIMAL_COMMAS)
def test_a_decimal_comma_in_any_export_is_refused(tmp_path, alvh, monkeypatch, fixture, old,
                                                  new, column):  # fmt: skip
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    text = (BROKERS / fixture).read_text()
    assert text.count(old) == 1
    edited = text.replace(old, new)
    export = tmp_path / fixture
    export.write_text(edited)
    before = _state(tmp_path)
    code, out, err = alvh(["import", export, "-o", tmp_path / "book.toml"])
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    line = _line_of(edited, new)
    assert lines[0].startswith(f"alvh: {export}:{line}: {column}: {COMMA}")
    assert _state(tmp_path) == before


def test_thousands_commas_in_groups_of_three_still_read(tmp_path, alvh, monkeypatch):
    """thinkorswim's "$8,000.00" and IBKR's grouped cost basis are what exports write."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    text = (BROKERS / "ibkr_flex.csv").read_text().replace('"1740"', '"1,740.00"')
    export = tmp_path / "flex.csv"
    export.write_text(text)
    code, out, err = alvh(["import", export, "-o", tmp_path / "book.toml"])
    assert code in (0, 1), err
    assert "entry_price = 5.8" in (tmp_path / "book.toml").read_text()  # 1,740.00 / 300


def test_an_unquoted_decimal_comma_shifts_no_column(tmp_path, alvh, monkeypatch):
    """thinkorswim row of 10 cells under a 9-column header: once read as entry 4.0 (the
    "4" of "4,95") with every column after it shifted."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    text = (BROKERS / "thinkorswim_position_statement.csv").read_text()
    edited = text.replace("5400 PUT,+2,24,4.95,", "5400 PUT,+2,24,4,95,")
    export = tmp_path / "statement.csv"
    export.write_text(edited)
    before = _state(tmp_path)
    code, _, err = alvh(["import", export, "-o", tmp_path / "book.toml"])
    line = _line_of(edited, "5400 PUT,+2,24,4,95,")
    header = _line_of(edited, "Instrument,Qty,")
    assert code == 2
    assert err == (
        f"alvh: {export}:{line}: has 10 cells, the header (line {header}) has 9: a value with "
        "an unquoted comma, or a missing one, shifts the columns after it\n"
    )
    assert _state(tmp_path) == before


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ("IRA,SPXW  261218C06350000,2", "has 3 cells, the header (line 1) has 5: a value with an "
         "unquoted comma, or a missing one, shifts the columns after it (the last line, without "
         "a line end: the file may have been cut short)"),
        ('IRA,SPXW  261218C06350000,2,"3.5', "not readable as CSV: a quoted field is never "
         "closed (the file may have been cut short)"),
    ],
)  # fmt: skip
def test_a_file_cut_short_is_refused(tmp_path, alvh, monkeypatch, tail, message):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    lines = (BROKERS / "generic_osi.csv").read_text().splitlines()[:4]
    export = tmp_path / "cut.csv"
    export.write_text("\n".join([*lines, tail]))  # no line end: the download stopped
    before = _state(tmp_path)
    code, _, err = alvh(["import", export, "-o", tmp_path / "book.toml"])
    assert (code, err) == (2, f"alvh: {export}:5: {message}\n")
    assert _state(tmp_path) == before


def test_a_row_with_one_cell_too_many_is_refused_in_every_csv_export(tmp_path, monkeypatch, alvh):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for name in ("generic_osi.csv", "tastytrade_positions.csv", "ibkr_flex.csv"):
        rows = (BROKERS / name).read_text().splitlines()
        rows[2] += ",extra"
        export = tmp_path / name
        export.write_text("\n".join(rows) + "\n")
        code, _, err = alvh(["import", export, "-o", tmp_path / "book.toml"])
        assert code == 2
        assert err.startswith(f"alvh: {export}:3: has ")
        assert not (tmp_path / "book.toml").exists()


# ------------------------------------------------------------------------------ chains


def test_a_decimal_comma_in_a_chain_or_futures_file_is_refused(tmp_path):
    chain = tmp_path / "chain.csv"
    chain.write_text('expiry,strike,type,bid,ask\n2026-12-18,5800,put,"43,20",43.70\n')
    with pytest.raises(InputError) as err:
        read_chain(chain)
    assert str(err.value).startswith(f"{chain}:2: bid: {COMMA}")
    futures = tmp_path / "vx.csv"
    futures.write_text('expiry,price\n2026-12-16,"19,1"\n')
    with pytest.raises(InputError) as err:
        read_chain(futures)
    assert str(err.value).startswith(f"{futures}:2: price: {COMMA}")


def test_a_grouped_strike_in_a_chain_reads_as_its_value(tmp_path):
    chain = tmp_path / "chain.csv"
    chain.write_text('expiry,strike,type,bid,ask\n2026-12-18,"5,800",put,43.20,43.70\n')
    assert read_chain(chain).strike.tolist() == [5800.0]


@pytest.mark.parametrize("cell", ["1_0", "١٢"])
def test_a_number_python_would_read_but_a_trader_would_not_write_is_refused(tmp_path, cell):
    chain = tmp_path / "chain.csv"
    chain.write_text(f"expiry,strike,type,bid,ask\n2026-12-18,5800,put,{cell},43.70\n")
    with pytest.raises(InputError) as err:
        read_chain(chain)
    assert str(err.value) == f"{chain}:2: bid: not a number: {cell!r}"


def test_a_chain_cut_short_is_refused(tmp_path):
    chain = tmp_path / "chain.csv"
    chain.write_text("expiry,strike,type,bid,ask\n2026-12-18,5800,put,43.20,43.70\n2026-12-18,58")
    with pytest.raises(InputError) as err:
        read_chain(chain)
    assert str(err.value).endswith("(the last line, without a line end: the file may have been "
                                   "cut short)")  # fmt: skip
    assert str(err.value).startswith(f"{chain}:3: has 2 fields")


def test_the_fixture_exports_still_import(tmp_path, monkeypatch):
    """The layouts as the fixtures hold them: every row fits its header."""
    from alvh_cli.inputs.brokers.importer import import_exports

    for f in sorted(BROKERS.glob("*.*")):
        if f.suffix in (".csv", ".xml"):
            shutil.copy(f, tmp_path / f.name)
            assert import_exports([tmp_path / f.name]).exports[0].legs
