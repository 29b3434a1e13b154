"""``alvh price``: every leg's price, volatility and Greeks, and each position's mark."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alvh_cli.errors import InputError, InputWarning


@dataclass(frozen=True)
class PriceRun:
    """Every position valued (``values``: ``PositionValues``), the input warnings, what
    became of the broker's marks on the legs (``marks``: (file, ``MarkUse``)), and the
    error of each file that could not be valued (``errors``: the others still are)."""

    values: tuple
    warnings: tuple[InputWarning, ...] = ()
    marks: tuple = ()
    errors: tuple[InputError, ...] = ()

    @property
    def exit_status(self) -> int:
        """2 when a file could not be valued, else 0."""
        return 2 if self.errors else 0


def price(
    files: Sequence[Path | str],
    *,
    market: Path | str | None = None,
    allow_expired: bool = False,
    chains: Sequence[Path | str] = (),
    now: datetime | None = None,
) -> PriceRun:
    """Value every position of ``files`` (options as :func:`alvh_cli.app.check.check`'s);
    a bad file costs only itself (its error in ``errors``)."""
    from alvh_cli.inputs import book
    from alvh_cli.model.book import marks_of, warnings_of
    from alvh_cli.model.valuation import value_book

    loaded, errors = book.load_book_tolerant(
        files, market=market, rules=None, allow_expired=allow_expired, now=now, chains=chains
    )
    return PriceRun(
        tuple(value_book(loaded)),
        tuple(warnings_of(loaded)),
        tuple(marks_of(loaded)),
        tuple(errors),
    )
