"""``alvh backtest``: the backtest, a sweep or a walk-forward, from plain values.

:func:`backtest` checks every parameter that can fail before the long work starts (the
output paths, the optional extras, the policies, the parameters, the grid, the workers),
reads the rules and the history (the user's files, else the embedded closes) and runs one
of three things: the backtest with its report and sensitivity rows
(:mod:`alvh_cli.backtest.simulation`, :mod:`alvh_cli.backtest.analysis`), a sweep, or a
walk-forward (:mod:`alvh_cli.backtest.experiments`). It returns a typed
:class:`BacktestRun`; nothing is printed or written here (``alvh_cli.output.backtest``
does that).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alvh_cli.backtest import defaults
from alvh_cli.backtest.defaults import DEFAULT_POLICIES
from alvh_cli.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from alvh_cli.backtest.analysis import BacktestReport
    from alvh_cli.backtest.experiments import Sweep, WalkForward
    from alvh_cli.backtest.frontier import Frontier
    from alvh_cli.backtest.params import BacktestParams
    from alvh_cli.model.rules import Rules

Progress = Callable[[int, int], None]
# A context manager factory whose value makes one progress bar per label: ``bar(label)`` is
# the ``progress(done, total)`` callback of that bar, or None (no terminal to draw on).
ProgressBars = Callable[[], AbstractContextManager[Callable[[str], Progress | None]]]
WALK = "walk_forward"


@dataclass(frozen=True)
class BacktestRun:
    """One backtest command: the ``policies`` run and exactly one of ``report`` (the
    backtest and what is read from it), ``sweep`` (every grid point's summaries) and
    ``walk_forward`` (the folds, test windows only) and ``frontier`` (the method at each
    risk aversion, beside hold and the stops)."""

    policies: tuple[str, ...]
    report: BacktestReport | None = None
    sweep: Sweep | None = None
    walk_forward: WalkForward | None = None
    frontier: Frontier | None = None

    @property
    def outcome(self) -> BacktestReport | Sweep | WalkForward | Frontier:
        """Whichever ran."""
        runs = (self.report, self.sweep, self.walk_forward, self.frontier)
        return next(x for x in runs if x is not None)

    @property
    def exit_status(self) -> int:
        """0: it ran (bad input is an ``InputError``, exit status 2)."""
        return 0


def backtest(
    history: Sequence[Path | str] | None = None,
    *,
    rules: Path | str | None = None,
    policies: str | Sequence[str] = DEFAULT_POLICIES,
    entry: Sequence[str] = (),
    profit_take: bool = True,
    start: str | None = None,
    end: str | None = None,
    trades: Path | str | None = None,
    plot: Path | str | None = None,
    fractional: bool = False,
    sensitivity: str = defaults.SENSITIVITY,
    seed: int = defaults.SEED,
    resamples: int = defaults.RESAMPLES,
    sweep: Sequence[str] = (),
    workers: int | None = None,
    dask: str | None = None,
    walk_forward: bool = False,
    train_days: int = defaults.TRAIN_DAYS,
    test_days: int = defaults.TEST_DAYS,
    objective: str | None = None,
    frontier: bool = False,
    progress: ProgressBars | None = None,
) -> BacktestRun:
    """The backtest of ``policies`` on ``history`` (CSV files; default the embedded
    2014–2018 closes), or a sweep of it, or a walk-forward.

    ``rules`` is a TOML file of ``[rules]`` overrides; ``entry`` holds ``key=value`` pairs
    (comma-separated) or TOML files with a ``[backtest]`` table (:func:`parse_entry_options`);
    ``start``, ``end`` (``YYYY-MM-DD``) and ``profit_take`` False win over them. ``fractional``
    adds ``alvh_frac``. ``sensitivity`` ("costs", "model" or "none") chooses the runs beside
    the backtest; ``seed`` and ``resamples`` are the bootstrap's. ``sweep`` holds
    ``key=v1,v2`` specs (a grid); ``walk_forward`` chooses a grid point by ``objective``
    (``POLICY.METRIC``) on each ``train_days`` window and reports the next ``test_days``.
    ``frontier`` runs the method at each risk aversion of :mod:`alvh_cli.backtest.frontier`
    (hold, the stops and alvh unless ``policies`` say otherwise).
    ``workers`` local processes (default: the cores, when joblib is installed) or the Dask
    scheduler at ``dask`` run the sweeps and sensitivity points. ``trades`` (a .csv) and
    ``plot`` (a .png) are the files the caller will write: checked here, before any work.
    ``progress`` makes the progress bars (``ProgressBars``; None: no bars).

    Over 80 lines for its signature and this docstring: one keyword parameter per option
    of the command; the work is in the helpers below.
    """
    from alvh_cli import compat
    from alvh_cli.backtest import experiments
    from alvh_cli.backtest import sweep as sw
    from alvh_cli.backtest.policies import ALVH_POLICIES, parse_policies

    if plot is not None:
        compat.require("HAS_MATPLOTLIB", "plot")  # before the work, not after it
    inputs = [*(history or []), *([rules] if rules is not None else [])]
    _check_outputs(trades, plot, [*inputs, *(e for e in entry if Path(e).suffix == ".toml")])
    _check_report_options(sensitivity, resamples)
    chosen = parse_policies(policies)
    if fractional and "alvh_frac" not in chosen:
        chosen = parse_policies([*chosen, "alvh_frac"])
    effective = _rules(rules)
    params = _parameters(entry, start, end, profit_take)
    grid = experiments.parse_grid(sweep, params, effective) if sweep else None
    if walk_forward and grid is None:
        raise InputError(
            "{flag:walk_forward} chooses among a grid: give it {flag:sweep} key=v1,v2",
            option=WALK,
        )
    if trades is not None and grid is not None:
        raise InputError("{flag:trades} writes one run's trades, not a sweep's", option="trades")
    if frontier and (grid is not None or walk_forward or trades is not None):
        raise InputError(
            "{flag:frontier} runs its own ladder of risk_aversion: not with {flag:sweep}, "
            "{flag:walk_forward} or {flag:trades}",
            option="frontier",
        )
    chosen_workers = workers is not None
    if workers is None:
        workers = sw.default_workers() if sw.has_module("joblib") else 1
    sw.require_backend(workers, dask)
    if dask is not None:
        sw.check_dask(dask, defaults.DASK_TIMEOUT)
    frame = load_history(history)
    bars = progress or _no_bars

    if walk_forward:
        target = experiments.parse_objective(
            objective or experiments.default_objective(chosen), chosen
        )
        with bars() as bar:
            wf = experiments.walk_forward(
                frame, effective, params, chosen, grid, target, train_days, test_days,
                workers, dask, bar("walk-forward"),
            )  # fmt: skip
        return BacktestRun(chosen, walk_forward=wf)
    if frontier:
        from alvh_cli.backtest import frontier as fr

        with bars() as bar:
            points = fr.grid()
            result = fr.run_frontier(
                frame, effective, params, chosen, points, seed=seed, resamples=resamples,
                workers=workers, dask_address=dask, progress=bar(f"frontier of {len(points)} runs"),
            )  # fmt: skip
        return BacktestRun(chosen, frontier=result)
    if objective is not None:
        raise InputError(
            "{flag:objective} is what {flag:walk_forward} maximises; add {flag:walk_forward}",
            option=WALK,
        )
    if grid is not None:
        with bars() as bar:
            results = experiments.run_sweep(
                frame, effective, params, chosen, grid, workers, dask,
                bar(f"sweep of {len(grid)} points"),
            )  # fmt: skip
        return BacktestRun(chosen, sweep=experiments.Sweep(tuple(grid), tuple(results), chosen))
    # a run without an alvh policy takes a fraction of a second: starting worker processes
    # for its sensitivity points would cost more than it saves
    cheap = not chosen_workers and not any(p in ALVH_POLICIES for p in chosen)
    pool = (workers > 1 or dask is not None) and not (cheap and dask is None)
    report = _report(
        frame, effective, params, chosen, sensitivity, seed, resamples,
        (workers, dask) if pool else None, bars,
    )  # fmt: skip
    return BacktestRun(chosen, report=report)


def _report(
    frame: pd.DataFrame,
    rules: Rules,
    params: BacktestParams,
    policies: tuple[str, ...],
    sensitivity: str,
    seed: int,
    resamples: int,
    pool: tuple[int, str | None] | None,
    bars: ProgressBars,
) -> BacktestReport:
    """The backtest and everything read from it, with the sensitivity rows. On ``pool``
    (workers, Dask address) the sensitivity points run on worker processes while this
    process runs the backtest (a thread only hands out the tasks and waits); else they run
    here, after it."""
    from alvh_cli.backtest import analysis, experiments, simulation

    labelled = experiments.sensitivity_points(sensitivity, params, rules)
    points = [point for _, point in labelled]
    runs = None
    from concurrent.futures import ThreadPoolExecutor

    with bars() as bar, ThreadPoolExecutor(1) as thread:
        if points and pool is not None:
            runs = thread.submit(
                experiments.sensitivity, frame, rules, params, policies, points, *pool,
                bar(f"{len(points)} sensitivity runs"),
            )  # fmt: skip
        result = simulation.run_backtest(frame, rules, params, policies, progress=bar("backtest"))
        if runs is not None:
            runs = runs.result()
        elif points:
            runs = experiments.sensitivity(
                frame, rules, params, policies, points, 1, None,
                bar(f"{len(points)} sensitivity runs"),
            )  # fmt: skip
    cost_row = experiments.cost_row(result, points, runs) if points else None
    model_rows = experiments.model_rows(result, labelled, runs) if sensitivity == "model" else None
    return analysis.report(result, seed, resamples, cost_row, model_rows)


def _check_report_options(sensitivity: str, resamples: int) -> None:
    if sensitivity not in defaults.SENSITIVITIES:
        raise InputError(
            f"must be one of {', '.join(defaults.SENSITIVITIES)}, got {sensitivity!r}",
            option="sensitivity",
        )
    if resamples < defaults.MIN_RESAMPLES:
        raise InputError(
            f"must be at least {defaults.MIN_RESAMPLES}, got {resamples}", option="resamples"
        )


@contextlib.contextmanager
def _no_bars() -> Iterator[Callable[[str], Progress | None]]:
    yield lambda label: None


def _check_outputs(
    trades: Path | str | None, plot: Path | str | None, inputs: Sequence[Path | str]
) -> None:
    """The files the caller will write: never an input, a directory or a special file (an
    existing file is replaced, as it always was), the right suffix, not one file."""
    from alvh_cli.output.files import refuse_output, same_file

    for option, path in (("trades", trades), ("plot", plot)):
        if path is not None and any(same_file(path, f) for f in inputs):
            raise InputError(
                f"{path} is one of the input files; alvh never writes its inputs", option=option
            )
    for option, path, suffix in (("trades", trades, ".csv"), ("plot", plot, ".png")):
        if path is not None and Path(path).suffix.lower() != suffix:
            raise InputError(f"must be a {suffix} file, got {str(path)!r}", option=option)
        if path is not None:
            refuse_output(path, inputs, force=True)
    if trades is not None and plot is not None and same_file(trades, plot):
        raise InputError("{flag:trades} and {flag:plot} name the same file", option="plot")


def _rules(path: Path | str | None) -> Rules:
    """The method's rules: the defaults, overridden by the ``[rules]`` of ``path``."""
    from alvh_cli.inputs import positions
    from alvh_cli.model.rules import resolve

    layers = [(positions.load_rules_table(path), str(path))] if path is not None else []
    return resolve(*layers)


def _parameters(
    entry: Sequence[str], start: str | None, end: str | None, profit_take: bool
) -> BacktestParams:
    """The backtest's parameters: the defaults, the ``entry`` values over them, then
    ``start``, ``end`` and ``profit_take`` False (each error names its parameter)."""
    from alvh_cli.backtest.params import make_params

    params = make_params(parse_entry_options(entry), option="entry")
    options: dict[str, Any] = {"start": start, "end": end}
    if not profit_take:
        options["profit_take"] = False
    for key, value in options.items():
        if value is not None:
            try:
                params = make_params({key: value}, base=params)
            except InputError as exc:
                raise InputError(exc.message, option=key) from None
    return params


def load_history(paths: Sequence[Path | str] | None):
    """The user's history files (any layout ``history.read_history`` reads), else the embedded
    2014–2018 data."""
    from alvh_cli.inputs.history import embedded_frame, read_history

    if not paths:
        return embedded_frame()
    return read_history([Path(p) for p in paths])


def parse_entry_options(values: Sequence[str]) -> dict[str, Any]:
    """``--entry`` values: ``key=value`` pairs (repeated or comma-separated), or a TOML file
    whose ``[backtest]`` table (or top level) holds the parameters; later values win."""
    table: dict[str, Any] = {}
    for value in values:
        if "=" not in value:
            table.update(_params_file(value))
            continue
        for pair in value.split(","):
            if not pair.strip():
                continue
            key, sep, text = pair.partition("=")
            if not sep or not key.strip():
                raise InputError(f"expected key=value, got {pair!r}", option="entry")
            table[key.strip()] = _literal(text.strip())
    return table


def _literal(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false", "on", "off", "yes", "no"):
        return lowered in ("true", "on", "yes")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text  # dates stay text; make_params reads them


def _params_file(path: str) -> dict[str, Any]:
    from alvh_cli.inputs.toml_reader import read_toml

    doc = read_toml(path)
    table = doc.get("backtest", doc)
    if not isinstance(table, dict):
        raise InputError("[backtest] must be a table", path, "backtest")
    from alvh_cli.backtest.params import make_params

    make_params(table, path)  # errors name this file
    return dict(table)


def entry_keys() -> list[tuple[str, str]]:
    """(key, meaning and default) of every ``entry`` parameter a run takes, for help texts."""
    from alvh_cli.backtest.params import PARAMS

    rows = [(k, f"{p.help} (default {p.default:g})") for k, p in PARAMS.items()]
    return [
        *rows,
        ("profit_take", "true/false: the shared profit take (default true)"),
        (
            "start, end",
            "first entry date (the warm-up comes from before it) and last close, "
            "YYYY-MM-DD (default: the whole history)",
        ),
    ]
