"""Listed contracts: roots and their underlyings, exchange ticks, OSI symbols.

A contract is a root (``SPX`` AM-settled monthly, ``SPXW`` PM-settled, ``VIX``,
``VIXW``), a type, a strike and an expiry. This module holds the exchange's rules
about them, each in one table: which underlying a root belongs to, the minimum price
increment of each product, and the OCC symbol that names a series.

Sources (checked against stored copies of the pages below; the exchange may
change them, so the rules sit in one table, ``_TICKS``):

- **SPX/SPXW options**: Cboe, *S&P 500 Index Options (SPX/SPXW) product
  specifications*, cboe.com/products/indexopts/spx_spec.aspx, "Premium Quote":
  "Minimum tick for options trading below 3.00 is 0.05 ($5.00) and for all other
  series, 0.10 ($10.00). For complex orders legs may trade in .01 ($1.00)
  increments, but net package price must be in .05 ($5.00) increments except for
  Boxes and Box Swaps". The same rule is in tastytrade's help article *SPX Price
  Increments* (support.tastyworks.com, article 43000435264): single legs 0.05
  under 3.00 and 0.10 at or above 3.00, spreads 0.05. So a simple order at
  exactly 3.00 is on the 0.10 tier.
- **VIX options**: Cboe press release of 29 Nov 2022, *Cboe Announces Options
  Tick Increment Change For VIX Options* (investor.wedbush.com newsdirect copy):
  single-leg bids and offers under $3 moved from 0.05 to **0.01**, over $3 from
  0.10 to **0.05**; "the net price on orders ... for complex orders in VIX options
  of any ratio ... will remain at $0.01 regardless of price level." The older
  0.05/0.10 figures on cboe.com's VIX strategy pages predate that change. The
  release writes "under $3" and "over $3"; we put exactly 3.00 on the upper tier,
  as Cboe Rule 5.4 words its other two-tier classes ("$3.00 or higher"). Not
  verified for VIX specifically, and harmless for rounding: 3.00 lies on both
  grids. VIXW (weekly) series are taken to follow VIX: VIX options have been
  listed on a group basis since SR-CBOE-2018-066; not verified separately.
- **VIX futures (VX, CFE)**: Cboe Futures Exchange VX contract specifications
  (cfe.cboe.com/products/Spec_VIX.aspx): minimum price interval 0.05 index
  points ($50); legs and net prices of spread trades 0.01. Futures trade on CFE,
  not on the options exchange, so a future is always an order of its own here.
- **Which root lists which expiry**: Cboe, *S&P 500 Index Options*, "Comparison of SPX
  Option Products" (cboe.com/products/stock-index-options-spx-rut-msci-ftse/
  s-p-500-index-options): root SPX is the traditional AM-settled series of the third
  Friday of every month; root SPXW the PM-settled series (Friday, Wednesday and Monday
  weeklies, end of month, and the third Friday too). A standard expiry whose Friday the
  exchange is shut moves to the business day before (Cboe's XSP specifications say so of
  the same cycle; June 2026 and June 2027 expire on Thursday the 18th and 17th). Cboe
  added Tuesday (from 18 April 2022) and Thursday (from 11 May 2022) SPXW expiries
  (Traders Magazine, "Cboe to add Tuesday, Thursday Expirations for SPX Weeklys
  Options"), "expirations every trading day of the week", so alvh takes SPXW on any
  trading day. :func:`lists_expiry` is the rule, :func:`listing_root` the root a new
  leg takes.
- **Mini VIX futures (VXM, CFE)**: $100 per index point, 1/10 of VX, on the same
  expirations and the same settlement; minimum price interval 0.01 index points
  ($1.00), spreads 0.01. Source: Cboe, *Mini VIX Futures (VXM) contract
  specifications* (cdn.cboe.com/resources/futures/VXM_Contract_Specifications.pdf),
  as quoted by moomoo's VXM contract page ("Minimum Fluctuation 0.01 (Index
  point)", "Index point × 100 USD") and QuantConnect Lean PR 9400 (multiplier 100,
  tick 0.01); the Cboe PDF itself was not read here. (The Mini VIX "VM" of 2009-2014
  ticked in 0.05; it is delisted.) A leg names a VXM future by ``root = "VXM"``; a
  VIX future with any other root is VX.
- **OSI symbols**: OCC, *Options Symbology Initiative* plan, version 1.8
  (15 Aug 2008): symbol 6 characters (root, space padded on the right), year 2,
  month 2, day 2, call/put 1, strike dollars 5 and strike decimals 3: 21
  characters, e.g. ``"SPXW  261218P05400000"``. :func:`parse_osi` reads the same form.
"""

from __future__ import annotations

import math
import re
from datetime import date

from alvh_cli.errors import InputError
from alvh_cli.model.domain import contract_multiplier
from alvh_cli.model.exchange import is_business_day
from alvh_cli.model.expirations import spx_monthly_expiration

# Per product: (boundary, simple tick below it, simple tick at/above it, complex tick).
# Points per contract. Every boundary lies on both of its grids, which is what lets
# round_limit floor/ceil within one tier and still land on a valid price.
# Option roots alvh prices and their underlying; the root a leg gets when it names none.
ROOT_UNDERLYING = {"SPX": "SPX", "SPXW": "SPX", "VIX": "VIX", "VIXW": "VIX"}
DEFAULT_ROOT = {"SPX": "SPXW", "VIX": "VIX"}
# Roots a VIX future leg may give, and its CFE product: "VIX" (the default) is VX.
FUTURE_ROOTS = {"VIX": "VX", "VXM": "VXM"}

_TICKS: dict[str, tuple[float, float, float, float]] = {
    "SPX": (3.00, 0.05, 0.10, 0.05),  # Cboe SPX/SPXW specifications
    "VIX": (3.00, 0.01, 0.05, 0.01),  # Cboe VIX tick change, 29 Nov 2022
    "VX": (math.inf, 0.05, 0.05, 0.01),  # CFE VX futures: 0.05; spreads 0.01
    "VXM": (math.inf, 0.01, 0.01, 0.01),  # CFE Mini VIX futures: 0.01; spreads 0.01
}
_PRODUCT = {"SPX": "SPX", "SPXW": "SPX", "VIX": "VIX", "VIXW": "VIX", "VX": "VX", "VXM": "VXM"}
_EPS_TICKS = 1e-6  # a price within a millionth of a tick of the grid is on it (float noise)
MAX_COMPLEX_RATIO = 3  # Cboe complex order book: ratios 1:3 .. 3:1


# A root that does not list a date, and the root that does (the same index, settled the
# other way): SPX lists only the monthly expiry, SPXW every trading day.
WEEKLY_ROOT = {"SPX": "SPXW"}


def lists_expiry(root: str, expiry: date) -> bool:
    """Whether the exchange lists options of ``root`` expiring on ``expiry``.

    ``SPX`` (AM-settled) only on the monthly expiration: the third Friday, or the
    business day before it when that Friday is an exchange holiday
    (:func:`alvh_cli.model.expirations.spx_monthly_expiration`); ``SPXW`` (PM-settled)
    on any trading day. VIX and VIXW are not ruled on here: any trading day (alvh's VIX
    hedges are on the monthly VIX expirations). Sources: module docstring.
    """
    if root == "SPX":
        return expiry == spx_monthly_expiration(expiry.year, expiry.month)
    return is_business_day(expiry)


def listing_root(root: str, expiry: date) -> str:
    """The root a new leg of ``root``'s index takes on ``expiry``: ``root`` itself when it
    lists that date, else the root that does (``SPX`` off its monthly expiry → ``SPXW``).

    ``listing_root("SPX", date(2027, 1, 22))`` → ``"SPXW"`` (15 January is the monthly);
    ``listing_root("SPX", date(2027, 1, 15))`` → ``"SPX"``.
    """
    return root if lists_expiry(root, expiry) else WEEKLY_ROOT.get(root, root)


def product_of(root: str, type: str = "call") -> str:
    """The tick family of a contract: "SPX" (SPX, SPXW), "VIX" (VIX, VIXW options), "VX"
    (VIX futures) or "VXM" (Mini VIX futures: a future whose root is "VXM")."""
    if type == "future":
        return FUTURE_ROOTS.get(root, "VX")
    try:
        return _PRODUCT[root]
    except KeyError:
        raise ValueError(f"no tick rule for root {root!r}; known: {', '.join(_PRODUCT)}") from None


def tick_size(product: str, price: float, complex: bool = False) -> float:
    """Minimum price increment in points for an order priced at ``price`` (points per unit).

    ``product`` is a root ("SPX", "SPXW", "VIX", "VIXW") or "VX"/"VXM" for VIX
    futures; ``complex`` is True for a multi-leg order, whose net price has its own
    tick (SPX 0.05, VIX options 0.01, VX and VXM spreads 0.01). Sources: module
    docstring.
    """
    boundary, below, above, combo = _TICKS[product_of(product)]
    if complex:
        return combo
    return above if price >= boundary - 1e-9 else below


def round_limit(price: float, product: str, effect: str, complex: bool = False) -> float:
    """``price`` (points per unit, ≥ 0) on the product's tick, in the trader's favour.

    A ``"debit"`` rounds down to the largest valid price ≤ ``price``; a
    ``"credit"`` rounds up to the smallest valid price ≥ ``price``. Valid prices
    for a simple order are multiples of the lower tick below the boundary and of
    the upper tick from it (SPX: 2.95, 3.00, 3.10, ...); a complex order's net
    price is a multiple of its one tick. Returned as the float nearest the
    decimal value (29.7, not 29.700000000000003). The trade-off of rounding this
    way is in the module docstring.
    """
    return tick_round(price, product, effect, complex)[0]


def tick_round(price: float, product: str, effect: str, complex: bool) -> tuple[float, float]:
    """(limit, the tick it was rounded to); see :func:`round_limit`."""
    if effect not in ("debit", "credit"):
        raise ValueError(f"effect must be 'debit' or 'credit', got {effect!r}")
    if not math.isfinite(price) or price < 0:
        raise ValueError(f"price must be a finite number >= 0 (points), got {price!r}")
    # One tier rule for both directions: flooring from at/above the boundary stays
    # at/above it (the boundary is on the upper grid); ceiling from below it lands at
    # most on it (the boundary is on the lower grid too).
    tick = tick_size(product, price, complex)
    cents = round(tick * 100)
    steps = price * 100 / cents
    n = math.floor(steps + _EPS_TICKS) if effect == "debit" else math.ceil(steps - _EPS_TICKS)
    return n * cents / 100, tick


def osi_symbol(root: str, expiry: date, type: str, strike: float) -> str:
    """The 21-character OCC OSI symbol: root padded to 6, YYMMDD, C or P, strike × 1000 in 8.

    ``osi_symbol("SPXW", date(2026, 12, 18), "put", 5400)`` →
    ``"SPXW  261218P05400000"`` (OCC Options Symbology Initiative, v1.8).
    Raises ValueError for what OSI cannot write: a root longer than 6
    characters, a future, a year outside 2000–2099, a strike not a multiple of
    0.001 or of 100,000 or more.
    """
    if not (1 <= len(root) <= 6 and root.isalnum() and root == root.upper()):
        raise ValueError(f"OSI root must be 1-6 upper-case letters or digits, got {root!r}")
    if type not in ("put", "call"):
        raise ValueError(f"OSI symbols are for puts and calls, got type {type!r}")
    if not 2000 <= expiry.year <= 2099:
        raise ValueError(f"OSI writes a 2-digit year (2000-2099), got {expiry}")
    thousandths = round(strike * 1000)
    if strike <= 0 or abs(strike * 1000 - thousandths) > 1e-6 or thousandths >= 10**8:
        raise ValueError(
            f"OSI strike must be > 0, < 100000 and a multiple of 0.001, got {strike!r}"
        )
    return f"{root:<6}{expiry:%y%m%d}{'C' if type == 'call' else 'P'}{thousandths:08d}"


def multiplier(underlying: str, type: str, root: str = "") -> float:
    """Dollars per point of one contract (:func:`alvh_cli.model.domain.contract_multiplier`)."""
    return contract_multiplier(underlying, type, root)


def root_problem(root: str, underlying: str, type: str) -> str | None:
    """Why ``root`` cannot name a leg on ``underlying`` of ``type``; None when it can.

    Option roots belong to one underlying (:data:`ROOT_UNDERLYING`); "VXM" names the
    Mini VIX future and nothing else.
    """
    if type == "future" and underlying == "VIX" and root in FUTURE_ROOTS:
        return None
    if ROOT_UNDERLYING.get(root) == underlying:
        return None
    allowed = " or ".join(f'"{r}"' for r, u in ROOT_UNDERLYING.items() if u == underlying)
    if underlying == "VIX" and root in FUTURE_ROOTS and root not in ROOT_UNDERLYING:
        return f'"{root}" is the Mini VIX future: only for type = "future", got {type!r}'
    if type == "future" and underlying == "VIX":
        allowed = " or ".join(f'"{r}"' for r in FUTURE_ROOTS)
        return f"must be {allowed} for a VIX future, got {root!r}"
    return f"must be {allowed} for {underlying} legs, got {root!r}"


def parse_osi(symbol: str) -> tuple[str, str, float, date]:
    """Split an OSI option symbol into (root, type, strike, expiry).

    ``"SPXW  261218P05400000"`` → ``("SPXW", "put", 5400.0, date(2026, 12, 18))``.
    The root may be padded with any number of spaces (none too); everything
    else is strict: upper case, YYMMDD, C or P, 8-digit strike × 1000.
    Raises InputError (without file or key: callers locate it).
    """
    if not isinstance(symbol, str):
        raise InputError(f"must be a string, got {symbol!r}")
    m = _OSI.fullmatch(symbol)
    if m is None:
        raise InputError(
            f"not an OSI option symbol (ROOT YYMMDD C|P 8-digit strike×1000), got {symbol!r}"
        )
    root, ymd, cp, strike_code = m.groups()
    if root not in ROOT_UNDERLYING:
        known = ", ".join(ROOT_UNDERLYING)
        raise InputError(f"root {root!r} is not one alvh prices ({known}), got {symbol!r}")
    try:
        expiry = date(2000 + int(ymd[:2]), int(ymd[2:4]), int(ymd[4:]))
    except ValueError:
        raise InputError(f"expiry {ymd} is not a valid YYMMDD date, got {symbol!r}") from None
    strike = int(strike_code) / 1000.0
    if strike <= 0:
        raise InputError(f"strike must be > 0, got {symbol!r}")
    return root, "put" if cp == "P" else "call", strike, expiry


_OSI = re.compile(r"([A-Z]{1,6}?) *(\d{6})([CP])(\d{8})")
