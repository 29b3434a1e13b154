"""Benchmark: ``alvh review`` over a 1,000-position book with a 20-year daily history.

Target (the issue): at most 3 s beyond start-up. Start-up is the time of
``python -c "import typer, rich"`` (the interpreter and the CLI framework, which
every command pays); the figure that counts is the review's median wall time
minus that.

The book is written to a temporary directory: ``--files`` position files (one
position each by default, as a book directory usually holds) sharing one
market snapshot. Positions are spread over three expiries and over marks from
0.3x to 3.5x, so the run exercises every path: holds, Layer 1/2 sizing (the
costly one: a candidate grid revalued in the stress), conversions, unwinds and
profit takes; one in five carries a Layer 1 VIX call spread already. The
history is a synthetic ``date,spx,vix`` CSV of business days over 20 years.

    PYTHONPATH=. python benchmarks/review.py [--positions 1000] [--files 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

SPOT, VIX, RATE, DIVIDEND = 5850.25, 18.2, 0.042, 0.013
ASOF = date(2026, 11, 24)
SMILE = (0.165, -1.1, 2.5)  # atm, skew, smile (DESIGN §2)
EXPIRIES = (date(2026, 12, 18), date(2027, 1, 15), date(2027, 2, 19))
MARKET = """\
[market]
asof = 2026-11-24T15:45:00-05:00
spx = 5850.25
vix = 18.2
rate = 0.042
dividend_yield = 0.013
vix_futures = [
  { expiry = 2026-12-16, price = 19.1 },
  { expiry = 2027-01-20, price = 19.8 },
  { expiry = 2027-02-17, price = 20.3 },
  { expiry = 2027-03-17, price = 20.6 },
  { expiry = 2027-04-21, price = 20.9 },
]

[market.spx_vol]
atm = 0.165
skew = -1.1
smile = 2.5

[market.vix_vol]
atm = 0.95
skew = 0.8
smile = 0.0
"""


def _condor_value(strikes: tuple[float, float, float, float], expiry: date) -> float:
    """Debit to close one condor unit today, in points, priced on the market's smile."""
    from alvh_cli.model.pricing import bsm_greeks

    t = ((expiry - ASOF).days + 0.01) / 365.0
    k = np.array(strikes)
    fwd = SPOT * math.exp((RATE - DIVIDEND) * t)
    m = np.log(k / fwd)
    iv = np.maximum(SMILE[0] + SMILE[1] * m + SMILE[2] * m * m, 0.01)
    is_call = np.array([False, False, True, True])
    price = bsm_greeks(is_call, SPOT, k, t, RATE, DIVIDEND, iv).price
    return float(price[1] - price[0] + price[2] - price[3])


def position_toml(i: int, rng: np.random.Generator) -> str:
    """One condor (and, for one in five, a Layer 1 hedge) with a mark from 0.3x to 3.5x."""
    expiry = EXPIRIES[i % len(EXPIRIES)]
    put_otm = rng.uniform(0.0, 0.05)
    call_otm = rng.uniform(0.01, 0.10)
    sp = 5 * round(SPOT * (1 - put_otm) / 5)
    sc = max(5 * round(SPOT * (1 + call_otm) / 5), sp + 50)
    width = int(rng.choice([25, 50, 75]))
    strikes = (sp - width, sp, sc, sc + width)
    mark = float(rng.uniform(0.3, 3.5))
    # a credit never exceeds the wing (the loader refuses that), so cap the target mark
    credit = min(max(_condor_value(strikes, expiry) / mark, 0.2), 0.9 * width)
    units = int(rng.integers(1, 11))
    # Entry premiums: today's split of the credit across the legs is near enough.
    share = (0.35, 0.85, 0.75, 0.25)  # long put, short put, short call, long call
    entry = [credit * s for s in share]
    entry[1] = credit + entry[0] + entry[3] - entry[2]  # net = credit exactly
    lines = [f'[[positions]]\nid = "ic-{i:04d}"\nopened = 2026-10-20\ncredit = {credit:.2f}\n']
    for (typ, qty), strike, price in zip(
        (("put", units), ("put", -units), ("call", -units), ("call", units)),
        strikes,
        entry,
        strict=True,
    ):
        lines.append(
            f'[[positions.legs]]\ntype = "{typ}"\nstrike = {strike}\nexpiry = {expiry}\n'
            f"quantity = {qty}\nentry_price = {price:.2f}\n"
        )
    if i % 5 == 0:
        n = 2 * units
        for strike, qty, price in ((21, n, 1.35), (28, -n, 0.55)):
            lines.append(
                f'[[positions.legs]]\nunderlying = "VIX"\ntype = "call"\nstrike = {strike}\n'
                f"expiry = 2026-12-16\nquantity = {qty}\nentry_price = {price}\nlayer = 1\n"
                f"entry_vix = {VIX + 2:.1f}\n"
            )
    return "\n".join(lines)


def write_book(folder: Path, positions: int, files: int, seed: int = 7) -> Path:
    """``positions`` positions spread over ``files`` TOML files in ``folder``/book."""
    rng = np.random.default_rng(seed)
    book = folder / "book"
    book.mkdir()
    chunks: list[list[str]] = [[] for _ in range(files)]
    for i in range(positions):
        chunks[i % files].append(position_toml(i, rng))
    for n, chunk in enumerate(chunks):
        (book / f"book-{n:04d}.toml").write_text("\n".join(chunk), encoding="utf-8")
    (folder / "market.toml").write_text(MARKET, encoding="utf-8")
    return book


def write_history(path: Path, years: int = 20, seed: int = 11) -> int:
    """Synthetic business-day ``date,spx,vix`` history ending at asof; returns the row count."""
    rng = np.random.default_rng(seed)
    start = ASOF - timedelta(days=365 * years)
    days = [start + timedelta(n) for n in range((ASOF - start).days + 1)]
    days = [d for d in days if d.weekday() < 5]
    n = len(days)
    ret = rng.normal(0.0003, 0.011, n)
    spx = SPOT * np.exp(np.cumsum(ret) - np.cumsum(ret)[-1])
    logv = np.empty(n)
    logv[0] = math.log(VIX)
    for k in range(1, n):  # mean-reverting log VIX, moving against SPX (beta about -4.9)
        logv[k] = logv[k - 1] + 0.05 * (math.log(18.0) - logv[k - 1]) - 4.9 * ret[k] * 0.8
    vix = np.exp(logv - logv[-1] + math.log(VIX))
    with path.open("w", encoding="utf-8") as fh:
        fh.write("date,spx,vix\n")
        for d, s, v in zip(days, spx, vix, strict=True):
            fh.write(f"{d.isoformat()},{s:.2f},{v:.2f}\n")
    return n


def _timed(cmd: list[str], ok=(0, 1)) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=1000)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        book = write_book(folder, args.positions, min(args.files, args.positions))
        rows = write_history(folder / "history.csv")
        print(
            f"wrote {args.positions} positions in {min(args.files, args.positions)} files "
            f"and {rows} history rows in {time.perf_counter() - t0:.1f} s"
        )
        journal = folder / "journal.sqlite"
        review = [
            sys.executable,
            "-m",
            "alvh_cli",
            "review",
            str(book),
            "--market",
            str(folder / "market.toml"),
            "--history",
            str(folder / "history.csv"),
            "--format",
            "json",
            "--journal",
            str(journal),
        ]
        startup = [sys.executable, "-c", "import typer, rich"]
        _timed(startup)  # warm the file cache
        base = statistics.median(_timed(startup) for _ in range(args.runs))
        times = [_timed(review) for _ in range(args.runs)]
        run = statistics.median(times)
        print(f"start-up (python -c 'import typer, rich'): {base:.3f} s (median of {args.runs})")
        print(
            f"alvh review: {run:.3f} s (median of {args.runs}; runs "
            f"{', '.join(f'{t:.2f}' for t in times)})"
        )
        verdict = "OK" if run - base <= 3.0 else "OVER"
        print(f"beyond start-up: {run - base:.3f} s (target <= 3 s: {verdict})")


if __name__ == "__main__":
    main()
