"""Loading a book: position files with the market and rules that apply to each.

This is the I/O edge the commands share: it reads files, resolves
``--market`` and ``--rules`` against each file's own tables, fits option
chains (``--chain``) onto the snapshot in use, and checks expiries against
the snapshot's ``asof``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from alvh_cli.errors import InputError, InputWarning
from alvh_cli.inputs import positions
from alvh_cli.inputs.sanity import check_expiries, check_position_strikes
from alvh_cli.model.book import LoadedFile
from alvh_cli.model.domain import Market
from alvh_cli.model.rules import check_overrides, resolve


def load_book(
    paths: Sequence[Path | str],
    *,
    market: Path | str | None = None,
    rules: Path | str | None = None,
    allow_expired: bool = False,
    expand_dirs: bool = False,
    now: datetime | None = None,
    chains: Sequence[Path | str] = (),
) -> list[LoadedFile]:
    """Load every file; ``market``/``rules`` files override what each file carries.

    ``now`` (the caller's clock; None skips the check) flags a snapshot older
    than the last close before it. ``chains`` (option-chain files,
    ``alvh_cli.inputs.chain``) are read once and fitted onto each market
    snapshot in use (once per snapshot, at its ``asof``): the snapshot gains
    their SPX surface and quotes (:func:`alvh_cli.model.chain_market.with_chains`).
    The first bad file's InputError is raised.
    """
    loaded, errors = load_book_tolerant(
        paths,
        market=market,
        rules=rules,
        allow_expired=allow_expired,
        expand_dirs=expand_dirs,
        now=now,
        chains=chains,
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
    chains: Sequence[Path | str] = (),
) -> tuple[list[LoadedFile], list[InputError]]:
    """:func:`load_book` that goes on past a bad file: (the good files, each bad one's error).

    Every file (or, with ``expand_dirs``, every path and folder entry) is
    loaded on its own, so one typo does not hide the advice on the rest of the
    book. A bad ``market``, ``rules`` or chain file is still raised: no file can
    run without it. A chain that does not fit a file's own market (another
    day, another SPX level) is that file's error.
    """
    snapshots = read_chains(chains) if chains else []
    fitted: dict[int, Market] = {}
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
            if snapshots:
                if id(snap) not in fitted:
                    from alvh_cli.model.chain_market import with_chains

                    fitted[id(snap)] = with_chains(snap, snapshots)
                snap = fitted[id(snap)]
            layers = [(pf.rules, pf.path)]
            if rules_table is not None:
                layers.append((rules_table, str(rules)))
            effective = resolve(*layers)
            check_expiries(pf, snap, allow_expired)
            check_position_strikes(pf, snap)
        except InputError as exc:
            errors.append(exc)
            continue
        warnings = (*snapshot_warnings(snap, now), *quote_warnings(snap, pf))
        loaded.append(LoadedFile(pf, snap, effective, warnings))
    return loaded, errors


def snapshot_warnings(market: Market, now: datetime | None) -> tuple[InputWarning, ...]:
    """The market's own warnings (found while reading it) and, given ``now``, staleness."""
    from alvh_cli.inputs.market_warnings import stale_snapshot

    stale = stale_snapshot(market, now) if now is not None else None
    return (*market.warnings, *([stale] if stale is not None else []))


def quote_warnings(market: Market, pf) -> tuple[InputWarning, ...]:
    """Warnings for the quotes this file's legs would be priced from but cannot be
    (``market_warnings.unusable_quotes``)."""
    from alvh_cli.inputs.market_warnings import unusable_quotes

    if not market.quotes:
        return ()
    return tuple(unusable_quotes(market, [g for p in pf.positions for g in p.legs]))


def read_chains(paths: Sequence[Path | str]) -> list:
    """Read option-chain files (``ChainSnapshot`` each); every file is checked readable
    first, so a missing one or a Parquet file without pyarrow stops before any work."""
    from alvh_cli.inputs.chain import read_option_chain, require_readable

    require_readable(paths)
    return [read_option_chain(p) for p in paths]
