"""``alvh check``: what to do today with each position of some files.

Loads the book (``alvh_cli.inputs.book``: a bad file is reported, the rest still run),
reads the regime (:mod:`alvh_cli.app.context`) and checks every position
(:func:`alvh_cli.method.check.check_book`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alvh_cli.errors import InputError, InputWarning
from alvh_cli.method.check import CheckResult
from alvh_cli.model.book import LoadedFile, marks_of


@dataclass(frozen=True)
class CheckRun:
    """One check: the ``result`` of the good files, the files as loaded, the input
    warnings and each bad file's error; ``graphs`` (risk graphs, one per position) when
    they were asked for."""

    result: CheckResult
    loaded: tuple[LoadedFile, ...]
    warnings: tuple[InputWarning, ...] = ()
    errors: tuple[InputError, ...] = ()
    graphs: tuple = ()

    @property
    def exit_status(self) -> int:
        """2 when a file was bad, else 1 when a position needs action, else 0."""
        return 2 if self.errors else 1 if self.result.needs_action else 0

    @property
    def marks(self) -> list:
        """The broker's marks on the legs held and what became of them: (file, ``MarkUse``)."""
        return marks_of(self.loaded)


def check(
    files: Sequence[Path | str],
    *,
    market: Path | str | None = None,
    rules: Path | str | None = None,
    history: Sequence[Path | str] | None = None,
    events: Sequence[Path | str] = (),
    allow_expired: bool = False,
    chains: Sequence[Path | str] = (),
    now: datetime | None = None,
    graphs: bool = False,
    per_position_hedges: bool = False,
    stream: bool = False,
) -> CheckRun:
    """Check every position of ``files``.

    ``market`` and ``rules`` files override each file's own tables; ``history`` turns the
    signals on (and feeds the scenario set); ``events`` adds macro dates to the shipped
    calendar; ``chains`` are option chains fitted onto the snapshot; ``now`` (the clock)
    flags a stale snapshot; ``graphs`` also draws each position's risk graph;
    ``per_position_hedges`` gives each position due a hedge layer its own program instead
    of one for the book (:mod:`alvh_cli.method.book_hedge`); ``stream`` checks each
    position as ``result.positions`` is read, once (``alvh_cli.method.check.CheckStream``:
    for a writer that streams the records; ``exit_status`` after it is read).
    """
    from alvh_cli.app.context import HistoryRead, regime_context, while_parsing
    from alvh_cli.inputs import book
    from alvh_cli.method import check as method
    from alvh_cli.model.book import warnings_of

    read = HistoryRead(history or ())
    loaded, errors = book.load_book_tolerant(
        files,
        market=market,
        rules=rules,
        allow_expired=allow_expired,
        now=now,
        chains=chains,
        meanwhile=while_parsing(read),
    )
    regimes, closes, notes = regime_context(loaded, read, events)
    result = method.check_book(
        loaded,
        regimes,
        history=closes,
        book_hedges=not per_position_hedges,
        stream=stream and not graphs,
    )
    drawn: tuple = ()
    if graphs and loaded:
        from alvh_cli.method.risk_graph import graphs_for
        from alvh_cli.model.valuation import value_book

        drawn = tuple(graphs_for(value_book(loaded), result.positions))
    return CheckRun(result, tuple(loaded), (*warnings_of(loaded), *notes), tuple(errors), drawn)
