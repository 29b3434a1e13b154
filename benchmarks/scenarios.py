"""The scenario scenario_sets at book scale: prints seconds, beyond start-up.

A book of 100 condors (put side tested, each with a VIX hedge layer on), 1,000 historical
windows plus the ladder, and 200 candidate VIX call spreads:

* scenario_sets: the scenario set, every position's legs revalued in full over it, its figures
  (EV, CVaR, worst rung, max loss), and every candidate spread's P&L and CVaR change per
  dollar for every position — the work the goal (≤ 1 s) is about;
* check: `check_values` on the same book, hedge programs (scipy's MILP) included.

Run: python benchmarks/scenarios.py
"""

from __future__ import annotations

import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alvh_cli.method import scenarios as sc  # noqa: E402
from alvh_cli.method.check import ScenarioSets, check_values  # noqa: E402
from alvh_cli.method.risk import Evaluator  # noqa: E402
from alvh_cli.model.domain import FuturePoint, Leg, Market, Position, Smile  # noqa: E402
from alvh_cli.model.legs import value_legs  # noqa: E402
from alvh_cli.model.rules import Rules  # noqa: E402
from alvh_cli.model.valuation import summarise  # noqa: E402

ASOF = datetime(2026, 11, 24, 16, tzinfo=timezone(timedelta(hours=-5)))
EXPIRY = date(2026, 12, 18)


def market() -> Market:
    futures = tuple(FuturePoint(d, 21.0) for d in (date(2026, 12, 16), date(2027, 1, 20)))
    return Market(
        ASOF, 5750.0, 21.5, 0.04, 0.013, futures, Smile(0.2, -1.1, 2.5), Smile(0.9, 0.8, 0.0)
    )


def book(n: int) -> list[Position]:
    out = []
    for k in range(n):
        sp = 5650 + 5 * (k % 10)
        legs = (
            Leg("SPX", "SPXW", "put", sp - 50, EXPIRY, 5, 2.0),
            Leg("SPX", "SPXW", "put", sp, EXPIRY, -5, 6.0),
            Leg("SPX", "SPXW", "call", 6400.0, EXPIRY, -5, 3.0),
            Leg("SPX", "SPXW", "call", 6450.0, EXPIRY, 5, 1.4),
            Leg("VIX", "VIX", "call", 24.0, date(2026, 12, 16), 3, 1.2, layer=1),
            Leg("VIX", "VIX", "call", 32.0, date(2026, 12, 16), -3, 0.4, layer=1),
        )
        out.append(Position(f"p{k}", legs, 5.6, source="bench"))
    return out


def history(windows: int) -> sc.History:
    rng = np.random.default_rng(0)
    n = windows + 5
    spx = 2000 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    vix = 15 * np.exp(np.cumsum(rng.normal(0, 0.05, n)) * 0.3)
    days = np.arange(n) + date(2010, 1, 4).toordinal()
    return sc.History(days, spx, vix, "synthetic")


def candidates(expiry: date, count: int) -> list[Leg]:
    strikes = np.arange(15, 15 + count // 10 + 10)
    return [Leg("VIX", "VIX", "call", float(k), expiry, 1, 0.0) for k in strikes]


def engine_pass(mkt, rules, hist, positions) -> tuple[int, int]:
    ev = Evaluator.from_history(mkt, rules, hist, 5)
    legs = [g for p in positions for g in p.legs]
    values = value_legs(mkt, legs)
    pnl = ev.pnl(legs, values)  # (legs, scenarios)
    per = pnl.reshape(len(positions), 6, -1).sum(axis=1)
    for p, row in zip(positions, per, strict=True):
        ev.figures(row, p.legs, values.price[:6], 0.0)
    # 200 spreads: 30 strikes on one expiry, widths 1..10, revalued once for the book
    strikes = candidates(date(2026, 12, 16), 200)
    cv = value_legs(mkt, strikes)
    later = ev.prices(strikes, cv)
    i, w = np.meshgrid(np.arange(len(strikes)), np.arange(1, 11), indexing="ij")
    i, j = i.ravel(), (i + w).ravel()
    keep = j < len(strikes)
    i, j = i[keep][:200], j[keep][:200]
    debit = (cv.price[i] - cv.price[j] + 0.1) * 100
    g = (later[i] - later[j]) * 100 - debit[:, None]
    hist_ = ev.scenarios.historical
    level = rules.cvar_level
    k = int(np.ceil(level * ev.scenarios.n_hist))
    for row in per:
        tail = np.argsort(row[hist_])[:k]
        _ = g[:, hist_][:, tail].mean(axis=1) / debit
    return ev.scenarios.n, len(i)


def main() -> None:
    mkt, rules = market(), Rules()
    hist = history(1000)
    positions = book(100)
    engine_pass(mkt, rules, hist, positions[:2])  # warm imports and caches
    best = []
    for _ in range(5):
        t = time.perf_counter()
        n, c = engine_pass(mkt, rules, hist, positions)
        best.append(time.perf_counter() - t)
    print(f"scenarios {n} (1,000 historical windows + ladder), candidates {c}, positions 100")
    print(f"engine (revaluation, figures, candidate scoring): {min(best):.3f} s (goal <= 1 s)")

    values = []
    legs = [g for p in positions for g in p.legs]
    v = value_legs(mkt, legs)
    for k, p in enumerate(positions):
        part = {
            name: (x[6 * k : 6 * k + 6] if isinstance(x, (np.ndarray, tuple)) else x)
            for name, x in vars(v).items()
        }
        values.append(summarise(p, mkt, rules, type(v)(**part)))
    scenario_sets = ScenarioSets(hist, fallback=False)
    t = time.perf_counter()
    result = check_values(values, history=hist)
    total = time.perf_counter() - t
    del scenario_sets
    sized = sum(1 for pc in result.positions if pc.hedge_plan is not None)
    print(f"check_values on the book: {total:.2f} s ({sized} hedge programs solved)")


if __name__ == "__main__":
    main()
