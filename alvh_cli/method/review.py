"""The book review: every position most urgent first, book totals, and the journal.

``review_book`` runs the daily check over the whole book, sorts the positions
by urgency (the layer today's mark calls for, 3 first, then the mark, highest
first), adds up the book's dollar Greeks and hedge spend against budget,
records the decisions in the journal (``alvh_cli.journal``) and, when asked,
says what changed per position since the previous review of the same book.
It returns plain data; ``output/review.py`` presents it.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from alvh_cli import journal
from alvh_cli.errors import InputError
from alvh_cli.method.check import check_book
from alvh_cli.method.hedges import hedge_budget, hedge_spent
from alvh_cli.method.regime import Regime
from alvh_cli.model.book import LoadedFile

TOTAL_GREEKS = ("delta", "gamma", "vega", "theta")


@dataclass
class ReviewResult:
    """One review, as plain data.

    ``rows``: one dict per position, most urgent first: the ``check`` JSON
    fields without ``recommendations``, plus ``actions`` (names),
    ``needs_action``, ``hedge_budget`` and ``hedge_spent`` (dollars).
    ``recommendations``: every recommendation (holds included) with the
    position's ``id`` and ``source``, in row order. ``totals``: book sums in
    dollars (see :func:`book_totals`). ``changes``: None unless asked, else
    the change dicts of ``journal.diff_decisions`` against ``since`` (the
    previous review of the same book, None when there is none).
    ``review_id``: this review's id in ``journal_path`` (None when not recorded).
    ``regime``: the first file's (with ``--market`` every file shares it; each
    row carries its own ``regime`` label).
    """

    asof: str
    regime: Regime
    rows: list[dict]
    totals: dict
    recommendations: list[dict]
    changes: list[dict] | None = None
    since: journal.ReviewRecord | None = None
    journal_path: str | None = None
    review_id: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def needs_action(self) -> bool:
        return any(r["needs_action"] for r in self.rows)


def urgency_key(row: dict) -> tuple:
    """Sort key, most urgent first: required layer (3 first), then mark multiple (highest first)."""
    mark = row["mark_multiple"]
    mark = mark if isinstance(mark, (int, float)) and math.isfinite(mark) else -math.inf
    return (-row["layer"], -mark, row["source"], row["id"])


def duplicate_positions(loaded: Sequence[LoadedFile]) -> list[str]:
    """Positions with the same id and the same legs in different files: one trade copied
    into two files would be counted twice in the totals and the budget."""
    seen: dict[tuple, str] = {}
    out = []
    for lf in loaded:
        for p in lf.file.positions:
            legs = tuple(
                sorted(
                    (
                        g.underlying,
                        g.root,
                        g.type,
                        g.strike or 0.0,
                        g.expiry,
                        g.quantity,
                        g.layer or 0,
                    )
                    for g in p.legs
                )
            )
            first = seen.setdefault((p.id, legs), p.source)
            if first != p.source:
                out.append(
                    f"position {p.id!r} in {p.source} repeats {first} leg for leg: counted twice?"
                )
    return out


def book_totals(rows: Sequence[dict], recommendations: Sequence[dict]) -> dict:
    """Book sums, all in dollars: Greeks (position dollars), P&L and hedge spend against budget.

    ``hedge_spent`` is the net entry debit of the hedge layers on;
    ``hedge_proposed`` the cost of today's ``open_hedge`` recommendations;
    ``hedge_budget_used`` is spent / budget (None when the budget is zero). Dollar
    figures are ``Dollars`` (the output rounds them to cents; the ratio keeps its digits).
    """
    from alvh_cli.output.common import Dollars

    totals: dict = {"positions": len(rows), "needs_action": sum(r["needs_action"] for r in rows)}
    for name in TOTAL_GREEKS:
        totals[name] = Dollars(sum(float(r["greeks"][name]) for r in rows))
    totals["pnl"] = Dollars(sum(float(r["pnl"]) for r in rows))
    budget = sum(r["hedge_budget"] for r in rows)
    spent = sum(r["hedge_spent"] for r in rows)
    proposed = sum(
        float(r.get("cost") or 0.0) for r in recommendations if r["action"] == "open_hedge"
    )
    totals.update(
        hedge_budget=Dollars(budget),
        hedge_spent=Dollars(spent),
        hedge_proposed=Dollars(proposed),
        hedge_remaining=Dollars(budget - spent),
        hedge_budget_used=spent / budget if budget > 0 else None,
    )
    return totals


def _source_keys(rows: Sequence[dict]) -> dict[str, str]:
    return {s: str(Path(s).resolve()) for s in {r["source"] for r in rows}}


def decision(row: dict, recs: Sequence[dict], source_key: str) -> dict:
    """The journal record of one position's decision (``journal.DECISION_COLUMNS``)."""
    return {
        "source": row["source"],
        "source_key": source_key,
        "position_id": row["id"],
        "layer": row["layer"],
        "deployed_layers": list(row["deployed_layers"]),
        "mark_multiple": row["mark_multiple"],
        "tested_side": row["tested_side"],
        "actions": [r["action"] for r in recs],
        "recommendations": list(recs),
    }


def review_book(
    loaded: Sequence[LoadedFile],
    regimes: Sequence[Regime] | Regime | None = None,
    journal_path: str | Path | None = None,
    changes: bool = False,
    *,
    record: bool = True,
    books: Sequence[str | Path] | None = None,
    argv: Sequence[str] = (),
    history=None,
) -> ReviewResult:
    """Check every position, sort by urgency, total the book, journal it, diff it.

    ``regimes``: one per loaded file (``regime.regimes_for``), one for all, or
    None (signals unavailable).
    ``journal_path`` None: no journal (``changes`` then needs one: InputError).
    ``record`` False reads the journal for ``changes`` without appending this
    review (and without creating the file). ``books`` are the BOOK arguments
    as given (default: the files loaded); the same books, resolved, make "the
    same book" whose previous review ``changes`` compares with. ``argv`` is
    stored with the review. ``history`` the closes behind the scenario set
    (``alvh_cli.method.scenarios.History``; default the embedded ones).
    """
    # The journal and the report read plain records of the typed check.
    from alvh_cli.output.common import Dollars
    from alvh_cli.output.records import position_json

    if regimes is None or isinstance(regimes, Regime):
        regimes = [regimes or Regime() for _ in loaded]
    checked = check_book(loaded, regimes, history=history)
    money = {
        (p.source, p.id): (hedge_budget(p, lf.rules.hedge_budget), hedge_spent(p))
        for lf in loaded
        for p in lf.file.positions
    }
    rows, recs_by_row = [], []
    for pc in checked.positions:
        p = position_json(pc)
        recs = p["recommendations"]
        row = {k: v for k, v in p.items() if k != "recommendations"}
        budget, spent = money[(p["source"], p["id"])]
        row.update(
            actions=[r["action"] for r in recs],
            needs_action=pc.needs_action,
            hedge_budget=Dollars(budget),
            hedge_spent=Dollars(spent),
        )
        rows.append(row)
        recs_by_row.append(recs)
    order = sorted(range(len(rows)), key=lambda i: urgency_key(rows[i]))
    rows = [rows[i] for i in order]
    recs_by_row = [recs_by_row[i] for i in order]
    recommendations = [
        {"id": row["id"], "source": row["source"], **rec}
        for row, recs in zip(rows, recs_by_row, strict=True)
        for rec in recs
    ]
    result = ReviewResult(
        asof=checked.asof,
        regime=checked.regime,
        rows=rows,
        totals=book_totals(rows, recommendations),
        recommendations=recommendations,
        warnings=duplicate_positions(loaded),
    )
    if journal_path is None:
        if changes:
            raise InputError("needs a journal to compare with (journal_path is None)", "changes")
        return result
    keys = _source_keys(rows)
    current = [
        decision(r, recs, keys[r["source"]]) for r, recs in zip(rows, recs_by_row, strict=True)
    ]
    given = [str(b) for b in books] if books is not None else sorted(keys)
    book_key = sorted({str(Path(b).resolve()) for b in given})
    result.journal_path = str(journal_path)
    _journal(result, Path(journal_path), current, record, changes, given, book_key, argv)
    return result


def _journal(result, path, current, record, changes, books, book_key, argv) -> None:
    """Append the review and/or read the previous one; any SQLite failure names the journal."""
    conn = journal.open_journal(path, readonly=not record)
    try:
        if record and conn is not None:
            result.review_id = journal.record_review(
                conn,
                asof=result.asof,
                decisions=current,
                argv=argv,
                books=books,
                book_key=book_key,
                regime=result.regime.label,
                status="action" if result.needs_action else "nothing_to_do",
            )
        if changes:
            prev = None
            if conn is not None:
                prev = journal.previous_review(conn, result.review_id, book_key=book_key)
            result.since = prev
            before = journal.decisions(conn, prev.id) if prev is not None else []
            result.changes = journal.diff_decisions(before, current)
    except sqlite3.Error as exc:
        raise InputError(f"journal error: {exc}", str(path)) from None
    finally:
        if conn is not None:
            conn.close()


def without_unread(changes: list[dict], unread: Sequence[str | Path]) -> list[dict]:
    """``changes`` less the "position_gone" of positions whose file could not be read
    today (``unread``: those files): they were not reviewed, not closed."""
    import os

    bad = {os.path.realpath(s) for s in unread}
    return [
        c
        for c in changes
        if not (c["kind"] == "position_gone" and os.path.realpath(c["source"]) in bad)
    ]
