"""Loading a book: position files with the market and rules that apply to each.

This is the I/O edge the commands share: it reads files, resolves
``--market`` and ``--rules`` against each file's own tables, and checks
expiries against the snapshot's ``asof``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from alvh_cli.errors import InputError
from alvh_cli.inputs import positions
from alvh_cli.method.rules import Rules, resolve
from alvh_cli.model.domain import Market, PositionFile


@dataclass(frozen=True)
class LoadedFile:
    """A position file with the market snapshot and the rules in force for it."""

    file: PositionFile
    market: Market
    rules: Rules


def load_book(
    paths: Sequence[Path | str],
    *,
    market: Path | str | None = None,
    rules: Path | str | None = None,
    allow_expired: bool = False,
    expand_dirs: bool = False,
) -> list[LoadedFile]:
    """Load every file; ``market``/``rules`` files override what each file carries."""
    from alvh_cli.inputs.expiries import check_expiries
    from alvh_cli.inputs.sanity import check_position_strikes

    files = positions.expand_book(paths) if expand_dirs else [Path(p) for p in paths]
    # A market or rules file kept in the book's folder is not a position file.
    # realpath, not Path.resolve: it never raises, even on a symbolic link loop.
    given = {os.path.realpath(p) for p in paths}
    shared = {os.path.realpath(f) for f in (market, rules) if f is not None} - given
    files = [f for f in files if os.path.realpath(f) not in shared]
    shared_market = positions.load_market_file(market) if market is not None else None
    rules_table = positions.load_rules_table(rules) if rules is not None else None
    out = []
    for pf in positions.load_files(files):
        snap = shared_market or pf.market
        if snap is None:
            raise InputError(
                "no [market] table in the file and no --market given", pf.path, "market"
            )
        layers = [(pf.rules, pf.path)]
        if rules_table is not None:
            layers.append((rules_table, str(rules)))
        effective = resolve(*layers)
        check_expiries(pf, snap, allow_expired)
        check_position_strikes(pf, snap)
        out.append(LoadedFile(pf, snap, effective))
    return out


def effective_rules(paths: Sequence[Path | str], rules: Path | str | None) -> Rules:
    """The rules in force for ``alvh rules``: defaults, then files' [rules], then --rules."""
    layers = [(pf.rules, pf.path) for pf in positions.load_files([Path(p) for p in paths])]
    if rules is not None:
        layers.append((positions.load_rules_table(rules), str(rules)))
    return resolve(*layers)


def parse_date_option(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"must be a date YYYY-MM-DD, got {value!r}", option) from None
