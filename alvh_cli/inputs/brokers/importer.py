"""``alvh import``: broker exports → one position file, and what was (not) imported.

:func:`import_exports` reads every export, merges them (a positions export
gives what is held; a transactions export of the same contracts adds the
open dates, or alone gives the holdings it replays), finds the positions
``alvh apply`` left that the legs hold (:mod:`alvh_cli.inputs.brokers.journalled`),
groups the rest into condors, verticals and hedge layers, and renders the file —
checking it with alvh's own loader first, so what is written is what ``alvh
check`` reads. A position the loader would refuse is moved to the leftovers with
the loader's message. :func:`summary` is the report the command prints. Nothing
is written here: ``alvh_cli.app.importer`` writes the file.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from alvh_cli.errors import InputError, options_named
from alvh_cli.inputs.brokers import write
from alvh_cli.inputs.brokers.common import (
    ImportedLeg,
    ParsedExport,
    Skipped,
    fmt_strike,
    read_text,
)
from alvh_cli.inputs.brokers.detect import read_export
from alvh_cli.inputs.brokers.group import (
    Grouping,
    ImportedPosition,
    Leftover,
    RecommendedSpread,
    group,
)
from alvh_cli.inputs.brokers.journalled import AppliedPosition, Journalled, match

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


@dataclass
class ImportResult:
    """What an import found and the file text to write (``text`` is "" without condors);
    ``errors``: each export that could not be read (the others were imported)."""

    exports: list[ParsedExport]
    grouping: Grouping
    text: str
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    market: str | None = None
    journal: str | None = None
    errors: list[InputError] = field(default_factory=list)

    @property
    def leftovers(self) -> tuple[Leftover, ...]:
        return self.grouping.leftovers


def import_exports(
    paths: Sequence[str | Path],
    *,
    broker: str = "auto",
    market: str | Path | None = None,
    recommended: Callable[[], tuple[list[RecommendedSpread], str]] | None = None,
    journal: str | None = None,
    mark_time: datetime | date | None = None,
    applied: Callable[[], list[AppliedPosition]] | None = None,
) -> ImportResult:
    """Read, merge, match, group and render (see the module doc). An export that cannot be
    read is its error in ``errors``; the others are imported.

    ``applied`` gives the positions as the journal's executions last left them; the ones
    the exports hold are written as they are. ``recommended`` gives the VIX spreads alvh
    recommended (newest first) and the reason to give a spread none of them names; it is
    asked only when the legs left hold VIX legs.
    ``journal`` names where they came from, for the report. ``market`` is a file whose
    ``[market]`` table is copied into the book. ``mark_time`` is when the exports that
    state no time for their marks were taken (None: their marks go without one).
    """
    if not paths:
        raise InputError("give at least one export file", option="exports")
    exports, errors = read_exports(paths, broker)
    exports, mark_notes = _timed(exports, mark_time)
    legs, notes = merge(exports)
    skipped = [s for e in exports for s in e.skipped]
    notes = [n for e in exports for n in e.notes] + mark_notes + notes
    found: list[Journalled] = []
    if applied is not None and legs:
        found, legs, more = match(legs, applied())
        notes += more

    recommendations, no_match = [], "no journal was read"
    journal_path = None
    if recommended is not None and any(g.underlying == "VIX" for g in legs):
        journal_path = journal
        recommendations, no_match = recommended()
    grouping = replace(group(legs, recommendations, no_match), journalled=tuple(found))

    raw_market = None
    if market is not None:
        from alvh_cli.inputs import positions

        positions.load_market_file(market)  # every problem named before anything is written
        raw_market = tomllib.loads(Path(market).read_text(encoding="utf-8-sig"))["market"]
    sources = [(e.path, e.format) for e in exports]
    grouping, text = _checked(
        grouping, sources, raw_market, None if market is None else str(market)
    )
    return ImportResult(
        exports=exports,
        grouping=grouping,
        text=text,
        skipped=skipped,
        notes=notes + list(grouping.notes),
        market=None if market is None else str(market),
        journal=journal_path,
        errors=errors,
    )


def read_exports(
    paths: Sequence[str | Path], broker: str = "auto"
) -> tuple[list[ParsedExport], list[InputError]]:
    """(the exports read, each one that could not be read's InputError): an unreadable or
    malformed export costs only itself. A broker name alvh does not know is raised."""
    exports: list[ParsedExport] = []
    errors: list[InputError] = []
    for p in paths:
        try:
            exports.append(read_export(str(p), read_text(p), broker))
        except InputError as exc:
            if exc.option is not None:  # a bad option, not a bad file
                raise
            errors.append(exc)
    return exports, errors


# --------------------------------------------------------------------------- marks


def _timed(
    exports: Sequence[ParsedExport], mark_time: datetime | date | None
) -> tuple[list[ParsedExport], list[str]]:
    """The exports with ``mark_time`` on the marks they state no time for, and a note per
    export with marks saying when they are of (or that it is not known)."""
    out, notes, used = [], [], False
    for e in exports:
        marked = [g for g in e.legs if g.mark is not None]
        untimed = [g for g in marked if g.mark_time is None]
        stamps = sorted({_when(g.mark_time) for g in marked if g.mark_time is not None})
        if stamps:
            notes.append(f"{e.path}: marks of {', '.join(stamps)}, as the export states")
        if untimed and mark_time is not None:
            legs = tuple(
                replace(g, mark_time=mark_time) if g.mark_time is None and g.mark is not None else g
                for g in e.legs
            )
            e, used = replace(e, legs=legs), True
            notes.append(
                f"{e.path}: the export states no time for its marks: written with mark_time "
                f"{_when(mark_time)} ({{flag:mark_time}})"
            )
        elif untimed:
            notes.append(
                f"{e.path}: the export states no time for its marks (the file's own date is "
                "not when they were taken): written without mark_time, so check does not "
                "price from them; give {flag:mark_time} with the time the export was taken"
            )
        out.append(e)
    if mark_time is not None and not used:
        notes.append("{flag:mark_time} not used: no export holds a mark without its own time")
    return out, notes


def _when(moment: datetime | date) -> str:
    return moment.isoformat(sep=" ") if isinstance(moment, datetime) else moment.isoformat()


# --------------------------------------------------------------------------- merging


def merge(exports: Sequence[ParsedExport]) -> tuple[list[ImportedLeg], list[str]]:
    """One leg per account and contract across exports (see the module doc); notes."""
    held = [e for e in exports if e.kind == "positions"]
    replayed = [e for e in exports if e.kind == "transactions"]
    notes: list[str] = []
    if not held:
        return _one_each(replayed), notes
    legs = _one_each(held)
    fills = [g for e in replayed for g in e.legs]
    if not fills:
        return legs, notes
    by_contract = defaultdict(list)
    for g in fills:
        by_contract[g.contract].append(g)
    used = set()
    out = []
    for g in legs:
        match = [t for t in by_contract.get(g.contract, ()) if t.account in ("", g.account)]
        if len(match) != 1:
            out.append(g)
            continue
        t = match[0]
        used.add(id(t))
        if t.quantity != g.quantity:
            notes.append(
                f"{g.describe()} ({g.source}): the transactions leave x{t.quantity:+d} open, "
                "so their open date is not used"
            )
            out.append(g)
            continue
        price = g.entry_price if g.entry_price is not None else t.entry_price
        out.append(replace(g, opened=t.opened, entry_price=price, source=f"{g.source}, {t.source}"))
    for t in fills:
        if id(t) not in used and not any(g.contract == t.contract for g in legs):
            notes.append(
                f"{t.describe()}: open in the transactions ({t.source}) but not in the "
                "positions export (closed since?); not imported"
            )
    return out, notes


def _one_each(exports: Sequence[ParsedExport]) -> list[ImportedLeg]:
    """All legs, refusing one account's contract found in two exports (exported twice?)."""
    seen: dict[tuple, ImportedLeg] = {}
    where: dict[tuple, str] = {}
    for e in exports:
        for g in e.legs:
            key = (g.account, g.contract)
            if key in seen:
                raise InputError(
                    f"{g.describe()} is in {where[key]} and in {e.path}: the same account "
                    "exported twice? (give each account once, or an account column)",
                    e.path,
                )
            seen[key] = g
            where[key] = e.path
    return list(seen.values())


# --------------------------------------------------------------------------- checking


def _checked(
    grouping: Grouping,
    sources: list[tuple[str, str]],
    market: dict | None,
    market_source: str | None,
) -> tuple[Grouping, str]:
    """Render, load the text with alvh's loader, and move any position it refuses to the
    leftovers with the loader's message, until the file loads. The journal's positions
    come first in the file."""
    journalled = list(grouping.journalled)
    condors = list(grouping.positions)
    leftovers = list(grouping.leftovers)
    while journalled or condors:
        text = write.render_book(
            condors,
            sources=sources,
            market=market,
            market_source=market_source,
            leftovers=leftovers,
            journalled=journalled,
        )
        problem = _load_error(text, market is not None)
        if problem is None:
            done = replace(
                grouping,
                positions=tuple(condors),
                journalled=tuple(journalled),
                leftovers=tuple(leftovers),
            )
            return done, text
        m = re.match(r"positions\[(\d+)\]", problem.key)
        index = -1 if m is None else int(m.group(1))
        if not 0 <= index < len(journalled) + len(condors):
            raise InputError(f"the file alvh would write does not load: {problem}")
        if index < len(journalled):
            legs, what = journalled.pop(index).legs, "this position of the journal"
        else:
            c: ImportedPosition = condors.pop(index - len(journalled))
            legs, what = c.legs + tuple(g for h in c.hedges for g in h.legs), f"this {c.kind}"
        where = problem.key[len(m.group(0)) :].lstrip(".")
        # the report and the file's comments are read at the command line: a parameter the
        # loader's message names ({flag:allow_expired}) is written as its option
        message = options_named(problem.message)
        leftovers.append(
            Leftover(legs, f"alvh would refuse {what}: {where + ': ' if where else ''}{message}")
        )
    return replace(grouping, positions=(), journalled=(), leftovers=tuple(leftovers)), ""


def _load_error(text: str, has_market: bool) -> InputError | None:
    from alvh_cli.inputs import positions

    with tempfile.TemporaryDirectory(prefix="alvh-import-") as folder:
        path = Path(folder) / "book.toml"
        path.write_text(text, encoding="utf-8")
        try:
            loaded = positions.load_file(path)
            if has_market:
                from alvh_cli.inputs.sanity import check_expiries

                check_expiries(loaded, loaded.market, allow_expired=False)
        except InputError as exc:
            return exc
    return None


# --------------------------------------------------------------------------- report


def summary(result: ImportResult, output: str | None) -> str:
    """The report ``alvh import`` prints: what was read, found, matched and left over."""
    g = result.grouping
    n = len(result.exports)
    lines = [f"alvh import: {n} export{'s' * (n != 1)} read"]
    if result.errors:
        lines[0] += f", {len(result.errors)} could not be (each named below)"
    for e in result.exports:
        legs = len(e.legs)
        lines.append(f"  {e.path}: {e.format}, {legs} SPX/VIX option leg{'s' * (legs != 1)}")
    target = f" → {output}" if output and g.written else ""
    lines.append(f"positions: {g.written}{target}")
    for j in g.journalled:
        lines.append(
            f"  {j.id}: {j.describe()}: written from the journal, with its opening credit "
            f"{write.price(j.position.credit)!r}, closed legs and realised P&L"
        )
    for c in g.positions:
        extra = f"  opened {c.opened}" if c.opened else ""
        lines.append(f"  {c.id}: {c.describe()}, credit {write.price(c.credit)!r}{extra}")
    hedges = g.hedges
    lines.append(f"hedges matched: {len(hedges)}")
    for c in g.positions:
        for h in c.hedges:
            lo, hi = h.legs
            lines.append(
                f"  VIX {lo.expiry} {fmt_strike(lo.strike)}/{fmt_strike(hi.strike)} call spread "
                f"x{lo.quantity} → "
                f"layer {h.layer} of {c.id} (recommended as of {h.recommendation.asof or '?'})"
            )
    lines.append(f"left over (not written; add by hand if they belong): {len(g.leftovers)}")
    for lo in g.leftovers:
        lines.append(f"  {lo.describe()} ({lo.source}): {lo.reason}")
    if result.skipped:
        n = len(result.skipped)
        lines.append(f"not imported (not SPX/VIX options, or unusable): {n}")
        lines += [f"  {s.what} ({s.source}): {s.reason}" for s in result.skipped[:20]]
        if n > 20:
            lines.append(f"  … and {n - 20} more")
    if result.notes:
        lines.append("notes:")
        lines += [f"  {options_named(n)}" for n in result.notes]
    if result.market is None and g.written and output:
        lines.append(f"no market snapshot in {output}: run alvh check {output} --market today.toml")
    return "\n".join(lines)
