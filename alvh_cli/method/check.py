"""The daily question: what to do with each position today.

``check_book`` takes valued positions (:mod:`alvh_cli.model.valuation`) and
returns a :class:`PositionCheck` per position: its figures over the scenario
set and typed recommendations (:mod:`alvh_cli.method.actions`). Nothing here
reads a file or knows a command-line option.

The layer rules say what is weighed; the trader's preference chooses
(:mod:`alvh_cli.method.decision`: the best EV + γ·CVaR within the CVaR limit):

1. profit take (mark ≤ 1 − ``profit_take``): close the condor and its hedges (the
   trader's exit rule, shared with the stops in a backtest);
2. hedges on (:mod:`alvh_cli.method.hedges_on`): the unwind when volatility has
   contracted, else the trim of a hedge worth ``hedge_take_profit`` × its cost, the
   roll of a hedge near its expiry — each only when it beats holding;
3. at a layer (from ``adjust_from_layer`` on the put side, from layer 1 on the call
   side): the Layer 3 alternatives of :mod:`alvh_cli.method.layer3` (hold, closes,
   conversions, rolls, in part or whole), and on the put side at Layers 1–2 the VIX
   hedge program of :mod:`alvh_cli.method.hedges` beside them: one choice among all
   (:mod:`alvh_cli.method.recommend`).

A position at Layer 3 or past the 2x stop always gets an explicit decision
and counts as needing attention, even when the decision is to hold.
"""

from __future__ import annotations

import functools
import pickle
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from alvh_cli.method.actions import (
    Action,
    Recommendation,
)
from alvh_cli.method.decision import Preference
from alvh_cli.method.hedges_on import judged, monetise, roll_hedges, take_profit, unwind
from alvh_cli.method.recommend import hedge_wins, layer3_decision, open_hedges
from alvh_cli.method.regime import Regime
from alvh_cli.method.risk import Costs, Evaluator, cash, trade, trading_cost
from alvh_cli.method.scenarios import MIN_WINDOWS, RiskFigures
from alvh_cli.method.stress import quiet_side, stress_target, tested_side
from alvh_cli.model.closes import History, embedded_history
from alvh_cli.model.domain import Position
from alvh_cli.model.exchange import is_business_day
from alvh_cli.model.rules import Rules
from alvh_cli.model.timing import dte
from alvh_cli.model.valuation import PositionValues

if TYPE_CHECKING:  # imported where a layer is due: a quiet book never pays for them
    import numpy as np

    from alvh_cli.method import hedges as hedges_mod
    from alvh_cli.method import layer3 as layer3_mod


@dataclass(frozen=True)
class PositionCheck:
    """One position checked: what it is worth, where it stands, what to do.

    Money in dollars, prices in points per condor unit; ``figures`` are the
    position as held over the scenario set (P&L from today's marks).
    """

    position: Position
    expiry: date
    dte: int
    debit_to_close: float
    mark_multiple: float
    tested_side: str
    layer: int
    layer_reason: str
    regime: str
    greeks: dict[str, float]
    pnl: float
    traditional: dict[str, str]
    figures: RiskFigures | None
    scenario_source: str
    recommendations: tuple[Recommendation, ...]
    attention: bool
    hedge_plan: hedges_mod.HedgePlan | None = None
    layer3: layer3_mod.Layer3 | None = None
    stress: tuple[str, float, float] = ()  # old stress rung: (label, SPX level, VIX level)
    ladder: tuple[tuple[str, float, float, float], ...] = ()  # (rung, SPX, VIX, P&L $) as held
    open_multiple: float | None = None  # the risk held after a change (None: the mark)

    @property
    def needs_action(self) -> bool:
        return self.attention or any(r.action != Action.HOLD for r in self.recommendations)


@dataclass
class CheckResult:
    """The checks of a book: a list, or with ``check_values(stream=True)`` a
    :class:`CheckStream` read once."""

    asof: str
    positions: list[PositionCheck] | CheckStream
    regime: Regime = field(default_factory=Regime)

    @property
    def needs_action(self) -> bool:
        if isinstance(self.positions, CheckStream):
            return self.positions.needs_action
        return any(p.needs_action for p in self.positions)


class CheckStream:
    """A book's checks computed one at a time as they are read, for a writer that streams
    their records: a 10,000-position book's checks are not all held at once (each is
    freed once written). Read once (iterated, or through :meth:`mapped`); its length is
    known before; ``needs_action`` once every check has been read.

    ``check(i)`` checks the i-th position; ``workers`` processes share them: this one and
    forked copies of it (:func:`alvh_cli.forked.ordered_map`), whose checks are the ones
    this process would make; ``restore(i, pc)`` gives a check sent back by a copy the
    caller's own objects."""

    def __init__(
        self,
        check: Callable[[int], PositionCheck],
        count: int,
        workers: int = 1,
        restore: Callable[[int, PositionCheck], PositionCheck] | None = None,
    ):
        self._check = check
        self._count = count
        self._workers = workers
        self._restore = restore
        self._read = 0
        self._action = False
        self._started = False

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[PositionCheck]:
        for i, pc in enumerate(self.mapped(None)):
            yield pc if self._restore is None else self._restore(i, pc)

    def mapped(self, fn: Callable[[PositionCheck], Any] | None) -> Iterator:
        """``fn`` of each check, in order (the check itself with None): where the checks
        are shared among processes, each computes ``fn`` of its own (a JSON record), and
        only that comes back."""
        from alvh_cli import forked

        if self._started:
            raise RuntimeError("a check stream is read once")
        self._started = True

        def work(i: int):
            pc = self._check(i)
            return pc.needs_action, pc if fn is None else fn(pc)

        for action, out in forked.ordered_map(work, self._count, self._workers):
            self._read += 1
            self._action = self._action or action
            yield out

    def each_with(
        self,
        fn: Callable[[PositionCheck], Any],
        sent: Callable[[PositionCheck], PositionCheck] | None = None,
    ) -> Iterator[tuple[PositionCheck, Any]]:
        """Each check (with the caller's own position object) and ``fn`` of it, in order:
        ``fn`` computed by the process that made the check, which sends the check back as
        ``sent`` leaves it (what the reader still needs of it, when ``fn`` has used the
        rest: a forked copy's check is pickled both ways)."""

        def both(pc: PositionCheck):
            return (pc if sent is None else sent(pc)), fn(pc)

        for i, (pc, out) in enumerate(self.mapped(both)):
            yield (pc if self._restore is None else self._restore(i, pc)), out

    @property
    def needs_action(self) -> bool:
        if self._read < self._count:
            raise RuntimeError("the check stream was not read to its end")
        return self._action


def traditional(mark: float) -> dict[str, str]:
    """What the blunt stops would do at today's mark."""
    return {
        "stop_2x": "close" if mark >= 2.0 else "hold",
        "stop_3x": "close" if mark >= 3.0 else "hold",
    }


def needs_attention(pv: PositionValues, layer: int) -> bool:
    """Layer 3, or past the 2x stop on the risk held (after a roll or a close, a loss
    already realised does not keep a position on the list every day)."""
    return layer == 3 or pv.open_multiple >= 2.0


def thresholds(rules: Rules, regime: Regime) -> tuple[float, float, float]:
    """Layer 1/2/3 multiples in force: scaled in an elevated regime, layer 1 from
    ``layer1_elevated_multiple`` while the VIX spike signal is on."""
    t1, t2, t3 = rules.thresholds(bool(regime.elevated))
    if regime.spike:
        t1 = min(t1, rules.layer1_elevated_multiple)
    return t1, t2, t3


def required_layer(pv: PositionValues, side: str, rules: Rules, regime: Regime) -> tuple[int, str]:
    """The layer today's mark and spot call for (0..3), and the reason in a few words."""
    t1, t2, t3 = thresholds(rules, regime)
    # after a roll or a close the layers follow the risk still held, not the loss realised
    mark = pv.open_multiple
    word = "mark" if mark == pv.mark_multiple else "held legs' mark"
    spot = pv.market.spx
    pair = pv.position.vertical(side, spot) if side != "none" else None
    short = pair[0] if pair is not None else None
    short_delta = abs(float(pv.values.delta[pv.legs.index(short)])) if short else 0.0
    through = short is not None and (
        spot <= short.strike if side == "put" else spot >= short.strike
    )
    if mark >= t3:
        why = f"{word} {mark:.2f}x >= {t3:.4g}x"
        layer = 3
    elif through:
        why, layer = f"SPX {spot:,.2f} through the short {side} {short.strike:g}", 3
    elif short_delta >= rules.layer3_short_delta:
        why = f"short {side} |delta| {short_delta:.2f} >= {rules.layer3_short_delta:g}"
        layer = 3
    elif mark >= t2:
        why, layer = f"{word} {mark:.2f}x >= {t2:.4g}x", 2
    elif mark >= t1:
        why, layer = f"{word} {mark:.2f}x >= {t1:.4g}x", 1
    else:
        why, layer = f"{word} {mark:.2f}x < {t1:.4g}x", 0
    scaled = rules.thresholds(bool(regime.elevated))[0]
    if regime.spike and layer == 1 and mark < scaled:
        why += " (VIX spike: layer 1 early)"
    elif regime.elevated and layer:
        if layer == 1 and t1 < scaled:  # the spike lowered layer 1: name the scaled one met
            why = f"{word} {mark:.2f}x >= {scaled:.4g}x"
        why += f" (elevated regime: thresholds × {rules.elevated_scale:g})"
    return layer, why


@functools.lru_cache(maxsize=1024)
def trading_days_until(start: date, end: date) -> int:
    """Exchange days after ``start`` up to ``end`` (a book's positions share a few expiries:
    counted once each)."""
    n, day = 0, start
    while day < end:
        day += timedelta(days=1)
        n += is_business_day(day)
    return n


class ScenarioSets:
    """Scenario sets shared by the positions of one check (one per market and horizon).

    The historical scenarios come from ``history`` up to each market's date; when
    that gives fewer than ``MIN_WINDOWS`` windows the embedded closes stand in
    (and say so), unless ``fallback`` is False (a backtest must not see the future:
    it then runs on the windows it has).
    """

    def __init__(self, history: History | None = None, fallback: bool = True):
        self.history = history if history is not None else embedded_history()
        self.fallback = fallback
        self._evaluators: dict[tuple, Evaluator] = {}

    def evaluator(self, pv: PositionValues) -> Evaluator:
        rules, market = pv.rules, pv.market
        left = trading_days_until(market.asof.date(), pv.position.expiry)
        horizon = max(1, min(int(rules.scenario_horizon_days), left))
        key = (id(market), rules, horizon)
        ev = self._evaluators.get(key)
        if ev is None:
            if len(self._evaluators) > 64:
                self._evaluators.clear()
            past = self.history.before(market.asof.date())
            if self.fallback and len(past.spx) < MIN_WINDOWS + horizon:
                own = embedded_history()
                past = replace(
                    own,
                    source=f"{own.source} ({past.source} has under {MIN_WINDOWS} windows "
                    f"before {market.asof.date()})",
                )
            ev = Evaluator.from_history(market, rules, past, horizon)
            self._evaluators[key] = ev
        return ev

    def expect(self, values: Sequence[PositionValues]) -> None:
        """Tell each evaluator the stress levels its live positions among ``values`` will
        add as rungs (:meth:`Evaluator.expect_levels`), so that a contract is revalued at
        all of them in one call."""
        levels: dict[int, tuple[Evaluator, set]] = {}
        for pv in values:
            p = pv.position
            if p.is_closed:
                continue
            ev = self.evaluator(pv)
            level = stress_target(p, pv.market, pv.rules, tested_side(p, pv.market.spx))[0]
            levels.setdefault(id(ev), (ev, set()))[1].add(level)
        for ev, wanted in levels.values():
            ev.expect_levels(sorted(wanted))


def check_book(
    loaded: Sequence,
    regimes: Sequence[Regime] | None = None,
    *,
    history: History | None = None,
    book_hedges: bool = True,
    stream: bool = False,
) -> CheckResult:
    """Check every position of loaded files (``alvh_cli.inputs.book.load_book``);
    ``regimes`` one per file (default: 'unavailable'), ``history`` the closes behind the
    historical scenarios (default: the embedded ones); ``book_hedges`` and ``stream`` as
    :func:`check_values`."""
    from alvh_cli.model.valuation import value_book

    regimes = list(regimes) if regimes is not None else [Regime() for _ in loaded]
    per_file = [r for lf, r in zip(loaded, regimes, strict=True) for _ in lf.file.positions]
    return check_values(
        value_book(loaded), per_file, history=history, book_hedges=book_hedges, stream=stream
    )


COMPILED_BOOK = 20
"""Positions from which a check prices with scipy.special's normal distribution even when
no hedge is sized: their revaluations are arrays of tens of thousands of elements, where
scipy's compiled loops repay their import (~0.2 s)."""


def sizes_a_hedge(pv: PositionValues, regime: Regime | None) -> bool:
    """Whether :func:`check_position` will size a VIX hedge for ``pv`` (and so load scipy
    for its integer program): a live position, no profit take, tested on the put side at
    layer 1 or 2 with fewer layers on (the ``hedging`` rule of ``_check_position``)."""
    p = pv.position
    if p.is_closed or pv.rules.profit_take_hit(pv.mark_multiple):
        return False
    side = tested_side(p, pv.market.spx)
    layer = required_layer(pv, side, pv.rules, regime or Regime())[0]
    return side == "put" and layer in (1, 2) and max(p.hedge_layers, default=0) < layer


def imports_ahead() -> None:
    """Import what a check of a big book will: scipy.special (the normal distribution it
    prices with, :func:`compiled_normal_pays`) and scipy.optimize (the integer programs of
    its hedges), ~0.3 s, for a caller with time to spare now (while forked copies parse
    the book's files). No figure depends on it: :func:`check_values` chooses its normal
    distribution by the book's own needs."""
    import scipy.optimize  # noqa: F401
    import scipy.special  # noqa: F401


def compiled_normal_pays(pairs: Sequence[tuple[PositionValues, Regime]]) -> bool:
    """Whether a check of ``pairs`` (position, regime) prices with scipy.special's normal:
    a big book, or scipy loaded anyway to size a hedge."""
    return len(pairs) >= COMPILED_BOOK or any(sizes_a_hedge(pv, r) for pv, r in pairs)


PARALLEL_FROM = 200
"""Live positions from which a check spreads them over the local cores in a pool of fresh
processes (joblib, when it is installed: ``alvh[sweep]``), where forked copies of this one
are not to be had (:func:`fork_workers`: not on Linux, or another thread running). Below
it, starting the workers (a Python with numpy, and scipy where a hedge is sized: about
half a second each) costs more than it saves."""

PARALLEL_CORES = 4
"""Cores from which a check spreads at all. On two, with the book's hedges one program, a
spread check was no faster than one process and held more memory (benchmarks/book.py:
1,000 positions 0.92x the wall time and 0.78x the CPU in one process; 10,000 positions
30.2 s and 401 MB in one process against 31.3 s and 679 MB spread over two): the other
process's start-up and the positions' checks pickled back cost what the second core
saves. Four or more cores are not measured here."""


def default_workers(live: int) -> int:
    """The processes a check of ``live`` positions uses: the cores this process may use
    (``forked.usable_cores``), from ``PARALLEL_FROM`` positions on when joblib is
    installed and there are at least ``PARALLEL_CORES`` of them, else one."""
    import importlib.util

    if live < PARALLEL_FROM or importlib.util.find_spec("joblib") is None:
        return 1
    from alvh_cli import forked

    cores = forked.usable_cores()
    return cores if cores >= PARALLEL_CORES else 1


FORK_FROM = 100
"""Live positions from which a check shares them with forked copies of this process
(:func:`alvh_cli.forked.ordered_map`; :func:`alvh_cli.forked.fork_workers` of them): a
copy costs next to nothing to make, but below this the checks are over before a second
core pays."""


def fork_workers(live: int) -> int:
    """The processes a check of ``live`` positions uses, this one and forked copies: the
    cores from ``FORK_FROM`` positions on, where a fork is safe; else one."""
    from alvh_cli import forked

    return forked.fork_workers() if live >= FORK_FROM else 1


def check_values(
    values: Sequence[PositionValues],
    regimes: Sequence[Regime] | None = None,
    *,
    history: History | None = None,
    workers: int | None = None,
    book_hedges: bool = True,
    stream: bool = False,
) -> CheckResult:
    """Check valued positions; ``regimes`` one per position.

    One normal distribution prices the whole check (:func:`pricing.pinned_normal`):
    scipy.special's when a hedge is sized or the book is big, else numpy's, whatever this
    process has loaded, so each position's figures are the same whatever the positions
    around it, whatever ran before and whichever process computed them: ``workers``
    processes share the positions out,
    forked copies of this one where a fork is safe (:class:`CheckStream`; default
    :func:`fork_workers`), else a pool of fresh ones (:func:`_spread`; default
    :func:`default_workers`).

    ``book_hedges``: the positions due a hedge layer on one scenario set are hedged as a
    book, by one program (:mod:`alvh_cli.method.book_hedge`), before the positions are
    checked; False gives each its own program.

    ``stream``: the positions are checked as the result's ``positions`` (a
    :class:`CheckStream`) are read, each under the same normal distribution, so a writer
    need not hold every check at once; the book's programs are solved before. Where the
    checks go to a pool of fresh processes, they come all at once, as a list."""
    from alvh_cli import forked
    from alvh_cli.model import pricing

    regimes = list(regimes) if regimes is not None else [Regime() for _ in values]
    pairs = list(zip(values, regimes, strict=True))
    if workers is None:
        live = sum(not pv.position.is_closed for pv, _ in pairs)
        workers = fork_workers(live) if forked.can_fork() else default_workers(live)
    # pinned by the book's own needs (sized_normal), not by whether scipy is loaded: a
    # caller may have imported it ahead (imports_ahead) and the figures must not know
    with pricing.sized_normal(), pricing.pinned_normal(compiled_normal_pays(pairs)) as mode:
        sets = ScenarioSets(history)
        sets.expect([pv for pv, _ in pairs])
        parts = book_plans(pairs, sets) if book_hedges else {}
        triples = [(pv, r, parts.get(i)) for i, (pv, r) in enumerate(pairs)]
        rows: list | CheckStream
        shared = workers > 1 and len(pairs) > 1
        if shared and not forked.can_fork():  # a pool of fresh processes: all at once
            rows = _spread(triples, history, mode, workers)
        elif stream or shared:
            check = functools.partial(_check_nth, triples, mode, sets)
            own = functools.partial(_own_position, triples)
            rows = CheckStream(check, len(triples), workers, own)
            if not stream:
                rows = list(rows)
        else:
            rows = _check_slice(triples, history, mode, sets=sets)
    asofs = sorted({pv.market.asof.isoformat() for pv in values})
    return CheckResult(
        asofs[0] if len(asofs) == 1 else ",".join(asofs), rows, regimes[0] if regimes else Regime()
    )


def book_plans(pairs: Sequence, sets: ScenarioSets) -> dict:
    """What each position due a hedge layer takes into its check (:class:`BookPart`, by its
    index in ``pairs``): the plan from its book's program (:mod:`alvh_cli.method.book_hedge`),
    None where its book is itself alone (its own program); the Layer 3 alternatives as its
    check weighs them (None where none are) and its figures as held, computed once for
    both. Empty when no two positions are due."""
    due = [i for i, (pv, r) in enumerate(pairs) if sizes_a_hedge(pv, r)]
    if len(due) < 2:
        return {}
    from alvh_cli import forked
    from alvh_cli.method import book_hedge

    def work(k: int):
        found = _member(due[k], *pairs[due[k]], sets)
        if found is None:
            return None
        # neither the legs' P&L rows (Layer 3, their one other use, is weighed) nor the
        # evaluator (its scenario set copied with the stress rung) are kept for the
        # check: over a 20-year history they are hundreds of kB a position
        return found[0], replace(found[1], ev=None, leg_pnl=None)

    workers = forked.fork_workers() if len(due) >= FORK_MEMBERS else 1
    members = []
    scenes = {}
    for found in forked.ordered_map(work, len(due), workers, _sent_member, pickle.loads):
        if found is not None:
            member = found[0]
            if member.ev is None:  # sent by a forked copy: this process's own objects
                pv = pairs[member.index][0]
                ev = stressed(pv, tested_side(pv.position, pv.market.spx), sets)
                member = replace(member, pv=pv, ev=ev)
            members.append(member)
            scenes[member.index] = found[1]
    plans = book_hedge.plans(members)
    return {m.index: BookPart(plans[m.index], m.l3, scenes[m.index]) for m in members}


FORK_MEMBERS = 16
"""Positions due a hedge layer from which :func:`book_plans` shares their scenario work
(figures as held, Layer 3) with forked copies of this process, one per core."""


def _sent_member(found) -> bytes:
    """A member worked out by a forked copy, for :func:`book_plans`: without its position
    and evaluator (the receiver has its own; the evaluator holds a copy of the scenario
    set)."""
    if found is not None:
        found = (replace(found[0], pv=None, ev=None), found[1])
    return pickle.dumps(found)


class BookPart(NamedTuple):
    """What :func:`book_plans` worked out for a position due a hedge layer, for its check:
    its share of its book's program (None: its own program), its Layer 3 alternatives
    (None where none are weighed) and its scene."""

    plan: object
    layer3: object
    scene: Scene


@dataclass(frozen=True)
class Scene:
    """A position over its scenario set as its check first sees it: the evaluator with the
    position's stress rung (None where it was not kept: :func:`stressed` makes it again),
    its P&L per scenario as held and its figures (None with too little history for
    figures), and each leg's P&L per scenario (None also where it was not kept)."""

    ev: Evaluator | None
    held: np.ndarray | None = None
    before: RiskFigures | None = None
    leg_pnl: np.ndarray | None = None


def stressed(pv: PositionValues, side: str, sets: ScenarioSets) -> Evaluator:
    """``pv``'s evaluator: its scenario set with its stress rung (from ``side``)."""
    level, stress_how = stress_target(pv.position, pv.market, pv.rules, side)
    return sets.evaluator(pv).with_rungs([(f"stress: {stress_how}", level)])


def scene_of(pv: PositionValues, side: str, sets: ScenarioSets) -> Scene:
    """``pv`` over its scenario set (:class:`Scene`), its stress rung from ``side``."""
    p = pv.position
    ev = stressed(pv, side, sets)
    if ev.scenarios.n_hist < MIN_WINDOWS:
        return Scene(ev)
    leg_pnl = ev.pnl(p.legs, pv.values)
    held = leg_pnl.sum(axis=0)
    return Scene(ev, held, ev.figures(held, p.legs, pv.values.price, 0.0), leg_pnl)


def _member(i: int, pv: PositionValues, regime: Regime | None, sets: ScenarioSets):
    """Position ``i`` due a hedge layer as :func:`_check_position` sees it there (its
    evaluator, P&L, figures, Layer 3 alternatives), for its book's program, and its
    scene; None without enough history for scenario figures."""
    from alvh_cli.method import book_hedge
    from alvh_cli.method import hedges as hedges_mod
    from alvh_cli.method import layer3 as layer3_mod

    regime = regime or Regime()
    p, market, rules = pv.position, pv.market, pv.rules
    side = tested_side(p, market.spx)
    layer = required_layer(pv, side, rules, regime)[0]
    seen = scene_of(pv, side, sets)
    if seen.held is None:
        return None
    ev, before = seen.ev, seen.before
    l3 = None
    if layer >= rules.adjust_from_layer:
        l3 = layer3_mod.evaluate(ev, p, pv.values, seen.leg_pnl, side, hold=before)
    earliest = hedges_mod.earliest_expiry(ev)
    expiries = hedges_mod.candidate_expiries(market, p.expiry, earliest)
    lasting = tuple(e for e in expiries if e > earliest)
    pref = Preference.for_position(rules, p)
    member = book_hedge.Member(
        i, pv, ev, seen.held, before, pref, layer, l3, lasting, ev.scenarios.n - 1
    )
    return member, seen


def _check_slice(
    triples: Sequence,
    history: History | None,
    mode: str,
    seeds: Sequence = (),
    sets: ScenarioSets | None = None,
) -> list[PositionCheck]:
    """:func:`check_position` of each (position, regime, its book's hedge plan or None), in
    a process of its own or this one, priced with the normal distribution ``mode``
    (``pricing.use_normal``); ``seeds`` (market, its quotes' vols) are the vols the
    calling process had inverted already."""
    from alvh_cli.model import pricing
    from alvh_cli.model.legs import seed_quote_vols

    pricing.use_normal(mode)
    for market, vols in seeds:
        seed_quote_vols(market, vols)
    if sets is None:  # another process: its own sets, told of its positions' stress levels
        sets = ScenarioSets(history)
        sets.expect([pv for pv, *_ in triples])
    return [_checked(pv, r, part, sets) for pv, r, part in triples]


def _checked(pv: PositionValues, regime, part: BookPart | None, sets) -> PositionCheck:
    """:func:`check_position` of ``pv``, with what :func:`book_plans` worked out for it."""
    if part is None:
        return check_position(pv, regime, sets)
    return check_position(
        pv, regime, sets, book_plan=part.plan, layer3=part.layer3, scene=part.scene
    )


def _check_nth(triples: Sequence, mode: str, sets: ScenarioSets, i: int) -> PositionCheck:
    """:func:`_checked` of ``triples[i]``, priced under the normal distribution ``mode``;
    the mode in force before is put back for the reader."""
    from alvh_cli.model import pricing

    before = pricing.normal_mode()
    pricing.use_normal(mode)
    try:
        return _checked(*triples[i], sets)
    finally:
        pricing.use_normal(before)


def _own_position(triples: Sequence, i: int, pc: PositionCheck) -> PositionCheck:
    """``pc`` with the caller's own position object (a forked copy sent back its own)."""
    own = triples[i][0].position
    return pc if pc.position is own else replace(pc, position=own)


def _spread(pairs: Sequence, history: History | None, mode: str, workers: int) -> list:
    """``pairs`` checked by this process and ``workers`` − 1 others (joblib's reusable
    process pool, loky), in their order. Process i takes every ``workers``-th position from
    the i-th (so the costly ones, those that size a hedge, are shared evenly), builds its
    own scenario sets from the same history and prices quotes with the vols this process
    inverted: deterministic, so its figures are the ones a single process computes. The
    others keep to one BLAS thread each (their matrix products are small; more threads
    only contend for the cores). Each check comes back with the caller's own position
    object."""
    # joblib's wrapper of loky's reusable pool, not loky's own: the pool is one per process,
    # and a sweep's joblib.Parallel after a check (one process, a library caller) must find
    # the temporary-folder manager joblib gives its pools
    from joblib.executor import get_memmapping_executor

    from alvh_cli.model.legs import quote_vols

    slices = [pairs[i::workers] for i in range(workers)]
    # the quote vols this process inverted (valuing the book): the others price with them
    markets = {id(pv.market): pv.market for pv, *_ in pairs}.values()
    seeds = [(m, quote_vols(m)) for m in markets]
    pool = get_memmapping_executor(workers - 1, env=dict.fromkeys(_BLAS_THREADS, "1"))
    others = [pool.submit(_check_slice, s, history, mode, seeds) for s in slices[1:]]
    done = [_check_slice(slices[0], history, mode), *(f.result() for f in others)]
    rows: list = [None] * len(pairs)
    for i, part in enumerate(done):
        rows[i::workers] = part
    return [replace(pc, position=pv.position) for pc, (pv, *_) in zip(rows, pairs, strict=True)]


_BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


_UNSET = object()  # check_position's layer3 when nothing was weighed before


def check_position(
    pv: PositionValues,
    regime: Regime | None = None,
    scenario_sets: ScenarioSets | None = None,
    *,
    force_layer: int | None = None,
    vix_expiries: tuple[date, ...] | None = None,
    integral: bool = True,
    figures: bool = True,
    book_plan=None,
    layer3=_UNSET,
    scene: Scene | None = None,
) -> PositionCheck:
    """What to do with one position. ``force_layer`` sizes that hedge layer whatever the
    mark (``size-hedge --layer``); ``vix_expiries`` replaces the candidate expiries;
    ``integral=False`` sizes every adjustment in fractions of a contract (the method free
    of rounding, for a backtest: hedge counts from the LP without integrality, conversions
    in tenths of the tested side, a trim by the exact share that recovers the layer's
    cost). ``figures=False`` skips the scenario figures of a position with nothing to
    decide (a backtest's quiet days). ``book_plan``: the position's share of its book's
    hedge program (:func:`book_plans`), in place of its own program; ``layer3`` its Layer
    3 alternatives (or None) as :func:`book_plans` weighed them, not weighed again;
    ``scene`` the position over its scenarios as :func:`book_plans` saw it
    (:func:`scene_of`), not revalued."""
    pc = _check_position(
        pv, regime, scenario_sets, force_layer=force_layer, vix_expiries=vix_expiries,
        integral=integral, figures=figures, book_plan=book_plan, layer3=layer3, scene=scene,
    )  # fmt: skip
    return _held(pc, pv)


def _check_position(
    pv, regime, scenario_sets, *, force_layer, vix_expiries, integral, figures, book_plan=None,
    layer3=_UNSET, scene=None,
):  # fmt: skip
    """:func:`check_position`'s decision (long: the rules in their order of precedence,
    each a few lines, read best in one place)."""
    regime = regime or Regime()
    scenario_sets = scenario_sets or ScenarioSets()
    p, market, rules = pv.position, pv.market, pv.rules
    if p.is_closed:
        return _closed(pv, regime)
    side = tested_side(p, market.spx)
    layer, why = required_layer(pv, side, rules, regime)
    if not figures and layer == 0 and not p.hedges and force_layer is None:
        return _quiet(pv, regime, side, why)
    seen = scene or scene_of(pv, side, scenario_sets)
    ev = seen.ev or stressed(pv, side, scenario_sets)
    scen = ev.scenarios
    if seen.held is None:
        return _blind(pv, regime, side, layer, why, scen)
    stress_col = scen.n - 1
    held, before = seen.held, seen.before
    trad = traditional(pv.mark_multiple)
    attention = needs_attention(pv, layer)
    plan = l3 = None
    recs: list[Recommendation] = []

    deployed = max(p.hedge_layers, default=0)
    t1 = thresholds(rules, regime)[0]
    pref = Preference.for_position(rules, p)
    if rules.profit_take_hit(pv.mark_multiple):
        recs = [take_profit(pv, ev, before)]
        attention = False
    else:
        target = force_layer or layer
        sizing_due = target in (1, 2) and side == "put" and deployed < target
        if p.hedges and pv.open_multiple < t1 * rules.unwind_fraction:
            recs += judged(unwind(pv, ev, t1 * rules.unwind_fraction, before), pref)
        elif p.hedges and not sizing_due:
            # a layer being added needs the hedges on: no profit taken on them that day
            recs += judged(monetise(pv, ev, before, integral=integral), pref)
            recs += judged(roll_hedges(pv, ev, before), pref)
        weigh = layer >= (1 if side == "call" else rules.adjust_from_layer)
        if layer3 is not _UNSET:
            l3 = layer3
        elif force_layer is None and weigh and side in ("put", "call"):
            from alvh_cli.method import layer3 as layer3_mod

            leg_pnl = seen.leg_pnl if seen.leg_pnl is not None else ev.pnl(p.legs, pv.values)
            l3 = layer3_mod.evaluate(
                ev, p, pv.values, leg_pnl, side, integral=integral, hold=before
            )
        hedging = target in (1, 2) and (side == "put" or force_layer is not None)
        if book_plan is not None and hedging and deployed < target:
            plan = book_plan
        elif hedging and (deployed < target or force_layer is not None):
            from alvh_cli.method import hedges as hedges_mod

            expiries = vix_expiries or hedges_mod.candidate_expiries(
                market, p.expiry, hedges_mod.earliest_expiry(ev)
            )
            plan = hedges_mod.plan(
                ev, p, held, before, pv.values.price, target, expiries, stress_col,
                integral=integral, preference=pref,
            )  # fmt: skip
        if l3 is not None and not hedge_wins(plan, l3, pref):
            decision = layer3_decision(l3, layer, why, side, attention, p, plan)
            # closing everything makes the hedges' own orders moot
            recs = [decision] if decision.action == Action.CLOSE_POSITION else [*recs, decision]
        elif plan is not None:
            recs += open_hedges(plan, ev, why, attention, pref)
        elif hedging:
            recs.append(
                Recommendation(
                    Action.HOLD,
                    f"{why}; layer {deployed} already on",
                    layer,
                    before=before,
                    attention=attention,
                )  # fmt: skip
            )
        elif not recs:
            recs.append(Recommendation(Action.HOLD, why, layer or None, before=before))
    if not recs:
        recs.append(Recommendation(Action.HOLD, why, layer or None, before=before))
    if attention and all(r.action == Action.HOLD for r in recs):
        recs = [replace(r, attention=True) for r in recs]
        if trad["stop_2x"] == "close" and "2x stop" not in recs[0].reason:
            recs[0] = replace(
                recs[0],
                reason=f"{recs[0].reason}; past the 2x stop (mark {pv.mark_multiple:.2f}x): "
                "alvh holds, the figures say why",
            )
    recs = _with_orders([_scored(r, pref) for r in recs], p)
    return PositionCheck(
        p,
        p.expiry,
        _dte(pv),
        pv.debit_to_close,
        pv.mark_multiple,
        shown_side(p, market.spx, side, layer),
        layer,
        why,
        regime.label,
        pv.greeks["total"],
        pv.pnl,
        trad,
        before,
        scen.source,
        tuple(recs),
        attention,
        plan,
        l3,
        (
            scen.labels[stress_col - scen.n_hist],
            float(scen.spx[stress_col]),
            float(scen.vix[stress_col]),
        ),
        tuple(
            (label, float(s_), float(v_), float(x))
            for label, s_, v_, x in zip(
                scen.labels,
                scen.spx[scen.ladder],
                scen.vix[scen.ladder],
                held[scen.ladder],
                strict=True,
            )
        ),
    )


def _scored(r: Recommendation, pref: Preference) -> Recommendation:
    """``r`` with the objective of its figures before and after."""
    if r.before is None:
        return r
    after = r.after if r.after is not None else r.before
    return replace(
        r, objective_before=pref.objective(r.before), objective_after=pref.objective(after)
    )


def _quiet(pv: PositionValues, regime: Regime, side: str, why: str) -> PositionCheck:
    """A position below layer 1 with no hedges, checked without its scenario figures: a
    hold, or the profit take."""
    p, rules = pv.position, pv.rules
    recs: tuple[Recommendation, ...] = (Recommendation(Action.HOLD, why),)
    if rules.profit_take_hit(pv.mark_multiple):
        costs = Costs.from_rules(rules)
        trades = trade(
            pv.market, p.legs, [-g.quantity for g in p.legs], pv.values.price, costs, False
        )
        recs = (
            Recommendation(
                Action.TAKE_PROFIT,
                f"mark {pv.mark_multiple:.2f}x: profit take",
                None,
                trades=trades,
                trading_cost=trading_cost(trades, costs),
                cash=cash(trades),
            ),  # fmt: skip
        )
        recs = _with_orders(recs, p)
    return PositionCheck(
        p, p.expiry, _dte(pv), pv.debit_to_close,
        pv.mark_multiple, shown_side(p, pv.market.spx, side, 0), 0, why, regime.label,
        pv.greeks["total"], pv.pnl,
        traditional(pv.mark_multiple), None, "", recs, False,
    )  # fmt: skip


def shown_side(p: Position, spot: float, side: str, layer: int) -> str:
    """The tested side as shown: "none" while no layer is due and spot is inside every
    short held (a calm condor leans on no side yet)."""
    return "none" if layer == 0 and quiet_side(p, spot, side) else side


def _held(pc: PositionCheck, pv: PositionValues) -> PositionCheck:
    """``pc`` with the held legs' multiple, when the position changed since its opening."""
    if pv.open_multiple == pv.mark_multiple:
        return pc
    return replace(pc, open_multiple=pv.open_multiple)


def _dte(pv: PositionValues) -> int:
    """Calendar days to the position's expiry (its last SPX leg's)."""
    p = pv.position
    for i, g in enumerate(pv.legs):
        if g.expiry == p.expiry:
            return int(pv.values.dte[i])
    return dte(pv.market.asof, p.expiry)


def _closed(pv: PositionValues, regime: Regime) -> PositionCheck:
    """A position with nothing held: its realised P&L, nothing to decide."""
    p = pv.position
    rec = Recommendation(Action.HOLD, f"closed: nothing held; ${pv.realised:,.2f} realised", None)
    return PositionCheck(
        p, p.expiry, _dte(pv), pv.debit_to_close, pv.mark_multiple, "none", 0,
        "closed: nothing held", regime.label, pv.greeks["total"], pv.pnl,
        traditional(pv.mark_multiple), None, "", (rec,), False,
    )  # fmt: skip


def _with_orders(recs, p: Position) -> tuple[Recommendation, ...]:
    """Each recommendation with the orders of its trades (the order code is loaded only
    where a recommendation trades; a method sized in fractions has no orders to send)."""
    if not any(r.trades for r in recs) or any(
        not float(t.quantity).is_integer() for r in recs for t in r.trades
    ):
        return tuple(recs)
    from alvh_cli.method.orders import with_orders

    return tuple(with_orders(r, p.legs) for r in recs)


def _blind(pv, regime, side, layer, why, scen) -> PositionCheck:
    """Too little history for a scenario set (a backtest's first weeks): no figures, so no
    hedge or adjustment is chosen; a position that needs attention still says so."""
    p = pv.position
    trad = traditional(pv.mark_multiple)
    attention = needs_attention(pv, layer)
    rec = Recommendation(
        Action.HOLD,
        f"{why}; only {scen.n_hist} historical windows (under {MIN_WINDOWS}): no scenario "
        "figures, so nothing is chosen",
        layer or None,
        attention=attention,
    )
    if pv.rules.profit_take_hit(pv.mark_multiple):
        return _quiet(pv, regime, side, why)
    return PositionCheck(
        p, p.expiry, _dte(pv), pv.debit_to_close,
        pv.mark_multiple, shown_side(p, pv.market.spx, side, layer), layer, why, regime.label,
        pv.greeks["total"], pv.pnl, trad,
        None, scen.source, (rec,), attention,
    )  # fmt: skip
