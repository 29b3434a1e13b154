"""Benchmark: a 1,000,000-row broker export or option chain is refused or read in at most
10 s and 500 MiB.

Each file is made in a temporary folder from the layout's test fixture
(``tests/fixtures/brokers``, ``tests/fixtures/chains``): its header and
sections kept, its first SPX option row repeated until the file holds
``--rows`` rows (1,000,000). Two more per kind are written as small as the
layout allows (the fewest columns, the shortest cells), so that they pass the
byte limit and meet the row limit instead. Each is given to a fresh alvh
process, as a trader would: ``alvh import FILE -o OUT`` for an export,
``alvh check POS --chain FILE`` and ``alvh market --chain FILE`` for a chain.
Last, the largest chain alvh accepts (``benchmarks/chain.py``'s chain with
4,100 strikes an expiry: 246,000 rows, under the 250,000-row limit) through
``alvh market -o`` and the snapshot it writes through ``alvh check --market``.

Printed per run: the file's size, alvh's exit status and the first line it
wrote on stderr (what refused it), the wall time and the child's peak resident
memory (``ru_maxrss`` of that one child, from ``os.wait4``), beside the goals.

    python benchmarks/big_files.py [--rows 1000000] [--keep DIR] [--no-limit-runs]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROKERS = ROOT / "tests" / "fixtures" / "brokers"
CHAINS = ROOT / "tests" / "fixtures" / "chains"
POSITION = ROOT / "sample_positions" / "calm.toml"
GOAL_SECONDS = 10.0
GOAL_MIB = 500.0

EXPORTS = (
    "tastytrade_positions.csv",
    "tastytrade_transactions.csv",
    "thinkorswim_position_statement.csv",
    "thinkorswim_account_statement.csv",
    "ibkr_activity.csv",
    "ibkr_flex.csv",
    "ibkr_flex.xml",
    "generic_osi.csv",
)
COMPACT_EXPORT = ("symbol,quantity,entry_price\n", "SPXW  261218P05400000,1,4\n")
COMPACT_CHAIN = ("expiry,strike,type,bid,ask\n", "2026-12-18,5800,P,1,2\n")


def repeated(fixture: Path, out: Path, rows: int) -> Path:
    """``fixture`` with its first SPX option line (or XML element: the 5400 put, or the
    chain's 5800 strike) repeated to ``rows``
    lines, written to ``out`` in blocks."""
    lines = fixture.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if i > 0 and ("5400" in line or "5800" in line))
    with open(out, "w", encoding="utf-8") as fh:
        fh.writelines(lines[:at])
        block = lines[at] * 10_000
        for _ in range(rows // 10_000):
            fh.write(block)
        fh.write(lines[at] * (rows % 10_000))
        fh.writelines(lines[at + 1 :])
    return out


def compact(header: str, row: str, out: Path, rows: int) -> Path:
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(header)
        block = row * 10_000
        for _ in range(rows // 10_000):
            fh.write(block)
        fh.write(row * (rows % 10_000))
    return out


def parquet(csv_path: Path, out: Path) -> Path | None:
    try:
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq
    except ImportError:
        return None
    pq.write_table(pcsv.read_csv(csv_path), out)
    return out


# A small process that starts alvh and reports its peak memory: a child forked from this
# one would count this one's memory (the files made, pyarrow) in its own ru_maxrss.
_MEASURE = """
import os, subprocess, sys
proc = subprocess.Popen([sys.executable, "-m", "alvh_cli", *sys.argv[1:]],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = proc.stderr.read()
_, status, usage = os.wait4(proc.pid, 0)
sys.stderr.buffer.write(err)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def run(args: list[str], env: dict[str, str]) -> tuple[int, float, float, str]:
    """(exit status, wall seconds, peak MiB, the first line alvh wrote on stderr) of one
    alvh process; the peak is that process's own (``ru_maxrss`` from ``os.wait4``)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *args], capture_output=True, env=env, cwd=ROOT
    )
    wall = time.perf_counter() - start
    code, peak_kb = (int(x) for x in done.stdout.split())
    err = done.stderr.decode("utf-8", "replace")
    first = next((line for line in err.splitlines() if line.startswith("alvh:")), "")
    return code, wall, peak_kb / 1024, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="Write the files here and keep them.")
    parser.add_argument(
        "--no-limit-runs",
        action="store_true",
        help="Skip the largest chain alvh accepts (under the row limit) and its snapshot.",
    )
    opts = parser.parse_args()
    folder = opts.keep or Path(tempfile.mkdtemp(prefix="alvh-big-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, XDG_DATA_HOME=str(folder / "data"), PYTHONPATH=str(ROOT))
    n = opts.rows
    print(f"{n:,} rows per file; goals: refused or read in <= {GOAL_SECONDS:g} s and "
          f"<= {GOAL_MIB:g} MiB")  # fmt: skip
    print(f"{'run':<58} {'MB':>6} {'exit':>4} {'s':>6} {'MiB':>6}  verdict / what alvh said")
    cases: list[tuple[str, list[str], Path]] = []
    for name in EXPORTS:
        f = repeated(BROKERS / name, folder / f"big_{name}", n)
        cases.append((f"import {name}", ["import", f, "-o", folder / "out.toml"], f))
    f = compact(*COMPACT_EXPORT, folder / "big_compact_export.csv", n)
    cases.append(("import generic, fewest columns", ["import", f, "-o", folder / "out.toml"], f))
    chains = [repeated(CHAINS / name, folder / f"big_{name}", n) for name in ("cboe_eod.csv",
              "generic.csv")]  # fmt: skip
    chains.append(compact(*COMPACT_CHAIN, folder / "big_compact_chain.csv", n))
    pq_file = parquet(chains[-1], folder / "big_compact_chain.parquet")
    if pq_file is not None:
        chains.append(pq_file)
    for f in chains:
        cases.append((f"check --chain {f.name}", ["check", POSITION, "--chain", f], f))
        cases.append((f"market --chain {f.name}", ["market", "--chain", f, "--vix", "18.2"], f))
    if not opts.no_limit_runs:
        # the largest chain accepted: benchmarks/chain.py's, 4,100 strikes an expiry
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import chain as chain_benchmark

        chain_benchmark.N_STRIKES = 4_100
        f = folder / "chain_at_the_row_limit.csv"
        chain_benchmark.write_chain(f)
        rows = f.read_bytes().count(b"\n") - 1
        snap = folder / "snapshot_at_the_limit.toml"
        cases.append((f"market --chain ({rows:,} rows, fits)", ["market", "--chain", f,
                      "--vix", "18.2", "-o", snap, "--force"], f))  # fmt: skip
        check_snap = ["check", POSITION, "--market", snap]
        cases.append(("check --market (that snapshot)", check_snap, snap))
    worst_s = worst_mib = 0.0
    for label, args, f in cases:
        code, wall, peak, said = run([str(a) for a in args], env)
        worst_s, worst_mib = max(worst_s, wall), max(worst_mib, peak)
        ok = wall <= GOAL_SECONDS and peak <= GOAL_MIB and code in (0, 1, 2)
        size = f.stat().st_size / 1e6
        print(f"{label:<58} {size:6.0f} {code:4d} {wall:6.2f} {peak:6.0f}  "
              f"{'ok' if ok else 'OVER GOAL'}: {said[:110]}")  # fmt: skip
    print(f"worst: {worst_s:.2f} s (goal {GOAL_SECONDS:g}), "
          f"{worst_mib:.0f} MiB (goal {GOAL_MIB:g})")  # fmt: skip
    if opts.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
