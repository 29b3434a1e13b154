"""Parameter sweeps and walk-forward selection, run serially, on local cores, or on a Dask
cluster — one task function, one code path, results in grid order.

A sweep is a grid: ``key=v1,v2,...`` specs expanded to every combination (the last key varies
fastest). ``run_grid(task, grid, ...)`` calls ``task(point)`` for each point dict and returns
the results in grid order:

* ``workers == 1`` and no address: a plain loop in this process;
* ``workers > 1``: joblib (``Parallel(n_jobs=workers)``, the loky process pool);
* ``dask_address``: ``dask.distributed.Client(address).map`` — a scheduler started anywhere
  (``dask scheduler`` + ``dask worker``, or ``LocalCluster().scheduler_address``).

The task must be a pure function of its point (no shared state, its own seeded RNG if any):
then a result does not depend on where or in which order it ran, and parallel results equal
the serial ones bit for bit (results travel by pickle, which is exact for floats and arrays).

Walk-forward (Pardo 2008, *The Evaluation and Optimization of Trading Strategies*, ch. 11):
the history is cut into consecutive (train, test) windows; on each, every grid point is run
on the train window, the best by a stated objective is chosen, and only that point is run on
the following test window. Only test-window results are reported, so no reported figure was
chosen on the data it is measured on.

joblib and dask are optional extras (``alvh[sweep]``, ``alvh[dask]``), imported only when a
run needs them and checked by ``require_backend`` before any work starts. Nothing here
imports rich: progress is a callback ``progress(done, total)``.
"""

from __future__ import annotations

import difflib
import importlib.util
import itertools
import math
import os
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from alvh_cli.backtest.defaults import DASK_TIMEOUT
from alvh_cli.errors import InputError

# The parameters an InputError names (its ``option`` role): the grid's specs, the worker
# count, the Dask scheduler's address, the walk-forward.
SWEEP = "sweep"
WORKERS = "workers"
DASK = "dask"
WALK = "walk_forward"

Progress = Callable[[int, int], None]
Task = Callable[[dict], Any]

_INT = re.compile(r"[+-]?\d+")


# --------------------------------------------------------------------------- the grid


def parse_value(text: str) -> int | float | bool:
    """``"45"`` → 45, ``"0.16"`` → 0.16, ``"true"``/``"false"`` → bool; else ValueError."""
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    if _INT.fullmatch(t):
        return int(t)
    value = float(t)
    if not math.isfinite(value):
        raise ValueError(t)
    return value


def parse_sweeps(
    specs: Sequence[str],
    known: Mapping[str, Callable[[str], Any]] | Collection[str],
    option: str = SWEEP,
) -> dict[str, tuple]:
    """``["dte=30,45", "delta=0.1,0.16"]`` → ``{"dte": (30, 45), "delta": (0.1, 0.16)}``.

    ``known`` names the keys a sweep may vary: a collection of names (values read by
    ``parse_value``) or a mapping of name → converter from text, which raises ValueError or
    ``InputError`` on a bad value. Unknown keys (with a did-you-mean), a key given twice, a
    value listed twice and a key without values are errors.
    """
    convert = dict(known) if isinstance(known, Mapping) else dict.fromkeys(known, parse_value)
    axes: dict[str, tuple] = {}
    for spec in specs:
        key, sep, rest = spec.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"expected key=v1,v2,... got {spec!r}", option=option)
        if key not in convert:
            close = difflib.get_close_matches(key, list(convert), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InputError(f"unknown sweep key '{key}'{hint}", key=key, option=option)
        if key in axes:
            raise InputError(
                f"'{key}' is swept twice; give all its values in one", key=key, option=option
            )
        texts = [t.strip() for t in rest.split(",")]
        if not any(texts):
            raise InputError(
                f"no values for '{key}': the grid would be empty", key=key, option=option
            )
        if not all(texts):
            raise InputError(f"an empty value in {spec!r}", key=key, option=option)
        values = []
        for t in texts:
            try:
                value = convert[key](t)
            except InputError as exc:
                raise InputError(exc.message, key=key, option=option) from None
            except ValueError:
                raise InputError(
                    f"'{t}' is not a value for '{key}'", key=key, option=option
                ) from None
            if value in values:
                raise InputError(f"'{key}' lists {t} twice", key=key, option=option)
            values.append(value)
        axes[key] = tuple(values)
    return axes


def expand_grid(axes: Mapping[str, Sequence]) -> list[dict]:
    """Every combination of the axes' values as a dict, the last key varying fastest. No
    axes is one point, ``{}`` (the defaults); an axis without values is an error."""
    for key, values in axes.items():
        if not len(values):
            raise InputError(
                f"no values for '{key}': the grid would be empty", key=key, option=SWEEP
            )
    keys = list(axes)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*axes.values())]


def pivot(
    grid: Sequence[dict], scores: Sequence[float], x: str, y: str
) -> tuple[list, list, list[list[float]]]:
    """(x values, y values, rows of scores) for a heat map of ``scores`` over two swept keys:
    ``rows[i][j]`` is the score at ``y = ys[i]``, ``x = xs[j]``, NaN where no point has it.
    With other keys swept too, a later point overwrites an earlier one: pivot a slice."""
    xs = list(dict.fromkeys(p[x] for p in grid))
    ys = list(dict.fromkeys(p[y] for p in grid))
    rows = [[math.nan] * len(xs) for _ in ys]
    for p, s in zip(grid, scores, strict=True):
        rows[ys.index(p[y])][xs.index(p[x])] = float(s)
    return xs, ys, rows


# --------------------------------------------------------------------------- running


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def has_module(name: str) -> bool:
    """Whether ``name`` can be imported, without importing it."""
    return importlib.util.find_spec(name) is not None


def require_backend(workers: int, dask_address: str | None = None) -> None:
    """Raise ``InputError`` now, before any work, when the run cannot start: a worker count
    below 1, or the extra it needs not installed."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers must be a whole number >= 1, got {workers!r}", option=WORKERS)
    if dask_address is not None:
        if not has_module("distributed"):
            raise InputError(
                "needs dask.distributed: pip install 'alvh[dask]'", key=dask_address, option=DASK
            )
    elif workers > 1 and not has_module("joblib"):
        raise InputError(
            "more than one worker needs joblib: pip install 'alvh[sweep]'", option=WORKERS
        )


def run_grid(
    task: Task,
    grid: Sequence[dict],
    workers: int = 1,
    dask_address: str | None = None,
    progress: Progress | None = None,
    dask_timeout: float = DASK_TIMEOUT,
) -> list:
    """``[task(p) for p in grid]``, run serially, by joblib on ``workers`` local processes, or
    on the Dask scheduler at ``dask_address``; results in grid order either way.

    ``progress(done, total)`` is called as results arrive. An exception in a task is raised
    here as itself. A scheduler that cannot be reached within ``dask_timeout`` seconds, or
    a malformed address, is an ``InputError`` naming the scheduler (``DASK``).
    """
    if not len(grid):
        raise InputError("the grid is empty: nothing to run", option=SWEEP)
    require_backend(workers, dask_address)
    total = len(grid)
    if dask_address is not None:
        return _run_dask(task, grid, dask_address, progress, dask_timeout)
    if workers == 1:
        out = []
        for p in grid:
            out.append(task(p))
            if progress:
                progress(len(out), total)
        return out
    from joblib import Parallel, delayed

    out = []
    parallel = Parallel(n_jobs=workers, return_as="generator")
    for result in parallel(delayed(task)(p) for p in grid):
        out.append(result)
        if progress:
            progress(len(out), total)
    return out


def check_dask(address: str, timeout: float = DASK_TIMEOUT) -> None:
    """Connect to the Dask scheduler at ``address`` and leave: an ``InputError`` naming
    the scheduler (``DASK``) now, before any work, when it cannot be reached."""
    client = _connect(address, timeout)
    client.close()


def _connect(address: str, timeout: float):
    from distributed import Client

    try:
        return Client(address, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise InputError(
            f"cannot reach a Dask scheduler at {address!r}: {reason}", key=address, option=DASK
        ) from None


def _run_dask(
    task: Task,
    grid: Sequence[dict],
    address: str,
    progress: Progress | None,
    timeout: float,
) -> list:
    from distributed import as_completed

    client = _connect(address, timeout)
    try:
        futures = client.map(task, list(grid), pure=False)
        if progress:
            for done, _ in enumerate(as_completed(futures, loop=client.loop), 1):
                progress(done, len(futures))
        return client.gather(futures)
    finally:
        client.close()


# --------------------------------------------------------------------------- walk-forward


@dataclass(frozen=True)
class Window:
    """One walk-forward step: the train and the test window, each inclusive, test after
    train with no gap."""

    train_start: date
    train_end: date
    test_start: date
    test_end: date

    def to_dict(self) -> dict[str, str]:
        return {k: getattr(self, k).isoformat() for k in self.__dataclass_fields__}


def walk_forward_windows(
    first: date, last: date, train_days: int, test_days: int, anchored: bool = False
) -> list[Window]:
    """Consecutive (train, test) windows over ``first``..``last`` in calendar days: the test
    windows tile the history after the first train window, each train window is the
    ``train_days`` before its test window (from ``first`` on when ``anchored``). Only whole
    test windows; a history too short for one train plus one test window is an error."""
    if train_days < 1 or test_days < 1:
        raise InputError(
            f"train and test windows must be >= 1 day, got {train_days} and {test_days}",
            option=WALK,
        )
    span = (last - first).days + 1
    if span < train_days + test_days:
        raise InputError(
            f"the history {first} to {last} ({span} days) is shorter than one training "
            f"window ({train_days} days) plus one test window ({test_days} days)",
            option=WALK,
        )
    windows = []
    test_start = first + timedelta(days=train_days)
    while (test_end := test_start + timedelta(days=test_days - 1)) <= last:
        train_start = first if anchored else test_start - timedelta(days=train_days)
        windows.append(Window(train_start, test_start - timedelta(days=1), test_start, test_end))
        test_start = test_end + timedelta(days=1)
    return windows


@dataclass(frozen=True)
class Objective:
    """What "best" means on a train window: ``score(result)`` → a number, higher is better
    unless ``maximize`` is False; ``name`` is printed with the results. NaN scores never win."""

    name: str
    score: Callable[[Any], float]
    maximize: bool = True


@dataclass(frozen=True)
class Fold:
    """One walk-forward step: the point chosen on the train window, its train score, and its
    result and score on the test window."""

    window: Window
    chosen: dict
    train_score: float
    test_result: Any
    test_score: float


@dataclass(frozen=True)
class WalkForwardResult:
    objective: str
    maximize: bool
    folds: tuple[Fold, ...]

    def to_dict(self, result: Callable[[Any], Any] = lambda r: r) -> dict:
        """JSON shape; ``result`` turns a test result into JSON-able data."""
        return {
            "objective": self.objective,
            "maximize": self.maximize,
            "folds": [
                {
                    **f.window.to_dict(),
                    "chosen": f.chosen,
                    "train_score": f.train_score,
                    "test_score": f.test_score,
                    "test_result": result(f.test_result),
                }
                for f in self.folds
            ],
        }


def choose(scores: Sequence[float], maximize: bool = True) -> int:
    """Position of the best score, the first on a tie; NaN never wins. All NaN: 0."""
    best = None
    for i, s in enumerate(scores):
        if math.isnan(s):
            continue
        if best is None or (s > scores[best] if maximize else s < scores[best]):
            best = i
    return 0 if best is None else best


def walk_forward(
    task: Task,
    grid: Sequence[dict],
    windows: Sequence[Window],
    objective: Objective,
    workers: int = 1,
    dask_address: str | None = None,
    progress: Progress | None = None,
    start_key: str = "start",
    end_key: str = "end",
    dask_timeout: float = DASK_TIMEOUT,
) -> WalkForwardResult:
    """Choose a grid point on each train window by ``objective`` and run it on the test
    window. ``task`` gets the point with ``start_key``/``end_key`` set to the window's first
    and last date. Every train run goes in one ``run_grid`` call, then every test run in a
    second, so both spread over the workers."""
    if not len(grid):
        raise InputError("the grid is empty: nothing to run", option=SWEEP)
    if not windows:
        raise InputError("no walk-forward window fits the history", option=WALK)
    for key in (start_key, end_key):
        if any(key in p for p in grid):
            raise InputError(
                f"walk-forward sets '{key}' itself; do not sweep it", key=key, option=SWEEP
            )
    require_backend(workers, dask_address)
    total = len(windows) * (len(grid) + 1)

    def tick(offset: int) -> Progress | None:
        return (lambda done, _n: progress(offset + done, total)) if progress else None

    train = [{**p, start_key: w.train_start, end_key: w.train_end} for w in windows for p in grid]
    train_results = run_grid(task, train, workers, dask_address, tick(0), dask_timeout)
    chosen, train_scores = [], []
    for i in range(len(windows)):
        scores = [
            float(objective.score(r)) for r in train_results[i * len(grid) : (i + 1) * len(grid)]
        ]
        best = choose(scores, objective.maximize)
        chosen.append(dict(grid[best]))
        train_scores.append(scores[best])
    tests = [
        {**c, start_key: w.test_start, end_key: w.test_end}
        for c, w in zip(chosen, windows, strict=True)
    ]
    test_results = run_grid(task, tests, workers, dask_address, tick(len(train)), dask_timeout)
    folds = tuple(
        Fold(w, c, s, r, float(objective.score(r)))
        for w, c, s, r in zip(windows, chosen, train_scores, test_results, strict=True)
    )
    return WalkForwardResult(objective.name, objective.maximize, folds)
