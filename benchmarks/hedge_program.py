"""The hedge program against the full MILP: objective and time, per program.

Every hedge program ``alvh check`` solves on the given position files (default: the
samples) is solved again two ways: by ``hedge_milp.choose`` (the reductions of its
docstring) and as one MILP over every candidate and every scenario (HiGHS through
``scipy.optimize.milp``, relative gap 1e-9: ``full_milp`` of tests/test_hedge_milp.py).
Printed per program: the candidates, the objective (−CVaR + hedge_min_cvar_per_dollar ×
spend, dollars; lower is better) of each, their relative difference, and the seconds
each took. The acceptance is a difference within 1e-6 relative.

    python benchmarks/hedge_program.py [FILE ...] [--market FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_hedge_milp import full_milp  # noqa: E402  (the tests' reference MILP)

from alvh_cli.method import hedge_milp  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--market", type=Path)
    args = parser.parse_args()
    files = args.files or sorted((ROOT / "sample_positions").glob("*.toml"))

    seen = []
    real = hedge_milp.choose

    def spy(p, g, cost, budget, level, lam=0.0, **kw):
        seen.append((p, g, cost, budget, level, lam, kw))
        return real(p, g, cost, budget, level, lam, **kw)

    hedge_milp.choose = spy
    from alvh_cli.app.check import check

    for f in files:
        start = len(seen)
        check([str(f)], market=args.market)
        for p, g, cost, budget, level, lam, kw in seen[start:]:
            kw = {k: v for k, v in kw.items() if k in ("most", "limits")}
            t = time.perf_counter()
            ours = real(p, g, cost, budget, level, lam, **kw)
            t_ours = time.perf_counter() - t
            t = time.perf_counter()
            full = full_milp(p, g, cost, budget, level, lam, kw.get("most"), kw.get("limits", ()))
            t_full = time.perf_counter() - t
            a = hedge_milp.objective(p, g, cost, level, lam, ours.counts)
            b = hedge_milp.objective(p, g, cost, level, lam, full)
            print(
                f"{f.name}: {len(cost)} candidates, {len(p):,} scenarios; objective ours "
                f"{a:,.3f} ({t_ours * 1e3:.0f} ms), full MILP {b:,.3f} ({t_full:.1f} s), "
                f"relative {(a - b) / max(1.0, abs(b)):+.1e}",
                flush=True,
            )


if __name__ == "__main__":
    main()
