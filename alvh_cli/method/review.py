"""The book review: every position most urgent first, and the book's totals.

:func:`review_checks` orders a book's checks by urgency (the layer today's mark calls
for, 3 first, then the mark, highest first) and adds up its dollar Greeks and its hedge
spend against budget. It reads nothing and records nothing: the journal and the
comparison with the previous review are ``alvh_cli.app.review``'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alvh_cli.method.actions import Action
from alvh_cli.method.check import CheckResult, PositionCheck
from alvh_cli.method.hedges import hedge_budget, hedge_spent
from alvh_cli.model.book import LoadedFile

TOTAL_GREEKS = ("delta", "gamma", "vega", "theta")


@dataclass(frozen=True)
class ReviewRow:
    """One position of the book: its check, and its hedge budget and spend in dollars."""

    check: PositionCheck
    hedge_budget: float
    hedge_spent: float

    @property
    def needs_action(self) -> bool:
        return self.check.needs_action

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(r.action.value for r in self.check.recommendations)


@dataclass(frozen=True)
class BookTotals:
    """Book sums, in dollars: Greeks (position dollars), P&L of the legs held (``pnl``) and
    realised on the legs closed (``realised``), and hedge spend against budget.

    ``hedge_spent`` is the net entry debit of the hedge layers on; ``hedge_proposed``
    the cost of today's ``open_hedge`` orders at their limits; ``hedge_budget_used`` is
    spent / budget (None when the budget is zero).
    """

    positions: int
    needs_action: int
    delta: float
    gamma: float
    vega: float
    theta: float
    pnl: float
    realised: float
    hedge_budget: float
    hedge_spent: float
    hedge_proposed: float
    hedge_remaining: float
    hedge_budget_used: float | None


@dataclass(frozen=True)
class Review:
    """One review: the rows most urgent first, the totals, and warnings about the book
    (a trade copied into two files). ``regime`` is the first file's (with a shared
    market every file shares it; each row carries its own)."""

    asof: str
    regime: object
    rows: tuple[ReviewRow, ...]
    totals: BookTotals
    warnings: tuple[str, ...] = ()

    @property
    def needs_action(self) -> bool:
        return any(r.needs_action for r in self.rows)


def urgency_key(row: ReviewRow) -> tuple:
    """Sort key, most urgent first: required layer (3 first), then mark multiple (highest first)."""
    pc = row.check
    mark = pc.mark_multiple if math.isfinite(pc.mark_multiple) else -math.inf
    return (-pc.layer, -mark, pc.position.source, pc.position.id)


def duplicate_positions(loaded: Sequence[LoadedFile]) -> list[str]:
    """Positions with the same id and the same legs in different files: one trade copied
    into two files would be counted twice in the totals and the budget."""
    seen: dict[tuple, str] = {}
    out = []
    for lf in loaded:
        for p in lf.file.positions:
            legs = tuple(
                sorted(
                    (
                        g.underlying,
                        g.root,
                        g.type,
                        g.strike or 0.0,
                        g.expiry,
                        g.quantity,
                        g.layer or 0,
                    )  # fmt: skip
                    for g in p.legs
                )
            )
            first = seen.setdefault((p.id, legs), p.source)
            if first != p.source:
                out.append(
                    f"position {p.id!r} in {p.source} repeats {first} leg for leg: counted twice?"
                )
    return out


def book_totals(rows: Sequence[ReviewRow]) -> BookTotals:
    """The book's sums (:class:`BookTotals`)."""
    greeks = {n: sum(float(r.check.greeks[n]) for r in rows) for n in TOTAL_GREEKS}
    budget = sum(r.hedge_budget for r in rows)
    spent = sum(r.hedge_spent for r in rows)
    proposed = sum(
        _budget_cost(rec)
        for r in rows
        for rec in r.check.recommendations
        if rec.action == Action.OPEN_HEDGE
    )
    return BookTotals(
        positions=len(rows),
        needs_action=sum(r.needs_action for r in rows),
        **greeks,
        pnl=sum(float(r.check.pnl) for r in rows),
        realised=sum(r.check.position.realised() for r in rows),
        hedge_budget=budget,
        hedge_spent=spent,
        hedge_proposed=float(proposed),
        hedge_remaining=budget - spent,
        hedge_budget_used=spent / budget if budget > 0 else None,
    )


def _budget_cost(rec) -> float:
    """What an ``open_hedge`` charges to the hedge budget: its orders' cost at their limits,
    or for a future (no premium) its roll-down and friction."""
    hedge = getattr(rec, "hedge", None)
    if hedge is not None and hedge.instrument == "vix_future":
        return hedge.budget_cost
    return sum(o.cost for o in rec.orders)


def rows_of(loaded: Sequence[LoadedFile]) -> Callable[[PositionCheck], ReviewRow]:
    """What makes a check of a position of ``loaded`` a row of its review: its hedge
    budget under its file's rules, and its spend."""
    rules = {(p.source, p.id): lf.rules for lf in loaded for p in lf.file.positions}

    def row(pc: PositionCheck) -> ReviewRow:
        p = pc.position
        return ReviewRow(pc, hedge_budget(p, rules[(p.source, p.id)].hedge_budget), hedge_spent(p))

    return row


def review_checks(checked: CheckResult, loaded: Sequence[LoadedFile]) -> Review:
    """The book's checks (``check_book`` of ``loaded``) as a review: most urgent first,
    with totals and the book's warnings."""
    rows = list(map(rows_of(loaded), checked.positions))
    rows.sort(key=urgency_key)
    return Review(
        asof=checked.asof,
        regime=checked.regime,
        rows=tuple(rows),
        totals=book_totals(rows),
        warnings=tuple(duplicate_positions(loaded)),
    )
