"""Readers of option-chain snapshots and VIX futures settlements (CSV, or Parquet with pyarrow).

A file's layout is told by its header (column names are matched without
regard to case or surrounding spaces):

- **Cboe end-of-day** (Cboe DataShop "Option EOD Summary"): at least
  ``quote_date, expiration, strike, option_type, bid_1545, ask_1545,
  underlying_bid_1545, underlying_ask_1545``; ``root`` (SPX, SPXW, VIX,
  VIXW) and ``underlying_symbol`` (^SPX, ^VIX) are read when present, every
  other column of that layout is ignored. ``option_type`` is C or P. One
  ``quote_date`` per file: the snapshot's time is that date at 15:45 New York.
- **generic**: ``expiry, strike, type, bid, ask`` and optionally ``root``
  and ``underlying`` (SPX or VIX, default SPX); ``type`` is call/put (or
  C/P). No other column is allowed (a misspelt optional column must not be
  ignored). The file carries no quote time: the market's ``asof`` applies.
- **VIX futures settlements**: exactly ``expiry, price``.

Without a ``root``, SPX quotes are SPXW (PM-settled, DESIGN §2's default)
and VIX quotes VIX; a file that lists both the AM and the PM contract of one
day must say which is which with a ``root`` column (a duplicate otherwise).

Refused, with one line naming the file, the line (or Parquet row) and the
column: a value that is not a number or a date; a non-positive strike; a
negative bid or ask; a crossed quote (bid above ask); an expiry that is not
an exchange trading day, or (Cboe layout) before the quote date; an unknown
option type or root; a duplicate contract; a second quote date. Skipped and
counted in ``ChainSnapshot.skipped``: rows with bid and ask both 0 (no
market at all). Zero bids with an ask are kept as quotes; the fit leaves
them out and counts them.

Parquet (``.parquet``/``.pq``) needs the optional ``pyarrow``
(``pip install 'alvh[parquet]'``); without it the read is refused in one
line before any work. CSV needs nothing beyond the standard library and
numpy.

Why one long module (about 700 lines): the two layouts (Cboe, generic CSV/Parquet) share
the row checks, the number reader and the size limits, and each refusal names the file's
line or row the same way; split by layout, those would be imported back into each part.
"""

from __future__ import annotations

import csv
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np

from alvh_cli.errors import InputError
from alvh_cli.inputs.numbers import NUMBER_CHARS, read_number, why_not_a_number
from alvh_cli.model.chain import ChainSnapshot
from alvh_cli.model.contracts import DEFAULT_ROOT, ROOT_UNDERLYING
from alvh_cli.model.domain import FuturePoint
from alvh_cli.model.exchange import is_business_day, previous_business_day
from alvh_cli.model.timing import NEW_YORK

__all__ = [
    "CBOE_COLUMNS",
    "FUTURES_COLUMNS",
    "GENERIC_COLUMNS",
    "FuturesSettlements",
    "has_pyarrow",
    "read_chain",
    "read_futures",
    "read_option_chain",
    "require_readable",
]

CBOE_COLUMNS = (
    "quote_date",
    "expiration",
    "strike",
    "option_type",
    "bid_1545",
    "ask_1545",
    "underlying_bid_1545",
    "underlying_ask_1545",
)
CBOE_OPTIONAL = ("root", "underlying_symbol")
GENERIC_COLUMNS = ("expiry", "strike", "type", "bid", "ask")
GENERIC_OPTIONAL = ("root", "underlying")
FUTURES_COLUMNS = ("expiry", "price")

CBOE_QUOTE_TIME = time(15, 45)
"""The Cboe end-of-day file's ``_1545`` columns are the market at 15:45 New York."""

PARQUET_SUFFIXES = (".parquet", ".pq")

_SYMBOLS = {"^SPX": "SPX", "SPX": "SPX", "^VIX": "VIX", "VIX": "VIX"}
_TYPES = {"c": True, "call": True, "p": False, "put": False}

SKIP_NO_MARKET = "no market (bid and ask 0)"

# A day's whole SPX and SPXW chain, every listed series, is some tens of thousands of rows
# (a few MB); a file ten times that is not one day's chain. Both limits are applied before
# the rows are kept: the size before the file is opened, the rows as they stream in.
MAX_CHAIN_BYTES = 100 * 2**20
MAX_CHAIN_ROWS = 250_000

_PLAIN_CHARS = NUMBER_CHARS | {" "}

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class FuturesSettlements:
    """VIX futures settlement prices (points) by expiry, ascending, from ``source``.

    ``lines`` holds the CSV line of each point (``points[i]`` is on ``lines[i]``), or
    its Parquet row; :meth:`error` names them as the reader's own errors do."""

    source: str
    points: tuple[FuturePoint, ...]
    lines: tuple[int, ...] = ()
    parquet: bool = False

    def error(self, message: str, i: int, column: str) -> InputError:
        """An error about ``points[i]``'s ``column``, naming the file and its line (a
        Parquet file: ``rows[r].column``)."""
        if self.parquet:
            return InputError(message, self.source, f"rows[{self.lines[i]}].{column}")
        return InputError(message, self.source, column, line=self.lines[i])

    def where(self, i: int) -> str:
        """Where ``points[i]`` is, as a warning's source: ``vx.csv:3`` (``vx.csv`` and
        ``rows[2]`` in the key for Parquet)."""
        return self.source if self.parquet else f"{self.source}:{self.lines[i]}"

    def key(self, i: int, column: str) -> str:
        """The key a warning about ``points[i]``'s ``column`` names (with :meth:`where`)."""
        return f"rows[{self.lines[i]}].{column}" if self.parquet else column


def has_pyarrow() -> bool:
    """True when pyarrow can be imported (Parquet chains need it)."""
    return importlib.util.find_spec("pyarrow") is not None


def require_readable(paths: Sequence[str | Path]) -> None:
    """Refuse, before any work, a Parquet file when pyarrow is missing, or a missing file."""
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise InputError("no such file", str(p))
        if path.suffix.lower() in PARQUET_SUFFIXES and not has_pyarrow():
            raise InputError("reading Parquet needs pyarrow: pip install 'alvh[parquet]'", str(p))


def read_chain(path: str | Path) -> ChainSnapshot | FuturesSettlements:
    """Read a chain file of any of the three layouts (see the module docstring)."""
    table = _load(path)
    _wanted(table.header, table.source, table.header_line)  # a layout alvh knows
    layout = _layout(table.header)
    if layout == "cboe":
        return _cboe(table)
    if layout == "generic":
        return _generic(table)
    return _futures(table)


def _layout(header: Sequence[str]) -> str | None:
    """Which layout a header is: ``cboe``, ``generic`` or ``futures`` (else None)."""
    cols = set(header)
    if set(CBOE_COLUMNS) <= cols:
        return "cboe"
    if set(GENERIC_COLUMNS) <= cols:
        return "generic"
    if set(FUTURES_COLUMNS) <= cols and "strike" not in cols:
        return "futures"
    return None


def _wanted(header: Sequence[str], source: str, line: int | None) -> set[str]:
    """The columns of ``header`` a reader uses (its layout's); InputError for a header of
    no layout alvh knows."""
    layout = _layout(header)
    if layout is None:
        raise InputError(
            "not a chain layout alvh knows: expected the Cboe end-of-day columns ("
            + ", ".join(CBOE_COLUMNS)
            + "), or expiry, strike, type, bid, ask, or expiry, price; found "
            + ", ".join(header),
            source,
            line=line,
        )
    if layout == "cboe":
        return set(CBOE_COLUMNS) | (set(CBOE_OPTIONAL) & set(header))
    return set(header)  # the generic and futures layouts are checked column by column


def read_option_chain(path: str | Path) -> ChainSnapshot:
    """Read an option chain (Cboe end-of-day or generic layout)."""
    got = read_chain(path)
    if isinstance(got, FuturesSettlements):
        raise InputError("is a VIX futures file (expiry, price), not option quotes", str(path))
    return got


def read_futures(path: str | Path) -> FuturesSettlements:
    """Read VIX futures settlements (``expiry, price``)."""
    got = read_chain(path)
    if not isinstance(got, FuturesSettlements):
        raise InputError("holds option quotes, not VIX futures (expiry, price)", str(path))
    return got


# ----------------------------------------------------------------------- tables


@dataclass(frozen=True)
class _Table:
    """Raw columns of a file under lower-case names: the CSV cells (strings) of the columns
    its layout reads, or Arrow columns turned into Python lists when first asked for."""

    source: str
    header: tuple[str, ...]
    n: int
    cells: dict | None  # CSV: name -> the column's cells (strings); None for Parquet
    arrow: dict | None  # Parquet: name -> Arrow column
    lines: np.ndarray | None  # CSV line of each row; None for Parquet
    header_line: int | None
    cache: dict = field(default_factory=dict)

    def column(self, name: str) -> list:
        """The values of one column: strings from CSV, Python values (None for null) from
        Parquet."""
        got = self.cache.get(name)
        if got is None:
            got = self.cells[name] if self.cells is not None else self.arrow[name].to_pylist()
            self.cache[name] = got
        return got

    def has(self, name: str) -> bool:
        return name in self.header

    def error(self, message: str, row: int, column: str) -> InputError:
        if self.lines is None:
            return InputError(message, self.source, f"rows[{row}].{column}")
        return InputError(message, self.source, column, line=int(self.lines[row]))

    def where(self, row: int) -> str:
        return f"row {row}" if self.lines is None else f"line {int(self.lines[row])}"

    def line_of(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(rows) if self.lines is None else self.lines[rows]


def _load(path: str | Path) -> _Table:
    source = str(path)
    require_readable([path])
    if Path(path).suffix.lower() in PARQUET_SUFFIXES:
        return _load_parquet(source)
    return _load_csv(source)


def _load_csv(source: str) -> _Table:
    """The file's header and, row by row, the cells of the columns its layout reads.

    Refused before the parse: a file over ``MAX_CHAIN_BYTES``; while streaming: more than
    ``MAX_CHAIN_ROWS`` rows, a row with more or fewer cells than the header, a quote
    never closed (a file cut short)."""
    _check_size(source)
    try:
        with open(source, encoding="utf-8-sig", newline="") as f:
            records = _records(f, source)
            header_line, header = next(records, (None, None))
            if header is None:
                raise InputError("empty file: no header", source)
            names = _names(header, source, header_line)
            wanted = _wanted(names, source, header_line)
            keep = [(i, name) for i, name in enumerate(names) if name in wanted]
            cells: dict[str, list] = {name: [] for _, name in keep}
            lines: list[int] = []
            width = len(names)
            for line, row in records:
                if len(row) != width:
                    raise InputError(_width_message(len(row), width, header_line, row), source,
                                     line=line)  # fmt: skip
                if len(lines) >= MAX_CHAIN_ROWS:
                    raise InputError(
                        f"more than {MAX_CHAIN_ROWS:,} rows: not one day's option chain "
                        f"(alvh reads at most {MAX_CHAIN_ROWS:,})",
                        source,
                        line=line,
                    )
                for i, name in keep:
                    cells[name].append(row[i])
                lines.append(line)
    except UnicodeDecodeError as exc:
        raise InputError(f"not a UTF-8 text file ({exc.reason})", source) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", source) from None
    return _Table(source, tuple(names), len(lines), cells, None,
                  np.array(lines, dtype=int), header_line)  # fmt: skip


def _check_size(source: str) -> None:
    try:
        size = Path(source).stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", source) from None
    if size > MAX_CHAIN_BYTES:
        raise InputError(
            f"file too large ({size / 2**20:.0f} MB) for an option chain or futures file "
            f"(at most {MAX_CHAIN_BYTES // 2**20} MB)",
            source,
        )


def _width_message(got: int, width: int, header_line: int, row: list[str]) -> str:
    cut = (
        " (the last line, without a line end: the file may have been cut short)"
        if isinstance(row, _LastRow) and got < width
        else ""
    )
    return (
        f"has {got} fields, the header (line {header_line}) has {width}: a value with an "
        f"unquoted comma, or a missing one, shifts the columns after it{cut}"
    )


class _LastRow(list):
    """The cells of the file's last record when it does not end with a line end."""


def _records(lines, source: str):
    """(line, cells) of each CSV record of ``lines`` (an open file), blank lines skipped.

    A line without a quote character is split at commas, which is what the csv module
    gives too, three times faster (a 10,000-row Cboe file has 34 columns); a record
    with quotes is read by the csv module, strictly, taking in the next lines while a
    quote is open: a quote left open at the end of the file (a file cut short) or text
    after a closing quote is refused with its line.
    """
    number = 0
    for raw in lines:
        number += 1
        start = number
        if '"' in raw:
            while raw.count('"') % 2:  # a quoted field runs on to the next line
                more = next(lines, None)
                if more is None:
                    raise InputError(
                        "not readable as CSV: a quoted field is never closed (the file may "
                        "have been cut short)",
                        source,
                        line=start,
                    )
                number += 1
                raw += more
            try:
                (row,) = csv.reader([raw], strict=True)
            except (csv.Error, ValueError) as exc:
                raise InputError(f"not readable as CSV: {exc}", source, line=start) from None
        else:
            row = raw.rstrip("\r\n").split(",")
        if row == [""] or not raw.strip():
            continue
        if not raw.endswith(("\n", "\r")):
            row = _LastRow(row)
        yield start, row


def _load_parquet(source: str) -> _Table:
    """The file's columns. Refused before the columns are read: a file over
    ``MAX_CHAIN_BYTES``, or whose metadata counts more than ``MAX_CHAIN_ROWS`` rows."""
    import pyarrow.parquet as pq

    _check_size(source)
    try:
        with pq.ParquetFile(source) as f:
            rows = f.metadata.num_rows
            if rows > MAX_CHAIN_ROWS:
                raise InputError(
                    f"{rows:,} rows: not one day's option chain (alvh reads at most "
                    f"{MAX_CHAIN_ROWS:,})",
                    source,
                )
            table = f.read()
    except InputError:
        raise
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InputError(f"not readable as Parquet: {exc}", source) from None
    names = _names(table.column_names, source, None)
    arrow = dict(zip(names, table.columns, strict=True))
    return _Table(source, tuple(names), table.num_rows, None, arrow, None, None)


def _names(header: Sequence[str], source: str, line: int | None) -> list[str]:
    names = [str(h).strip().lower() for h in header]
    seen = set()
    for name in names:
        if name in seen:
            raise InputError("appears twice in the header", source, name, line=line)
        seen.add(name)
    return names


# ---------------------------------------------------------------------- values


def _shown(v) -> str:
    return "" if v is None else str(v).strip()


def _numbers(table: _Table, column: str) -> np.ndarray:
    """A numeric column as floats, read as :func:`alvh_cli.inputs.numbers.read_number`
    reads a number (a thousands comma only in groups of three); a value that is no
    finite number is an error naming its line and column."""
    raw = table.column(column)
    if table.cells is None:
        raw = [np.nan if v is None else v for v in raw]
    plain = table.cells is None or _PLAIN_CHARS.issuperset("".join(raw))
    values = None
    if plain:  # every cell in plain decimal notation: numpy reads it as float() would
        try:
            values = np.array(raw, dtype=float)
        except (ValueError, TypeError):
            values = None
    if values is not None and values.shape == (table.n,) and np.isfinite(values).all():
        return values
    out = np.empty(table.n)
    for i, v in enumerate(raw):
        shown = _shown(v)
        if shown in ("", "nan", "None"):
            raise table.error("missing", i, column)
        if isinstance(v, str):
            try:
                x = read_number(v)
            except ValueError:
                why = why_not_a_number(v) if "," in v else f"not a number: {shown!r}"
                raise table.error(why, i, column) from None
        else:
            x = float(v)
        if not np.isfinite(x):
            raise table.error(f"not a finite number: {shown!r}", i, column)
        out[i] = x
    return out


def _mapped(table: _Table, column: str, convert, complaint) -> list:
    """Each value of a column through ``convert`` (called once per distinct value; None
    for a bad one). The first bad value is an error: ``complaint(shown value)``, or
    "missing" for an empty cell."""
    raw = table.column(column)
    lookup = {v: convert(v) for v in set(raw)}
    if None in lookup.values():
        i = next(i for i, v in enumerate(raw) if lookup[v] is None)
        shown = _shown(raw[i])
        raise table.error("missing" if shown == "" else complaint(shown), i, column)
    return [lookup[v] for v in raw]


def _dates(table: _Table, column: str) -> np.ndarray:
    """A date column as ordinals; ISO dates (YYYY-MM-DD) in CSV, dates or strings in Parquet."""

    def convert(v):
        d = _date(v)
        return None if d is None else d.toordinal()

    got = _mapped(table, column, convert, lambda v: f"not a date (YYYY-MM-DD): {v!r}")
    return np.array(got, dtype=np.int64)


def _date(v) -> date | None:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        text = v.strip()
        try:
            return date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            return None
    return None


def _check_trading_days(table: _Table, days: np.ndarray, column: str) -> None:
    """Every expiry must be an exchange trading day; the first that is not is an error."""
    unique, first = np.unique(days, return_index=True)
    for day, row in zip(unique.tolist(), first.tolist(), strict=True):
        d = date.fromordinal(day)
        if not is_business_day(d):
            what = f"a {_WEEKDAYS[d.weekday()]}" if d.weekday() >= 5 else "an exchange holiday"
            raise table.error(
                f"{d} is {what}, not a trading day; options expire on trading days "
                f"(the one before is {previous_business_day(d)})",
                row,
                column,
            )


def _quotes(table: _Table, bid_col: str, ask_col: str) -> tuple[np.ndarray, np.ndarray]:
    bid, ask = _numbers(table, bid_col), _numbers(table, ask_col)
    for values, col in ((bid, bid_col), (ask, ask_col)):
        bad = np.flatnonzero(values < 0)
        if bad.size:
            i = int(bad[0])
            raise table.error(f"must be >= 0, got {_num(values[i])}", i, col)
    crossed = np.flatnonzero(bid > ask)
    if crossed.size:
        i = int(crossed[0])
        raise table.error(
            f"bid {_num(bid[i])} is above ask {_num(ask[i])} (crossed quote)", i, bid_col
        )
    return bid, ask


def _strikes(table: _Table) -> np.ndarray:
    strike = _numbers(table, "strike")
    bad = np.flatnonzero(strike <= 0)
    if bad.size:
        i = int(bad[0])
        raise table.error(f"must be > 0, got {_num(strike[i])}", i, "strike")
    return strike


def _types(table: _Table, column: str, allowed: str) -> np.ndarray:
    """The option type column as ``is_call`` (C/call or P/put, any case)."""
    got = _mapped(
        table,
        column,
        lambda v: _TYPES.get(_shown(v).lower()),
        lambda v: f"must be {allowed}, got {v!r}",
    )
    return np.array(got, dtype=bool)


def _upper_in(allowed) -> object:
    def convert(v):
        text = _shown(v).upper()
        return text if text in allowed else None

    return convert


def _roots(table: _Table, underlying: list[str] | None) -> tuple[list[str], list[str]]:
    """Each row's underlying and root: from the ``root`` column (checked against
    ``underlying`` where the file names that too), else the default root of the
    underlying (SPX when the file names neither)."""
    if not table.has("root"):
        underlying = underlying or ["SPX"] * table.n
        return underlying, [DEFAULT_ROOT[u] for u in underlying]
    roots = _mapped(
        table,
        "root",
        _upper_in(ROOT_UNDERLYING),
        lambda v: f"must be one of {', '.join(ROOT_UNDERLYING)}, got {v!r}",
    )
    of_root = [ROOT_UNDERLYING[r] for r in roots]
    if underlying is not None and of_root != underlying:
        i = next(i for i, (a, b) in enumerate(zip(of_root, underlying, strict=True)) if a != b)
        raise table.error(f"root {roots[i]} is not an option on {underlying[i]}", i, "root")
    return of_root, roots


def _num(x: float) -> str:
    return f"{x:g}"


# ---------------------------------------------------------------------- layouts


def _cboe(table: _Table) -> ChainSnapshot:
    if table.n == 0:
        raise InputError("no quotes: the file has a header only", table.source)
    quote_days = _dates(table, "quote_date")
    differs = np.flatnonzero(quote_days != quote_days[0])
    if differs.size:
        i = int(differs[0])
        raise table.error(
            f"one snapshot per file: {date.fromordinal(int(quote_days[i]))} differs from "
            f"{date.fromordinal(int(quote_days[0]))} on {table.where(0)}",
            i,
            "quote_date",
        )
    quote_day = date.fromordinal(int(quote_days[0]))
    expiry = _dates(table, "expiration")
    early = np.flatnonzero(expiry < quote_days[0])
    if early.size:
        i = int(early[0])
        raise table.error(
            f"{date.fromordinal(int(expiry[i]))} is before quote_date {quote_day}", i, "expiration"
        )
    _check_trading_days(table, expiry, "expiration")
    strike = _strikes(table)
    is_call = _types(table, "option_type", "C or P")
    bid, ask = _quotes(table, "bid_1545", "ask_1545")
    u_bid, u_ask = _quotes(table, "underlying_bid_1545", "underlying_ask_1545")
    u_price = np.where((u_bid > 0) & (u_ask > 0), 0.5 * (u_bid + u_ask), np.nan)

    symbols = _symbols(table) if table.has("underlying_symbol") else None
    underlying, roots = _roots(table, symbols)
    asof = datetime.combine(quote_day, CBOE_QUOTE_TIME, tzinfo=NEW_YORK)
    return _snapshot(table, underlying, roots, expiry, strike, is_call, bid, ask, u_price, asof)


def _symbols(table: _Table) -> list[str]:
    """The Cboe ``underlying_symbol`` column (^SPX, ^VIX) as underlyings."""
    return _mapped(
        table,
        "underlying_symbol",
        lambda v: _SYMBOLS.get(_shown(v).upper()),
        lambda v: f"must be ^SPX or ^VIX, got {v!r}",
    )


def _generic(table: _Table) -> ChainSnapshot:
    allowed = (*GENERIC_COLUMNS, *GENERIC_OPTIONAL)
    for name in table.header:
        if name not in allowed:
            raise InputError(
                "unknown column (the generic layout has expiry, strike, type, bid, ask "
                "and optionally root, underlying)",
                table.source,
                name,
                line=table.header_line,
            )
    if table.n == 0:
        raise InputError("no quotes: the file has a header only", table.source)
    underlying = None
    if table.has("underlying"):
        underlying = _mapped(
            table, "underlying", _upper_in(DEFAULT_ROOT), lambda v: f"must be SPX or VIX, got {v!r}"
        )
    underlying, roots = _roots(table, underlying)
    expiry = _dates(table, "expiry")
    _check_trading_days(table, expiry, "expiry")
    strike = _strikes(table)
    is_call = _types(table, "type", "call or put (or C or P)")
    bid, ask = _quotes(table, "bid", "ask")
    u_price = np.full(table.n, np.nan)
    return _snapshot(table, underlying, roots, expiry, strike, is_call, bid, ask, u_price, None)


def _snapshot(
    table, underlying, roots, expiry, strike, is_call, bid, ask, u_price, asof
) -> ChainSnapshot:
    underlying = np.array(underlying, dtype=str)
    roots = np.array(roots, dtype=str)
    _check_duplicates(table, roots, expiry, strike, is_call)
    keep = ~((bid == 0) & (ask == 0))
    dropped = int(table.n - np.count_nonzero(keep))
    rows = np.flatnonzero(keep)
    return ChainSnapshot(
        source=table.source,
        underlying=underlying[rows],
        root=roots[rows],
        expiry=(expiry[rows] - date(1970, 1, 1).toordinal()).astype("datetime64[D]"),
        strike=strike[rows],
        is_call=is_call[rows],
        bid=bid[rows],
        ask=ask[rows],
        underlying_price=u_price[rows],
        line=table.line_of(rows),
        asof=asof,
        skipped=((SKIP_NO_MARKET, dropped),) if dropped else (),
    )


def _check_duplicates(table, roots, expiry, strike, is_call) -> None:
    """Two rows for one contract (root, expiry, strike, type) are an error naming both."""
    _, root_code = np.unique(roots, return_inverse=True)
    order = np.lexsort((np.arange(table.n), is_call, strike, expiry, root_code))
    keys = np.stack([root_code[order], expiry[order], strike[order], is_call[order]], axis=1)
    same = np.flatnonzero(np.all(keys[1:] == keys[:-1], axis=1))
    if not same.size:
        return
    pairs = [(int(order[j]), int(order[j + 1])) for j in same]
    first, second = min(pairs, key=lambda p: p[1])
    kind = "call" if is_call[second] else "put"
    hint = "" if table.has("root") else "; add a root column (SPX or SPXW)"
    raise table.error(
        f"duplicate quote for {roots[second]} {kind} {_num(strike[second])} "
        f"{date.fromordinal(int(expiry[second]))} (also {table.where(first)}){hint}",
        second,
        "strike",
    )


def _futures(table: _Table) -> FuturesSettlements:
    for name in table.header:
        if name not in FUTURES_COLUMNS:
            raise InputError(
                "unknown column (a VIX futures file has expiry, price)",
                table.source,
                name,
                line=table.header_line,
            )
    if table.n == 0:
        raise InputError("no settlements: the file has a header only", table.source)
    expiry = _dates(table, "expiry")
    unique, first = np.unique(expiry, return_index=True)
    for day, row in zip(unique.tolist(), first.tolist(), strict=True):
        d = date.fromordinal(day)
        if not is_business_day(d):
            what = f"a {_WEEKDAYS[d.weekday()]}" if d.weekday() >= 5 else "an exchange holiday"
            raise table.error(
                f"{d} is {what}, not a trading day; VIX futures expire on trading days "
                f"(the one before is {previous_business_day(d)})",
                row,
                "expiry",
            )
    price = _numbers(table, "price")
    bad = np.flatnonzero(price <= 0)
    if bad.size:
        i = int(bad[0])
        raise table.error(f"must be > 0, got {_num(price[i])}", i, "price")
    seen: dict[int, int] = {}
    for i, day in enumerate(expiry.tolist()):
        if day in seen:
            raise table.error(
                f"duplicate expiry {date.fromordinal(day)} (also {table.where(seen[day])})",
                i,
                "expiry",
            )
        seen[day] = i
    order = np.argsort(expiry, kind="stable")
    points = tuple(FuturePoint(date.fromordinal(int(expiry[i])), float(price[i])) for i in order)
    lines = tuple(int(n) for n in table.line_of(order))
    return FuturesSettlements(table.source, points, lines, parquet=table.lines is None)
