"""What a big book shares and spreads, against the straightforward computation.

A check computes once per snapshot what does not depend on the position (revaluations
cached per contract, the strikes a roll may go to), evaluates Layer 3's sizes of one
kind together, and spreads a big book over processes. Each is exact, not close: under
one pinned normal distribution (``pricing.pinned_normal``) the shared or vectorised
figure is the very same float as the one computed alone, so every test here compares
with ``==`` or ``np.array_equal``.
"""

from __future__ import annotations

from datetime import date

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
        one = risk._subset(values, [i])
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
        got = ev.prices(legs[rows], risk._subset(values, list(range(len(legs)))[rows]))
        assert np.array_equal(got, alone[rows])
        assert len(ev._cache) <= 8
    assert np.array_equal(ev.prices(legs, values), alone)  # more than the bound at once
    assert len(ev._cache) <= 8
