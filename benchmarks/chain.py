"""Benchmark: read and fit a 10,000-row SPX option chain (30 expiries).

Goals: reading the chain file and fitting every expiry (parity forward and
discount factor, raw SVI smile, arbitrage checks) at most 0.5 s beyond
start-up, where start-up is the median wall time of
``python -c "import typer, rich, numpy, scipy.special"`` (what every pricing
command of alvh pays) and the timed child does the same imports, then
``fit_chain(read_chain(FILE))``; and the whole of ``alvh check POS --chain
FILE`` at most 1 s.

The chain is invented, in the Cboe end-of-day layout with all its columns:
quote date 2026-11-24 (15:45 New York), SPX 5850.25, r = 4.2 %, q = 1.3 %
(so ``F = S·e^{(r−q)T}``, ``D = e^{−rT}``), 30 expiries (the next ten
trading days, then Fridays, then monthly third Fridays out to a year, two of
them AM-settled SPX as well as SPXW), 167 strikes per expiry (5 points apart
at least, from −6 to +3 ATM standard deviations), a call and a put at each:
10,020 rows. Vols from an arbitrage-free power-law SSVI surface (Gatheral &
Jacquier 2014, section 4: ρ = −0.7, η = 1.1, γ = 0.4; ATM vol 13 % rising to
17 %), prices Black-76, quotes rounded outward to the tick (0.05 under 3.00,
0.10 above) around a spread of 0.1 + 0.8 % of the price, so mids carry real
rounding noise and far wings have zero bids.

Printed: the in-process times (CSV read, Parquet read when pyarrow is
there, fit), the fit's quality against the surface it came from (forward
and discount errors, SVI RMS in vol points, arbitrage flags), and the
child's wall and CPU time beyond start-up against the goal (on a shared
machine the CPU time, user + system, is the steadier figure). Then what
``alvh market`` derives (rate, dividend yield and fallback smile against
the truth, the file's size and read time, the round trip's largest vol and
price differences), and whole commands on a one-condor book whose strikes
are off the chain's grid: ``check`` on its own [market], with ``--chain``,
``market -o``, and ``check --market`` on the written snapshot (with and
without quotes). The children get a private bytecode cache as in
benchmarks/startup.py.

    python benchmarks/chain.py [--runs 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from alvh_cli.model import pricing  # noqa: E402
from alvh_cli.model.exchange import is_business_day  # noqa: E402
from alvh_cli.model.expirations import spx_monthly_expiration  # noqa: E402
from alvh_cli.model.timing import settlement_instant, year_fraction  # noqa: E402

GOAL = 0.5  # seconds beyond start-up
CHECK_GOAL = 1.0  # seconds: the whole of `alvh check --chain` on this chain
EST = timezone(timedelta(hours=-5))
QUOTE_DATE = date(2026, 11, 24)
ASOF = datetime(2026, 11, 24, 15, 45, tzinfo=EST)
SPOT, RATE, DIVIDEND = 5850.25, 0.042, 0.013
RHO, ETA, GAMMA = -0.7, 1.1, 0.4
N_STRIKES = 167

CBOE_HEADER = [
    "underlying_symbol",
    "quote_date",
    "root",
    "expiration",
    "strike",
    "option_type",
    "open",
    "high",
    "low",
    "close",
    "trade_volume",
    "bid_size_1545",
    "bid_1545",
    "ask_size_1545",
    "ask_1545",
    "underlying_bid_1545",
    "underlying_ask_1545",
    "implied_underlying_price_1545",
    "active_underlying_price_1545",
    "implied_volatility_1545",
    "delta_1545",
    "gamma_1545",
    "theta_1545",
    "vega_1545",
    "rho_1545",
    "bid_size_eod",
    "bid_eod",
    "ask_size_eod",
    "ask_eod",
    "underlying_bid_eod",
    "underlying_ask_eod",
    "vwap",
    "open_interest",
    "delivery_code",
]


def expiries() -> list[tuple[str, date]]:
    """30 (root, expiry): ten trading days, Fridays to three months, then third Fridays."""
    out: list[tuple[str, date]] = []
    d = QUOTE_DATE
    while len(out) < 10:
        d += timedelta(days=1)
        if is_business_day(d):
            out.append(("SPXW", d))
    while d < QUOTE_DATE + timedelta(days=91):
        d += timedelta(days=1)
        if d.weekday() == 4 and is_business_day(d) and ("SPXW", d) not in out:
            out.append(("SPXW", d))
    year, month = 2027, 3
    while len(out) < 28:
        out.append(("SPXW", spx_monthly_expiration(year, month)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    out += [("SPX", spx_monthly_expiration(2027, 3)), ("SPX", spx_monthly_expiration(2027, 6))]
    return out


def ssvi(T: float, k: np.ndarray) -> np.ndarray:
    """Total variance of the power-law SSVI surface (Gatheral & Jacquier 2014, eq. 4.1)."""
    atm = 0.13 + 0.04 * (1.0 - math.exp(-T / 0.5))
    theta = atm * atm * T
    phi = ETA / (theta**GAMMA * (1.0 + theta) ** (1.0 - GAMMA))
    return 0.5 * theta * (1.0 + RHO * phi * k + np.sqrt((phi * k + RHO) ** 2 + 1.0 - RHO * RHO))


def tick_round(price: np.ndarray, up: bool) -> np.ndarray:
    tick = np.where(price < 3.0, 0.05, 0.10)
    steps = np.ceil(price / tick - 1e-9) if up else np.floor(price / tick + 1e-9)
    return np.round(np.maximum(steps, 0.0) * tick, 2)


def write_chain(path: Path) -> dict:
    """Write the chain; return the true forward and discount factor by (root, expiry)."""
    truth = {}
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CBOE_HEADER)
        for root, expiry in expiries():
            T = year_fraction(ASOF, settlement_instant(root, expiry))
            F, D = SPOT * math.exp((RATE - DIVIDEND) * T), math.exp(-RATE * T)
            truth[(root, expiry)] = (F, D, T)
            sd = math.sqrt(ssvi(T, np.zeros(1))[0])
            lo, hi = F * math.exp(-6 * sd), F * math.exp(3 * sd)
            step = max(5.0, 5.0 * round((hi - lo) / (N_STRIKES - 1) / 5.0))
            start = step * round(F / step) - step * round((F - lo) / step)
            K = start + step * np.arange(N_STRIKES)
            K = K[K > 0]
            vol = np.sqrt(ssvi(T, np.log(K / F)) / T)
            for is_call in (True, False):
                price = pricing.black76_greeks(is_call, F, K, T, RATE, vol).price
                half = 0.5 * (0.1 + 0.008 * price)
                bid, ask = tick_round(price - half, up=False), tick_round(price + half, up=True)
                for k, b, a in zip(K.tolist(), bid.tolist(), ask.tolist(), strict=True):
                    row = dict.fromkeys(CBOE_HEADER, "0")
                    row.update(
                        underlying_symbol="^SPX",
                        quote_date=QUOTE_DATE.isoformat(),
                        root=root,
                        expiration=expiry.isoformat(),
                        strike=f"{k:.3f}",
                        option_type="C" if is_call else "P",
                        bid_1545=f"{b:.2f}",
                        ask_1545=f"{a:.2f}",
                        underlying_bid_1545=f"{SPOT - 0.12:.2f}",
                        underlying_ask_1545=f"{SPOT + 0.12:.2f}",
                        delivery_code="",
                    )
                    w.writerow([row[c] for c in CBOE_HEADER])
    return truth


def in_process(path: Path, truth: dict) -> None:
    from alvh_cli.inputs.chain import has_pyarrow, read_chain
    from alvh_cli.model.chain import fit_chain

    t0 = time.perf_counter()
    snap = read_chain(path)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    (fitted,) = fit_chain(snap)
    t_fit = time.perf_counter() - t0
    n_exp = len(fitted.expiries) + len(fitted.unfitted)
    print(f"rows {len(snap):,} in {n_exp} expiries; skipped {dict(snap.skipped + fitted.skipped)}")
    print(
        f"in process: CSV read {t_read * 1e3:.0f} ms, fit {t_fit * 1e3:.0f} ms "
        f"({t_fit / max(len(fitted.expiries), 1) * 1e3:.1f} ms an expiry)"
    )
    if has_pyarrow():
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        pq_path = path.with_suffix(".parquet")
        opts = pacsv.ConvertOptions(column_types={c: pa.string() for c in CBOE_HEADER})
        pq.write_table(pacsv.read_csv(path, convert_options=opts), pq_path)
        t0 = time.perf_counter()
        read_chain(pq_path)
        print(f"Parquet read (all columns as text) {(time.perf_counter() - t0) * 1e3:.0f} ms")
    for u in fitted.unfitted:
        print(f"  unfitted {u.root} {u.expiry} ({u.T * 365:.2f} d): {u.reason}")
    f_err = max(abs(e.forward - truth[(e.root, e.expiry)][0]) for e in fitted.expiries)
    d_err = max(abs(e.discount - truth[(e.root, e.expiry)][1]) for e in fitted.expiries)
    rms = [e.smile.rms_vol_points for e in fitted.expiries]
    worst = max(e.smile.max_error_vol_points for e in fitted.expiries)
    print(
        f"fitted {len(fitted.expiries)} expiries: |F - F_true| <= {f_err:.3f} points, "
        f"|D - D_true| <= {d_err:.2e}; SVI RMS {min(rms):.3f}..{max(rms):.3f} vol points "
        f"(median {statistics.median(rms):.3f}), largest error {worst:.2f}; "
        f"butterfly-free {sum(e.smile.butterfly_free for e in fitted.expiries)}"
        f"/{len(fitted.expiries)} (repaired {sum(e.smile.repaired for e in fitted.expiries)}), "
        f"calendar violations {len(fitted.calendar)}"
    )


def child_times(path: Path, runs: int, env: dict) -> None:
    startup = [sys.executable, "-c", "import typer, rich, numpy, scipy.special"]
    work = [
        sys.executable,
        "-c",
        "import typer, rich, numpy, scipy.special\n"
        "from alvh_cli.inputs.chain import read_chain\n"
        "from alvh_cli.model.chain import fit_chain\n"
        f"fit_chain(read_chain({str(path)!r}))",
    ]

    def timed(cmd) -> tuple[float, float]:
        """Wall and CPU (user + system) seconds of one child run."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, capture_output=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    timed(startup), timed(work)  # warm the bytecode cache
    s = [timed(startup) for _ in range(runs)]
    w = [timed(work) for _ in range(runs)]
    for i, what in ((0, "wall"), (1, "CPU")):
        base = statistics.median(t[i] for t in s)
        full = statistics.median(t[i] for t in w)
        beyond = full - base
        verdict = "OK" if beyond <= GOAL else "OVER"
        print(
            f"{what}: start-up {base:.3f} s; read + fit {full:.3f} s (median of {runs}); "
            f"beyond start-up {beyond:.3f} s (goal <= {GOAL} s: {verdict})"
        )


POSITION = """\
[market]
asof = 2026-11-24T15:45:00-05:00
spx = 5850.25
vix = 18.2
rate = 0.042
dividend_yield = 0.013
vix_futures = [ { expiry = 2026-12-16, price = 19.1 }, { expiry = 2027-01-20, price = 19.8 } ]

[market.spx_vol]
atm = 0.165
skew = -1.1
smile = 2.5

[market.vix_vol]
atm = 0.95
skew = 0.8

[[positions]]
id = "dec-ic"
credit = 6.0
"""
LEGS = (("put", 5412.5, 2), ("put", 5462.5, -2), ("call", 6112.5, -2), ("call", 6162.5, 2))


def write_position(path: Path) -> None:
    """One condor on SPXW 2026-12-18, strikes off the chain's grid (so the surface
    prices them), with the chain's day, SPX level and carry in its [market]."""
    legs = "".join(
        f'\n  [[positions.legs]]\n  type = "{t}"\n  strike = {k}\n  expiry = 2026-12-18\n'
        f"  quantity = {q}\n  entry_price = 3.0\n"
        for t, k, q in LEGS
    )
    path.write_text(POSITION + legs)


def snapshot_figures(chain: Path) -> None:
    """What `alvh market` derives, against the truth the chain was made from."""
    from alvh_cli.app.market import market_from_files
    from alvh_cli.inputs import positions
    from alvh_cli.inputs.toml_reader import tomllib
    from alvh_cli.model.legs import value_legs
    from alvh_cli.output.market import market_toml

    t0 = time.perf_counter()
    market, notes = market_from_files([chain], vix=18.2)
    text = market_toml(market, notes)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    back = positions.parse_market(tomllib.loads(text)["market"], "today.toml")
    t_read = time.perf_counter() - t0
    near = notes["near_month"]
    print(
        f"alvh market: rate {market.rate:.4%} (true {RATE:.2%}), dividend yield "
        f"{market.dividend_yield:.4%} (true {DIVIDEND:.2%}), from {near.root} {near.expiry}; "
        f"smile atm {market.spx_vol.atm:.4f} skew {market.spx_vol.skew:.3f} "
        f"smile {market.spx_vol.smile:.3f}; {len(text) / 1e6:.2f} MB, built in "
        f"{t_build * 1e3:.0f} ms, read back in {t_read * 1e3:.0f} ms"
    )
    from alvh_cli.model.domain import Leg

    legs = [
        Leg("SPX", s.root, kind, float(k), s.expiry, 1, 1.0)
        for s in market.spx_surface.slices
        for kind in ("put", "call")
        for k in np.linspace(0.8, 1.1, 13) * SPOT
    ]
    a, b = value_legs(market, legs), value_legs(back, legs)
    print(
        f"round trip over {len(legs)} legs: max |vol difference| "
        f"{np.max(np.abs(a.vol - b.vol)):.1e}, max |price difference| "
        f"{np.max(np.abs(a.price - b.price)):.1e} points"
    )


def command_times(folder: Path, runs: int, env: dict) -> None:
    """Wall and CPU time of whole `alvh` commands on the chain (median of ``runs``,
    round-robin so load drift hits each alike)."""
    chain, pos = folder / "spx_eod.csv", folder / "pos.toml"
    today, bare = folder / "today.toml", folder / "today_no_quotes.toml"
    write_position(pos)
    alvh = [sys.executable, "-m", "alvh_cli"]
    subprocess.run(
        [*alvh, "market", "--chain", str(chain), "--vix", "18.2", "-o", str(bare), "--force",
         "--no-quotes"], check=True, env=env, capture_output=True,
    )  # fmt: skip
    commands = {
        "check (its own [market])": [*alvh, "check", str(pos)],
        "check --chain": [*alvh, "check", str(pos), "--chain", str(chain)],
        "market --chain -o today.toml": [
            *alvh, "market", "--chain", str(chain), "--vix", "18.2", "-o", str(today), "--force",
        ],
        "check --market today.toml": [*alvh, "check", str(pos), "--market", str(today)],
        "check --market (--no-quotes)": [*alvh, "check", str(pos), "--market", str(bare)],
    }  # fmt: skip

    def timed(cmd) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(cmd, env=env, capture_output=True)
        wall = time.perf_counter() - t0
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.decode()}")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    for cmd in commands.values():
        timed(cmd)  # warm the bytecode cache
    got: dict[str, list] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            got[name].append(timed(cmd))
    for name, times in got.items():
        wall = statistics.median(t[0] for t in times)
        cpu = statistics.median(t[1] for t in times)
        goal = f" (goal <= {CHECK_GOAL} s: {'OK' if wall <= CHECK_GOAL else 'OVER'})"
        print(
            f"alvh {name}: wall {wall:.3f} s, CPU {cpu:.3f} s (median of {runs})"
            + (goal if name == "check --chain" else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="write the chain here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="alvh-chain-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "spx_eod.csv"
        truth = write_chain(path)
        in_process(path, truth)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        child_times(path, args.runs, env)
        snapshot_figures(path)
        command_times(folder, args.runs, env)


if __name__ == "__main__":
    main()
