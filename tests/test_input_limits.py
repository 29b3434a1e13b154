"""The inputs read whole — a history, a macro calendar, a saved check's JSON: a bad one
is one line on stderr naming the file (and the line and column), exit status 2, never a
traceback and never a silent default.

- ``--events`` without ``--history``: the file is still read (a missing or malformed one
  is refused), and a good one is said to be unused: without a history there are no
  signals, the macro event among them.

Every refusal: exit 2, one line on stderr, the inputs untouched, nothing written.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from test_size_limits import state

ROOT = Path(__file__).resolve().parent.parent
CALM = ROOT / "sample_positions" / "calm.toml"  # dec-calm, asof 2026-11-24, SPX 5850.25
BROKERS = ROOT / "tests" / "fixtures" / "brokers"
CSV_FIELD_LIMIT = 131_072  # the csv module's default field_size_limit: 128 KiB


@pytest.fixture
def folder(tmp_path):
    """A folder of inputs: calm.toml (one calm condor, asof 2026-11-24)."""
    d = tmp_path / "in"
    d.mkdir()
    (d / "calm.toml").write_bytes(CALM.read_bytes())
    return d


@pytest.fixture(autouse=True)
def _history_today(monkeypatch):
    """The history reader's "today" (dates after it are refused): the samples' asof."""
    import alvh_cli.inputs.history as history

    monkeypatch.setattr(history, "_today", lambda: date(2026, 11, 24))


def history_text(days: int = 60, last: date = date(2026, 11, 24)) -> str:
    """``days`` weekdays to ``last``, SPX 5850.25 and VIX 18.2 on each (a flat market)."""
    rows, d = [], last
    while len(rows) < days:
        if d.weekday() < 5:
            rows.append(f"{d.isoformat()},5850.25,18.2\n")
        d -= timedelta(days=1)
    return "date,spx,vix\n" + "".join(reversed(rows))


def one_line(err: str) -> str:
    lines = err.splitlines()
    refusals = [x for x in lines if x.startswith("alvh: ")]
    assert len(refusals) == 1 and all(x.startswith(("alvh: ", "warning: ")) for x in lines), err
    return refusals[0]


# ------------------------------------------------------------------ the macro calendar


@pytest.mark.parametrize(
    "text,said",
    [
        (None, "cannot read event file: No such file or directory"),
        ("when,what\n2026-12-09,FOMC\n",
         "1: when: unknown column 'when': expected date,event[,note]"),
        ("date,event\n2026-02-30,FOMC\n",
         "2: date: cannot read date '2026-02-30': expected YYYY-MM-DD or MM/DD/YYYY"),
        (b"SQLite format 3\x00\xff\xfe", "not a UTF-8 text file"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["check", "review"])
def test_an_event_file_without_a_history_is_still_read(folder, alvh, text, said, command):
    ev = folder / "ev.csv"
    if isinstance(text, str):
        ev.write_text(text)
    elif text is not None:
        ev.write_bytes(text)
    before = state(folder)
    args = ["check", folder / "calm.toml"] if command == "check" else [
        "review", folder / "calm.toml", "--journal", folder / "j.sqlite"]  # fmt: skip
    code, out, err = alvh([*args, "--events", ev])
    assert (code, out) == (2, "")
    sep = ":" if said[:1].isdigit() else ": "
    assert one_line(err) == f"alvh: {ev}{sep}{said}"
    assert state(folder) == before


def test_a_good_event_file_without_a_history_is_said_to_be_unused(folder, alvh):
    ev = folder / "ev.csv"
    ev.write_text("date,event\n2026-11-25,CPI\n")  # the day after asof: the signal's window
    plain = alvh(["check", folder / "calm.toml"])
    run = alvh(["check", folder / "calm.toml", "--events", ev])
    # the calendar changes nothing without a history: the same report, the same status
    assert (run.code, run.out) == (plain.code, plain.out)
    assert plain.code == 0  # calm: nothing to do
    extra = set(run.err.splitlines()) - set(plain.err.splitlines())
    assert extra == {
        f"warning: {ev}: macro dates not used: without a history file the signals, the macro "
        "event among them, are unavailable"
    }
