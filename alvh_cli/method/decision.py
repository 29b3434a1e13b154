"""The trader's risk preference, and the one rule every decision follows.

Each alternative (hold, a hedge, a Layer 3 adjustment, an unwind, a trim, a hedge
roll) has scenario figures already net of its trading cost. Its *objective* is

    EV + γ·CVaR        (dollars; CVaR is a P&L, negative in a loss)

with γ = ``risk_aversion``: γ = 0.25 gives up $25 of expected P&L to make the
5%-worst average loss $100 smaller. A hard limit on the tail may stand beside it
(``cvar_limit`` dollars, ``cvar_limit_credit`` × the opening credit): the decision
is the alternative with the best objective among those whose CVaR meets the limit,
or the one with the smallest tail loss when none does. Hold wins every tie, so no
trade is made that the figures do not favour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from alvh_cli.method.scenarios import RiskFigures
from alvh_cli.model.rules import Rules

# an alternative must beat an earlier one by more than a cent per condor unit: float noise is
# no reason to trade, and a tie at one contract stays a tie at ten (the choice scales)
TIE = 0.01


@dataclass(frozen=True)
class Preference:
    """γ and the CVaR floor (a P&L in dollars, −inf without a limit)."""

    risk_aversion: float
    cvar_floor: float = -math.inf
    tie: float = TIE  # dollars within which two objectives tie (TIE per condor unit)

    @classmethod
    def from_rules(
        cls, rules: Rules, credit_dollars: float | None = None, units: float = 1.0
    ) -> Preference:
        """The preference of ``rules`` for a position of ``units`` condors whose opening
        credit is ``credit_dollars``: the tighter of the two per-position limits, where
        set."""
        floors = []
        if rules.cvar_limit:
            floors.append(-rules.cvar_limit)
        if rules.cvar_limit_credit and credit_dollars and credit_dollars > 0:
            floors.append(-rules.cvar_limit_credit * credit_dollars)
        return cls(rules.risk_aversion, max(floors, default=-math.inf), TIE * max(units, 1e-9))

    @classmethod
    def for_position(cls, rules: Rules, position) -> Preference:
        """:meth:`from_rules` for ``position``: its opening credit and its size."""
        return cls.from_rules(rules, position.credit_dollars, position.units)

    @property
    def limited(self) -> bool:
        return math.isfinite(self.cvar_floor)

    def objective(self, f: RiskFigures) -> float:
        return f.ev + self.risk_aversion * f.cvar

    def meets(self, f: RiskFigures) -> bool:
        return not self.limited or f.cvar >= self.cvar_floor - 1e-9

    def choose(self, figures: Sequence[RiskFigures]) -> int:
        """The index of the alternative chosen (``figures[0]`` is holding): the best
        objective within the limit, else the smallest tail loss. Earlier wins ties."""
        within = [i for i, f in enumerate(figures) if self.meets(f)]
        if within:
            return _first_best(within, [self.objective(f) for f in figures], self.tie)
        return _first_best(range(len(figures)), [f.cvar for f in figures], self.tie)

    def why_not(self, f: RiskFigures, chosen: RiskFigures) -> str:
        """Why an alternative was not chosen, in a few words ('' when it was as good)."""
        if not self.meets(f) and self.meets(chosen):
            return f"CVaR {f.cvar:,.0f} beyond the limit {self.cvar_floor:,.0f}"
        gap = self.objective(chosen) - self.objective(f)
        if gap > self.tie:
            return f"{gap:,.0f} below the choice's objective"
        return ""

    def describe(self) -> str:
        text = f"EV + {self.risk_aversion:g}·CVaR"
        if self.limited:
            text += f", CVaR ≥ {self.cvar_floor:,.0f}"
        return text


def _first_best(indices, values, tie: float) -> int:
    best = None
    for i in indices:
        if best is None or values[i] > values[best] + tie:
            best = i
    return best


def objective_text(pref: Preference | None, f: RiskFigures) -> str:
    """'EV + 0.1·CVaR 123' for a reason."""
    if pref is None:
        return f"CVaR {f.cvar:,.0f}, EV {f.ev:,.0f}"
    return f"{pref.describe()} {pref.objective(f):,.0f}"


def change_text(pref: Preference | None, before: RiskFigures, after: RiskFigures) -> str:
    """'EV + 0.1·CVaR 12 → 34, CVaR −900 → −400, EV 101 → 74' for a reason."""
    parts = [
        f"CVaR {before.cvar:,.0f} → {after.cvar:,.0f}",
        f"EV {before.ev:,.0f} → {after.ev:,.0f}",
    ]
    if pref is not None:
        parts.insert(
            0, f"{pref.describe()} {pref.objective(before):,.0f} → {pref.objective(after):,.0f}"
        )
    return ", ".join(parts)
