"""Time the default backtest: embedded 2014–2018 SPX/VIX, weekly entries, four policies.

Target: ``run_backtest`` at the defaults in <= 5 s on this 2-core machine. Prints the load
average (the machine is shared: figures under load are slower), the wall and CPU time of
``run_backtest`` (best and median of ``--repeat`` runs), each policy alone, the bootstrap,
and the whole ``alvh backtest`` command (which also runs the two cost-sensitivity points on
the local cores) with and without those.

    PYTHONPATH=. python benchmarks/backtest.py [--repeat 3] [--no-command]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-command", action="store_true", help="skip timing the CLI")
    args = parser.parse_args()

    print(f"cores: {os.cpu_count()}, load average before: {load()}")
    t0 = time.perf_counter()
    from alvh_cli.backtest import analysis
    from alvh_cli.backtest.params import BacktestParams, make_params
    from alvh_cli.backtest.policies import POLICIES
    from alvh_cli.backtest.simulation import run_backtest
    from alvh_cli.inputs.history import embedded_frame
    from alvh_cli.model.rules import Rules

    t1 = time.perf_counter()
    history = embedded_frame()
    t2 = time.perf_counter()
    print(f"import alvh_cli.backtest.simulation: {t1 - t0:6.2f} s")
    print(f"load embedded data:       {t2 - t1:6.2f} s  ({len(history)} closes)")
    run_backtest(history, Rules(), make_params({"end": "2015-02-28"}))  # imports, caches

    walls, cpus = [], []
    result = None
    for _ in range(args.repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = run_backtest(history, Rules(), BacktestParams())
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    trades = len(result.trades)
    print(
        f"run_backtest, 4 policies: best {min(walls):5.2f} s wall ({min(cpus):.2f} s CPU), "
        f"median {statistics.median(walls):5.2f} s over {args.repeat} runs (target <= 5 s)"
    )
    print(f"  {len(result.entries)} entries x {len(result.policies)} policies = {trades} trades")
    start = time.perf_counter()
    analysis.report(result)
    took = time.perf_counter() - start
    print(f"  attribution, episodes, bootstrap (10,000 resamples): {took:.2f} s")
    for policy in POLICIES:
        start = time.perf_counter()
        r = run_backtest(history, Rules(), BacktestParams(), (policy,))
        took = time.perf_counter() - start
        print(f"  {policy:9s} alone: {took:6.2f} s ({len(r.trades) / took:,.0f} trades/s)")
    print(f"load average after the runs: {load()}")

    if not args.no_command:
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        for extra in ([], ["--sensitivity", "none"]):
            cmd = [sys.executable, "-m", "alvh_cli", "backtest", "--format", "json", *extra]
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, env=env)
            took = time.perf_counter() - start
            print(
                f"alvh backtest {' '.join(extra) or '(cost row on the local cores)'}: {took:.2f} s"
            )
        print(f"load average after the commands: {load()}")


if __name__ == "__main__":
    main()
