"""Macro event calendar: the shipped file, user files, NYSE trading-day windows."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from alvh_cli.errors import InputError
from alvh_cli.inputs.events import load_events
from alvh_cli.model.calendar import (
    Event,
    events_within,
    is_trading_day,
    nyse_holidays,
    trading_window_end,
)


def write(tmp_path, text: str, name: str = "events.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_shipped_calendar_loads():
    events = load_events()
    assert Event(date(2026, 12, 9), "FOMC", "", "alvh_cli/data/macro_events.csv") in events
    fomc_2026 = [e.date for e in events if e.kind == "FOMC" and e.date.year == 2026]
    # Federal Reserve 2026 schedule, second day of each meeting
    assert fomc_2026 == [
        date(2026, 1, 28), date(2026, 3, 18), date(2026, 4, 29), date(2026, 6, 17),
        date(2026, 7, 29), date(2026, 9, 16), date(2026, 10, 28), date(2026, 12, 9),
    ]  # fmt: skip
    assert all(e.tentative for e in events if e.kind == "FOMC" and e.date.year == 2027)
    assert all(e.tentative for e in events if e.kind in ("CPI", "PPI") and e.date.year == 2027)
    assert events == sorted(events, key=lambda e: e.date)


def test_shipped_dates_are_trading_days():
    assert all(is_trading_day(e.date) for e in load_events())


def test_user_file_merges_and_overrides(tmp_path):
    p = write(
        tmp_path,
        "# my additions\nDate, Event ,Note\n2026-12-10,cpi,confirmed\n"
        "2026-12-18,OTHER,quad witching\n\n",
    )
    events = load_events([p])
    cpi = [e for e in events if e.date == date(2026, 12, 10) and e.kind == "CPI"]
    assert len(cpi) == 1 and cpi[0].note == "confirmed" and not cpi[0].tentative
    assert cpi[0].source == str(p)
    assert Event(date(2026, 12, 18), "other", "quad witching", str(p)) in events
    assert len(events) == len(load_events()) + 1


def test_user_file_us_dates(tmp_path):
    """MM/DD/YYYY, as history files accept, mixed with ISO dates."""
    p = write(tmp_path, "date,event,note\n12/18/2026,other,quad witching\n2026-12-21,other,\n")
    events = load_events([p])
    assert Event(date(2026, 12, 18), "other", "quad witching", str(p)) in events
    assert Event(date(2026, 12, 21), "other", "", str(p)) in events


def test_user_file_without_note_column(tmp_path):
    p = write(tmp_path, "date,event\n2026-12-21,other\n")
    assert Event(date(2026, 12, 21), "other", "", str(p)) in load_events([p])


@pytest.mark.parametrize(
    "text,key,line,words",
    [
        ("date,event\n2026-12-01,FOMC\n2026-02-30,CPI\n", "date", 3, "2026-02-30"),
        ("date,event\n13/01/2026,CPI\n", "date", 2, "expected YYYY-MM-DD or MM/DD/YYYY"),
        ("date,event\n2026-12-01,NFP\n", "event", 2, "one of FOMC, CPI, PPI, other"),
        ("day,event\n2026-12-01,FOMC\n", "day", 1, "unknown column"),
        ("date,note\n2026-12-01,x\n", "event", 1, "missing column 'event'"),
        ("# only a comment\ndate,event\n2026-12-01\n", "", 3, "expected 2 fields"),
    ],
)
def test_bad_user_file(tmp_path, text, key, line, words):
    p = write(tmp_path, text)
    with pytest.raises(InputError) as e:
        load_events([p])
    assert e.value.source == str(p) and e.value.key == key and e.value.line == line
    assert words in str(e.value)


def test_missing_or_empty_user_file(tmp_path):
    with pytest.raises(InputError, match="cannot read event file"):
        load_events([tmp_path / "nope.csv"])
    with pytest.raises(InputError, match="empty event file"):
        load_events([write(tmp_path, "# nothing\n")])


def test_trading_window_counts_nyse_sessions():
    # Monday 2026-12-07 + 2 sessions = Wednesday 2026-12-09
    assert trading_window_end(date(2026, 12, 7), 2) == date(2026, 12, 9)
    # Friday + 2 sessions skips the weekend
    assert trading_window_end(date(2026, 12, 4), 2) == date(2026, 12, 8)
    # Wednesday before Thanksgiving (NYSE closed Thu 2026-11-26) + 1 = Friday
    assert trading_window_end(date(2026, 11, 25), 1) == date(2026, 11, 27)
    assert trading_window_end(date(2026, 12, 5), 0) == date(2026, 12, 5)
    assert not is_trading_day(date(2026, 4, 3))  # Good Friday: NYSE closed, not a federal holiday


def test_trading_window_matches_pandas_bdate_range():
    hol = sorted(nyse_holidays(2026, 2028))
    day = date(2026, 1, 1)
    while day < date(2028, 1, 1):
        for n in (1, 2, 5):
            after = day + timedelta(days=1)
            expected = pd.bdate_range(after, periods=n, freq="C", holidays=hol)[-1]
            assert trading_window_end(day, n) == expected.date(), (day, n)
        day += timedelta(days=5)


def test_events_within():
    events = load_events()
    hits = events_within(events, date(2026, 12, 7), 2)
    assert [(e.kind, e.date) for e in hits] == [("FOMC", date(2026, 12, 9))]
    assert events_within(events, date(2026, 12, 4), 2) == []
    # inclusive of today: the release day itself counts
    today = events_within(events, date(2026, 12, 9), 0)
    assert [e.kind for e in today] == ["FOMC"]
    # and once it has passed it no longer does
    assert "FOMC" not in [e.kind for e in events_within(events, date(2026, 12, 10), 1)]
