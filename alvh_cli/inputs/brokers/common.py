"""What every export reader shares: the leg record, reading text, numbers, dates, symbols.

An export reader turns one file into a :class:`ParsedExport`: the SPX/SPXW and
VIX/VIXW option lines as :class:`ImportedLeg` records in alvh's units (signed
contracts, premium per index point ≥ 0), and every other line it read but did
not import as a :class:`Skipped` with the reason. Nothing here groups legs or
guesses: a value the export does not give stays ``None``.

Malformed input in a line alvh needs (a quantity that is not a whole number, a
price that is not a number) is an :class:`~alvh_cli.errors.InputError` naming
the file, the line and the column. Only the standard library is imported.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from alvh_cli.errors import InputError
from alvh_cli.inputs.numbers import read_number, why_not_a_number
from alvh_cli.model.contracts import ROOT_UNDERLYING, parse_osi

MAX_EXPORT_BYTES = 50 * 2**20  # a year of transactions is a few MB; refuse a wrong file early
# A year of an active account's fills, or its open lots, is some thousands of rows; a file
# of more is another kind of file, refused as its rows stream in, before any is kept.
MAX_EXPORT_ROWS = 100_000


@dataclass(frozen=True)
class ImportedLeg:
    """One SPX/SPXW or VIX/VIXW option held, as an export states it.

    ``quantity`` is signed contracts (+ long, − short); ``entry_price`` is the
    average premium per index point from the export's cost basis, always ≥ 0
    (``None`` when the export carries no cost basis); ``opened`` is the date
    of the earliest lot still open, when the export has it. ``mark`` is the
    broker's mark per index point (≥ 0, None when the export gives none) and
    ``mark_time`` when the export says it was taken (a naive date-time is New York
    time, a date that day's close; None when the export does not say). ``source`` is
    ``file:line`` (several, comma-separated, when lines were merged).
    """

    underlying: str  # "SPX" | "VIX"
    root: str  # "SPX" (AM monthly) | "SPXW" (PM) | "VIX" | "VIXW"
    type: str  # "put" | "call"
    strike: float  # index points
    expiry: date
    quantity: int
    entry_price: float | None
    account: str = ""
    opened: date | None = None
    source: str = ""
    mark: float | None = None
    mark_time: datetime | date | None = None

    @property
    def contract(self) -> tuple[str, str, float, date]:
        """What identifies the listed contract: root, type, strike, expiry."""
        return (self.root, self.type, self.strike, self.expiry)

    def describe(self, quantity: int | None = None) -> str:
        """``SPXW 2026-12-18 5400 put x-2`` (with ``quantity`` instead of the leg's own)."""
        q = self.quantity if quantity is None else quantity
        return f"{self.root} {self.expiry} {fmt_strike(self.strike)} {self.type} x{q:+d}"


@dataclass(frozen=True)
class Skipped:
    """A line read but not imported: what it held, where, and why."""

    what: str
    source: str
    reason: str


@dataclass(frozen=True)
class ParsedExport:
    """One export file read: its format, what it holds and what was left aside.

    ``kind`` is ``"positions"`` (a snapshot of what is held) or
    ``"transactions"`` (fills replayed into what is still open).
    """

    path: str
    format: str  # e.g. "tastytrade positions"
    kind: str  # "positions" | "transactions"
    legs: tuple[ImportedLeg, ...]
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


NOT_ALVH = "not an SPX/SPXW or VIX/VIXW option (alvh imports SPX condors and VIX hedges)"
NOT_OPTION = "not an option alvh reads (a stock, future, futures option or cash line)"


def fmt_strike(strike: float) -> str:
    """5400.0 → ``5400``, 22.5 → ``22.5``."""
    return f"{strike:g}" if strike == int(strike) else f"{strike:.10g}"


def underlying_of(root: str) -> str | None:
    """``SPX`` for SPX/SPXW, ``VIX`` for VIX/VIXW, None for any other root."""
    return ROOT_UNDERLYING.get(root)


# --------------------------------------------------------------------------- reading


def read_text(path: str | Path) -> str:
    """The file's text (UTF-8, a BOM tolerated; Windows-1252 when not UTF-8).

    A directory, a device, a pipe, a file over 50 MB or a binary file is an
    InputError naming it; nothing is ever written.
    """
    source = str(path)
    p = Path(path)
    try:
        st = p.stat()
        if stat.S_ISDIR(st.st_mode):
            raise InputError("is a directory, not an export file", source)
        if not stat.S_ISREG(st.st_mode):
            raise InputError("not a regular file: expected a broker export", source)
        if st.st_size > MAX_EXPORT_BYTES:
            raise InputError(
                f"file too large ({st.st_size / 2**20:.0f} MB) for a broker export "
                f"(at most {MAX_EXPORT_BYTES // 2**20} MB)",
                source,
            )
        with p.open("rb") as fh:
            data = fh.read(MAX_EXPORT_BYTES + 1)
    except FileNotFoundError:
        raise InputError("no such file", source) from None
    except PermissionError:
        raise InputError("cannot read the file: permission denied", source) from None
    except OSError as e:
        raise InputError(f"cannot read the file: {e.strerror or e}", source) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise InputError(
            "not a text file (binary data): expected a CSV or XML export", source, line=line
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheet programs save "CSV" in the Windows code page; the fields alvh
        # reads are ASCII either way.
        text = data.decode("cp1252", errors="replace")
    if not text.strip():
        raise InputError("empty file", source)
    return text


def csv_rows(text: str, source: str = "") -> Iterator[tuple[int, list[str]]]:
    """Every CSV record with the line it starts on, cells stripped; blank records dropped.

    Rows are read one at a time (no list of the whole file). Refused, naming the file
    and the line: more than ``MAX_EXPORT_ROWS`` records, a quote left open at the end
    of the file (a file cut short), text after a closing quote, a field over the csv
    module's limit. A record that ends the file without a line end is yielded as a
    :class:`LastRow`, so that a reader finding it short of cells can say the file may
    have been cut short.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start, count = 1, 0
    pending = None
    try:
        for row in reader:
            cells = [c.strip() for c in row]
            if any(cells):
                count += 1
                if count > MAX_EXPORT_ROWS:
                    raise InputError(
                        f"more than {MAX_EXPORT_ROWS:,} rows: not a broker export alvh reads "
                        f"(at most {MAX_EXPORT_ROWS:,} rows of positions or fills)",
                        source,
                        line=start,
                    )
                if pending is not None:
                    yield pending
                pending = (start, cells)
            start = reader.line_num + 1
    except csv.Error as exc:
        line = reader.line_num or 1
        reason = str(exc)
        if "unexpected end of data" in reason:
            reason = "a quoted field is never closed (the file may have been cut short)"
        raise InputError(f"not readable as CSV: {reason}", source, line=line) from None
    if pending is not None:
        line, cells = pending
        yield (line, LastRow(cells) if not text.endswith(("\n", "\r")) else cells)


class LastRow(list):
    """The cells of a file's last record when the file does not end with a line end."""


def cells_after(row: list[str], n: int) -> list[str]:
    """``row[n:]``, still a :class:`LastRow` when ``row`` is one (a layout whose records
    open with a section name and a record kind keeps its data after them)."""
    return LastRow(row[n:]) if isinstance(row, LastRow) else row[n:]


def refuse_cut_short(row: list[str], source: str, line: int) -> None:
    """Refuse a last line without a line end that is too short to be any of the layout's
    records: the file was cut short inside it."""
    if isinstance(row, LastRow):
        raise InputError(
            f"has {len(row)} cell{'s' if len(row) != 1 else ''}, too few for any record of "
            "this layout (the last line, without a line end: the file may have been cut short)",
            source,
            line=line,
        )


class Columns:
    """A header row: finds columns by any of their names, case- and space-insensitively."""

    def __init__(self, header: Sequence[str], source: str, line: int):
        self.names = [h.strip() for h in header]
        self.index = {_norm(h): i for i, h in reversed(list(enumerate(self.names)))}
        self.source = source
        self.line = line

    def has(self, *names: str) -> bool:
        return any(_norm(n) in self.index for n in names)

    def find(self, *names: str) -> int | None:
        for n in names:
            i = self.index.get(_norm(n))
            if i is not None:
                return i
        return None

    def need(self, what: str, *names: str) -> int:
        i = self.find(*names)
        if i is None:
            raise InputError(
                f"no {what} column (looked for {' or '.join(repr(n) for n in names)}); "
                f"the header has {', '.join(repr(n) for n in self.names if n)}",
                self.source,
                line=self.line,
            )
        return i

    def fits(self, row: Sequence[str], line: int) -> None:
        """A row must have as many cells as the header: one cell more or less shifts every
        column after it (an unquoted ``4,95`` is two cells, 4 and 95)."""
        if len(row) == len(self.names):
            return
        cut = (
            " (the last line, without a line end: the file may have been cut short)"
            if isinstance(row, LastRow) and len(row) < len(self.names)
            else ""
        )
        raise InputError(
            f"has {len(row)} cells, the header (line {self.line}) has {len(self.names)}: a "
            f"value with an unquoted comma, or a missing one, shifts the columns after it{cut}",
            self.source,
            line=line,
        )

    @staticmethod
    def cell(row: Sequence[str], i: int | None) -> str:
        if i is None or i >= len(row):
            return ""
        return row[i].strip()


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().lower())


# --------------------------------------------------------------------------- values

_MISSING = {"", "-", "--", "n/a", "na", "none", "null"}


def number(text: str, source: str, line: int, column: str, *, required: bool) -> float | None:
    """A number as exports write it: ``1,220.50``, ``$450.00``, ``($1,050.00)``, ``-$45``,
    ``+20``, ``.925`` (:func:`alvh_cli.inputs.numbers.read_number`: a comma only in groups
    of three, so ``1,10`` and ``4.950,00`` are refused, never guessed).

    Empty, ``--`` or ``N/A`` is None (an InputError when ``required``).
    """
    s = text.strip()
    if s.lower() in _MISSING or s.lower().startswith("n/a"):
        if required:
            raise InputError("required, but empty", source, column, line)
        return None
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    sign = ""
    if s[:1] in ("+", "-"):
        sign, s = s[0], s[1:].lstrip()
    if s.startswith("$"):
        s = s[1:].lstrip()
    try:
        value = read_number(sign + s)
    except ValueError:
        raise InputError(why_not_a_number(text), source, column, line) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(f"not a finite number, got {text.strip()!r}", source, column, line)
    return -value if negative else value


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def account(text: str, source: str, line: int | None, column: str) -> str:
    """An account cell, which becomes part of a position's id: printable text only (a tab,
    a line break or an escape code in an id would garble every report that prints it)."""
    if _CONTROL.search(text):
        raise InputError(
            f"an account must be printable text (no control characters), got {text!r}",
            source,
            column,
            line,
        )
    return text


def mark_price(
    text: str, source: str, line: int, column: str, quantity: int = 0, value: bool = False
) -> float | None:
    """The broker's mark per index point from its cell (None when empty): as written
    (its sign dropped: a short's mark is the option's price too), or with ``value`` a
    mark value in dollars for the row, ÷ (|quantity| × 100)."""
    x = number(text, source, line, column, required=False)
    if x is None:
        return None
    if value:
        return abs(x) / (abs(quantity) * 100.0) if quantity else None
    return abs(x)


def contracts(text: str, source: str, line: int, column: str) -> int:
    """A signed whole number of contracts (``+2``, ``-3``, ``2.0``)."""
    value = number(text, source, line, column, required=True)
    if value is None or value != int(value):
        raise InputError(
            f"must be a whole number of contracts, got {text.strip()!r}", source, column, line
        )
    return int(value)


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}

_DATE_FORMATS = (
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), ("y", "m", "d")),  # 2026-12-18
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), ("y", "m", "d")),  # 20261218 (IBKR default)
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), ("m", "d", "y")),  # 12/18/2026 (US)
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2})"), ("m", "d", "yy")),  # 12/18/26 (US)
    (re.compile(r"(\d{1,2}) ?([A-Za-z]{3}) ?(\d{2})"), ("d", "mon", "yy")),  # 18 DEC 26, 18DEC26
    (re.compile(r"([A-Za-z]{3}) (\d{1,2}),? (\d{4})"), ("mon", "d", "y")),  # Dec 18, 2026
    (re.compile(r"([A-Za-z]{3}) (\d{1,2}) (\d{2})"), ("mon", "d", "yy")),  # DEC 18 26
)


_TIME_PART = re.compile(r"(?<=\d)T(?=\d)|;|,?\s+(?=\d{1,2}:\d{2})")  # where a time starts


def parse_date(text: str, source: str = "", line: int | None = None, column: str = "") -> date:
    """A calendar date in the forms exports use; slashed dates are US month/day.

    A date-time (``2026-11-03T15:31:07-0500``, ``20261103;153107``,
    ``2026-11-03, 15:31:07``) gives its date as written (the broker's clock).
    """
    s = text.strip()
    head = _TIME_PART.split(s, maxsplit=1)[0].strip()
    for pattern, parts in _DATE_FORMATS:
        m = pattern.fullmatch(head)
        if not m:
            continue
        got = dict(zip(parts, m.groups(), strict=True))
        try:
            year = int(got["y"]) if "y" in got else 2000 + int(got["yy"])
            month = _MONTHS[got["mon"].upper()] if "mon" in got else int(got["m"])
            return date(year, month, int(got["d"]))
        except (KeyError, ValueError):
            break
    raise InputError(f"not a date, got {text.strip()!r}", source, column, line)


def parse_instant(
    text: str, source: str = "", line: int | None = None, column: str = ""
) -> datetime | date:
    """A moment as a position file writes it: an ISO date-time (``2026-11-24T15:45:00-05:00``;
    without an offset, New York time) or a date in any form :func:`parse_date` reads (that
    day's close)."""
    s = text.strip()
    if len(s) > 10:
        try:
            return datetime.fromisoformat(s.replace(" ", "T", 1))
        except ValueError:
            pass
    return parse_date(s, source, line, column)


# --------------------------------------------------------------------------- symbols

_OSI_LOOSE = re.compile(r"([A-Z][A-Z0-9]{0,5}) *(\d{6})([CP])(\d{8})")
_TOS_CODE = re.compile(r"\.?([A-Z][A-Z0-9]*?)_?(\d{6})([CP])(\d+(?:\.\d+)?)")
_IB_DESCRIPTION = re.compile(
    r"([A-Z][A-Z0-9]*) (\d{1,2}[A-Z]{3}\d{2}) (\d+(?:\.\d+)?) ([CP])(?: \d+)?"
)

Option = tuple[str, str, float, date]  # root, "put"|"call", strike, expiry


def osi_option(
    symbol: str, source: str = "", line: int | None = None, column: str = ""
) -> Option | None:
    """An OSI symbol (``SPXW  261218P05400000``, any padding) → (root, type, strike, expiry).

    None when the text is not OSI-shaped. SPX/SPXW/VIX/VIXW symbols go through
    :func:`alvh_cli.model.contracts.parse_osi`, so they obey the position file's own
    rules; other roots are split the same way only to be named and skipped.
    """
    s = symbol.strip().upper()
    m = _OSI_LOOSE.fullmatch(s)
    if m is None:
        return None
    root, ymd, cp, code = m.groups()
    if root in ROOT_UNDERLYING:
        try:
            return parse_osi(s)
        except InputError as e:
            raise InputError(e.message, source, column, line) from None
    try:
        expiry = date(2000 + int(ymd[:2]), int(ymd[2:4]), int(ymd[4:]))
    except ValueError:
        return None
    return root, "put" if cp == "P" else "call", int(code) / 1000.0, expiry


def tos_option(
    code: str, source: str = "", line: int | None = None, column: str = ""
) -> Option | None:
    """A thinkorswim option code (``.SPXW261218P5400``, ``SPXW261218P5400``) → option.

    None when the text is not code-shaped, or is the code of another root with a date
    that is none. An SPX/SPXW/VIX/VIXW code whose date is none (``.SPXW261238P5400``) is
    an InputError naming ``source``, ``line`` and ``column``: an option alvh would
    import, misread, never one to skip as "not an option".
    """
    text = code.strip().upper()
    m = _TOS_CODE.fullmatch(text)
    if m is None:
        return None
    root, ymd, cp, strike = m.groups()
    try:
        expiry = date(2000 + int(ymd[:2]), int(ymd[2:4]), int(ymd[4:]))
    except ValueError:
        if root in ROOT_UNDERLYING:
            raise InputError(
                f"expiry {ymd} is not a valid YYMMDD date, got {code.strip()!r}",
                source,
                column,
                line,
            ) from None
        return None
    return root, "put" if cp == "P" else "call", float(strike), expiry


def ib_option(
    description: str, source: str = "", line: int | None = None, column: str = ""
) -> Option | None:
    """An Interactive Brokers option description (``SPXW 18DEC26 5400 P``) → option.

    None when the text is not description-shaped, or describes another root's option with
    a date that is none; an SPX/SPXW/VIX/VIXW one whose date is none (``SPXW 38DEC26 5400
    P``) is an InputError naming ``source``, ``line`` and ``column``.
    """
    m = _IB_DESCRIPTION.fullmatch(" ".join(description.strip().upper().split()))
    if m is None:
        return None
    root, day, strike, cp = m.groups()
    try:
        expiry = parse_date(day)
    except InputError:
        if root in ROOT_UNDERLYING:
            raise InputError(
                f"expiry {day} is not a valid date, got {description.strip()!r}",
                source,
                column,
                line,
            ) from None
        return None
    return root, "put" if cp == "P" else "call", float(strike), expiry


def option_text(option: Option) -> str:
    root, typ, strike, expiry = option
    return f"{root} {expiry} {fmt_strike(strike)} {typ}"


_TYPES = {"P": "put", "PUT": "put", "C": "call", "CALL": "call"}
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})")


def _restated_expiry(text: str, expiry: date, source: str, line: int, column: str):
    """A restated expiry as a date: ``expiry`` itself where a slashed date reads as it
    either way (``11/12/2026``, month or day first), None where the text has no date
    layout alvh knows (one the export lets the user choose, as IBKR's Flex queries do:
    not compared). A known layout that is no date (``38 DEC 26``) is an error."""
    s = text.strip()
    m = _SLASHED.fullmatch(s)
    if m is not None:
        a, b, y = (int(x) for x in m.groups())
        year = y + 2000 if y < 100 else y
        readings = []
        for month, day in ((a, b), (b, a)):
            with contextlib.suppress(ValueError):
                readings.append(date(year, month, day))
        if expiry in readings:
            return expiry
        if readings:
            return readings[0]
    head = _TIME_PART.split(s, maxsplit=1)[0].strip()
    if m is None and not any(p.fullmatch(head) for p, _ in _DATE_FORMATS):
        return None
    return parse_date(s, source, line, column)


def check_restated(
    option: Option,
    cells: Iterable[tuple[str, str, str]],
    source: str,
    line: int,
    read_from: str,
    code: str,
) -> None:
    """A row's columns that say again what its option is (``cells``: kind, column, text;
    kind ``strike``, ``expiry``, ``type``, or ``option``: another column's description of
    it, compared by type, strike and expiry) must say what the ``read_from`` column's
    ``code`` does (``option``), where given: a row that names two options is refused with
    its line and column, never read either way.
    A cell the export left empty (``-``, ``N/A``) or an expiry in a layout alvh does not
    read (:func:`_restated_expiry`) says nothing. Another root's option is not looked at:
    it is skipped, whatever its row says."""
    if underlying_of(option[0]) is None:
        return
    for kind, column, text in cells:
        if text.strip().lower() in _MISSING:
            continue
        if kind == "strike":
            got = number(text, source, line, column, required=False)
            if got is None:  # "N/A …": the export's no value
                continue
            same, said, meant = got == option[2], fmt_strike(got), fmt_strike(option[2])
        elif kind == "expiry":
            got = _restated_expiry(text, option[3], source, line, column)
            if got is None:  # a layout the user chose (IBKR's Flex date format): not compared
                continue
            same, said, meant = got == option[3], got, option[3]
        elif kind == "type":
            got = _TYPES.get(text.strip().upper())
            if got is None:
                raise InputError(f"{text!r} is not P, PUT, C or CALL", source, column, line)
            same, said, meant = got == option[1], got, option[1]
        else:  # the root aside: a description may name the class its own way
            got = ib_option(text, source, line, column)
            same = got is None or got[1:] == option[1:]
            said, meant = (got and option_text(got)), option_text(option)
        if not same:
            two = {"expiry": "two expiries", "strike": "two strikes", "type": "a put and a call"}
            raise InputError(
                f"{text!r} ({said}) is not the {kind} of the {read_from} {code!r} ({meant}): "
                f"the row names {two.get(kind, 'two options')}",
                source,
                column,
                line,
            )


# --------------------------------------------------------------------------- lots


@dataclass(frozen=True)
class Lot:
    """Part of a holding: signed contracts at a price per point, opened on a date; the
    broker's mark per point of the contract and when it was taken, when the row gives
    them."""

    quantity: int
    price: float | None
    opened: date | None = None
    source: str = ""
    mark: float | None = None
    mark_time: datetime | date | None = None


def leg_from_lots(option: Option, lots: Iterable[Lot], account: str) -> ImportedLeg:
    """One leg from lots of the same sign: quantities add, the price is their
    quantity-weighted average (None if any lot has none), ``opened`` the earliest
    date (None if any lot has none), the mark and its time the lots' (None when
    they give none, or different ones)."""
    lots = list(lots)
    quantity = sum(lot.quantity for lot in lots)
    prices = [lot.price for lot in lots]
    price = None
    if quantity and all(p is not None for p in prices):
        price = sum(abs(lot.quantity) * lot.price for lot in lots) / abs(quantity)
    dates = [lot.opened for lot in lots]
    opened = min(dates) if dates and all(d is not None for d in dates) else None
    root, typ, strike, expiry = option
    return ImportedLeg(
        underlying=ROOT_UNDERLYING[root],
        root=root,
        type=typ,
        strike=strike,
        expiry=expiry,
        quantity=quantity,
        entry_price=price,
        account=account,
        opened=opened,
        source=", ".join(dict.fromkeys(lot.source for lot in lots if lot.source)),
        mark=_one({lot.mark for lot in lots} - {None}),
        mark_time=_one({lot.mark_time for lot in lots} - {None}),
    )


def _one(values: set):
    """The one value of ``values``, or None when there is none or more than one."""
    return next(iter(values)) if len(values) == 1 else None


def collect(
    path: str,
    fmt: str,
    kind: str,
    holdings: dict[tuple[str, Option], list[Lot]],
    skipped: list[Skipped],
    notes: Sequence[str] = (),
) -> ParsedExport:
    """The export's legs from its holdings, one per account and contract.

    Rows of one contract that disagree in sign (a long and a short row) cannot
    both be a holding: InputError naming both lines.
    """
    legs = []
    for (account, option), lots in holdings.items():
        signs = {lot.quantity > 0 for lot in lots if lot.quantity}
        if len(signs) > 1:
            where = ", ".join(lot.source for lot in lots)
            raise InputError(
                f"{option_text(option)}: long and short rows for the same contract "
                f"({where}); an export lists one net position per contract",
                path,
            )
        leg = leg_from_lots(option, lots, account)
        if leg.quantity:
            legs.append(leg)
        if len({lot.mark for lot in lots} - {None}) > 1:
            where = ", ".join(lot.source for lot in lots)
            notes = [*notes, f"{option_text(option)}: its rows ({where}) give different marks: "
                             "none is written"]  # fmt: skip
    return ParsedExport(path, fmt, kind, tuple(legs), tuple(skipped), tuple(notes))


def option_or_skip(
    option: Option | None,
    what: str,
    source: str,
    skipped: list[Skipped],
) -> Option | None:
    """The option when alvh imports it; otherwise record why not and return None."""
    if option is None:
        skipped.append(Skipped(what, source, NOT_OPTION))
        return None
    if underlying_of(option[0]) is None:
        skipped.append(Skipped(option_text(option), source, NOT_ALVH))
        return None
    return option


def first_match(patterns: Iterable[str], text: str) -> str | None:
    for p in patterns:
        m = re.search(p, text)
        if m:
            return m.group(1)
    return None


def stamp(value: str) -> datetime | None:
    """A fill's date-time for ordering (naive, as written); None when not parseable."""
    s = value.strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M"):
        try:
            return datetime.strptime(s[:25], fmt).replace(tzinfo=None)
        except ValueError:
            continue
    try:
        return datetime.combine(parse_date(s), datetime.min.time())
    except InputError:
        return None
