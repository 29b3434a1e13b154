"""Benchmark: ``alvh price`` and ``alvh check`` over a big book (1,000 positions by default).

Goals ("big books", and trust at scale):

* ``alvh check --format json`` of 1,000 positions at most 1 s beyond start-up; of
  10,000 at most 5 s in all, peaking at most 300 MiB (resident set);
* ``alvh check`` as a table at most 1.5x the time of ``alvh check --format json`` on
  the same book (the table must not cost more than the check itself);
* ``alvh price --format json`` peaks at most 250 MiB (resident set) at 10,000 positions.

The check's figures are printed beside their goals at 1,000 positions (the default) and
at 10,000 (``--positions 10000 --warmup 0 --runs 1``: minutes); at another size, the
rate per 1,000. On a machine of two cores or more, a check shares the work with forked
copies of itself, one per core (``alvh_cli.forked``): the files' parsing of a book of
256 kB or more (this process meanwhile reads the history and imports scipy), the
scenario work of 16 positions due a hedge or more, the books of a snapshot with several
condor expiries, and the checks and their records of 100 live positions or more. Its
CPU time then counts every process, its peak the largest.

Each command's wall time, CPU time (user + system: steadier than wall time on
a shared machine) and peak resident memory (``ru_maxrss`` of that child alone,
taken by a small intermediate process: see ``_MEASURE``) are printed with the
ratios. Also printed: start-up, the median wall time of ``python -c "import
typer, rich, numpy"`` (what alvh check loads), and each command's time beyond
it per 1,000 positions (price: against its goal of 1 s). ``--profile`` shows where
the time goes (of this process only: a spread check's other processes go unseen).

The book is written to a temporary directory: ``--positions`` positions over
``--files`` position files sharing one market snapshot (DESIGN §2): asof
2026-11-24T15:45-05:00, SPX 5850.25, VIX 18.2, four VIX futures in contango,
SPX smile skew -1.1 smile 2.5 (ATM from VIX), VIX smile ATM 1.0 skew 0.8, and
``[[market.quotes]]`` covering about a third of the legs. Each position is an
SPX iron condor (SPXW, 2026-12-18 or 2027-01-15) opened 1 to 6 weeks earlier
at another SPX level, its entry prices the model's at the open (VIX then
followed SPX at beta -4.9 down, -2.5 up, plus some vol crush), plus 0, 2 or 4
hedge legs: a Layer 1 VIX call spread and sometimes a Layer 2 one, with
``entry_vix``. The opening SPX level is solved for a target mark, so today's
marks spread from about 0.3x to 4x: calm condors (profit takes, unwinds),
Layer 1, 2 and 3 triggers on the put side (some through the short put) and
call-side tested ones. Strikes stay where the quadratic smile is still
arbitrage-free (see ``sane``); quotes move with one vol shift per expiry, so a
put spread's quotes are never inverted, and a quote that would price a vertical
held outside 0 to its width against the model's price of its other leg is
dropped (see ``contradicted``).

The first ``check --format json`` run validates the book (exit status 0 or 1,
never 2, and one row per position). ``--warmup`` untimed runs of each command
come first (default 1; 0 for a 10,000-position book, where each run takes
minutes), then ``--runs`` timed runs; the figures are medians. Output goes to a
file (stdout is not a terminal, as in a cron job: compact JSON, the plain
table). The table runs at ``COLUMNS=200``; ``--narrow`` adds one at 80 (the
stacked layout). The children get a private bytecode cache
(``PYTHONPYCACHEPREFIX``, see benchmarks/startup.py); ``--as-is`` keeps the
environment unchanged. With ``--profile`` each command is run once more under
cProfile and the top hotspots are printed.

    python benchmarks/book.py [--positions 1000] [--files 4] [--runs 3] [--warmup 1]
        [--narrow] [--profile] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pstats
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

# ---------------------------------------------------------------- the market
NY = timezone(timedelta(hours=-5))  # every date here falls in EST
ASOF = datetime(2026, 11, 24, 15, 45, tzinfo=NY)
SPX, VIX, RATE, DIVIDEND = 5850.25, 18.2, 0.042, 0.013
SPX_SMILE = (-1.1, 2.5)  # skew, smile; ATM = VIX / 100
VIX_SMILE = (1.0, 0.8, 0.0)  # atm, skew, smile
VIX_FUTURES = {
    date(2026, 12, 16): 19.1,
    date(2027, 1, 20): 19.8,
    date(2027, 2, 17): 20.3,
    date(2027, 3, 17): 20.6,
}
CONDOR_EXPIRIES = (date(2026, 12, 18), date(2027, 1, 15))
VIX_BETA, RALLY_BETA = -4.9, -2.5
GOALS = {"price": 1.0}  # seconds beyond start-up, per 1,000 positions
CHECK_GOAL_1K = 1.0  # seconds beyond start-up, check --format json of 1,000 positions
CHECK_GOAL_10K = 5.0  # seconds in all, check --format json of 10,000 positions
CHECK_MEMORY_GOAL = 300.0  # MiB, check --format json of 10,000 positions
TABLE_RATIO_GOAL = 1.5  # check as a table / check as JSON
PRICE_MEMORY_GOAL = 250.0  # MiB, price --format json

FUTURES_TOML = "".join(f"  {{ expiry = {d}, price = {p} }},\n" for d, p in VIX_FUTURES.items())
MARKET = f"""\
# Shared market snapshot for the benchmark book (benchmarks/book.py).
[market]
asof = {ASOF.isoformat()}
spx = {SPX}
vix = {VIX}
rate = {RATE}
dividend_yield = {DIVIDEND}
vix_futures = [
{FUTURES_TOML}]

[market.spx_vol]                  # the ATM the book's prices were made at: VIX / 100
atm = {VIX / 100}
skew = {SPX_SMILE[0]}
smile = {SPX_SMILE[1]}

[market.vix_vol]
atm = {VIX_SMILE[0]}
skew = {VIX_SMILE[1]}
smile = {VIX_SMILE[2]}
"""


# ------------------------------------------------------- a small Black-76 model
def _ncdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def black(is_call: bool, fwd: float, strike: float, t: float, vol: float) -> float:
    """Black-76 price of a European option on ``fwd``, discounted at RATE."""
    df = math.exp(-RATE * t)
    if t <= 0.0 or vol <= 0.0:
        return df * max(fwd - strike if is_call else strike - fwd, 0.0)
    sd = vol * math.sqrt(t)
    d1 = (math.log(fwd / strike) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    if is_call:
        return df * (fwd * _ncdf(d1) - strike * _ncdf(d2))
    return df * (strike * _ncdf(-d2) - fwd * _ncdf(-d1))


def years(expiry: date, hour: int, minute: int, since: datetime = ASOF) -> float:
    """ACT/365 from ``since`` to ``hour:minute`` New York on ``expiry``."""
    settle = datetime(expiry.year, expiry.month, expiry.day, hour, minute, tzinfo=NY)
    return (settle - since).total_seconds() / (365.0 * 86400.0)


def spx_t(expiry: date) -> float:
    return years(expiry, 16, 0)  # SPXW: PM-settled


def vix_t(expiry: date) -> float:
    return years(expiry, 9, 30)  # VIX: AM-settled


def spx_option(is_call: bool, spot: float, vix: float, strike: float, t: float) -> float:
    """SPX option on the market's smile, with ATM vol ``vix`` / 100."""
    fwd = spot * math.exp((RATE - DIVIDEND) * t)
    k = math.log(strike / fwd)
    vol = max(vix / 100.0 + SPX_SMILE[0] * k + SPX_SMILE[1] * k * k, 0.01)
    return black(is_call, fwd, strike, t, vol)


def vix_vol(fut: float, strike: float) -> float:
    k = math.log(strike / fut)
    return max(VIX_SMILE[0] + VIX_SMILE[1] * k + VIX_SMILE[2] * k * k, 0.01)


def tick(x: float, step: float = 0.05) -> float:
    return round(round(x / step) * step, 2)


# ---------------------------------------------------------------- the book
@dataclass
class Leg:
    underlying: str
    type: str
    strike: float
    expiry: date
    quantity: int
    entry_price: float
    layer: int | None = None
    entry_vix: float | None = None

    @property
    def contract(self) -> tuple[str, str, float, date]:
        return (self.underlying, self.type, self.strike, self.expiry)


@dataclass
class Position:
    id: str
    opened: date
    credit: float | None
    legs: list[Leg] = field(default_factory=list)
    target: float = 0.0
    model_mark: float = 0.0
    kind: str = ""


# (weight, kind, mark range, side): put side = SPX fell since the open
SCENARIOS = (
    (0.30, "calm", (0.30, 1.20), None),
    (0.10, "watch", (1.20, 1.50), "put"),
    (0.15, "layer1", (1.50, 2.00), "put"),
    (0.15, "layer2", (2.00, 3.00), "put"),
    (0.12, "layer3", (3.00, 4.00), "put"),
    (0.18, "call-tested", (1.00, 2.20), "call"),
)


def condor_strikes(s0: float, u: float, v: float, wp: int, wc: int) -> tuple[int, ...]:
    sp = 5 * round(s0 * (1.0 - u) / 5.0)
    sc = 5 * round(s0 * (1.0 + v) / 5.0)
    return (sp - wp, sp, sc, sc + wc)


def condor_prices(strikes, spot: float, vix: float, t: float) -> list[float]:
    lp, sp, sc, lc = strikes
    return [
        spx_option(False, spot, vix, lp, t),
        spx_option(False, spot, vix, sp, t),
        spx_option(True, spot, vix, sc, t),
        spx_option(True, spot, vix, lc, t),
    ]


def opening(x: float, zp: float, zc: float, wp: int, wc: int, t_open: float, crush: float):
    """Strikes and entry prices of a condor opened with SPX at SPX·e^x.

    VIX at the open follows SPX (beta -4.9 on the way down, a milder -2.5 on
    rallies) times e^crush, the volatility that has drained out since. The
    short strikes sit ``zp`` and ``zc`` standard deviations (at VIX) out of the
    money, at most 8.5% and 7% (the smile's put wing is only sane near the money).
    """
    s0 = SPX * math.exp(x)
    vix0 = min(max(VIX * math.exp((VIX_BETA if x > 0 else RALLY_BETA) * x + crush), 11.0), 28.0)
    sd = vix0 / 100.0 * math.sqrt(t_open)
    strikes = condor_strikes(s0, min(zp * sd, 0.085), min(zc * sd, 0.07), wp, wc)
    entry = [max(tick(p), 0.05) for p in condor_prices(strikes, s0, vix0, t_open)]
    return strikes, entry


def net_credit(entry: list[float]) -> float:
    return entry[1] - entry[0] + entry[2] - entry[3]


def mark_today(strikes, entry, t: float) -> float:
    p = condor_prices(strikes, SPX, VIX, t)
    return (p[1] - p[0] + p[2] - p[3]) / net_credit(entry)


def sane(strikes, entry, x: float, t: float) -> bool:
    """Strikes where the market's quadratic smile is still arbitrage-free, a real credit.

    With skew -1.1 and smile 2.5 the smile's put wing turns up so fast that,
    below about k = -0.13, a lower-strike put is worth more than a higher one
    (and far out-of-the-money puts are worth tens of points). Keep every strike
    within k >= -0.13 of spot today and -0.12 at the open, and ask for prices
    that fall away from the short strikes.
    """
    s0 = SPX * math.exp(x)
    if math.log(strikes[0] / SPX) < -0.13 or math.log(strikes[0] / s0) < -0.12:
        return False
    today = condor_prices(strikes, SPX, VIX, t)
    ordered = today[0] < today[1] and today[3] < today[2]
    opened = entry[0] < entry[1] and entry[3] < entry[2]
    return ordered and opened and net_credit(entry) >= 0.5


def solve_shift(target: float, side: str, t: float, *shape) -> float:
    """The log SPX move since the open that gives ``target`` mark today (bisection).

    ``shape`` is ``opening``'s after ``x``. The mark is lowest near x = 0 and
    rises as the tested side nears the money; a target out of reach gives the
    nearer end.
    """
    lo, hi = (0.0, 0.10) if side == "put" else (-0.07, 0.0)

    def gap(x: float) -> float:
        strikes, entry = opening(x, *shape)
        return mark_today(strikes, entry, t) - target

    inner, outer = (lo, hi) if side == "put" else (hi, lo)  # inner: x = 0, mark lowest
    if gap(inner) >= 0.0:
        return inner
    if gap(outer) <= 0.0:
        return outer
    for _ in range(40):
        mid = 0.5 * (inner + outer)
        if gap(mid) < 0.0:
            inner = mid
        else:
            outer = mid
    return 0.5 * (inner + outer)


def hedge_spread(
    rng: random.Random, layer: int, units: int, condor_expiry: date, entry_vix: float, days: int
) -> list[Leg]:
    """A VIX call spread bought ``days`` ago with VIX at ``entry_vix``."""
    later = [d for d in VIX_FUTURES if d >= condor_expiry]
    expiry = later[0] if rng.random() < 0.7 else later[min(1, len(later) - 1)]
    fut = VIX_FUTURES[expiry] + 0.6 * (entry_vix - VIX)
    t = vix_t(expiry) + days / 365.0
    long_k = round(fut) + rng.choice((0, 1, 2, 3))
    short_k = long_k + rng.choice((5, 8, 10))
    qty = max(1, round(units * rng.uniform(1.0, 2.5)))
    legs = []
    for strike, sign in ((long_k, 1), (short_k, -1)):
        price = max(tick(black(True, fut, strike, t, vix_vol(fut, strike))), 0.05)
        legs.append(Leg("VIX", "call", strike, expiry, sign * qty, price, layer, entry_vix))
    return legs


def make_position(i: int, rng: random.Random) -> Position:
    r, acc = rng.random(), 0.0
    for scenario in SCENARIOS:
        acc += scenario[0]
        if r < acc:
            break
    _, kind, (m_lo, m_hi), side = scenario
    side = side or rng.choice(("put", "call"))
    target = rng.uniform(m_lo, m_hi)
    expiry = CONDOR_EXPIRIES[0] if rng.random() < 0.6 else CONDOR_EXPIRIES[1]
    days_open = rng.randint(15, 45) if kind == "calm" else rng.randint(7, 35)
    t = spx_t(expiry)
    for attempt in range(1, 101):  # redraw until the condor is a sane one (see sane())
        shape = (
            # short put this many SDs under SPX at the open (10-20 delta; closer when a rally
            # is to test the call side, or the put wing would sit where the smile is not sane)
            rng.uniform(0.5, 0.9) if side == "call" else rng.uniform(0.8, 1.25),
            rng.uniform(0.7, 1.1),  # short call this many SDs over it (8-15 delta)
            rng.choice((25, 50, 50, 75, 100)),  # put wing
            rng.choice((25, 50, 50, 75)),  # call wing
            t + days_open / 365.0,
            rng.uniform(0.0, 0.2) if kind == "calm" else rng.uniform(-0.05, 0.1),  # vol crush
        )
        x = solve_shift(target, side, t, *shape)
        strikes, entry = opening(x, *shape)
        if sane(strikes, entry, x, t):
            break
        if attempt % 10 == 0 and target > 1.0:  # a target this shape family cannot reach
            target = 1.0 + 0.8 * (target - 1.0)
    else:
        raise RuntimeError(f"no sane condor for position {i} ({kind}, target {target:.2f}x)")
    units = rng.randint(1, 10)
    credit = net_credit(entry)
    stated = None if i % 2 else round(credit + rng.choice((0.0, 0.0, 0.05)), 2)
    pos = Position(
        id=f"ic-{i:04d}",
        opened=ASOF.date() - timedelta(days=days_open),
        credit=stated,
        target=target,
        model_mark=mark_today(strikes, entry, t),
        kind=f"{kind}/{side}" if kind == "calm" else kind,
    )
    for (typ, sign), strike, price in zip(
        (("put", 1), ("put", -1), ("call", -1), ("call", 1)), strikes, entry, strict=True
    ):
        pos.legs.append(Leg("SPX", typ, strike, expiry, sign * units, price))

    # Hedge layers already on (VIX call spreads); more likely the further the put side went.
    p_l1 = {"calm": 0.2, "watch": 0.3, "call-tested": 0.1}.get(kind, 0.6)
    if rng.random() < p_l1:
        e1 = round(rng.uniform(18.0, 23.0) if kind == "calm" else rng.uniform(19.0, 24.0), 1)
        ago = rng.randint(1, max(1, days_open - 1))
        pos.legs += hedge_spread(rng, 1, units, expiry, e1, ago)
        if kind in ("layer2", "layer3") and rng.random() < 0.6:
            e2 = round(e1 + rng.uniform(1.0, 4.0), 1)
            pos.legs += hedge_spread(rng, 2, units, expiry, e2, rng.randint(0, ago))
    return pos


def leg_toml(leg: Leg) -> str:
    out = ["  [[positions.legs]]"]
    if leg.underlying != "SPX":
        out.append(f'  underlying = "{leg.underlying}"')
    strike = int(leg.strike) if float(leg.strike).is_integer() else leg.strike
    out += [
        f'  type = "{leg.type}"',
        f"  strike = {strike}",
        f"  expiry = {leg.expiry}",
        f"  quantity = {leg.quantity}",
        f"  entry_price = {leg.entry_price:.2f}",
    ]
    if leg.layer is not None:
        out.append(f"  layer = {leg.layer}")
    if leg.entry_vix is not None:
        out.append(f"  entry_vix = {leg.entry_vix}")
    return "\n".join(out) + "\n"


def position_toml(pos: Position) -> str:
    head = [f'[[positions]]\nid = "{pos.id}"\nopened = {pos.opened}']
    if pos.credit is not None:
        head.append(f"credit = {pos.credit:.2f}")
    head.append(f"# {pos.kind}: model mark {pos.model_mark:.2f}x (target {pos.target:.2f}x)\n")
    return "\n".join(head) + "\n".join(leg_toml(leg) for leg in pos.legs)


def quote_toml(rng: random.Random, contract, shift: dict) -> tuple[str, float, float] | None:
    """A bid/ask around the model price (its TOML, bid, ask); None when unfit.

    The mid is the model price at a vol moved by ``shift`` (one move per
    underlying and expiry, so quotes stay arbitrage-free against each other as
    the smile is) plus noise well inside the spread. Deep in-the-money
    contracts are left unquoted: rounding the quote to the tick could put its
    mid under intrinsic value.
    """
    underlying, typ, strike, expiry = contract
    is_call = typ == "call"
    wiggle = 1.0 + shift.setdefault((underlying, expiry), rng.uniform(-0.03, 0.03))
    if underlying == "SPX":
        t = spx_t(expiry)
        fwd = SPX * math.exp((RATE - DIVIDEND) * t)
        k = math.log(strike / fwd)
        vol = max(VIX / 100.0 + SPX_SMILE[0] * k + SPX_SMILE[1] * k * k, 0.01)
        half = 0.05 + 0.005 * black(is_call, fwd, strike, t, vol)
    else:
        t = vix_t(expiry)
        fwd = VIX_FUTURES[expiry]
        vol = vix_vol(fwd, strike)
        half = max(0.05, 0.02 * black(is_call, fwd, strike, t, vol))
    mid = black(is_call, fwd, strike, t, vol * wiggle) + rng.uniform(-0.2, 0.2) * half
    intrinsic = math.exp(-RATE * t) * max(fwd - strike if is_call else strike - fwd, 0.0)
    if mid - intrinsic < 0.5 and intrinsic > 0.0:
        return None
    bid = max(math.floor((mid - half) / 0.05) * 0.05, 0.0)
    ask = max(math.ceil((mid + half) / 0.05) * 0.05, 0.05)
    strike_s = int(strike) if float(strike).is_integer() else strike
    text = (
        f'[[market.quotes]]\nunderlying = "{underlying}"\ntype = "{typ}"\n'
        f"strike = {strike_s}\nexpiry = {expiry}\nbid = {bid:.2f}\nask = {ask:.2f}\n"
    )
    return text, bid, ask


def contradicted(positions: list[Position], quotes: dict) -> set:
    """Quoted contracts of a vertical held that would price outside 0 to its width, its
    legs at their quotes' mids or else at the model (what alvh refuses as contradicting
    inputs: the quotes' vol shifts and noise can cross a model price deep in the put wing,
    where the smile leaves adjacent strikes a few cents apart)."""
    bad = set()
    for p in positions:
        for short, wing in ((p.legs[1], p.legs[0]), (p.legs[2], p.legs[3])):
            prices = []
            for leg in (short, wing):
                q = quotes.get(leg.contract)
                if q is None:
                    t = spx_t(leg.expiry)
                    prices.append(spx_option(leg.type == "call", SPX, VIX, leg.strike, t))
                else:
                    prices.append(0.5 * (q[0] + q[1]))
            value = prices[0] - prices[1]
            if not 0.0 <= value <= abs(short.strike - wing.strike):
                bad |= {leg.contract for leg in (short, wing) if leg.contract in quotes}
    return bad


@dataclass
class Book:
    files: list[Path]
    market: Path
    positions: list[Position]
    legs: int
    quoted_legs: int
    quotes: int


def write_book(folder: Path, n_positions: int, n_files: int, seed: int = 20261124) -> Book:
    rng = random.Random(seed)
    positions = [make_position(i, rng) for i in range(n_positions)]
    legs_per_contract = Counter(leg.contract for p in positions for leg in p.legs)
    n_legs = sum(legs_per_contract.values())

    # Quotes: contracts in random order until about a third of the legs are quoted, less
    # those that would contradict a vertical held (see contradicted).
    contracts = sorted(legs_per_contract, key=lambda c: (c[0], c[1], c[2], c[3].toordinal()))
    rng.shuffle(contracts)
    quotes, texts, quoted, shift = {}, {}, 0, {}
    for contract in contracts:
        if quoted >= n_legs / 3:
            break
        made = quote_toml(rng, contract, shift)
        if made is not None:
            quotes[contract] = made[1:]
            texts[contract] = made[0]
            quoted += legs_per_contract[contract]
    while bad := contradicted(positions, quotes):
        for contract in bad:
            del quotes[contract]
            quoted -= legs_per_contract[contract]
    quotes = [texts[c] for c in quotes]
    market = folder / "market.toml"
    market.write_text(MARKET + "\n" + "\n".join(quotes), encoding="utf-8")

    book_dir = folder / "book"
    book_dir.mkdir()
    files = []
    for f in range(n_files):
        chunk = positions[f::n_files]
        path = book_dir / f"book-{f:02d}.toml"
        header = f"# benchmark book, file {f + 1} of {n_files}: {len(chunk)} positions\n\n"
        path.write_text(header + "\n".join(position_toml(p) for p in chunk), encoding="utf-8")
        files.append(path)
    return Book(files, market, positions, n_legs, quoted, len(quotes))


# ---------------------------------------------------------------- running
ROOT = Path(__file__).resolve().parents[1]
# The children import alvh_cli from this checkout, not whichever copy is installed (an
# editable install may point at another worktree).
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
}


def alvh_command() -> list[str]:
    """``python -m alvh_cli``: the venv's ``alvh`` script may have been written for another
    checkout's entry point (an editable install is shared between worktrees)."""
    return [sys.executable, "-m", "alvh_cli"]


@dataclass
class Run:
    """One child process: wall and CPU seconds, peak resident MiB, its stdout file and
    how many MiB it wrote there."""

    wall: float
    cpu: float
    peak_mib: float
    returncode: int
    stdout: Path
    out_mib: float = 0.0
    stderr: str = ""


# Runs the command given after a file descriptor and writes its exit status, wall
# seconds, CPU seconds and ru_maxrss to that descriptor. Started fresh by exec, this
# small process is what forks the measured one: a child forked straight from the
# benchmark would start with the benchmark's own resident pages (its book, the parsed
# check JSON) counted in its ru_maxrss, since Linux carries the forked memory's
# high-water mark across exec.
_MEASURE = """\
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, ru = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
line = f"{os.waitstatus_to_exitcode(status)} {wall} {ru.ru_utime + ru.ru_stime} {ru.ru_maxrss}"
os.write(int(sys.argv[1]), line.encode())
"""


def run(cmd: list[str], out: Path, ok: tuple[int, ...] = (0,), env: dict | None = None) -> Run:
    """Run ``cmd`` with stdout to the file ``out``; wall time, CPU time and ``ru_maxrss``
    are that process's alone (``os.wait4`` in a small intermediate process, _MEASURE)."""
    read, write = os.pipe()
    with open(out, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-c", _MEASURE, str(write), *cmd],
            stdout=fh,
            stderr=subprocess.PIPE,
            env=env or ENV,
            pass_fds=(write,),
        )
        os.close(write)
        err = proc.stderr.read()
        proc.wait()
        with os.fdopen(read) as result:
            code, wall, cpu, maxrss = result.read().split()
    proc.stderr.close()
    code = int(code)
    if code not in ok:
        print(f"{' '.join(cmd[:4])} ... exited {code}:\n{err.decode().strip()}")
        sys.exit(2)
    # ru_maxrss is KiB on Linux, bytes on macOS
    scale = 1.0 if sys.platform == "darwin" else 1024.0
    return Run(
        float(wall),
        float(cpu),
        int(maxrss) * scale / 2**20,
        code,
        out,
        out.stat().st_size / 2**20,
        err.decode(errors="replace"),
    )


def median_run(
    cmd, runs: int, out: Path, ok=(0,), env=None, done: tuple[Run, ...] = ()
) -> tuple[Run, list[Run]]:
    """The median of ``runs`` runs by wall time (CPU and memory of that same run);
    ``done`` are runs already made that count among them."""
    more = [run(cmd, out, ok, env) for _ in range(max(runs - len(done), 0))]
    every = sorted([*done, *more], key=lambda r: r.wall)
    return every[len(every) // 2], every


def summarise(book: Book, check_json: str) -> None:
    n = len(book.positions)
    hedge_legs = Counter(sum(leg.layer is not None for leg in p.legs) for p in book.positions)
    print(
        f"  {n} positions, {book.legs} legs ({book.legs / n:.2f} per position; hedge legs per "
        f"position: {', '.join(f'{k}: {v}' for k, v in sorted(hedge_legs.items()))})"
    )
    print(
        f"  {book.quotes} quotes covering {book.quoted_legs} legs "
        f"({book.quoted_legs / book.legs:.0%} of legs)"
    )
    data = json.loads(check_json)
    rows = data["positions"]
    if len(rows) != n:
        sys.exit(f"check returned {len(rows)} rows for {n} positions")
    marks = sorted(r["mark_multiple"] for r in rows)
    q = [marks[int(f * (len(marks) - 1))] for f in (0.0, 0.1, 0.5, 0.9, 1.0)]
    print(
        "  alvh's marks: min {:.2f}x  p10 {:.2f}x  median {:.2f}x  p90 {:.2f}x  max {:.2f}x".format(
            *q
        )
    )
    bands = Counter(
        "<0.5"
        if m < 0.5
        else "0.5-1.5"
        if m < 1.5
        else "1.5-2"
        if m < 2
        else "2-3"
        if m < 3
        else ">=3"
        for m in marks
    )
    order = ("<0.5", "0.5-1.5", "1.5-2", "2-3", ">=3")
    print(f"  marks by band: {', '.join(f'{b}: {bands[b]}' for b in order)}")
    sides = Counter(r["tested_side"] for r in rows)
    layers = Counter(r["layer"] for r in rows)
    actions = Counter(rec["action"] for r in rows for rec in r["recommendations"])
    print(f"  tested side: {dict(sides)}; layer: {dict(sorted(layers.items()))}")
    print(f"  recommendations: {dict(actions.most_common())}")


def profile(label: str, args: list[str], folder: Path, top: int, env=None) -> None:
    out = folder / f"{label}.prof"
    # alvh's own entry point ends with os._exit, before cProfile could write its file:
    # profile main() instead.
    code = (
        "import cProfile, sys\n"
        "from alvh_cli.cli import main\n"
        "sys.argv = ['alvh', *sys.argv[1:]]\n"
        "p = cProfile.Profile()\n"
        "try:\n"
        "    p.runcall(main)\n"
        "except SystemExit:\n"
        "    pass\n"
        "p.dump_stats(sys.argv_out)\n"
    )
    code = code.replace("sys.argv_out", repr(str(out)))
    cmd = [sys.executable, "-c", code, *args]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env or ENV)
    stats = pstats.Stats(str(out))
    entries = []
    for (path, line, func), (_cc, ncalls, tottime, cumtime, _) in stats.stats.items():
        entries.append((cumtime, tottime, ncalls, path, line, func))
    total = max(e[0] for e in entries)

    def where(path: str, line: int, func: str) -> str:
        p = Path(path)
        if "alvh_cli" in p.parts:
            path = "/".join(p.parts[p.parts.index("alvh_cli") :])
        elif "site-packages" in p.parts:
            path = "/".join(p.parts[p.parts.index("site-packages") + 1 :])
        return f"{path}:{line}:{func}" if line else func

    print(f"  cProfile of alvh {label} (total {total:.2f} s under the profiler)")
    print(f"  top {top} alvh_cli functions by cumulative time:")
    print(f"    {'cum s':>7} {'own s':>7} {'calls':>8}  where")
    ours = [e for e in entries if "alvh_cli" in e[3] and e[5] != "<module>"]
    for cum, tot, calls, path, line, func in sorted(ours, reverse=True)[:top]:
        print(f"    {cum:7.3f} {tot:7.3f} {calls:8d}  {where(path, line, func)}")
    print(f"  top {top} functions anywhere by own time:")
    for cum, tot, calls, path, line, func in sorted(entries, key=lambda e: -e[1])[:top]:
        print(f"    {cum:7.3f} {tot:7.3f} {calls:8d}  {where(path, line, func)}")


def benchmark(args: argparse.Namespace, folder: Path) -> None:
    t0 = time.perf_counter()
    n_files = max(1, min(args.files, args.positions))
    book = write_book(folder, args.positions, n_files)
    print(
        f"wrote {args.positions} positions in {n_files} file(s) and a market file with "
        f"{book.quotes} quotes in {time.perf_counter() - t0:.1f} s ({folder})"
    )
    alvh = alvh_command()
    where = subprocess.run(
        [sys.executable, "-c", "import alvh_cli; print(alvh_cli.__file__)"],
        capture_output=True,
        text=True,
        env=ENV,
    ).stdout.strip()
    print(f"alvh_cli imported from {where}")
    files = [str(f) for f in book.files]
    market = ["--market", str(book.market)]
    wide = {**ENV, "COLUMNS": "200"}
    commands = {
        "price --format json": (["price", "--format", "json", *files, *market], (0,), ENV),
        "check --format json": (["check", "--format", "json", *files, *market], (0, 1), ENV),
        "check (table, 200 columns)": (["check", *files, *market], (0, 1), wide),
    }
    if args.narrow:
        narrow = {**ENV, "COLUMNS": "80"}
        commands["check (table, 80 columns)"] = (["check", *files, *market], (0, 1), narrow)
    out = folder / "stdout"

    # Validation: check must run (0 or 1), never report bad input (2).
    first = run([*alvh, *commands["check --format json"][0]], out, ok=(0, 1, 2))
    if first.returncode == 2:
        print("the generated book is invalid (check exited 2)")
        sys.exit(2)
    try:
        json.loads(out.read_text())
    except ValueError:
        print(f"check wrote no JSON (exit status {first.returncode}):\n{first.stderr[-2000:]}")
        sys.exit(2)
    print(f"check exit status {first.returncode}; the book:")
    summarise(book, out.read_text())
    for _ in range(args.warmup):
        for tail, ok, env in commands.values():
            run([*alvh, *tail], out, ok, env)

    startup_cmd = [sys.executable, "-c", "import typer, rich, numpy"]
    startup, _ = median_run(startup_cmd, max(args.runs, 5), out)
    print(
        f"start-up (python -c 'import typer, rich, numpy'): "
        f"{startup.wall * 1e3:.0f} ms (median of {max(args.runs, 5)})"
    )
    per_k = len(book.positions) / 1000.0
    results: dict[str, Run] = {}
    for label, (tail, ok, env) in commands.items():
        # without warm-up, the validating run was a cold run like the others: it counts
        reuse = (first,) if label == "check --format json" and args.warmup == 0 else ()
        r, done = median_run([*alvh, *tail], args.runs, out, ok, env, reuse)
        results[label] = r
        beyond = r.wall - startup.wall
        goal = GOALS.get(label.split()[0])
        said = ""
        if goal is not None and "json" in label:
            said = (
                f", {beyond / per_k:.2f} s per 1,000 positions beyond start-up "
                f"(goal {goal:.0f} s: {verdict(beyond / per_k <= goal)})"
            )
        print(
            f"alvh {label}: wall {r.wall:.2f} s (median of {args.runs}: "
            f"{', '.join(f'{d.wall:.2f}' for d in done)}), CPU {r.cpu:.2f} s, "
            f"peak {r.peak_mib:.0f} MiB, {r.out_mib:.1f} MiB out{said}"
        )
    js = results["check --format json"]
    for label, r in results.items():
        if label.startswith("check ("):
            wall, cpu = r.wall / js.wall, r.cpu / js.cpu
            ok = "OK" if max(wall, cpu) <= TABLE_RATIO_GOAL else "OVER"
            print(
                f"ratio {label} / check --format json: wall {wall:.2f}, CPU {cpu:.2f} "
                f"(goal <= {TABLE_RATIO_GOAL:g}: {ok})"
            )
    check_goals(js, startup, len(book.positions))
    price = results["price --format json"]
    print(
        f"peak memory of price --format json: {price.peak_mib:.0f} MiB (goal <= "
        f"{PRICE_MEMORY_GOAL:.0f} MiB at 10,000 positions: "
        f"{'OK' if price.peak_mib <= PRICE_MEMORY_GOAL else 'OVER'})"
    )
    if args.profile:
        for label, (tail, _, env) in commands.items():
            profile(
                label.split()[0] + ("-table" if "table" in label else ""),
                tail,
                folder,
                args.top,
                env,
            )


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER"


def check_goals(js: Run, startup: Run, n: int) -> None:
    """The check's figures beside its goals: at 1,000 positions, the time beyond start-up;
    at 10,000, the whole time and the peak memory; at another size, the rate per 1,000."""
    beyond = js.wall - startup.wall
    if n == 1000:
        print(
            f"goal, check --format json of 1,000 positions: {beyond:.2f} s beyond start-up "
            f"(goal <= {CHECK_GOAL_1K:g} s: {verdict(beyond <= CHECK_GOAL_1K)})"
        )
    elif n == 10_000:
        print(
            f"goal, check --format json of 10,000 positions: {js.wall:.2f} s in all "
            f"(goal <= {CHECK_GOAL_10K:g} s: {verdict(js.wall <= CHECK_GOAL_10K)}), peak "
            f"{js.peak_mib:.0f} MiB (goal <= {CHECK_MEMORY_GOAL:.0f} MiB: "
            f"{verdict(js.peak_mib <= CHECK_MEMORY_GOAL)})"
        )
    else:
        print(
            f"check --format json: {beyond / (n / 1000):.2f} s per 1,000 positions beyond "
            f"start-up at {n:,} (the goals are set at 1,000: <= {CHECK_GOAL_1K:g} s beyond "
            f"start-up; and 10,000: <= {CHECK_GOAL_10K:g} s, <= {CHECK_MEMORY_GOAL:.0f} MiB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=1000)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs of each command")
    parser.add_argument("--narrow", action="store_true", help="also check at 80 columns")
    parser.add_argument("--profile", action="store_true", help="profile each command once")
    parser.add_argument("--top", type=int, default=15, help="hotspots to print")
    parser.add_argument("--keep", type=Path, help="write the book here and keep it")
    parser.add_argument("--as-is", action="store_true", help="no private bytecode cache")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="alvh-book-") as tmp:
        if not args.as_is:
            ENV.pop("PYTHONDONTWRITEBYTECODE", None)
            ENV["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        folder = Path(tmp) / "work"
        if args.keep:
            if args.keep.exists() and any(args.keep.iterdir()):
                sys.exit(f"--keep {args.keep}: not empty")
            folder = args.keep
        folder.mkdir(parents=True, exist_ok=True)
        benchmark(args, folder)


if __name__ == "__main__":
    main()
