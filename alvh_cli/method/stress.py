"""The tested side of a position, read from what is held, and the old stress point.

The first method sized hedges to a single stress: SPX to the tested short
strike (to its long strike when spot is already through the short one), or
by ``stress_spx_move``. It is kept as one rung of the scenario ladder, so the
figures a trader knew stay visible beside the scenario set.
"""

from __future__ import annotations

from alvh_cli.model.domain import Market, Position
from alvh_cli.model.rules import Rules


def tested_side(position: Position, spot: float) -> str:
    """The side of the short SPX options held that the market leans on: with shorts on
    both sides, "put" when spot is below the midpoint of the nearest short put and short
    call, else "call"; with shorts on one side (a lone vertical), that side; "none" with
    no short held."""
    put = position.vertical("put", spot)
    call = position.vertical("call", spot)
    if put is None and call is None:
        return "none"
    if put is None or call is None:
        return "put" if call is None else "call"
    mid = 0.5 * (put[0].strike + call[0].strike)
    return "put" if spot < mid else "call"


def quiet_side(position: Position, spot: float, side: str) -> bool:
    """Spot inside every short held: no side is tested yet (shown as "none" while the mark
    is under layer 1)."""
    shorts = [*position.shorts("put"), *position.shorts("call")]
    return (
        all(spot > g.strike if g.type == "put" else spot < g.strike for g in shorts)
        and side != "none"
    )


def stress_target(position: Position, market: Market, rules: Rules, side: str) -> tuple[float, str]:
    """Where SPX goes in the old stress, and a few words on why."""
    if rules.stress_spx_move is not None:
        return market.spx * (1.0 + rules.stress_spx_move), f"SPX {rules.stress_spx_move:+.1%}"
    pair = position.vertical(side, market.spx) if side != "none" else None
    if pair is None:
        return market.spx, "SPX unchanged (no short held)"
    short, long_ = pair
    through = market.spx <= short.strike if side == "put" else market.spx >= short.strike
    if through and long_ is not None:
        return float(long_.strike), f"SPX to the long {side} {long_.strike:g} (through the short)"
    return float(short.strike), f"SPX to the short {side} {short.strike:g}"
