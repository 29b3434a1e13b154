"""Loading a book: position files, each with the market snapshot and rules that price it.

This is the I/O edge the commands share. Each file goes through the loading
stages once, in a line (``positions.py`` lists them): read
(``toml_reader.py``), validate (``validate.py``), build (``build.py``),
sanity (``sanity.py``: the file's own values, then against the snapshot in
use), warnings (``market_warnings.py``, the broker's marks among them). Between
the last two, what applies to the file is put together: its snapshot
(``--market`` over the file's own) with the option chains (``--chain``) fitted
onto it, and its rules (``--rules`` over the file's own).

The last stages, the prices checked against static no-arbitrage and the warnings,
take files in batches: files sharing a snapshot are priced in one call and what is
said of the snapshot alone is worked out once, while each file still gets what it
would get alone, in the order of the files.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alvh_cli.errors import InputError, InputWarning
from alvh_cli.inputs import build, market_warnings, positions, sanity, validate
from alvh_cli.inputs.toml_reader import read_toml
from alvh_cli.model.book import LoadedFile
from alvh_cli.model.domain import Market, PositionFile
from alvh_cli.model.pricing import sized_normal
from alvh_cli.model.rules import Rules, check_overrides, resolve
from alvh_cli.model.valuation import check_files_prices


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

    ``now`` (the caller's clock; None skips the checks) refuses a snapshot from the
    future (past a minute of clock skew) and flags one older than the last close before
    it. ``chains`` (option-chain files,
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


@sized_normal()  # quote vols and price checks the same whatever ran before in the process
def load_book_tolerant(
    paths: Sequence[Path | str],
    *,
    market: Path | str | None = None,
    rules: Path | str | None = None,
    allow_expired: bool = False,
    expand_dirs: bool = False,
    now: datetime | None = None,
    chains: Sequence[Path | str] = (),
    meanwhile: Callable[[], Any] | None = None,
) -> tuple[list[LoadedFile], list[InputError]]:
    """:func:`load_book` that goes on past a bad file: (the good files, each bad one's error).

    Every file (or, with ``expand_dirs``, every path and folder entry) is
    loaded on its own, so one typo does not hide the advice on the rest of the
    book. A bad ``market``, ``rules`` or chain file is still raised: no file can
    run without it. A chain that does not fit a file's own market (another
    day, another SPX level) is that file's error.

    A file is loaded once however often it is reached (``positions.file_key``: the
    same device and inode, so a hard or symbolic link to it too): a folder's repeats
    quietly, a file named again with a warning on the file kept, naming the repeat (a
    repeat of a bad file goes with it: its error is said once).

    ``meanwhile``: work this process does while forked copies parse a big book's files
    (``alvh_cli.forked.ordered_map``), called only if they do: a history to read, the
    modules the check will import.
    """
    snapshots = read_chains(chains) if chains else []
    fitted: dict[int, tuple[Market, Market]] = {}
    shared_market = positions.read_market_file(market, now) if market is not None else None
    rules_table = None
    if rules is not None:
        rules_table = positions.load_rules_table(rules)
        check_overrides(rules_table, str(rules))  # a bad --rules key once, not once a file
    if expand_dirs:
        repeats: dict = {}
        items = positions.expand_keyed(paths, repeats)
        given = {positions.file_key(p) for p in paths}
    else:
        kept, repeats = _each_once(paths)
        items, given = [(path, key) for key, path in kept.items()], set(kept)
    # A market or rules file kept in the book's folder (or linked into it) is not a
    # position file.
    shared = {positions.file_key(f) for f in (market, rules) if f is not None} - given
    outcomes: list[LoadedFile | InputError | _Pending] = []
    pending: list[_Pending] = []  # files whose prices are still to be checked, in order
    pending_legs = 0
    said: dict = {}
    files = [x[0] for x in items if not isinstance(x, InputError) and x[1] not in shared]
    tables = _parsed_tables(files, meanwhile)
    for item in items:
        if isinstance(item, InputError):
            outcomes.append(item)
            continue
        item, key = item
        if key in shared:
            continue
        source = str(item)
        table = next(tables)
        if isinstance(table, InputError):
            outcomes.append(table)
            continue
        try:
            pf, layout = build.build_file(table, source)
            snap, snap_layout = shared_market or (pf.market, layout)
            if shared_market is None and snap is not None and now is not None:
                sanity.check_not_future(snap, now)  # before "expired", which it would cause
            sanity.check_loaded(pf, layout, snap, allow_expired)
            priced = snap
            if snapshots:
                if id(snap) not in fitted:
                    from alvh_cli.model.chain_market import with_chains

                    # the files before the fit are checked before it, as one by one (the
                    # fit may load scipy.special; under sized_normal that changes no price)
                    _check_batch(pending, now, said)
                    pending, pending_legs = [], 0
                    fitted[id(snap)] = (snap, with_chains(snap, snapshots))  # snap kept: its id
                priced = fitted[id(snap)][1]
            layers = [(pf.rules, pf.path)]
            if rules_table is not None:
                layers.append((rules_table, str(rules)))
            effective = resolve(*layers)
        except InputError as exc:
            outcomes.append(exc)
            continue
        file = _Pending(pf, snap, snap_layout, priced, effective, repeats.get(key, ()))
        outcomes.append(file)
        legs = sum(len(p.legs) for p in pf.positions)
        if pending_legs + legs > _BATCH_LEGS:  # so a file bigger than a batch goes alone
            _check_batch(pending, now, said)
            pending, pending_legs = [], 0
        pending.append(file)
        pending_legs += legs
    _check_batch(pending, now, said)
    for _ in tables:  # read to its end: a forked reader's copies are waited for
        pass
    loaded: list[LoadedFile] = []
    errors: list[InputError] = []
    for outcome in outcomes:
        if isinstance(outcome, _Pending):
            outcome = outcome.outcome
        if isinstance(outcome, InputError):
            errors.append(outcome)
        else:
            loaded.append(outcome)
    return loaded, errors


FORK_BYTES = 256 * 2**10
"""Bytes of position files from which they are parsed by forked copies of this process as
well (``alvh_cli.forked``, a file each in turn): tomllib is pure Python, about 0.3 s a
megabyte, and a book of a few hundred kB or more is worth a second core."""


def _parsed_tables(
    paths: Sequence[Path | str], meanwhile: Callable[[], Any] | None = None
) -> Iterator[dict | InputError]:
    """Each file's table, read and checked (``validate.check_file``), or its error, in
    order; shared among the cores when the files are big enough (``FORK_BYTES``), with
    ``meanwhile`` done here while copies parse them all, if it is given."""
    from alvh_cli import forked

    workers = 1
    if len(paths) > 1:
        size = 0
        for path in paths:
            with contextlib.suppress(OSError):  # its error comes from read_toml
                size += os.stat(path).st_size
        if size >= FORK_BYTES:
            workers = forked.fork_workers()

    def parse(k: int) -> dict | InputError:
        source = str(paths[k])
        try:
            return validate.check_file(read_toml(paths[k]), source)
        except InputError as exc:
            return exc

    # every table may come ahead of the reader: while this process does ``meanwhile`` the
    # copies parse on instead of stopping at a full queue (a table is the size of its file)
    return forked.ordered_map(parse, len(paths), workers, meanwhile=meanwhile, ahead=len(paths))


_BATCH_LEGS = 4096
"""Legs of the files whose prices are checked together (``check_files_prices``): a
pricing call costs mostly per call, and a batch of this size stays far below
``pricing.COMPILED_FROM``, where pricing would import scipy.special, so a batch prices with
the normal distribution its files would each have been priced with alone. A bigger file
is checked alone."""


@dataclass
class _Pending:
    """A file read, built and sane, waiting for its prices to be checked (:func:`_check_batch`
    sets ``outcome``: its LoadedFile, or the error that refuses it)."""

    file: PositionFile
    snapshot: Market | None  # as its file gave it (``layout`` says how)
    layout: build.Layout
    market: Market  # what prices it: the snapshot with any chains fitted onto it
    rules: Rules
    warnings: tuple[InputWarning, ...]  # said before the market's
    outcome: LoadedFile | InputError | None = None


def _check_batch(files: Sequence[_Pending], now: datetime | None, said: dict) -> None:
    """Each file's prices checked (those sharing a market together), then its warnings:
    its ``outcome`` set. ``said`` keeps what is said of each market alone for the next
    batch (by the ids of the snapshot and the market, both held by a file till the end)."""
    by_market: dict[int, list[_Pending]] = {}
    for f in files:
        by_market.setdefault(id(f.market), []).append(f)
    doubts: dict[int, list[InputWarning] | InputError] = {}
    unusable: dict[int, list[InputWarning]] = {}
    for group in by_market.values():
        market = group[0].market
        checked = check_files_prices([f.file.positions for f in group], market)
        doubts.update((id(f), d) for f, d in zip(group, checked, strict=True))
        legs_each = [[g for p in f.file.positions for g in p.legs] for f in group]
        each = market_warnings.unusable_quotes_each(market, legs_each)
        unusable.update((id(f), u) for f, u in zip(group, each, strict=True))
    for f in files:
        found = doubts[id(f)]
        legs = [g for p in f.file.positions for g in p.legs]
        try:
            if isinstance(found, InputError):
                raise found
            marks = broker_marks(f.market, legs)
        except InputError as exc:
            f.outcome = exc
            continue
        key = (id(f.snapshot), id(f.market))
        if key not in said:
            said[key] = market_warnings.market_loaded_warnings(f.snapshot, f.layout, f.market, now)
        before, after = said[key]
        warnings = (*f.warnings, *before, *unusable[id(f)], *after, *found)
        if marks:
            tolerance = f.rules.broker_mark_tolerance
            warnings += tuple(
                market_warnings.mark_warnings(marks, f.market, tolerance, f.file.path)
            )
        f.outcome = LoadedFile(f.file, f.market, f.rules, warnings, marks)


def _each_once(paths: Sequence[Path | str]) -> tuple[dict, dict]:
    """``paths`` with each file once, first come first kept (by ``positions.file_key``: the
    key to the path kept), and for each file kept a warning naming each path that repeated
    it. The repeat is in the message, not the source, so that two repeats are never said
    as one line (``output.common.print_problems`` joins one message on several files)."""
    kept: dict = {}
    repeats: dict = {}
    for given in paths:
        path = Path(given)
        key = positions.file_key(path)
        if key not in kept:
            kept[key] = path
            continue
        warning = InputWarning(f"also given as {path}: read once", str(kept[key]))
        repeats[key] = tuple(dict.fromkeys((*repeats.get(key, ()), warning)))
    return kept, repeats


def broker_marks(market: Market, legs) -> tuple:
    """What became of the broker's marks on ``legs`` in ``market`` (``MarkUse``); none, and
    nothing imported, for a file without marks."""
    if not any(g.mark is not None for g in legs):
        return ()
    from alvh_cli.model.marks import mark_uses

    return tuple(mark_uses(market, legs))


def read_chains(paths: Sequence[Path | str]) -> list:
    """Read option-chain files (``ChainSnapshot`` each); every file is checked readable
    first, so a missing one or a Parquet file without pyarrow stops before any work."""
    from alvh_cli.inputs.chain import read_option_chain, require_readable

    require_readable(paths)
    return [read_option_chain(p) for p in paths]
