"""Regime signals from a daily history file (DESIGN §6) and calibration of the stress scenario.

Reading history
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
    present, as vendors skip holidays. Errors (one ``InputError`` each, naming
    file, column and line): a header matching none of the layouts, empty file,
    unreadable date, a date after today, non-numeric or non-positive price,
    duplicate date, missing ``spx``/``vix`` after merging, a median ``vix`` of
    150 or more or a median ``spx`` of 100 or less (swapped columns). Common
    spreadsheet exports get a targeted message: ``;`` separators, decimal
    commas, Excel serial dates, DD/MM/YYYY dates.

Indicators
    Pure functions over pandas Series: ``rsi_wilder``, ``macd``,
    ``bearish_cross``, ``vix_spike``, ``term_inversion``, ``ad_divergence``.

Regime
    ``evaluate`` turns a history and the rules into a ``SignalReport``; a
    signal that cannot be computed is ``active=None`` ("unavailable"), never
    ``False`` ("quiet").

Calibration
    ``calibrate`` estimates ``vix_beta`` and ``vix_term_kappa`` (DESIGN §4)
    from the same history.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alvh_cli.errors import InputError
from alvh_cli.inputs import events as events_mod
from alvh_cli.method.rules import Rules

# ---------------------------------------------------------------------------
# Reading history files
# ---------------------------------------------------------------------------

REQUIRED = ("spx", "vix")
OPTIONAL = ("vix3m", "advances", "declines", "vx1", "vx2", "vx1_dte")
OWN_COLUMNS = REQUIRED + OPTIONAL
PRICE_COLUMNS = ("spx", "vix", "vix3m", "vx1", "vx2")  # must be > 0
COUNT_COLUMNS = ("advances", "declines", "vx1_dte")  # must be >= 0
_CBOE = frozenset({"date", "open", "high", "low", "close"})
_YAHOO = frozenset({"date", "open", "high", "low", "close", "adj close", "volume"})
_DATE_FORMATS = events_mod.DATE_FORMATS  # YYYY-MM-DD, MM/DD/YYYY
EXPECTED_HEADERS = (
    "date,spx,vix[,vix3m,advances,declines,vx1,vx2,vx1_dte] (alvh); "
    "DATE,OPEN,HIGH,LOW,CLOSE (CBOE VIX_History.csv, read as vix); "
    "Date,Open,High,Low,Close,Adj Close,Volume (Yahoo ^GSPC, read as spx)"
)
STALE_DAYS = 7  # a history ending longer before asof reads no regime for today


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
        raise InputError("no history file given", "--history")
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
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header, rows = None, []
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    continue
                if row[0].lstrip().startswith("#"):  # comment lines, e.g. a "# source:" line
                    continue
                if header is None:
                    header = (row, reader.line_num)
                else:
                    rows.append((reader.line_num, row))
    except OSError as exc:
        raise InputError(f"cannot read history file: {exc.strerror or exc}", source) from None
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", source) from None
    except csv.Error as exc:
        raise InputError(f"CSV syntax error: {exc}", source) from None
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
    number (blank → NaN), else text (blank → None)."""
    if name in OWN_COLUMNS:
        return np.asarray(cells, dtype=float)
    try:
        return np.asarray([float(c) if c else math.nan for c in cells], dtype=float)
    except ValueError:
        return np.asarray([c or None for c in cells], dtype=object)


def _number(text: str, column: str, ours: str, required: bool, source: str, line: int) -> float:
    if text == "":
        if required:
            raise InputError("missing value", source, column, line)
        return math.nan
    try:
        value = float(text)
    except ValueError:
        if re.fullmatch(r"[-+]?\d+,\d+", text):
            fixed = text.replace(",", ".")
            raise InputError(
                f"'{text}' uses a decimal comma; write {fixed}", source, column, line
            ) from None
        raise InputError(f"not a number: '{text}'", source, column, line) from None
    if not math.isfinite(value):
        raise InputError(f"not a finite number: '{text}'", source, column, line)
    if ours in PRICE_COLUMNS and value <= 0:
        raise InputError(f"must be > 0, got {text}", source, column, line)
    if ours in COUNT_COLUMNS and value < 0:
        raise InputError(f"must be >= 0, got {text}", source, column, line)
    return value


# ---------------------------------------------------------------------------
# Indicators (pure functions over pandas Series)
# ---------------------------------------------------------------------------


def rsi_wilder(close: pd.Series, period: int = 14) -> pd.Series:
    """Wilder's Relative Strength Index, 0-100, aligned with ``close``.

    Changes d_t = close_t − close_{t−1}; gains max(d, 0), losses max(−d, 0).
    The first average gain/loss is the simple mean of the first ``period``
    changes (so the first RSI is at position ``period``, the 15th close for
    14); after that Wilder's smoothing avg_t = (avg_{t−1}·(n−1) + x_t)/n.
    RSI = 100 − 100/(1 + avg_gain/avg_loss); 100 when avg_loss is 0 and
    avg_gain > 0, 50 when both are 0 (a flat series). NaN before position
    ``period``.
    """
    close = pd.Series(close, dtype=float)
    out = pd.Series(np.nan, index=close.index, dtype=float)
    if period < 1 or len(close) <= period:
        return out
    delta = close.diff().to_numpy()[1:]
    gains, losses = np.clip(delta, 0, None), np.clip(-delta, 0, None)

    def smooth(x: np.ndarray) -> np.ndarray:
        # ewm(alpha=1/n, adjust=False) is exactly y_t = ((n-1)·y_{t-1} + x_t)/n,
        # seeded here with the simple mean of the first n changes.
        seeded = np.concatenate(([x[:period].mean()], x[period:]))
        return pd.Series(seeded).ewm(alpha=1.0 / period, adjust=False).mean().to_numpy()

    avg_gain, avg_loss = smooth(gains), smooth(losses)
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    rsi = np.where(avg_loss == 0, np.where(avg_gain == 0, 50.0, 100.0), rsi)
    out.iloc[period:] = rsi
    return out


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """MACD line, signal line and histogram (columns ``macd``, ``signal``, ``hist``).

    EMA with alpha = 2/(span + 1), ``adjust=False``: y_0 = x_0 (seeded with
    the first value, not with a simple average as some charting sites do, so
    the first ~``slow`` values differ from theirs and converge after),
    y_t = alpha·x_t + (1 − alpha)·y_{t−1}. macd = EMA_fast − EMA_slow;
    signal = EMA_signal(macd), seeded with the first macd value;
    hist = macd − signal.
    """
    close = pd.Series(close, dtype=float)

    def ema(x: pd.Series, span: int) -> pd.Series:
        return x.ewm(alpha=2.0 / (span + 1), adjust=False).mean()

    line = ema(close, fast) - ema(close, slow)
    sig = ema(line, signal)
    return pd.DataFrame({"macd": line, "signal": sig, "hist": line - sig}, index=close.index)


def bearish_cross(macd_df: pd.DataFrame, within: int) -> Hashable | None:
    """The index label (session) of a bearish MACD cross within the last ``within`` sessions.

    None when there is none.

    A bearish cross on session t: macd_{t−1} ≥ signal_{t−1} and
    macd_t < signal_t. It counts when t is one of the last ``within`` rows
    and the MACD is still below its signal on the last row (a cross that has
    already been undone by a bullish one is not a signal). Returns the most
    recent such session.
    """
    hist = macd_df["hist"].to_numpy()
    n = len(hist)
    if n < 2 or within < 1 or not hist[-1] < 0:
        return None
    for t in range(n - 1, max(n - within, 1) - 1, -1):
        if hist[t - 1] >= 0 > hist[t]:
            return macd_df.index[t]
    return None


def vix_spike(vix: pd.Series, window: int = 10, pct: float = 0.20) -> tuple[bool, float, float]:
    """(active, last VIX / mean − 1, mean): last VIX ≥ mean·(1 + pct).

    The mean is over the ``window`` closes *before* the last one (today is
    excluded, so a spike does not dilute its own baseline). Needs
    ``window + 1`` rows.
    """
    if len(vix) < window + 1:
        raise ValueError(f"needs {window + 1} sessions")
    mean = float(vix.iloc[-window - 1 : -1].mean())
    last = float(vix.iloc[-1])
    return last >= mean * (1.0 + pct), last / mean - 1.0, mean


def term_inversion(vix: float, longer: float) -> tuple[bool, float]:
    """(VIX ≥ longer-dated level, VIX/longer): backwardation of the VIX curve."""
    return vix >= longer, vix / longer


def ad_divergence(
    spx: pd.Series, advances: pd.Series, declines: pd.Series, lookback: int = 20
) -> tuple[bool, bool, float, float]:
    """(active, spx_at_high, A/D line today, A/D line high) over the last ``lookback`` rows.

    Active when SPX closes at its highest close of the last ``lookback``
    sessions (today included; ties count) while the cumulative A/D line
    (running sum of advances − declines) is below its own high over the same
    sessions. The line is summed from the start of the window: a constant
    offset does not change the comparison.
    """
    if len(spx) < lookback:
        raise ValueError(f"needs {lookback} sessions")
    s = spx.iloc[-lookback:]
    line = (advances.iloc[-lookback:] - declines.iloc[-lookback:]).cumsum()
    at_high = bool(s.iloc[-1] >= s.max())
    return (
        at_high and bool(line.iloc[-1] < line.max()),
        at_high,
        float(line.iloc[-1]),
        float(line.max()),
    )


# ---------------------------------------------------------------------------
# Regime
# ---------------------------------------------------------------------------

SIGNAL_NAMES = (
    "vix_spike",
    "term_structure",
    "macd_cross",
    "rsi_oversold",
    "ad_divergence",
    "macro_event",
)
NO_HISTORY = "no --history file"
NO_USABLE_HISTORY = "no usable history"  # stands in for a history date that is None, in text


@dataclass(frozen=True)
class Signal:
    """One regime signal.

    ``active`` is True (on), False (quiet) or None (unavailable: no history,
    too short a history, a missing column). ``value`` is the measured figure
    (a float, or text for the macro event), ``threshold`` says what turns it
    on, ``asof`` is the date of the data it used, ``note`` explains.
    """

    name: str
    active: bool | None
    value: float | str | None
    threshold: str
    asof: date | None
    note: str


@dataclass(frozen=True)
class SignalReport:
    """All signals at ``asof``.

    ``elevated`` is None without a usable history ("unavailable, never
    quiet"); otherwise ``active_count >= rules.elevated_min_signals``, counting
    the signals that could be computed (``notes`` says how many could not).
    ``history_asof`` is the date of the history row used (the last at or
    before asof).
    """

    signals: tuple[Signal, ...]
    active_count: int
    elevated: bool | None
    history_asof: date | None
    notes: tuple[str, ...] = field(default=())

    @property
    def history_label(self) -> str:
        """``history_asof`` for text: its ISO date, or "no usable history" when None."""
        return self.history_asof.isoformat() if self.history_asof else NO_USABLE_HISTORY

    def by_name(self, name: str) -> Signal:
        for s in self.signals:
            if s.name == name:
                return s
        raise KeyError(name)


def _ny_date(asof: date | datetime) -> date:
    if isinstance(asof, datetime):
        if asof.tzinfo is not None:
            from zoneinfo import ZoneInfo

            asof = asof.astimezone(ZoneInfo("America/New_York"))
        return asof.date()
    return asof


def _unavailable(name: str, threshold: str, note: str, asof: date | None = None) -> Signal:
    return Signal(name, None, None, threshold, asof, note)


def _short(name: str, threshold: str, need: int, have: int, asof: date | None) -> Signal:
    return _unavailable(
        name, threshold, f"unavailable (needs {need} sessions, history has {have})", asof
    )


def evaluate(
    history: pd.DataFrame | None,
    rules: Rules,
    *,
    asof: date | datetime,
    front_future: float | None = None,
    events: Sequence[events_mod.Event] | None = None,
    vix: float | None = None,
) -> SignalReport:
    """The six DESIGN §6 signals and the regime at ``asof``.

    ``history`` comes from ``read_history`` (or None: every history signal is
    unavailable with note "no --history file" and ``elevated`` is None).
    Only rows at or before ``asof`` are used; a history ending more than
    ``STALE_DAYS`` calendar days before ``asof`` is too old: its signals are
    unavailable (a week covers weekends and holiday closures).
    ``front_future`` is the front VIX future from the market file and ``vix``
    the market file's spot VIX (default: the history's last VIX); the term
    structure signal compares VIX with VIX3M (history) and with the front
    future, and is on when either is inverted — with ``vix`` and
    ``front_future`` it works without a history. ``events`` defaults to the
    shipped calendar; the macro event signal needs no history (only the
    calendar), so it is reported even without one, but it does not make a
    regime: ``elevated`` needs a history.
    """
    day = _ny_date(asof)
    notes: list[str] = []
    rows: pd.DataFrame | None = None
    stale = ""
    if history is not None:
        rows = history.loc[: pd.Timestamp(day)]
        if rows.empty:
            first = history.index[0].date().isoformat()
            notes.append(f"history starts {first}, after asof {day.isoformat()}")
            rows = None
        else:
            last = rows.index[-1].date()
            gap = (day - last).days
            if gap > STALE_DAYS:
                notes.append(f"history ends {last.isoformat()}, {gap} days before asof")
                stale = f"history ends {last.isoformat()}, {gap} days before asof: too old"
                rows = None
    hist_day = rows.index[-1].date() if rows is not None else None
    no_rows = stale or "history has no rows on or before asof"
    missing = NO_HISTORY if history is None else no_rows

    signals = [
        _spike_signal(rows, rules, hist_day, missing),
        _term_signal(rows, hist_day, missing, front_future, vix),
        _macd_signal(rows, rules, hist_day, missing),
        _rsi_signal(rows, rules, hist_day, missing),
        _ad_signal(rows, rules, hist_day, missing),
        _event_signal(rules, day, events),
    ]
    active = sum(1 for s in signals if s.active)
    elevated = None
    from_history = [s for s in signals[:-1] if s.active is not None]
    if rows is not None and from_history:  # the macro calendar alone makes no regime
        elevated = active >= rules.elevated_min_signals
        unavailable = [s.name for s in signals if s.active is None]
        if unavailable:
            notes.append(f"unavailable: {', '.join(unavailable)}; regime counts the others")
    return SignalReport(tuple(signals), active, elevated, hist_day, tuple(notes))


def _spike_signal(rows, rules: Rules, day, missing: str) -> Signal:
    window, pct = rules.vix_spike_window, rules.vix_spike_pct
    threshold = f"VIX >= {window}-day mean x {1 + pct:g}"
    if rows is None:
        return _unavailable("vix_spike", threshold, missing)
    if len(rows) < window + 1:
        return _short("vix_spike", threshold, window + 1, len(rows), day)
    on, rel, mean = vix_spike(rows["vix"], window, pct)
    last = float(rows["vix"].iloc[-1])
    note = f"VIX {last:.2f} vs {window}-day mean {mean:.2f} ({rel:+.1%})"
    return Signal("vix_spike", on, rel, threshold, day, note)


def _term_signal(rows, day, missing: str, front_future: float | None, vix: float | None) -> Signal:
    threshold = "VIX >= VIX3M or VIX >= front future"
    spot = vix if vix is not None else (float(rows["vix"].iloc[-1]) if rows is not None else None)
    checks: list[tuple[bool, float, str]] = []
    if rows is not None and "vix3m" in rows.columns and not math.isnan(rows["vix3m"].iloc[-1]):
        hv, v3 = float(rows["vix"].iloc[-1]), float(rows["vix3m"].iloc[-1])
        on, ratio = term_inversion(hv, v3)
        checks.append((on, ratio, f"VIX {hv:.2f} / VIX3M {v3:.2f} = {ratio:.3f}"))
    if front_future is not None and spot is not None:
        on, ratio = term_inversion(spot, front_future)
        checks.append(
            (on, ratio, f"VIX {spot:.2f} / front future {front_future:.2f} = {ratio:.3f}")
        )
    if not checks:
        why = (
            missing
            if rows is None
            else "unavailable (no vix3m on the last row and no front future)"
        )
        return _unavailable("term_structure", threshold, why, day)
    on = any(c[0] for c in checks)
    ratio = max(c[1] for c in checks)
    return Signal("term_structure", on, ratio, threshold, day, "; ".join(c[2] for c in checks))


def _macd_signal(rows, rules: Rules, day, missing: str) -> Signal:
    f, s, g, within = rules.macd_fast, rules.macd_slow, rules.macd_signal, rules.macd_cross_days
    threshold = f"MACD({f},{s},{g}) crossed below signal within {within} sessions"
    if rows is None:
        return _unavailable("macd_cross", threshold, missing)
    need = s + g  # the slow EMA and then the signal EMA need this long to forget their seeds
    if len(rows) < need:
        return _short("macd_cross", threshold, need, len(rows), day)
    m = macd(rows["spx"], f, s, g)
    when = bearish_cross(m, within)
    hist = float(m["hist"].iloc[-1])
    if when is None:
        note = f"MACD {m['macd'].iloc[-1]:.2f}, signal {m['signal'].iloc[-1]:.2f}"
    else:
        note = f"crossed below on {when.date().isoformat()}; MACD {m['macd'].iloc[-1]:.2f}"
        note += f", signal {m['signal'].iloc[-1]:.2f}"
    return Signal("macd_cross", when is not None, hist, threshold, day, note)


def _rsi_signal(rows, rules: Rules, day, missing: str) -> Signal:
    n, level = rules.rsi_period, rules.rsi_oversold
    threshold = f"RSI({n}) <= {level:g}"
    if rows is None:
        return _unavailable("rsi_oversold", threshold, missing)
    if len(rows) < n + 1:
        return _short("rsi_oversold", threshold, n + 1, len(rows), day)
    value = float(rsi_wilder(rows["spx"], n).iloc[-1])
    return Signal(
        "rsi_oversold", value <= level, value, threshold, day, f"RSI({n}) of SPX {value:.1f}"
    )


def _ad_signal(rows, rules: Rules, day, missing: str) -> Signal:
    n = rules.ad_lookback
    threshold = f"SPX at {n}-session closing high, A/D line not"
    if rows is None:
        return _unavailable("ad_divergence", threshold, missing)
    if "advances" not in rows.columns or "declines" not in rows.columns:
        return _unavailable(
            "ad_divergence", threshold, "unavailable (history has no advances/declines)", day
        )
    if len(rows) < n:
        return _short("ad_divergence", threshold, n, len(rows), day)
    tail = rows.iloc[-n:]
    have = int(tail[["advances", "declines"]].notna().all(axis=1).sum())
    if have < n:
        return _unavailable(
            "ad_divergence",
            threshold,
            f"unavailable (needs advances/declines on the last {n} sessions, history has {have})",
            day,
        )
    on, at_high, line, high = ad_divergence(tail["spx"], tail["advances"], tail["declines"], n)
    spx = float(tail["spx"].iloc[-1])
    where = "at" if at_high else "below"
    note = f"SPX {spx:.2f} {where} its {n}-session high; A/D line {line - high:+.0f} from its high"
    return Signal("ad_divergence", on, line - high, threshold, day, note)


def _event_signal(rules: Rules, day: date, events) -> Signal:
    n = rules.event_days
    threshold = f"FOMC/CPI/PPI within {n} trading days"
    if events is None:
        events = events_mod.load_events()
    end = events_mod.trading_window_end(day, n)
    first = min((e.date for e in events), default=None)
    last = max((e.date for e in events), default=None)
    if first is None or last is None:
        note = "unavailable (event calendar is empty; add dates with --events)"
        return _unavailable("macro_event", threshold, note, day)
    if day < first:
        note = (
            f"unavailable (event calendar starts {first.isoformat()}, after asof "
            f"{day.isoformat()}; add dates with --events)"
        )
        return _unavailable("macro_event", threshold, note, day)
    if end > last:
        note = (
            f"unavailable (event calendar ends {last.isoformat()}, before the window's end "
            f"{end.isoformat()}; add dates with --events)"
        )
        return _unavailable("macro_event", threshold, note, day)
    hits = events_mod.events_within(events, day, n)
    if not hits:
        return Signal("macro_event", False, None, threshold, day, f"none through {end.isoformat()}")
    text = ", ".join(
        f"{e.kind} {e.date.isoformat()}" + (" (tentative)" if e.tentative else "") for e in hits
    )
    return Signal("macro_event", True, text, threshold, day, f"through {end.isoformat()}: {text}")


# ---------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------

MIN_CHANGES = 20  # daily changes needed before a regression is reported
KAPPA_BOUNDS = (0.0, 50.0)


def _ols(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Slope of y (log VIX changes) on x (log SPX changes) with an intercept.

    ``beta``, its standard error, R² and n; all None (with a ``note`` saying
    why) when the regression is undefined: fewer than ``MIN_CHANGES``
    changes, or x or y constant.
    """
    n = len(x)
    undefined = {"beta": None, "n": n, "r2": None, "stderr": None}
    if n < MIN_CHANGES:
        return {**undefined, "note": f"needs {MIN_CHANGES} changes, have {n}"}
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    sst = float(((y - ym) ** 2).sum())
    if sxx == 0:
        return {**undefined, "note": "SPX never changed"}
    if sst == 0:
        return {**undefined, "note": "VIX never changed"}
    beta = float(((x - xm) * (y - ym)).sum() / sxx)
    resid = y - ym - beta * (x - xm)
    ssr = float((resid**2).sum())
    return {
        "beta": beta,
        "n": n,
        "r2": 1.0 - ssr / sst,
        "stderr": math.sqrt(ssr / (n - 2) / sxx),
        "note": "",
    }


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def calibrate(history: pd.DataFrame, *, source: str) -> dict[str, Any]:
    """Estimate the stress scenario's ``vix_beta`` and ``vix_term_kappa`` from history.

    ``vix_beta``: OLS slope (with intercept) of daily log VIX changes on daily
    log SPX changes between consecutive rows, over all days and over down
    days only (SPX change < 0); each with n, R² and the slope's standard
    error. The snippet uses the all-days slope, the definition of the -4.9
    default.

    ``vix_term_kappa``: where ``vx1`` and ``vx1_dte`` exist, least squares of
    ΔF_t = e^(−κ·τ_t)·ΔVIX_t over κ in [0, 50], with ΔF the front future's
    daily change, ΔVIX the spot change and τ_t = vx1_dte_t / 365. Roll days
    (``vx1_dte`` rising, so ΔF mixes two contracts) are left out.

    An estimate that cannot be made (too few changes, a constant column) is
    None with a note, and left out of the snippet. When neither can be made
    ``InputError`` (``source``, key ``spx`` or ``vix``) says why.

    Returns plain data ready to print: ``source``, ``history`` (first, last,
    rows), ``vix_beta``, ``vix_term_kappa`` and ``rules_snippet`` (TOML).
    """
    h = history.sort_index()
    pair = h[["spx", "vix"]].dropna() if {"spx", "vix"} <= set(h.columns) else h.iloc[:0]
    x = np.log(pair["spx"].to_numpy(dtype=float))
    y = np.log(pair["vix"].to_numpy(dtype=float))
    x, y = np.diff(x), np.diff(y)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    every, down = _ols(x, y), _ols(x[x < 0], y[x < 0])
    kappa_fit = _kappa(h)
    if every["beta"] is None and kappa_fit["value"] is None:
        raise _nothing_to_calibrate(pair, len(x), source)
    out: dict[str, Any] = {
        "source": source,
        "history": {
            "first": h.index[0].date().isoformat(),
            "last": h.index[-1].date().isoformat(),
            "rows": len(h),
        },
        "vix_beta": {
            "value": every["beta"],
            "all_days": every,
            "down_days": down,
            "note": every["note"] or "log VIX change per log SPX change, consecutive rows",
        },
        "vix_term_kappa": kappa_fit,
    }

    lines = ["[rules]"]
    beta = every["beta"]
    if beta is not None and -20 <= beta <= 0:
        lines.append(
            f"vix_beta = {beta:.2f}  # all days n={every['n']}, R2={_fmt(every['r2'])};"
            f" down days {_fmt(down['beta'])}"
        )
    elif beta is not None:
        lines.append(
            f"# vix_beta estimate {beta:.2f} is outside the rule's range [-20, 0]; not suggested"
        )
    else:
        lines.append(f"# vix_beta: no estimate ({every['note']})")
    kappa = kappa_fit["value"]
    if kappa is not None:
        lines.append(
            f"vix_term_kappa = {kappa:.2f}  # n={kappa_fit['n']}, R2={_fmt(kappa_fit['r2'])}"
        )
    out["rules_snippet"] = "\n".join(lines) + "\n"
    return out


def _nothing_to_calibrate(pair: pd.DataFrame, changes: int, source: str) -> InputError:
    rows = len(pair)
    if changes < MIN_CHANGES:
        return InputError(
            f"need at least {MIN_CHANGES + 1} daily rows to calibrate, the history has {rows}",
            source,
            "spx",
        )
    for col in ("spx", "vix"):
        if pair[col].nunique() == 1:
            return InputError(
                f"{col} is {pair[col].iloc[0]:g} on every one of the {rows} rows: "
                "nothing to calibrate from",
                source,
                col,
            )
    return InputError("no estimate possible from this history", source, "spx")  # pragma: no cover


def _kappa(h: pd.DataFrame) -> dict[str, Any]:
    if "vx1" not in h.columns or "vx1_dte" not in h.columns:
        have = "vx1" in h.columns
        return {
            "value": None,
            "n": 0,
            "r2": None,
            "note": "history has no vx1_dte column"
            if have
            else "history has no futures columns (vx1, vx1_dte)",
        }
    d = h[["vix", "vx1", "vx1_dte"]].dropna()
    dv = d["vix"].diff().to_numpy()[1:]
    df = d["vx1"].diff().to_numpy()[1:]
    dte = d["vx1_dte"].to_numpy()
    roll = dte[1:] > dte[:-1]
    tau = dte[1:] / 365.0
    keep = ~roll & np.isfinite(dv) & np.isfinite(df)
    dv, df, tau = dv[keep], df[keep], tau[keep]
    n = len(dv)
    if n < MIN_CHANGES:
        return {
            "value": None,
            "n": n,
            "r2": None,
            "note": f"needs {MIN_CHANGES} non-roll changes, have {n}",
        }
    if not np.any(dv != 0):
        return {"value": None, "n": n, "r2": None, "note": "VIX never changed"}
    if not np.any(df != df[0]):
        why = "vx1 never changed" if df[0] == 0 else "vx1 changed by the same amount every day"
        return {"value": None, "n": n, "r2": None, "note": why}

    from scipy.optimize import minimize_scalar

    def ssr(kappa: float) -> float:
        return float(((df - np.exp(-kappa * tau) * dv) ** 2).sum())

    res = minimize_scalar(ssr, bounds=KAPPA_BOUNDS, method="bounded", options={"xatol": 1e-6})
    kappa = float(res.x)
    sst = float(((df - df.mean()) ** 2).sum())  # > 0: df varies
    note = "front future change = exp(-kappa*tau) x spot VIX change; roll days left out"
    if kappa > KAPPA_BOUNDS[1] - 1e-3 or kappa < KAPPA_BOUNDS[0] + 1e-3:
        note += f"; estimate at the search bound {kappa:.2f}"
    return {
        "value": kappa,
        "n": n,
        "r2": 1.0 - ssr(kappa) / sst,
        "note": note,
    }
