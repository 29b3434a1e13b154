"""Regime signals from a daily history: VIX spike, term-structure inversion, MACD bearish
cross, RSI oversold, advance/decline divergence, and a macro event (FOMC, CPI, PPI) near.

``evaluate`` turns a history and the rules into a ``SignalReport``; a signal
that cannot be computed is ``active=None`` ("unavailable"), never ``False``
("quiet").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from alvh_cli.method.indicators import (
    ad_divergence,
    bearish_cross,
    macd,
    rsi_wilder,
    term_inversion,
    vix_spike,
)
from alvh_cli.model import calendar
from alvh_cli.model.rules import Rules
from alvh_cli.model.timing import new_york_date

SIGNAL_NAMES = (
    "vix_spike",
    "term_structure",
    "macd_cross",
    "rsi_oversold",
    "ad_divergence",
    "macro_event",
)
NO_HISTORY = "no {flag:history} file"
STALE_DAYS = 7  # a history ending longer before asof reads no regime for today
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
    return new_york_date(asof) if isinstance(asof, datetime) else asof


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
    events: Sequence[calendar.Event] = (),
    vix: float | None = None,
) -> SignalReport:
    """The six signals (:data:`SIGNAL_NAMES`) and the regime at ``asof``.

    ``history`` comes from ``read_history`` (or None: every history signal is
    unavailable with note ``NO_HISTORY`` and ``elevated`` is None).
    Only rows at or before ``asof`` are used; a history ending more than
    ``STALE_DAYS`` calendar days before ``asof`` is too old: its signals are
    unavailable (a week covers weekends and holiday closures).
    ``front_future`` is the front VIX future from the market file and ``vix``
    the market file's spot VIX (default: the history's last VIX); the term
    structure signal compares VIX with VIX3M (history) and with the front
    future, and is on when either is inverted — with ``vix`` and
    ``front_future`` it works without a history. ``events`` is the macro calendar
    (``alvh_cli.inputs.events.load_events``: the shipped dates and the user's); the
    macro event signal needs no history (only the calendar), so it is reported even
    without one, but it does not make a regime: ``elevated`` needs a history.
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
    end = calendar.trading_window_end(day, n)
    first = min((e.date for e in events), default=None)
    last = max((e.date for e in events), default=None)
    if first is None or last is None:
        note = "unavailable (event calendar is empty; add dates with {flag:events})"
        return _unavailable("macro_event", threshold, note, day)
    if day < first:
        note = (
            f"unavailable (event calendar starts {first.isoformat()}, after asof "
            f"{day.isoformat()}; add dates with {{flag:events}})"
        )
        return _unavailable("macro_event", threshold, note, day)
    if end > last:
        note = (
            f"unavailable (event calendar ends {last.isoformat()}, before the window's end "
            f"{end.isoformat()}; add dates with {{flag:events}})"
        )
        return _unavailable("macro_event", threshold, note, day)
    hits = calendar.events_within(events, day, n)
    if not hits:
        return Signal("macro_event", False, None, threshold, day, f"none through {end.isoformat()}")
    text = ", ".join(
        f"{e.kind} {e.date.isoformat()}" + (" (tentative)" if e.tentative else "") for e in hits
    )
    return Signal("macro_event", True, text, threshold, day, f"through {end.isoformat()}: {text}")
