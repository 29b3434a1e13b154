"""The tested side of a condor, and the old stress point (a rung of the ladder).

The first method sized hedges to a single stress: SPX to the tested short
strike (to its long strike when spot is already through the short one), or
by ``stress_spx_move``. It is kept as one rung of the scenario ladder, so the
figures a trader knew stay visible beside the scenario set.
"""

from __future__ import annotations

from alvh_cli.model.domain import Market, Position
from alvh_cli.model.rules import Rules


def tested_side(position: Position, spot: float) -> str:
    """ "put" when spot is below the midpoint of the short strikes, else "call"."""
    roles = position.legs_by_role()
    mid = 0.5 * (roles["short_put"].strike + roles["short_call"].strike)
    return "put" if spot < mid else "call"


def stress_target(position: Position, market: Market, rules: Rules, side: str) -> tuple[float, str]:
    """Where SPX goes in the old stress, and a few words on why."""
    if rules.stress_spx_move is not None:
        return market.spx * (1.0 + rules.stress_spx_move), f"SPX {rules.stress_spx_move:+.1%}"
    roles = position.legs_by_role()
    short, long_ = (
        (roles["short_put"], roles["long_put"])
        if side == "put"
        else (roles["short_call"], roles["long_call"])
    )
    through = market.spx <= short.strike if side == "put" else market.spx >= short.strike
    if through:
        return float(long_.strike), f"SPX to the long {side} {long_.strike:g} (through the short)"
    return float(short.strike), f"SPX to the short {side} {short.strike:g}"
