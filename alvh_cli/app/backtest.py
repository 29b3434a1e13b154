"""``alvh backtest``: options → the run (``simulation.run_backtest`` and its analysis, a sweep
or a walk-forward in ``experiments``) → the report, the trades CSV, the plots.

The Typer command in ``cli.py`` hands its parsed options to ``backtest_command``; this
module parses the parameters (``--entry`` values and TOML files), reads the history, checks
the output paths and the optional extras before any long work; ``output/backtest.py``
prints and writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from alvh_cli.backtest import defaults, simulation
from alvh_cli.backtest.defaults import DEFAULT_POLICIES
from alvh_cli.backtest.params import make_params
from alvh_cli.backtest.policies import ALVH_POLICIES, parse_policies
from alvh_cli.errors import InputError


def backtest_command(
    history: Sequence[Path | str] | None = None,
    rules: Path | str | None = None,
    policies: str = ",".join(DEFAULT_POLICIES),
    entry: Sequence[str] | None = None,
    no_profit_take: bool = False,
    start: str | None = None,
    end: str | None = None,
    fmt: str = "table",
    trades: Path | str | None = None,
    plot: Path | str | None = None,
    *,
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
):
    """Run the backtest (or the sweep, or the walk-forward) the options describe, print it in
    ``fmt`` and write the files asked for. Every check that can fail does so before the
    long work starts."""
    from alvh_cli.backtest import analysis, experiments
    from alvh_cli.backtest import sweep as sw
    from alvh_cli.inputs import positions
    from alvh_cli.model.rules import resolve
    from alvh_cli.output import backtest as out
    from alvh_cli.output import backtest_plots as plots

    inputs = [
        *(history or []),
        *([rules] if rules is not None else []),
        *(e for e in entry or [] if Path(e).suffix == ".toml"),
    ]
    for option, path in (("trades", trades), ("plot", plot)):
        if path is not None and any(_same_file(path, f) for f in inputs):
            raise InputError(
                f"{path} is one of the input files; alvh never writes its inputs", option=option
            )
    for option, path, suffix in (("trades", trades, ".csv"), ("plot", plot, ".png")):
        if path is not None and Path(path).suffix.lower() != suffix:
            raise InputError(f"must be a {suffix} file, got {str(path)!r}", option=option)
    if trades is not None and plot is not None and _same_file(trades, plot):
        raise InputError("{flag:trades} and {flag:plot} name the same file", option="plot")
    if sensitivity not in defaults.SENSITIVITIES:
        raise InputError(
            f"must be one of {', '.join(defaults.SENSITIVITIES)}, got {sensitivity!r}",
            option="sensitivity",
        )
    if resamples < defaults.MIN_RESAMPLES:
        raise InputError(
            f"must be at least {defaults.MIN_RESAMPLES}, got {resamples}", option="resamples"
        )
    chosen = parse_policies(policies)
    if fractional and "alvh_frac" not in chosen:
        chosen = parse_policies([*chosen, "alvh_frac"])
    layers = [(positions.load_rules_table(rules), str(rules))] if rules is not None else []
    effective = resolve(*layers)
    params = make_params(parse_entry_options(entry or []), option="entry")
    options: dict[str, Any] = {"start": start, "end": end}
    if no_profit_take:
        options["profit_take"] = False
    for key, value in options.items():
        if value is not None:
            try:
                params = make_params({key: value}, base=params)
            except InputError as exc:
                raise InputError(exc.message, option=key) from None
    grid = experiments.parse_grid(sweep, params, effective) if sweep else None
    if walk_forward and grid is None:
        raise InputError(
            "{flag:walk_forward} chooses among a grid: give it {flag:sweep} key=v1,v2",
            option=WALK,
        )
    if trades is not None and grid is not None:
        raise InputError("{flag:trades} writes one run's trades, not a sweep's", option="trades")
    chosen_workers = workers is not None
    if workers is None:
        workers = sw.default_workers() if sw.has_module("joblib") else 1
    sw.require_backend(workers, dask)
    if dask is not None:
        sw.check_dask(dask, defaults.DASK_TIMEOUT)
    if plot is not None:
        out.require_matplotlib()
    frame = load_history(history)

    if walk_forward:
        target = experiments.parse_objective(
            objective or experiments.default_objective(chosen), chosen
        )
        with out.progress("walk-forward") as tick:
            wf = experiments.walk_forward(
                frame, effective, params, chosen, grid, target, train_days, test_days,
                workers, dask, tick,
            )  # fmt: skip
        out.emit_walk_forward(wf, chosen, fmt)
        if plot is not None:
            plots.plot_walk_forward(wf, chosen, plot)
        return wf
    if objective is not None:
        raise InputError(
            "{flag:objective} is what {flag:walk_forward} maximises; add {flag:walk_forward}",
            option=WALK,
        )
    if grid is not None:
        with out.progress(f"sweep of {len(grid)} points") as tick:
            results = experiments.run_sweep(
                frame, effective, params, chosen, grid, workers, dask, tick
            )
        out.emit_sweep(grid, results, chosen, fmt)
        if plot is not None:
            plots.plot_sweep(grid, results, chosen, plot)
        return results

    points: list[dict] = []
    labels: list[str] = []
    if sensitivity == "costs":
        points = experiments.cost_points(params)
    elif sensitivity == "model":
        labelled = experiments.model_points(params, effective)
        labels = [label for label, _ in labelled]
        points = [p for _, p in labelled]
    cost_row = model_rows = None
    with out.progress_bars() as bar, ThreadPoolExecutor(1) as pool:
        runs = None
        # On worker processes the sensitivity runs go on while this process runs the main
        # backtest: the thread only hands out tasks and waits.
        # a run without an alvh policy takes a fraction of a second: starting worker
        # processes for its sensitivity points would cost more than it saves
        cheap = not any(p in ALVH_POLICIES for p in chosen) and not chosen_workers
        if points and (workers > 1 or dask is not None) and not (cheap and dask is None):
            runs = pool.submit(
                experiments.sensitivity, frame, effective, params, chosen, points, workers,
                dask, bar(f"{len(points)} sensitivity runs"),
            )  # fmt: skip
        result = simulation.run_backtest(frame, effective, params, chosen, progress=bar("backtest"))
        if runs is not None:
            runs = runs.result()
        elif points:
            runs = experiments.sensitivity(
                frame, effective, params, chosen, points, 1, None,
                bar(f"{len(points)} sensitivity runs"),
            )  # fmt: skip
    if points:
        # the cost row: the run and every point that changes the half-spreads alone
        cost_row = {1.0: {p: result.summary[p].total_pnl for p in chosen}}
        for point, summaries in zip(points, runs, strict=True):
            if set(point) == {"spread_multiplier"}:
                m = point["spread_multiplier"] / params.spread_multiplier
                cost_row[m] = {p: summaries[p].total_pnl for p in chosen}
        if sensitivity == "model":
            mine = {p: result.summary[p] for p in chosen}
            model_rows = [("as run", {}, experiments.headline(mine))] + [
                (label, point, experiments.headline(summaries))
                for label, point, summaries in zip(labels, points, runs, strict=True)
            ]
    rep = analysis.report(result, seed, resamples, cost_row, model_rows)
    out.emit_backtest(rep, fmt)
    if trades is not None:
        out.write_trades(result, trades)
    if plot is not None:
        plots.plot_report(rep, plot)
    return rep


WALK = "walk_forward"


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
    make_params(table, path)  # errors name this file
    return dict(table)


def _same_file(a: Path | str, b: Path | str) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False
