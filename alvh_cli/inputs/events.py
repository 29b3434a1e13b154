"""Macro event calendar (FOMC, CPI, PPI) and NYSE trading-day windows.

The shipped calendar is ``alvh_cli/data/macro_events.csv``; its header
comments say where each block of dates came from and which are tentative.
Users add or correct dates with a file of their own in the same CSV form::

    date,event,note
    2026-12-09,FOMC,
    12/18/2026,other,quad witching

Dates are ``YYYY-MM-DD`` or ``MM/DD/YYYY``, as in history files.
``event`` is one of FOMC, CPI, PPI, other (case-insensitive); ``note`` is
optional. Lines starting with ``#`` and blank lines are skipped. A user row
with the same date and event (FOMC/CPI/PPI) as a shipped row replaces it, so
a user can confirm a tentative date; a moved date needs the new row added (the
old shipped one stays, erring towards more caution, not less).

The events are ``alvh_cli.model.calendar.Event`` values. Standard library only: no
pandas here, so the calendar works without a history file.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from importlib import resources
from pathlib import Path

from alvh_cli.errors import InputError
from alvh_cli.inputs.files import csv_reason, read_text
from alvh_cli.model.calendar import KINDS, Event

SHIPPED = "macro_events.csv"
_COLUMNS = ("date", "event", "note")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")  # as the history files (history.read_history)
# Decades of FOMC, CPI and PPI dates with notes are some tens of KB: a file of over a MB
# is not a macro calendar, and is refused from its size before it is read.
MAX_EVENT_BYTES = 2**20


def shipped_path() -> str:
    """Display name of the shipped calendar (for messages and ``Event.source``)."""
    return f"alvh_cli/data/{SHIPPED}"


def load_events(extra: Sequence[str | Path] = ()) -> list[Event]:
    """The shipped calendar plus each user file in ``extra``, sorted by date.

    A bad user file raises ``InputError`` naming the file, line and column; a file over
    ``MAX_EVENT_BYTES`` is refused from its size, unread.
    """
    events = list(_shipped())
    for path in extra:
        text = read_text(path, MAX_EVENT_BYTES, "an event file", "event file")
        user = _parse(io.StringIO(text, newline="").readlines(), str(path))
        replaced = {(e.date, e.kind) for e in user if e.kind != "other"}
        events = [e for e in events if (e.date, e.kind) not in replaced] + user
    return sorted(events, key=lambda e: (e.date, KINDS.index(e.kind)))


@functools.lru_cache(maxsize=1)
def _shipped() -> tuple[Event, ...]:
    text = resources.files("alvh_cli").joinpath("data", SHIPPED).read_text(encoding="utf-8")
    return tuple(_parse(text.splitlines(keepends=True), shipped_path()))


def _parse(lines: Iterable[str], source: str) -> list[Event]:
    """Rows of one calendar file; comment (#) and blank lines skipped."""
    numbered = [
        (n, line)
        for n, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not numbered:
        raise InputError("empty event file: expected a header 'date,event[,note]'", source)
    records = _records(numbered, source)
    header_line, row = next(records)
    header = [h.strip().lower() for h in row]
    for col in header:
        if col not in _COLUMNS:
            raise InputError(
                f"unknown column '{col}': expected date,event[,note]", source, col, header_line
            )
    for col in ("date", "event"):
        if col not in header:
            raise InputError(
                f"missing column '{col}': expected date,event[,note]", source, col, header_line
            )
    if len(set(header)) != len(header):
        raise InputError("repeated column in header", source, "", header_line)
    out: list[Event] = []
    for line_no, row in records:
        if len(row) > len(header) or len(row) < 2:
            raise InputError(
                f"expected {len(header)} fields ({','.join(header)}), got {len(row)}",
                source,
                "",
                line_no,
            )
        cells = dict(zip(header, (c.strip() for c in row), strict=False))
        day = _parse_date(cells["date"])
        if day is None:
            raise InputError(
                f"cannot read date {cells['date']!r}: expected YYYY-MM-DD or MM/DD/YYYY",
                source,
                "date",
                line_no,
            )
        kind = _kind(cells["event"])
        if kind is None:
            raise InputError(
                f"unknown event {cells['event']!r}: must be one of {', '.join(KINDS)}",
                source,
                "event",
                line_no,
            )
        out.append(Event(day, kind, cells.get("note", "") or "", source))
    return out


def _records(numbered: list[tuple[int, str]], source: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record of the kept lines with the file line it starts on. A record the csv
    module cannot read (a field over its size limit) is an InputError naming that line."""
    reader = csv.reader((line for _, line in numbered), strict=True)
    done = 0  # kept lines read before the record
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = numbered[min(done, len(numbered) - 1)][0]
            raise InputError(f"not readable as CSV: {csv_reason(exc)}", source, "", line) from None
        yield numbered[done][0], row
        done = reader.line_num


def _parse_date(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _kind(text: str) -> str | None:
    for kind in KINDS:
        if text.lower() == kind.lower():
            return kind
    return None
