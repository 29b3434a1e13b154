"""Warnings about a snapshot alvh still prices: stale, flat smile, a quote much wider than
its neighbours (alvh_cli.inputs.market_warnings). Expected closes come from the NYSE
calendar (weekends, 2026-11-26 Thanksgiving, 2026-11-27 a 13:00 half day, 2026-01-19
Martin Luther King Jr. Day); expected messages are written out in full."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from test_positions import GOOD, QUOTE, sub

from alvh_cli.inputs.market_warnings import stale_snapshot, wide_quotes
from alvh_cli.inputs.positions import load_file
from alvh_cli.model.domain import Quote
from alvh_cli.model.exchange import last_close
from alvh_cli.model.timing import NEW_YORK

EST = timezone(timedelta(hours=-5))


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("now", "close"),
    [
        (ny(2026, 11, 21, 10, 0), ny(2026, 11, 20, 16, 0)),  # Saturday: Friday's close
        (ny(2026, 11, 23, 9, 0), ny(2026, 11, 20, 16, 0)),  # Monday before the open
        (ny(2026, 11, 24, 15, 59), ny(2026, 11, 23, 16, 0)),  # a minute before the close
        (ny(2026, 11, 24, 16, 0), ny(2026, 11, 24, 16, 0)),  # at the close
        (ny(2026, 11, 26, 20, 0), ny(2026, 11, 25, 16, 0)),  # Thanksgiving: shut all day
        (ny(2026, 11, 27, 14, 0), ny(2026, 11, 27, 13, 0)),  # the half day after it
        (ny(2026, 1, 20, 9, 0), ny(2026, 1, 16, 16, 0)),  # Tuesday after MLK Day
        # 2026-11-30 00:38 UTC is Sunday 19:38 in New York: Friday's 13:00 half day
        (datetime(2026, 11, 30, 0, 38, tzinfo=timezone.utc), ny(2026, 11, 27, 13, 0)),
    ],
)
def test_last_close(now, close):
    assert last_close(now) == close


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """GOOD's market, read from a file (its warnings: none)."""
    path = tmp_path_factory.mktemp("good") / "dec.toml"
    path.write_text(GOOD)
    return load_file(path).market


def test_a_five_day_old_snapshot_is_stale(good):
    # The snapshot of Tuesday 2026-11-24 15:45, read on Sunday night 2026-11-29: the
    # Wednesday and Friday closes came after it.
    market = replace(good, asof=datetime(2026, 11, 24, 15, 45, tzinfo=EST))
    w = stale_snapshot(market, datetime(2026, 11, 30, 0, 38, tzinfo=timezone.utc))
    assert str(w) == (
        f"{market.source}: market.asof: snapshot of 2026-11-24 15:45 EST is older than the last "
        "close (2026-11-27 13:00 EST): prices have moved since — update the market data"
    )


@pytest.mark.parametrize(
    ("asof", "now"),
    [
        (ny(2026, 11, 20, 16, 0), ny(2026, 11, 21, 10, 0)),  # Friday's close read Saturday
        (ny(2026, 11, 20, 16, 0), ny(2026, 11, 23, 9, 29)),  # ... and Monday before the open
        (ny(2026, 11, 24, 15, 45), ny(2026, 11, 24, 15, 50)),  # intraday, same session
        (ny(2026, 11, 27, 13, 0), ny(2026, 11, 28, 12, 0)),  # the half day's close
        (ny(2026, 11, 25, 16, 0), ny(2026, 11, 26, 12, 0)),  # Wednesday's, on Thanksgiving
        (ny(2026, 12, 1, 16, 0), ny(2026, 11, 30, 12, 0)),  # a snapshot from the future
    ],
)
def test_current_snapshots_are_not_stale(good, asof, now):
    assert stale_snapshot(replace(good, asof=asof), now) is None


def test_friday_afternoon_snapshot_is_stale_after_the_close(good):
    w = stale_snapshot(replace(good, asof=ny(2026, 11, 20, 15, 45)), ny(2026, 11, 21, 10, 0))
    assert w.message.startswith(
        "snapshot of 2026-11-20 15:45 EST is older than the last close (2026-11-20 16:00 EST)"
    )


def test_flat_smile_is_a_warning(tmp_path, good):
    path = tmp_path / "dec.toml"
    path.write_text(sub("[market.spx_vol]\natm = 0.165\nskew = -1.1\nsmile = 2.5\n", ""))
    assert [str(w) for w in load_file(path).market.warnings] == [
        f"{path}: market.spx_vol: not given: SPX options without a quote or iv are priced on "
        "a flat smile at VIX/100 (18.2%), which prices out-of-the-money puts far too cheap — "
        "give atm, skew and smile"
    ]
    assert good.warnings == ()


D = date(2026, 12, 18)


def _q(strike, bid, ask, expiry=D, type="put"):
    return Quote("SPX", type, strike, expiry, bid, ask)


def test_a_typed_ask_is_much_wider_than_its_neighbours():
    # Widths 0.30, 0.40, 94.90, 0.40. For 5400 the neighbours' widths are 0.30, 0.40,
    # 0.40: median 0.40, and 94.90 > 3 x 0.40. For 5450 they are 0.30, 0.40, 94.90:
    # median 0.40 again (the outlier does not move a median), 0.40 is not flagged.
    quotes = [_q(5300, 7.0, 7.3), _q(5350, 7.9, 8.3), _q(5400, 10.1, 105.0), _q(5450, 10.1, 10.5)]
    keys = [f"market.quotes[{i}]" for i in range(4)]
    assert [str(w) for w in wide_quotes(quotes, keys, "dec.toml")] == [
        "dec.toml: market.quotes[2]: SPX put 5400 2026-12-18 is 94.90 wide (bid 10.1, ask 105), "
        "more than 3x the 0.40 median width of the 3 nearest quoted strikes — a typo? Its mid "
        "prices the contract"
    ]


@pytest.mark.parametrize(
    ("ask", "flagged"),
    [
        (1.25, True),  # 0.25 wide vs 0.05: over 3x and 0.20 wider
        (1.24, False),  # 0.24: over 3x, but only 0.19 wider (a few ticks)
    ],
)
def test_the_020_floor(ask, flagged):
    quotes = [_q(5300, 1.0, 1.05), _q(5350, 1.0, ask), _q(5400, 1.0, 1.05)]
    assert bool(wide_quotes(quotes, ["a", "b", "c"], "f")) is flagged


def test_the_3x_factor_and_the_groups():
    # 0.60 against 0.25: 0.35 wider but under 3x; another expiry or type is no neighbour.
    quotes = [
        _q(5300, 1.0, 1.25),
        _q(5350, 1.0, 1.6),
        _q(5400, 1.0, 1.25),
        _q(5350, 1.0, 9.0, expiry=date(2027, 1, 15)),
        _q(5350, 1.0, 9.0, type="call"),
    ]
    assert wide_quotes(quotes, list("abcde"), "f") == []


def test_quotes_in_a_file_are_checked(tmp_path):
    path = tmp_path / "dec.toml"
    more = "".join(
        "\n[[market.quotes]]\n" + QUOTE.replace("5450", str(k)).replace("10.50", ask) + "\n"
        for k, ask in ((5400, "10.45"), (5500, "10.55"), (5550, "19.5"))
    )
    path.write_text(GOOD + more)
    warnings = load_file(path).market.warnings
    assert [(w.key, w.message[:40]) for w in warnings] == [
        ("market.quotes[3]", "SPX put 5550 2026-12-18 is 9.40 wide (bi")
    ]


def test_a_stale_snapshot_shared_by_the_quick_start_files_is_one_line(alvh, monkeypatch):
    """The quick start checks seven sample files, each with its own [market] of the same
    moment: read a week later, stderr says so once, naming the first file and the count."""
    from alvh_cli import cli

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    monkeypatch.setattr(cli, "_now", lambda: datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc))
    samples = sorted(str(p.relative_to(root)) for p in (root / "sample_positions").glob("*.toml"))
    run = alvh(["check", *samples])
    stale = [line for line in run.err.splitlines() if "older than the last close" in line]
    assert stale == [
        f"warning: {samples[0]} and {len(samples) - 1} other files: market.asof: snapshot of "
        "2026-11-24 15:45 EST is older than the last close (2026-12-04 16:00 EST): prices have "
        "moved since — update the market data"
    ]
    data = json.loads(alvh(["check", "--format", "json", *samples]).out)
    assert len(data["warnings"]) == len(samples)  # JSON keeps one per file
