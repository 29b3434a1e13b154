"""Evidence for the backtest's ATM vol: the 30-day ATM vol against the VIX, on real SPXW
chains and in the model.

The VIX is a variance swap priced from out-of-the-money options (Cboe's formula,
``alvh_cli.model.variance_swap``); it carries the skew, ATM vol does not. Printed:

1. the model: the ATM/VIX ratio at which the backtest's smile (``params.PARAMS``) has a
   30-day variance swap equal to the VIX, at VIX levels from 10 to 60, and for the first
   build's slope (−1.1 at every tenor);
2. two real SPXW chains, the samples the ``volkit`` package ships (BSD-3-Clause; Cboe
   end-of-day quotes): 2019-06-26 (``spxw20190626.csv``, Cboe DataShop layout, quotes at
   15:45 New York) and 2025-09-03 (``spxw.csv``, one row per strike; its time of day is not
   stated and is taken as 15:45 too). For each: the chain's own VIX by Cboe's rules — the
   two expiries either side of 30 days (each more than 23 and less than 37 days out), the
   forward and discount factor from put-call parity (``fit_chain``; Cboe uses Treasury
   rates), K₀ the first strike at or below the forward, out-of-the-money mids outward from
   K₀ until two strikes in a row have no bid, the two variances interpolated in total
   variance to 30 days — the chain's 30-day ATM vol (its fitted SVI surface at the forward,
   interpolated the same way), their ratio, and the model smile's variance swap at the
   chain's own ATM vol.

Needs the chains: ``pip install volkit`` (or ``pip download volkit --no-deps`` and unzip
the wheel; then ``--data DIR`` is its ``volkit/datasets/data``).

    python benchmarks/atm_ratio.py [--data DIR]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import math
import sys
import tempfile
from datetime import date, datetime, time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alvh_cli.backtest.params import PARAMS  # noqa: E402
from alvh_cli.inputs.chain import read_option_chain  # noqa: E402
from alvh_cli.model.chain import ChainSnapshot, FittedChain, fit_chain  # noqa: E402
from alvh_cli.model.domain import Smile  # noqa: E402
from alvh_cli.model.timing import NEW_YORK  # noqa: E402
from alvh_cli.model.variance_swap import (  # noqa: E402
    VIX_DAYS,
    atm_ratio,
    cboe_variance,
    smile_variance_swap,
)

T30 = VIX_DAYS / 365.0
NEAR_DAYS = (23.0, 37.0)  # Cboe: near- and next-term expiries more than 23, less than 37 days out
# The published VIX close of each chain's day (Cboe's VIX_History.csv, as the
# datasets/finance-vix repository keeps it).
PUBLISHED = {date(2019, 6, 26): 16.21, date(2025, 9, 3): 16.35}


def default(key: str) -> float:
    return float(PARAMS[key].default)


def model_rows() -> None:
    skew, curve, term = default("spx_skew"), default("spx_smile"), default("spx_skew_term")
    print("1. The model: ATM/VIX at which the smile's 30-day variance swap equals the VIX")
    print(f"   smile: skew {skew:g} at 30 days ({term:+g} per ln(T/30d)), curvature {curve:g}")
    for vix in (10.0, 12.0, 16.0, 20.0, 30.0, 40.0, 60.0):
        print(f"   VIX {vix:4.0f}: ATM = {atm_ratio(skew, curve, term, vix):.4f} x VIX/100")
    ratio = default("atm_ratio")
    vs = smile_variance_swap(Smile(ratio * 0.16, skew, curve, term))
    print(f"   the default atm_ratio {ratio:g}: at VIX 16 the variance swap is {100 * vs:.3f}")
    print(f"   first build's slope -1.1 at every tenor: {atm_ratio(-1.1, curve, 0.0):.4f}")


def volkit_data() -> Path | None:
    spec = importlib.util.find_spec("volkit")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def one_row_per_strike(path: Path, folder: Path) -> Path:
    """``spxw.csv`` (Date, ExpDate, Strike, CallBid, CallAsk, ..., PutBid, PutAsk) as a
    generic chain file (expiry, strike, type, bid, ask). The file lists one expiry,
    2025-09-10, twice over (two roots it does not name): the first of each strike is kept."""
    out = folder / "spxw_20250903_generic.csv"
    seen: set[tuple[str, str]] = set()
    with path.open(encoding="utf-8-sig", newline="") as src, out.open("w", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["expiry", "strike", "type", "bid", "ask"])
        for row in csv.DictReader(src):
            if (row["ExpDate"], row["Strike"]) in seen:
                continue
            seen.add((row["ExpDate"], row["Strike"]))
            for kind, side in (("call", "Call"), ("put", "Put")):
                writer.writerow(
                    [row["ExpDate"], row["Strike"], kind, row[f"{side}Bid"], row[f"{side}Ask"]]
                )
    return out


def expiry_quotes(chain: ChainSnapshot, expiry: date):
    """Strikes (ascending) and the call and put bid and ask at each (NaN where missing)."""
    on = chain.expiry.astype("datetime64[D]") == np.datetime64(expiry)
    strikes = np.unique(chain.strike[on])
    table = {name: np.full(strikes.size, np.nan) for name in ("cb", "ca", "pb", "pa")}
    at = np.searchsorted(strikes, chain.strike[on])
    for is_call, b, a in ((True, "cb", "ca"), (False, "pb", "pa")):
        side = chain.is_call[on] == is_call
        table[b][at[side]] = chain.bid[on][side]
        table[a][at[side]] = chain.ask[on][side]
    return strikes, table


def cboe_term(chain: ChainSnapshot, fit, expiry) -> tuple[float, int, float, float]:
    """(σ², strikes used, lowest and highest k) of one expiry by Cboe's rules."""
    strikes, q = expiry_quotes(chain, expiry.expiry)
    forward = expiry.forward
    i0 = int(np.flatnonzero(strikes <= forward)[-1])
    keep = [i0]
    for step, bid in ((-1, q["pb"]), (1, q["cb"])):
        zeros, i = 0, i0 + step
        while 0 <= i < strikes.size and zeros < 2:
            if bid[i] > 0:
                keep.append(i)
                zeros = 0
            else:
                zeros += 1
            i += step
    keep.sort()
    calls = 0.5 * (q["cb"] + q["ca"])[keep]
    puts = 0.5 * (q["pb"] + q["pa"])[keep]
    k = strikes[keep]
    var = cboe_variance(k, calls, puts, forward, expiry.T, expiry.rate)
    return var, len(keep), math.log(k[0] / forward), math.log(k[-1] / forward)


def chain_rows(label: str, chain: ChainSnapshot, fitted: FittedChain) -> None:
    days = fitted.times * 365.0
    inside = [e for e, d in zip(fitted.expiries, days, strict=True) if NEAR_DAYS[0] < d < 37]
    near = max((e for e in inside if e.T <= T30), key=lambda e: e.T)
    nxt = min((e for e in inside if e.T > T30), key=lambda e: e.T)
    (v1, n1, lo1, hi1), (v2, n2, lo2, hi2) = (cboe_term(chain, fitted, e) for e in (near, nxt))
    w = (nxt.T - T30) / (nxt.T - near.T)
    vix = 100.0 * math.sqrt((near.T * v1 * w + nxt.T * v2 * (1 - w)) / T30)
    atm = 100.0 * float(fitted.vol(0.0, T30))
    day = fitted.asof.date()
    print(f"   {label}:")
    for e, n, lo, hi in ((near, n1, lo1, hi1), (nxt, n2, lo2, hi2)):
        print(
            f"     {e.expiry} ({e.T * 365:.2f} days): F {e.forward:.2f}, r {e.rate:.4f}, "
            f"{n} strikes, k {lo:+.3f} to {hi:+.3f}"
        )
    print(f"     the chain's VIX {vix:.2f} (published close {PUBLISHED.get(day, math.nan):.2f})")
    print(f"     30-day ATM vol {atm:.2f}: ATM / VIX = {atm / vix:.3f}")
    skew, curve, term = default("spx_skew"), default("spx_smile"), default("spx_skew_term")
    model = 100.0 * smile_variance_swap(Smile(atm / 100.0, skew, curve, term))
    print(f"     the model's smile at that ATM vol: variance swap {model:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="volkit's datasets/data folder")
    args = parser.parse_args()
    model_rows()
    data = args.data or volkit_data()
    if data is None or not (data / "spxw20190626.csv").is_file():
        print(
            "\n2. Real chains: not found. pip install volkit, or pip download volkit --no-deps, "
            "unzip it and give --data .../volkit/datasets/data",
            file=sys.stderr,
        )
        return 2
    print(f"\n2. Real SPXW chains (volkit's samples, {data})")
    chain = read_option_chain(data / "spxw20190626.csv")
    (fitted,) = fit_chain(chain)
    chain_rows("2019-06-26", chain, fitted)
    with tempfile.TemporaryDirectory() as folder:
        chain = read_option_chain(one_row_per_strike(data / "spxw.csv", Path(folder)))
    asof = datetime.combine(date(2025, 9, 3), time(15, 45), tzinfo=NEW_YORK)
    (fitted,) = fit_chain(chain, asof)
    chain_rows("2025-09-03", chain, fitted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
