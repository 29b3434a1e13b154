"""Imported legs → positions (iron condors, and the shapes a condor leaves) with their VIX
hedge layers, and what is left over.

Pure functions over :class:`ImportedLeg` records; nothing here reads a file.

**Condors.** SPX legs are taken per account, root (SPX and SPXW are
different contracts, and a condor's legs share one root) and expiry. Puts
are first paired into verticals (long below short), calls likewise (short
below long), matched like brackets along the strikes: walking up, each upper
leg takes the nearest lower legs still unmatched, so verticals nest and never
cross, and a leg larger than its partner takes the next one out for the rest.
Put and call verticals
are then paired into condors (long put < short put < short call < long call,
equal size): first verticals of the same size opened on the same day, then
verticals of the same size, then the rest, each time the lowest short put
with the lowest short call that lies above it. Where several verticals of one
size could pair either way, the export cannot say which were sold together:
the pairing is by strike order and a note says so.

**Other shapes.** What a roll or a close leaves is written as the position it
is, with a note: a put and a call vertical of one account and size on
*different* expiries (a condor whose sides expire apart; roots may differ too)
are one position, the same open date first, then the nearest expiries; a
vertical left alone — no other side, or the part of a larger vertical beyond
its partner's size — is a position of its own. What makes no vertical — a
lone leg — is listed with the reason, never guessed into a position; so is a
position whose cost basis nets to a debit, or to more than its widest wing.

**Hedges.** VIX calls are paired into call spreads (long below short) the
same way. A spread becomes a hedge layer only when it matches an
``open_hedge`` recommendation of a ``vix_call_spread`` recorded in the
decision journal — same expiry, strikes and quantity — for a position that is
one of the imported condors in the spread's account (the same id, or the same
root, expiry and strikes in the position file the journal names). A spread
whose quantity is the sum of the layers recommended for one position is split
into those layers. Anything else is listed as unmatched.

Why one long module (about 650 lines): the condor pairing and the hedge matching work on
the same private records (``_Vertical``, the ``ImportedPosition`` being built) in one pass
per account; split in two, each half would import the other's internals.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from alvh_cli.inputs.brokers.common import ImportedLeg, fmt_strike


@dataclass(frozen=True)
class RecommendedSpread:
    """A VIX call spread alvh recommended (``open_hedge``), as the journal recorded it.

    ``condor`` is (root, expiry, long put, short put, short call, long call)
    of the position in the file the journal names, when that file still
    holds it; None otherwise.
    """

    position_id: str
    source: str
    layer: int
    expiry: date
    long_strike: float
    short_strike: float
    quantity: int
    asof: str = ""
    condor: tuple | None = None


@dataclass(frozen=True)
class Hedge:
    """A VIX call spread on a condor: the layer it is, its long and short leg."""

    layer: int
    legs: tuple[ImportedLeg, ImportedLeg]
    recommendation: RecommendedSpread


@dataclass(frozen=True)
class ImportedPosition:
    """A position found in the export, with its hedges when matched: an iron condor (legs
    long put, short put, short call, long call, each with quantity ± ``size``; its sides on
    one expiry and root, or each on its own when they expire apart), or a credit vertical
    alone (long put, short put; or short call, long call)."""

    id: str
    account: str
    legs: tuple[ImportedLeg, ...]
    hedges: tuple[Hedge, ...] = ()

    @property
    def sides(self) -> tuple[tuple[ImportedLeg, ImportedLeg], ...]:
        """The verticals held, the put side first, each in strike order."""
        return tuple((self.legs[i], self.legs[i + 1]) for i in range(0, len(self.legs), 2))

    @property
    def kind(self) -> str:
        """``iron condor``, ``put vertical`` or ``call vertical``."""
        return "iron condor" if len(self.legs) == 4 else f"{self.legs[0].type} vertical"

    @property
    def roles(self) -> tuple[str, ...]:
        """Each leg's role, in the order of ``legs``."""
        return tuple(
            f"{'long' if g.quantity > 0 else 'short'} {g.type}" for g in self.legs
        )  # fmt: skip

    @property
    def root(self) -> str:
        return self.legs[0].root

    @property
    def expiry(self) -> date:
        """The first side's expiry (the put side's, for a condor)."""
        return self.legs[0].expiry

    @property
    def one_series(self) -> bool:
        """Every leg on one root and expiry (a condor as it was sold, or a vertical)."""
        return len({(g.root, g.expiry) for g in self.legs}) == 1

    @property
    def size(self) -> int:
        return abs(self.legs[0].quantity)

    @property
    def strikes(self) -> tuple[float, ...]:
        return tuple(g.strike for g in self.legs)

    @property
    def signature(self) -> tuple | None:
        """(root, expiry, strikes…) of a condor on one series (what the journal's file is
        matched by); None for other shapes."""
        if len(self.legs) != 4 or not self.one_series:
            return None
        return (self.root, self.expiry, *self.strikes)

    @property
    def opened(self) -> date | None:
        """The earliest open date of the legs, when the export gives every one."""
        dates = [g.opened for g in self.legs]
        return min(dates) if all(d is not None for d in dates) else None

    @property
    def credit(self) -> float | None:
        """Net entry premium per unit, in points: shorts received less longs paid."""
        if any(g.entry_price is None for g in self.legs):
            return None
        return round(sum(-g.entry_price if g.quantity > 0 else g.entry_price
                         for g in self.legs), 10)  # fmt: skip

    @property
    def width(self) -> float:
        return max(abs(b.strike - a.strike) for a, b in self.sides)

    def describe(self) -> str:
        """``SPXW 2026-12-18 5400/5450/6300/6350 x2``; ``SPXW 2026-12-18 6450/6500 call
        vertical x5``; a condor whose sides expire apart names each side."""
        if self.one_series:
            strikes = "/".join(fmt_strike(k) for k in self.strikes)
            kind = "" if len(self.legs) == 4 else f" {self.kind}"
            return f"{self.root} {self.expiry} {strikes}{kind} x{self.size}"
        sides = " + ".join(
            f"{a.root} {a.expiry} {fmt_strike(a.strike)}/{fmt_strike(b.strike)} {a.type} vertical"
            for a, b in self.sides
        )
        return f"{sides} x{self.size}"


@dataclass(frozen=True)
class Leftover:
    """Legs not written to the book (with the quantities left over) and why."""

    legs: tuple[ImportedLeg, ...]
    reason: str

    def describe(self) -> str:
        return " + ".join(g.describe() for g in self.legs)

    @property
    def source(self) -> str:
        return ", ".join(dict.fromkeys(g.source for g in self.legs if g.source))


@dataclass(frozen=True)
class Grouping:
    """Everything found: positions (with hedges), leftovers, and notes on choices made; the
    positions the journal recorded that the export holds (``journalled``:
    ``alvh_cli.inputs.brokers.journalled.Journalled``), written before the others."""

    positions: tuple[ImportedPosition, ...]
    leftovers: tuple[Leftover, ...]
    notes: tuple[str, ...] = ()
    journalled: tuple = ()

    @property
    def written(self) -> int:
        """How many positions the file holds."""
        return len(self.journalled) + len(self.positions)

    @property
    def hedges(self) -> tuple[Hedge, ...]:
        return tuple(h for c in self.positions for h in c.hedges)


@dataclass(frozen=True)
class _Vertical:
    long: ImportedLeg  # quantity +n
    short: ImportedLeg  # quantity -n

    @property
    def n(self) -> int:
        return self.long.quantity

    @property
    def opened(self) -> date | None:
        a, b = self.long.opened, self.short.opened
        return a if a is not None and a == b else None

    def take(self, n: int) -> _Vertical:
        return _Vertical(replace(self.long, quantity=n), replace(self.short, quantity=-n))

    def describe(self) -> str:
        g = self.long
        kind = "put" if g.type == "put" else "call"
        lo, hi = sorted((self.long.strike, self.short.strike))
        return f"{g.root} {g.expiry} {fmt_strike(lo)}/{fmt_strike(hi)} {kind} vertical x{self.n}"


# --------------------------------------------------------------------------- entry point


def group(
    legs: Sequence[ImportedLeg],
    recommendations: Sequence[RecommendedSpread] = (),
    no_match: str = "no journal was read",
) -> Grouping:
    """Condors, their hedges and the leftovers of ``legs`` (see the module doc).

    ``recommendations`` are the journal's ``open_hedge`` VIX call spreads,
    newest first; ``no_match`` is the reason given to a VIX spread that no
    recommendation names (e.g. which journal was searched).
    """
    spx = [g for g in legs if g.underlying == "SPX"]
    vix = [g for g in legs if g.underlying == "VIX"]
    condors, leftovers, notes = _condors(spx)
    hedges, more, more_notes = _hedges(vix, condors, recommendations, no_match)
    condors = [replace(c, hedges=tuple(hedges.get(c.id, ()))) for c in condors]
    return Grouping(tuple(condors), tuple(leftovers + more), tuple(notes + more_notes))


# --------------------------------------------------------------------------- condors


def _condors(
    legs: Sequence[ImportedLeg],
) -> tuple[list[ImportedPosition], list[Leftover], list[str]]:
    buckets: dict[tuple, list[ImportedLeg]] = defaultdict(list)
    for g in legs:
        buckets[(g.account, g.root, g.expiry)].append(g)
    found: list[ImportedPosition] = []
    leftovers: list[Leftover] = []
    notes: list[str] = []
    alone: dict[str, list[tuple[_Vertical, str]]] = defaultdict(list)  # per account
    for key in sorted(buckets, key=lambda k: (k[0], k[2], k[1])):
        account, root, expiry = key
        bucket = buckets[key]
        puts, lone_p = _verticals([g for g in bucket if g.type == "put"], "put")
        calls, lone_c = _verticals([g for g in bucket if g.type == "call"], "call")
        leftovers += lone_p + lone_c
        pairs, rest, bucket_notes = _pair(puts, calls, f"{root} {expiry}")
        notes += bucket_notes
        other_root = {"SPX": "SPXW", "SPXW": "SPX"}.get(root)
        hint = ""
        if (account, other_root, expiry) in buckets:
            hint = (
                f"; {other_root} legs of the same expiry are in the export, but SPX (AM) and "
                "SPXW (PM) are different contracts and a condor's legs share one root"
            )
        alone[account] += [(v, hint) for v in rest]
        found += [(_position(account, p, c), "") for p, c in pairs]
    for account, verticals in alone.items():
        pairs, rest = _across(verticals)
        for p, c in pairs:
            found.append((_position(account, p, c), (
                f"{p.describe()} and {c.describe()}, on different expiries, make one position "
                "(a condor whose sides expire apart, as a roll leaves it): the export does not "
                "say they were one trade; edit the file if they were not"
            )))  # fmt: skip
        for v, hint in rest:
            side = "call" if v.long.type == "put" else "put"
            found.append((_position(account, v), (
                f"{v.describe()}: a position of its own (a {v.long.type} vertical: no {side} "
                f"vertical of its size in the account to make a condor with{hint}); edit "
                "the file if it belongs to another position"
            )))  # fmt: skip
    positions = []
    for p, note in found:
        problem = _problem(p)
        if problem:
            leftovers.append(Leftover(p.legs, problem))
            continue
        positions.append(p)
        notes += [note] if note else []
    return _named(positions), leftovers, notes


def _position(account: str, first: _Vertical, second: _Vertical | None = None):
    """A condor from a put and a call vertical, or a vertical alone, legs in strike order."""
    legs = []
    for v in (first, second):
        if v is not None:
            legs += sorted((v.long, v.short), key=lambda g: g.strike)
    return ImportedPosition("", account, tuple(legs))


def _across(
    verticals: list[tuple[_Vertical, str]],
) -> tuple[list[tuple[_Vertical, _Vertical]], list[tuple[_Vertical, str]]]:
    """Put and call verticals of one account left after the condors of one expiry, paired
    into condors whose sides expire apart: the same size, the short put below the short call,
    on different expiries; the same open date first, then the nearest expiries. Returns the
    pairs and the verticals left (with their hints)."""
    puts = [(v, h) for v, h in verticals if v.long.type == "put"]
    calls = [(v, h) for v, h in verticals if v.long.type == "call"]
    candidates = sorted(
        (
            (
                not (p.opened is not None and p.opened == c.opened),
                abs((p.short.expiry - c.short.expiry).days),
                p.short.strike,
                c.short.strike,
            ),
            i,
            j,
        )  # fmt: skip
        for i, (p, _) in enumerate(puts)
        for j, (c, _) in enumerate(calls)
        if p.n == c.n and p.short.expiry != c.short.expiry and p.short.strike < c.short.strike
    )
    pairs, used_p, used_c = [], set(), set()
    for _, i, j in candidates:
        if i not in used_p and j not in used_c:
            used_p.add(i)
            used_c.add(j)
            pairs.append((puts[i][0], calls[j][0]))
    rest = [x for i, x in enumerate(puts) if i not in used_p]
    rest += [x for j, x in enumerate(calls) if j not in used_c]
    return pairs, rest


def _verticals(legs: Sequence[ImportedLeg], kind: str) -> tuple[list[_Vertical], list[Leftover]]:
    """Verticals of one bucket, matched like brackets along the strike axis: a put vertical
    is long below short (``put``), a credit call vertical short below long (``call``), a VIX
    call spread long below short (``debit_call``). Walking up the strikes, each upper leg
    takes the nearest lower legs still open, so verticals nest and never cross (a lone short
    put above a condor's put vertical stays alone instead of stealing its wing). What finds
    no partner is returned as leftovers."""
    lower_is_long = kind in ("put", "debit_call")
    open_: list[list] = []  # [leg, contracts still unmatched], nearest last
    verticals: list[_Vertical] = []
    leftovers: list[Leftover] = []
    for g in sorted((g for g in legs if g.quantity), key=lambda g: g.strike):
        if (g.quantity > 0) == lower_is_long:
            open_.append([g, abs(g.quantity)])
            continue
        left = abs(g.quantity)
        while left and open_:
            lower, have = open_[-1]
            n = min(left, have)
            long, short = (lower, g) if lower_is_long else (g, lower)
            verticals.append(_Vertical(replace(long, quantity=n), replace(short, quantity=-n)))
            left -= n
            open_[-1][1] -= n
            if open_[-1][1] == 0:
                open_.pop()
        if left:
            leftovers.append(Leftover((replace(g, quantity=_sign(g) * left),), _lone(g, kind)))
    for g, have in open_:
        leftovers.append(Leftover((replace(g, quantity=_sign(g) * have),), _lone(g, kind)))
    leftovers.sort(key=lambda lo: lo.legs[0].strike)
    return verticals, leftovers


def _sign(g: ImportedLeg) -> int:
    return 1 if g.quantity > 0 else -1


def _lone(g: ImportedLeg, kind: str) -> str:
    if kind == "debit_call":
        if g.type != "call":
            return "a VIX put: alvh's hedge layers are VIX call spreads"
        if g.quantity > 0:
            return "long VIX call with no short VIX call above it (not a call spread)"
        return "short VIX call with no long VIX call below it (not a call spread)"
    if kind == "put":
        if g.quantity < 0:
            return "short put with no long put below it (a condor's put wing)"
        return "long put with no short put above it"
    if g.quantity < 0:
        return "short call with no long call above it (a condor's call wing)"
    return "long call with no short call below it"


def _pair(
    puts: list[_Vertical], calls: list[_Vertical], where: str
) -> tuple[list[tuple[_Vertical, _Vertical]], list[_Vertical], list[str]]:
    """Put and call verticals into condors (see the module doc); returns the pairs, the
    verticals left and notes on ambiguous or split pairings."""
    notes: list[str] = []
    pairs: list[tuple[_Vertical, _Vertical]] = []
    puts = sorted(puts, key=lambda v: v.short.strike)
    calls = sorted(calls, key=lambda v: v.short.strike)

    def sweep(fits) -> None:
        for p in list(puts):
            for c in calls:
                if p.short.strike < c.short.strike and fits(p, c):
                    pairs.append((p, c))
                    puts.remove(p)
                    calls.remove(c)
                    break

    sweep(lambda p, c: p.n == c.n and p.opened is not None and p.opened == c.opened)
    sizes_p = Counter(v.n for v in puts)
    sizes_c = Counter(v.n for v in calls)
    for n in sorted(sizes_p):
        if sizes_c[n] and (sizes_p[n] > 1 or sizes_c[n] > 1):
            notes.append(
                f"{where}: {sizes_p[n]} put and {sizes_c[n]} call verticals of {n} "
                f"contract{'s' * (n != 1)} "
                "were paired by strike order (lowest short put with lowest short call): the "
                "export does not say which were sold together; edit the file if they were "
                "traded otherwise"
            )
    sweep(lambda p, c: p.n == c.n)
    while True:  # different sizes: the common size makes a condor, the rest stays
        found = None
        for p in puts:
            for c in calls:
                if p.short.strike < c.short.strike:
                    found = (p, c)
                    break
            if found:
                break
        if found is None:
            break
        p, c = found
        n = min(p.n, c.n)
        pairs.append((p.take(n), c.take(n)))
        puts.remove(p)
        calls.remove(c)
        if p.n == c.n:
            continue
        bigger = p if p.n > n else c
        rest = bigger.take(bigger.n - n)
        (puts if bigger is p else calls).append(rest)
        puts.sort(key=lambda v: v.short.strike)
        calls.sort(key=lambda v: v.short.strike)
        notes.append(
            f"{where}: {bigger.describe()} is larger than the other side it pairs with: "
            f"{n} of its {bigger.n} contracts make{'s' * (n == 1)} a condor, the other "
            f"{rest.n} stay{'s' * (rest.n == 1)} apart"
        )
    return pairs, puts + calls, notes


def _problem(c: ImportedPosition) -> str:
    """Why these legs cannot be written as a position ("" when they can)."""
    what = c.describe() if len(c.legs) == 2 else f"iron condor {c.describe()}"
    missing = [g for g in c.legs if g.entry_price is None]
    if missing:
        return (
            f"{what}: the export gives no cost basis for "
            f"{', '.join(g.describe() for g in missing)}; export with the price column"
        )
    credit = c.credit
    if credit <= 0:
        net = "0" if credit == 0 else f"a debit of {-credit:g}"
        return (
            f"{what}: its cost basis nets to {net} per unit, not a credit; "
            "check the export's prices"
        )
    if credit > c.width + 1e-9:
        return (
            f"{what}: a credit of {credit:g} per unit exceeds the widest "
            f"wing ({c.width:g} points); check the export's prices"
        )
    return ""


def condor_id(account: str, root: str, expiry: date, strikes: Sequence[float]) -> str:
    """``[ACCOUNT-]SPXW-20261218-5400-5450-6300-6350``: stable from one import to the next,
    so the journal recognises the position."""
    body = "-".join([root, expiry.strftime("%Y%m%d"), *(fmt_strike(k) for k in strikes)])
    return f"{account}-{body}" if account else body


def position_id(c: ImportedPosition) -> str:
    """:func:`condor_id` of a position on one series; of another shape, each side's root,
    expiry and strikes in turn: ``[ACCOUNT-]SPXW-20261231-4825-4925-SPXW-20261218-6450-6500``."""
    if c.one_series:
        return condor_id(c.account, c.root, c.expiry, c.strikes)
    body = "-".join(condor_id("", a.root, a.expiry, (a.strike, b.strike)) for a, b in c.sides)
    return f"{c.account}-{body}" if c.account else body


def _named(condors: list[ImportedPosition]) -> list[ImportedPosition]:
    out, seen = [], defaultdict(int)
    for c in sorted(condors, key=lambda c: (c.account, c.expiry, c.root, c.strikes)):
        base = position_id(c)
        seen[base] += 1
        out.append(replace(c, id=base if seen[base] == 1 else f"{base}-{seen[base]}"))
    return out


# --------------------------------------------------------------------------- hedges


def _hedges(
    legs: Sequence[ImportedLeg],
    condors: Sequence[ImportedPosition],
    recommendations: Sequence[RecommendedSpread],
    no_match: str,
) -> tuple[dict[str, list[Hedge]], list[Leftover], list[str]]:
    buckets: dict[tuple, list[ImportedLeg]] = defaultdict(list)
    for g in legs:
        buckets[(g.account, g.root, g.expiry)].append(g)
    recs = _distinct(recommendations)
    hedges: dict[str, list[Hedge]] = defaultdict(list)
    leftovers: list[Leftover] = []
    notes: list[str] = []
    for key in sorted(buckets, key=lambda k: (k[0], k[2], k[1])):
        calls = [g for g in buckets[key] if g.type == "call"]
        leftovers += [
            Leftover((g,), _lone(g, "debit_call")) for g in buckets[key] if g.type != "call"
        ]
        spreads, lone = _verticals(calls, "debit_call")
        leftovers += lone
        for v in spreads:
            placed, why = _place(v, condors, recs, no_match)
            if placed is None:
                leftovers.append(Leftover((v.long, v.short), why))
                continue
            for condor, layer, n, rec in placed:
                long = replace(v.long, quantity=n)
                short = replace(v.short, quantity=-n)
                hedges[condor.id].append(Hedge(layer, (long, short), rec))
            if len(placed) > 1:
                notes.append(
                    f"{v.describe()} split into layers "
                    + " + ".join(f"{layer} (x{n})" for _, layer, n, _ in placed)
                    + f" of {placed[0][0].id}, as recommended"
                )
    return hedges, leftovers, notes


def _distinct(recommendations: Sequence[RecommendedSpread]) -> list[RecommendedSpread]:
    """One of each recommendation (newest kept); a review repeats one until it is bought."""
    seen, out = set(), []
    for r in recommendations:
        key = (
            r.source,
            r.position_id,
            r.layer,
            r.expiry,
            r.long_strike,
            r.short_strike,
            r.quantity,
        )
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _target(r: RecommendedSpread, condors: Sequence[ImportedPosition]) -> ImportedPosition | None:
    """The imported condor a recommendation was made for: same id, else the same root,
    expiry and strikes as the position in the journal's file (None when not unique)."""
    by_id = [c for c in condors if c.id == r.position_id]
    if len(by_id) == 1:
        return by_id[0]
    if r.condor is None:
        return None
    same = [
        c
        for c in condors
        if c.signature is not None
        and c.signature == tuple(r.condor)
        # an id alvh import wrote for another account's condor of the same strikes
        and not r.position_id.endswith("-" + condor_id("", c.root, c.expiry, c.strikes))
    ]
    return same[0] if len(same) == 1 else None


def _place(v: _Vertical, condors, recs, no_match):
    """Where spread ``v`` goes: [(condor, layer, contracts, recommendation)], or None and why."""
    named = [
        r
        for r in recs
        if r.expiry == v.long.expiry
        and r.long_strike == v.long.strike
        and r.short_strike == v.short.strike
    ]
    if not named:
        return None, no_match
    targeted = [(r, _target(r, condors)) for r in named]
    placed = [(r, c) for r, c in targeted if c is not None]
    if not placed:
        who = "; ".join(sorted({f"position {r.position_id!r} ({r.source})" for r in named}))
        return None, f"alvh recommended this spread for {who}, not among the condors imported"
    account = v.long.account
    elsewhere = [c.id for _, c in placed if account and c.account and c.account != account]
    placed = [(r, c) for r, c in placed if not (account and c.account and c.account != account)]
    if not placed:
        return None, (
            f"alvh recommended this spread for {', '.join(sorted(set(elsewhere)))}, a condor "
            f"in another account than this spread's ({account})"
        )
    layers: dict[tuple[str, int], list[RecommendedSpread]] = defaultdict(list)
    condor_of = {}
    for r, c in placed:
        layers[(c.id, r.layer)].append(r)
        condor_of[c.id] = c
    exact = [
        (cid, layer) for (cid, layer), rs in layers.items() if any(r.quantity == v.n for r in rs)
    ]
    if len(exact) == 1:
        cid, layer = exact[0]
        rec = next(r for r in layers[(cid, layer)] if r.quantity == v.n)
        return [(condor_of[cid], layer, v.n, rec)], ""
    described = "; ".join(
        f"layer {layer} x{'/x'.join(str(q) for q in dict.fromkeys(r.quantity for r in rs))} "
        f"for {cid}"
        for (cid, layer), rs in sorted(layers.items())
    )
    if len(exact) > 1:
        return None, (
            f"x{v.n} matches more than one recommendation ({described}); "
            "add it to the right position by hand"
        )
    cids = {cid for cid, _ in layers}
    if len(cids) == 1 and len(layers) > 1:
        cid = next(iter(cids))
        latest = {layer: rs[0] for (_, layer), rs in layers.items()}  # newest first
        if sum(r.quantity for r in latest.values()) == v.n:
            return [
                (condor_of[cid], layer, r.quantity, r) for layer, r in sorted(latest.items())
            ], ""
    return None, (
        f"alvh recommended this spread as {described}, not x{v.n}; "
        "add it by hand if it is one of those layers"
    )
