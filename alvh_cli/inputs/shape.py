"""Loading, stage 4, for a position: what its legs say together.

Each leg's dates (a closed leg has its exit price; no leg opened before its position or
closed before it was opened), and the opening legs' shape: an iron condor (long put <
short put < short call < long call, equal size, each side's legs on one expiry and root)
or a vertical. Legs added since may take any shape. Each check raises
:class:`~alvh_cli.errors.InputError` naming the file, the key and the position.
"""

from __future__ import annotations

from alvh_cli.errors import InputError
from alvh_cli.inputs.show import show_num
from alvh_cli.model.domain import Leg, Position


def every_leg(position: Position) -> list[Leg]:
    """The legs held and closed, in the file's order (their keys' order)."""

    def index(g: Leg) -> int:
        return int(g.key.rsplit("[", 1)[1].rstrip("]")) if g.key.endswith("]") else 0

    return sorted((*position.legs, *position.closed), key=index)


def check_leg_dates(g: Leg, position: Position, source: str) -> None:
    """A closed leg has its exit price and an exit price its close; a leg is not opened
    before its position, nor closed before it was opened; a mark has a price."""
    if g.closed is not None and g.exit_price is None:
        raise InputError(
            "a closed leg needs exit_price (the price per point it was closed at)",
            source,
            f"{g.key}.exit_price",
        )
    if g.exit_price is not None and g.closed is None:
        raise InputError(
            "exit_price needs closed (the day the leg was closed)", source, f"{g.key}.closed"
        )
    start = g.opened or position.opened
    if g.opened is not None and position.opened is not None and g.opened < position.opened:
        raise InputError(
            f"opened {g.opened} is before the position was opened ({position.opened})",
            source,
            f"{g.key}.opened",
        )
    if g.closed is not None and start is not None and g.closed < start:
        raise InputError(
            f"closed {g.closed} is before the leg was opened ({start})", source, f"{g.key}.closed"
        )
    if g.mark_time is not None and g.mark is None:
        raise InputError("mark_time needs mark (the broker's price)", source, f"{g.key}.mark")


_ROLES = ("long put", "short put", "short call", "long call")


def check_opening(
    legs: list[Leg], from_occ: list[bool], source: str, key: str
) -> list[tuple[Leg, Leg]]:
    """The opening legs (SPX, no ``layer``, not opened after the position) are an iron
    condor — long put < short put < short call < long call, equal size, each side's two
    legs on one expiry and root (the sides may differ: a position written after a roll) —
    or a vertical, a short and the long beyond it. Returns the verticals as (short, long)."""
    where = f"{key}.legs"
    index = {id(g): int(g.key.rsplit("[", 1)[1].rstrip("]")) for g in legs}
    condor = [(index[id(g)], g) for g in legs]
    if len(condor) == 2 and condor[0][1].type == condor[1][1].type:
        return [_check_vertical(condor, source, where)]
    if len(condor) != 4:
        raise InputError(
            "the condor needs 4 legs without layer (long put, short put, short call, "
            f"long call), or 2 for a vertical, got {len(condor)}",
            source,
            where,
        )
    return _check_condor(condor, from_occ, legs, source, where)


def _check_condor(condor, from_occ, legs, source: str, where: str) -> list[tuple[Leg, Leg]]:
    """Four opening legs: an iron condor (:func:`check_opening`)."""
    for j, g in condor:
        if not g.is_option:
            raise InputError("a condor leg must be an SPX put or call", source, f"{where}[{j}]")
    puts = [(j, g) for j, g in condor if g.type == "put"]
    calls = [(j, g) for j, g in condor if g.type == "call"]
    if len(puts) != 2:
        raise InputError(
            f"the condor needs 2 puts and 2 calls, got {len(puts)} put"
            f"{'s' * (len(puts) != 1)} and {len(calls)} call{'s' * (len(calls) != 1)}",
            source,
            where,
        )
    ordered = []
    for kind, pair in (("put", puts), ("call", calls)):
        longs = [(j, g) for j, g in pair if g.quantity > 0]
        shorts = [(j, g) for j, g in pair if g.quantity < 0]
        if len(longs) != 1:
            sign = "long" if longs else "short"
            j = pair[1][0]
            raise InputError(
                f"the condor needs one long and one short {kind}, got two {sign} {kind}s",
                source,
                f"{where}[{j}].quantity",
            )
        ordered.append((longs[0], shorts[0]))
    (lp, sp), (sc, lc) = ordered[0], ordered[1][::-1]
    roles = list(zip(_ROLES, (lp, sp, sc, lc), strict=True))

    occ = {id(g): o for g, o in zip(legs, from_occ, strict=True)}

    def field_key(j: int, g: Leg, name: str) -> str:
        return f"{where}[{j}].{'occ' if occ[id(g)] else name}"

    for (a_role, (ja, a)), (b_role, (jb, b)) in ((roles[0], roles[1]), (roles[2], roles[3])):
        if b.expiry != a.expiry:
            raise InputError(
                f"the condor's {a_role.split()[1]} legs must share one expiry: {b_role} expires "
                f"{b.expiry}, {a_role} (legs[{ja}]) {a.expiry}",
                source,
                field_key(jb, b, "expiry"),
            )
        if b.root != a.root:
            raise InputError(
                f"the condor's {a_role.split()[1]} legs must share one root: {b_role} is "
                f"{b.root}, {a_role} (legs[{ja}]) {a.root}",
                source,
                field_key(jb, b, "root"),
            )
    (j0, first) = roles[0][1]
    for role, (j, g) in roles[1:]:
        if abs(g.quantity) != abs(first.quantity):
            raise InputError(
                f"the condor legs must be equal size: {role} is {abs(g.quantity)} contracts, "
                f"long put (legs[{j0}]) {abs(first.quantity)}",
                source,
                f"{where}[{j}].quantity",
            )
    for (lo_role, (jl, lo)), (hi_role, (jh, hi)) in zip(roles, roles[1:], strict=False):
        if not lo.strike < hi.strike:
            rel = "equal to" if lo.strike == hi.strike else "below"
            raise InputError(
                "the condor legs must be long put < short put < short call < long call, "
                f"got {hi_role} {show_num(hi.strike)} (legs[{jh}]) {rel} "
                f"{lo_role} {show_num(lo.strike)} (legs[{jl}])",
                source,
                where,
            )
    return [(sp[1], lp[1]), (sc[1], lc[1])]


def _check_vertical(pair, source: str, where: str) -> tuple[Leg, Leg]:
    """Two opening legs of one type: a short and the long beyond it (a credit vertical, the
    side of a condor left), on one expiry and root, equal size."""
    (ja, a), (jb, b) = pair
    kind = a.type
    longs = [(j, g) for j, g in pair if g.quantity > 0]
    if len(longs) != 1:
        sign = "long" if longs else "short"
        raise InputError(
            f"a vertical needs one long and one short {kind}, got two {sign} {kind}s",
            source,
            f"{where}[{jb}].quantity",
        )
    (jl, long_), (js, short) = longs[0], next((j, g) for j, g in pair if g.quantity < 0)
    if long_.expiry != short.expiry or long_.root != short.root:
        what = "expiry" if long_.expiry != short.expiry else "root"
        raise InputError(
            f"the vertical's legs must share one {what}: long {kind} (legs[{jl}]) "
            f"{getattr(long_, what)}, short {kind} (legs[{js}]) {getattr(short, what)}",
            source,
            f"{where}[{jl}].{what}",
        )
    if abs(long_.quantity) != abs(short.quantity):
        raise InputError(
            f"the vertical's legs must be equal size: long {kind} is {abs(long_.quantity)} "
            f"contracts, short {kind} (legs[{js}]) {abs(short.quantity)}",
            source,
            f"{where}[{jl}].quantity",
        )
    beyond = long_.strike < short.strike if kind == "put" else long_.strike > short.strike
    if not beyond:
        side = "below" if kind == "put" else "above"
        raise InputError(
            f"the vertical's long {kind} must be {side} its short {kind}: a credit vertical, "
            f"got long {show_num(long_.strike)} (legs[{jl}]) and short "
            f"{show_num(short.strike)} (legs[{js}])",
            source,
            where,
        )
    return short, long_


def check_net_credit(position: Position, source: str) -> None:
    """A credit taken from the opening legs' entry prices (short minus long, per unit) must
    be above 0."""
    opening = position.opening
    short = sum(g.entry_price for g in opening if g.quantity < 0)
    long = sum(g.entry_price for g in opening if g.quantity > 0)
    net = position.credit
    if net <= 0:
        what = "0" if net == 0 else f"a debit of {show_num(-net)}"
        raise InputError(
            f"credit not given and the condor legs' entry prices net to {what} "
            f"(short {show_num(round(short, 10))} - long {show_num(round(long, 10))}); "
            "give credit or check entry_price",
            source,
            f"{position.key}.credit",
        )
