"""``alvh review``: the whole book checked, most urgent first, journalled and compared.

:func:`review` loads every file and folder of the book, checks it
(:func:`alvh_cli.method.check.check_book`), orders and totals it
(:func:`alvh_cli.method.review.review_checks`), appends the decisions to the journal
(:mod:`alvh_cli.journal`) and, when asked, says what changed per position since the
previous review of the same book.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from alvh_cli import journal
from alvh_cli.errors import InputError, InputWarning
from alvh_cli.method.actions import Convert, OpenHedge, Recommendation, Roll, instrument_of
from alvh_cli.method.review import Review, ReviewRow


@dataclass
class ReviewRun:
    """One review: the ``review`` itself, the journal it was recorded in (``review_id``
    None when not recorded), the changes since ``since`` (None unless asked), the input
    warnings and the bad files' errors."""

    review: Review
    journal_path: str | None = None
    review_id: int | None = None
    changes: list[journal.Change] | None = None
    since: journal.ReviewRecord | None = None
    warnings: list[InputWarning] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    records: list | None = None  # each row's output record, in row order (review's records)

    @property
    def exit_status(self) -> int:
        """2 when a file was bad, else 1 when a position needs action, else 0."""
        return 2 if self.errors else 1 if self.review.needs_action else 0


def review(
    books: Sequence[Path | str],
    *,
    market: Path | str | None = None,
    rules: Path | str | None = None,
    history: Sequence[Path | str] | None = None,
    events: Sequence[Path | str] = (),
    journal_path: Path | str | None = None,
    record: bool = True,
    changes: bool = False,
    allow_expired: bool = False,
    chains: Sequence[Path | str] = (),
    now: datetime | None = None,
    argv: Sequence[str] = (),
    per_position_hedges: bool = False,
    records: Callable[[ReviewRow], Any] | None = None,
) -> ReviewRun:
    """Review the book: files and folders (their ``*.toml``) in ``books``.

    ``journal_path`` None: no journal (``changes`` then needs one: InputError). ``record``
    False reads the journal for ``changes`` without appending this review (and without
    creating the file); a review with a bad file is never recorded. ``argv`` is stored
    with the review. The other options (``per_position_hedges`` among them) are
    ``alvh_cli.app.check.check``'s.

    ``records``: each row's output record (a writer's), made by the process that checked
    its position, so a big book's forked copies make theirs; the run's ``records`` holds
    them in row order, and its checks come without what only the records read (their
    Layer 3 alternatives and hedge plan).
    """
    from alvh_cli.app.context import HistoryRead, regime_context, while_parsing
    from alvh_cli.inputs import book
    from alvh_cli.method.check import CheckStream, check_book
    from alvh_cli.method.review import review_checks, rows_of
    from alvh_cli.model.book import warnings_of
    from alvh_cli.output.files import refuse_input

    given_inputs = [*books, *(f for f in (market, rules) if f is not None), *(history or ()),
                    *events, *chains]  # fmt: skip
    if journal_path is not None:  # before the work: an input is never the journal
        refuse_input(journal_path, given_inputs)
        _refuse_journal_in_book(Path(journal_path), books)
    read = HistoryRead(history or ())
    loaded, errors = book.load_book_tolerant(
        books,
        market=market,
        rules=rules,
        allow_expired=allow_expired,
        expand_dirs=True,
        now=now,
        chains=chains,
        meanwhile=while_parsing(read),
    )
    regimes, closes, notes = regime_context(loaded, read, events)
    result = check_book(loaded, regimes, history=closes, book_hedges=not per_position_hedges,
                        stream=records is not None)  # fmt: skip
    made = {}
    if isinstance(result.positions, CheckStream):
        row = rows_of(loaded)
        checks = []
        for pc, record in result.positions.each_with(lambda pc: records(row(pc)), _sent):
            checks.append(pc)
            made[id(pc)] = record
        result = replace(result, positions=checks)
    checked = review_checks(result, loaded)
    run = ReviewRun(checked, warnings=[*warnings_of(loaded), *notes], errors=errors)
    if made:
        run.records = [made[id(r.check)] for r in checked.rows]
    if journal_path is None:
        if changes:
            raise InputError("needs a journal to compare with", option="journal")
        return run
    # nor a file found in a book folder (a journal named *.toml there)
    refuse_input(journal_path, [lf.file.path for lf in loaded] + [e.source for e in errors])
    run.journal_path = str(journal_path)
    keys = {s: str(Path(s).resolve()) for s in {r.check.position.source for r in checked.rows}}
    current = [decision(r, keys[r.check.position.source]) for r in checked.rows]
    given = [str(b) for b in books]
    book_key = sorted({str(Path(b).resolve()) for b in given})
    _journal(run, Path(journal_path), current, record and not errors, changes, given, book_key,
             argv)  # fmt: skip
    if errors and run.changes is not None:
        run.changes = without_unread(run.changes, [e.source for e in errors])
    return run


def _sent(pc):
    """A check as a review keeps it once its record is made: without its position (the
    reader has its own, put back by ``CheckStream.each_with``) nor what only the record
    reads (the Layer 3 alternatives, the hedge plan, each recommendation's alternatives).
    A forked copy's check is pickled both ways: a tenth of the size, and a tenth of the
    time to read back (rebuilding positions was most of it)."""
    recs = tuple(replace(r, alternatives=()) for r in pc.recommendations)
    return replace(pc, position=None, layer3=None, hedge_plan=None, recommendations=recs)


def _refuse_journal_in_book(path: Path, books: Sequence[Path | str]) -> None:
    """A journal named ``*.toml`` in a book folder would be read as one of its position
    files by every review after the one that creates it: refused, naming the folder."""
    if path.suffix.lower() != ".toml" or path.exists():  # one there is an input: said after
        return
    folder = path.parent.resolve()
    for book in books:
        if Path(book).is_dir() and Path(book).resolve() == folder:
            raise InputError(
                f"is in the book folder {book} and named *.toml: the next review would read it "
                "as a position file; give the journal another name or folder",
                str(path),
            )


def default_journal() -> Path:
    """The journal a review records in when none is named: ``journal.sqlite`` in the
    user's data directory."""
    return journal.default_path()


def decision(row: ReviewRow, source_key: str) -> journal.Decision:
    """The journal record of one position's decision."""
    pc = row.check
    return journal.Decision(
        source=pc.position.source,
        position_id=pc.position.id,
        layer=pc.layer,
        source_key=source_key,
        deployed_layers=tuple(pc.position.deployed_layers),
        mark_multiple=pc.mark_multiple,
        tested_side=pc.tested_side,
        actions=row.actions,
        recommendations=tuple(recorded(r) for r in pc.recommendations),
    )


def recorded(r: Recommendation) -> journal.RecordedRecommendation:
    """A recommendation as the journal keeps it: what it trades and its orders."""
    spread: dict = {}
    instrument = None
    if isinstance(r, OpenHedge) and r.hedge is not None:
        h = r.hedge
        instrument = h.instrument
        spread = dict(expiry=h.expiry, long_strike=h.long_strike, short_strike=h.short_strike,
                      quantity=h.quantity)  # fmt: skip
    elif isinstance(r, Convert):
        instrument = r.instrument
        spread = dict(expiry=r.expiry, quantity=r.quantity)
    elif isinstance(r, Roll):
        instrument = r.what.replace(" ", "_")
        spread = dict(expiry=r.to_expiry, quantity=r.quantity)
    elif r.trades:
        instrument = instrument_of(r.trades)
    return journal.RecordedRecommendation(
        action=r.action.value,
        layer=r.layer,
        reason=r.reason,
        attention=r.attention,
        instrument=instrument,
        cost=sum(o.cost for o in r.orders) if r.trades else None,
        orders=tuple(recorded_order(o) for o in r.orders),
        **spread,
    )


def recorded_order(o) -> journal.RecordedOrder:
    """An order (``method.orders.Order``) as the journal keeps it."""
    legs = tuple(
        journal.RecordedOrderLeg(
            g.action,
            g.ratio,
            g.quantity,
            g.occ,
            g.underlying,
            g.root,
            g.type,
            g.strike,
            g.expiry,
            g.price,
        )  # fmt: skip
        for g in o.legs
    )
    return journal.RecordedOrder(o.underlying, o.quantity, o.price_effect, o.limit, legs)


def _journal(run, path, current, record, changes, books, book_key, argv) -> None:
    """Append the review and/or read the previous one; any SQLite failure names the journal."""
    conn = journal.open_journal(path, readonly=not record)
    try:
        if record and conn is not None:
            run.review_id = journal.record_review(
                conn,
                asof=run.review.asof,
                decisions=current,
                argv=argv,
                books=books,
                book_key=book_key,
                regime=run.review.regime.label,
                status="action" if run.review.needs_action else "nothing_to_do",
            )
        if changes:
            prev = None
            if conn is not None:
                prev = journal.previous_review(conn, run.review_id, book_key=book_key)
            run.since = prev
            before = journal.decisions(conn, prev.id) if prev is not None else []
            run.changes = journal.diff_decisions(before, current)
    except sqlite3.Error as exc:
        raise InputError(f"journal error: {exc}", str(path)) from None
    finally:
        if conn is not None:
            conn.close()


def without_unread(changes: list[journal.Change], unread: Sequence[str | Path]) -> list:
    """``changes`` less the "position_gone" of positions whose file could not be read
    today (``unread``: those files): they were not reviewed, not closed."""
    bad = {os.path.realpath(s) for s in unread}
    return [
        c for c in changes if not (c.kind == "position_gone" and os.path.realpath(c.source) in bad)
    ]
