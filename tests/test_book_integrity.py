"""A book counted once, a journal trusted only whole, a snapshot never from the future.

- A position file reached twice (a hard link or a symbolic link in the folder, a file
  given beside its folder) is reviewed once: the totals count its positions once, and
  one warning line names each other path to it (as check and price do). A file named
  beside the folder that holds it is the same path: read once, without a word. A
  ``--market`` file linked into the book's folder is not read as a position file.
- A journal that is not whole (a table dropped, a column renamed) or not alvh's (another
  application's SQLite file) is refused with one line naming it, before anything is
  written to it: re-creating a dropped table would make ``--changes`` call every
  position new.
- A snapshot whose ``asof`` is after the clock (pinned by ``conftest.py`` at
  2026-11-24 15:50 New York) by more than a minute is refused for its file; within a
  minute it is a warning (two clocks may disagree by that much).

Every case asserts the exit status, the whole stderr, and that the inputs are untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "sample_positions"
ASOF = "asof = 2026-11-24T15:45:00-05:00"


def fingerprint(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: its content's digest and its modification time. Not
    SQLite's side files when they hold nothing to lose: an empty ``-wal`` (a reader may
    create or remove it) and the ``-shm`` index (any reader rewrites it)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.is_symlink() or p.name.endswith("-shm"):
            continue
        if p.name.endswith("-wal") and p.stat().st_size == 0:
            continue
        out[str(p)] = (hashlib.sha256(p.read_bytes()).digest(), p.stat().st_mtime_ns)
    return out


@pytest.fixture
def book(tmp_path):
    folder = tmp_path / "book"
    folder.mkdir()
    for name in ("calm.toml", "put_tested_1_6x.toml", "book.toml"):
        shutil.copy(SAMPLES / name, folder / name)
    return folder


def review_json(alvh, *args):
    code, out, err = alvh(["review", *args, "--no-journal", "-f", "json"])
    return code, json.loads(out) if out else None, err


# ------------------------------------------------------------------ one file, once


def test_a_hard_link_in_the_folder_is_reviewed_once(book, alvh):
    code0, plain, err0 = review_json(alvh, book)
    os.link(book / "book.toml", book / "linked.toml")  # sorts after book.toml: the copy
    os.symlink(book / "calm.toml", book / "symlinked.toml")
    before = fingerprint(book)
    code, linked, err = review_json(alvh, book)
    assert (code0, err0) == (1, "")
    assert code == 1
    assert err.splitlines() == [
        f"warning: {book / 'book.toml'}: also given as {book / 'linked.toml'}: read once",
        f"warning: {book / 'calm.toml'}: also given as {book / 'symlinked.toml'}: read once",
    ]
    # book.toml holds three positions, calm and put_tested_1_6x one each: five, not nine
    ids = [(p["id"], Path(p["source"]).name) for p in linked["positions"]]
    assert sorted(ids) == sorted(
        [("dec-tight", "book.toml"), ("jan-ic", "book.toml"), ("dec-wide", "book.toml"),
         ("dec-calm", "calm.toml"), ("dec-1", "put_tested_1_6x.toml")]
    )  # fmt: skip
    assert linked["totals"] == plain["totals"]
    assert fingerprint(book) == before


def test_a_file_given_beside_its_folder_through_a_hard_link_is_reviewed_once(book, tmp_path, alvh):
    _, plain, _ = review_json(alvh, book)
    elsewhere = tmp_path / "elsewhere.toml"
    os.link(book / "calm.toml", elsewhere)
    code, data, err = review_json(alvh, book, elsewhere)
    assert (code, err) == (
        1,
        f"warning: {book / 'calm.toml'}: also given as {elsewhere}: read once\n",
    )
    assert [p["id"] for p in data["positions"]].count("dec-calm") == 1
    assert data["totals"] == plain["totals"]


def test_a_file_given_beside_its_own_folder_is_read_once_without_a_word(book, alvh):
    _, plain, _ = review_json(alvh, book)
    code, data, err = review_json(alvh, book, book / "calm.toml", book)
    assert (code, err) == (1, "")
    assert data["positions"] == plain["positions"] and data["totals"] == plain["totals"]


def test_a_market_file_hard_linked_into_the_folder_is_not_a_position_file(book, tmp_path, alvh):
    market = tmp_path / "today.toml"
    text = (SAMPLES / "calm.toml").read_text()
    market.write_text(text[text.index("\n[market]\n") : text.index("\n[[positions]]")])
    _, plain, _ = review_json(alvh, book, "--market", market)
    os.link(market, book / "today.toml")
    before = fingerprint(tmp_path)
    code, data, err = review_json(alvh, book, "--market", market)
    assert (code, err) == (1, "")
    assert data["positions"] == plain["positions"] and data["errors"] == []
    assert fingerprint(tmp_path) == before


def test_the_journal_records_a_linked_file_once(book, tmp_path, alvh):
    os.link(book / "calm.toml", book / "zz_calm.toml")
    journal = tmp_path / "journal.sqlite"
    code, _, err = alvh(["review", book, "--journal", journal, "-f", "json"])
    assert (code, err) == (
        1,
        f"warning: {book / 'calm.toml'}: also given as {book / 'zz_calm.toml'}: read once\n",
    )
    with sqlite3.connect(journal) as conn:
        rows = conn.execute("SELECT position_id FROM decisions").fetchall()
    assert sorted(r[0] for r in rows) == ["dec-1", "dec-calm", "dec-tight", "dec-wide", "jan-ic"]


# ------------------------------------------------------------------ the journal


@pytest.fixture
def journal(book, tmp_path, alvh):
    """A journal holding one review of ``book``."""
    path = tmp_path / "journal.sqlite"
    code, _, err = alvh(["review", book, "--journal", path])
    assert (code, err) == (1, "")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def spoil(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for s in statements:
        conn.execute(s)
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


DAMAGED = "the journal is damaged: its {} missing (restore it from a backup, or give another journal path)"  # noqa: E501


@pytest.mark.parametrize(
    ("statements", "message"),
    [
        (["DROP TABLE decisions"], DAMAGED.format("decisions table is")),
        (["DROP TABLE reviews"], DAMAGED.format("reviews table is")),
        (["DROP TABLE executions"], DAMAGED.format("executions table is")),
        (
            ["DROP TABLE decisions", "DROP TABLE executions", "DROP TABLE reviews"],
            DAMAGED.format("decisions, executions, reviews tables are"),
        ),
        # the tables dropped and the version reset: the application id still says alvh's
        (
            ["DROP TABLE decisions", "PRAGMA user_version = 0"],
            DAMAGED.format("decisions table is"),
        ),
        (
            ["ALTER TABLE decisions RENAME COLUMN actions TO acts"],
            "the journal's decisions table is not alvh's: it has no actions column (restore "
            "it from a backup, or give another journal path)",
        ),
        (
            ["PRAGMA application_id = 0"],
            "an SQLite database but not an alvh journal (tables: decisions, executions, reviews)",
        ),
    ],
)
@pytest.mark.parametrize("extra", [[], ["--changes"], ["--changes", "--no-journal"]])
def test_a_journal_not_whole_is_refused_and_left_alone(
    book, journal, alvh, statements, message, extra
):
    spoil(journal, *statements)
    before = fingerprint(journal.parent)
    code, out, err = alvh(["review", book, "--journal", journal, *extra])
    assert (code, out, err) == (2, "", f"alvh: {journal}: {message}\n")
    assert fingerprint(journal.parent) == before


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            ["CREATE TABLE notes (id INTEGER, body TEXT)"],
            "an SQLite database but not an alvh journal (tables: notes)",
        ),
        (
            ["PRAGMA application_id = 1234", "PRAGMA user_version = 7"],
            "an SQLite database of another application (application_id 0x4d2), not an alvh journal",
        ),
    ],
)
def test_another_applications_sqlite_file_is_refused(book, tmp_path, alvh, make, message):
    path = tmp_path / "other.sqlite"
    spoil(path, *make)
    before = fingerprint(tmp_path)
    code, out, err = alvh(["review", book, "--journal", path])
    assert (code, out, err) == (2, "", f"alvh: {path}: {message}\n")
    assert fingerprint(tmp_path) == before


def test_an_empty_sqlite_file_becomes_a_journal(book, tmp_path, alvh):
    path = tmp_path / "empty.sqlite"
    spoil(path, "CREATE TABLE t (x)", "DROP TABLE t")
    code, _, err = alvh(["review", book, "--journal", path])
    assert (code, err) == (1, "")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM reviews").fetchone() == (1,)


# ------------------------------------------------------------------ the clock


def with_asof(tmp_path: Path, name: str, asof: str) -> Path:
    path = tmp_path / name
    path.write_text((SAMPLES / "calm.toml").read_text().replace(ASOF, f"asof = {asof}"))
    return path


FUTURE = (
    "market.asof: {} is in the future (the clock says 2026-11-24 15:50 EST): no snapshot "
    "comes from a moment still to come — a typo in the date or time? (a date alone means "
    "its 16:00 close)"
)


@pytest.mark.parametrize(
    ("asof", "shown"),
    [
        ("2026-11-24T15:51:01-05:00", "2026-11-24 15:51 EST"),  # 61 s ahead
        ("2026-11-25T15:45:00-05:00", "2026-11-25 15:45 EST"),  # tomorrow
        ("2026-11-24", "2026-11-24 16:00 EST"),  # today's close, ten minutes away
        ("2027-11-24T15:45:00-05:00", "2027-11-24 15:45 EST"),  # a year slipped
    ],
)
def test_a_snapshot_from_the_future_is_refused_for_its_file(tmp_path, alvh, asof, shown):
    bad = with_asof(tmp_path, "bad.toml", asof)
    good = tmp_path / "good.toml"
    shutil.copy(SAMPLES / "put_tested_1_6x.toml", good)
    before = fingerprint(tmp_path)
    code, out, err = alvh(["check", good, bad, "-f", "json"])
    assert code == 2
    assert [p["id"] for p in json.loads(out)["positions"]] == ["dec-1"]  # the good file kept
    assert err == f"alvh: {bad}: {FUTURE.format(shown)}\n"
    assert fingerprint(tmp_path) == before


def test_a_shared_market_from_the_future_stops_the_run(book, tmp_path, alvh):
    market = with_asof(tmp_path, "today.toml", "2026-11-25T09:30:00-05:00")
    code, out, err = alvh(["review", book, "--market", market, "--no-journal"])
    assert (code, out) == (2, "")
    assert err == f"alvh: {market}: {FUTURE.format('2026-11-25 09:30 EST')}\n"


@pytest.mark.parametrize(
    ("asof", "seconds", "stamp"),
    [
        ("2026-11-24T15:50:01-05:00", 1, "15:50"),
        ("2026-11-24T20:50:30Z", 30, "15:50"),  # the same instant in UTC
        ("2026-11-24T15:51:00-05:00", 60, "15:51"),  # a minute exactly: still a warning
    ],
)
def test_a_snapshot_within_a_minute_of_the_clock_is_a_warning(tmp_path, alvh, asof, seconds, stamp):
    path = with_asof(tmp_path, "calm.toml", asof)
    code, out, err = alvh(["check", path, "-f", "json"])
    assert code == 0
    assert [p["id"] for p in json.loads(out)["positions"]] == ["dec-calm"]
    assert err == (
        f"warning: {path}: market.asof: snapshot of 2026-11-24 {stamp} EST is {seconds} s ahead "
        "of the clock (2026-11-24 15:50 EST): this computer's clock or the snapshot's is off\n"
    )


def test_a_snapshot_at_the_clock_is_not_ahead(tmp_path, alvh):
    path = with_asof(tmp_path, "calm.toml", "2026-11-24T15:50:00-05:00")
    code, _, err = alvh(["check", path, "-f", "json"])
    assert (code, err) == (0, "")
