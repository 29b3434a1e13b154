"""Position files: read TOML, validate every key, build the domain types.

The file format is DESIGN §2. Every key a file may hold is declared once, in
the field tables below (``LEG_FIELDS``, ``MARKET_FIELDS``, ...): the validator
walks them and ``json_schema()`` is generated from them, so the two cannot
drift apart. What a table cannot say (a leg gives ``occ`` or type/strike/expiry,
the condor's shape, unique ids, bid ≤ ask) is checked by the builders below.

Every problem raises :class:`~alvh_cli.errors.InputError` naming the file as
given, the key path (``positions[0].legs[2].strike``) and what is wrong, in the
form ``must be > 0, got -5400``. Files are only ever read.

Choices (``type``, ``underlying``, ``root``) are matched case-insensitively and
normalised (``"Put"`` → ``"put"``, ``"spxw"`` → ``"SPXW"``): a tired trader's
capital letter is not ambiguous. OSI symbols are strict except for the padding
spaces after the root.

Only the standard library is imported here, so loading stays fast.
"""

from __future__ import annotations

import difflib
import math
import re
import stat
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from alvh_cli.errors import InputError
from alvh_cli.model.domain import FuturePoint, Leg, Market, Position, PositionFile, Quote, Smile
from alvh_cli.model.exchange import is_business_day, previous_business_day

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "expand_book",
    "json_schema",
    "load_file",
    "load_files",
    "load_market_file",
    "load_rules_table",
    "parse_market",
    "parse_osi",
    "resolve_asof",
]

NEW_YORK = "America/New_York"
CLOSE_NY = time(16, 0)  # a bare date as ``asof`` means the 16:00 New York close

# Roots alvh prices and their underlying.
ROOT_UNDERLYING = {"SPX": "SPX", "SPXW": "SPX", "VIX": "VIX", "VIXW": "VIX"}
DEFAULT_ROOT = {"SPX": "SPXW", "VIX": "VIX"}

# Keys an OSI symbol (``occ``) replaces: a leg or quote gives one or the other.
OCC_REPLACES = ("root", "type", "strike", "expiry")


# ---------------------------------------------------------------------------
# Field tables: the one description of the file format.


@dataclass(frozen=True)
class Field:
    """One key of a TOML table: its kind, its limits and its documentation.

    ``kind`` is one of ``string``, ``number`` (int or float, never bool),
    ``integer``, ``date`` (a TOML local date), ``instant`` (a TOML date, local
    date-time or offset date-time), ``table``, ``tables`` (an array of tables,
    each described by ``fields``) and ``rules`` (a table of numbers and
    booleans whose keys are validated by ``rules.py``). ``choices`` are the
    canonical spellings, matched case-insensitively. The bounds ``gt``, ``ge``,
    ``lt``, ``le`` and ``nonzero`` apply to numbers; ``hint`` follows the bounds
    in their error message. ``required_note`` follows "required" when the key is
    missing.
    """

    name: str
    kind: str
    doc: str
    required: bool = False
    choices: tuple[str, ...] = ()
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    nonzero: bool = False
    fields: tuple[Field, ...] = ()
    hint: str = ""  # appended to an out-of-bounds message: "(4.2% is written 0.042)"
    required_note: str = ""  # appended to "required": "when [market.spx_vol] is given"


OCC_FIELD_DOC = (
    'OSI option symbol, e.g. "SPXW  261218P05400000": root padded to 6 characters, '
    "expiry YYMMDD, C or P, strike x 1000 in 8 digits. Replaces root, type, strike and "
    "expiry; give one or the other."
)

LEG_FIELDS = (
    Field("occ", "string", OCC_FIELD_DOC),
    Field(
        "underlying",
        "string",
        '"SPX" or "VIX". Default "SPX" (or the root\'s underlying when occ is given).',
        choices=("SPX", "VIX"),
    ),
    Field(
        "root",
        "string",
        '"SPX" (AM-settled monthly), "SPXW" (PM-settled) for SPX legs, default "SPXW"; '
        '"VIX" or "VIXW" for VIX legs, default "VIX".',
        choices=("SPX", "SPXW", "VIX", "VIXW"),
    ),
    Field(
        "type",
        "string",
        '"put", "call", or "future" (VIX legs only; a future has no strike). Case-insensitive.',
        choices=("put", "call", "future"),
    ),
    Field("strike", "number", "Strike in index points (options only).", gt=0),
    Field("expiry", "date", "Expiration date (TOML date, e.g. 2026-12-18), a trading day."),
    Field(
        "quantity",
        "integer",
        "Signed contracts: + long, - short. Required.",
        required=True,
        nonzero=True,
    ),
    Field(
        "entry_price",
        "number",
        "Premium paid or received per index point (futures: the entry price), "
        "always >= 0. Required.",
        required=True,
        ge=0,
    ),
    Field(
        "iv",
        "number",
        "Optional: fixes this option's implied volatility (annual decimal, 0.19 = 19%).",
        gt=0,
        lt=10,
    ),
    Field(
        "layer",
        "integer",
        "1, 2 or 3 on an ALVH adjustment leg already on; absent on the four condor legs.",
        ge=1,
        le=3,
    ),
    Field(
        "entry_vix",
        "number",
        "Optional, layer legs only: VIX when the layer went on (for the unwind rule).",
        gt=0,
    ),
)

POSITION_FIELDS = (
    Field(
        "id",
        "string",
        "Name of the position, unique in the file, printable text. Required.",
        required=True,
    ),
    Field("opened", "date", "Date the condor was opened (TOML date)."),
    Field(
        "credit",
        "number",
        "Opening credit per condor unit in points, at most the widest wing. Default: the net "
        "entry premium of the condor legs (short entry prices minus long entry prices).",
        gt=0,
    ),
    Field(
        "legs",
        "tables",
        "The four condor legs (no layer) and any ALVH layer legs already on. Required.",
        required=True,
        fields=LEG_FIELDS,
    ),
)

FUTURE_FIELDS = (
    Field(
        "expiry",
        "date",
        "VIX future expiration date (TOML date, a trading day). Required.",
        required=True,
    ),
    Field(
        "price",
        "number",
        "Future price in VIX points, within a factor 3 of spot VIX. Required.",
        required=True,
        gt=0,
    ),
)

_SMILE_FORM = "iv = atm + skew*k + smile*k^2 with k = ln(K/F), floored at 0.01."
SPX_VOL_FIELDS = (
    Field(
        "atm", "number", "At-the-money volatility (annual decimal). Default vix/100.", gt=0, lt=10
    ),
    Field(
        "skew",
        "number",
        "Slope of iv in k = ln(K/F); negative for the usual put skew, e.g. -1.1. Required.",
        required=True,
        required_note="when [market.spx_vol] is given (the smile's slope, e.g. -1.1)",
    ),
    Field(
        "smile",
        "number",
        "Curvature of iv in k, e.g. 2.5. Required.",
        required=True,
        required_note="when [market.spx_vol] is given (the smile's curvature, e.g. 2.5)",
    ),
)
VIX_VOL_FIELDS = (
    Field(
        "atm",
        "number",
        "At-the-money volatility of VIX options (annual decimal, ~0.9-1.2). Required.",
        required=True,
        required_note="when [market.vix_vol] is given (e.g. 0.95)",
        gt=0,
        lt=10,
    ),
    Field("skew", "number", "Slope of iv in k = ln(K/F); positive for VIX calls. Default 0."),
    Field("smile", "number", "Curvature of iv in k. Default 0."),
)

QUOTE_FIELDS = (
    Field("occ", "string", OCC_FIELD_DOC),
    Field("underlying", "string", '"SPX" or "VIX". Default "SPX".', choices=("SPX", "VIX")),
    Field(
        "root",
        "string",
        'Optional root ("SPX", "SPXW", "VIX", "VIXW"); absent matches any root.',
        choices=("SPX", "SPXW", "VIX", "VIXW"),
    ),
    Field("type", "string", '"put" or "call". Case-insensitive.', choices=("put", "call")),
    Field("strike", "number", "Strike in index points.", gt=0),
    Field("expiry", "date", "Expiration date (TOML date), a trading day."),
    Field("bid", "number", "Bid in points, >= 0. Required.", required=True, ge=0),
    Field("ask", "number", "Ask in points, > 0 and >= bid. Required.", required=True, gt=0),
)

MARKET_FIELDS = (
    Field(
        "asof",
        "instant",
        "Snapshot time: an offset date-time is taken as is, a local date-time is "
        "America/New_York, a date means 16:00 New York. Required.",
        required=True,
    ),
    Field("spx", "number", "SPX index level. Required.", required=True, gt=0),
    Field("vix", "number", "VIX index level. Required.", required=True, gt=0),
    Field(
        "rate",
        "number",
        "Risk-free rate, continuously compounded, annual decimal (4.2% is 0.042). Required.",
        required=True,
        ge=-0.05,
        le=0.2,
        hint="(4.2% is written 0.042)",
    ),
    Field(
        "dividend_yield",
        "number",
        "SPX dividend yield, continuous, annual decimal (1.3% is 0.013). Required.",
        required=True,
        ge=-0.05,
        le=0.2,
        hint="(1.3% is written 0.013)",
    ),
    Field(
        "vix_futures",
        "tables",
        "VIX futures curve: one {expiry, price} per listed expiry.",
        fields=FUTURE_FIELDS,
    ),
    Field(
        "spx_vol",
        "table",
        "SPX volatility smile. "
        + _SMILE_FORM
        + " When given, skew and smile are required (atm defaults to vix/100); without "
        "the table the smile is flat at vix/100.",
        fields=SPX_VOL_FIELDS,
    ),
    Field(
        "vix_vol",
        "table",
        "VIX option volatility smile against the future of the same expiry. " + _SMILE_FORM,
        fields=VIX_VOL_FIELDS,
    ),
    Field(
        "quotes",
        "tables",
        "Bid/ask quotes; a quote beats the smile for its contract.",
        fields=QUOTE_FIELDS,
    ),
)

FILE_FIELDS = (
    Field(
        "market",
        "table",
        "Market snapshot; --market FILE overrides it.",
        fields=MARKET_FIELDS,
    ),
    Field(
        "rules",
        "rules",
        "Overrides of the rule defaults (see `alvh rules`); --rules FILE overrides it.",
    ),
    Field(
        "positions",
        "tables",
        "The positions: an iron condor each, with any ALVH layers on it.",
        fields=POSITION_FIELDS,
    ),
)


# ---------------------------------------------------------------------------
# Public API


def load_file(path: str | Path) -> PositionFile:
    """Load and validate one position file (positions, optional market and rules)."""
    source = str(path)
    raw = _read_toml(path)
    try:
        top = _check_table(raw, FILE_FIELDS, source, "")
        if not top.get("positions"):
            raise InputError("no [[positions]] in file", source)
        positions = _build_positions(top["positions"], source)
    except InputError as exc:
        raise with_position_id(exc, raw.get("positions")) from None
    market = _build_market(top["market"], source) if "market" in top else None
    return PositionFile(
        path=source, positions=positions, market=market, rules=dict(top.get("rules", {}))
    )


def with_position_id(exc: InputError, raw_positions) -> InputError:
    """The error with the position's id appended, when its key is inside ``positions[i]``
    and that position has a string id: ``… (position 'dec-ic')``."""
    m = re.match(r"positions\[(\d+)\]", exc.key)
    if not m or not isinstance(raw_positions, list):
        return exc
    i = int(m.group(1))
    raw = raw_positions[i] if i < len(raw_positions) else None
    pid = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(pid, str) or not pid.strip() or exc.key == f"positions[{i}].id":
        return exc
    return InputError(f"{exc.message} (position {pid!r})", exc.source, exc.key, exc.line)


def load_files(paths: Iterable[str | Path]) -> list[PositionFile]:
    """Load every file of ``paths``; directories stand for their ``*.toml`` files."""
    return [load_file(p) for p in expand_book(paths)]


def expand_book(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, directories replaced by their ``*.toml`` files (sorted, not recursive).

    A path given twice (or a file inside a directory also given) appears once.
    A missing path, or a directory without ``*.toml`` files, is an InputError.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = sorted(f for f in path.glob("*.toml") if f.is_file())
            if not files:
                raise InputError("no *.toml files in this directory", str(given))
        elif path.exists():
            files = [path]
        else:
            raise InputError("no such file or directory", str(given))
        for f in files:
            resolved = f.resolve()
            if resolved not in seen:
                seen.add(resolved)
                out.append(f)
    return out


def load_market_file(path: str | Path) -> Market:
    """The ``[market]`` table of a TOML file (``--market FILE``); other tables are ignored."""
    source = str(path)
    doc = _read_toml(path)
    if "market" not in doc:
        tables = [k for k, v in doc.items() if isinstance(v, (dict, list))]
        close = difflib.get_close_matches("market", tables, n=1, cutoff=0.6)
        if close:
            raise InputError(
                f"no [market] table (did you mean [market] instead of [{close[0]}]?)",
                source,
                close[0],
            )
        raise InputError("no [market] table in file", source, "market")
    return parse_market(doc["market"], source)


def load_rules_table(path: str | Path) -> dict:
    """Rule overrides for ``--rules FILE``: its ``[rules]`` table, or its top-level keys.

    Only checks that every value is a finite number or a boolean; which keys
    exist is ``rules.py``'s business.
    """
    source = str(path)
    doc = _read_toml(path)
    if "rules" in doc:
        return _check_rules(doc["rules"], source, "rules")
    other = [k for k in ("positions", "market") if k in doc]
    if other:
        raise InputError(f"no [rules] table in file (it has [{other[0]}])", source, "rules")
    return _check_rules(doc, source, "")


def parse_market(table: Mapping, source: str) -> Market:
    """Validate a ``[market]`` table (already parsed from TOML) into a Market."""
    values = _check_value(table, _FILE_FIELD["market"], source, "market")
    return _build_market(values, source)


def parse_osi(symbol: str) -> tuple[str, str, float, date]:
    """Split an OSI option symbol into (root, type, strike, expiry).

    ``"SPXW  261218P05400000"`` → ``("SPXW", "put", 5400.0, date(2026, 12, 18))``.
    The root may be padded with any number of spaces (none too); everything
    else is strict: upper case, YYMMDD, C or P, 8-digit strike × 1000.
    Raises InputError (without file or key: callers locate it).
    """
    if not isinstance(symbol, str):
        raise InputError(f"must be a string, got {_show(symbol)}")
    m = _OSI.fullmatch(symbol)
    if m is None:
        raise InputError(
            f"not an OSI option symbol (ROOT YYMMDD C|P 8-digit strike×1000), got {_show(symbol)}"
        )
    root, ymd, cp, strike_code = m.groups()
    if root not in ROOT_UNDERLYING:
        known = ", ".join(ROOT_UNDERLYING)
        raise InputError(f"root {root!r} is not one alvh prices ({known}), got {_show(symbol)}")
    try:
        expiry = date(2000 + int(ymd[:2]), int(ymd[2:4]), int(ymd[4:]))
    except ValueError:
        raise InputError(f"expiry {ymd} is not a valid YYMMDD date, got {_show(symbol)}") from None
    strike = int(strike_code) / 1000.0
    if strike <= 0:
        raise InputError(f"strike must be > 0, got {_show(symbol)}")
    return root, "put" if cp == "P" else "call", strike, expiry


_OSI = re.compile(r"([A-Z]{1,6}?) *(\d{6})([CP])(\d{8})")


def resolve_asof(value: date | datetime) -> datetime:
    """Make ``asof`` timezone-aware (DESIGN §2).

    An offset date-time is kept as is; a local date-time is New York wall
    time; a bare date is 16:00 New York (the close) on that day.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value
        return value.replace(tzinfo=_new_york())
    return datetime.combine(value, CLOSE_NY, tzinfo=_new_york())


def json_schema(rule_docs: Mapping[str, str] | None = None) -> dict:
    """JSON Schema (draft 2020-12) of a position file, generated from the field tables.

    Dates are strings with ``format: date`` and date-times with ``format:
    date-time`` (local date-times ``partial-date-time``), which is how TOML
    editors (Even Better TOML / taplo) map TOML dates onto JSON Schema.
    ``rule_docs`` (rule name → description, from ``rules.py``) closes the
    ``[rules]`` table to those names; without it any number/boolean key is allowed.
    Choices are listed in their canonical spelling; alvh itself also accepts
    other letter cases.
    """
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "alvh position file",
        "description": (
            "Iron condor positions, their ALVH layers, and optionally a market snapshot "
            "and rule overrides (DESIGN section 2). A file with only [market] serves as "
            "--market FILE."
        ),
    }
    schema.update(_schema_object(FILE_FIELDS, rule_docs))
    return schema


# ---------------------------------------------------------------------------
# Reading


MAX_FILE_BYTES = 20 * 2**20  # no position, market or rules file comes near 20 MB


def _read_toml(path: str | Path) -> dict:
    """Parse a TOML file read-only in bytes mode; every failure is an InputError.

    The file is checked with ``stat`` before it is opened: a directory, a
    device (``/dev/zero``), a FIFO or a file over 20 MB is refused without
    reading it, so a wrong argument cannot hang the command.
    """
    source = str(path)
    p = Path(path)
    try:
        st = p.stat()
        if stat.S_ISDIR(st.st_mode):
            raise InputError("is a directory, not a TOML file", source)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(
                f"not a regular file ({_file_kind(st.st_mode)}): expected a TOML file", source
            )
        if st.st_size > MAX_FILE_BYTES:
            raise InputError(
                f"file too large ({st.st_size / 2**20:.0f} MB) for a position file "
                f"(at most {MAX_FILE_BYTES // 2**20} MB)",
                source,
            )
        with p.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:  # grew after the stat
            raise InputError(
                f"file too large (over {MAX_FILE_BYTES // 2**20} MB) for a position file", source
            )
    except FileNotFoundError:
        raise InputError("no such file", source) from None
    except PermissionError:
        raise InputError("cannot read the file: permission denied", source) from None
    except OSError as e:
        raise InputError(f"cannot read the file: {e.strerror or e}", source) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise InputError("not a text file (binary data): expected TOML", source, line=line)
    try:
        text = data.decode("utf-8-sig")  # tolerate the BOM some editors write
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        bad = data[e.start]
        raise InputError(
            f"not UTF-8 text (byte 0x{bad:02x}); save the file as UTF-8", source, line=line
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message, line = _toml_error(str(e), text)
        key, hint = "", ""
        lines = text.splitlines()
        if line is not None and 1 <= line <= len(lines):
            key, hint = _syntax_hint(lines[line - 1])
        raise InputError(f"TOML syntax error: {message}{hint}", source, key, line) from None


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"  # pragma: no cover


# Common slips in a value, tried in order on the line of a TOML syntax error.
_KEY_EQ = r"([A-Za-z0-9_-]+)\s*=\s*"
_SLIPS = (
    re.compile(_KEY_EQ + r"(\d{1,2})/(\d{1,2})/(\d{2,4})(?![\d/])"),  # 12/18/2026
    re.compile(_KEY_EQ + r"([+-]?\d+(?:\.\d+)?)\s*%"),  # 4.2%
    re.compile(_KEY_EQ + r"([+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?)(?![\d,])"),  # 5,500
    re.compile(_KEY_EQ + r"([+-]?\d+),(\d+)(?![\d,])"),  # 16,20
)


def _syntax_hint(line: str) -> tuple[str, str]:
    """(key, " — hint") for a line holding a common slip, else ("", "")."""
    for n, pattern in enumerate(_SLIPS):
        m = pattern.search(line)
        if m is None:
            continue
        key = m.group(1)
        if n == 0:
            month, day, year = (int(g) for g in m.groups()[1:])
            try:
                example = date(year if year >= 100 else 2000 + year, month, day).isoformat()
            except ValueError:
                example = "2026-12-18"
            return key, f" — dates are YYYY-MM-DD, e.g. {example}"
        if n == 1:
            pct = m.group(2)
            as_decimal = format((Decimal(pct) / 100).normalize(), "f")
            return key, f" — write {pct}% as {as_decimal}"
        if n == 2:
            return key, f" — no commas in numbers: write {m.group(2).replace(',', '')}"
        return key, f" — decimals use a point: write {m.group(2)}.{m.group(3)}"
    return "", ""


_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def _toml_error(text: str, document: str) -> tuple[str, int | None]:
    """tomllib's message without its ``(at line N, column M)`` tail, and N."""
    first = text.splitlines()[0] if text else "invalid TOML"
    m = _AT_LINE.search(first)
    if m:
        msg = first[: m.start()]
        return f"{_lower_first(msg)} (column {m.group(2)})", int(m.group(1))
    m = _AT_END.search(first)
    if m:
        return f"{_lower_first(first[: m.start()])} at end of file", document.count("\n") + 1
    return _lower_first(first), None


def _lower_first(s: str) -> str:
    return s[:1].lower() + s[1:]


# ---------------------------------------------------------------------------
# Generic validation by the field tables


def _check_table(raw: object, fields: tuple[Field, ...], source: str, key: str) -> dict:
    """Check a table against its fields; return the present keys' cleaned values."""
    if not isinstance(raw, dict):
        raise InputError(f"must be a table, got {_show(raw)}", source, key)
    by_name = {f.name: f for f in fields}
    for name in raw:
        if name not in by_name:
            raise InputError(_unknown_key(name, by_name), source, _join(key, name))
    out = {}
    for f in fields:
        sub = _join(key, f.name)
        if f.name in raw:
            out[f.name] = _check_value(raw[f.name], f, source, sub)
        elif f.required:
            note = f" {f.required_note}" if f.required_note else ""
            raise InputError(f"required{note}", source, sub)
    return out


def _check_value(value: object, f: Field, source: str, key: str) -> object:
    kind = f.kind
    if kind == "table":
        if isinstance(value, list):
            raise InputError(
                f"must be a single table [{_header(key)}], got an array of tables", source, key
            )
        return _check_table(value, f.fields, source, key)
    if kind == "tables":
        if isinstance(value, dict):
            raise InputError(
                f"must be an array of tables [[{_header(key)}]], got a single table "
                f"[{_header(key)}]",
                source,
                key,
            )
        if not isinstance(value, list):
            raise InputError(f"must be an array of tables, got {_show(value)}", source, key)
        return [_check_table(v, f.fields, source, f"{key}[{i}]") for i, v in enumerate(value)]
    if kind == "rules":
        return _check_rules(value, source, key)
    if kind == "string":
        return _check_string(value, f, source, key)
    if kind in ("number", "integer"):
        return _check_number(value, f, source, key)
    if kind == "date":
        if isinstance(value, datetime):
            raise InputError(
                f"must be a date (YYYY-MM-DD), got a date-time {_show(value)}", source, key
            )
        if isinstance(value, date):
            return value
        raise InputError(_want("a date (YYYY-MM-DD)", value), source, key)
    if kind == "instant":
        if isinstance(value, date):  # datetime is a date too
            return value
        raise InputError(
            _want("a date or date-time (2026-11-24T15:45:00-05:00)", value), source, key
        )
    raise AssertionError(f"unknown field kind {kind!r}")  # pragma: no cover


def _check_string(value: object, f: Field, source: str, key: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"must be a string (in quotes), got {_show(value)}", source, key)
    if not f.choices:
        if not value.strip():
            raise InputError("must not be empty", source, key)
        return value
    canonical = {c.lower(): c for c in f.choices}
    found = canonical.get(value.strip().lower())
    if found is None:
        allowed = ", ".join(f'"{c}"' for c in f.choices)
        raise InputError(f"must be one of {allowed}, got {_show(value)}", source, key)
    return found


def _check_number(value: object, f: Field, source: str, key: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(_want("a number", value), source, key)
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"must be a finite number, got {_show(value)}", source, key)
    if f.kind == "integer" and not isinstance(value, int):
        raise InputError(
            f"must be a whole number (no decimal point), got {_show(value)}", source, key
        )
    if f.nonzero and value == 0:
        raise InputError("must not be 0 (signed contracts: + long, - short)", source, key)
    if not _within(value, f):
        hint = f" {f.hint}" if f.hint else ""
        raise InputError(f"must be {_bounds_text(f)}{hint}, got {_show(value)}", source, key)
    return value if f.kind == "integer" else float(value)


def _within(x: float, f: Field) -> bool:
    return not (
        (f.gt is not None and not x > f.gt)
        or (f.ge is not None and not x >= f.ge)
        or (f.lt is not None and not x < f.lt)
        or (f.le is not None and not x <= f.le)
    )


def _bounds_text(f: Field) -> str:
    if f.ge is not None and f.le is not None:
        return f"between {_num(f.ge)} and {_num(f.le)}"
    parts = [
        f"{op} {_num(b)}"
        for op, b in ((">", f.gt), (">=", f.ge), ("<", f.lt), ("<=", f.le))
        if b is not None
    ]
    return " and ".join(parts)


def _check_rules(value: object, source: str, key: str) -> dict:
    """A rules table: every value a finite number or a boolean (keys checked in rules.py)."""
    if not isinstance(value, dict):
        raise InputError(f"must be a table, got {_show(value)}", source, key)
    for name, v in value.items():
        sub = _join(key, name)
        if isinstance(v, bool):
            continue
        if not isinstance(v, (int, float)):
            raise InputError(_want("a number or true/false", v), source, sub)
        if not math.isfinite(v):
            raise InputError(f"must be a finite number, got {_show(v)}", source, sub)
    return dict(value)


# Words traders use for a key that spelling similarity cannot find.
SYNONYMS = {
    "expiration": "expiry",
    "expiration_date": "expiry",
    "exp": "expiry",
    "maturity": "expiry",
    "qty": "quantity",
    "contracts": "quantity",
    "size": "quantity",
    "price": "entry_price",
    "premium": "entry_price",
    "fill": "entry_price",
    "k": "strike",
    "kind": "type",
    "right": "type",
    "cp": "type",
    "symbol": "occ",
    "osi": "occ",
}


def _unknown_key(name: str, known: Iterable[str]) -> str:
    known = list(known)
    synonym = SYNONYMS.get(name.strip().lower())
    if synonym in known:
        close = [synonym]
    else:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {name!r}{hint}"


def _want(what: str, value: object) -> str:
    hint = ""
    if isinstance(value, str):
        if "date" in what:
            hint = " (write dates without quotes)"
        elif "number" in what and _looks_numeric(value):
            hint = " (write numbers without quotes)"
    return f"must be {what}, got {_show(value)}{hint}"


def _looks_numeric(s: str) -> bool:
    try:
        float(s.replace("_", "").replace(",", ""))
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------
# Building the domain types


def _build_positions(raw_positions: list[dict], source: str) -> tuple[Position, ...]:
    seen: dict[str, str] = {}
    positions = []
    for i, pv in enumerate(raw_positions):
        key = f"positions[{i}]"
        pid = pv["id"]
        if not pid.isprintable():
            raise InputError(
                f"id must be printable text (no control characters or tabs), got {_show(pid)}",
                source,
                f"{key}.id",
            )
        if pid in seen:
            raise InputError(f"duplicate id {pid!r} (also {seen[pid]})", source, f"{key}.id")
        seen[pid] = key
        positions.append(_build_position(pv, source, key))
    return tuple(positions)


def _build_position(pv: dict, source: str, key: str) -> Position:
    legs = []
    from_occ = []
    for j, lv in enumerate(pv["legs"]):
        legs.append(_build_leg(lv, source, f"{key}.legs[{j}]"))
        from_occ.append("occ" in lv)
    lp, sp, sc, lc = _check_condor(legs, from_occ, source, key)
    credit = pv.get("credit")
    given = credit is not None
    if credit is None:
        credit = _net_credit(legs, source, key)
    width = max(sp.strike - lp.strike, lc.strike - sc.strike)
    if credit > width + 1e-9:
        what = "" if given else " (the net entry premium of the condor legs)"
        raise InputError(
            f"a credit of {_num(credit)}{what} exceeds the widest wing ({_num(width)} points): "
            "no iron condor can take in more than its width",
            source,
            f"{key}.credit",
        )
    return Position(
        id=pv["id"],
        legs=tuple(legs),
        credit=credit,
        opened=pv.get("opened"),
        source=source,
        key=key,
    )


def _occ_fields(raw: dict, source: str, key: str) -> tuple[str, str, float, date, str]:
    """Root, type, strike, expiry and underlying from a table's ``occ`` (leg or quote)."""
    clash = [n for n in OCC_REPLACES if n in raw]
    if clash:
        raise InputError(
            f"'occ' and '{clash[0]}' both given: give either the OSI symbol or "
            "type, strike and expiry",
            source,
            f"{key}.{clash[0]}",
        )
    try:
        root, typ, strike, expiry = parse_osi(raw["occ"])
    except InputError as e:
        raise e.located(source, f"{key}.occ") from None
    underlying = ROOT_UNDERLYING[root]
    if raw.get("underlying", underlying) != underlying:
        raise InputError(
            f"{raw['underlying']!r} does not match the occ root {root!r} ({underlying})",
            source,
            f"{key}.underlying",
        )
    return root, typ, strike, expiry, underlying


def _build_leg(lv: dict, source: str, key: str) -> Leg:
    if "occ" in lv:
        root, typ, strike, expiry, underlying = _occ_fields(lv, source, key)
    else:
        underlying = lv.get("underlying", "SPX")
        if not any(n in lv for n in OCC_REPLACES[1:]):
            raise InputError("a leg needs either occ or type, strike and expiry", source, key)
        for n in ("type", "expiry"):
            if n not in lv:
                raise InputError("required (or give occ)", source, f"{key}.{n}")
        typ = lv["type"]
        expiry = lv["expiry"]
        root = lv.get("root", DEFAULT_ROOT[underlying])
        if ROOT_UNDERLYING[root] != underlying:
            allowed = " or ".join(f'"{r}"' for r, u in ROOT_UNDERLYING.items() if u == underlying)
            raise InputError(
                f"must be {allowed} for {underlying} legs, got {root!r}", source, f"{key}.root"
            )
        if typ == "future":
            if underlying != "VIX":
                raise InputError(
                    "'future' is only for VIX legs (set underlying = \"VIX\")",
                    source,
                    f"{key}.type",
                )
            for n in ("strike", "iv"):
                if n in lv:
                    raise InputError(f"a future has no {n}", source, f"{key}.{n}")
            strike = None
        else:
            if "strike" not in lv:
                raise InputError("required (or give occ)", source, f"{key}.strike")
            strike = lv["strike"]
    what = "VIX futures" if typ == "future" else "options"
    _check_trading_day(expiry, what, source, f"{key}.{'occ' if 'occ' in lv else 'expiry'}")
    layer = lv.get("layer")
    if layer is None:
        if underlying != "SPX":
            raise InputError(
                "required on a VIX leg: the condor is SPX options only, hedge legs carry "
                "layer = 1, 2 or 3",
                source,
                f"{key}.layer",
            )
        if "entry_vix" in lv:
            raise InputError(
                "only layer legs record entry_vix (this leg has no layer)",
                source,
                f"{key}.entry_vix",
            )
    return Leg(
        underlying=underlying,
        root=root,
        type=typ,
        strike=strike,
        expiry=expiry,
        quantity=lv["quantity"],
        entry_price=lv["entry_price"],
        iv=lv.get("iv"),
        layer=layer,
        entry_vix=lv.get("entry_vix"),
        key=key,
    )


_ROLES = ("long put", "short put", "short call", "long call")


def _check_condor(
    legs: list[Leg], from_occ: list[bool], source: str, key: str
) -> tuple[Leg, Leg, Leg, Leg]:
    """The legs without ``layer`` must be exactly one iron condor (DESIGN §2).

    Returns the condor legs as (long put, short put, short call, long call)."""
    where = f"{key}.legs"
    condor = [(j, g) for j, g in enumerate(legs) if g.layer is None]
    if len(condor) != 4:
        raise InputError(
            "the condor needs 4 legs without layer (long put, short put, short call, "
            f"long call), got {len(condor)}",
            source,
            where,
        )
    for j, g in condor:
        if not g.is_option or g.underlying != "SPX":  # VIX legs are caught in _build_leg
            raise InputError("a condor leg must be an SPX put or call", source, f"{where}[{j}]")
    puts = [(j, g) for j, g in condor if g.type == "put"]
    calls = [(j, g) for j, g in condor if g.type == "call"]
    if len(puts) != 2:
        raise InputError(
            f"the condor needs 2 puts and 2 calls, got {len(puts)} put"
            f"{'s' * (len(puts) != 1)} and {len(calls)} call{'s' * (len(calls) != 1)}",
            source,
            where,
        )
    ordered = []
    for kind, pair in (("put", puts), ("call", calls)):
        longs = [(j, g) for j, g in pair if g.quantity > 0]
        shorts = [(j, g) for j, g in pair if g.quantity < 0]
        if len(longs) != 1:
            sign = "long" if longs else "short"
            j = pair[1][0]
            raise InputError(
                f"the condor needs one long and one short {kind}, got two {sign} {kind}s",
                source,
                f"{where}[{j}].quantity",
            )
        ordered.append((longs[0], shorts[0]))
    (lp, sp), (sc, lc) = ordered[0], ordered[1][::-1]
    roles = list(zip(_ROLES, (lp, sp, sc, lc), strict=True))

    def field_key(j: int, name: str) -> str:
        return f"{where}[{j}].{'occ' if from_occ[j] else name}"

    (j0, first) = roles[0][1]
    for role, (j, g) in roles[1:]:
        if g.expiry != first.expiry:
            raise InputError(
                f"the condor legs must share one expiry: {role} expires {g.expiry}, "
                f"long put (legs[{j0}]) {first.expiry}",
                source,
                field_key(j, "expiry"),
            )
        if g.root != first.root:
            raise InputError(
                f"the condor legs must share one root: {role} is {g.root}, "
                f"long put (legs[{j0}]) {first.root}",
                source,
                field_key(j, "root"),
            )
        if abs(g.quantity) != abs(first.quantity):
            raise InputError(
                f"the condor legs must be equal size: {role} is {abs(g.quantity)} contracts, "
                f"long put (legs[{j0}]) {abs(first.quantity)}",
                source,
                f"{where}[{j}].quantity",
            )
    for (lo_role, (jl, lo)), (hi_role, (jh, hi)) in zip(roles, roles[1:], strict=False):
        if not lo.strike < hi.strike:
            rel = "equal to" if lo.strike == hi.strike else "below"
            raise InputError(
                "the condor legs must be long put < short put < short call < long call, "
                f"got {hi_role} {_num(hi.strike)} (legs[{jh}]) {rel} "
                f"{lo_role} {_num(lo.strike)} (legs[{jl}])",
                source,
                where,
            )
    return lp[1], sp[1], sc[1], lc[1]


def _net_credit(legs: list[Leg], source: str, key: str) -> float:
    """Short entry prices minus long entry prices of the condor legs, per unit."""
    condor = [g for g in legs if g.layer is None]
    short = sum(g.entry_price for g in condor if g.quantity < 0)
    long = sum(g.entry_price for g in condor if g.quantity > 0)
    net = round(short - long, 10)
    if net <= 0:
        what = "0" if net == 0 else f"a debit of {_num(-net)}"
        raise InputError(
            f"credit not given and the condor legs' entry prices net to {what} "
            f"(short {_num(round(short, 10))} - long {_num(round(long, 10))}); "
            "give credit or check entry_price",
            source,
            f"{key}.credit",
        )
    return net


def _build_market(mv: dict, source: str) -> Market:
    vix = mv["vix"]
    futures = []
    seen: dict[date, str] = {}
    for i, fv in enumerate(mv.get("vix_futures", [])):
        k = f"market.vix_futures[{i}]"
        _check_trading_day(fv["expiry"], "VIX futures", source, f"{k}.expiry")
        if fv["expiry"] in seen:
            raise InputError(
                f"duplicate expiry {fv['expiry']} (also {seen[fv['expiry']]})",
                source,
                f"{k}.expiry",
            )
        seen[fv["expiry"]] = k
        _check_future_price(fv["price"], vix, source, f"{k}.price")
        futures.append(FuturePoint(expiry=fv["expiry"], price=fv["price"]))
    quotes = []
    seen_quotes: dict[tuple, str] = {}
    for i, qv in enumerate(mv.get("quotes", [])):
        k = f"market.quotes[{i}]"
        q = _build_quote(qv, source, k)
        contract = (q.underlying, q.type, q.strike, q.expiry, q.root)
        if contract in seen_quotes:
            raise InputError(
                f"duplicate quote for {q.root or q.underlying} {q.type} {_num(q.strike)} "
                f"{q.expiry} (also {seen_quotes[contract]})",
                source,
                k,
            )
        seen_quotes[contract] = k
        quotes.append(q)
    spx_vol = mv.get("spx_vol", {})
    vix_vol = mv.get("vix_vol")
    return Market(
        asof=resolve_asof(mv["asof"]),
        spx=mv["spx"],
        vix=vix,
        rate=mv["rate"],
        dividend_yield=mv["dividend_yield"],
        vix_futures=tuple(sorted(futures, key=lambda p: p.expiry)),
        spx_vol=Smile(
            atm=spx_vol.get("atm", vix / 100.0),
            skew=spx_vol.get("skew", 0.0),
            smile=spx_vol.get("smile", 0.0),
        ),
        vix_vol=None
        if vix_vol is None
        else Smile(vix_vol["atm"], vix_vol.get("skew", 0.0), vix_vol.get("smile", 0.0)),
        quotes=tuple(quotes),
        source=source,
    )


def _build_quote(qv: dict, source: str, key: str) -> Quote:
    if "occ" in qv:
        root, typ, strike, expiry, underlying = _occ_fields(qv, source, key)
    else:
        for n in ("type", "strike", "expiry"):
            if n not in qv:
                raise InputError("required (or give occ)", source, f"{key}.{n}")
        underlying = qv.get("underlying", "SPX")
        root = qv.get("root")
        typ, strike, expiry = qv["type"], qv["strike"], qv["expiry"]
        if root is not None and ROOT_UNDERLYING[root] != underlying:
            allowed = " or ".join(f'"{r}"' for r, u in ROOT_UNDERLYING.items() if u == underlying)
            raise InputError(
                f"must be {allowed} for {underlying} quotes, got {root!r}", source, f"{key}.root"
            )
    _check_trading_day(expiry, "options", source, f"{key}.{'occ' if 'occ' in qv else 'expiry'}")
    if qv["bid"] > qv["ask"]:
        raise InputError(
            f"bid must be <= ask, got bid {_num(qv['bid'])} above ask {_num(qv['ask'])}",
            source,
            f"{key}.bid",
        )
    return Quote(
        underlying=underlying,
        type=typ,
        strike=strike,
        expiry=expiry,
        bid=qv["bid"],
        ask=qv["ask"],
        root=root,
    )


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
VIX_FUTURE_FACTOR = 3.0  # a VIX future more than 3x away from spot VIX is a typo


def _check_trading_day(d: date, what: str, source: str, key: str) -> None:
    """An expiry must be an exchange trading day (a weekday that is not an NYSE holiday)."""
    if is_business_day(d):
        return
    day = f"a {_WEEKDAYS[d.weekday()]}" if d.weekday() >= 5 else "an exchange holiday"
    try:
        before = f" (the one before is {previous_business_day(d)})"
    except (OverflowError, ValueError):  # pragma: no cover - year 1
        before = ""
    raise InputError(
        f"{d} is {day}, not a trading day; {what} expire on trading days{before}", source, key
    )


def _check_future_price(price: float, vix: float, source: str, key: str) -> None:
    """A VIX future trades near spot VIX: more than 3x away either way is a typo."""
    f = VIX_FUTURE_FACTOR
    slack = 1 + 1e-9  # exactly 3x as written (54.6 on 18.2) is fine
    if price > vix * f * slack:
        rel = f"more than {f:g}x spot VIX {_num(vix)}"
    elif price * slack < vix / f:
        rel = f"less than 1/{f:g} of spot VIX {_num(vix)}"
    else:
        return
    raise InputError(
        f"{_num(price)} is {rel} — a typo? (VIX futures trade near spot VIX)", source, key
    )


# ---------------------------------------------------------------------------
# JSON Schema from the field tables


def _schema_object(fields: tuple[Field, ...], rule_docs: Mapping[str, str] | None) -> dict:
    obj: dict = {
        "type": "object",
        "properties": {f.name: _schema_field(f, rule_docs) for f in fields},
        "additionalProperties": False,
    }
    required = [f.name for f in fields if f.required]
    if required:
        obj["required"] = required
    names = {f.name for f in fields}
    if "occ" in names:
        # occ replaces root/type/strike/expiry: forbid them next to it.
        others = [n for n in OCC_REPLACES if n in names]
        obj["dependentSchemas"] = {"occ": {"not": {"anyOf": [{"required": [n]} for n in others]}}}
    return obj


def _schema_field(f: Field, rule_docs: Mapping[str, str] | None) -> dict:
    s: dict
    if f.kind == "string":
        s = {"type": "string"}
        if f.choices:
            s["enum"] = list(f.choices)
        else:
            s["minLength"] = 1
    elif f.kind in ("number", "integer"):
        s = {"type": f.kind}
        for attr, word in (
            ("gt", "exclusiveMinimum"),
            ("ge", "minimum"),
            ("lt", "exclusiveMaximum"),
            ("le", "maximum"),
        ):
            bound = getattr(f, attr)
            if bound is not None:
                s[word] = bound
        if f.nonzero:
            s["not"] = {"const": 0}
    elif f.kind == "date":
        s = {"type": "string", "format": "date"}
    elif f.kind == "instant":
        s = {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "format": "partial-date-time"},
                {"type": "string", "format": "date"},
            ]
        }
    elif f.kind == "table":
        s = _schema_object(f.fields, rule_docs)
    elif f.kind == "tables":
        s = {"type": "array", "items": _schema_object(f.fields, rule_docs)}
        if f.required:
            s["minItems"] = 1
    elif f.kind == "rules":
        value = {"type": ["number", "boolean"]}
        if rule_docs is None:
            s = {"type": "object", "additionalProperties": value}
        else:
            s = {
                "type": "object",
                "properties": {k: {**value, "description": d} for k, d in rule_docs.items()},
                "additionalProperties": False,
            }
    else:  # pragma: no cover
        raise AssertionError(f"unknown field kind {f.kind!r}")
    return {"description": f.doc, **s}


# ---------------------------------------------------------------------------
# Small helpers


_FILE_FIELD = {f.name: f for f in FILE_FIELDS}


def _new_york():
    from zoneinfo import ZoneInfo

    return ZoneInfo(NEW_YORK)


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _header(key: str) -> str:
    """``positions[0].legs`` → ``positions.legs`` (the TOML table header)."""
    return re.sub(r"\[\d+\]", "", key)


def _num(x: float) -> str:
    """A number as a trader writes it: 5400, 6100.5, 0.042."""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return repr(x) if isinstance(x, float) else str(x)


def _show(value: object) -> str:
    """A value as it would appear in the TOML file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return repr(value)  # pragma: no cover
