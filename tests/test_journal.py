"""Tests for alvh_cli.journal: schema, bad journal files, transactions, concurrency, diffs.

The concurrency test starts two separate Python processes that append reviews
to one fresh journal at the same moment; both must be recorded in full and
SQLite's own ``PRAGMA integrity_check`` must pass.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from alvh_cli import journal
from alvh_cli.errors import InputError
from alvh_cli.journal import store

ROOT = Path(__file__).resolve().parents[1]


def dec(pid: str, layer: int = 0, actions=("hold",), deployed=(), mark=1.0, source="book/a.toml"):
    return journal.Decision(
        source=source,
        source_key="/abs/" + source,
        position_id=pid,
        layer=layer,
        deployed_layers=tuple(deployed),
        mark_multiple=mark,
        tested_side="put",
        actions=tuple(actions),
        recommendations=tuple(journal.RecordedRecommendation(a) for a in actions),
    )


# ------------------------------------------------------------------ opening


def test_open_creates_directory_schema_and_wal(tmp_path):
    path = tmp_path / "deep" / "er" / "journal.sqlite"
    conn = journal.open_journal(path)
    try:
        assert path.is_file()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA application_id").fetchone()[0] == store.APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == store.BUSY_TIMEOUT_S * 1000
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"reviews", "decisions"} <= tables
    finally:
        conn.close()
    journal.open_journal(path).close()  # reopening an existing journal is fine


def test_default_path_is_in_user_data_dir(monkeypatch, tmp_path):
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_data_dir", lambda *a, **k: str(tmp_path / "data"))
    assert journal.default_path() == tmp_path / "data" / "journal.sqlite"


def test_text_file_is_input_error_naming_path(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("this is not a database\n" * 100)
    with pytest.raises(InputError) as err:
        journal.open_journal(path)
    assert str(path) in str(err.value)
    assert "not a usable alvh journal" in str(err.value)
    assert path.read_text() == "this is not a database\n" * 100  # untouched


def test_truncated_sqlite_header_is_input_error(tmp_path):
    path = tmp_path / "j.sqlite"
    journal.open_journal(path).close()
    data = path.read_bytes()
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200 + data[216:300])
    with pytest.raises(InputError, match="j.sqlite"):
        journal.open_journal(path)


def test_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
    with pytest.raises(InputError) as err:
        journal.open_journal(path)
    assert str(err.value) == (
        f"{path}: an SQLite database but not an alvh journal (tables: customers)"
    )
    with sqlite3.connect(path) as conn:  # nothing was added to it
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]
    assert names == ["customers"]


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "j.sqlite"
    journal.open_journal(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 1}")
    with pytest.raises(InputError, match="newer than this alvh understands"):
        journal.open_journal(path)


def test_directory_is_input_error(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        journal.open_journal(tmp_path)


def test_readonly_does_not_create(tmp_path):
    path = tmp_path / "sub" / "j.sqlite"
    assert journal.open_journal(path, readonly=True) is None
    assert not path.exists() and not path.parent.exists()


def test_readonly_reads_existing(tmp_path):
    path = tmp_path / "j.sqlite"
    conn = journal.open_journal(path)
    journal.record_review(conn, asof="2026-11-24", decisions=[dec("a")], book_key=["k"])
    conn.close()
    ro = journal.open_journal(path, readonly=True)
    try:
        assert [d.position_id for d in journal.previous_decisions(ro, book_key=["k"])] == ["a"]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            journal.record_review(ro, asof="x", decisions=[])
    finally:
        ro.close()


# ------------------------------------------------------------------ writing and reading


def test_record_and_read_back(tmp_path):
    conn = journal.open_journal(tmp_path / "j.sqlite")
    rec = replace(
        dec("a", layer=2, actions=["open_hedge"], deployed=[1], mark=2.25),
        recommendations=(
            journal.RecordedRecommendation("open_hedge", cost=float("nan"), quantity=3),
        ),
    )
    rid = journal.record_review(
        conn,
        asof="2026-11-24T15:45:00-05:00",
        decisions=[rec],
        argv=["review", "book"],
        books=["book"],
        book_key=["/abs/book"],
        regime="normal",
        status="action",
    )
    (r,) = journal.reviews(conn)
    assert (r.id, r.asof, r.argv, r.books, r.book_key, r.regime, r.status, r.positions) == (
        rid,
        "2026-11-24T15:45:00-05:00",
        ("review", "book"),
        ("book",),
        ("/abs/book",),
        "normal",
        "action",
        1,
    )
    assert r.run_at.endswith("+00:00")  # UTC
    (back,) = journal.decisions(conn, rid)
    # NaN is stored as null: a cost the review could not work out reads back as None
    assert back == replace(
        rec,
        recommendations=(journal.RecordedRecommendation("open_hedge", cost=None, quantity=3),),
    )
    conn.close()


def test_previous_review_by_id_and_book(tmp_path):
    conn = journal.open_journal(tmp_path / "j.sqlite")
    one = journal.record_review(conn, asof="d1", decisions=[dec("a")], book_key=["A"])
    journal.record_review(conn, asof="d1", decisions=[dec("b")], book_key=["B"])
    three = journal.record_review(conn, asof="d2", decisions=[dec("a", 1)], book_key=["A"])
    assert journal.previous_review(conn).asof == "d2"
    assert journal.previous_review(conn, three, book_key=["A"]).id == one
    assert journal.previous_review(conn, one, book_key=["A"]) is None
    assert journal.previous_decisions(conn, three, book_key=["B"])[0].position_id == "b"
    assert journal.previous_decisions(conn, book_key=["C"]) == []
    conn.close()


def test_failed_write_leaves_nothing(tmp_path):
    """A review whose decisions cannot all be written is not recorded at all."""
    conn = journal.open_journal(tmp_path / "j.sqlite")
    with pytest.raises(sqlite3.IntegrityError):  # same position twice: primary key
        journal.record_review(conn, asof="d", decisions=[dec("a"), dec("a")])
    assert journal.reviews(conn) == []
    assert conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 0
    assert not conn.in_transaction
    conn.close()


# ------------------------------------------------------------------ concurrency

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from alvh_cli import journal
    path, name, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    hold = journal.RecordedRecommendation("hold", reason="x" * 200)
    decisions = [
        journal.Decision(source=f"{name}.toml", position_id=f"p{i}", layer=i % 4,
                         deployed_layers=(1,), mark_multiple=1.0 + i / 100, tested_side="put",
                         actions=("hold",), recommendations=(hold,))
        for i in range(300)
    ]
    Path(go.parent / f"ready-{name}").touch()
    while not go.exists():
        time.sleep(0.002)
    for k in range(n):
        conn = journal.open_journal(path)   # both open (and create) the file at once
        journal.record_review(conn, asof=f"{name}-{k}", decisions=decisions, book_key=[name])
        conn.close()
    """
)


def _spawn(script: str, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_together(tmp_path: Path, script: str, args: list[list[str]]) -> list[tuple]:
    """Run one process per argument list; release them at once; return (rc, stdout, stderr)."""
    go = tmp_path / "go"
    procs = [_spawn(script, *a, str(go)) for a in args]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("ready-*"))) < len(procs):
        assert time.monotonic() < deadline, "writers did not start"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.01)
    go.touch()
    return [(p.wait(timeout=120), *p.communicate()) for p in procs]


def test_two_processes_writing_at_once_are_both_recorded(tmp_path):
    path = tmp_path / "j.sqlite"
    n = 15
    results = start_together(
        tmp_path, WRITER, [[str(path), "alpha", str(n)], [str(path), "beta", str(n)]]
    )
    for rc, _, err in results:
        assert rc == 0, err
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT id, asof, positions FROM reviews ORDER BY id").fetchall()
        counts = dict(conn.execute("SELECT review_id, count(*) FROM decisions GROUP BY review_id"))
    assert sorted(a for _, a, _ in rows) == sorted(
        f"{name}-{k}" for name in ("alpha", "beta") for k in range(n)
    )
    assert all(counts[rid] == positions == 300 for rid, _, positions in rows)
    # each writer's reviews are in its own order (ids grow with commit order)
    for name in ("alpha", "beta"):
        mine = [a for _, a, _ in rows if a.startswith(name)]
        assert mine == [f"{name}-{k}" for k in range(n)]


def test_writer_waits_for_a_held_lock(tmp_path):
    """A second writer waits for the first one's transaction instead of failing."""
    path = tmp_path / "j.sqlite"
    journal.open_journal(path).close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.5, lambda: holder.execute("COMMIT")).start()
    conn = journal.open_journal(path)
    start = time.monotonic()
    assert journal.record_review(conn, asof="d", decisions=[dec("a")]) == 1
    assert time.monotonic() - start >= 0.4
    conn.close()
    holder.close()


def test_lock_held_past_the_timeout_is_input_error(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "j.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a fresh file: creating the schema needs the lock
    with pytest.raises(InputError, match=r"j.sqlite: journal still busy after 0.2 s"):
        journal.open_journal(path)
    holder.execute("ROLLBACK")
    holder.close()


# ------------------------------------------------------------------ diff


def kinds(changes):
    return [(c.id, c.kind) for c in changes]


def test_diff_nothing_changed():
    prev = [dec("a", 1, ["open_hedge"], mark=1.6), dec("b")]
    curr = [dec("a", 1, ["open_hedge"], mark=1.7), dec("b", mark=0.9)]
    assert journal.diff_decisions(prev, curr) == []


def test_diff_every_kind():
    prev = [
        dec("new-layer", 1, ["open_hedge"], mark=1.6),
        dec("dropped", 2, ["hold"], deployed=[1, 2], mark=2.1),
        dec("unwind", 1, ["hold"], deployed=[1], mark=1.3),
        dec("profit", 0, ["hold"], mark=0.6),
        dec("hedged", 1, ["open_hedge"], mark=1.6),
        dec("gone", 3, ["convert"], mark=3.2),
    ]
    curr = [
        dec("new-layer", 2, ["open_hedge"], mark=2.1),
        dec("dropped", 1, ["hold"], deployed=[1, 2], mark=1.6),
        dec("unwind", 0, ["close_hedge"], deployed=[1], mark=1.1),
        dec("profit", 0, ["take_profit"], mark=0.45),
        dec("hedged", 1, ["hold"], deployed=[1], mark=1.6),
        dec("fresh", 0, ["hold"], mark=1.0),
    ]
    changes = journal.diff_decisions(prev, curr)
    assert kinds(changes) == [
        ("new-layer", "new_layer"),
        ("dropped", "layer_dropped"),
        ("unwind", "layer_dropped"),
        ("unwind", "unwind"),
        ("profit", "take_profit"),
        ("hedged", "action_changed"),
        ("hedged", "layers_on_changed"),
        ("fresh", "new_position"),
        ("gone", "position_gone"),
    ]
    by = {(c.id, c.kind): c for c in changes}
    assert by[("new-layer", "new_layer")].detail == "layer 1 → 2"
    assert by[("unwind", "unwind")].detail == "hold → close_hedge"
    assert by[("hedged", "action_changed")].detail == "open_hedge → hold"
    assert by[("hedged", "layers_on_changed")].detail == "layers on none → 1"
    gone = by[("gone", "position_gone")]
    assert (gone.layer_before, gone.layer_after, gone.mark_before, gone.mark_after) == (
        3,
        None,
        3.2,
        None,
    )
    fresh = by[("fresh", "new_position")]
    assert (fresh.layer_before, fresh.actions_before, fresh.actions_after) == (
        None,
        None,
        ["hold"],
    )


def test_diff_matches_on_resolved_source():
    """The same file reached by another relative path is the same position."""
    a = dec("x", source="book/a.toml")
    b = replace(dec("x", layer=1, source="./book/a.toml"), source_key=a.source_key)
    assert kinds(journal.diff_decisions([a], [b])) == [("x", "new_layer")]
    other = dec("x", source="other/a.toml")
    assert kinds(journal.diff_decisions([a], [other])) == [
        ("x", "new_position"),
        ("x", "position_gone"),
    ]


def test_diff_unwind_with_one_layer_kept_is_still_an_unwind():
    prev = [dec("a", 2, ["hold"], deployed=[1, 2], mark=2.1)]
    curr = [dec("a", 2, ["close_hedge", "hold"], deployed=[1, 2], mark=2.1)]
    assert kinds(journal.diff_decisions(prev, curr)) == [("a", "unwind")]


def test_a_row_of_an_earlier_version_reads_back_typed(tmp_path):
    """Earlier versions stored each recommendation's whole JSON record (figures, legs,
    legend keys...): the typed record keeps what it knows and ignores the rest."""
    conn = journal.open_journal(tmp_path / "j.sqlite")
    rid = journal.record_review(conn, asof="d", decisions=[dec("a", 1, ["open_hedge"])])
    old = {
        "action": "open_hedge", "layer": 1, "reason": "mark 1.61x >= 1.5x", "attention": False,
        "instrument": "vix_call_spread", "expiry": "2026-12-16", "long_strike": 21,
        "short_strike": 28, "quantity": 6, "debit": 1.35, "cost_at_fills": 810.0,
        "cost": 810.0, "ev_before": 12.5, "worst_rung_before": "SPX -20%", "legs": [],
        "orders": [{"underlying": "VIX", "quantity": 6, "price_effect": "debit", "limit": 1.35,
                    "limit_text": "debit 1.35", "tick": 0.01, "cost": 810.0,
                    "legs": [{"action": "BTO", "ratio": 1, "quantity": 6,
                              "occ": "VIX   261216C00021000", "underlying": "VIX",
                              "root": "VIX", "type": "call", "strike": 21,
                              "expiry": "2026-12-16", "price": 1.9, "model": 1.85}]}],
    }  # fmt: skip
    conn.execute("UPDATE decisions SET recommendations = ?", (json.dumps([old]),))
    (back,) = journal.decisions(conn, rid)
    (rec,) = back.recommendations
    assert (rec.action, rec.layer, rec.instrument, rec.expiry) == (
        "open_hedge", 1, "vix_call_spread", date(2026, 12, 16),
    )  # fmt: skip
    assert (rec.long_strike, rec.short_strike, rec.quantity, rec.cost) == (21, 28, 6, 810.0)
    (order,) = rec.orders
    assert (order.limit, order.price_effect, order.legs[0].occ) == (
        1.35, "debit", "VIX   261216C00021000",
    )  # fmt: skip
    conn.close()


def test_a_record_to_json_by_hand():
    # nested records as dicts, tuples as lists, dates in ISO form, numpy numbers as
    # Python's, NaN and inf as null
    import numpy as np

    leg = journal.RecordedOrderLeg(
        "BTO", 1, np.int64(6), None, "VIX", "VIX", "call", np.float64(21.5), date(2026, 12, 16),
        float("nan"),
    )  # fmt: skip
    order = journal.RecordedOrder("VIX", 6, "debit", float("inf"), (leg,))
    rec = journal.RecordedRecommendation(
        "open_hedge", 1, "why", False, "vix_call_spread", date(2026, 12, 16), 21.5, 26, 6.0,
        810.0, (order,),
    )  # fmt: skip
    got = journal.to_dict(rec)
    assert got == {
        "action": "open_hedge", "layer": 1, "reason": "why", "attention": False,
        "instrument": "vix_call_spread", "expiry": "2026-12-16", "long_strike": 21.5,
        "short_strike": 26, "quantity": 6.0, "cost": 810.0,
        "orders": [{
            "underlying": "VIX", "quantity": 6, "price_effect": "debit", "limit": None,
            "legs": [{
                "action": "BTO", "ratio": 1, "quantity": 6, "occ": None, "underlying": "VIX",
                "root": "VIX", "type": "call", "strike": 21.5, "expiry": "2026-12-16",
                "price": None,
            }],
        }],
    }  # fmt: skip
    assert type(got["orders"][0]["legs"][0]["quantity"]) is int
    assert json.dumps(got, allow_nan=False)  # JSON-ready as it stands
