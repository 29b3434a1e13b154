"""Rows that do not fit their header, and files cut short, in every broker layout.

A row with one cell more or fewer than its header shifts every column after it (an
unquoted ``4,95`` is two cells, 4 and 95, and once read as an entry price of 4.0). A
download that stopped mid-row leaves a last line short of cells and without a line end.
Each is refused as a trader meets it: exit 2, one line on stderr naming the file and the
line, no position file written, the export untouched. Lines and cell counts are found
here by searching and splitting the edited fixture with the csv module, not taken from
the reader.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

BROKERS = Path(__file__).parent / "fixtures" / "brokers"
SHIFT = "a value with an unquoted comma, or a missing one, shifts the columns after it"
CUT = "(the last line, without a line end: the file may have been cut short)"

# (fixture, a text found only on one option row, on its header row, cells before the data)
LAYOUTS = [
    ("generic_osi.csv", "IRA,SPXW  261218P05450000", "account,symbol", 0),
    ("tastytrade_positions.csv", "5WT00001,SPXW  261218P05450000", "Account,Symbol", 0),
    ("tastytrade_transactions.csv", "Bought 6 VIX 01/20/27 Call 21.00", "Date,Type", 0),
    ("thinkorswim_position_statement.csv", "18 DEC 26 5450 PUT", "Instrument,Qty", 0),
    ("thinkorswim_account_statement.csv", ".SPXW261218P5450", "Symbol,Option Code", 0),
    ("ibkr_flex.csv", '"SPXW  261218P05450000"', '"ClientAccountID"', 0),
    ("ibkr_activity.csv", "Summary,Equity and Index Options,USD,SPXW 18DEC26 5450 P", "Open "
     "Positions,Header", 2),
]  # fmt: skip


def _state(folder: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def _find(lines: list[str], needle: str) -> int:
    (i,) = [i for i, t in enumerate(lines) if needle in t]
    return i


def _cells(line: str) -> list[str]:
    return next(csv.reader([line]))


def _join(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def _import(alvh, tmp_path, name, text):
    export = tmp_path / name
    export.write_text(text)
    before = _state(tmp_path)
    run = alvh(["import", export, "-o", tmp_path / "book.toml"])
    assert _state(tmp_path) == before  # nothing written, the export untouched
    return export, run


@pytest.fixture(autouse=True)
def _journal_aside(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path.parent / f"{tmp_path.name}-data"))


@pytest.mark.parametrize(("fixture", "row", "head", "prefix"), LAYOUTS)
@pytest.mark.parametrize("change", ["one more", "one fewer"])
def test_a_row_that_does_not_fit_its_header_is_refused(
    tmp_path, alvh, fixture, row, head, prefix, change
):
    lines = (BROKERS / fixture).read_text().splitlines()
    i, h = _find(lines, row), _find(lines, head)
    cells = _cells(lines[i])
    cells = [*cells, "x"] if change == "one more" else cells[:-1]
    lines[i] = _join(cells)
    export, run = _import(alvh, tmp_path, fixture, "\n".join(lines) + "\n")
    have, want = len(cells) - prefix, len(_cells(lines[h])) - prefix
    assert have == want + (1 if change == "one more" else -1)
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        f"alvh: {export}:{i + 1}: has {have} cells, the header (line {h + 1}) has {want}: {SHIFT}\n"
    )


@pytest.mark.parametrize(("fixture", "row", "head", "prefix"), LAYOUTS)
def test_a_file_cut_short_in_its_last_row_is_refused(tmp_path, alvh, fixture, row, head, prefix):
    """The download stopped halfway through an option row: what came after is gone and the
    last line has half its cells, with no line end."""
    lines = (BROKERS / fixture).read_text().splitlines()
    i, h = _find(lines, row), _find(lines, head)
    cells = _cells(lines[i])
    half = cells[: len(cells) // 2 + 1]
    export, run = _import(alvh, tmp_path, fixture, "\n".join([*lines[:i], _join(half)]))
    have, want = len(half) - prefix, len(_cells(lines[h])) - prefix
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        f"alvh: {export}:{i + 1}: has {have} cells, the header (line {h + 1}) has {want}: "
        f"{SHIFT} {CUT}\n"
    )


@pytest.mark.parametrize(
    ("fixture", "tail"),
    [
        ("ibkr_activity.csv", "Open Positions"),
        ("thinkorswim_position_statement.csv", "100 (Weeklys) 18 DEC"),
        ("thinkorswim_account_statement.csv", "SPX"),
    ],
)
def test_a_last_row_cut_to_a_cell_or_two_is_refused(tmp_path, alvh, fixture, tail):
    """Layouts with captions and section names skip short rows; a short last row without a
    line end inside a section is a cut, not a caption."""
    lines = (BROKERS / fixture).read_text().splitlines()
    needle = {
        "ibkr_activity.csv": "SPXW 18DEC26 5450 P,-",
        "thinkorswim_position_statement.csv": "18 DEC 26 5450 PUT",
        "thinkorswim_account_statement.csv": ".SPXW261218P5450",
    }[fixture]
    i = _find(lines, needle)
    export, run = _import(alvh, tmp_path, fixture, "\n".join([*lines[:i], tail]))
    n = len(_cells(tail))
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        f"alvh: {export}:{i + 1}: has {n} cell{'s' if n != 1 else ''}, too few for any record "
        f"of this layout {CUT}\n"
    )


def test_an_xml_export_cut_short_is_refused(tmp_path, alvh):
    text = (BROKERS / "ibkr_flex.xml").read_text()
    cut = text[: text.index('costBasisMoney="990.68"')]
    export, run = _import(alvh, tmp_path, "flex.xml", cut)
    assert (run.code, run.out) == (2, "")
    assert run.err.startswith(f"alvh: {export}:{cut.count(chr(10)) + 1}: XML syntax error")
    assert run.err.count("\n") == 1


@pytest.mark.parametrize("day", ["38 DEC 26", "29 FEB 27", "18 DCE 26"])
def test_a_thinkorswim_date_that_is_no_date_names_file_line_and_column(tmp_path, alvh, day):
    text = (BROKERS / "thinkorswim_position_statement.csv").read_text()
    old = "100 (Weeklys) 18 DEC 26 5450 PUT"
    edited = text.replace(old, f"100 (Weeklys) {day} 5450 PUT")
    line = _find(edited.splitlines(), f"{day} 5450 PUT") + 1
    export, run = _import(alvh, tmp_path, "statement.csv", edited)
    assert (run.code, run.out) == (2, "")
    assert run.err == f"alvh: {export}:{line}: Instrument: not a date, got {day!r}\n"
