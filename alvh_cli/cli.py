"""The ``alvh`` command: options → one library call (``alvh_cli.app``) → output → exit status.

Nothing else happens here: each command parses its options, calls its app function,
hands the typed result to ``alvh_cli.output`` and exits with the result's status. The
library names bad parameters by role; :data:`FLAGS` names them as this command line does.
Core modules are imported inside the commands so that ``alvh --help`` loads neither
numpy, scipy nor pandas.

Why one long module (about 900 lines): it is the command line's whole surface, thirteen
commands with every option's flag, default and help text where typer reads them; each
command's body is a few lines. Split by command, the shared options and the group's
error handling would have to be imported back into each part.
"""

from __future__ import annotations

import contextlib
import os
import sys
from enum import Enum
from pathlib import Path

import typer
from typer.core import TyperCommand, TyperGroup

from alvh_cli import __version__
from alvh_cli.app.backtest import defaults as backtest_defaults

# How the command line names each parameter the library reports bad input for (an
# InputError's ``option`` role, or ``{flag:role}`` in its message).
FLAGS = {
    "allow_expired": "--allow-expired",
    "asof": "--asof",
    "broker": "--broker",
    "changes": "--changes",
    "chain": "--chain",
    "dask": "--dask",
    "day": "--date",
    "end": "--end",
    "entry": "--entry",
    "events": "--events",
    "exports": "EXPORT",
    "force": "--force",
    "futures": "--futures",
    "history": "--history",
    "journal": "--journal",
    "layer": "--layer",
    "mark_time": "--mark-time",
    "no_quotes": "--no-quotes",
    "alternative": "--alternative",
    "fill": "--fill",
    "from_json": "--from-json",
    "order": "--order",
    "settle_spx": "--settle-spx",
    "settle_vix": "--settle-vix",
    "market": "--market",
    "objective": "--objective",
    "output": "--output",
    "plot": "--plot",
    "policies": "--policies",
    "position": "--position",
    "resamples": "--resamples",
    "rules": "--rules",
    "seed": "--seed",
    "sensitivity": "--sensitivity",
    "spx": "--spx",
    "spx_move": "--spx-move",
    "start": "--start",
    "sweep": "--sweep",
    "terminal": "plot",
    "test_days": "--test-days",
    "trades": "--trades",
    "train_days": "--train-days",
    "vix": "--vix",
    "vix_expiry": "--vix-expiry",
    "walk_forward": "--walk-forward",
    "frontier": "--frontier",
    "workers": "--workers",
}


def _flagged(errors):
    """Errors as the command line says them: each parameter named by its flag."""
    return [e.for_command_line(FLAGS) for e in errors]


# click's UsageError, whichever click typer runs on (its own copy from typer 0.26, which
# does not export the class; click itself before)
_USAGE_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


def _usage_line(exc, ctx, name: str = "alvh"):
    """A usage error (a mistyped option or command) as one line on stderr, and its exit
    status. An option missing its value comes from the parser without a context: the
    command's help is then the group's."""
    from alvh_cli.errors import printable

    if type(exc).__name__ == "NoArgsIsHelpError":  # `alvh` alone: the help, as it is
        raise exc
    where = exc.ctx or ctx
    path = where.command_path if where is not None else name
    said = exc.format_message().rstrip(".")
    print(printable(f"alvh: {said} (see {path} --help)"), file=sys.stderr)
    raise typer.Exit(exc.exit_code) from None


class _InOrder(TyperGroup):
    """The alvh group: commands listed in the order a trader reaches for them, and bad
    input turned into one line on stderr and exit status 2 inside the app, so that
    ``app`` run from a test (typer's CliRunner) exits as the ``alvh`` command does."""

    ORDER = (
        "check",
        "apply",
        "size-hedge",
        "plot",
        "review",
        "import",
        "price",
        "market",
        "signals",
        "calibrate",
        "backtest",
        "rules",
        "schema",
    )

    def list_commands(self, ctx):
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: self.ORDER.index(n) if n in self.ORDER else 99)

    def make_context(self, info_name, args, parent=None, **extra):
        try:  # the group's own options (alvh --bogus) are parsed here, before any command
            return super().make_context(info_name, args, parent=parent, **extra)
        except _USAGE_ERROR as exc:
            _usage_line(exc, None, info_name or "alvh")

    def invoke(self, ctx):
        from alvh_cli.errors import InputError, printable

        try:
            return super().invoke(ctx)
        except _USAGE_ERROR as exc:  # a mistyped option or command: one line too
            _usage_line(exc, ctx)
        except InputError as exc:
            if _state["debug"]:
                import traceback

                traceback.print_exc()
            print(printable(f"alvh: {exc.for_command_line(FLAGS)}"), file=sys.stderr)
            raise typer.Exit(2) from None
        except BrokenPipeError:  # the reader stopped reading (| head): see _reader_gone
            _reader_gone()
            raise typer.Exit(READER_GONE) from None


READER_GONE = 141
"""The exit status when the reader of stdout stopped reading before the end (``| head``):
the shell's status of a command that a broken pipe's SIGPIPE ended, as ``yes | head`` gives.
Not 1: a script reads 1 as "act", and the command could not say what to do."""


def _reader_gone() -> None:
    """stdout sent to the null device: its reader is gone, and Python's own flush at exit
    would fail again (a message, and exit status 120)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


class _BacktestCommand(TyperCommand):
    """``backtest --help`` ends with every ``--entry`` key, its meaning and its default,
    read from the parameter table when the help is shown (so ``alvh --help`` does not
    load the backtest, and the list cannot drift from what ``--entry`` accepts)."""

    def format_epilog(self, ctx, formatter) -> None:
        from alvh_cli.app.backtest import entry_keys

        rows = entry_keys()
        with formatter.section("--entry keys (key=value, or a TOML file's [backtest] table)"):
            formatter.write_dl(rows)
        super().format_epilog(ctx, formatter)


app = typer.Typer(
    cls=_InOrder,
    name="alvh",
    help=(
        "Adaptive Layered VIX Hedge: what to do today with your SPX iron condors.\n\n"
        "Examples:\n\n"
        "  alvh check positions.toml\n\n"
        "  alvh size-hedge positions.toml --position dec-ic\n\n"
        "  alvh check --format json book/*.toml --market today.toml | jq ."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": False, "ends_by_exit": False}
_held: list = []


def _keep_freed_memory() -> None:
    """glibc's malloc told to keep the memory a command frees (:mod:`alvh_cli.allocator`),
    in a process that ends with the command (:func:`run`) only."""
    if _state["ends_by_exit"]:
        from alvh_cli.allocator import keep_freed_memory

        keep_freed_memory()


def _hold(obj) -> None:
    """Keep ``obj`` until the process ends, where it ends by ``os._exit`` (:func:`run`): a
    command's results freed object by object on the way out cost a 1,000-file review
    0.15 s after its output was out, for nothing. In-process (a test, a library caller),
    nothing is kept."""
    if _state["ends_by_exit"]:
        _held.append(obj)


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


FILES = typer.Argument(..., help="Position files (TOML).", show_default=False)
MARKET = typer.Option(
    None, "--market", "-m", help="Market snapshot TOML; overrides each file's [market]."
)
RULES = typer.Option(
    None, "--rules", "-r", help="TOML with [rules] overrides; wins over each file's [rules]."
)
FORMAT = typer.Option(Format.table, "--format", "-f", help="Output format.")
HISTORY = typer.Option(
    None,
    "--history",
    help="Daily history CSV: date,spx,vix[,vix3m,advances,declines]; CBOE VIX_History.csv "
    "and Yahoo files too (repeat to merge). Turns the signals on.",
)
EVENTS = typer.Option(None, "--events", help="Your own macro dates CSV: date,event[,note].")
ALLOW_EXPIRED = typer.Option(
    False, "--allow-expired", help="Price legs past settlement at intrinsic."
)
CHAIN = typer.Option(
    None,
    "--chain",
    help="Option-chain snapshot (Cboe EOD or expiry,strike,type,bid,ask CSV; Parquet); repeat "
    "for more. Fitted onto the market: SVI vols for unquoted SPX strikes, parity forwards.",
)
PER_POSITION_HEDGES = typer.Option(
    False,
    "--per-position-hedges",
    help="Size each position's VIX hedge on its own, not one program for the positions due "
    "a hedge layer on the same snapshot and condor expiry (the book).",
)


def _now():
    """The clock, read here at the edge and passed in (the staleness check is pure)."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def _print_problems(warnings=(), errors=()) -> None:
    """Warnings and bad files' errors on stderr after the results (with --debug, each
    error's traceback first)."""
    from alvh_cli.output.common import print_problems

    if _state["debug"]:
        import traceback

        for exc in errors:
            traceback.print_exception(exc)
    print_problems(warnings, _flagged(errors))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"alvh {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback on errors."),
) -> None:
    _state["debug"] = debug


@app.command(short_help="Each leg's price, vol and Greeks; each mark.")
def price(
    files: list[Path] = FILES,
    market: Path | None = MARKET,
    fmt: Format = FORMAT,
    allow_expired: bool = ALLOW_EXPIRED,
    chain: list[Path] | None = CHAIN,
) -> None:
    """Every leg's price, volatility and Greeks, and each position's mark.

    With --chain, also each fitted expiry: forward, discount, fit error.
    Example: alvh price sample_positions/calm.toml --format json
    """
    from alvh_cli.app.price import price as run_price
    from alvh_cli.output.price import emit_price

    run = run_price(
        files, market=market, allow_expired=allow_expired, chains=chain or (), now=_now()
    )
    emit_price(run.values, fmt.value, run.warnings, run.marks, run.errors)
    _print_problems(run.warnings, run.errors)
    raise typer.Exit(run.exit_status)


@app.command(short_help="What to do today with each position.")
def check(
    files: list[Path] = FILES,
    market: Path | None = MARKET,
    rules: Path | None = RULES,
    history: list[Path] | None = HISTORY,
    events: list[Path] | None = EVENTS,
    fmt: Format = FORMAT,
    allow_expired: bool = ALLOW_EXPIRED,
    chain: list[Path] | None = CHAIN,
    plot: Path | None = typer.Option(
        None,
        "--plot",
        help="Also draw each position's risk graph (alvh plot) to DIR/<file>-<id>.png "
        "(needs matplotlib: pip install 'alvh[plot]').",
        metavar="DIR",
    ),
    per_position_hedges: bool = PER_POSITION_HEDGES,
) -> None:
    """What to do today: layers, hedges, conversions, unwinds, profit takes.

    A bad file is reported on its own line after the others' results.
    Exit status: 0 nothing to do, 1 an action is recommended, 2 bad input (a bad file
    among good ones too: 2 wins over 1).
    Example: alvh check sample_positions/put_tested_1_6x.toml
    """
    from alvh_cli import compat
    from alvh_cli.output.common import collector_paused

    if plot is not None:
        compat.require("HAS_MATPLOTLIB", "plot")  # before the work, not after it
    _keep_freed_memory()
    with collector_paused():  # loading and checking too: see collector_paused
        from alvh_cli.app.check import check as run_check
        from alvh_cli.output.check import emit_check

        run = run_check(
            files,
            market=market,
            rules=rules,
            history=history,
            events=events or (),
            allow_expired=allow_expired,
            chains=chain or (),
            now=_now(),
            graphs=plot is not None,
            per_position_hedges=per_position_hedges,
            stream=fmt is Format.json,  # each check freed once its record is written
        )
        if run.loaded or fmt is Format.json:
            emit_check(run.result, fmt.value, run.warnings, _flagged(run.errors), run.marks)
    if run.graphs:  # with the collector: matplotlib's figures hold cycles
        from alvh_cli.output.plots import write_pngs

        write_pngs(run.graphs, plot)
    _print_problems(run.warnings, run.errors)
    _hold(run)
    raise typer.Exit(run.exit_status)


@app.command("apply", short_help="Record a fill: the file and the journal follow the order.")
def apply_cmd(
    file: Path = typer.Argument(..., help="Position file (TOML).", show_default=False),
    position: str = typer.Option(..., "--position", "-p", help="Position id.", show_default=False),
    fill: float | None = typer.Option(
        None, "--fill", help="Net price per unit you got, as the order's limit (>= 0)."
    ),
    order: int | None = typer.Option(
        None, "--order", min=1, help="Which of the position's orders today (1, 2, ...)."
    ),
    alternative: str | None = typer.Option(
        None,
        "--alternative",
        help="Follow this Layer 3 alternative instead of the one chosen (its name, or the "
        "start of it: 'roll put').",
    ),
    from_json: Path | None = typer.Option(
        None,
        "--from-json",
        help="The orders of a saved `alvh check --format json` (refused if the position "
        "changed since).",
    ),
    settle_spx: float | None = typer.Option(
        None, "--settle-spx", help="Close the legs expired by asof: the SPX settlement value."
    ),
    settle_vix: float | None = typer.Option(
        None, "--settle-vix", help="With --settle-spx or alone: the VIX settlement (VRO)."
    ),
    market: Path | None = MARKET,
    rules: Path | None = RULES,
    history: list[Path] | None = HISTORY,
    events: list[Path] | None = EVENTS,
    chain: list[Path] | None = CHAIN,
    journal: Path | None = typer.Option(
        None, "--journal", help="Decision journal. Default: journal.sqlite in your data dir."
    ),
    no_journal: bool = typer.Option(False, "--no-journal", help="Do not record the execution."),
    fmt: Format = FORMAT,
) -> None:
    """Apply a recommended order at your fill: legs closed, added or rolled in FILE (the old
    file kept as FILE.~N~), realised P&L recorded, the execution journalled beside the
    recommendation it followed (fill vs limit, slippage).

    Example: alvh apply book/dec.toml -p dec-ic --fill 39.45
    """
    from alvh_cli.app.apply import apply as run_apply
    from alvh_cli.app.review import default_journal
    from alvh_cli.output.apply import emit_apply

    run = run_apply(
        file,
        position=position,
        fill=fill,
        order=order,
        alternative=alternative,
        from_json=from_json,
        settle_spx=settle_spx,
        settle_vix=settle_vix,
        market=market,
        rules=rules,
        history=history,
        events=events or (),
        chains=chain or (),
        now=_now(),
        journal_path=None if no_journal else (journal or default_journal()),
    )
    emit_apply(run, fmt.value)


@app.command("size-hedge", short_help="The working behind a VIX hedge.")
def size_hedge(
    file: Path = typer.Argument(..., help="Position file (TOML).", show_default=False),
    position: str | None = typer.Option(
        None, "--position", "-p", help="Position id (default: each)."
    ),
    layer: int | None = typer.Option(
        None, "--layer", min=1, max=2, help="Size this hedge layer whatever the mark calls for."
    ),
    spx_move: float | None = typer.Option(
        None, "--spx-move", help="Move the old stress rung: SPX move, e.g. -0.05."
    ),
    vix_expiry: str | None = typer.Option(
        None, "--vix-expiry", help="Only this VIX expiry for candidates (YYYY-MM-DD)."
    ),
    market: Path | None = MARKET,
    rules: Path | None = RULES,
    history: list[Path] | None = HISTORY,
    events: list[Path] | None = EVENTS,
    fmt: Format = FORMAT,
    allow_expired: bool = ALLOW_EXPIRED,
    chain: list[Path] | None = CHAIN,
) -> None:
    """The working behind a hedge: the scenario set, candidate VIX call spreads, the
    counts that cut the position's CVaR most per dollar, and why.

    Without options it shows exactly what `alvh check` decides.
    Example: alvh size-hedge sample_positions/put_tested_1_6x.toml
    """
    from alvh_cli.app.size_hedge import size_hedge as run_size_hedge
    from alvh_cli.output.size_hedge import emit_size_hedge

    run = run_size_hedge(
        file,
        position=position,
        layer=layer,
        spx_move=spx_move,
        vix_expiry=vix_expiry,
        market=market,
        rules=rules,
        history=history,
        events=events or (),
        allow_expired=allow_expired,
        chains=chain or (),
        now=_now(),
    )
    emit_size_hedge(run.checks, fmt.value)
    _print_problems(run.warnings)


@app.command("market", short_help="The day's market snapshot from option chains.")
def market_cmd(
    chain: list[Path] = typer.Option(
        ..., "--chain", help="Option-chain snapshot (CSV or Parquet); repeat for more."
    ),
    futures: Path | None = typer.Option(
        None, "--futures", help="VIX futures settlements CSV: expiry,price."
    ),
    vix: float | None = typer.Option(
        None, "--vix", help="VIX level. Default: the chain's VIX options' underlying mid."
    ),
    spx: float | None = typer.Option(None, "--spx", help="SPX level. Default: the chain's mid."),
    asof: str | None = typer.Option(
        None, "--asof", help="Snapshot time, ISO date or date-time. Default: the chain's."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the TOML here (atomically). Default: stdout."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing --output file."),
    no_quotes: bool = typer.Option(
        False, "--no-quotes", help="Leave the chain's quotes out (a smaller file, read faster)."
    ),
) -> None:
    """Fit option chains and write the day's market snapshot (TOML) for --market.

    Example: alvh market --chain spx_eod.csv --futures vx.csv --vix 18.2 -o today.toml
    """
    from alvh_cli.app.market import market as run_market
    from alvh_cli.output.market import emit_market

    run = run_market(
        chain,
        futures=futures,
        vix=vix,
        spx=spx,
        asof=asof,
        quotes=not no_quotes,
        output=output,
        force=force,
        now=_now(),
    )
    emit_market(run.text, output)
    _print_problems(run.notes.get("warnings", ()))


@app.command(short_help="Risk graph: P&L against SPX, as held and with the change.")
def plot(
    file: Path = typer.Argument(..., help="Position file (TOML).", show_default=False),
    position: str | None = typer.Option(
        None, "--position", "-p", help="Position id (default: each)."
    ),
    day: str | None = typer.Option(
        None,
        "--date",
        help="Date of the middle curve, YYYY-MM-DD (default: halfway to the expiry).",
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write a PNG here (needs matplotlib). Default: draw in the terminal (plotext).",
    ),
    market: Path | None = MARKET,
    rules: Path | None = RULES,
    history: list[Path] | None = HISTORY,
    events: list[Path] | None = EVENTS,
    allow_expired: bool = ALLOW_EXPIRED,
) -> None:
    """P&L in dollars from entry prices against SPX: today, at a date and at expiry, as
    held and with what alvh check recommends applied; breakevens and short strikes marked.

    VIX moves with SPX by the scenario model's vix_beta (with its crash floor); the SPX
    smile keeps its shape in moneyness. Both renderings are the 'plot' extra:
    pip install 'alvh[plot]'.
    Example: alvh plot sample_positions/put_tested_1_6x.toml -o dec-1.png
    """
    from alvh_cli.app.plot import plot as run_plot
    from alvh_cli.output import plots

    run = run_plot(
        file,
        position=position,
        day=day,
        png=output,
        market=market,
        rules=rules,
        history=history,
        events=events or (),
        allow_expired=allow_expired,
        now=_now(),
    )
    if output is None:
        plots.print_terminal(run.graphs)
    else:
        plots.draw_png(run.graphs[0], output)
    _print_problems(run.warnings)


@app.command("rules", short_help="The rules in force and where each came from.")
def rules_cmd(
    files: list[Path] | None = typer.Argument(None, help="Position files whose [rules] apply."),
    rules: Path | None = RULES,
    fmt: Format = FORMAT,
) -> None:
    """The effective rules, their defaults and where each value came from.

    Example: alvh rules --rules my_rules.toml
    """
    from alvh_cli.app.rules import rules as run_rules
    from alvh_cli.output.rules import emit_rules

    emit_rules(run_rules(files or [], rules), fmt.value)


@app.command(short_help="The whole book by urgency, with a journal.")
def review(
    books: list[Path] = typer.Argument(
        ..., help="Position files, or directories of them (their *.toml).", show_default=False
    ),
    market: Path | None = MARKET,
    rules: Path | None = RULES,
    history: list[Path] | None = HISTORY,
    events: list[Path] | None = EVENTS,
    journal: Path | None = typer.Option(
        None,
        "--journal",
        help="Decision journal (SQLite). Default: journal.sqlite in your user data directory.",
    ),
    no_journal: bool = typer.Option(
        False, "--no-journal", help="Do not record this review (--changes still reads the journal)."
    ),
    changes: bool = typer.Option(
        False, "--changes", help="What changed per position since the last review of this book."
    ),
    fmt: Format = FORMAT,
    allow_expired: bool = ALLOW_EXPIRED,
    chain: list[Path] | None = CHAIN,
    per_position_hedges: bool = PER_POSITION_HEDGES,
) -> None:
    """The whole book, most urgent first: totals, hedge spend against budget, recommendations.

    Each run is appended to the decision journal, unless a file was bad (the
    review of part of the book is not recorded). --format csv: one row per
    recommendation (with --changes, one row per change). A bad file is reported
    on its own line after the others' results.
    Exit status: 0 nothing to do, 1 an action is recommended, 2 bad input (a bad file
    among good ones too: 2 wins over 1).
    Example: alvh review book/ --market today.toml --history spx_vix.csv --changes
    """
    from dataclasses import replace

    from alvh_cli.output.common import collector_paused

    _keep_freed_memory()
    with collector_paused():  # loading and checking too: see collector_paused
        from alvh_cli.app.review import default_journal
        from alvh_cli.app.review import review as run_review
        from alvh_cli.output.common import compact_stdout
        from alvh_cli.output.review import emit_review, encoded_row

        path = journal if journal is not None else default_journal()
        # compact JSON: each row's record made with its check, by whichever process made it
        records = encoded_row if fmt is Format.json and compact_stdout() else None
        run = run_review(
            books,
            market=market,
            rules=rules,
            history=history,
            events=events or (),
            journal_path=None if no_journal and not changes else path,
            record=not no_journal,
            changes=changes,
            allow_expired=allow_expired,
            chains=chain or (),
            now=_now(),
            argv=sys.argv[1:],
            per_position_hedges=per_position_hedges,
            records=records,
        )
        if run.review.rows or fmt is Format.json:
            emit_review(replace(run, errors=_flagged(run.errors)), fmt.value)
    _print_problems(run.warnings, run.errors)
    _hold(run)
    raise typer.Exit(run.exit_status)


class Broker(str, Enum):
    auto = "auto"
    tastytrade = "tastytrade"
    thinkorswim = "thinkorswim"
    ibkr = "ibkr"
    generic = "generic"


@app.command("import", short_help="Broker exports → a position file.")
def import_cmd(
    exports: list[Path] = typer.Argument(
        ..., help="Broker export files (CSV or Flex XML).", show_default=False
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Position file to write.", show_default=False
    ),
    broker: Broker = typer.Option(
        Broker.auto, "--broker", help="Whose export: auto-detected from the headers by default."
    ),
    market: Path | None = typer.Option(
        None, "--market", "-m", help="Copy this file's [market] into the position file."
    ),
    journal: Path | None = typer.Option(
        None,
        "--journal",
        help="Decision journal whose recommended VIX spreads become hedge layers. "
        "Default: journal.sqlite in your user data directory.",
    ),
    force: bool = typer.Option(False, "--force", help="Replace the output file if it exists."),
    mark_time: str | None = typer.Option(
        None,
        "--mark-time",
        help="When exports that state no time (tastytrade positions) were taken, for their "
        "marks: 2026-11-24T15:45 (New York) or a date.",
    ),
) -> None:
    """SPX iron condors and the VIX hedges alvh recommended, from broker exports.

    Reads tastytrade (positions, transactions), thinkorswim (Position or
    Account Statement), Interactive Brokers (Flex query XML/CSV, Activity
    Statement) or a CSV with an OSI symbol column. Legs that form no condor,
    and VIX spreads no journal entry recommended, are listed, never guessed.
    Exit status: 0 everything imported, 1 legs left over, 2 bad input (an export that
    cannot be read among good ones too: the others are imported, it is named on its line).
    Example: alvh import positions.csv --journal journal.sqlite -o book.toml
    """
    from alvh_cli.app.importer import import_exports
    from alvh_cli.app.review import default_journal

    run = import_exports(
        exports,
        output=output,
        broker=broker.value,
        market=market,
        journal_path=journal if journal is not None else default_journal(),
        journal_given=journal is not None,
        force=force,
        mark_time=mark_time,
    )
    if run.summary:
        typer.echo(run.summary)
    _print_problems(errors=run.errors)
    if run.error is not None:
        raise run.error
    raise typer.Exit(run.exit_status)


# The backtest's options (their defaults are alvh_cli.backtest.defaults', through the app).
BACKTEST_HISTORY = typer.Option(
    None,
    "--history",
    help="Daily history CSV (date,spx,vix; CBOE VIX_History.csv; Yahoo ^GSPC); repeat to "
    "merge. Default: the embedded SPX/VIX closes 2014-2018.",
)
POLICIES = typer.Option(
    ",".join(backtest_defaults.DEFAULT_POLICIES),
    "--policies",
    help="Comma-separated policies: hold, stop2x, stop3x, alvh, alvh_frac.",
)
ENTRY = typer.Option(
    None,
    "--entry",
    "-e",
    help="Entry rule, model or cost parameter key=value (repeat or comma-separate), "
    "or a TOML file with a [backtest] table. The keys are listed below.",
)
NO_PROFIT_TAKE = typer.Option(
    False, "--no-profit-take", help="Turn the shared profit take off for every policy."
)
START = typer.Option(
    None, "--start", help="First entry date YYYY-MM-DD (the warm-up comes from before it)."
)
END = typer.Option(None, "--end", help="Last date YYYY-MM-DD.")
TRADES = typer.Option(None, "--trades", help="Write every trade to this CSV.")
BACKTEST_PLOT = typer.Option(
    None,
    "--plot",
    help="Write a PNG (needs matplotlib): equity with drawdowns, P&L histograms and the "
    "stress windows; a sweep's heat map; a walk-forward's test windows.",
)
FRACTIONAL = typer.Option(
    False,
    "--fractional",
    help="Add alvh_frac: every adjustment in fractions of a contract (the method free of "
    "rounding), beside the whole-contract result.",
)
SENSITIVITY = typer.Option(
    backtest_defaults.SENSITIVITY,
    "--sensitivity",
    help="costs: total P&L at 0.5x and 2x the half-spreads (two more runs); model: also "
    "the old SPX slope, flat VIX option vol and kappa halved and doubled; none.",
)
SEED = typer.Option(backtest_defaults.SEED, "--seed", help="Seed of the bootstrap intervals.")
RESAMPLES = typer.Option(backtest_defaults.RESAMPLES, "--resamples", help="Bootstrap resamples.")
SWEEP = typer.Option(
    None,
    "--sweep",
    help="key=v1,v2,... a parameter or rule to vary (repeat for a grid): one row per point.",
)
WORKERS = typer.Option(
    None, "--workers", help="Local processes for sweeps and sensitivity runs (default: cores)."
)
DASK = typer.Option(
    None, "--dask", help="Run sweeps on this Dask scheduler (e.g. tcp://host:8786)."
)
WALK_FORWARD = typer.Option(
    False,
    "--walk-forward",
    help="Choose the --sweep point on each train window, report only the next test window.",
)
TRAIN_DAYS = typer.Option(
    backtest_defaults.TRAIN_DAYS, "--train-days", help="Walk-forward train window, days."
)
TEST_DAYS = typer.Option(
    backtest_defaults.TEST_DAYS, "--test-days", help="Walk-forward test window, days."
)
FRONTIER = typer.Option(
    False,
    "--frontier",
    help="Run alvh at each risk_aversion from 0 to 1 (and CVaR limits of 1-3x the credit): "
    "total P&L against 5% CVaR per trade beside hold and the stops, with 95% intervals.",
)
OBJECTIVE = typer.Option(
    None,
    "--objective",
    help="What the walk-forward maximises, POLICY.METRIC (default "
    f"alvh.{backtest_defaults.OBJECTIVE_METRIC}; max_drawdown is minimised); "
    "POLICY.METRIC@OTHER: among the points whose 5% CVaR is no worse than OTHER's.",
)


@app.command(short_help="ALVH vs 2x/3x stops and hold, on history.", cls=_BacktestCommand)
def backtest(
    history: list[Path] | None = BACKTEST_HISTORY,
    rules: Path | None = RULES,
    policies: str = POLICIES,
    entry: list[str] | None = ENTRY,
    no_profit_take: bool = NO_PROFIT_TAKE,
    start: str | None = START,
    end: str | None = END,
    fmt: Format = FORMAT,
    trades: Path | None = TRADES,
    plot: Path | None = BACKTEST_PLOT,
    fractional: bool = FRACTIONAL,
    sensitivity: str = SENSITIVITY,
    seed: int = SEED,
    resamples: int = RESAMPLES,
    sweep: list[str] | None = SWEEP,
    workers: int | None = WORKERS,
    dask: str | None = DASK,
    walk_forward: bool = WALK_FORWARD,
    train_days: int = TRAIN_DAYS,
    test_days: int = TEST_DAYS,
    objective: str | None = OBJECTIVE,
    frontier: bool = FRONTIER,
) -> None:
    """Backtest ALVH layers against 2x/3x stops and hold-to-expiry on the same weekly condors.

    Option prices are modelled from VIX, not historical quotes.
    Example: alvh backtest --policies hold,alvh --entry contracts=10 --plot report.png
    """
    from alvh_cli.app.backtest import backtest as run_backtest
    from alvh_cli.output import backtest as out
    from alvh_cli.output import experiments

    _keep_freed_memory()
    run = run_backtest(
        history,
        rules=rules,
        policies=policies,
        entry=entry or (),
        profit_take=not no_profit_take,
        start=start,
        end=end,
        trades=trades,
        plot=plot,
        fractional=fractional,
        sensitivity=sensitivity,
        seed=seed,
        resamples=resamples,
        sweep=sweep or (),
        workers=workers,
        dask=dask,
        walk_forward=walk_forward,
        train_days=train_days,
        test_days=test_days,
        objective=objective,
        frontier=frontier,
        progress=out.progress_bars,
    )
    experiments.emit_run(run.outcome, fmt.value)
    out.write_files(run.outcome, trades=trades, plot=plot)
    _hold(run)
    raise typer.Exit(run.exit_status)


@app.command(short_help="The regime signals from a history file.")
def signals(
    history: list[Path] = typer.Option(..., "--history", help="Daily history CSV(s)."),
    market: Path | None = typer.Option(
        None, "--market", "-m", help="Market snapshot: asof, VIX and the front future."
    ),
    rules: Path | None = RULES,
    events: list[Path] | None = EVENTS,
    fmt: Format = FORMAT,
) -> None:
    """Each signal: value, threshold, active or not, and as of which date; the regime.

    Example: alvh signals --history spx_vix.csv --market today.toml
    """
    from alvh_cli.app.signals import signals as run_signals
    from alvh_cli.output.signals import emit_signals

    report = run_signals(history, market=market, rules=rules, events=events or (), now=_now())
    emit_signals(report, fmt.value)


@app.command(short_help="Estimate vix_beta and vix_term_kappa.")
def calibrate(
    history: list[Path] = typer.Option(..., "--history", help="Daily history CSV(s)."),
    fmt: Format = FORMAT,
) -> None:
    """Estimate vix_beta (and vix_term_kappa where futures columns exist) from history.

    Prints the fit and a [rules] snippet ready to paste.
    Example: alvh calibrate --history spx_vix.csv
    """
    from alvh_cli.app.signals import calibrate as run_calibrate
    from alvh_cli.output.signals import emit_calibration

    emit_calibration(run_calibrate(history), fmt.value)


@app.command(short_help="JSON Schema of the position file.")
def schema() -> None:
    """Print the JSON Schema of the position file (for editor validation).

    Example: alvh schema > alvh.schema.json
    """
    import json

    from alvh_cli.app.schema import schema as run_schema

    typer.echo(json.dumps(run_schema(), indent=2))


def main() -> None:
    """The command line in-process. Bad input is handled inside the app
    (``_InOrder.invoke``): one line on stderr, exit status 2. Ends in SystemExit like
    any click program; :func:`run` is the console entry.
    """
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)


# OpenBLAS reads these, in this order, when numpy loads it.
_BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def single_threaded_blas(environ=None) -> bool:
    """Ask OpenBLAS for one thread, unless the user chose a number; True if it did.

    numpy's OpenBLAS starts a worker thread per core when numpy is imported,
    which cost ``alvh check`` more wall time and CPU than its whole check
    (benchmarks/startup.py measures it), while alvh's arrays are far too small
    for threaded BLAS to pay. OpenBLAS reads the variable when it is loaded,
    so this must run before the first ``import numpy``: :func:`run` calls it
    first, and cli.py imports numpy only inside commands.
    """
    environ = os.environ if environ is None else environ
    if any(var in environ for var in _BLAS_THREAD_VARS):
        return False
    environ["OPENBLAS_NUM_THREADS"] = "1"
    return True


def run() -> None:
    """Console entry point (``alvh``, ``python -m alvh_cli``): :func:`main` as a process.

    Two start-up costs that a short command need not pay, each measured in
    benchmarks/startup.py: OpenBLAS's threads (see :func:`single_threaded_blas`)
    and the interpreter's teardown, which unloads numpy, rich and typer module
    by module after the output is out (and frees a big command's results object by
    object: :func:`_hold`). Once :func:`main` has finished and stdout and stderr are
    flushed, the exit handlers Python would run are run here
    (:func:`_exit_handlers_run`) and the process ends with ``os._exit`` -- unless a
    thread is still to be joined or the handlers cannot be run from here.

    ``os._exit`` skips finalisers too, so nothing alvh writes may wait for
    them: the journal commits each review in an explicit transaction and
    closes its connection in a ``finally``; reports are written under ``with``
    and renamed into place before their command returns. If a stream cannot be
    flushed (a closed pipe), or on an uncaught exception or a SystemExit
    message, Python's normal exit runs, with its usual report.
    """
    single_threaded_blas()
    _state["ends_by_exit"] = True
    _closed_streams_to_nothing()
    try:
        main()
        code = 0
    except SystemExit as exc:
        if exc.code is not None and not isinstance(exc.code, int):
            raise  # a message for Python to print
        code = exc.code or 0
    try:
        if not _flushed() or not _exit_handlers_run():  # a full disk: Python's exit says so
            sys.exit(code)
    except BrokenPipeError:  # the reader of stdout stopped before its last bytes
        _reader_gone()
        sys.exit(READER_GONE)
    os._exit(code)


def _flushed() -> bool:
    """stdout and stderr flushed; False where one cannot be (a full disk, a closed stream).
    A broken pipe (the reader gone) is raised: it has an exit status of its own."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError):
        return False
    return True


def _closed_streams_to_nothing() -> None:
    """A standard stream the caller closed (``alvh check x >&-``: Python then has None for
    it) written to the null device instead: what was asked is not to see it, and the exit
    status still says what to do; a None stream was a traceback at the first print."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


def _exit_handlers_run() -> bool:
    """Run here what Python's exit runs before it unloads the modules -- its ``atexit``
    handlers: True once they have run (or there were none), False where the normal exit
    must do it (a thread still to be joined, or no way to run them from here).

    Handlers are registered by multiprocessing and joblib's worker pools, which are shut
    down there, by logging, by weakref.finalize. ``alvh check`` on a file with no hedge to
    size has none; sizing one loads scipy.optimize, which loads logging: its exit flushes
    the log handlers, and the normal exit then spent 0.1 s (a 1,000-position check) to
    0.2 s (a 1,000-file review) unloading the modules and freeing the results."""
    import atexit
    import threading

    if threading.active_count() > 1:
        return False
    count = getattr(atexit, "_ncallbacks", None)  # CPython's; elsewhere assume work
    if count is not None and count() == 0:
        return True
    run_all = getattr(atexit, "_run_exitfuncs", None)
    if count is None or run_all is None:
        return False
    run_all()  # each in turn, last registered first; an error is printed, as on exit
    return _flushed()
