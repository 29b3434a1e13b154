"""The decision journal: every ``alvh review`` and what it recommended, in SQLite.

One file (default ``journal.sqlite`` in the user's data directory, from
platformdirs) with two tables:

``reviews``
    one row per run: ``id``, ``run_at`` (UTC, ISO 8601), ``asof`` (the market
    snapshot's), ``argv`` and ``books`` (JSON lists), ``book_key`` (the books
    resolved to absolute paths and sorted, as JSON: what "the same book"
    means), ``regime``, ``status`` (``action`` or ``nothing_to_do``) and
    ``positions`` (count).
``decisions``
    one row per position and review: ``review_id``, ``source`` (file as
    given), ``source_key`` (absolute path), ``position_id``, ``layer`` (the
    layer today's mark calls for), ``deployed_layers`` (JSON), ``mark_multiple``,
    ``tested_side``, ``actions`` (JSON list of action names) and
    ``recommendations`` (JSON: each recommendation's action, reason, hedge spread and
    orders, :class:`RecordedRecommendation`).

The journal writes and reads typed records (:class:`Decision`); the JSON columns are
their ``to_dict`` form, and rows written by earlier versions (which stored more keys per
recommendation) read back into the same records.

Concurrency: the file is in WAL mode, every write is one ``BEGIN IMMEDIATE``
transaction (a review and all its decisions, or nothing), and connections wait
up to ``BUSY_TIMEOUT_S`` for another writer instead of failing, so two reviews
running at once are both recorded and neither can leave a half-written review.
(WAL needs a local filesystem; SQLite's advice against network shares applies.)

A path that is not an SQLite file, or an SQLite file that is not an alvh
journal, is an ``InputError`` naming the path. Only the standard library's
``sqlite3`` is used (platformdirs for the default location).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from alvh_cli.errors import InputError
from alvh_cli.journal.records import (
    Decision,
    Execution,
    execution_from_dict,
    jsonable,
    recommendation_from_dict,
    to_dict,
)

FILE_NAME = "journal.sqlite"
APPLICATION_ID = 0x616C7668  # "alvh": marks the file as ours (PRAGMA application_id)
SCHEMA_VERSION = 2  # PRAGMA user_version: 1 reviews and decisions; 2 executions too
BUSY_TIMEOUT_S = 30.0  # how long a review waits for another one's write to finish

SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    run_at    TEXT NOT NULL,
    asof      TEXT NOT NULL,
    argv      TEXT NOT NULL,
    books     TEXT NOT NULL,
    book_key  TEXT NOT NULL,
    regime    TEXT NOT NULL,
    status    TEXT NOT NULL,
    positions INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_book ON reviews (book_key, id);
CREATE TABLE IF NOT EXISTS decisions (
    review_id       INTEGER NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    source          TEXT NOT NULL,
    source_key      TEXT NOT NULL,
    position_id     TEXT NOT NULL,
    layer           INTEGER NOT NULL,
    deployed_layers TEXT NOT NULL,
    mark_multiple   REAL,
    tested_side     TEXT NOT NULL,
    actions         TEXT NOT NULL,
    recommendations TEXT NOT NULL,
    PRIMARY KEY (review_id, source_key, position_id)
);
CREATE TABLE IF NOT EXISTS executions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_at      TEXT NOT NULL,
    asof        TEXT NOT NULL,
    source      TEXT NOT NULL,
    source_key  TEXT NOT NULL,
    position_id TEXT NOT NULL,
    action      TEXT NOT NULL,
    review_id   INTEGER REFERENCES reviews (id) ON DELETE SET NULL,
    fill        REAL,
    limit_price REAL,
    slippage    REAL,
    signature   TEXT NOT NULL,
    record      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_position ON executions (source_key, position_id, id);
"""
TABLES = {1: {"reviews", "decisions"}, 2: {"reviews", "decisions", "executions"}}

DECISION_COLUMNS = (
    "source", "source_key", "position_id", "layer", "deployed_layers", "mark_multiple",
    "tested_side", "actions", "recommendations",
)  # fmt: skip


@dataclass(frozen=True)
class ReviewRecord:
    """One row of ``reviews``; ``argv``, ``books`` and ``book_key`` decoded from JSON."""

    id: int
    run_at: str
    asof: str
    argv: tuple[str, ...]
    books: tuple[str, ...]
    book_key: tuple[str, ...]
    regime: str
    status: str
    positions: int


def default_path() -> Path:
    """``journal.sqlite`` in the user's data directory (e.g. ``~/.local/share/alvh``)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("alvh", appauthor=False)) / FILE_NAME


# ------------------------------------------------------------------ opening


def open_journal(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection | None:
    """A connection to the journal at ``path``, created (with its directory) if missing.

    ``readonly`` opens an existing journal for reading only and returns None
    when there is none yet (nothing is created). The connection is in
    autocommit mode; writes go through :func:`record_review`.
    """
    if str(path) == "-":
        raise InputError("the journal must be a file path ('-' is not a file)", option="journal")
    path = Path(path).expanduser()
    where = str(path)
    if path.is_dir():
        raise InputError("is a directory; give the journal file's path", where)
    if readonly and (not path.exists() or path.stat().st_size == 0):
        return None
    if not readonly:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"cannot create the journal directory: {exc.strerror or exc}", str(path.parent)
            ) from None
    try:
        if readonly:
            conn = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
            )
        else:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise InputError(f"cannot open the journal: {exc}", where) from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        ready = _with_retry(lambda: _check_or_create(conn, where, readonly))
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise InputError(
                f"journal still busy after {BUSY_TIMEOUT_S:g} s (another alvh writing?)", where
            ) from None
        raise InputError(f"cannot use the journal: {exc}", where) from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise InputError(f"not a usable alvh journal (SQLite says: {exc})", where) from None
    except InputError:
        conn.close()
        raise
    if not ready:
        conn.close()
        return None
    return conn


def _with_retry(step):
    """Run ``step``, retrying while SQLite says busy/locked, up to ``BUSY_TIMEOUT_S``.

    SQLite answers some lock conflicts at once instead of calling the busy
    handler (switching to WAL, upgrading a read to a write while another
    process creates the file), so a second review starting at the same moment
    must wait here rather than fail.
    """
    import time

    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            transient = "locked" in str(exc) or "busy" in str(exc)
            if not transient or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def _inspect(conn: sqlite3.Connection) -> tuple[int, int, dict[str, set[str]]]:
    """(application_id, user_version, each table's column names), read together in one
    snapshot."""
    conn.execute("BEGIN")  # deferred: a consistent read while another process creates the file
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]  # fails on non-SQLite
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        tables = {n: _columns(conn, n) for n in names if n != "sqlite_sequence"}
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
    return app_id, version, tables


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    quoted = table.replace('"', '""')
    return {r[1] for r in conn.execute(f'PRAGMA table_info("{quoted}")')}


def _schema_columns() -> dict[str, set[str]]:
    """Each table of :data:`SCHEMA` with its column names, as SQLite reads the schema."""
    with closing(sqlite3.connect(":memory:")) as mem:
        mem.executescript(SCHEMA)
        return {n: _columns(mem, n) for n in TABLES[SCHEMA_VERSION]}


def _refuse_foreign(state: tuple[int, int, dict[str, set[str]]], where: str) -> None:
    """Refuse another application's SQLite file (its application_id, or tables without
    ours), and a journal of a newer schema than this alvh's."""
    app_id, version, tables = state
    if app_id not in (0, APPLICATION_ID):
        raise InputError(
            f"an SQLite database of another application (application_id {app_id:#x}), not an "
            "alvh journal",
            where,
        )
    if tables and app_id != APPLICATION_ID:
        names = ", ".join(sorted(tables))
        raise InputError(f"an SQLite database but not an alvh journal (tables: {names})", where)
    if version > SCHEMA_VERSION:
        raise InputError(
            f"journal schema version {version} is newer than this alvh "
            f"understands ({SCHEMA_VERSION}); upgrade alvh",
            where,
        )


def _check_or_create(conn: sqlite3.Connection, where: str, readonly: bool) -> bool:
    """Refuse foreign, damaged or newer files; create the schema when writing (only in a
    new, empty database). False: nothing to read."""
    state = _inspect(conn)
    _refuse_foreign(state, where)
    app_id, version, tables = state
    _refuse_damaged(app_id, version, tables, where)
    if readonly:
        return TABLES[1] <= set(tables)
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    if TABLES[SCHEMA_VERSION] <= set(tables) and version == SCHEMA_VERSION:
        return True
    with transaction(conn):
        # Another process may have created (or claimed) the file since the first look.
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        _refuse_foreign((app_id, 0, dict.fromkeys(names - {"sqlite_sequence"})), where)
        for statement in filter(str.strip, SCHEMA.split(";")):
            conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return True


def _refuse_damaged(app_id: int, version: int, tables: dict[str, set[str]], where: str) -> None:
    """A journal of ours (its application_id or a schema version set) that lost a table, or
    whose table lost a column, is damaged: recreating the table would lose the history
    silently (``--changes`` would call every position new). An older version's journal
    gains the newer tables when it is written."""
    if version < 1 and app_id != APPLICATION_ID:
        return  # a new, empty database: the schema is created in it
    missing = sorted(TABLES[min(max(version, 1), SCHEMA_VERSION)] - set(tables))
    if missing:
        raise InputError(
            f"the journal is damaged: its {', '.join(missing)} table"
            f"{'s are' if len(missing) > 1 else ' is'} missing (restore it from a backup, or "
            "give another journal path)",
            where,
        )
    for name, expected in _schema_columns().items():
        lost = sorted(expected - tables.get(name, expected))
        if lost:
            raise InputError(
                f"the journal's {name} table is not alvh's: it has no {', '.join(lost)} "
                f"column{'s' * (len(lost) > 1)} (restore it from a backup, or give another "
                "journal path)",
                where,
            )


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error): takes the write lock up front,
    waiting up to the busy timeout for another writer, so the transaction never fails half-way
    on a lock upgrade."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# ------------------------------------------------------------------ writing


_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def _dumps(value) -> str:
    return _encode(jsonable(value))


def record_review(
    conn: sqlite3.Connection,
    *,
    asof: str,
    decisions: Sequence[Decision],
    argv: Sequence[str] = (),
    books: Sequence[str] = (),
    book_key: Sequence[str] = (),
    regime: str = "unavailable",
    status: str = "nothing_to_do",
    run_at: datetime | None = None,
) -> int:
    """Append one review and its decisions in a single transaction; returns the review id.

    Each decision is a :class:`Decision` (``source_key`` defaults to ``source``).
    ``run_at`` defaults to now, in UTC.
    """
    run_at = (run_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    rows = [
        (
            d.source,
            d.source_key or d.source,
            d.position_id,
            int(d.layer),
            _dumps(list(d.deployed_layers)),
            jsonable(d.mark_multiple),
            d.tested_side or "",
            _dumps(list(d.actions)),
            _encode([to_dict(r) for r in d.recommendations]),  # to_dict: JSON-ready
        )
        for d in decisions
    ]
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO reviews (run_at, asof, argv, books, book_key, regime, status, positions)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_at.isoformat(timespec="milliseconds"),
                asof,
                _dumps(list(argv)),
                _dumps(list(books)),
                _dumps(list(book_key)),
                regime,
                status,
                len(rows),
            ),
        )
        review_id = int(cur.lastrowid)
        conn.executemany(
            f"INSERT INTO decisions (review_id, {', '.join(DECISION_COLUMNS)})"
            f" VALUES ({review_id}, {', '.join('?' * len(DECISION_COLUMNS))})",
            rows,
        )
    return review_id


# ------------------------------------------------------------------ reading


def _review(row: sqlite3.Row | tuple) -> ReviewRecord:
    rid, run_at, asof, argv, books, key, regime, status, n = row
    return ReviewRecord(
        int(rid),
        run_at,
        asof,
        tuple(json.loads(argv)),
        tuple(json.loads(books)),
        tuple(json.loads(key)),
        regime,
        status,
        int(n),
    )


_REVIEW_COLUMNS = "id, run_at, asof, argv, books, book_key, regime, status, positions"


def reviews(conn: sqlite3.Connection, limit: int | None = None) -> list[ReviewRecord]:
    """Reviews, newest first."""
    sql = f"SELECT {_REVIEW_COLUMNS} FROM reviews ORDER BY id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [_review(r) for r in conn.execute(sql)]


def previous_review(
    conn: sqlite3.Connection,
    before_review_id: int | None = None,
    *,
    book_key: Sequence[str] | None = None,
) -> ReviewRecord | None:
    """The latest review before ``before_review_id`` (None: the latest of all).

    With ``book_key`` only reviews of that same book count, so reviewing two
    books alternately compares each with its own last review.
    """
    where, args = [], []
    if before_review_id is not None:
        where.append("id < ?")
        args.append(int(before_review_id))
    if book_key is not None:
        where.append("book_key = ?")
        args.append(_dumps(list(book_key)))
    sql = f"SELECT {_REVIEW_COLUMNS} FROM reviews"
    if where:
        sql += " WHERE " + " AND ".join(where)
    row = conn.execute(sql + " ORDER BY id DESC LIMIT 1", args).fetchone()
    return _review(row) if row else None


def decisions(conn: sqlite3.Connection, review_id: int) -> list[Decision]:
    """The decisions of one review, in the order they were recorded."""
    out = []
    sql = f"SELECT {', '.join(DECISION_COLUMNS)} FROM decisions WHERE review_id = ? ORDER BY rowid"
    for row in conn.execute(sql, (int(review_id),)):
        source, key, pid, layer, deployed, mark, side, actions, recs = row
        out.append(
            Decision(
                source=source,
                position_id=pid,
                layer=int(layer),
                source_key=key,
                deployed_layers=tuple(json.loads(deployed)),
                mark_multiple=mark,
                tested_side=side,
                actions=tuple(json.loads(actions)),
                recommendations=tuple(
                    recommendation_from_dict(r) for r in json.loads(recs) if isinstance(r, dict)
                ),
            )
        )
    return out


def previous_decisions(
    conn: sqlite3.Connection,
    before_review_id: int | None = None,
    *,
    book_key: Sequence[str] | None = None,
) -> list[Decision]:
    """Decisions of :func:`previous_review` (an empty list when there is none)."""
    prev = previous_review(conn, before_review_id, book_key=book_key)
    return decisions(conn, prev.id) if prev else []


# ------------------------------------------------------------------ executions


def record_execution(
    conn: sqlite3.Connection, execution: Execution, run_at: datetime | None = None
) -> int:
    """Append one execution (a fill applied to a position file); returns its id."""
    run_at = (run_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    e = execution
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO executions (run_at, asof, source, source_key, position_id, action, "
            "review_id, fill, limit_price, slippage, signature, record) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_at.isoformat(timespec="milliseconds"), e.asof, e.source,
                e.source_key or e.source, e.position_id, e.action, e.review_id,
                jsonable(e.fill), jsonable(e.limit), jsonable(e.slippage), e.signature,
                _dumps(to_dict(e)),
            ),
        )  # fmt: skip
    return int(cur.lastrowid)


def executions(
    conn: sqlite3.Connection, source_key: str | None = None, position_id: str | None = None
) -> list[tuple[int, str, Execution]]:
    """(id, run_at, execution) of the executions recorded, oldest first; of one position
    when ``source_key`` and ``position_id`` are given. A journal without the table (an
    earlier version's, read only) has none."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "executions" not in names:
        return []
    sql, args = "SELECT id, run_at, record FROM executions", []
    if source_key is not None and position_id is not None:
        sql += " WHERE source_key = ? AND position_id = ?"
        args = [source_key, position_id]
    return [
        (int(i), run_at, execution_from_dict(json.loads(record)))
        for i, run_at, record in conn.execute(sql + " ORDER BY id", args)
    ]


def latest_decision(
    conn: sqlite3.Connection, source_key: str, position_id: str
) -> tuple[int, Decision] | None:
    """The newest review's decision on one position, with the review's id."""
    row = conn.execute(
        "SELECT review_id FROM decisions WHERE source_key = ? AND position_id = ? "
        "ORDER BY review_id DESC LIMIT 1",
        (source_key, position_id),
    ).fetchone()
    if row is None:
        return None
    found = [d for d in decisions(conn, row[0]) if d.key == (source_key, position_id)]
    return (int(row[0]), found[0]) if found else None
