"""Many files through the CLI: a bad file does not stop the others, warnings reach the user.

``check`` and ``review`` load each file on its own, print the good files' results,
then one line per bad file on stderr, and exit 2 (2 wins over 1). JSON carries
``errors`` and ``warnings`` beside ``positions``. A bad shared --market or --rules is
still fatal. Every message is written out in full.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from alvh_cli import cli

SAMPLES = Path(__file__).resolve().parent.parent / "sample_positions"
SPOT_SLIP = "60000 is more than 5x every strike of position 'dec-call' (5500 to 6200) — a typo?"
LOOP = "symbolic link loop: cannot read the file"


@pytest.fixture
def book(tmp_path):
    """Two good files (one needs a Layer 1 hedge: exit 1 alone), a typo'd spot, a link loop."""
    folder = tmp_path / "book"
    folder.mkdir()
    shutil.copy(SAMPLES / "calm.toml", folder / "a_calm.toml")
    shutil.copy(SAMPLES / "put_tested_1_6x.toml", folder / "b_tested.toml")
    text = (SAMPLES / "call_tested.toml").read_text()
    spx = next(line for line in text.splitlines() if line.startswith("spx = "))
    (folder / "c_bad.toml").write_text(text.replace(spx, "spx = 60000"))
    (folder / "d_loop.toml").symlink_to(folder / "d_loop.toml")
    return folder


def _files(book):
    return sorted(book.glob("*.toml"))


def test_check_reports_the_good_files_then_each_bad_one(book, alvh):
    code, out, err = alvh(["check", *_files(book), "--format", "json"])
    assert code == 2  # the good files alone would exit 1 (dec-1 needs an action): 2 wins
    data = json.loads(out)
    assert [p["id"] for p in data["positions"]] == ["dec-calm", "dec-1"]
    acted = [r["action"] for r in data["positions"][1]["recommendations"]]
    assert any(a != "hold" for a in acted)
    assert data["errors"] == [
        {
            "source": str(book / "c_bad.toml"),
            "key": "market.spx",
            "message": SPOT_SLIP,
            "line": None,
        },
        {"source": str(book / "d_loop.toml"), "key": "", "message": LOOP, "line": None},
    ]
    assert data["warnings"] == []
    assert err.splitlines() == [
        f"alvh: {book / 'c_bad.toml'}: market.spx: {SPOT_SLIP}",
        f"alvh: {book / 'd_loop.toml'}: {LOOP}",
    ]


def test_check_table_prints_results_before_the_errors(book, alvh):
    code, out, err = alvh(["check", *_files(book)])
    assert code == 2
    assert "dec-calm" in out and "dec-1" in out
    assert len(err.splitlines()) == 2 and "Traceback" not in err


def test_a_syntax_error_keeps_its_line(book, alvh):
    (book / "c_bad.toml").write_text("[market\n")
    code, out, _ = alvh(["check", *_files(book)[:3], "-f", "json"])
    assert code == 2
    (error,) = json.loads(out)["errors"]
    assert error["line"] == 1 and error["message"].startswith("TOML syntax error: ")


def test_only_bad_files_print_no_table(book, alvh):
    code, out, err = alvh(["check", book / "c_bad.toml"])
    assert (code, out) == (2, "")
    assert err == f"alvh: {book / 'c_bad.toml'}: market.spx: {SPOT_SLIP}\n"


def test_review_goes_on_and_does_not_journal_a_partial_book(book, tmp_path, alvh):
    journal = tmp_path / "journal.sqlite"
    code, out, err = alvh(["review", book, "--journal", journal, "--format", "json"])
    assert code == 2
    data = json.loads(out)
    assert [p["id"] for p in data["positions"]] == ["dec-1", "dec-calm"]  # most urgent first
    assert [e["source"] for e in data["errors"]] == [
        str(book / "c_bad.toml"),
        str(book / "d_loop.toml"),
    ]
    # Part of the book is not a review of the book: tomorrow's --changes would call the
    # bad file's positions new. Nothing is recorded.
    assert data["journal"] == {"path": str(journal), "review_id": None}
    assert not journal.exists()
    assert err.splitlines()[-2:] == [
        f"alvh: {book / 'c_bad.toml'}: market.spx: {SPOT_SLIP}",
        f"alvh: {book / 'd_loop.toml'}: {LOOP}",
    ]


def test_review_changes_do_not_call_an_unread_file_gone(book, tmp_path, alvh):
    journal = tmp_path / "journal.sqlite"
    (book / "d_loop.toml").unlink()
    bad = (book / "c_bad.toml").read_text()
    (book / "c_bad.toml").write_text((SAMPLES / "call_tested.toml").read_text())
    code, _, _ = alvh(["review", book, "--journal", journal])
    assert code == 1  # the whole book, recorded
    (book / "c_bad.toml").write_text(bad)
    code, out, _ = alvh(["review", book, "--journal", journal, "--changes", "-f", "json"])
    assert code == 2
    assert json.loads(out)["changes"]["changes"] == []  # not "position_gone" for dec-call
    with sqlite3.connect(journal) as conn:
        assert conn.execute("SELECT COUNT(*) FROM reviews").fetchone() == (1,)


def test_a_bad_shared_market_is_still_fatal(book, tmp_path, alvh):
    market = tmp_path / "today.toml"
    text = (SAMPLES / "calm.toml").read_text()
    market.write_text(text.replace("asof = 2026-11-24T15:45:00-05:00", "asof = 2026-11-28"))
    code, out, err = alvh(["review", book, "--market", market])
    assert (code, out) == (2, "")
    assert err == (
        f"alvh: {market}: market.asof: 2026-11-28 is a Saturday, not a trading day: no market "
        "snapshot comes from it (the trading day before is 2026-11-27)\n"
    )


def test_a_bad_shared_rules_key_is_one_line(book, tmp_path, alvh):
    rules = tmp_path / "rules.toml"
    rules.write_text("[rules]\nlayer1_multipel = 1.4\n")
    code, out, err = alvh(["check", *_files(book)[:2], "--rules", rules])
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and "did you mean 'layer1_multiple'" in err


def test_stale_snapshot_warns_on_stderr_and_in_json(book, monkeypatch, alvh):
    # Sunday 2026-11-29 19:38 New York: the samples' snapshot (Tuesday 15:45) is five
    # days old; the last close was Friday's 13:00 half day.
    monkeypatch.setattr(cli, "_now", lambda: datetime(2026, 11, 30, 0, 38, tzinfo=timezone.utc))
    calm = book / "a_calm.toml"
    message = (
        "snapshot of 2026-11-24 15:45 EST is older than the last close (2026-11-27 13:00 EST): "
        "prices have moved since — update the market data"
    )
    code, out, err = alvh(["check", calm, "-f", "json"])
    assert code == 0
    assert json.loads(out)["warnings"] == [
        {"source": str(calm), "key": "market.asof", "message": message}
    ]
    assert err == f"warning: {calm}: market.asof: {message}\n"
    code, out, err = alvh(["check", calm])
    assert code == 0 and "dec-calm" in out
    assert err == f"warning: {calm}: market.asof: {message}\n"
    # One shared snapshot: one warning, not one per file.
    code, _, err = alvh(
        ["review", book / "a_calm.toml", book / "b_tested.toml", "--market", calm, "--no-journal"]
    )
    assert err == f"warning: {calm}: market.asof: {message}\n"
    code, out, err = alvh(["price", calm, "-f", "json"])
    assert json.loads(out)["warnings"][0]["message"] == message and err.startswith("warning: ")


def test_flat_smile_warns_in_review_json(book, alvh):
    calm = book / "a_calm.toml"
    text = calm.read_text()
    smile = re.search(r"\[market\.spx_vol\][^\n]*\n(?:\w+ = [^\n]*\n)+", text).group()
    calm.write_text(text.replace(smile, ""))
    code, out, err = alvh(["review", calm, "--no-journal", "-f", "json"])
    assert code == 0, err
    assert json.loads(out)["warnings"] == [
        {
            "source": str(calm),
            "key": "market.spx_vol",
            "message": "not given: SPX options without a quote or iv are priced on a flat smile "
            "at VIX/100 (14.2%), which prices out-of-the-money puts far too cheap — give atm, "
            "skew and smile",
        }
    ]
