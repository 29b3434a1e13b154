"""The shipped VIX closes behind the README's 2000–2018 backtest, and the script that joins
them with arch's S&P 500 closes.

Expected values are Cboe's published closes (VIX_History.csv) and the NYSE's calendar
(``alvh_cli/data/nyse_holidays.txt``), not read back from the file's own numbers.
"""

from __future__ import annotations

import csv
import gzip
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from alvh_cli.inputs.history import embedded_frame, read_history
from alvh_cli.model.exchange import is_business_day

ROOT = Path(__file__).resolve().parents[1]
VIX_FILE = ROOT / "benchmarks" / "data" / "vix_1999_2018.csv"
BUILD = ROOT / "benchmarks" / "history_2000_2018.py"


def shipped() -> tuple[list[str], dict[date, float]]:
    lines = VIX_FILE.read_text(encoding="utf-8").splitlines()
    comments = [line for line in lines if line.startswith("#")]
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    return comments, {date.fromisoformat(r["date"]): float(r["vix"]) for r in rows}


def test_the_vix_file_says_where_it_comes_from():
    comments, _ = shipped()
    text = " ".join(comments)
    assert "VIX_History.csv" in text and "datasets/finance-vix" in text
    assert "ODC-PDDL-1.0" in text


def test_the_vix_file_has_every_trading_day():
    # 1999 (the warm-up year) to 2018, one close a NYSE trading day, less the day the source
    # has none for (1999-12-31) and plus the one it repeats on a closed day (2004-06-11,
    # President Reagan's funeral)
    _, vix = shipped()
    days, d = [], date(1999, 1, 4)
    while d <= date(2018, 12, 31):
        if is_business_day(d):
            days.append(d)
        d += timedelta(days=1)
    want = sorted((set(days) - {date(1999, 12, 31)}) | {date(2004, 6, 11)})
    assert list(vix) == want and len(vix) == 5031
    assert vix[date(2004, 6, 11)] == vix[date(2004, 6, 10)] == 15.04


@pytest.mark.parametrize(
    ("day", "close"),
    [
        (date(1999, 1, 4), 26.17),
        (date(2000, 1, 3), 24.21),
        (date(2008, 10, 24), 79.13),
        (date(2008, 11, 20), 80.86),  # the highest close before 2020
        (date(2015, 8, 24), 40.74),
        (date(2017, 11, 3), 9.14),  # the lowest close ever
        (date(2018, 2, 5), 37.32),
        (date(2018, 12, 31), 25.42),
    ],
)
def test_known_closes(day, close):
    assert shipped()[1][day] == close


def test_extremes_and_the_embedded_years():
    _, vix = shipped()
    assert max(vix.values()) == 80.86 and min(vix.values()) == 9.14
    embedded = embedded_frame()["vix"]  # arch's VIX set, 2014–2018: Cboe's closes too
    assert all(vix[ts.date()] == v for ts, v in embedded.items())


def test_the_script_joins_arch_closes_with_the_shipped_vix(tmp_path):
    # A stand-in for arch's folder: its data/sp500/sp500.csv.gz in arch's layout (M/D/YYYY,
    # closes to six places) with the embedded 2014–2018 closes and three days of 1999–2000.
    sp500 = tmp_path / "arch" / "data" / "sp500"
    sp500.mkdir(parents=True)
    rows = [("12/30/1999", 1464.469971), ("12/31/1999", 1469.25), ("1/3/2000", 1455.219971)]
    rows += [(f"{ts.month}/{ts.day}/{ts.year}", v) for ts, v in embedded_frame()["spx"].items()]
    with gzip.open(sp500 / "sp500.csv.gz", "wt", newline="") as fh:
        fh.write("Date,Open,High,Low,Close,Adj Close,Volume\n")
        fh.writelines(f"{d},0,0,0,{c},{c},0\n" for d, c in rows)
    out = tmp_path / "history.csv"
    run = subprocess.run(
        [sys.executable, str(BUILD), "--arch", str(tmp_path), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert "S&P 500 only ['1999-12-31']" in run.stdout and "equal the embedded" in run.stdout
    h = read_history([out])
    assert len(h) == 2 + 1257  # 1999-12-31 has no VIX close: dropped
    assert h.loc["1999-12-30", "spx"] == 1464.47 and h.loc["1999-12-30", "vix"] == 24.76
    assert h.loc["2000-01-03", "spx"] == 1455.22 and h.loc["2000-01-03", "vix"] == 24.21
    assert out.read_text().startswith("# source: S&P 500 daily Close from arch")


def test_the_script_says_how_to_get_arch(tmp_path):
    run = subprocess.run(
        [sys.executable, str(BUILD), "--arch", str(tmp_path), "-o", str(tmp_path / "h.csv")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 2 and "pip install arch" in run.stderr
