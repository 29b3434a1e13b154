"""Loading a book: position files with the market and rules that apply to each.

This is the I/O edge the commands share: it reads files, resolves
``--market`` and ``--rules`` against each file's own tables, fits option
chains (``--chain``) onto the snapshot in use, and checks expiries against
the snapshot's ``asof``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from alvh_cli.errors import InputError, InputWarning
from alvh_cli.inputs import positions
from alvh_cli.inputs.expiries import check_expiries
from alvh_cli.inputs.sanity import check_position_strikes
from alvh_cli.model.book import LoadedFile
from alvh_cli.model.domain import Market
from alvh_cli.model.rules import Rules, check_overrides, resolve


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
    their SPX surface and quotes (:func:`alvh_cli.model.surface.with_chains`).
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
                    from alvh_cli.model.surface import with_chains

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


def parse_instant_option(value: str | None, option: str):
    """An ``--asof``-style option: an ISO date-time (with or without offset) or a date,
    made aware as a file's ``asof`` is (DESIGN §2); None when not given."""
    from datetime import datetime

    from alvh_cli.inputs.build import resolve_asof

    if value is None:
        return None
    text = value.strip()
    try:
        moment = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"must be a date YYYY-MM-DD or a date-time YYYY-MM-DDTHH:MM[:SS][+HH:MM], "
            f"got {value!r}",
            option,
        ) from None
    return resolve_asof(moment)


def _loadable_quotes(market: Market) -> tuple[Market, int]:
    """``market`` without the quotes a market file may not hold (``sanity``: a strike
    beyond 1/5..5x of its underlying, an expiry over 3 years after ``asof``), and how
    many went. Real chains list such strikes (SPX puts at 100); no condor uses them."""
    from dataclasses import replace

    from alvh_cli.inputs import sanity
    from alvh_cli.model.timing import NEW_YORK, aware

    last = sanity.latest_expiry(aware(market.asof).astimezone(NEW_YORK).date())
    (_, vix_low), (_, vix_high) = sanity.vix_references(market)
    band = sanity.STRIKE_BAND
    keep = []
    for q in market.quotes:
        low, high = (market.spx, market.spx) if q.underlying == "SPX" else (vix_low, vix_high)
        if q.expiry <= last and low / band <= q.strike <= high * band:
            keep.append(q)
    return replace(market, quotes=tuple(keep)), len(market.quotes) - len(keep)


def market_from_files(
    chains: Sequence[Path | str],
    *,
    futures: Path | str | None = None,
    asof: str | None = None,
    spx: float | None = None,
    vix: float | None = None,
    quotes: bool = True,
):
    """The day's market snapshot from chain files (``alvh market``): (Market, notes).

    ``quotes=False`` leaves the chains' quotes out of the snapshot (``notes``
    says so).

    ``asof`` (an option's text) defaults to the chains' quote time; a chain
    without one (the generic layout) needs it. VIX futures come from the
    ``futures`` settlements file, each within a factor 3 of VIX as a market
    file's must be. See :func:`alvh_cli.model.surface.market_from_chains`.
    """
    from alvh_cli.inputs.build import VIX_FUTURE_FACTOR
    from alvh_cli.inputs.chain import read_futures, require_readable
    from alvh_cli.model.surface import market_from_chains

    require_readable([*chains, *([futures] if futures is not None else [])])
    snapshots = read_chains(chains)
    when = parse_instant_option(asof, "--asof")
    if when is None:
        times = [s.asof for s in snapshots if s.asof is not None]
        if not times:
            raise InputError(
                "the chain carries no quote time (generic layout): give --asof",
                ", ".join(str(c) for c in chains),
            )
        when = times[0]
    points = read_futures(futures).points if futures is not None else ()
    market, notes = market_from_chains(snapshots, asof=when, spx=spx, vix=vix, vix_futures=points)
    market, notes["left_out"] = _loadable_quotes(market)
    for p in points:
        if not market.vix / VIX_FUTURE_FACTOR <= p.price <= market.vix * VIX_FUTURE_FACTOR:
            raise InputError(
                f"the {p.expiry} future at {p.price:g} is more than {VIX_FUTURE_FACTOR:g}x away "
                f"from VIX {market.vix:g} — a typo, or the wrong day's file?",
                str(futures),
                "price",
            )
    if futures is not None:
        notes["futures"] = str(futures)
    if not quotes:
        from dataclasses import replace

        market, notes["no_quotes"] = replace(market, quotes=()), True
    return market, notes
