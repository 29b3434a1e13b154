"""An option-chain snapshot and its fit: parity forwards and raw SVI smiles per expiry.

:class:`ChainSnapshot` holds the quotes of one chain file column by column
(the readers in ``alvh_cli.inputs.chain`` build it; a notebook can too).
:func:`fit_chain` turns it into one :class:`FittedChain` per underlying:

1. per expiry (root and date: SPX AM and SPXW PM of one day are two
   expiries), ``T`` in ACT/365 years from ``asof`` to the settlement instant
   (DESIGN §3);
2. the forward ``F`` and discount factor ``D`` from put-call parity over
   near-the-money pairs (:mod:`alvh_cli.model.parity`);
3. the out-of-the-money quotes — puts below ``F``, calls at or above it —
   with a bid above zero, their mids turned into Black-76 implied vols on
   ``F`` with ``r = −ln(D)/T``;
4. a raw SVI slice fitted to those vols, weighted by vega
   (:func:`alvh_cli.model.svi.fit_svi_many`: every expiry in one batched
   solve), and checked for butterfly
   arbitrage; adjacent slices are checked for calendar arbitrage.

An expiry is left unfitted, with the reason, when it settles less than
``MIN_FIT_DAYS`` after ``asof``, when parity finds no forward, or when fewer
than ``MIN_SVI_QUOTES`` out-of-the-money vols remain. Quotes not used are
counted by reason in ``FittedChain.skipped``; nothing is dropped silently.

Before any fit, each quote is held to the static bounds no market can break
(:func:`quote_doubts`): a quote whose bid is above the most its option can be worth
(an SPX call above SPX, a put above its strike) is left out, alone, of the fit and of
the quotes, and said (one typed digit once cost its whole expiry its parity forward);
so is a quote that crosses both its neighbours (a 5500 call typed 1.10 for 432.92:
offered below the 5525 call's bid, and the 5475/5500 spread bid over its width), the
one quote the two crossings share. Adjacent strikes whose quotes cross only each other —
a call offered below the bid of the call above it, a spread bid above its width — are
said, naming both, and kept: which of the two is wrong is not for alvh to guess. All are
in ``FittedChain.doubts``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from alvh_cli.model import svi
from alvh_cli.model.domain import Quote
from alvh_cli.model.parity import MAX_RELATIVE_SPREAD, ParityError, ParityFit, parity_forward
from alvh_cli.model.quotes import NEIGHBOURS, WIDE_FACTOR, WIDE_MIN
from alvh_cli.model.surface import log_curve
from alvh_cli.model.svi import CalendarViolation, SviFit
from alvh_cli.model.timing import SECONDS_PER_YEAR, settlement_instant, year_fraction

__all__ = [
    "ChainSnapshot",
    "ExpiryFit",
    "FittedChain",
    "UnfittedExpiry",
    "fit_chain",
]

MIN_FIT_DAYS = 1.0
"""An expiry settling sooner than this many days after ``asof`` is not fitted: with
hours left its quotes are mostly intrinsic value and tick size, and its smile says
little about any other expiry."""

MIN_SVI_QUOTES = 8
"""Out-of-the-money vols needed to fit an expiry's SVI slice (five parameters plus slack)."""

SKIP_ZERO_BID = "zero bid"
SKIP_NO_IV = "mid outside the no-arbitrage bounds (no implied vol)"
SKIP_UNFITTED = "expiry not fitted"


@dataclass(frozen=True, eq=False)
class ChainSnapshot:
    """The option quotes of one chain file, as aligned numpy arrays (one element per quote).

    ``underlying`` "SPX" | "VIX" and ``root`` ("SPX", "SPXW", "VIX", "VIXW")
    are string arrays; ``expiry`` is ``datetime64[D]``; ``strike``, ``bid``
    and ``ask`` are points; ``is_call`` bool; ``underlying_price`` the
    underlying's mid at the quote time where the file gives it, else NaN;
    ``line`` where each quote sits in ``source`` (a CSV line, or a Parquet
    row), for messages. ``asof`` is the quote time when the file says it
    (Cboe layout: ``quote_date`` at 15:45 New York), else None. ``skipped``
    counts rows the reader left out, by reason.
    """

    source: str
    underlying: np.ndarray
    root: np.ndarray
    expiry: np.ndarray
    strike: np.ndarray
    is_call: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    underlying_price: np.ndarray
    line: np.ndarray
    asof: datetime | None = None
    skipped: tuple[tuple[str, int], ...] = ()

    def __len__(self) -> int:
        return int(self.strike.size)

    def quotes(self) -> tuple[Quote, ...]:
        """Every quote as a :class:`~alvh_cli.domain.Quote` (with its root)."""
        days = self.expiry.astype("datetime64[D]").astype(np.int64) + date(1970, 1, 1).toordinal()
        dates = {d: date.fromordinal(int(d)) for d in np.unique(days)}
        types = np.where(self.is_call, "call", "put")
        return tuple(
            Quote(u, t, k, dates[d], b, a, r)
            for u, t, k, d, b, a, r in zip(
                self.underlying.tolist(),
                types.tolist(),
                self.strike.tolist(),
                days.tolist(),
                self.bid.tolist(),
                self.ask.tolist(),
                self.root.tolist(),
                strict=True,
            )
        )


@dataclass(frozen=True)
class ExpiryFit:
    """One fitted expiry: its parity forward and discount factor, and its SVI slice.

    ``T`` in years to the settlement instant of ``root``; ``parity`` the
    forward (points) and discount factor; ``smile`` the SVI fit with its
    errors in vol points and its butterfly check; ``n_quotes`` the
    out-of-the-money quotes it was fitted to.
    """

    underlying: str
    root: str
    expiry: date
    T: float
    parity: ParityFit
    smile: SviFit

    @property
    def forward(self) -> float:
        return self.parity.forward

    @property
    def discount(self) -> float:
        return self.parity.discount

    @property
    def rate(self) -> float:
        """The rate implied by the discount factor, ``−ln(D)/T`` (continuous, decimal)."""
        return self.parity.rate(self.T)

    @property
    def n_quotes(self) -> int:
        return self.smile.n_points

    def vol(self, strike) -> np.ndarray:
        """Implied vol (decimal) of ``strike`` (points) from this expiry's SVI slice."""
        k = np.log(np.asarray(strike, dtype=float) / self.forward)
        return svi.svi_vol(self.smile.params, k, self.T)


@dataclass(frozen=True)
class UnfittedExpiry:
    """An expiry in the chain that has no fit, and why (one line, for the user)."""

    underlying: str
    root: str
    expiry: date
    T: float
    reason: str
    n_quotes: int


@dataclass(frozen=True)
class QuoteDoubt:
    """Quotes of a chain that break a static no-arbitrage bound (module docstring): the
    file's ``lines`` they sit on, what is wrong, and whether they were left out
    (``dropped``) or kept."""

    lines: tuple[int, ...]
    message: str
    dropped: bool


MAX_DOUBTS = 10
"""Crossed pairs of one chain said one by one; the rest are counted in one more doubt."""


@dataclass(frozen=True)
class FittedChain:
    """The fitted chain of one underlying at ``asof``.

    ``expiries`` ascending in ``T``; ``calendar`` lists adjacent fitted
    expiries (indices into ``expiries``) whose total variance decreases in
    ``T`` somewhere on their common fitted range; ``skipped`` counts the
    quotes not used in any fit, by reason; ``snapshot`` holds this
    underlying's quotes (``quotes`` gives them as Quote objects, built when
    first asked for: 10,000 of them take tens of milliseconds). ``spot`` is
    the underlying's mid from the file, or None.
    """

    underlying: str
    asof: datetime
    source: str
    spot: float | None
    expiries: tuple[ExpiryFit, ...]
    unfitted: tuple[UnfittedExpiry, ...] = ()
    calendar: tuple[CalendarViolation, ...] = ()
    skipped: tuple[tuple[str, int], ...] = ()
    snapshot: ChainSnapshot | None = field(default=None, repr=False, compare=False)
    doubts: tuple[QuoteDoubt, ...] = ()

    @functools.cached_property
    def quotes(self) -> tuple[Quote, ...]:
        """Every quote of this underlying in the chain, for pricing and natural costs."""
        return () if self.snapshot is None else self.snapshot.quotes()

    def find(self, root: str, expiry: date) -> ExpiryFit | None:
        """The fit of one expiry, or None."""
        for e in self.expiries:
            if e.root == root and e.expiry == expiry:
                return e
        return None

    @property
    def times(self) -> np.ndarray:
        return np.array([e.T for e in self.expiries])

    def total_variance(self, k, T) -> np.ndarray:
        """Total variance at log-moneyness ``k`` and ``T`` years, by the rules of
        :func:`alvh_cli.model.svi.interpolate_total_variance` (linear in ``T`` at
        fixed ``k`` between fitted expiries, flat vol outside them)."""
        self._need_expiries()
        return svi.interpolate_total_variance(
            self.times, [e.smile.params for e in self.expiries], k, T
        )

    def vol(self, k, T) -> np.ndarray:
        """Implied vol (decimal) at log-moneyness ``k`` against the forward of ``T`` years."""
        self._need_expiries()
        return svi.interpolate_vol(self.times, [e.smile.params for e in self.expiries], k, T)

    def forward(self, T) -> np.ndarray:
        """The forward (points) for ``T`` years from the parity forwards.

        With the file's spot: the rule of :mod:`alvh_cli.model.surface` — ``ln F``
        linear in ``T`` from the spot at ``T = 0`` through the fitted expiries (a
        constant carry rate between them), the last expiry's average carry rate
        beyond it. Without a spot: the first expiry's forward before it, ``ln F``
        linear between expiries, the first-to-last carry rate beyond the last.
        """
        self._need_expiries()
        T = np.asarray(T, dtype=float)
        times = self.times
        log_f = np.log([e.forward for e in self.expiries])
        if self.spot is not None:
            return self.spot * np.exp(log_curve(times, log_f - np.log(self.spot), T))
        if times.size == 1:
            return np.full(T.shape, np.exp(log_f[0]))
        carry = (log_f[-1] - log_f[0]) / (times[-1] - times[0])
        inside = np.interp(T, times, log_f)
        return np.exp(np.where(times[-1] < T, log_f[-1] + carry * (T - times[-1]), inside))

    def _need_expiries(self) -> None:
        if not self.expiries:
            raise ValueError(f"no fitted expiry for {self.underlying} in {self.source}")


def fit_chain(
    chain: ChainSnapshot, asof: datetime | None = None, spot: float | None = None
) -> tuple[FittedChain, ...]:
    """Fit every expiry of ``chain`` (see the module docstring): one FittedChain per underlying.

    ``asof`` (aware, or New York wall time) defaults to the chain's own quote
    time; a ValueError when neither is known. ``spot`` is SPX as the caller knows it,
    the bound of a call's price where the file gives no underlying price.
    """
    asof = asof or chain.asof
    if asof is None:
        raise ValueError(f"{chain.source}: the chain has no quote time; pass asof")
    doubts, impossible = quote_doubts(chain, spot)
    if impossible.any():
        chain = _part(chain, ~impossible)
    day0 = date(1970, 1, 1).toordinal()
    expiry_days = chain.expiry.astype("datetime64[D]").astype(np.int64) + day0
    fitted = []
    for underlying in sorted(set(chain.underlying.tolist())):
        on = chain.underlying == underlying
        skipped: Counter[str] = Counter()
        unfitted: list[UnfittedExpiry] = []
        ready: list[_Slice] = []
        for rows in _groups(chain.root, expiry_days, on):
            root, expiry = str(chain.root[rows[0]]), date.fromordinal(int(expiry_days[rows[0]]))
            T = year_fraction(asof, settlement_instant(root, expiry))
            got = _prepare(chain, rows, underlying, root, expiry, T)
            (ready if isinstance(got, _Slice) else unfitted).append(got)
        expiries = _fit_smiles(ready, unfitted)
        for u in unfitted:
            skipped[SKIP_UNFITTED] += u.n_quotes
        for part in ready:
            if part.smile_fit is not None:
                skipped[SKIP_ZERO_BID] += part.zero_bids
                skipped[SKIP_NO_IV] += part.no_iv
        unfitted.sort(key=lambda u: (u.expiry, u.root))
        prices = chain.underlying_price[on]
        prices = prices[np.isfinite(prices) & (prices > 0)]
        fitted.append(
            FittedChain(
                underlying=underlying,
                asof=asof,
                source=chain.source,
                spot=float(np.median(prices)) if prices.size else None,
                expiries=tuple(expiries),
                unfitted=tuple(unfitted),
                calendar=_calendar(expiries),
                skipped=tuple(sorted((r, n) for r, n in skipped.items() if n)),
                snapshot=_part(chain, on),
                doubts=tuple(doubts.get(underlying, ())),
            )
        )
    return tuple(fitted)


def quote_doubts(
    chain: ChainSnapshot, spot: float | None = None
) -> tuple[dict[str, list[QuoteDoubt]], np.ndarray]:
    """(each underlying's doubts, the mask of quotes to leave out) for ``chain``.

    Left out: a bid above the most the option can be worth — an SPX call above SPX (the
    file's underlying mid, else ``spot``; a call on the index is worth less than the
    index, ``C ≤ S·e^{-qT}``), any put above its strike (``P ≤ K·D``; ``D`` is under 1
    for a positive rate, and parity refuses one over 1.1, so the bound is 1.1·K).
    Left out too: a quote that crosses both its neighbours, as below. Kept but said:
    adjacent listed strikes of one expiry and type whose quotes cross
    so that trading them would lock in a profit — a lower-strike call offered below the
    higher call's bid (``C(K1) ≥ C(K2)``), a higher-strike put offered below the lower
    put's bid, a vertical bid above its width (``C(K1) − C(K2) ≤ K2 − K1``, the put
    spread likewise; Merton 1973's bounds, Hull ch. 11).

    Over 80 lines: both bounds, per underlying, expiry and type, in one pass over the
    sorted quotes, with the messages that name each pair's lines.
    """
    n = len(chain)
    out: dict[str, list[QuoteDoubt]] = {}
    if n == 0:
        return out, np.zeros(0, dtype=bool)
    days = chain.expiry.astype("datetime64[D]").astype(np.int64) + date(1970, 1, 1).toordinal()
    spots = {}
    for u in set(chain.underlying.tolist()):
        prices = chain.underlying_price[chain.underlying == u]
        prices = prices[np.isfinite(prices) & (prices > 0)]
        spots[u] = float(np.median(prices)) if prices.size else (spot if u == "SPX" else None)
    call_cap = np.full(n, np.inf)
    if spots.get("SPX") is not None:
        call_cap[chain.underlying == "SPX"] = spots["SPX"]
    over_call = chain.is_call & (chain.bid > call_cap)
    over_put = ~chain.is_call & (chain.bid > 1.1 * chain.strike)
    order, group = _strike_order(chain, days)
    guess, median = _guesses(chain, order, group)
    impossible = over_call | over_put | guess

    def name(i: int) -> str:
        kind = "call" if chain.is_call[i] else "put"
        return f"{chain.root[i]} {date.fromordinal(int(days[i]))} {chain.strike[i]:g} {kind}"

    for i in np.flatnonzero(impossible).tolist():
        u = str(chain.underlying[i])
        if guess[i] and not (over_call[i] or over_put[i]):
            out.setdefault(u, []).append(
                QuoteDoubt(
                    (int(chain.line[i]),),
                    f"{name(i)}: bid {chain.bid[i]:g}, ask {chain.ask[i]:g} is "
                    f"{chain.ask[i] - chain.bid[i]:.2f} wide, more than {WIDE_FACTOR:g}x the "
                    f"{median[i]:.2f} median width of the nearest quoted strikes and more "
                    "than half its mid, which is a guess: a typo? The quote is left out of the "
                    "fit and of the quotes",
                    True,
                )
            )
            continue
        bound = f"{u} {spots[u]:.2f}" if over_call[i] else f"its strike {chain.strike[i]:g}"
        what = "a call on the index" if over_call[i] else "a put"
        out.setdefault(u, []).append(
            QuoteDoubt(
                (int(chain.line[i]),),
                f"{name(i)}: bid {chain.bid[i]:g} is above {bound}, more than {what} can be "
                "worth: a typo? The quote is left out of the fit and of the quotes",
                True,
            )
        )
    pairs = _adjacent(chain, days, order, ~impossible)
    # a quote that crosses both its neighbours (a typed 1.10 for 415.93) is the one wrong:
    # left out alone, and the pairs found again without it
    odd, below, above = _crosses_both(*pairs)
    for i, lo, hi in zip(odd.tolist(), below.tolist(), above.tolist(), strict=True):
        kind = "call" if chain.is_call[i] else "put"
        out.setdefault(str(chain.underlying[i]), []).append(
            QuoteDoubt(
                (int(chain.line[i]),),
                f"{name(i)}: bid {chain.bid[i]:g}, ask {chain.ask[i]:g} crosses the "
                f"{chain.strike[lo]:g} and {chain.strike[hi]:g} {kind}s on both sides (a call "
                "is worth more at a lower strike, a put at a higher, a vertical between 0 and "
                "its width): a typo? The quote is left out of the fit and of the quotes",
                True,
            )
        )
    if odd.size:
        impossible = impossible.copy()
        impossible[odd] = True
        pairs = _adjacent(chain, days, order, ~impossible)
    a, b, width, falls, wide = pairs
    crossed = np.flatnonzero(falls | wide)
    per: dict[str, int] = {}
    for j in crossed.tolist():
        i, k = int(a[j]), int(b[j])
        u = str(chain.underlying[i])
        per[u] = per.get(u, 0) + 1
        if per[u] > MAX_DOUBTS:
            continue
        kind = "call" if chain.is_call[i] else "put"
        pair = f"{chain.root[i]} {date.fromordinal(int(days[i]))} {kind}s {chain.strike[i]:g} "
        pair += f"and {chain.strike[k]:g}"
        if falls[j]:
            offered, bid = (i, k) if chain.is_call[i] else (k, i)  # the cheap one, the dear one
            why = (
                f"the {chain.strike[offered]:g} {kind} is offered at {chain.ask[offered]:g}, "
                f"below the {chain.strike[bid]:g} {kind}'s bid {chain.bid[bid]:g}: a {kind} is "
                f"worth more {'at a lower' if kind == 'call' else 'at a higher'} strike"
            )
        else:
            sold, bought = (i, k) if chain.is_call[i] else (k, i)  # the spread's two legs
            spread = chain.bid[sold] - chain.ask[bought]
            why = (
                f"the {kind} spread is bid {spread:.2f} over its {width[j]:g}-point width: no "
                "vertical is worth more than its width"
            )
        out.setdefault(u, []).append(
            QuoteDoubt(
                (int(chain.line[i]), int(chain.line[k])),
                f"{pair}: {why} — swapped or mistyped quotes? Both are kept and price their "
                "contracts",
                False,
            )
        )
    for u, count in per.items():
        if count > MAX_DOUBTS:
            out[u].append(
                QuoteDoubt(
                    (),
                    f"and {count - MAX_DOUBTS} more pairs of {u} quotes that cross the same way",
                    False,
                )  # fmt: skip
            )
    return out, impossible


def _strike_order(chain: ChainSnapshot, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(every quote in strike order within its underlying, root, expiry and type; those
    four as integer rows, one column per quote in the chain's order). A subset of the
    order is in the same order: :func:`_adjacent` filters it rather than sort again."""
    _, u_code = np.unique(chain.underlying, return_inverse=True)
    _, r_code = np.unique(chain.root, return_inverse=True)
    order = np.lexsort((chain.strike, chain.is_call, days, r_code, u_code))
    return order, np.stack([u_code, r_code, days, chain.is_call.astype(np.int64)])


def _guesses(
    chain: ChainSnapshot, order: np.ndarray, group: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(the quotes whose mid is a guess, each quote's median neighbour width): wider than
    ``WIDE_FACTOR`` times the median width of the ``NEIGHBOURS`` nearest quoted strikes on
    each side (same underlying, root, expiry and type) by ``WIDE_MIN`` or more, and wider
    than ``MAX_RELATIVE_SPREAD`` of their own mid, parity's rule for a mid that is a guess
    (an ask typed 653.0 for 65.30). Either alone is a market: deep in-the-money quotes are
    wide beside the 5-point strikes around them, far wings wide against their mid;
    together, on two real SPXW chains of 10,384 and 5,720 quotes, none."""
    n = len(chain)
    group = group[:, order]
    width = (chain.ask - chain.bid)[order]
    near = np.full((n, 2 * NEIGHBOURS), np.nan)
    for col, step in enumerate([*range(-NEIGHBOURS, 0), *range(1, NEIGHBOURS + 1)]):
        at = np.arange(n) + step
        inside = (at >= 0) & (at < n)
        at = np.clip(at, 0, n - 1)
        same = inside & (group[:, at] == group).all(axis=0)
        near[same, col] = width[at[same]]
    has = ~np.isnan(near).all(axis=1)
    med = np.full(n, np.nan)
    med[has] = _nanmedian(near[has])
    with np.errstate(invalid="ignore"):
        mid = 0.5 * (chain.ask + chain.bid)[order]
        flag = (
            has
            & (chain.bid[order] > 0)  # no bid: a wing's market, which no fit uses anyway
            & (width > WIDE_FACTOR * med)
            & (width - med >= WIDE_MIN - 1e-9)
            & (width > MAX_RELATIVE_SPREAD * mid)
        )
    guess, median = np.zeros(n, dtype=bool), np.full(n, np.nan)
    guess[order], median[order] = flag, med
    return guess, median


def _nanmedian(x: np.ndarray) -> np.ndarray:
    """Each row's median of its numbers (NaN for none), as ``statistics.median`` would give
    it; every row has one at least."""
    count = (~np.isnan(x)).sum(axis=1)
    s = np.sort(x, axis=1)  # NaN last
    rows = np.arange(len(x))
    lo, hi = s[rows, (count - 1) // 2], s[rows, count // 2]
    return 0.5 * (lo + hi)


def _adjacent(chain: ChainSnapshot, days: np.ndarray, order: np.ndarray, on: np.ndarray) -> tuple:
    """The adjacent listed strikes of one underlying, root, expiry and type among the quotes
    ``on`` (``order``: :func:`_strike_order`'s): (lower quote, higher quote, width, where
    they fall the wrong way, where their vertical is bid above its width), one element per
    adjacent pair in strike order."""
    order = order[on[order]]
    a, b = order[:-1], order[1:]
    same = (
        (chain.underlying[a] == chain.underlying[b])
        & (chain.root[a] == chain.root[b])
        & (days[a] == days[b])
        & (chain.is_call[a] == chain.is_call[b])
        & (chain.strike[b] > chain.strike[a])
    )
    width = chain.strike[b] - chain.strike[a]
    calls = same & chain.is_call[a]
    puts = same & ~chain.is_call[a]
    falls = (calls & (chain.ask[a] < chain.bid[b])) | (puts & (chain.ask[b] < chain.bid[a]))
    wide = (calls & (chain.bid[a] - chain.ask[b] > width)) | (
        puts & (chain.bid[b] - chain.ask[a] > width)
    )
    return a, b, width, falls, wide


def _crosses_both(a, b, width, falls, wide) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the quotes that cross, the wrong way or over the width, both the quote below them
    and the quote above, those below, those above): row indices, from :func:`_adjacent`'s
    pairs."""
    crossed = falls | wide  # pair j is (a[j], b[j]) and pair j + 1 starts at b[j]
    both = crossed[:-1] & crossed[1:]
    return b[:-1][both], a[:-1][both], b[1:][both]


def _groups(root: np.ndarray, days: np.ndarray, on: np.ndarray) -> list[np.ndarray]:
    """Row indices of each (root, expiry) among the rows ``on``, by expiry then root."""
    rows = np.flatnonzero(on)
    _, root_code = np.unique(root[rows], return_inverse=True)
    order = np.lexsort((root_code, days[rows]))
    rows, root_code, d = rows[order], root_code[order], days[rows][order]
    cut = np.flatnonzero((np.diff(d) != 0) | (np.diff(root_code) != 0)) + 1
    return np.split(rows, cut)


@dataclass
class _Slice:
    """One expiry on its way to a fit: its parity result and out-of-the-money quotes."""

    underlying: str
    root: str
    expiry: date
    T: float
    parity: ParityFit
    strike: np.ndarray
    mid: np.ndarray
    is_call: np.ndarray
    zero_bids: int
    n_rows: int
    no_iv: int = 0
    smile_fit: SviFit | None = None


def _prepare(chain, rows, underlying, root, expiry, T) -> _Slice | UnfittedExpiry:
    """Parity and the out-of-the-money quotes of one expiry, or why it cannot be fitted."""

    def unfit(reason: str) -> UnfittedExpiry:
        return UnfittedExpiry(underlying, root, expiry, T, reason, int(rows.size))

    if T * SECONDS_PER_YEAR < MIN_FIT_DAYS * 86400.0:
        if T <= 0:
            return unfit("settled at or before the quote time")
        return unfit(f"settles within {MIN_FIT_DAYS:g} day of the quote time")
    K = np.unique(chain.strike[rows])
    sides = {}
    for want_call in (True, False):
        side = rows[chain.is_call[rows] == want_call]
        at = np.searchsorted(K, chain.strike[side])
        bid, ask = np.full(K.size, np.nan), np.full(K.size, np.nan)
        bid[at], ask[at] = chain.bid[side], chain.ask[side]
        sides[want_call] = (bid, ask)
    (cb, ca), (pb, pa) = sides[True], sides[False]
    try:
        parity = parity_forward(K, cb, ca, pb, pa)
    except ParityError as exc:
        return unfit(f"no parity forward: {exc}")
    otm_call = parity.forward <= K
    bid = np.where(otm_call, cb, pb)
    ask = np.where(otm_call, ca, pa)
    use = np.isfinite(bid) & (bid > 0)
    return _Slice(
        underlying,
        root,
        expiry,
        T,
        parity,
        K[use],
        0.5 * (bid + ask)[use],
        otm_call[use],
        zero_bids=int(np.count_nonzero(chain.bid[rows] <= 0)),
        n_rows=int(rows.size),
    )


def _fit_smiles(ready: list[_Slice], unfitted: list[UnfittedExpiry]) -> list[ExpiryFit]:
    """Implied vols of every prepared expiry in one vectorised call, then an SVI slice each.

    An expiry with too few vols joins ``unfitted``. Returns the fits ascending in T.
    """
    if not ready:
        return []
    from alvh_cli.model import pricing

    def per_quote(values) -> np.ndarray:
        return np.concatenate(
            [np.full(p.strike.size, v) for p, v in zip(ready, values, strict=True)]
        )

    K = np.concatenate([p.strike for p in ready])
    is_call = np.concatenate([p.is_call for p in ready])
    F = per_quote([p.parity.forward for p in ready])
    T = per_quote([p.T for p in ready])
    r = per_quote([-np.log(p.parity.discount) / p.T for p in ready])
    iv = pricing.implied_vol_black76(np.concatenate([p.mid for p in ready]), is_call, F, K, T, r)
    has_iv = np.isfinite(iv)
    vega = np.zeros_like(iv)
    vega[has_iv] = pricing.black76_greeks(
        is_call[has_iv], F[has_iv], K[has_iv], T[has_iv], r[has_iv], iv[has_iv]
    ).vega
    todo: list[tuple[_Slice, tuple]] = []
    start = 0
    for p in ready:
        part = slice(start, start + p.strike.size)
        start = part.stop
        ok = has_iv[part]
        p.no_iv = int(np.count_nonzero(~ok))
        n = int(np.count_nonzero(ok))
        if n < MIN_SVI_QUOTES:
            unfitted.append(
                UnfittedExpiry(
                    p.underlying,
                    p.root,
                    p.expiry,
                    p.T,
                    f"{n} out-of-the-money quotes with an implied vol; SVI needs {MIN_SVI_QUOTES}",
                    p.n_rows,
                )
            )
            continue
        k = np.log(p.strike[ok] / p.parity.forward)
        todo.append((p, (k, iv[part][ok], p.T, vega[part][ok])))
    fits = []
    smiles = svi.fit_svi_many([smile for _, smile in todo])
    for (p, _), smile in zip(todo, smiles, strict=True):
        p.smile_fit = smile
        fits.append(ExpiryFit(p.underlying, p.root, p.expiry, p.T, p.parity, smile))
    fits.sort(key=lambda e: e.T)
    return fits


def _calendar(expiries: list[ExpiryFit]) -> tuple[CalendarViolation, ...]:
    """Calendar arbitrage between adjacent fitted expiries on their common fitted range."""
    found = []
    for i in range(len(expiries) - 1):
        e1, e2 = expiries[i].smile, expiries[i + 1].smile
        lo, hi = max(e1.k_min, e2.k_min), min(e1.k_max, e2.k_max)
        if hi <= lo:
            continue
        k = np.linspace(lo, hi, svi.CHECK_GRID)
        for v in svi.calendar_violations([e1.T, e2.T], [e1.params, e2.params], k):
            found.append(v._replace(earlier=i, later=i + 1))
    return tuple(found)


def _part(chain: ChainSnapshot, on: np.ndarray) -> ChainSnapshot:
    """The quotes of ``chain`` selected by the mask ``on``."""
    if on.all():
        return chain
    columns = (
        "underlying",
        "root",
        "expiry",
        "strike",
        "is_call",
        "bid",
        "ask",
        "underlying_price",
        "line",
    )
    return dataclasses.replace(chain, **{c: getattr(chain, c)[on] for c in columns})
