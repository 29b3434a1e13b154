"""Moving-block bootstrap of a backtest's per-trade P&L: percentile intervals for each policy's
total, mean, CVaR and maximum drawdown, and for differences between policies.

Method: the moving-block bootstrap (MBB) of Künsch (1989), "The jackknife and the bootstrap for
general stationary observations", *Annals of Statistics* 17(3), 1217–1241, and Liu & Singh
(1992); see Lahiri (2003), *Resampling Methods for Dependent Data*, §2.5. The series
x_1..x_n (one value per trade, in entry order) has n − b + 1 overlapping blocks of b
consecutive values; a resample joins k = ⌈n/b⌉ blocks whose starts are drawn uniformly with
replacement and keeps its first n values. Blocks keep the dependence between neighbouring
trades (condors that overlap in time, volatility clusters) that an i.i.d. resample would
destroy; b = 1 is Efron's i.i.d. bootstrap. Weekly entries with b = 4 resample months.

Intervals are percentile intervals of the B resampled statistics (Efron & Tibshirani 1993,
*An Introduction to the Bootstrap*, §13.3): [q(α/2), q(1 − α/2)], linear interpolation
between order statistics. The MBB is not centred exactly on the sample statistic (values
near the ends of the series fall in fewer blocks; Lahiri 2003, §2.7), so the estimate can sit
off the middle of its interval.

Paired differences: every series is resampled with the SAME block starts, so "alvh − hold" is
the statistic of alvh minus that of hold on the same resampled trades, replicate by
replicate; what the two policies share (the market path) cancels.

Seeded with ``numpy.random.default_rng(seed)``: the same inputs and seed give the same
intervals on every machine numpy supports. Money is in whatever unit the series is in
(dollars for the backtest's trades).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from alvh_cli.backtest.defaults import CONFIDENCE, CVAR_LEVEL, RESAMPLES, SEED
from alvh_cli.errors import InputError

STATISTICS = ("total", "mean", "cvar", "max_drawdown")
SOURCE = "bootstrap"
_CHUNK = 2048  # resamples evaluated at once: bounds memory to about _CHUNK × n floats a series
DAYS_PER_MONTH = 365.25 / 12


# --------------------------------------------------------------------------- statistics


def total(x: np.ndarray) -> np.ndarray:
    """Sum over the last axis: the policy's total P&L."""
    return np.sum(x, axis=-1)


def mean(x: np.ndarray) -> np.ndarray:
    """Mean over the last axis: P&L per trade."""
    return np.mean(x, axis=-1)


def cvar(x: np.ndarray, level: float) -> np.ndarray:
    """Mean of the worst ⌈level·n⌉ values over the last axis (at least one): the expected
    shortfall of the P&L at ``level`` (Acerbi & Tasche 2002, "On the coherence of expected
    shortfall", the discrete form). Same convention as the backtest's ``cvar_5``."""
    n = x.shape[-1]
    k = max(1, math.ceil(level * n - 1e-9))
    return np.mean(np.partition(x, k - 1, axis=-1)[..., :k], axis=-1)


def max_drawdown(x: np.ndarray) -> np.ndarray:
    """Largest fall of the cumulative P&L from its running peak, over the last axis; the curve
    starts at 0 before the first trade (so a first loss is a drawdown). Always ≥ 0."""
    curve = np.cumsum(x, axis=-1)
    peak = np.maximum(np.maximum.accumulate(curve, axis=-1), 0.0)
    return np.max(peak - curve, axis=-1)


def statistic(name: str, x: np.ndarray, cvar_level: float = CVAR_LEVEL) -> np.ndarray:
    """The statistic ``name`` (one of ``STATISTICS``) over the last axis of ``x``."""
    if name == "total":
        return total(x)
    if name == "mean":
        return mean(x)
    if name == "cvar":
        return cvar(x, cvar_level)
    if name == "max_drawdown":
        return max_drawdown(x)
    raise InputError(
        f"unknown statistic '{name}' (choose from {', '.join(STATISTICS)})", SOURCE, "statistics"
    )


# --------------------------------------------------------------------------- resampling


def block_starts(
    n: int, block_length: int, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_resamples, ⌈n/b⌉) block starts, uniform on 0..n − b: the only random draw."""
    k = -(-n // block_length)
    return rng.integers(0, n - block_length + 1, size=(n_resamples, k))


def indices_from_starts(starts: np.ndarray, n: int, block_length: int) -> np.ndarray:
    """(rows, n) positions into the series: each start expanded to its b consecutive positions,
    the blocks joined and cut to n."""
    rows, k = starts.shape
    idx = starts[:, :, None] + np.arange(block_length)
    return idx.reshape(rows, k * block_length)[:, :n]


def resample_indices(
    n: int, block_length: int, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_resamples, n) moving-block resample positions into a series of length n."""
    return indices_from_starts(block_starts(n, block_length, n_resamples, rng), n, block_length)


def month_block_length(dates: Sequence[date]) -> int:
    """Entries per month, the block length for "blocks of a month of entries": 30.44 days over
    the median spacing of consecutive ``dates`` (weekly entries → 4), at least 1."""
    if len(dates) < 2:
        return 1
    gaps = np.diff(np.array([d.toordinal() for d in dates], dtype=float))
    spacing = float(np.median(gaps))
    if spacing <= 0:
        return 1
    return max(1, round(DAYS_PER_MONTH / spacing))


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Interval:
    """A statistic on the observed series, its bootstrap percentile interval and the standard
    deviation of its B replicates (the bootstrap standard error)."""

    estimate: float
    low: float
    high: float
    se: float

    def to_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high, "se": self.se}


@dataclass(frozen=True)
class BootstrapResult:
    """Intervals per series and per contrast: ``intervals["alvh"]["total"]``,
    ``contrasts["alvh - hold"]["total"]``; and how they were made."""

    intervals: dict[str, dict[str, Interval]]
    contrasts: dict[str, dict[str, Interval]]
    statistics: tuple[str, ...]
    n: int
    block_length: int
    n_resamples: int
    seed: int
    confidence: float
    cvar_level: float

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: the method's settings, then intervals per series and per contrast."""
        return {
            "method": "moving-block bootstrap (Künsch 1989), percentile intervals",
            "n": self.n,
            "block_length": self.block_length,
            "resamples": self.n_resamples,
            "seed": self.seed,
            "confidence": self.confidence,
            "cvar_level": self.cvar_level,
            "series": {
                k: {s: iv.to_dict() for s, iv in v.items()} for k, v in self.intervals.items()
            },
            "contrasts": {
                k: {s: iv.to_dict() for s, iv in v.items()} for k, v in self.contrasts.items()
            },
        }


def contrast_name(a: str, b: str) -> str:
    return f"{a} - {b}"


# --------------------------------------------------------------------------- the bootstrap


def block_bootstrap(
    series: Mapping[str, Sequence[float] | np.ndarray],
    block_length: int,
    *,
    n_resamples: int = RESAMPLES,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
    statistics: Sequence[str] = STATISTICS,
    cvar_level: float = CVAR_LEVEL,
    contrasts: Sequence[tuple[str, str]] = (),
) -> BootstrapResult:
    """Percentile intervals for ``statistics`` of each named series and of each contrast
    (a, b) = statistic(a) − statistic(b), all series resampled with the same moving blocks.

    ``series`` maps a name (a policy) to its values in time order, all of one length n
    (one value per entry, shared by every policy). ``block_length`` b is in values
    (``month_block_length`` gives a month of entries).
    """
    names, matrix = _check(series, block_length, n_resamples, confidence, cvar_level)
    stats = tuple(statistics)
    for s in stats:
        if s not in STATISTICS:
            raise InputError(
                f"unknown statistic '{s}' (choose from {', '.join(STATISTICS)})",
                SOURCE,
                "statistics",
            )
    for a, b in contrasts:
        for name in (a, b):
            if name not in names:
                raise InputError(
                    f"contrast {contrast_name(a, b)!r} names '{name}', which is not a series "
                    f"(have {', '.join(names)})",
                    SOURCE,
                    "contrasts",
                )
    n = matrix.shape[1]
    rng = np.random.default_rng(seed)
    starts = block_starts(n, block_length, n_resamples, rng)
    reps = np.empty((len(stats), len(names), n_resamples))
    for lo in range(0, n_resamples, _CHUNK):
        idx = indices_from_starts(starts[lo : lo + _CHUNK], n, block_length)
        sample = matrix[:, idx]  # (series, rows, n): every series on the same blocks
        for j, s in enumerate(stats):
            reps[j, :, lo : lo + idx.shape[0]] = statistic(s, sample, cvar_level)
    observed = np.array([statistic(s, matrix, cvar_level) for s in stats])  # (stats, series)

    alpha = 1.0 - confidence

    def interval(estimate: float, values: np.ndarray) -> Interval:
        low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
        return Interval(float(estimate), float(low), float(high), float(np.std(values)))

    intervals = {
        name: {s: interval(observed[j, i], reps[j, i]) for j, s in enumerate(stats)}
        for i, name in enumerate(names)
    }
    pos = {name: i for i, name in enumerate(names)}
    diffs = {
        contrast_name(a, b): {
            s: interval(
                observed[j, pos[a]] - observed[j, pos[b]], reps[j, pos[a]] - reps[j, pos[b]]
            )
            for j, s in enumerate(stats)
        }
        for a, b in contrasts
    }
    return BootstrapResult(
        intervals, diffs, stats, n, block_length, n_resamples, seed, confidence, cvar_level
    )


def _check(
    series: Mapping[str, Sequence[float] | np.ndarray],
    block_length: int,
    n_resamples: int,
    confidence: float,
    cvar_level: float,
) -> tuple[list[str], np.ndarray]:
    if not series:
        raise InputError("no series to resample", SOURCE, "series")
    names = list(series)
    rows = [np.asarray(series[k], dtype=float) for k in names]
    lengths = {len(r) for r in rows}
    if len(lengths) > 1:
        sizes = ", ".join(f"{k} {len(r)}" for k, r in zip(names, rows, strict=True))
        raise InputError(
            f"paired series must have one length (one value per entry), got {sizes}",
            SOURCE,
            "series",
        )
    n = lengths.pop()
    if n == 0:
        raise InputError("no trades to resample", SOURCE, "series")
    for k, r in zip(names, rows, strict=True):
        if r.ndim != 1 or not np.isfinite(r).all():
            raise InputError(f"series '{k}' must be finite numbers in one row", SOURCE, k)
    if isinstance(block_length, bool) or int(block_length) != block_length:
        raise InputError(f"must be a whole number, got {block_length!r}", SOURCE, "block_length")
    if not 1 <= block_length <= n:
        raise InputError(
            f"must be between 1 and the series length {n}, got {block_length}",
            SOURCE,
            "block_length",
        )
    if isinstance(n_resamples, bool) or int(n_resamples) != n_resamples or n_resamples < 1:
        raise InputError(f"must be a whole number >= 1, got {n_resamples!r}", SOURCE, "n_resamples")
    if not 0 < confidence < 1:
        raise InputError(f"must be between 0 and 1, got {confidence!r}", SOURCE, "confidence")
    if not 0 < cvar_level <= 1:
        raise InputError(f"must be in (0, 1], got {cvar_level!r}", SOURCE, "cvar_level")
    return names, np.vstack(rows)
