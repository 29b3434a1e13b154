"""Fuzzing the files alvh reads: any file gives exit 0, 1 or 2, never a traceback, and the
good file beside it keeps its output.

Each example starts from a file alvh reads (a sample position file, each broker
layout's fixture) and applies a few random edits a file meets in the wild: a line
deleted, duplicated or swapped with the next, the file cut short, random text
inserted, a value (a TOML value, a CSV cell, an XML attribute) replaced by one of the
usual suspects (an empty cell, a decimal comma, 1e308, nan, a date past the calendar,
a formula, a huge integer, control characters) or by arbitrary text.

- position file: ``alvh check GOOD FUZZED -f json``; GOOD's positions are reported
  exactly as when it is checked alone.
- broker export: ``alvh import GOOD FUZZED -o OUT`` (GOOD a generic export for another
  account and other contracts, so that nothing of FUZZED can merge with it); OUT holds
  GOOD's condor whatever FUZZED is.

The ``alvh`` fixture re-raises any exception that is not an exit, so a traceback fails
the example. 50 examples a layout, no deadline (the machine is shared).
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_positions"
BROKERS = ROOT / "tests" / "fixtures" / "brokers"
EXPORTS = sorted(p.name for p in BROKERS.iterdir() if p.suffix in (".csv", ".xml"))

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples every run: a failure is reproducible
)

SUSPECTS = [
    "", "-", " ", "0", "-0", "1,10", "4.950,00", "1.234,5", "1e308", "-1e308", "1e-300", "nan",
    "NaN", "inf", "-inf", "99999999999999999999999999", "0x10", "1_000", "12/31/9999",
    "9999-12-31", "0001-01-01", "2026-02-30", "38 DEC 26", "18 DEC 99", "=cmd|' /C calc'!A0",
    "+SUM(A1)", "@x", '"', '""', "'", "\t", "\\", "é", "\u202e", "SPXW  261218P05400000",
    "SPXW  991318P05400000", "SPX", "VIX", "PUT", "CALL", "P", "C", "(1.00)", "$1,000.00",
    "1.0.0", "--1", "+2", "1e", ".", ",", ";", "<", "&amp;", "&", "]]>",
]  # fmt: skip
TOML_SUSPECTS = [
    '""', "1e308", "-1e308", "nan", "inf", "-inf", "0", "-0.0", "-5400", "1e-300",
    "99999999999999999999", "9223372036854775807", "2026-02-28", "9999-12-31",
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00", "15:45:00", "true", "[]", "[1, 2]",
    "{}", "{ a = 1 }", '"\\u0000"', '"=HYPERLINK(1)"', '"a\\tb"', "0x10", "1_000", "[[1]]",
    '"put"', '"call"', '"future"', '"SPX"', '"VIX"', '"SPXW"', "2026-12-18", "2027-01-20",
]  # fmt: skip


@st.composite
def edited(draw, text: str, kind: str) -> str:
    """``text`` after one to four random edits (the module docstring)."""
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["value", "value", "value", "delete", "duplicate", "swap",
                                   "truncate", "insert"]))  # fmt: skip
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif op == "truncate":
            whole = "".join(lines)
            lines = [whole[: draw(st.integers(0, len(whole)))]]
        elif op == "insert":
            lines.insert(i, draw(st.text(max_size=30)))
        else:
            lines[i] = replace_value(draw, lines[i], kind)
    return "".join(lines)


def replace_value(draw, line: str, kind: str) -> str:
    """``line`` with one of its values replaced by a suspect or by arbitrary text."""
    arbitrary = st.text(max_size=12)
    if kind == "toml":
        m = re.match(r"(\s*[\w.\"-]+\s*=\s*)(.*?)(\s*(#.*)?\n?)$", line)
        if m is None:
            return line
        new = draw(st.sampled_from(TOML_SUSPECTS) | arbitrary | st.floats().map(repr)
                   | st.integers().map(str))  # fmt: skip
        return m.group(1) + new + m.group(3)
    if kind == "xml":
        attrs = list(re.finditer(r'="([^"]*)"', line))
        if not attrs:
            return line
        a = attrs[draw(st.integers(0, len(attrs) - 1))]
        new = draw(st.sampled_from(SUSPECTS) | arbitrary)
        return line[: a.start(1)] + new + line[a.end(1) :]
    cells = line.rstrip("\r\n").split(",")
    j = draw(st.integers(0, len(cells) - 1))
    cells[j] = draw(st.sampled_from(SUSPECTS) | arbitrary | st.floats().map(repr))
    return ",".join(cells) + line[len(line.rstrip("\r\n")) :]


# ------------------------------------------------------------------ position files


@pytest.fixture(scope="module")
def good_check():
    """A position file and its positions as ``check -f json`` reports them alone."""
    from typer.testing import CliRunner

    from alvh_cli import cli

    good = SAMPLES / "put_tested_1_6x.toml"
    result = CliRunner().invoke(cli.app, ["check", str(good), "-f", "json"])
    return good, json.loads(result.stdout)["positions"]


@pytest.mark.parametrize("sample", ["book.toml", "layer1_on.toml"])  # many positions; VIX legs
@FUZZ
@given(data=st.data())
def test_a_fuzzed_position_file_never_costs_the_good_one(alvh, good_check, sample, data):
    good, positions = good_check
    text = data.draw(edited((SAMPLES / sample).read_text(), "toml"), label="file")
    with tempfile.TemporaryDirectory() as folder:
        fuzzed = Path(folder) / "fuzzed.toml"
        fuzzed.write_text(text, encoding="utf-8")
        code, out, err = alvh(["check", good, fuzzed, "-f", "json"])
    assert code in (0, 1, 2), err
    assert "Traceback" not in err
    reported = json.loads(out)["positions"]
    assert [p for p in reported if p["source"] == str(good)] == positions
    if code == 2:
        errors = [line for line in err.splitlines() if line.startswith("alvh: ")]
        assert len(errors) == 1 and errors[0].startswith(f"alvh: {fuzzed}")


# ------------------------------------------------------------------ broker exports

GOOD_EXPORT = """\
account,symbol,quantity,entry_price,opened
GOOD,SPXW  270115P05000000,3,2.10,2026-11-02
GOOD,SPXW  270115P05050000,-3,2.60,2026-11-02
GOOD,SPXW  270115C06500000,-3,1.90,2026-11-02
GOOD,SPXW  270115C06550000,3,1.30,2026-11-02
"""
GOOD_STRIKES = [5000.0, 5050.0, 6500.0, 6550.0]


@pytest.mark.parametrize("name", EXPORTS)
@FUZZ
@given(data=st.data())
def test_a_fuzzed_export_never_costs_the_good_one(alvh, name, data):
    from alvh_cli.inputs.positions import load_file

    kind = "xml" if name.endswith(".xml") else "csv"
    text = data.draw(edited((BROKERS / name).read_text(encoding="utf-8-sig"), kind), label="file")
    with tempfile.TemporaryDirectory() as folder:
        good = Path(folder) / "good.csv"
        good.write_text(GOOD_EXPORT)
        fuzzed = Path(folder) / name
        fuzzed.write_text(text, encoding="utf-8")
        out = Path(folder) / "book.toml"
        journal = Path(folder) / "none.sqlite"  # not given by --journal: may be missing
        code, summary, err = alvh(["import", good, fuzzed, "-o", out],
                                  env={"XDG_DATA_HOME": str(journal.parent)})  # fmt: skip
        assert code in (0, 1, 2), err
        assert "Traceback" not in err
        written = load_file(out).positions  # GOOD's condor is always written
        ours = [p for p in written if p.id.startswith("GOOD-")]
        assert len(ours) == 1, summary
        assert sorted(g.strike for g in ours[0].legs) == GOOD_STRIKES
        assert ours[0].credit == pytest.approx(2.60 - 2.10 + 1.90 - 1.30)
