"""Time the default backtest: embedded 2014–2018 SPX/VIX, weekly entries, four policies.

Target (issue 6): the whole run in <= 10 s on a 2-core machine. Prints the wall
time of loading the data and of ``run_backtest`` (best and median of
``--repeat`` runs), trades per second (entries x policies / run time), closes
per second, and the time of each policy run alone.

    PYTHONPATH=. python benchmarks/backtest.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    from alvh_cli.backtest import engine as bt
    from alvh_cli.method.rules import Rules

    t1 = time.perf_counter()
    history = bt.default_history()
    t2 = time.perf_counter()
    print(f"import alvh_cli.backtest.engine: {t1 - t0:6.2f} s")
    print(f"load embedded data:       {t2 - t1:6.2f} s  ({len(history)} closes)")

    runs = []
    result = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = bt.run_backtest(history, Rules(), bt.BacktestParams())
        runs.append(time.perf_counter() - start)
    trades = len(result.trades)
    best, median = min(runs), statistics.median(runs)
    print(
        f"run_backtest, 4 policies: best {best:6.2f} s, median {median:6.2f} s "
        f"over {args.repeat} runs"
    )
    print(f"  {len(result.entries)} entries x {len(result.policies)} policies = {trades} trades")
    print(f"  {trades / median:,.0f} trades/s, {len(result.dates) / median:,.0f} closes/s (median)")
    print(f"  load + run: {t2 - t1 + median:.2f} s (target <= 10 s)")

    for policy in bt.POLICIES:
        start = time.perf_counter()
        r = bt.run_backtest(history, Rules(), bt.BacktestParams(), (policy,))
        took = time.perf_counter() - start
        print(f"  {policy:7s} alone: {took:6.2f} s ({len(r.trades) / took:,.0f} trades/s)")


if __name__ == "__main__":
    main()
