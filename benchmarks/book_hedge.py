"""Benchmark: the book's hedge program against one program per position.

Goal (decisions, "the book hedged as a book"): a book of 1,000 positions sharing one
snapshot hedged in at most 2 s beyond loading.

The book is ``benchmarks/book.py``'s (1,000 positions over 4 files, one market file: about
60 put-side positions due Layer 1 or 2). It is loaded and valued once (the figure
"loading"), then, in this process:

* ``book plans``: :func:`alvh_cli.method.check.book_plans`, the positions due a layer
  seen as their checks see them and the book's program solved — the hedging;
* ``check, book``: the whole check (``check_values`` with ``book_hedges=True``, one
  process), the book's program included;
* ``check, per position``: the same with one program per position due (the behaviour
  before the book program, ``--per-position-hedges``).

Each at the default rules and at the hedging rules of ``tests/fixtures/hedging_rules.toml``
(γ 1, adjustments only at Layer 3: hedges that beat holding), with the hedges each way
buys and the book's EV + γ·CVaR (summed P&L over the historical scenarios) with them.
Times are medians of ``--runs`` (default 3), wall clock.

    python benchmarks/book_hedge.py [--positions 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

GOAL = 2.0  # seconds: the book's hedging beyond loading
HEDGING = ROOT / "tests" / "fixtures" / "hedging_rules.toml"


def timed(fn, runs: int):
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def book_objective(values, result, level: float, gamma: float, only=None):
    """(EV + γ·CVaR of the summed P&L with the hedges bought, contracts, dollars), over the
    positions whose indices are in ``only`` (default: every live one)."""
    from alvh_cli.method.check import ScenarioSets
    from alvh_cli.method.scenarios import cvar

    sets, total, count, spend = ScenarioSets(), 0.0, 0, 0.0
    for k, (pv, pc) in enumerate(zip(values, result.positions, strict=True)):
        if pv.position.is_closed or (only is not None and k not in only):
            continue
        ev = sets.evaluator(pv)
        hist = ev.scenarios.historical
        total = total + ev.pnl(pv.position.legs, pv.values).sum(axis=0)[hist]
        if pc.hedge_plan is not None and any(
            r.action.value == "open_hedge" for r in pc.recommendations
        ):
            for hedge, n in pc.hedge_plan.chosen:
                total = total + n * hedge.pnl[hist]
                count += n
            spend += pc.hedge_plan.spend
    return float(total.mean()) + gamma * cvar(total, level), count, spend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import book as book_bench

    from alvh_cli.inputs.book import load_book
    from alvh_cli.method import check as ck
    from alvh_cli.model import pricing
    from alvh_cli.model.valuation import value_book

    with tempfile.TemporaryDirectory(prefix="alvh-book-hedge-") as tmp:
        folder = Path(tmp)
        bk = book_bench.write_book(folder, args.positions, 4)
        for label, rules in (
            ("default rules", None),
            ("hedging rules (γ 1, adjustments at Layer 3)", HEDGING),
        ):
            t0 = time.perf_counter()
            loaded = load_book(bk.files, market=bk.market, rules=rules)
            values = value_book(loaded)
            loading = time.perf_counter() - t0
            pairs = [(pv, ck.Regime()) for pv in values]
            due = {k for k, (pv, r) in enumerate(pairs) if ck.sizes_a_hedge(pv, r)}

            def plans(pairs=pairs):
                with pricing.pinned_normal(True):
                    return ck.book_plans(pairs, ck.ScenarioSets())

            hedging, made = timed(plans, args.runs)
            book_t, book = timed(lambda v=values: ck.check_values(v, workers=1), args.runs)
            own_t, own = timed(
                lambda v=values: ck.check_values(v, workers=1, book_hedges=False), args.runs
            )
            r = loaded[0].rules
            ob, nb, sb = book_objective(values, book, r.cvar_level, r.risk_aversion, due)
            oo, no, so = book_objective(values, own, r.cvar_level, r.risk_aversion, due)
            wb = book_objective(values, book, r.cvar_level, r.risk_aversion)[0]
            wo = book_objective(values, own, r.cvar_level, r.risk_aversion)[0]
            taking = sum(1 for p, _ in made.values() if p is not None and p.chosen)
            print(f"{label}: {len(values):,} positions, {len(due)} due a hedge layer")
            print(f"  loading {loading:.2f} s")
            verdict = "OK" if hedging <= GOAL else "OVER"
            print(
                f"  book plans {hedging:.2f} s (goal <= {GOAL:g} s beyond loading: {verdict}); "
                f"{taking} positions take a share"
            )
            print(f"  check, book {book_t:.2f} s; check, per position {own_t:.2f} s")
            print(
                f"  hedges: book {nb} contracts ${sb:,.0f}, per position {no} contracts "
                f"${so:,.0f}; EV + {r.risk_aversion:g}·CVaR of the positions due, summed: "
                f"book {ob:,.0f}, per position {oo:,.0f}; of every position as held: "
                f"book {wb:,.0f}, per position {wo:,.0f}"
            )


if __name__ == "__main__":
    main()
