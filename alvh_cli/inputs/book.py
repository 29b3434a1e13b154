"""Loading a book: position files with the market and rules that apply to each.

This is the I/O edge the commands share: it reads files, resolves
``--market`` and ``--rules`` against each file's own tables, and checks
expiries against the snapshot's ``asof``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from alvh_cli.errors import InputError, InputWarning
from alvh_cli.inputs import positions
from alvh_cli.inputs.expiries import check_expiries
from alvh_cli.inputs.sanity import check_position_strikes
from alvh_cli.method.rules import Rules, check_overrides, resolve
from alvh_cli.model.domain import Market, PositionFile


@dataclass(frozen=True)
class LoadedFile:
    """A position file with the market snapshot and the rules in force for it, and the
    warnings about its inputs (``alvh_cli.errors.InputWarning``: stale snapshot, flat
    smile, a quote much wider than its neighbours) for the output to show."""

    file: PositionFile
    market: Market
    rules: Rules
    warnings: tuple[InputWarning, ...] = ()


def load_book(
    paths: Sequence[Path | str],
    *,
    market: Path | str | None = None,
    rules: Path | str | None = None,
    allow_expired: bool = False,
    expand_dirs: bool = False,
    now: datetime | None = None,
) -> list[LoadedFile]:
    """Load every file; ``market``/``rules`` files override what each file carries.

    ``now`` (the caller's clock; None skips the check) flags a snapshot older
    than the last close before it. The first bad file's InputError is raised.
    """
    loaded, errors = load_book_tolerant(
        paths,
        market=market,
        rules=rules,
        allow_expired=allow_expired,
        expand_dirs=expand_dirs,
        now=now,
    )
    if errors:
        raise errors[0]
    return loaded


def load_book_tolerant(
    paths: Sequence[Path | str],
    *,
    market: Path | str | None = None,
    rules: Path | str | None = None,
    allow_expired: bool = False,
    expand_dirs: bool = False,
    now: datetime | None = None,
) -> tuple[list[LoadedFile], list[InputError]]:
    """:func:`load_book` that goes on past a bad file: (the good files, each bad one's error).

    Every file (or, with ``expand_dirs``, every path and folder entry) is
    loaded on its own, so one typo does not hide the advice on the rest of the
    book. A bad ``market`` or ``rules`` file is still raised: no file can run
    without it.
    """
    shared_market = positions.load_market_file(market) if market is not None else None
    rules_table = None
    if rules is not None:
        rules_table = positions.load_rules_table(rules)
        check_overrides(rules_table, str(rules))  # a bad --rules key once, not once a file
    items = positions.expand_book_tolerant(paths) if expand_dirs else [Path(p) for p in paths]
    # A market or rules file kept in the book's folder is not a position file.
    # realpath, not Path.resolve: it never raises, even on a symbolic link loop.
    given = {os.path.realpath(p) for p in paths}
    shared = {os.path.realpath(f) for f in (market, rules) if f is not None} - given
    loaded: list[LoadedFile] = []
    errors: list[InputError] = []
    for item in items:
        if isinstance(item, InputError):
            errors.append(item)
            continue
        if os.path.realpath(item) in shared:
            continue
        try:
            pf = positions.load_file(item)
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
        except InputError as exc:
            errors.append(exc)
            continue
        loaded.append(LoadedFile(pf, snap, effective, snapshot_warnings(snap, now)))
    return loaded, errors


def snapshot_warnings(market: Market, now: datetime | None) -> tuple[InputWarning, ...]:
    """The market's own warnings (found while reading it) and, given ``now``, staleness."""
    from alvh_cli.inputs.market_warnings import stale_snapshot

    stale = stale_snapshot(market, now) if now is not None else None
    return (*market.warnings, *([stale] if stale is not None else []))


def warnings_of(loaded: Sequence[LoadedFile]) -> list[InputWarning]:
    """Every loaded file's warnings, each once (files sharing a --market share its warnings)."""
    return list(dict.fromkeys(w for lf in loaded for w in lf.warnings))


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
