"""What a big book shares and spreads, against the straightforward computation.

A check computes once per snapshot what does not depend on the position (revaluations
cached per contract, the strikes a roll may go to), evaluates Layer 3's sizes of one
kind together, and spreads a big book over processes. Each is exact, not close: under
one pinned normal distribution (``pricing.pinned_normal``) the shared or vectorised
figure is the very same float as the one computed alone, so every test here compares
with ``==`` or ``np.array_equal``.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from builders import EXPIRY, condor, loaded, market, vix_spread

from alvh_cli.method import risk
from alvh_cli.method import scenarios as sc
from alvh_cli.method.risk import Evaluator
from alvh_cli.model import pricing
from alvh_cli.model.closes import embedded_history
from alvh_cli.model.domain import Leg, Smile
from alvh_cli.model.legs import value_legs


@pytest.fixture(autouse=True)
def _one_normal():
    with pricing.pinned_normal():
        yield


def evaluator(mkt=None, **rules) -> Evaluator:
    mkt = mkt or market(spx_vol=Smile(0.18, -1.0, 2.0))
    lf = loaded(condor(), mkt, **rules)
    return Evaluator.from_history(mkt, lf.rules, embedded_history(), 5)


def some_legs() -> list[Leg]:
    """SPX puts and calls on two roots, VIX calls and a VIX future: every revaluation path."""
    legs = [
        Leg("SPX", "SPXW", kind, float(k), EXPIRY, 1, 0.0)
        for kind in ("put", "call")
        for k in (5300, 5500, 5650, 6000, 6100)
    ]
    legs += [Leg("SPX", "SPX", "put", 5500.0, date(2027, 1, 15), -2, 0.0)]
    legs += list(vix_spread(22, 30, 3, 1.5, 0.6))
    legs += [Leg("VIX", "VIX", "future", None, date(2027, 1, 20), 1, 0.0)]
    return legs


def straight(ev: Evaluator, legs, values) -> np.ndarray:
    """Every leg revalued on its own over the evaluator's scenarios, no cache."""
    r = ev.rules
    moves = (r.vix_term_kappa, r.vix_vol_power, r.spx_atm_per_vix)
    rows = []
    for i, g in enumerate(legs):
        one = risk.subset(values, [i])
        rows.append(sc.revalue([g], one, ev.market, ev.scenarios, *moves)[0])
    return np.array(rows)


def test_revaluations_cached_per_contract_are_each_legs_own():
    ev = evaluator()
    legs = some_legs()
    values = value_legs(ev.market, legs)
    alone = straight(ev, legs, values)
    assert np.array_equal(ev.prices(legs, values), alone)  # all revalued in one call
    # again, in another order and mixed with new contracts: from the cache, same floats
    order = [5, 0, 13, 2, 2, 7]
    more = [legs[i] for i in order] + [Leg("SPX", "SPXW", "put", 5555.0, EXPIRY, 4, 0.0)]
    more_values = value_legs(ev.market, more)
    assert np.array_equal(ev.prices(more, more_values), straight(ev, more, more_values))
    # an extra rung per evaluation: its own rows, cached apart from the shared set's
    stressed = ev.with_rungs([("stress", 5650.0)])
    assert np.array_equal(
        stressed.prices(legs, values), straight(stressed, legs, values)
    ) and stressed.prices(legs, values).shape == (len(legs), ev.scenarios.n + 1)
    assert np.array_equal(ev.prices(legs, values), alone)


def test_a_contract_at_another_vol_is_revalued_anew():
    ev = evaluator()
    g = [Leg("SPX", "SPXW", "put", 5500.0, EXPIRY, -1, 0.0)]
    smile = value_legs(ev.market, g)
    marked = value_legs(ev.market, [Leg("SPX", "SPXW", "put", 5500.0, EXPIRY, -1, 0.0, iv=0.3)])
    a, b = ev.prices(g, smile), ev.prices(g, marked)
    assert not np.array_equal(a, b)
    assert np.array_equal(b, straight(ev, g, marked))


def test_the_revaluation_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(risk, "CACHE_ROWS", 8)
    ev = evaluator()
    legs = some_legs()
    values = value_legs(ev.market, legs)
    alone = straight(ev, legs, values)
    for start in range(0, len(legs), 3):
        rows = slice(start, start + 3)
        got = ev.prices(legs[rows], risk.subset(values, list(range(len(legs)))[rows]))
        assert np.array_equal(got, alone[rows])
        assert len(ev._cache) <= 8
    assert np.array_equal(ev.prices(legs, values), alone)  # more than the bound at once
    assert len(ev._cache) <= 8


# ------------------------------------------------------------ figures of many rows at once


def rows_of_pnl(seed: int, m: int = 25) -> np.ndarray:
    """P&L rows like Layer 3's: some in whole cents (ties in the tail), one constant."""
    rng = np.random.default_rng(seed)
    n = evaluator().scenarios.n
    rows = rng.normal(0.0, 1.0, (m, n)) * rng.uniform(1.0, 1e5, (m, 1))
    rows[::3] = np.round(rows[::3], 2)
    rows[1] = -12.5
    return rows


def plain_cvar(x: np.ndarray, level: float) -> float:
    """The CVaR by its definition, the whole row sorted: the worst floor(level*n) outcomes
    and the boundary one in part, over level*n."""
    x = np.sort(x)
    k = level * len(x)
    whole = int(np.floor(k + 1e-9))
    total = x[:whole].sum()
    if whole < len(x) and k - whole > 1e-9:
        total += (k - whole) * x[whole]
    return float(total / k)


def plain_tail_weights(x: np.ndarray, level: float) -> np.ndarray:
    """The CVaR's weights by their definition: the whole row in stable order (ties by
    position), 1/(level*n) on the worst floor(level*n), the rest of the mass on the next."""
    k = level * len(x)
    order = np.argsort(x, kind="stable")
    q = np.zeros(len(x))
    whole = int(np.floor(k + 1e-9))
    q[order[:whole]] = 1.0 / k
    if whole < len(x) and k - whole > 1e-9:
        q[order[whole]] = (k - whole) / k
    return q


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("level", [0.05, 0.01, 0.1, 1.0, 1e-6])
def test_cvars_is_cvar_row_by_row(seed, level):
    rows = rows_of_pnl(seed)
    got = sc.cvars(rows, level)
    want = [plain_cvar(r, level) for r in rows]
    assert [float(x) for x in got] == want
    assert [sc.cvar(r, level) for r in rows] == want  # a long row takes the tail alone too
    assert [sc.cvar(r[:500], level) for r in rows] == [plain_cvar(r[:500], level) for r in rows]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("level", [0.05, 0.01, 1.0, 1e-6])
def test_tail_weights_are_the_stable_orders(seed, level):
    """Only the tail is sorted; ties (rounded rows, a flat row) go by position as in the
    stable sort of the whole row."""
    for row in rows_of_pnl(seed):
        for x in (row, row[:7], np.round(row / 1e4)):
            assert np.array_equal(sc.tail_weights(x, level), plain_tail_weights(x, level))


@pytest.mark.parametrize("seed", range(8))
def test_figures_of_rows_are_each_rows_figures(seed):
    ev = evaluator().with_rungs([("stress", 5600.0)])
    base = rows_of_pnl(seed)
    rows = np.concatenate([base, -base[:, -1:] * 3.0], axis=1)  # the stress rung, worst
    floors = np.random.default_rng(seed).uniform(-1e5, 0.0, len(rows))
    floors[2] = -np.inf
    got = sc.figures_rows(rows, ev.scenarios, 0.05, floors)
    assert got == [sc.figures(r, ev.scenarios, 0.05, f) for r, f in zip(rows, floors, strict=True)]


def random_legs(rng) -> list[Leg]:
    """Legs on two SPX expiries and a VIX expiry, calls, puts and a future, shared strikes."""
    legs = []
    for _ in range(int(rng.integers(1, 12))):
        kind = rng.choice(["spx", "spx", "vix", "future"])
        q = int(rng.integers(-5, 6)) or 1
        if kind == "future":
            legs.append(Leg("VIX", "VIX", "future", None, date(2027, 1, 20), q, 0.0))
            continue
        expiry = rng.choice([EXPIRY, date(2027, 1, 15)]) if kind == "spx" else date(2027, 1, 20)
        strike = float(
            rng.choice([5400, 5500, 5600, 6100]) if kind == "spx" else rng.choice([20, 25])
        )
        underlying = "SPX" if kind == "spx" else "VIX"
        root = "SPXW" if kind == "spx" else "VIX"
        legs.append(Leg(underlying, root, str(rng.choice(["put", "call"])), strike, expiry, q, 0.0))
    return legs


@pytest.mark.parametrize("seed", range(40))
def test_expiry_floor_at_given_quantities(seed):
    # Layer 3 asks the floor of the legs it keeps at their kept quantities (a share of each
    # closed) without building new legs: the same floats as the legs made at those sizes.
    # Independent truth too: each group's payoff is piecewise linear in its settlement
    # level, so on a fine grid of levels (groups settle apart: the floor is the sum of
    # each group's least) nothing is below the floor, and the grid reaches it at a kink.
    from dataclasses import replace

    rng = np.random.default_rng(seed)
    legs = random_legs(rng)
    values = rng.uniform(0.0, 80.0, len(legs)).tolist()
    share = rng.choice([0.0, 0.2, 0.5, 1.0 / 3.0, 1.0], len(legs))
    quantity = [g.quantity * (1.0 - x) for g, x in zip(legs, share, strict=True)]
    got = sc.expiry_floor(legs, values, quantity)
    mine = [replace(g, quantity=q) for g, q in zip(legs, quantity, strict=True)]
    want = sc.expiry_floor(mine, values)
    assert got == want and np.signbit(got) == np.signbit(want)

    paid = sum(v * q * g.multiplier for g, v, q in zip(legs, values, quantity, strict=True))
    grid = np.concatenate([np.arange(0.0, 8000.0, 0.5), [1e6]])  # every strike is on it
    least = 0.0
    for key in {(g.underlying, g.expiry) for g in legs}:
        pay = np.zeros_like(grid)
        for g, q in zip(legs, quantity, strict=True):
            if (g.underlying, g.expiry) != key:
                continue
            if g.type == "call":
                worth = np.maximum(grid - g.strike, 0.0)
            elif g.type == "put":
                worth = np.maximum(g.strike - grid, 0.0)
            else:
                worth = grid
            pay += worth * q * g.multiplier
        least += pay.min()
    if got == -math.inf:  # net short calls somewhere: far out the payoff keeps falling
        assert least - paid < -1e6
    else:
        assert got == pytest.approx(least - paid, rel=1e-12, abs=1e-6)


def test_trades_with_shared_fills_are_the_plain_trades():
    from alvh_cli.model.domain import Quote

    mkt = market(quotes=(Quote("SPX", "put", 5500.0, EXPIRY, 30.0, 30.4),))
    legs = [g for g in some_legs() if g.underlying == "SPX"][:6]
    costs = risk.Costs(0.05, 0.025, 1.0)
    models = [float(x) for x in value_legs(mkt, legs).price]
    fills: dict = {}
    for size in (1, 2, 0.3, -1, 5, 0):
        qty = [size * (1 if i % 2 else -1) for i in range(len(legs))]
        for opening in (True, False):
            plain = risk.trade(mkt, legs, qty, models, costs, opening)
            assert risk.trade(mkt, legs, qty, models, costs, opening, fills) == plain


def test_values_cached_per_contract_are_value_legs():
    ev = evaluator()
    legs = some_legs()
    first = ev.values(legs[:7])
    again = ev.values(legs[::-1])
    for got, of in ((first, legs[:7]), (again, legs[::-1])):
        want = value_legs(ev.market, of)
        for name, value in vars(want).items():
            mine = getattr(got, name)
            if isinstance(value, tuple):
                assert mine == value, name
            else:
                assert mine.dtype == value.dtype, name
                assert np.array_equal(mine, value, equal_nan=value.dtype.kind == "f"), name


# ------------------------------------------------ Layer 3: all sizes at once, as each alone


def per_size(ev, position, values, leg_pnl, side, integral):
    """Layer 3's alternatives after hold as it computed them one size at a time, each with
    its own revaluation and its own figures: the code before the sizes were vectorised,
    kept here as the reference."""
    from dataclasses import replace

    from alvh_cli.method import layer3
    from alvh_cli.method.actions import Action, Alternative
    from alvh_cli.method.risk import Costs, cash, trade, trading_cost

    market, costs = ev.market, Costs.from_rules(ev.rules)
    legs_held, today = list(position.legs), values.price

    def reduced(share, cost, added=None):
        legs, prices = [], []
        pnl = -cost + (added[2] if added is not None else 0.0)
        for i, g in enumerate(legs_held):
            keep = 1.0 - share.get(i, 0.0)
            pnl = pnl + keep * leg_pnl[i]
            if keep > 1e-12:
                legs.append(replace(g, quantity=g.quantity * keep))
                prices.append(float(today[i]))
        if added is not None:
            legs += list(added[0])
            prices += list(added[1])
        return ev.figures(np.broadcast_to(pnl, (ev.scenarios.n,)), legs, prices, cost)

    out = []
    pair = layer3.tested_vertical(position, side, market.spx)
    if pair is not None:
        short = pair[0]
        syn = layer3.synthetic(short, side)
        syn_values = value_legs(market, syn)
        syn_pnl = ev.pnl(syn, syn_values).sum(axis=0)
        already = sum(
            g.quantity for g in position.layer_legs
            if g.layer == 3 and g.type == syn[0].type
            and (g.expiry, g.strike) == (short.expiry, short.strike)
        )  # fmt: skip
        name = "conversion" if side == "put" else "reversal"
        for n in layer3._sizes(abs(short.quantity) - max(already, 0), integral):
            trades = trade(market, syn, [n, -n], syn_values.price, costs, True)
            cost = trading_cost(trades, costs)
            added = ([replace(g, quantity=g.quantity * n) for g in syn], syn_values.price,
                     n * syn_pnl)  # fmt: skip
            label = f"{name} {n}" if isinstance(n, int) else f"{name} {n:.3g}"
            fig = reduced({}, cost, added)
            out.append(Alternative(label, Action.CONVERT, fig, cost, cash(trades), trades=trades))
        legs = [g for g in pair if g is not None]
        idx = [legs_held.index(g) for g in legs]
        units = abs(short.quantity)
        for k in layer3._sizes(units, integral):
            qty = [layer3._part(-g.quantity, k / units, integral) for g in legs]
            trades = trade(market, legs, qty, today[idx], costs, False)
            cost = trading_cost(trades, costs)
            fig = reduced(
                {i: q / -g.quantity for i, g, q in zip(idx, legs, qty, strict=True)}, cost
            )
            name = f"close {side} vertical{layer3._of(k, units)}"
            out.append(
                Alternative(name, Action.CLOSE_VERTICAL, fig, cost, cash(trades), trades=trades)
            )
        if pair[1] is not None:
            long_ = pair[1]
            idx = [legs_held.index(short), legs_held.index(long_)]
            close = trade(market, [short, long_], [-short.quantity, -long_.quantity],
                          today[idx], costs, False)  # fmt: skip
            targets = layer3.roll_targets(ev, short, long_, side)
            new = [g for t in targets for g in t]
            new_values = value_legs(market, new) if new else None
            pnl = ev.pnl(new, new_values) if new else None
            for j, (s_new, l_new) in enumerate(targets):
                rows = slice(2 * j, 2 * j + 2)
                prices = new_values.price[rows]
                opens = trade(market, [s_new, l_new], [s_new.quantity, l_new.quantity], prices,
                              costs, True)  # fmt: skip
                trades = close + opens
                cost = trading_cost(trades, costs)
                fig = reduced({i: 1.0 for i in idx}, cost, ([s_new, l_new], prices,
                              pnl[rows].sum(axis=0)))  # fmt: skip
                net = cash(trades) / (abs(short.quantity) * short.multiplier)
                k_s, k_l = sorted((s_new.strike, l_new.strike))
                if net < 0 and s_new.strike != short.strike:
                    continue
                name = (f"roll {side}s to {s_new.expiry:%d%b%y} {k_s:g}/{k_l:g} "
                        f"({abs(net):.2f} {'credit' if net >= 0 else 'debit'})")  # fmt: skip
                out.append(Alternative(name, Action.ROLL, fig, cost, cash(trades), trades=trades))
    units = position.units
    spx = [i for i, g in enumerate(legs_held) if g.underlying == "SPX"]
    for k in layer3._sizes(units, integral):
        whole = abs(k - units) < 1e-9
        idx = range(len(legs_held)) if whole else spx
        legs = [legs_held[i] for i in idx]
        qty = [-g.quantity if whole else layer3._part(-g.quantity, k / units, integral)
               for g in legs]  # fmt: skip
        if not any(qty):
            continue
        trades = trade(market, legs, qty, today[list(idx)], costs, False)
        cost = trading_cost(trades, costs)
        fig = reduced({i: q / -g.quantity for i, g, q in zip(idx, legs, qty, strict=True)}, cost)
        out.append(Alternative(f"close position{layer3._of(k, units)}", Action.CLOSE_POSITION,
                               fig, cost, cash(trades), trades=trades))  # fmt: skip
    return out


def books_with_a_tested_side():
    """Positions with a tested side: the samples, and a hedged condor with a conversion on
    and quotes, at several sizes."""
    from builders import loaded as load_one

    from alvh_cli.inputs.book import load_book
    from alvh_cli.model.domain import Quote
    from alvh_cli.model.valuation import value_book

    root = Path(__file__).resolve().parents[1] / "sample_positions"
    out = list(value_book(load_book(sorted(root.glob("*.toml")))))
    for units in (1, 3, 7):
        hedges = (*vix_spread(22, 30, units, 1.5, 0.6, layer=1, entry_vix=21.0),
                  Leg("SPX", "SPXW", "put", 5500.0, EXPIRY, 1, 30.0, layer=3),
                  Leg("SPX", "SPXW", "call", 5500.0, EXPIRY, -1, 250.0, layer=3))  # fmt: skip
        ic = condor((5400, 5500, 6100, 6200), units=units, credit=12.0, hedges=hedges)
        quotes = (Quote("SPX", "put", 5500.0, EXPIRY, 60.0, 61.0),
                  Quote("SPX", "call", 5500.0, EXPIRY, 330.0, 333.0))  # fmt: skip
        mkt = market(spx=5520.0, spx_vol=Smile(0.2, -1.0, 2.0), quotes=quotes)
        out.append(value_book([load_one(ic, mkt)])[0])
    return out


@pytest.mark.parametrize("integral", [True, False])
def test_layer3_sizes_together_are_each_size_alone(integral):
    from alvh_cli.method import layer3
    from alvh_cli.method.check import ScenarioSets

    sets = ScenarioSets()
    seen = 0
    for pv in books_with_a_tested_side():
        for side in ("put", "call"):
            if layer3.tested_vertical(pv.position, side, pv.market.spx) is None:
                continue
            ev = sets.evaluator(pv).with_rungs([("stress", pv.market.spx * 0.97)])
            leg_pnl = ev.pnl(pv.legs, pv.values)
            got = layer3.evaluate(ev, pv.position, pv.values, leg_pnl, side, integral=integral)
            want = per_size(ev, pv.position, pv.values, leg_pnl, side, integral)
            assert len(got.alternatives) == len(want) + 1
            for a, b in zip(got.alternatives[1:], want, strict=True):
                assert (a.name, a.action, a.cost, a.cash, a.trades) == (
                    b.name, b.action, b.cost, b.cash, b.trades
                )  # fmt: skip
                assert a.figures == b.figures, a.name
            seen += len(want)
    assert seen > 100


# ------------------------------------------------------- a book spread over processes


def checked_json(result) -> str:
    import json

    from alvh_cli.output.check import check_json
    from alvh_cli.output.common import clean

    return json.dumps(clean(check_json(result)))


def same(a, b, where="") -> None:
    """``a`` and ``b`` equal to the last bit: dataclasses field by field, arrays element by
    element, floats exactly (NaN as NaN)."""
    import dataclasses

    assert type(a) is type(b), where
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, float):
        assert a == b or (a != a and b != b), (where, a, b)
    else:
        assert a == b, (where, a, b)


def test_a_book_spread_over_processes_is_checked_as_in_one():
    # The samples (a hedge sized, Layer 3 choices, hedges on, a profit take) and more
    # tested condors, valued under numpy's normal and checked under scipy's (a hedge is
    # sized): serial and over two processes, the same checks to the last bit. The other
    # process is given the quote vols inverted while valuing (or it would invert the
    # quotes of the synthetics anew, under scipy's normal).
    pytest.importorskip("joblib")
    from alvh_cli.method.check import check_values

    pricing.use_normal("numpy")
    values = books_with_a_tested_side()
    pricing.use_normal("auto")
    serial = check_values(values, workers=1)
    spread = check_values(values, workers=2)
    same(spread.positions, serial.positions)
    assert checked_json(spread) == checked_json(serial)
    mine = zip(spread.positions, values, strict=True)
    assert all(a.position is pv.position for a, pv in mine)


def test_the_pool_of_fresh_processes_checks_as_one_process_does():
    # where a fork is not safe (macOS, a process with threads) a check on four cores or
    # more spreads over joblib's pool instead: the same checks
    pytest.importorskip("joblib")
    from alvh_cli.method import check

    values = books_with_a_tested_side()
    serial = check.check_values(values, workers=1)
    pairs = [(pv, check.Regime()) for pv in values]
    with pricing.pinned_normal(check.compiled_normal_pays(pairs)) as mode:
        sets = check.ScenarioSets(None)
        sets.expect(values)
        parts = check.book_plans(pairs, sets)
        triples = [(pv, r, parts.get(i)) for i, (pv, r) in enumerate(pairs)]
        spread = check._spread(triples, None, mode, 2)
    same(spread, serial.positions)


def test_where_no_fork_is_safe_a_stream_on_many_cores_takes_the_pool(monkeypatch):
    # macOS, or a process with threads: a check given several processes spreads over
    # joblib's pool (a list, all at once) rather than streaming in one process
    pytest.importorskip("joblib")
    from alvh_cli import forked
    from alvh_cli.method import check

    values = books_with_a_tested_side()
    serial = check.check_values(values, workers=1)
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    spread = check.check_values(values, workers=2, stream=True)
    assert isinstance(spread.positions, list)
    same(spread.positions, serial.positions)


def test_a_streamed_check_is_the_listed_check_read_once():
    # The same book checked as a list and as a stream (each check computed as it is
    # read, under the normal distribution pinned for the book, whatever mode is in force
    # between reads): the same checks to the last bit, the same JSON, the same verdict;
    # the stream is read once, and its verdict is known only once it has been read.
    from alvh_cli.method.check import CheckStream, check_values

    values = books_with_a_tested_side()
    listed = check_values(values, workers=1)
    streamed = check_values(values, workers=1, stream=True)
    assert isinstance(streamed.positions, CheckStream)
    assert len(streamed.positions) == len(values)
    with pytest.raises(RuntimeError, match="not read to its end"):
        _ = streamed.needs_action
    rows = []
    for pc in streamed.positions:
        pricing.use_normal("numpy")  # a reader's own pricing between two checks
        rows.append(pc)
    pricing.use_normal("auto")
    same(rows, listed.positions)
    assert streamed.needs_action is listed.needs_action is True
    with pytest.raises(RuntimeError, match="read once"):
        list(streamed.positions)
    again = check_values(values, workers=1, stream=True)
    assert checked_json(again) == checked_json(listed)


_VALUED = """
import json, sys
from pathlib import Path
from alvh_cli.inputs.book import load_book
from alvh_cli.model.valuation import value_book
root = Path(sys.argv[1])
book = [*sorted((root / "sample_positions").glob("*.toml")),
        root / "tests" / "fixtures" / "book_put_tested.toml"]
values = value_book(load_book(book))
assert "scipy.special" not in sys.modules
print(json.dumps([[float(x).hex() for x in pv.values.price] + [pv.debit_to_close.hex()]
                  for pv in values]))
"""


def test_a_book_is_valued_the_same_whatever_the_process_loaded_before():
    # A fresh process values the samples and the test book under numpy's normal (scipy
    # is never loaded there); this one, with scipy.special loaded (as a hedge program
    # loads it before a second check), values them the same to the last bit: loading
    # and valuing choose the normal by the array's size alone (pricing.sized_normal).
    import json
    import subprocess
    import sys

    import scipy.special  # noqa: F401

    from alvh_cli.inputs.book import load_book
    from alvh_cli.model.valuation import value_book

    root = Path(__file__).resolve().parents[1]
    fresh = subprocess.run(
        [sys.executable, "-c", _VALUED, str(root)], capture_output=True, text=True, check=True
    )
    pricing.use_normal("auto")
    book = [
        *sorted((root / "sample_positions").glob("*.toml")),
        root / "tests/fixtures/book_put_tested.toml",
    ]
    values = value_book(load_book(book))
    here = [[float(x).hex() for x in pv.values.price] + [pv.debit_to_close.hex()]
            for pv in values]  # fmt: skip
    assert here == json.loads(fresh.stdout)
    assert pricing.normal_mode() == "auto"


def test_quote_vols_given_to_another_process_price_as_here():
    # A copy of the snapshot (as another process unpickles it) seeded with this process's
    # quote vols prices quoted legs with them, whatever normal distribution it uses now.
    import pickle

    from alvh_cli.model import legs as legs_mod
    from alvh_cli.model.domain import Quote

    quotes = (Quote("SPX", "put", 5500.0, EXPIRY, 60.0, 61.0),
              Quote("SPX", "call", 5500.0, EXPIRY, 330.0, 333.0))  # fmt: skip
    mkt = market(spx=5520.0, spx_vol=Smile(0.2, -1.0, 2.0), quotes=quotes)
    held = [Leg("SPX", "SPXW", t, 5500.0, EXPIRY, 1, 0.0) for t in ("put", "call")]
    pricing.use_normal("numpy")
    here = value_legs(mkt, held)
    vols = legs_mod.quote_vols(mkt)
    assert set(vols) == {(0, "SPXW"), (1, "SPXW")}
    copy = pickle.loads(pickle.dumps(mkt))
    legs_mod.seed_quote_vols(copy, vols)
    pricing.use_normal("compiled")
    there = value_legs(copy, held)
    assert np.array_equal(there.vol, here.vol) and there.vol_source == ("quote", "quote")


def test_a_big_book_takes_the_cores_when_joblib_is_installed(monkeypatch):
    import importlib.util
    import os

    from alvh_cli.method import check

    assert check.default_workers(check.PARALLEL_FROM - 1) == 1
    if importlib.util.find_spec("joblib") is not None:
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
        assert check.default_workers(check.PARALLEL_FROM) == 8
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
        assert check.default_workers(check.PARALLEL_FROM) == 1  # two cores: not worth it
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert check.default_workers(10 * check.PARALLEL_FROM) == 1  # no joblib: one process


def test_check_through_the_cli_spread_or_not_prints_the_same(monkeypatch, alvh):
    pytest.importorskip("joblib")
    from alvh_cli.method import check

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    files = sorted(str(p.relative_to(root)) for p in (root / "sample_positions").glob("*.toml"))
    one = alvh(["check", *files, "--format", "json"])
    monkeypatch.setattr(check, "PARALLEL_FROM", 2)
    monkeypatch.setattr(check, "default_workers", lambda live: 2)
    spread = alvh(["check", *files, "--format", "json"])
    assert spread == one


def test_the_strike_at_the_roll_delta_is_found_once_per_snapshot(monkeypatch):
    from alvh_cli.method import layer3

    ev = evaluator()
    short = Leg("SPX", "SPXW", "put", 5650.0, EXPIRY, -3, 0.0)
    wing = Leg("SPX", "SPXW", "put", 5600.0, EXPIRY, 3, 0.0)
    first = layer3.roll_targets(ev, short, wing, "put")
    calls = []
    real = layer3.strike_at_delta
    monkeypatch.setattr(layer3, "strike_at_delta", lambda *a: calls.append(a) or real(*a))
    other = ev.with_rungs([("stress", 5650.0)])  # another position's copy: the same blocks
    assert layer3.roll_targets(other, short, wing, "put") == first and calls == []
    # and the strikes are the ones searched for afresh
    fresh = layer3.roll_targets(evaluator(), short, wing, "put")
    assert fresh == first and len(calls) == len({t[0].expiry for t in first})


def test_a_positions_own_rungs_stay_out_of_the_shared_cache():
    ev = evaluator()
    legs = some_legs()
    values = value_legs(ev.market, legs)
    for level in (5500.0, 5600.0, 5700.0):
        ev.with_rungs([("stress", level)]).prices(legs, values)
    assert len(ev._cache) == len(legs)  # one row per contract over the shared set


def test_a_check_prices_with_the_normal_its_book_needs_whatever_is_loaded(monkeypatch):
    # A small book that sizes no hedge is priced with numpy's normal even where scipy is
    # loaded already (here: by this import; in a run, by imports_ahead while copies parse
    # the book): a check's figures never depend on what ran before in its process.
    import scipy.special  # noqa: F401

    from alvh_cli.inputs.book import load_book
    from alvh_cli.method import check
    from alvh_cli.method.regime import Regime
    from alvh_cli.model.valuation import value_book

    root = Path(__file__).resolve().parents[1]
    calm = value_book(load_book([root / "sample_positions" / "calm.toml"]))
    seen = []
    real = check._check_slice

    def spy(*a, **k):
        seen.append(pricing.normal_mode())
        return real(*a, **k)

    monkeypatch.setattr(check, "_check_slice", spy)
    pricing.use_normal("auto")  # as a run starts (this module's tests pin numpy's)
    assert not check.compiled_normal_pays([(pv, Regime()) for pv in calm])
    check.check_values(calm, workers=1)
    assert seen == ["numpy"]
    assert pricing.normal_mode() == "auto"


@pytest.mark.parametrize("seed", range(20))
def test_expiry_floors_with_a_shared_memo_are_each_floor_alone(seed):
    # Layer 3 keeps each group's floor by its members across a position's alternatives
    # (most keep the hedges as held): every floor is the one computed alone, bit for bit,
    # whatever the alternatives before it and their values today
    rng = np.random.default_rng(seed)
    legs = random_legs(rng)
    memo: dict = {}
    for _ in range(12):
        values = rng.uniform(0.0, 80.0, len(legs)).tolist()
        share = rng.choice([0.0, 0.5, 1.0 / 3.0, 1.0], len(legs))
        quantity = [g.quantity * (1.0 - x) for g, x in zip(legs, share, strict=True)]
        kept = [i for i, q in enumerate(quantity) if q != 0.0]
        args = ([legs[i] for i in kept], [values[i] for i in kept], [quantity[i] for i in kept])
        alone = sc.expiry_floor(*args)
        got = sc.expiry_floor(*args, memo)
        assert got == alone and np.signbit(got) == np.signbit(alone)
    assert memo
