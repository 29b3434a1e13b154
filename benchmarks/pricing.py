"""Benchmark: alvh_cli.model.pricing throughput and implied-vol round-trip accuracy.

Targets: bsm_greeks (price + 5 Greeks) at >= 7M options/s and 1M implied
vols in <= 1.0 s, with round-trip error <= 1e-10 in vol where vega is not
negligible.

bsm_greeks is timed on each normal distribution (``pricing.use_normal``): numpy's
own and scipy.special's compiled loops, on one array of ``--n`` options and on
arrays of 1,000 (what a book's check prices, position by position), and the
largest difference between the two paths, against the option's scale
S e^{-qT} + K e^{-rT}. The rest runs in "auto" mode, as alvh does.

Options are random with a fixed seed over the domain the tests use: spot
10..10,000, strike/spot 0.5..2, T from one hour to 2 years, sigma 0.01..3
(all log-uniform except spot), r 0..8 %, q 0..5 %, half calls.

"Vega not negligible" is the tests' criterion: the vol error that rounding
of the price alone can cause, 4 eps (S e^{-qT} + K e^{-rT}) / vega_per_unit_vol,
is below 5e-11.

    python benchmarks/pricing.py [--n 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

try:
    from alvh_cli.model import pricing
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from alvh_cli.model import pricing

EPS = np.finfo(float).eps
ONE_HOUR = 1.0 / (365.0 * 24.0)


def random_options(n: int, seed: int = 20240601) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    S = rng.uniform(10.0, 10_000.0, n)
    return {
        "is_call": rng.random(n) < 0.5,
        "S": S,
        "K": S * np.exp(rng.uniform(np.log(0.5), np.log(2.0), n)),
        "T": np.exp(rng.uniform(np.log(ONE_HOUR), np.log(2.0), n)),
        "r": rng.uniform(0.0, 0.08, n),
        "q": rng.uniform(0.0, 0.05, n),
        "sigma": np.exp(rng.uniform(np.log(0.01), np.log(3.0), n)),
    }


def best_time(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def paths(o: dict[str, np.ndarray], repeat: int, small: int = 1_000) -> None:
    """bsm_greeks on numpy's normal distribution and on scipy.special's: options/s on
    one large array and on arrays of ``small``, and how far the two paths' values are."""
    args = [o[k] for k in ("is_call", "S", "K", "T", "r", "q", "sigma")]
    n = len(args[0])
    pieces = [[a[i : i + small] for a in args] for i in range(0, n, small)]
    values = {}
    for mode in ("numpy", "compiled"):
        pricing.use_normal(mode)
        t_big, values[mode] = best_time(lambda: pricing.bsm_greeks(*args), repeat)
        t_small, _ = best_time(lambda: [pricing.bsm_greeks(*p) for p in pieces], repeat)
        print(
            f"bsm_greeks on {mode:<8} normal: {n / t_big / 1e6:6.2f} M options/s on "
            f"{n:,} at once, {n / t_small / 1e6:6.2f} M options/s in arrays of {small:,} "
            f"(goal >= 7)"
        )
    a, b = values["numpy"], values["compiled"]
    S, K, T, r, q = (o[k] for k in ("S", "K", "T", "r", "q"))
    scale = S * np.exp(-q * T) + K * np.exp(-r * T)
    worst = max(
        float(np.max(np.abs(getattr(a, f) - getattr(b, f)) / s))
        for f, s in (("price", scale), ("delta", np.exp(-q * T)), ("rho", 0.01 * T * scale))
    )
    same = all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("gamma", "vega"))
    print(
        f"  the two paths: price, delta, rho within {worst:.1e} of their scale; gamma and "
        f"vega {'identical' if same else 'DIFFERENT'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.n
    o = random_options(n)
    c, S, K, T, r, q, sigma = (o[k] for k in ("is_call", "S", "K", "T", "r", "q", "sigma"))

    paths(o, args.repeat)
    pricing.use_normal("auto")
    t, g = best_time(lambda: pricing.bsm_greeks(c, S, K, T, r, q, sigma), args.repeat)
    print(
        f"bsm_greeks     {n:>9,} options  best of {args.repeat}: {t * 1e3:7.1f} ms  "
        f"{n / t / 1e6:6.2f} M options/s (price + 5 Greeks)"
    )
    t76, _ = best_time(lambda: pricing.black76_greeks(c, S, K, T, r, sigma), args.repeat)
    print(
        f"black76_greeks {n:>9,} options  best of {args.repeat}: {t76 * 1e3:7.1f} ms  "
        f"{n / t76 / 1e6:6.2f} M options/s"
    )

    price = g.price
    t_iv, iv = best_time(lambda: pricing.implied_vol(price, c, S, K, T, r, q), args.repeat)
    print(
        f"implied_vol    {n:>9,} prices   best of {args.repeat}: {t_iv * 1e3:7.1f} ms  "
        f"{n / t_iv / 1e6:6.2f} M implied vols/s"
    )

    scale = S * np.exp(-q * T) + K * np.exp(-r * T)
    vega_unit = 100.0 * g.vega
    accurate = vega_unit >= 4.0 * EPS * scale / 5e-11
    err = np.abs(iv - sigma)
    informative = vega_unit > 1e-6 * scale
    print(
        f"  round trip: max |iv - sigma| = {np.max(err[accurate]):.2e} over "
        f"{accurate.sum():,} options with non-negligible vega; "
        f"{n - accurate.sum():,} excluded"
    )
    print(
        f"  NaN (price has no time value in floating point): {np.isnan(iv).sum():,}; "
        f"NaN where vega > 1e-6 * scale: {np.isnan(iv[informative]).sum():,}"
    )
    ok = np.isfinite(iv)
    repriced = pricing.bsm_greeks(c[ok], S[ok], K[ok], T[ok], r[ok], q[ok], iv[ok]).price
    resid = np.abs(repriced - price[ok]) / (EPS * scale[ok])
    print(
        f"  repricing at the implied vol: max residual {resid.max():.1f} ulp of "
        "S e^-qT + K e^-rT (all finite results)"
    )


if __name__ == "__main__":
    main()
