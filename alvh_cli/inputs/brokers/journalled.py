"""The positions ``alvh apply`` left, found again in a broker's export of what is open.

After a fill — a roll, a close, a hedge — the export holds only the legs still open: a
condor whose sides expire apart, a lone vertical, a condor with its hedge. The journal
holds, for every position a fill was applied to, the position's TOML as the fill left it
(``alvh_cli.journal.Execution.position``). When an account's open legs hold every leg a
journalled position holds — the same contracts, at least as many contracts each — that
position is what the import writes: the journal's text, its id, opening credit, legs
closed and realised P&L with it, and on each leg held the export's mark. Its legs are then
taken out of the account's, and what is left is grouped as any export
(:mod:`alvh_cli.inputs.brokers.group`).

Each journalled position is tried once, the latest fill's first; a position the journal
says is closed (nothing held) matches nothing; one whose legs two accounts could hold is
not guessed (a note says so). Pure functions over records; the journal is read by
``alvh_cli.app.importer``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from alvh_cli.errors import InputError
from alvh_cli.inputs.brokers.common import ImportedLeg
from alvh_cli.model.domain import Leg, Position
from alvh_cli.toml_text import toml_string


@dataclass(frozen=True)
class AppliedPosition:
    """A position as the journal's latest execution on it left it: its id and file, the
    execution (its id, ``asof`` and ``action``) and the position's TOML ``text``."""

    position_id: str
    source: str
    execution: int
    asof: str
    action: str
    text: str


@dataclass(frozen=True)
class Journalled:
    """A journalled position found in the export: what the journal recorded (``applied``),
    the position it reads as, and the export's legs that hold it (one per leg held, in the
    order of ``position.legs``, each with the quantity the position holds)."""

    applied: AppliedPosition
    position: Position
    legs: tuple[ImportedLeg, ...]

    @property
    def id(self) -> str:
        return self.position.id

    @property
    def account(self) -> str:
        return self.legs[0].account if self.legs else ""

    def describe(self) -> str:
        """``as alvh apply left it in book/dec.toml (roll, 2026-11-30, execution #2)``."""
        a = self.applied
        return (
            f"as alvh apply left it in {a.source} ({a.action}, {a.asof[:10]}, "
            f"execution #{a.execution})"
        )


def match(
    legs: Sequence[ImportedLeg], applied: Sequence[AppliedPosition]
) -> tuple[list[Journalled], list[ImportedLeg], list[str]]:
    """The journalled positions ``legs`` hold (see the module doc), the legs left once theirs
    are taken out, and notes on the journalled positions that could not be read or told
    apart."""
    from alvh_cli.inputs.positions import load_text

    left: dict[str, dict[tuple, ImportedLeg]] = defaultdict(dict)  # account → contract → leg
    for g in legs:
        left[g.account][g.contract] = g
    found: list[Journalled] = []
    notes: list[str] = []
    for a in sorted(applied, key=lambda a: -a.execution):
        try:
            (position,) = load_text(a.text, f"{a.source} (journal)").positions
        except (InputError, ValueError) as exc:
            notes.append(f"{a.position_id} ({a.source}): the journal's position does not load "
                         f"({exc}); not matched")  # fmt: skip
            continue
        wanted = _wanted(position.legs)
        if wanted is None:
            continue  # closed, or holding what no export lists (a VIX future)
        accounts = [acct for acct, held in left.items() if _holds(held, wanted)]
        if len(accounts) > 1:
            notes.append(
                f"{a.position_id} ({a.source}): accounts {', '.join(accounts)} each hold its "
                "legs; not matched (import one account at a time)"
            )
            continue
        if not accounts:
            continue
        held = left[accounts[0]]
        taken = []
        for g in position.legs:
            key = _contract(g)
            have = held[key]
            taken.append(replace(have, quantity=g.quantity))
            rest = have.quantity - g.quantity
            if rest:
                held[key] = replace(have, quantity=rest)
            else:
                del held[key]
        found.append(Journalled(a, position, tuple(taken)))
    rest = [g for held in left.values() for g in held.values()]
    return found, rest, notes


def _contract(g: Leg) -> tuple:
    """A leg's contract as an export names it: root, type, strike, expiry."""
    return (g.root, g.type, g.strike, g.expiry)


def _wanted(legs: Sequence[Leg]) -> dict[tuple, int] | None:
    """Signed contracts held per contract; None when nothing is held or a leg is one no
    export reader lists (a VIX future)."""
    if not legs or any(not g.is_option for g in legs):
        return None
    out: dict[tuple, int] = defaultdict(int)
    for g in legs:
        out[_contract(g)] += g.quantity
    return dict(out)


def _holds(held: dict[tuple, ImportedLeg], wanted: dict[tuple, int]) -> bool:
    """The account holds every contract wanted, the same way round and at least as many."""
    for key, qty in wanted.items():
        g = held.get(key)
        if g is None or g.quantity * qty <= 0 or abs(g.quantity) < abs(qty):
            return False
    return True


# --------------------------------------------------------------------------- writing

_LEG = re.compile(r"^\s*\[\[\s*positions\s*\.\s*legs\s*\]\]")
_TABLE = re.compile(r"^\s*\[")
_MARK = re.compile(r"^\s*mark(_time)?\s*=")
_ID = re.compile(r'^(\s*id\s*=\s*)(".*?"|\'.*?\')(.*)$')


def render(j: Journalled, mark_lines, new_id: str | None = None) -> list[str]:
    """The journal's text of ``j``, each leg held carrying the export's mark instead of any
    it had (``mark_lines(imported_leg, indent)``: the lines to write), under ``new_id``
    when its own is taken in the file."""
    lines = j.applied.text.rstrip("\n").splitlines()
    marks = {g.key: imported for g, imported in zip(j.position.legs, j.legs, strict=True)}
    out: list[str] = []
    block = -1  # the index of the leg table being copied
    pending: list[str] = []  # the marks to write at the end of that table

    def flush():
        at = len(out)
        while at and (not out[at - 1].strip() or out[at - 1].lstrip().startswith("#")):
            at -= 1
        out[at:at] = pending
        pending.clear()

    for line in lines:
        if _TABLE.match(line):
            flush()
            if _LEG.match(line):
                block += 1
                g = marks.get(f"positions[0].legs[{block}]")
                indent = line[: len(line) - len(line.lstrip())]
                pending.extend(mark_lines(g, indent) if g is not None else ())
        elif block >= 0 and _MARK.match(line):
            continue  # a mark of an earlier import: the export's replaces it
        elif new_id is not None and block < 0 and _ID.match(line):
            m = _ID.match(line)
            line = f"{m.group(1)}{toml_string(new_id)}{m.group(3)}"
        out.append(line)
    flush()
    return out
