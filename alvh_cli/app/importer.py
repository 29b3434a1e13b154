"""``alvh import``: broker exports → a position file, with the positions ``alvh apply`` left
and the hedge layers alvh recommended.

The exports are read, merged and grouped by :mod:`alvh_cli.inputs.brokers.importer`. From
the decision journal (:mod:`alvh_cli.journal`) come each position as its latest execution
left it (:func:`load_applied`) and the VIX spreads alvh recommended, each with the condor of
its position read from the file the journal names, when that file still holds it (files
are only read). The position file is written here, atomically.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from alvh_cli import journal
from alvh_cli.errors import InputError
from alvh_cli.inputs.brokers.group import RecommendedSpread


@dataclass(frozen=True)
class ImportRun:
    """What an import found (``result``: ``alvh_cli.inputs.brokers.importer.ImportResult``),
    its report (``summary``; empty when no export could be read), ``error`` when nothing
    could be written, and ``errors``: the exports that could not be read (the others were
    imported)."""

    result: object
    summary: str
    error: InputError | None = None

    @property
    def errors(self) -> list[InputError]:
        return self.result.errors

    @property
    def exit_status(self) -> int:
        """2 when nothing was written or an export could not be read, 1 when legs were left
        over, else 0."""
        return 2 if self.error or self.errors else 1 if self.result.leftovers else 0


def import_exports(
    exports: Sequence[Path | str],
    *,
    output: Path | str,
    broker: str = "auto",
    market: Path | str | None = None,
    journal_path: Path | str | None = None,
    journal_given: bool = False,
    force: bool = False,
    mark_time: str | None = None,
) -> ImportRun:
    """Read ``exports``, group them into condors and hedge layers, and write the position
    file ``output`` (never over an input; over an existing file only with ``force``). An
    export that cannot be read is its error in ``ImportRun.errors``; the file is written
    from the others.

    ``journal_path`` is the decision journal whose recommended VIX spreads become hedge
    layers; when ``journal_given`` it must exist. ``market`` is a file whose ``[market]``
    table is copied into the book. ``mark_time`` (an ISO date-time, New York time without
    an offset, or a date) is when the exports that state no time for their marks were
    taken.
    """
    from alvh_cli.inputs.brokers import importer
    from alvh_cli.output.files import refuse_output, write_atomic

    output = Path(output)
    inputs = [*map(Path, exports), *(Path(p) for p in (market, journal_path) if p is not None)]
    refuse_output(output, inputs, force)
    recommended = applied = None
    if journal_path is not None:
        if journal_given and not Path(journal_path).exists():
            raise InputError("no such journal file", str(journal_path))

        def recommended():
            return load_recommendations(journal_path)

        def applied():
            return load_applied(journal_path)

    result = importer.import_exports(
        exports,
        broker=broker,
        market=market,
        recommended=recommended,
        journal=None if journal_path is None else str(journal_path),
        mark_time=None if mark_time is None else _moment(mark_time),
        applied=applied,
    )
    if not result.exports:  # none could be read: each one's error says why, nothing else
        return ImportRun(result, "")
    summary = importer.summary(result, str(output))
    if not result.grouping.written:
        return ImportRun(
            result,
            summary,
            InputError(
                "nothing written: no SPX position (an iron condor or a credit vertical) alvh "
                "can write (see the list above)",
                str(output),
            ),
        )
    write_atomic(output, lambda fh: fh.write(result.text))
    return ImportRun(result, summary)


def _moment(text: str):
    """``--mark-time`` read: a date-time or a date, else InputError naming the option."""
    from alvh_cli.inputs.brokers.common import parse_instant

    try:
        return parse_instant(text)
    except InputError:
        raise InputError(
            f"not a date or date-time (e.g. 2026-11-24T15:45 or 2026-11-24), got {text!r}",
            option="mark_time",
        ) from None


def load_applied(path: str | Path) -> list:
    """Each position as the journal's latest execution on it left it
    (``alvh_cli.inputs.brokers.journalled.AppliedPosition``); none without a journal."""
    from alvh_cli.inputs.brokers.journalled import AppliedPosition

    conn = journal.open_journal(path, readonly=True)
    if conn is None:
        return []
    try:
        latest = {}
        for i, _, e in journal.executions(conn):  # oldest first: the last one stays
            latest[(e.source_key or e.source, e.position_id)] = (i, e)
    except sqlite3.Error as exc:
        raise InputError(f"journal error: {exc}", str(path)) from None
    finally:
        conn.close()
    return [
        AppliedPosition(e.position_id, e.source, i, e.asof, e.action, e.position)
        for i, e in latest.values()
        if e.position
    ]


def load_recommendations(path: str | Path) -> tuple[list[RecommendedSpread], str]:
    """(the VIX spreads alvh recommended, newest first; the reason to give a VIX spread
    none of them names). A journal that does not exist yields none."""
    conn = journal.open_journal(path, readonly=True)
    if conn is None:
        return [], (
            f"no journal at {path}, so no recommendation to match: "
            "give --journal PATH to match VIX spreads to the layers alvh recommended"
        )
    found: list[RecommendedSpread] = []
    try:
        for review in journal.reviews(conn):
            for d in journal.decisions(conn, review.id):
                for rec in d.recommendations:
                    spread = _spread(rec, d, review.asof)
                    if spread is not None:
                        found.append(spread)
    except sqlite3.Error as exc:
        raise InputError(f"journal error: {exc}", str(path)) from None
    finally:
        conn.close()
    condors = _condors({r.source for r in found})
    found = [replace(r, condor=condors.get((r.source, r.position_id))) for r in found]
    return found, f"alvh never recommended this spread (journal {path})"


def _spread(rec, decision, asof: str) -> RecommendedSpread | None:
    """The recorded recommendation as a spread to match, or None when it is not a VIX call
    spread to open (or a field is missing: an older journal's row is not worth an error)."""
    if rec.action != "open_hedge" or rec.instrument != "vix_call_spread":
        return None
    if None in (rec.layer, rec.expiry, rec.long_strike, rec.short_strike, rec.quantity):
        return None
    return RecommendedSpread(
        position_id=decision.position_id,
        source=decision.source_key or decision.source,
        layer=int(rec.layer),
        expiry=rec.expiry,
        long_strike=float(rec.long_strike),
        short_strike=float(rec.short_strike),
        quantity=int(rec.quantity),
        asof=asof,
    )


def _condors(sources: set[str]) -> dict[tuple[str, str], tuple]:
    """(file, position id) → (root, expiry, strikes…) for the positions still in those files."""
    from alvh_cli.inputs import positions

    out: dict[tuple[str, str], tuple] = {}
    for source in sorted(sources):
        try:
            loaded = positions.load_file(source)
        except InputError:
            continue  # moved, renamed or edited since: match by position id only
        for p in loaded.positions:
            held = sorted(p.spx_legs, key=lambda g: (g.type != "put", g.strike))
            if len(held) == 4:  # a condor held: matched by its root, expiry and strikes
                lp, sp, sc, lc = held
                out[(source, p.id)] = (
                    lp.root, lp.expiry, lp.strike, sp.strike, sc.strike, lc.strike,
                )  # fmt: skip
    return out
