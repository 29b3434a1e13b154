"""Time a 64-point sweep of a synthetic CPU-bound task: serial, joblib on 1 and 2 workers, and a
local Dask cluster with 2 worker processes — the same ``run_grid`` call each time.

Target: 2 local workers at least 1.7x faster than 1 on a 2-core machine. The task is pure
Python (it holds the GIL, as the backtest's per-day loop does), so only processes can scale it.
Every backend's results must equal the serial ones bit for bit; the script checks that.

    PYTHONPATH=. python benchmarks/sweep.py [--work 150000]

Needs the extras: pip install -e '.[sweep,dask]'.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import time


def synthetic_task(point: dict) -> float:
    """A Monte Carlo estimate of an iron condor's mean payoff at expiry under the point's
    volatility and wing width; pure Python, seeded by the point, ``point["work"]`` paths."""
    rng = random.Random(f"{point['vol']}/{point['wing']}")
    spot, short, wing = 100.0, 0.1, point["wing"]
    total = 0.0
    s = point["vol"] * math.sqrt(45 / 365)
    for _ in range(point["work"]):
        st = spot * math.exp(s * rng.gauss(0.0, 1.0) - 0.5 * s * s)
        put = min(max(spot * (1 - short) - st, 0.0), wing)
        call = min(max(st - spot * (1 + short), 0.0), wing)
        total += put + call
    return total / point["work"]


def timed(label: str, run, baseline: float | None = None) -> tuple[float, list]:
    start = time.perf_counter()
    out = run()
    took = time.perf_counter() - start
    extra = f"  speed-up {baseline / took:4.2f}x" if baseline else ""
    print(f"{label:42s} {took:6.2f} s{extra}")
    return took, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=int, default=150_000, help="Monte Carlo paths a point")
    args = parser.parse_args()

    from alvh_cli.backtest import sweep as sw

    axes = {
        "vol": tuple(0.10 + 0.05 * i for i in range(8)),
        "wing": tuple(2.0 + i for i in range(8)),
        "work": (args.work,),
    }
    grid = sw.expand_grid(axes)
    print(f"{len(grid)} points, {args.work:,} paths each; cores here: {os.cpu_count()}")
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    serial_s, serial = timed(
        "serial (run_grid workers=1)", lambda: sw.run_grid(synthetic_task, grid)
    )
    from joblib import Parallel, delayed

    one, out = timed(
        "joblib n_jobs=1 (in process)",
        lambda: Parallel(n_jobs=1)(delayed(synthetic_task)(p) for p in grid),
    )
    assert out == serial
    cold, out = timed(
        "run_grid workers=2, cold (spawns loky)",
        lambda: sw.run_grid(synthetic_task, grid, workers=2),
        serial_s,
    )
    assert out == serial
    warm, out = timed(
        "run_grid workers=2, warm (pool reused)",
        lambda: sw.run_grid(synthetic_task, grid, workers=2),
        serial_s,
    )
    assert out == serial

    from distributed import LocalCluster

    start = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    print(f"{'LocalCluster(2 processes) start':42s} {time.perf_counter() - start:6.2f} s")
    try:
        _, out = timed(
            "run_grid dask_address=<LocalCluster>",
            lambda: sw.run_grid(synthetic_task, grid, dask_address=cluster.scheduler_address),
            serial_s,
        )
        assert out == serial
    finally:
        cluster.close()
    print("every backend's results equal the serial run's bit for bit")
    print(
        f"1 -> 2 local workers: {serial_s / cold:.2f}x cold, {serial_s / warm:.2f}x warm "
        f"(target >= 1.7x)"
    )


if __name__ == "__main__":
    main()
