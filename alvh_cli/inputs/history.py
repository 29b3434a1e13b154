"""Reading daily history files (DESIGN §6).

``read_history`` accepts three CSV layouts, recognised by their headers
(case-insensitive, whitespace-trimmed):

* ours: ``date,spx,vix[,vix3m,advances,declines,vx1,vx2,vx1_dte]`` — any of
  those columns after ``date``; optional columns may be left blank on a row;
  columns we do not know (a user's ``reer``, ``volume``) are kept as they
  are, float where every filled cell is a number, else text;
* CBOE ``VIX_History.csv``: ``DATE,OPEN,HIGH,LOW,CLOSE`` → ``vix`` = CLOSE
  (``vix3m`` when the file name contains "VIX3M", as CBOE's
  ``VIX3M_History.csv`` has the same header);
* Yahoo ``^GSPC``: ``Date,Open,High,Low,Close,Adj Close[,Volume]`` → ``spx``
  = Close (Yahoo's ``null`` rows are skipped).

A trailing comma in the header (an empty last column name) is ignored.
Dates are ``YYYY-MM-DD`` or ``MM/DD/YYYY``. Several files are merged on
date; a row is kept when both ``spx`` and ``vix`` are known on that date
(an inner join on the required columns); optional columns are NaN where no
file gives them. Two files giving the same column must agree where they
overlap. Rows are sorted by date (a descending file is accepted). Gaps
(missing business days) are allowed: every indicator runs over the rows
present, as vendors skip holidays. Numbers are read as every reader of alvh
reads them (``inputs.numbers.read_number``: plain decimals, a comma only as a
thousands separator in groups of three; no underscores, no digits of other
scripts). Errors (one ``InputError`` each, naming file, column and line): a
file over ``MAX_HISTORY_BYTES`` (refused from its size, unread), a header
matching none of the layouts, empty file, a record the csv module cannot
read, unreadable date, a date after today, non-numeric or non-positive price,
duplicate date, missing ``spx``/``vix`` after merging, a median ``vix`` of
150 or more or a median ``spx`` of 100 or less (swapped columns). Common
spreadsheet exports get a targeted message: ``;`` separators, decimal
commas, Excel serial dates, DD/MM/YYYY dates.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alvh_cli.errors import InputError
from alvh_cli.inputs import events as events_mod
from alvh_cli.inputs.files import csv_reason, read_text
from alvh_cli.inputs.numbers import read_number, why_not_a_number
from alvh_cli.model.closes import EMBEDDED, embedded_history, embedded_provenance

REQUIRED = ("spx", "vix")
OPTIONAL = ("vix3m", "advances", "declines", "vx1", "vx2", "vx1_dte")
OWN_COLUMNS = REQUIRED + OPTIONAL
PRICE_COLUMNS = ("spx", "vix", "vix3m", "vx1", "vx2")  # must be > 0
COUNT_COLUMNS = ("advances", "declines", "vx1_dte")  # must be >= 0
_CBOE = frozenset({"date", "open", "high", "low", "close"})
_YAHOO = frozenset({"date", "open", "high", "low", "close", "adj close", "volume"})
_DATE_FORMATS = events_mod.DATE_FORMATS  # YYYY-MM-DD, MM/DD/YYYY
# A century of daily closes with a dozen columns is a few MB: a file over 20 MB is not a
# daily history, and is refused from its size before it is read.
MAX_HISTORY_BYTES = 20 * 2**20
EXPECTED_HEADERS = (
    "date,spx,vix[,vix3m,advances,declines,vx1,vx2,vx1_dte] (alvh); "
    "DATE,OPEN,HIGH,LOW,CLOSE (CBOE VIX_History.csv, read as vix); "
    "Date,Open,High,Low,Close,Adj Close,Volume (Yahoo ^GSPC, read as spx)"
)


def read_history(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Daily history from one or more CSV files, merged on date.

    Returns a DataFrame indexed by a sorted ``DatetimeIndex`` named ``date``
    with float columns ``spx`` and ``vix`` (index points) and whichever of
    ``vix3m``, ``advances``, ``declines`` (issue counts), ``vx1``, ``vx2``
    (front and second VIX future closes) and ``vx1_dte`` (calendar days to
    the front future's expiry) the files give, then any extra columns of
    our own format (e.g. a user's ``reer`` series) in the order first seen:
    float where every filled cell is a number, else text.
    ``df.attrs["sources"]`` lists the files, ``df.attrs["extra_columns"]``
    the extra columns.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise InputError("no history file given", option="history")
    frames = [(_read_one(Path(p)), str(p)) for p in paths]
    sources = [s for _, s in frames]
    merged, owner = frames[0][0], {c: frames[0][1] for c in frames[0][0].columns}
    for frame, source in frames[1:]:
        merged = _merge(merged, owner, frame, source)
    where = ", ".join(sources)
    extras: list[str] = []
    for frame, _ in frames:
        extras += [c for c in frame.columns if c not in OWN_COLUMNS and c not in extras]
    for col in REQUIRED:
        if col not in merged.columns:
            close = difflib.get_close_matches(col, extras, n=1)
            hint = f" (is '{close[0]}' meant to be '{col}'?)" if close else ""
            raise InputError(
                f"no '{col}' column in the history{hint}; expected headers: {EXPECTED_HEADERS}",
                where,
                col,
            )
    merged = merged.dropna(subset=list(REQUIRED))
    if merged.empty:
        raise InputError("no date has both spx and vix: the files do not overlap", where)
    ordered = [c for c in OWN_COLUMNS if c in merged.columns] + extras
    merged = merged[ordered].sort_index()
    merged.index.name = "date"
    merged.attrs["sources"] = sources
    merged.attrs["extra_columns"] = extras
    return merged


def embedded_frame() -> pd.DataFrame:
    """The daily SPX and VIX closes that ship with alvh (2014–2018) as a history frame:
    ``spx`` and ``vix`` indexed by date, ``attrs["sources"]`` naming the data file and
    where its numbers come from. The numbers are ``model.closes.embedded_history``'s (the
    file is read once, there)."""
    h = embedded_history()
    index = pd.to_datetime([date.fromordinal(int(d)).isoformat() for d in h.dates])
    frame = pd.DataFrame({"spx": h.spx, "vix": h.vix}, index=index.rename("date"))
    frame.attrs["sources"] = [f"{EMBEDDED} ({embedded_provenance()})"]
    return frame


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float, np.floating)) else str(value)


def _merge(
    merged: pd.DataFrame, owner: dict[str, str], frame: pd.DataFrame, source: str
) -> pd.DataFrame:
    for col in frame.columns:
        if col in merged.columns:
            both = merged[col].to_frame("a").join(frame[col].to_frame("b"), how="inner").dropna()
            a, b = both["a"], both["b"]
            if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
                bad = both[~np.isclose(a, b, rtol=1e-9, atol=1e-9)]
            else:
                bad = both[a.astype(str) != b.astype(str)]
            if not bad.empty:
                day = bad.index[0].date().isoformat()
                raise InputError(
                    f"'{col}' on {day} is {_show(bad['a'].iloc[0])} in {owner[col]} "
                    f"but {_show(bad['b'].iloc[0])} here",
                    source,
                    col,
                )
        else:
            owner[col] = source
    return merged.combine_first(frame)


def _today() -> date:
    return date.today()


_SEPARATORS = {";": "';'", "\t": "a tab", "|": "'|'"}


def _read_one(path: Path) -> pd.DataFrame:
    source = str(path)
    text = read_text(path, MAX_HISTORY_BYTES, "a history file", "history file")
    reader = csv.reader(io.StringIO(text, newline=""))
    header, rows = None, []
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            if row[0].lstrip().startswith("#"):  # comment lines, e.g. a "# source:" line
                continue
            if header is None:
                header = (row, reader.line_num)
            else:
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        reason = csv_reason(exc)
        raise InputError(f"CSV syntax error: {reason}", source, "", reader.line_num) from None
    if header is None:
        raise InputError(f"empty history file; expected headers: {EXPECTED_HEADERS}", source)
    raw, header_line = header
    _check_separator(raw, source, header_line)
    names = [c.strip().lower() for c in raw]
    while names and names[-1] == "":  # a trailing comma (Excel exports): no column there
        names.pop()
    if "" in names:
        raise InputError(
            f"empty column name (column {names.index('') + 1}) in the header",
            source,
            "",
            header_line,
        )
    mapping = _recognise(names, path, header_line)
    if not rows:
        raise InputError("history file has a header but no rows", source)
    frame = _parse_rows(names, mapping, rows, source, yahoo=mapping.get("close") == "spx")
    _check_levels(frame, source)
    return frame


def _check_separator(row: list[str], source: str, line: int) -> None:
    if len(row) == 1:
        for sep, name in _SEPARATORS.items():
            if sep in row[0]:
                raise InputError(
                    f"separator is {name} — save as comma-separated CSV", source, "", line
                )


def _check_levels(frame: pd.DataFrame, source: str) -> None:
    """Swapped or mislabelled columns: VIX never closed near 150; SPX is above 100 since 1968."""
    both = "spx" in frame.columns and "vix" in frame.columns
    ask = " — are the spx and vix columns swapped?" if both else " — is this the right file?"
    if "vix" in frame.columns:
        med = float(frame["vix"].median())
        if med >= 150:
            raise InputError(
                f"median {med:,.2f} looks like an index level, not VIX{ask}", source, "vix"
            )
    if "spx" in frame.columns:
        med = float(frame["spx"].median())
        if med <= 100:
            raise InputError(
                f"median {med:,.2f} looks like VIX, not an SPX level "
                f"(SPX has been above 100 since 1968){ask}",
                source,
                "spx",
            )


def _recognise(names: list[str], path: Path, line: int) -> dict[str, str]:
    """Map the file's columns to ours: {file column: our column}.

    Our own format keeps columns it does not know under their own names.
    """
    source, given = str(path), set(names)
    if len(given) != len(names):
        raise InputError(f"repeated column in header {names}", source, "", line)
    if given == _CBOE:
        stem = path.name.lower()
        if "vix3m" in stem:
            return {"date": "date", "close": "vix3m"}
        for other in ("vvix", "vix9d", "vix6m", "vix1d", "vix1y"):
            if other in stem:
                raise InputError(
                    f"a CBOE {other.upper()} file is not VIX; expected headers: {EXPECTED_HEADERS}",
                    source,
                )
        return {"date": "date", "close": "vix"}
    if given == _YAHOO or given == _YAHOO - {"volume"}:
        return {"date": "date", "close": "spx"}
    if "date" in given and given & set(OWN_COLUMNS):
        return {n: n for n in names}
    raise InputError(
        f"unrecognised history headers {','.join(names)}; expected headers: {EXPECTED_HEADERS}",
        source,
        "",
        line,
    )


def _parse_date(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _date_problem(text: str) -> str:
    """Why ``text`` is not a date we read, as specifically as we can tell."""
    if re.fullmatch(r"\d{5}(\.\d*)?", text):
        return f"'{text}' looks like an Excel serial date; export dates as YYYY-MM-DD"
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if m and int(m[1]) > 12 and 1 <= int(m[2]) <= 12:
        return (
            f"cannot read date '{text}': dates look like DD/MM/YYYY; use YYYY-MM-DD or MM/DD/YYYY"
        )
    return f"cannot read date '{text}': expected YYYY-MM-DD or MM/DD/YYYY"


def _parse_rows(
    names: list[str], mapping: dict[str, str], rows: list, source: str, *, yahoo: bool
) -> pd.DataFrame:
    index = {n: i for i, n in enumerate(names)}
    wanted = [(index[col], ours) for col, ours in mapping.items() if ours != "date"]
    date_at = index["date"]
    # spx and vix may not be blank; optional columns may (e.g. vix3m before 2007).
    # The one column read from a CBOE or Yahoo file is always required.
    required_here = {ours for _, ours in wanted if ours in REQUIRED or "close" in mapping}
    days: list[date] = []
    values: dict[str, list[Any]] = {ours: [] for _, ours in wanted}
    seen: dict[date, int] = {}
    for line, row in rows:
        while len(row) > len(names) and not row[-1].strip():
            row = row[:-1]  # trailing commas
        if len(row) != len(names):
            _check_separator(row, source, line)
            hint = ""
            if len(row) > len(names) and any(re.fullmatch(r"\d+", c.strip()) for c in row[1:]):
                hint = " (decimal commas? write 2713.06, not 2713,06)"
            raise InputError(
                f"expected {len(names)} fields, got {len(row)}{hint}", source, "", line
            )
        cells = [c.strip() for c in row]
        if yahoo and cells[index["close"]].lower() == "null":
            continue  # Yahoo writes "null" for a day without a print
        day = _parse_date(cells[date_at])
        if day is None:
            raise InputError(_date_problem(cells[date_at]), source, names[date_at], line)
        if day in seen:
            raise InputError(
                f"duplicate date {day.isoformat()} (also on line {seen[day]})",
                source,
                names[date_at],
                line,
            )
        seen[day] = line
        days.append(day)
        for i, ours in wanted:
            if ours in OWN_COLUMNS:
                values[ours].append(
                    _number(cells[i], names[i], ours, ours in required_here, source, line)
                )
            else:
                values[ours].append(cells[i])
    if not days:
        raise InputError("history file has no usable rows", source)
    # After every date is read: a DD/MM/YYYY file fails on its first day > 12 before a
    # day/month swap can put a date in the future.
    today = _today()
    for day in days:
        if day > today:
            raise InputError(
                f"date {day.isoformat()} is in the future", source, names[date_at], seen[day]
            )
    frame = pd.DataFrame(
        {ours: _column(ours, col) for ours, col in values.items()},
        index=pd.DatetimeIndex(pd.to_datetime(days), name="date"),
    )
    if yahoo and frame["spx"].max() < 200:
        raise InputError(
            "no close above 200: this looks like a Yahoo ^VIX file, but Yahoo-format files are "
            f"read as SPX (^GSPC); expected headers: {EXPECTED_HEADERS}",
            source,
            "close",
        )
    return frame.sort_index()


def _column(name: str, cells: list[Any]) -> np.ndarray:
    """Our columns are already floats; an extra column is float if every filled cell is a
    number as every reader of alvh reads one (``inputs.numbers.read_number``; blank → NaN),
    else text (blank → None)."""
    if name in OWN_COLUMNS:
        return np.asarray(cells, dtype=float)
    try:
        return np.asarray([read_number(c) if c else math.nan for c in cells], dtype=float)
    except ValueError:
        return np.asarray([c or None for c in cells], dtype=object)


def _number(text: str, column: str, ours: str, required: bool, source: str, line: int) -> float:
    if text == "":
        if required:
            raise InputError("missing value", source, column, line)
        return math.nan
    try:
        value = read_number(text)
    except ValueError:
        if re.fullmatch(r"[-+]?[0-9]+,[0-9]+", text):
            fixed = text.replace(",", ".")
            raise InputError(
                f"'{text}' uses a decimal comma; write {fixed}", source, column, line
            ) from None
        why = why_not_a_number(text) if "," in text else f"not a number: {text!r}"
        raise InputError(why, source, column, line) from None
    if not math.isfinite(value):
        raise InputError(f"not a finite number: '{text}'", source, column, line)
    if ours in PRICE_COLUMNS and value <= 0:
        raise InputError(f"must be > 0, got {text}", source, column, line)
    if ours in COUNT_COLUMNS and value < 0:
        raise InputError(f"must be >= 0, got {text}", source, column, line)
    return value
