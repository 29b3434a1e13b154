"""``alvh backtest``: options → ``engine.run_backtest`` → report, trades CSV, equity plot.

The Typer command in ``cli.py`` hands its parsed options to
``backtest_command``; this module parses the parameters (``--entry`` values
and TOML files), reads the history and checks the output paths;
``output/backtest.py`` prints the report and writes the trades CSV and the PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alvh_cli.backtest import engine as bt
from alvh_cli.errors import InputError


def backtest_command(
    history: Sequence[Path | str] | None = None,
    rules: Path | str | None = None,
    policies: str = ",".join(bt.DEFAULT_POLICIES),
    entry: Sequence[str] | None = None,
    no_profit_take: bool = False,
    start: str | None = None,
    end: str | None = None,
    fmt: str = "table",
    trades: Path | str | None = None,
    plot: Path | str | None = None,
) -> bt.BacktestResult:
    """Run the backtest the options describe, print it in ``fmt`` and write the files asked for."""
    from alvh_cli.inputs import positions
    from alvh_cli.method.rules import resolve
    from alvh_cli.output.backtest import emit_backtest, plot_equity, write_trades

    inputs = [
        *(history or []),
        *([rules] if rules is not None else []),
        *(e for e in entry or [] if Path(e).suffix == ".toml"),
    ]
    for option, out in (("--trades", trades), ("--plot", plot)):
        if out is not None and any(_same_file(out, f) for f in inputs):
            raise InputError(
                f"{out} is one of the input files; alvh never writes its inputs", option
            )
    for option, out, suffix in (("--trades", trades, ".csv"), ("--plot", plot, ".png")):
        if out is not None and Path(out).suffix.lower() != suffix:
            raise InputError(f"must be a {suffix} file, got {str(out)!r}", option)
    if trades is not None and plot is not None and _same_file(trades, plot):
        raise InputError("--trades and --plot name the same file", "--plot")
    chosen = bt.parse_policies(policies)
    layers = [(positions.load_rules_table(rules), str(rules))] if rules is not None else []
    effective = resolve(*layers)
    params = bt.make_params(parse_entry_options(entry or []), "--entry")
    options: dict[str, Any] = {"start": start, "end": end}
    if no_profit_take:
        options["profit_take"] = False
    for key, value in options.items():
        if value is not None:
            try:
                params = bt.make_params({key: value}, base=params)
            except InputError as exc:
                raise InputError(exc.message, f"--{key.replace('_', '-')}") from None
    frame = load_history(history)
    result = bt.run_backtest(frame, effective, params, chosen)
    emit_backtest(result, fmt)
    if trades is not None:
        write_trades(result, trades)
    if plot is not None:
        plot_equity(result, plot)
    return result


def load_history(paths: Sequence[Path | str] | None):
    """The user's history files (any layout ``history.read_history`` reads), else the embedded
    2014–2018 data."""
    if not paths:
        return bt.default_history()
    from alvh_cli.inputs.history import read_history

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
                raise InputError(f"expected key=value, got {pair!r}", "--entry")
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
    bt.make_params(table, path)  # errors name this file
    return dict(table)


def _same_file(a: Path | str, b: Path | str) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False
