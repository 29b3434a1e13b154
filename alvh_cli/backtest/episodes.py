"""Stress episodes: the date windows a backtest is read in beside its whole-period figures.

Two sources:

* ``NAMED``: four selloffs in the embedded 2014–2018 data, by the dates usually given for
  them — August 2015 (the yuan devaluation and the 24 August open), January–February 2016
  (oil and China), late January–February 2018 (the 5 February volatility spike) and the
  fourth quarter of 2018.
* ``worst_drawdowns``: for any other history, the k deepest peak-to-trough falls of SPX,
  found one at a time — the deepest fall in the series, then the deepest in what is left on
  either side of its padded window, and so on — so the windows never overlap.

``window_change`` reads what a daily curve (a policy's equity, or its VIX layers' P&L) did in a
window. Dates are ``datetime.date``; prices are SPX closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from alvh_cli.errors import InputError

SOURCE = "episodes"
DRAWDOWNS = 4  # stress windows found in a history without named ones
PAD = 5  # closes either side of a drawdown in its window
MIN_DEPTH = 0.05  # shallower falls are not stress


@dataclass(frozen=True)
class Episode:
    """A date window, inclusive. For a drawdown: the close of the peak and of the trough, and
    ``depth`` = 1 − trough/peak (0.20 = a 20 % fall); ``clipped`` when the history covers only
    part of a named window."""

    name: str
    start: date
    end: date
    peak: date | None = None
    trough: date | None = None
    depth: float | None = None
    clipped: bool = False

    def to_dict(self) -> dict:
        out: dict = {"name": self.name, "start": self.start.isoformat()}
        out["end"] = self.end.isoformat()
        if self.peak is not None:
            out |= {"peak": self.peak.isoformat(), "trough": self.trough.isoformat()}
            out["depth"] = self.depth
        if self.clipped:
            out["clipped"] = True
        return out


NAMED: tuple[Episode, ...] = (
    Episode("Aug 2015 devaluation selloff", date(2015, 8, 17), date(2015, 9, 4)),
    Episode("Jan-Feb 2016 selloff", date(2016, 1, 4), date(2016, 2, 12)),
    Episode("Feb 2018 volatility spike", date(2018, 1, 26), date(2018, 2, 16)),
    Episode("Q4 2018 selloff", date(2018, 10, 1), date(2018, 12, 24)),
)


def named_episodes(
    first: date, last: date, named: Sequence[Episode] = NAMED
) -> tuple[Episode, ...]:
    """The windows of ``named`` that the history ``first``..``last`` reaches, clipped to it."""
    out = []
    for e in named:
        if e.end < first or e.start > last:
            continue
        start, end = max(e.start, first), min(e.end, last)
        out.append(
            Episode(e.name, start, end, clipped=e.clipped or (start, end) != (e.start, e.end))
        )
    return tuple(out)


def deepest_drawdown(prices: np.ndarray) -> tuple[int, int, float]:
    """(peak, trough, depth) of the deepest fall of ``prices`` from a running peak: positions
    and 1 − P[trough]/P[peak]; (0, 0, 0.0) when the series never falls. The peak is the first
    close at the running high before the trough, the trough the first close at the deepest
    point."""
    peak_value = np.maximum.accumulate(prices)
    depth = 1.0 - prices / peak_value
    trough = int(np.argmax(depth))
    if depth[trough] <= 0:
        return 0, 0, 0.0
    peak = int(np.argmax(prices[: trough + 1]))
    return peak, trough, float(depth[trough])


def worst_drawdowns(
    dates: Sequence[date],
    prices: Sequence[float] | np.ndarray,
    k: int = DRAWDOWNS,
    pad: int = PAD,
    min_depth: float = MIN_DEPTH,
) -> tuple[Episode, ...]:
    """The ``k`` deepest non-overlapping peak-to-trough falls deeper than ``min_depth``, deepest
    first, each as the window from ``pad`` closes before its peak to ``pad`` closes after its
    trough (clipped to the history).

    Found greedily: the deepest fall of the whole series; then the history is cut at that
    padded window and the two sides are searched on their own (each with its own running
    peak), and so on. A fall that spans two selloffs without a new high between them is one
    window. ``min_depth`` 0.05 keeps ordinary 2–4 % dips out of a "stress" table.
    """
    px = np.asarray(prices, dtype=float)
    if len(px) != len(dates):
        raise InputError(f"{len(dates)} dates but {len(px)} prices", SOURCE, "prices")
    if len(px) and (not np.isfinite(px).all() or (px <= 0).any()):
        raise InputError("prices must be finite and > 0", SOURCE, "prices")
    if k < 0 or pad < 0 or not 0 <= min_depth < 1:
        raise InputError(
            f"need k >= 0, pad >= 0 and 0 <= min_depth < 1, got {k}, {pad}, {min_depth}",
            SOURCE,
            "k",
        )
    segments = [(0, len(px))] if len(px) >= 2 else []
    found: list[tuple[float, int, int, int, int]] = []
    while segments and len(found) < k:
        best = None
        for s, (lo, hi) in enumerate(segments):
            peak, trough, depth = deepest_drawdown(px[lo:hi])
            if depth > min_depth and (best is None or depth > best[0]):
                best = (depth, s, lo + peak, lo + trough)
        if best is None:
            break
        depth, s, peak, trough = best
        lo, hi = segments.pop(s)
        start, end = max(lo, peak - pad), min(hi - 1, trough + pad)
        found.append((depth, peak, trough, start, end))
        segments[s:s] = [seg for seg in ((lo, start), (end + 1, hi)) if seg[1] - seg[0] >= 2]
    return tuple(
        Episode(
            f"{dates[peak].isoformat()} to {dates[trough].isoformat()} SPX -{100 * depth:.1f}%",
            dates[start],
            dates[end],
            peak=dates[peak],
            trough=dates[trough],
            depth=depth,
        )
        for depth, peak, trough, start, end in found
    )


def stress_episodes(
    dates: Sequence[date],
    prices: Sequence[float] | np.ndarray,
    embedded: bool,
    k: int = DRAWDOWNS,
    pad: int = PAD,
    min_depth: float = MIN_DEPTH,
) -> tuple[Episode, ...]:
    """The named windows the embedded history covers (``embedded``), else the ``k`` worst
    drawdowns of ``prices`` (see ``worst_drawdowns``)."""
    if not len(dates):
        return ()
    if embedded:
        return named_episodes(dates[0], dates[-1])
    return worst_drawdowns(dates, prices, k, pad, min_depth)


def window_change(dates: Sequence[date], curve: Sequence[float] | np.ndarray, e: Episode) -> float:
    """What a daily cumulative curve gained in the window: its value at the last close on or
    before ``e.end`` less its value at the last close before ``e.start`` (0 when the window
    begins before the history does). NaN when no close falls in the window."""
    values = np.asarray(curve, dtype=float)
    days = np.array([d.toordinal() for d in dates])
    lo = int(np.searchsorted(days, e.start.toordinal(), side="left"))
    hi = int(np.searchsorted(days, e.end.toordinal(), side="right")) - 1
    if hi < lo:
        return float("nan")
    before = values[lo - 1] if lo > 0 else 0.0
    return float(values[hi] - before)
