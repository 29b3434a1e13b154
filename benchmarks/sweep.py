"""Time a 64-point sweep: serial, 2 joblib workers, and a local Dask cluster with 2 worker
processes — the same ``run_grid`` call each time.

``--task backtest`` (the default) sweeps the real backtest: ``experiments.backtest_point`` on
the embedded data, 2015 (the year after the warm-up), hold, stop3x and alvh, over 8 short
deltas × 8 layer-1 budget shares. ``--task synthetic`` sweeps a pure-Python Monte Carlo.

Target: 2 local workers at least 1.7x faster than 1 on a 2-core machine. Both tasks hold the
GIL (the backtest's per-day loop is Python), so only processes can scale them. Every
backend's results must equal the serial ones bit for bit; the script checks that.

    PYTHONPATH=. python benchmarks/sweep.py [--task backtest|synthetic] [--repeat 1]

Each backend runs ``--repeat`` rounds, interleaved, and the best round counts: the machine is
shared, and a burst of someone else's load should not decide the figure. Each round also
prints the cores it got (task CPU seconds over wall seconds): 1.0 serial and 2.0 with two
workers on an idle machine, less when others are running.

Needs the extras: pip install -e '.[sweep,dask]'.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
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


def measured_task(point: dict) -> tuple[float, float]:
    """``synthetic_task`` and the CPU seconds it took in whichever process ran it."""
    start = time.process_time()
    value = synthetic_task(point)
    return value, time.process_time() - start


def backtest_task():
    """``measured`` around the backtest at a point: (summaries, CPU seconds)."""
    from alvh_cli.backtest import experiments as ex
    from alvh_cli.backtest.params import make_params
    from alvh_cli.inputs.history import embedded_frame
    from alvh_cli.model.rules import Rules

    base = make_params({"end": "2015-12-31"})
    return functools.partial(
        measured, ex.task(embedded_frame(), Rules(), base, ("hold", "stop3x", "alvh"))
    )


def measured(task, point: dict):
    """``task(point)`` and the CPU seconds it took in whichever process ran it."""
    start = time.process_time()
    value = task(point)
    return value, time.process_time() - start


def bits(x):
    """Every bit of a result: floats by their hex form, containers item by item (pickled
    bytes would differ with object sharing, not only with values)."""
    if isinstance(x, float):
        return ("float", float(x).hex(), type(x).__name__)
    if isinstance(x, dict):
        return ("dict", tuple((k, bits(v)) for k, v in x.items()))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(bits(v) for v in x))
    if dataclasses.is_dataclass(x):  # a PolicySummary: field by field
        fields = dataclasses.fields(x)
        return (type(x).__name__, tuple((f.name, bits(getattr(x, f.name))) for f in fields))
    return (type(x).__name__, x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("backtest", "synthetic"), default="backtest")
    parser.add_argument("--work", type=int, default=100_000, help="Monte Carlo paths a point")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best of each is kept")
    args = parser.parse_args()

    from distributed import LocalCluster

    from alvh_cli.backtest import sweep as sw

    if args.task == "backtest":
        axes = {
            "delta": tuple(round(0.09 + 0.02 * i, 2) for i in range(8)),
            "layer1_budget_share": tuple(round(0.3 + 0.1 * i, 1) for i in range(8)),
        }
        task = backtest_task()
        what = "the backtest (2015, hold/stop3x/alvh) at each point"
    else:
        axes = {
            "vol": tuple(0.10 + 0.05 * i for i in range(8)),
            "wing": tuple(2.0 + i for i in range(8)),
            "work": (args.work,),
        }
        task = measured_task
        what = f"{args.work:,} Monte Carlo paths a point"
    grid = sw.expand_grid(axes)
    print(f"{len(grid)} points, {what}; cores here: {os.cpu_count()}")
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    start = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    print(f"LocalCluster(2 worker processes) started in {time.perf_counter() - start:.2f} s")
    runs = {
        "serial (run_grid workers=1)": lambda: sw.run_grid(task, grid),
        "joblib (run_grid workers=2)": lambda: sw.run_grid(task, grid, workers=2),
        "dask LocalCluster (2 processes)": lambda: sw.run_grid(
            task, grid, dask_address=cluster.scheduler_address
        ),
    }
    times: dict[str, list[float]] = {k: [] for k in runs}
    cores: dict[str, list[float]] = {k: [] for k in runs}
    serial = None
    try:
        for _ in range(args.repeat):  # interleaved, so a burst of load hits every backend
            for label, run in runs.items():
                start = time.perf_counter()
                out = run()
                wall = time.perf_counter() - start
                times[label].append(wall)
                cores[label].append(sum(cpu for _, cpu in out) / wall)
                values = [v for v, _ in out]
                serial = serial if serial is not None else values
                assert bits(values) == bits(serial), f"{label}: results differ from serial"
    finally:
        cluster.close()
    base = min(times["serial (run_grid workers=1)"])
    for label, ts in times.items():
        pairs = zip(ts, cores[label], strict=True)
        rounds = ", ".join(f"{t:.2f} s on {c:.2f} cores" for t, c in pairs)
        print(f"{label:32s} best {min(ts):6.2f} s  speed-up {base / min(ts):4.2f}x")
        print(f"{'':34s}rounds: {rounds}")
    print(
        "cores = CPU seconds of task work / wall seconds: what the run got of the machine "
        "(joblib's first round includes starting its worker pool)"
    )
    print("every backend's results equal the serial run's bit for bit")
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    speedup = base / min(times["joblib (run_grid workers=2)"])
    print(f"1 -> 2 local workers: {speedup:.2f}x (target >= 1.7x)")


if __name__ == "__main__":
    main()
