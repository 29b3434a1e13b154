"""``alvh size-hedge``: the working behind a position's VIX hedge.

Without options it is exactly what ``alvh check`` decides
(:func:`alvh_cli.method.sizing.size_hedges`); ``layer``, ``spx_move`` and
``vix_expiry`` size a layer whatever the mark calls for, move the old stress rung, or
fix the candidate VIX expiry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from alvh_cli.errors import InputError, InputWarning


@dataclass(frozen=True)
class SizeHedgeRun:
    """The check of each position sized (``checks``: ``PositionCheck`` with its hedge plan)
    and the input warnings."""

    checks: tuple
    warnings: tuple[InputWarning, ...] = ()


def size_hedge(
    file: Path | str,
    *,
    position: str | None = None,
    layer: int | None = None,
    spx_move: float | None = None,
    vix_expiry: date | str | None = None,
    market: Path | str | None = None,
    rules: Path | str | None = None,
    history: Sequence[Path | str] | None = None,
    events: Sequence[Path | str] = (),
    allow_expired: bool = False,
    chains: Sequence[Path | str] = (),
    now: datetime | None = None,
) -> SizeHedgeRun:
    """Size the hedges of the positions of ``file`` (or of ``position``).

    ``layer`` (1 or 2) sizes that layer whatever today's mark calls for; ``spx_move``
    (a fraction, e.g. -0.05) moves the old stress rung; ``vix_expiry`` (a VIX
    expiration, a date or YYYY-MM-DD) is the only candidate expiry. The other options are
    :func:`alvh_cli.app.check.check`'s.
    """
    from alvh_cli.app.context import as_date, regime_context
    from alvh_cli.inputs import book
    from alvh_cli.method import sizing as method
    from alvh_cli.model.book import warnings_of

    loaded = book.load_book(
        [file],
        market=market,
        rules=rules,
        allow_expired=allow_expired,
        now=now,
        chains=chains,
    )
    expiry = as_date(vix_expiry, "vix_expiry")
    problem = method.size_hedge_problem(loaded, position, spx_move, expiry)
    if problem is not None:
        role, message = problem
        raise InputError(message, option=role)
    regimes, closes, notes = regime_context(loaded, history, events)
    checks = method.size_hedges(
        loaded,
        regimes,
        history=closes,
        position=position,
        layer=layer,
        spx_move=spx_move,
        vix_expiry=expiry,
    )
    return SizeHedgeRun(tuple(checks), (*warnings_of(loaded), *notes))
