"""Benchmark: ``alvh`` start-up against the bare cost of its libraries.

Goals:

* ``alvh --help`` at most 1.3x baseline A, ``python -c "import typer, rich"``
  (the interpreter and the CLI framework, which every command pays);
* ``alvh check`` on a one-position file at most 1.5x baseline N,
  ``python -c "import typer, rich, numpy"`` (what pricing needs: the normal
  distribution is numpy code in alvh_cli.model.normal, not scipy.special);
* ``alvh --help`` imports neither numpy, scipy nor pandas, ``alvh check``
  imports neither pandas nor scipy.stats, and on calm.toml (no hedge to size)
  no part of scipy (checked with ``python -X importtime``). Sizing a hedge
  (put_tested_1_6x.toml) solves a MILP with scipy.optimize, imported then;
  the report says what that costs.

For reference it also times the old baseline B, ``python -c "import typer,
rich, numpy, scipy.special"`` (the old goal was 1.3x B), and what the console
entry's two run-time measures are worth (alvh_cli.cli.run): ``alvh check``
with OpenBLAS's threads left on (OPENBLAS_NUM_THREADS set to the core count,
which run() respects) and through ``main()`` with the interpreter's normal
teardown instead of os._exit.

Each command runs ``--warmup`` times untimed, then ``--runs`` times round-robin
(so drift in machine load hits every command alike); the figure is the median
wall time. The interpreter is the one running this script and ``alvh`` is the
console script next to it, unless that script still calls ``main`` (installed
before the entry became ``run``; reinstall with ``pip install -e .``): then
``python -m alvh_cli``, which calls ``run``.

Bytecode: an installed package has its ``.pyc`` files, but an editable install
run with ``PYTHONDONTWRITEBYTECODE=1`` recompiles ``alvh_cli`` on every start.
So the children run with a private ``PYTHONPYCACHEPREFIX`` (a temporary
directory the warm-ups fill; the source tree is not written to) and without
``PYTHONDONTWRITEBYTECODE``. ``--as-is`` keeps the environment unchanged.

    python benchmarks/startup.py [--runs 15] [--warmup 2] [--as-is]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_positions"
GOAL_HELP = 1.3  # alvh --help / A
GOAL_CHECK = 1.5  # alvh check / N
BASELINE_A = "import typer, rich"
BASELINE_N = "import typer, rich, numpy"
BASELINE_B = "import typer, rich, numpy, scipy.special"  # the old check baseline
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
ENV = dict(os.environ)  # the children's environment; see bytecode_env()


def bytecode_env(cache_dir: str) -> dict[str, str]:
    """The environment with a writable bytecode cache outside the source tree."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


def alvh_command() -> list[str]:
    """The ``alvh`` console script installed with this interpreter, if it calls ``run``."""
    here = Path(sys.executable).parent  # not resolved: a venv's bin/ is a symlink farm
    script = None
    for name in ("alvh", "alvh.exe"):
        if (here / name).is_file():
            script = here / name
            break
    if script is None:
        found = shutil.which("alvh")
        if found and Path(found).parent == here:
            script = Path(found)
    if script is None:
        print("note: no alvh console script next to the interpreter; timing python -m alvh_cli")
    elif script.suffix != ".exe" and "import main" in script.read_text(errors="replace"):
        print(
            f"note: {script} calls alvh_cli.cli:main, the entry before run(); "
            "reinstall (pip install -e .) to time it. Timing python -m alvh_cli."
        )
    else:
        return [str(script)]
    return [sys.executable, "-m", "alvh_cli"]


Command = tuple[list[str], tuple[int, ...], dict[str, str]]  # argv, exit statuses, env additions


def run_once(cmd: list[str], ok: tuple[int, ...], extra_env: dict[str, str]) -> float:
    env = {**ENV, **extra_env}
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr.decode()}")
    return elapsed


def time_commands(commands: dict[str, Command], runs: int, warmup: int) -> dict[str, list[float]]:
    for cmd, ok, env in commands.values():
        for _ in range(warmup):
            run_once(cmd, ok, env)
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, (cmd, ok, env) in commands.items():
            times[label].append(run_once(cmd, ok, env))
    return times


def importtime(argv: list[str]) -> list[tuple[int, int, str]]:
    """``python -X importtime ARGV``: (depth, self microseconds, module) per import, in order."""
    env = {**ENV, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    rows: list[tuple[int, int, str]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        own, _cumulative, field = line[len("import time:") :].split("|")
        depth = (len(field) - len(field.lstrip(" ")) - 1) // 2
        rows.append((depth, int(own), field.strip()))
    return rows


def import_chains(rows: list[tuple[int, int, str]]) -> dict[str, str]:
    """Each imported module with its import chain (``mod <- importer <- ...``).

    importtime prints a module after everything it imported, one indent level
    deeper, so a module's importer is the next line printed one level up.
    """
    chains: dict[str, str] = {}
    for i, (depth, _own, name) in enumerate(rows):
        chain, want = [name], depth - 1
        for d, _, parent in rows[i + 1 :]:
            if want < 0:
                break
            if d == want:
                chain.append(parent)
                want -= 1
        chains.setdefault(name, " <- ".join(chain))
    return chains


def report_imports(label: str, args: list[str], forbidden: tuple[str, ...]) -> bool:
    mods = import_chains(importtime(["-m", "alvh_cli", *args]))
    clean = True
    for name in forbidden:
        if name in mods:
            clean = False
            print(f"  {label} imports {name:<12} YES  ({mods[name]})")
        else:
            print(f"  {label} imports {name:<12} no")
    return clean


def report_extra_imports(label: str, args: list[str], baseline: str, top: int = 8) -> None:
    """What ``alvh ARGS`` imports beyond ``python -c BASELINE``, by top-level package.

    Own (self) import times under -X importtime, which inflates them somewhat.
    """
    base = {name for _, _, name in importtime(["-c", baseline])}
    rows = importtime(["-m", "alvh_cli", *args])
    chains = import_chains(rows)
    by_package: dict[str, int] = {}
    first: dict[str, str] = {}
    for _, own, name in rows:
        if name in base:
            continue
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0) + own
        first.setdefault(package, name)
    total = sum(by_package.values()) / 1e3
    print(f"  {label}: {total:.0f} ms of imports beyond baseline N, by package:")
    for package, own in sorted(by_package.items(), key=lambda kv: -kv[1])[:top]:
        root = package if package in chains and package not in base else first[package]
        via = chains[root]  # how the package (or its first new module) came in
        if "<-" not in via and package != "alvh_cli":
            via += " <- run time, from a function"
        print(f"    {own / 1e3:6.1f} ms  {package:<18} ({via})")


def run(args: argparse.Namespace, warmup: int | None = None) -> None:
    warmup = args.warmup if warmup is None else warmup
    alvh = alvh_command()
    py = sys.executable
    calm = str(SAMPLES / "calm.toml")
    tested = str(SAMPLES / "put_tested_1_6x.toml")
    # run() and main() from the same -c line, so only the teardown differs
    via = "import sys; sys.argv = ['alvh', 'check', {!r}]; from alvh_cli.cli import {f}; {f}()"
    via_run, via_main = (via.format(calm, f=f) for f in ("run", "main"))
    threads = {"OPENBLAS_NUM_THREADS": str(os.cpu_count() or 1)}
    check = (0, 1)
    commands: dict[str, Command] = {
        "A: python -c 'import typer, rich'": ([py, "-c", BASELINE_A], (0,), {}),
        "alvh --help": ([*alvh, "--help"], (0,), {}),
        "N: python -c 'import typer, rich, numpy'": ([py, "-c", BASELINE_N], (0,), {}),
        "alvh check calm.toml": ([*alvh, "check", calm], check, {}),
        "alvh check put_tested_1_6x.toml": ([*alvh, "check", tested], check, {}),
        "B: python -c 'import typer, rich, numpy, scipy.special'": (
            [py, "-c", BASELINE_B],
            (0,),
            {},
        ),
        f"alvh check calm.toml, OPENBLAS_NUM_THREADS={threads['OPENBLAS_NUM_THREADS']}": (
            [*alvh, "check", calm],
            check,
            threads,
        ),
        "python -c 'run()' check calm.toml (os._exit)": ([py, "-c", via_run], check, {}),
        "python -c 'main()' check calm.toml (normal teardown)": ([py, "-c", via_main], check, {}),
    }
    print(f"interpreter: {py}\nalvh: {' '.join(alvh)}")
    cache = ENV.get("PYTHONPYCACHEPREFIX")
    print(
        f"bytecode cache: {cache or 'as the environment has it'}"
        + (" (PYTHONDONTWRITEBYTECODE set)" if ENV.get("PYTHONDONTWRITEBYTECODE") else "")
    )
    user_threads = [v for v in BLAS_THREAD_VARS if v in ENV]
    if user_threads:
        print(
            f"note: {', '.join(user_threads)} set here, so run() leaves OpenBLAS's threads as set"
        )
    print(f"median wall time of {args.runs} round-robin runs (after {warmup} warm-ups each):")
    times = time_commands(commands, args.runs, warmup)
    med = {label: statistics.median(t) * 1e3 for label, t in times.items()}
    for label, ms in med.items():
        spread = f"min {min(times[label]) * 1e3:6.1f}  max {max(times[label]) * 1e3:6.1f}"
        print(f"  {label:<62} {ms:7.1f} ms   ({spread})")

    (base_a, help_, base_n, calm_ms, tested_ms, base_b, threads_on, c_run, c_main) = med.values()
    goals = [
        ("alvh --help / A", help_ / base_a, GOAL_HELP),
        ("alvh check calm.toml / N", calm_ms / base_n, GOAL_CHECK),
        ("alvh check put_tested_1_6x.toml / N (*)", tested_ms / base_n, GOAL_CHECK),
    ]
    print("ratios:")
    all_ok = True
    for label, ratio, goal in goals:
        ok = ratio <= goal
        all_ok &= ok
        print(f"  {label:<46} {ratio:5.2f}  (goal <= {goal})  {'OK' if ok else 'OVER'}")
    print("  (*) sizes a hedge, which loads scipy.optimize for the MILP")
    print("for reference:")
    print(f"  {'alvh check calm.toml / B':<46} {calm_ms / base_b:5.2f}  (the old goal was <= 1.3)")
    print(f"  {'alvh check put_tested_1_6x.toml / B':<46} {tested_ms / base_b:5.2f}")
    print(f"  {'B / N':<46} {base_b / base_n:5.2f}")
    print(
        f"  {'OpenBLAS threads on / alvh check calm.toml':<46} {threads_on / calm_ms:5.2f}"
        f"  ({threads_on - calm_ms:+.1f} ms)"
    )
    print(
        f"  {'main() / run() (teardown instead of os._exit)':<46} {c_main / c_run:5.2f}"
        f"  ({c_main - c_run:+.1f} ms)"
    )

    print("imports (python -X importtime -m alvh_cli ...):")
    all_ok &= report_imports("alvh --help", ["--help"], ("numpy", "scipy", "pandas"))
    all_ok &= report_imports("alvh check calm.toml", ["check", calm], ("pandas", "scipy"))
    all_ok &= report_imports(
        "alvh check put_tested_1_6x.toml", ["check", tested], ("pandas", "scipy.stats")
    )
    mods = import_chains(importtime(["-m", "alvh_cli", "check", tested]))
    if "scipy.optimize" in mods:
        print(f"  (put_tested_1_6x.toml sizes a hedge: {mods['scipy.optimize']})")
    print("where alvh check's start-up goes beyond baseline N (python -X importtime):")
    for name in (calm, tested):
        report_extra_imports(f"alvh check {Path(name).name}", ["check", name], BASELINE_N)
    print("all start-up goals met" if all_ok else "some start-up goals NOT met")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--as-is", action="store_true", help="keep the environment (no bytecode cache set-up)"
    )
    args = parser.parse_args()
    if args.as_is:
        run(args)
        return
    with tempfile.TemporaryDirectory(prefix="alvh-pycache-") as cache:
        ENV.clear()
        ENV.update(bytecode_env(cache))
        run(args, max(args.warmup, 1))


if __name__ == "__main__":
    main()
