"""Evaluating positions and trades over the scenario set: fills, costs and figures.

An :class:`Evaluator` holds one market's scenario set and revalues any legs
over it; the trades a recommendation proposes are priced at their assumed
fills (the natural bid/ask when quoted, else the model less/plus the rule's
half-spread) with a fee per contract, so every alternative carries its real
trading cost.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from alvh_cli.method import scenarios as sc
from alvh_cli.method.actions import TradeLeg
from alvh_cli.model.domain import Leg, Market
from alvh_cli.model.legs import LegValues, value_legs
from alvh_cli.model.quotes import natural_price
from alvh_cli.model.rules import Rules


@dataclass(frozen=True)
class Costs:
    """Assumed half-spread per leg (points) where a contract is unquoted, and the fee per
    contract (dollars: commission plus exchange and clearing fees)."""

    spx_half_spread: float
    vix_half_spread: float
    fee: float

    @classmethod
    def from_rules(cls, rules: Rules) -> Costs:
        return cls(rules.spx_half_spread, rules.vix_half_spread, rules.fee_per_contract)

    def half_spread(self, leg: Leg) -> float:
        return self.spx_half_spread if leg.underlying == "SPX" else self.vix_half_spread


def fill(
    market: Market, leg: Leg, quantity: float, model: float, costs: Costs
) -> tuple[float, bool]:
    """(price per unit, quoted): the ask to buy and the bid to sell when quoted, else the
    model price plus (buy) or less (sell, never below 0) the assumed half-spread."""
    buying = quantity > 0
    if leg.is_option:
        side = "buy" if buying else "sell"
        q = natural_price(market, leg.underlying, leg.type, leg.strike, leg.expiry, side, leg.root)
        if q is not None:
            return float(q), True
    hs = costs.half_spread(leg)
    return (model + hs, False) if buying else (max(model - hs, 0.0), False)


def trade(
    market: Market,
    legs: Sequence[Leg],
    quantities: Sequence[int],
    models: Sequence[float],
    costs: Costs,
    opening: bool,
    fills: dict | None = None,
) -> tuple[TradeLeg, ...]:
    """Trade legs for ``quantities`` (signed: + buy) of ``legs`` at their assumed fills.
    Whole numbers are kept as ``int``; a fraction of a contract (the method sized without
    rounding, ``integral=False``) stays a float. ``fills``, a dict shared by the calls
    that trade the same leg objects in several sizes, keeps each leg's fill per side and
    model price (a fill depends on the size only through its sign)."""
    out = []
    for g, q, m in zip(legs, quantities, models, strict=True):
        if q == 0:
            continue
        q = int(q) if float(q).is_integer() else float(q)
        m = float(m)
        if fills is None:
            price, quoted = fill(market, g, q, m, costs)
        else:
            key = (id(g), q > 0, m)
            hit = fills.get(key)
            if hit is None:
                hit = fills[key] = fill(market, g, q, m, costs)
            price, quoted = hit
        out.append(TradeLeg(g, q, opening, m, price, quoted))
    return tuple(out)


def trading_cost(trades: Sequence[TradeLeg], costs: Costs) -> float:
    """Dollars given up to the spread and fees: Σ |fill − model|·|q|·multiplier + fee·|q|."""
    return float(
        sum(
            abs(t.price - t.model) * abs(t.quantity) * t.leg.multiplier
            + costs.fee * abs(t.quantity)
            for t in trades
        )
    )


def cash(trades: Sequence[TradeLeg]) -> float:
    """Net premium at the fills, dollars: > 0 received, < 0 paid (fees excluded). A future
    has no premium: it is entered at its price and settled daily, so it adds nothing."""
    return float(
        sum(-t.price * t.quantity * t.leg.multiplier for t in trades if t.leg.type != "future")
    )


CACHE_ROWS = 4096
"""Contracts an evaluator keeps revalued over its shared scenario set (a row of about
1,300 scenarios is 10 kB: at most about 40 MiB); the oldest go first."""


@dataclass
class Evaluator:
    """One market's scenario set and the P&L of legs over it.

    ``base`` is the shared scenario set, ``extra`` rungs added for one
    evaluation (:meth:`with_rungs`). Revaluations over ``base`` are cached per
    contract and volatility, so a contract held, hedged with or rolled to by many
    positions is revalued once: a revaluation is the same
    function of the contract's own inputs whichever other legs it was revalued
    beside (:func:`alvh_cli.method.scenarios.revalue` works leg by leg).
    ``blocks`` holds what the method computes once per snapshot (the strikes a
    roll may go to, for one); every copy made by :meth:`with_rungs` shares both.
    The stress levels a check will add as rungs (:meth:`expect_levels`) are revalued
    beside the shared set, in the same call, and cached with it.
    """

    market: Market
    rules: Rules
    base: sc.ScenarioSet
    extra: sc.ScenarioSet | None = None
    _cache: dict = field(default_factory=dict, repr=False)
    blocks: dict = field(default_factory=dict, repr=False)
    _extra_cache: dict = field(default_factory=dict, repr=False)  # this copy's rungs alone
    _columns: tuple | None = field(default=None, repr=False)  # (_Levels, its columns) or None

    @classmethod
    def from_history(
        cls, market: Market, rules: Rules, history: sc.History, horizon_days: int
    ) -> Evaluator:
        return cls(
            market,
            rules,
            sc.build(market, history, horizon_days=horizon_days, vix_beta=rules.vix_beta),
        )

    def shared(self) -> Evaluator:
        """This evaluator over the shared scenario set alone (no extra rungs), sharing its
        caches: what the positions of one snapshot have in common."""
        return Evaluator(self.market, self.rules, self.base, None, self._cache, self.blocks)

    def with_rungs(self, rungs: Sequence[tuple[str, float]]) -> Evaluator:
        """The same evaluator with extra rungs (label, SPX level); it shares this one's
        caches, and keeps the revaluations over its own rungs to itself (one position's),
        unless its levels were expected (:meth:`expect_levels`)."""
        levels = self.blocks.get("levels")
        if levels is None or not all(float(x) in levels.column for _, x in rungs):
            extra = _rungs_only(self.base, self.market, rungs, self.rules.vix_beta)
            return Evaluator(self.market, self.rules, self.base, extra, self._cache, self.blocks)
        # the expected levels' columns: each element computed as _rungs_only computes it
        cols = np.array([levels.column[float(x)] for _, x in rungs], dtype=np.intp)
        own = levels.scenarios
        extra = sc.ScenarioSet(
            own.spx0, own.vix0, own.horizon_days, own.horizon, own.spx[cols], own.vix[cols], 0,
            tuple(label for label, _ in rungs), own.source,
        )  # fmt: skip
        return Evaluator(self.market, self.rules, self.base, extra, self._cache, self.blocks,
                         _columns=(levels, cols))  # fmt: skip

    def expect_levels(self, levels: Sequence[float]) -> None:
        """Say which SPX levels copies will take as rungs (:meth:`with_rungs`: a book's
        stress levels): each contract is then revalued at all of them once, in the call
        that revalues it over the shared set, instead of once per copy. A revaluation at
        a level is the same floats either way (:func:`alvh_cli.method.scenarios.revalue`
        works scenario by scenario as it works leg by leg)."""
        known = self.blocks.get("levels")
        wanted = {float(x) for x in levels}
        if known is not None and wanted <= known.column.keys():
            return
        if known is not None:
            wanted |= known.column.keys()
        self.blocks["levels"] = _Levels.of(self, sorted(wanted))

    def block(self, key, make):
        """``make()``, computed once per snapshot under ``key`` (shared by the copies)."""
        if key not in self.blocks:
            self.blocks[key] = make()
        return self.blocks[key]

    @functools.cached_property
    def scenarios(self) -> sc.ScenarioSet:
        """The shared set, then the extra rungs."""
        base, extra = self.base, self.extra
        if extra is None or extra.n == 0:
            return base
        return sc.ScenarioSet(
            base.spx0,
            base.vix0,
            base.horizon_days,
            base.horizon,
            np.concatenate([base.spx, extra.spx]),
            np.concatenate([base.vix, extra.vix]),
            base.n_hist,
            base.labels + extra.labels,
            base.source,
        )

    def prices(self, legs: Sequence[Leg], values: LegValues | None = None) -> np.ndarray:
        """Per-unit prices at the horizon, (legs, scenarios). ``values`` today's, or priced."""
        if values is None:
            values = value_legs(self.market, legs)
        vols = [-1.0 if v != v else float(v) for v in values.vol.tolist()]
        keys = [(_leg_key(g), v) for g, v in zip(legs, vols, strict=True)]
        base = self._rows(keys, legs, values, self.base, self._cache, self.blocks.get("levels"))
        if self.extra is None or self.extra.n == 0:
            return base
        if self._columns is not None:
            levels, columns = self._columns
            extra = self._rows(keys, legs, values, levels.scenarios, levels.cache)[:, columns]
        else:
            extra = self._rows(keys, legs, values, self.extra, self._extra_cache)
        return np.concatenate([base, extra], axis=1)

    def _rows(
        self, keys, legs, values, scenarios: sc.ScenarioSet, cache: dict, levels=None
    ) -> np.ndarray:
        """The revalued rows of ``keys`` over ``scenarios`` (cached in ``cache``), those not
        cached yet revalued in one call; with ``levels`` (:class:`_Levels`), over its levels
        too in that call, those rows cached in its own cache."""
        todo: dict = {}
        for i, k in enumerate(keys):
            if k not in cache:
                todo.setdefault(k, i)
        if todo:
            r = self.rules
            moves = (r.vix_term_kappa, r.vix_vol_power, r.spx_atm_per_vix)
            idx = list(todo.values())
            over = scenarios if levels is None else levels.joined
            rows = sc.revalue([legs[i] for i in idx], subset(values, idx), self.market,
                              over, *moves)  # fmt: skip
            cache.update(zip(todo, rows[:, : scenarios.n], strict=True))
            if levels is not None:
                levels.cache.update(zip(todo, rows[:, scenarios.n :], strict=True))
                _evict(levels.cache)
        out = np.array([cache[k] for k in keys]).reshape(len(keys), scenarios.n)
        _evict(cache)
        return out

    def values(self, legs: Sequence[Leg]) -> LegValues:
        """Today's values of ``legs`` (:func:`value_legs`), cached per contract for legs
        with no volatility or mark of their own (those the method opens: synthetics, roll
        targets); each leg valued the same whichever legs it was valued beside."""
        if not legs or any(g.iv is not None or g.mark is not None for g in legs):
            return value_legs(self.market, legs)
        today = self.blocks.setdefault("today", {})
        keys = [_leg_key(g) for g in legs]
        todo: dict = {}
        for i, k in enumerate(keys):
            if k not in today:
                todo.setdefault(k, i)
        if todo:
            fresh = vars(value_legs(self.market, [legs[i] for i in todo.values()]))
            for j, k in enumerate(todo):
                # (the float figures in _FLOATS' order, days to expiry, vol source)
                today[k] = (
                    tuple(float(fresh[name][j]) for name in _FLOATS),
                    int(fresh["dte"][j]),
                    fresh["vol_source"][j],
                )
        rows = [today[k] for k in keys]
        table = np.array([r[0] for r in rows], dtype=float).T.copy()  # a figure per row
        out = LegValues(
            **dict(zip(_FLOATS, table, strict=True)),
            dte=np.array([r[1] for r in rows], dtype=np.int64),
            vol_source=tuple(r[2] for r in rows),
            quantity=np.array([float(g.quantity) for g in legs]),
        )
        if len(today) > CACHE_ROWS:
            today.clear()
        return out

    def pnl(self, legs: Sequence[Leg], values: LegValues | None = None) -> np.ndarray:
        """Dollar P&L per leg as held, (legs, scenarios)."""
        if values is None:
            values = value_legs(self.market, legs)
        return sc.pnl_matrix(values, self.prices(legs, values))

    def figures(self, pnl: np.ndarray, legs: Sequence[Leg], today: Sequence[float], cost: float):
        """Risk figures of a P&L vector, the max loss at expiry from ``legs`` worth ``today``
        (per unit) now, less ``cost``."""
        floor = sc.expiry_floor(legs, today) - cost
        return sc.figures(pnl, self.scenarios, self.rules.cvar_level, floor)

    def figures_rows(self, pnl: np.ndarray, floors: np.ndarray, costs: np.ndarray) -> list:
        """:meth:`figures` of each row of ``pnl`` (rows, scenarios), given each row's expiry
        floor (:func:`alvh_cli.method.scenarios.expiry_floor`) and cost."""
        return sc.figures_rows(pnl, self.scenarios, self.rules.cvar_level, floors - costs)


_FLOATS = tuple(
    f.name for f in fields(LegValues) if f.name not in ("dte", "vol_source", "quantity")
)  # LegValues' per-leg float figures, those Evaluator.values keeps per contract


def _evict(cache: dict) -> None:
    """Keep at most ``CACHE_ROWS`` rows, the oldest going first (a dict keeps its insertion
    order)."""
    for k in list(itertools.islice(cache, max(len(cache) - CACHE_ROWS, 0))):
        del cache[k]


@dataclass(frozen=True)
class _Levels:
    """SPX levels the copies of an evaluator take as rungs (:meth:`Evaluator.expect_levels`):
    their scenarios alone and after the shared set's, each level's column, and the
    revaluations over them (per contract and volatility, as the shared set's)."""

    column: dict
    scenarios: sc.ScenarioSet
    joined: sc.ScenarioSet
    cache: dict

    @classmethod
    def of(cls, ev: Evaluator, levels: Sequence[float]) -> _Levels:
        rungs = [("", x) for x in levels]
        own = _rungs_only(ev.base, ev.market, rungs, ev.rules.vix_beta)
        joined = Evaluator(ev.market, ev.rules, ev.base, own).scenarios
        return cls({x: i for i, x in enumerate(levels)}, own, joined, {})


def subset(values: LegValues, idx: list[int]) -> LegValues:
    """``values`` of the legs at ``idx`` alone."""
    parts = {}
    for name, value in vars(values).items():
        if isinstance(value, np.ndarray):
            value = value[idx]
        elif isinstance(value, tuple):
            value = tuple(value[i] for i in idx)
        parts[name] = value
    return type(values)(**parts)


def _leg_key(g: Leg) -> tuple:
    return (g.underlying, g.root, g.type, g.strike, g.expiry)


def _rungs_only(
    base: sc.ScenarioSet, market: Market, rungs: Sequence[tuple[str, float]], beta: float
) -> sc.ScenarioSet:
    levels = np.array([level for _, level in rungs], dtype=float)
    move = levels / market.spx - 1.0
    return sc.ScenarioSet(
        base.spx0,
        base.vix0,
        base.horizon_days,
        base.horizon,
        levels,
        sc.ladder_vix(market.vix, move, beta),
        0,
        tuple(label for label, _ in rungs),
        base.source,
    )
