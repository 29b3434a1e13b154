"""``alvh plot``: each position's risk graph, as held and with what ``check`` recommends.

The graphs are :func:`alvh_cli.method.risk_graph.risk_graphs`; drawing them (in the
terminal or as a PNG) is ``alvh_cli.output.plots``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from alvh_cli.errors import InputError, InputWarning


@dataclass(frozen=True)
class PlotRun:
    """The risk graphs (one per position drawn) and the input warnings."""

    graphs: tuple
    warnings: tuple[InputWarning, ...] = ()


def plot(
    file: Path | str,
    *,
    position: str | None = None,
    day: date | str | None = None,
    png: Path | str | None = None,
    market: Path | str | None = None,
    rules: Path | str | None = None,
    history: Sequence[Path | str] | None = None,
    events: Sequence[Path | str] = (),
    allow_expired: bool = False,
    now: datetime | None = None,
) -> PlotRun:
    """The risk graphs of the positions of ``file`` (or of ``position``), the middle curve
    at ``day`` (default: halfway to the expiry).

    ``png`` is the PNG file the caller will draw one graph to (it must end in .png, and
    needs matplotlib); without it the graphs are for the terminal (needs plotext). Both
    are checked before any work.
    """
    from alvh_cli import compat
    from alvh_cli.app.context import as_date, regime_context
    from alvh_cli.inputs import book
    from alvh_cli.method.risk_graph import risk_graphs
    from alvh_cli.model.book import warnings_of

    if png is not None:
        if Path(png).suffix.lower() != ".png":
            raise InputError(f"must be a .png file, got {str(png)!r}", option="output")
        compat.require("HAS_MATPLOTLIB", "output")
        from alvh_cli.output.files import refuse_output

        given = [file, *(f for f in (market, rules) if f is not None), *(history or ()), *events]
        refuse_output(png, given, force=True)  # an existing PNG is replaced, as it always was
    else:
        compat.require("HAS_PLOTEXT", "terminal")
    when = as_date(day, "day")
    loaded = book.load_book(
        [file], market=market, rules=rules, allow_expired=allow_expired, now=now
    )
    regimes, closes, notes = regime_context(loaded, history, events)
    graphs = risk_graphs(loaded, regimes, history=closes, position=position, day=when)
    if png is not None and len(graphs) > 1:
        ids = ", ".join(g.position_id for g in graphs)
        raise InputError(
            f"{file} holds {len(graphs)} positions ({ids}): choose one with "
            "{flag:position}, or draw one PNG each with alvh check --plot DIR",
            option="output",
        )
    return PlotRun(tuple(graphs), (*warnings_of(loaded), *notes))
