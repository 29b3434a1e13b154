"""The position file format (DESIGN §2), declared once: the field tables and their constants.

Every key a file may hold is declared here (``LEG_FIELDS``, ``MARKET_FIELDS``,
...): the validator walks these tables and the JSON Schema is generated from
them, so the two cannot drift apart. What a table cannot say about its keys (a
leg gives ``occ`` or type/strike/expiry, unique ids) is checked after it in
``validate.py``, and what the values say together (the condor's shape, bid ≤
ask, trading days) in ``sanity.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from alvh_cli.model.domain import CARRY_BOUNDS

# Contracts per leg, either way: a book's largest line is far below; 1e11 is a typo.
MAX_CONTRACTS = 10_000

# A price in points (a premium, a mark, a quote, a future): SPX is below 10,000; past
# 1,000,000 a price is a typo (1e308 once loaded as an entry price and overflowed the
# credit to inf). Strikes and levels are held to each other instead (sanity.py).
MAX_POINTS = 1_000_000

# The years a date or date-time may name: a snapshot, an expiry, a fill. Outside them a date
# is a typo (9999-12-31 for 2026-12-31), and near the calendar's end a time zone or the
# three-year expiry horizon overflows.
YEARS = (1900, 2999)

# Smile slope and curvature of iv in k = ln(K/F): markets show skews of -3..+3 and
# curvatures under 50; beyond these bounds the vol overflows before any check can name it.
MAX_SKEW = 100.0
MAX_SMILE = 10_000.0

# Keys an OSI symbol (``occ``) replaces: a leg or quote gives one or the other.
OCC_REPLACES = ("root", "type", "strike", "expiry")


@dataclass(frozen=True)
class Field:
    """One key of a TOML table: its kind, its limits and its documentation.

    ``kind`` is one of ``string``, ``number`` (int or float, never bool),
    ``integer``, ``boolean``, ``date`` (a TOML local date), ``instant`` (a TOML date, local
    date-time or offset date-time), ``table``, ``tables`` (an array of tables,
    each described by ``fields``) and ``rules`` (a table of numbers whose
    keys and ranges are validated by ``rules.py``). ``choices`` are the
    canonical spellings, matched case-insensitively. The bounds ``gt``, ``ge``,
    ``lt``, ``le`` and ``nonzero`` apply to numbers; ``hint`` follows the bounds
    in their error message. ``required_note`` follows "required" when the key is
    missing.
    """

    name: str
    kind: str
    doc: str
    required: bool = False
    choices: tuple[str, ...] = ()
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    nonzero: bool = False
    fields: tuple[Field, ...] = ()
    hint: str = ""  # appended to an out-of-bounds message: "(4.2% is written 0.042)"
    required_note: str = ""  # appended to "required": "when [market.spx_vol] is given"


OCC_FIELD_DOC = (
    'OSI option symbol, e.g. "SPXW  261218P05400000": root padded to 6 characters, '
    "expiry YYMMDD, C or P, strike x 1000 in 8 digits. Replaces root, type, strike and "
    "expiry; give one or the other."
)

LEG_FIELDS = (
    Field("occ", "string", OCC_FIELD_DOC),
    Field(
        "underlying",
        "string",
        '"SPX" or "VIX". Default "SPX" (or the root\'s underlying when occ is given).',
        choices=("SPX", "VIX"),
    ),
    Field(
        "root",
        "string",
        '"SPX" (AM-settled monthly), "SPXW" (PM-settled) for SPX legs, default "SPXW"; '
        '"VIX" or "VIXW" for VIX legs, default "VIX"; a VIX future "VIX" (VX, $1,000 a '
        'point) or "VXM" (the Mini VIX future, $100 a point).',
        choices=("SPX", "SPXW", "VIX", "VIXW", "VXM"),
    ),
    Field(
        "type",
        "string",
        '"put", "call", or "future" (VIX legs only; a future has no strike). Case-insensitive.',
        choices=("put", "call", "future"),
    ),
    Field("strike", "number", "Strike in index points (options only).", gt=0),
    Field("expiry", "date", "Expiration date (TOML date, e.g. 2026-12-18), a trading day."),
    Field(
        "quantity",
        "integer",
        "Signed contracts: + long, - short, at most 10,000 either way. Required.",
        required=True,
        nonzero=True,
        ge=-MAX_CONTRACTS,
        le=MAX_CONTRACTS,
        hint="(signed contracts; more than 10,000 is a typo)",
    ),
    Field(
        "entry_price",
        "number",
        "Premium paid or received per index point (futures: the entry price), "
        "always >= 0. Required.",
        required=True,
        ge=0,
        lt=MAX_POINTS,
    ),
    Field(
        "iv",
        "number",
        "Optional: fixes this option's implied volatility (annual decimal, 0.19 = 19%).",
        gt=0,
        lt=10,
    ),
    Field(
        "layer",
        "integer",
        "1, 2 or 3 on a leg alvh recommended (a VIX hedge, a Layer 3 synthetic or roll); "
        "absent on the trader's own legs, the opening condor among them.",
        ge=1,
        le=3,
    ),
    Field(
        "entry_vix",
        "number",
        "Optional, layer legs only: VIX when the layer went on (for the unwind rule).",
        gt=0,
        lt=MAX_POINTS,
    ),
    Field(
        "opened",
        "date",
        "Optional: the day this leg was opened, when after the position (a roll, a "
        "conversion, a hedge). Absent: opened with the position.",
    ),
    Field(
        "closed",
        "date",
        "The day the leg was closed (bought or sold back, or expired): it is no longer held, "
        "and exit_price counts in the position's realised P&L. Absent: held.",
    ),
    Field(
        "exit_price",
        "number",
        "With closed: the price per index point the leg was closed at (at expiry, its "
        "settlement value), >= 0.",
        ge=0,
        lt=MAX_POINTS,
    ),
    Field(
        "mark",
        "number",
        "Optional: the broker's mark per index point (from an import), priced as a quote "
        "when it is of the market snapshot's day, >= 0.",
        ge=0,
        lt=MAX_POINTS,
    ),
    Field(
        "mark_time",
        "instant",
        "With mark: when the broker marked it (an offset date-time; a local date-time is "
        "New York time; a date means that day's 16:00 close). Only a mark of the market "
        "snapshot's New York day prices its leg.",
    ),
)

POSITION_FIELDS = (
    Field(
        "id",
        "string",
        "Name of the position, unique in the file, printable text. Required.",
        required=True,
    ),
    Field("opened", "date", "Date the position was opened (TOML date)."),
    Field(
        "credit",
        "number",
        "Opening credit per unit in points, at most the widest wing. Default: the net entry "
        "premium of the opening legs (short entry prices minus long entry prices), at "
        "least the exchange's minimum tick (SPX 0.05).",
        gt=0,
        lt=MAX_POINTS,
    ),
    Field(
        "legs",
        "tables",
        "Every leg of the trade: the opening condor (or vertical), the legs added since "
        "(with opened, and layer when alvh recommended them) and the legs closed (with "
        "closed and exit_price). Required.",
        required=True,
        fields=LEG_FIELDS,
    ),
)

FUTURE_FIELDS = (
    Field(
        "expiry",
        "date",
        "VIX future expiration date (TOML date, a trading day). Required.",
        required=True,
    ),
    Field(
        "price",
        "number",
        "Future price in VIX points, within a factor 3 of spot VIX. Required.",
        required=True,
        gt=0,
        lt=MAX_POINTS,
    ),
)

_SMILE_FORM = "iv = atm + skew*k + smile*k^2 with k = ln(K/F), floored at 0.01."
SPX_VOL_FIELDS = (
    Field(
        "atm", "number", "At-the-money volatility (annual decimal). Default vix/100.", gt=0, lt=10
    ),
    Field(
        "skew",
        "number",
        "Slope of iv in k = ln(K/F); negative for the usual put skew, e.g. -1.1. Required.",
        required=True,
        required_note="when [market.spx_vol] is given (the smile's slope, e.g. -1.1)",
        ge=-MAX_SKEW,
        le=MAX_SKEW,
    ),
    Field(
        "smile",
        "number",
        "Curvature of iv in k, e.g. 2.5. Required.",
        required=True,
        required_note="when [market.spx_vol] is given (the smile's curvature, e.g. 2.5)",
        ge=-MAX_SMILE,
        le=MAX_SMILE,
    ),
)
VIX_VOL_FIELDS = (
    Field(
        "atm",
        "number",
        "At-the-money volatility of VIX options (annual decimal, ~0.9-1.2). Required.",
        required=True,
        required_note="when [market.vix_vol] is given (e.g. 0.95)",
        gt=0,
        lt=10,
    ),
    Field(
        "skew",
        "number",
        "Slope of iv in k = ln(K/F); positive for VIX calls. Default 0.",
        ge=-MAX_SKEW,
        le=MAX_SKEW,
    ),
    Field("smile", "number", "Curvature of iv in k. Default 0.", ge=-MAX_SMILE, le=MAX_SMILE),
)

QUOTE_FIELDS = (
    Field("occ", "string", OCC_FIELD_DOC),
    Field("underlying", "string", '"SPX" or "VIX". Default "SPX".', choices=("SPX", "VIX")),
    Field(
        "root",
        "string",
        'Optional root ("SPX", "SPXW", "VIX", "VIXW"); absent matches any root.',
        choices=("SPX", "SPXW", "VIX", "VIXW"),
    ),
    Field("type", "string", '"put" or "call". Case-insensitive.', choices=("put", "call")),
    Field("strike", "number", "Strike in index points.", gt=0),
    Field("expiry", "date", "Expiration date (TOML date), a trading day."),
    Field(
        "bid",
        "number",
        "Bid in points, >= 0. Required.",
        required=True,
        ge=0,
        lt=MAX_POINTS,
    ),
    Field(
        "ask",
        "number",
        "Ask in points, > 0 and >= bid. Required.",
        required=True,
        gt=0,
        lt=MAX_POINTS,
    ),
)

SPX_SVI_FIELDS = (
    Field(
        "expiry",
        "date",
        "Expiration date of the slice (TOML date), a trading day after asof. Required.",
        required=True,
    ),
    Field(
        "root",
        "string",
        '"SPX" (AM-settled monthly) or "SPXW" (PM-settled): with expiry, the settlement '
        "instant the slice's T runs to. Required.",
        required=True,
        choices=("SPX", "SPXW"),
    ),
    Field(
        "a",
        "number",
        "Raw SVI level a (years x vol^2). Required; a + b*sigma*sqrt(1 - rho^2) must be >= 0.",
        required=True,
    ),
    Field("b", "number", "Raw SVI wing slope b, >= 0. Required.", required=True, ge=0),
    Field(
        "rho",
        "number",
        "Raw SVI skew rho, between -1 and 1 (exclusive). Required.",
        required=True,
        gt=-1,
        lt=1,
    ),
    Field("m", "number", "Raw SVI shift m (log-moneyness). Required.", required=True),
    Field(
        "sigma",
        "number",
        "Raw SVI curvature sigma (log-moneyness), > 0. Required.",
        required=True,
        gt=0,
    ),
    Field(
        "forward",
        "number",
        "The expiry's forward from put-call parity, in points at this file's spx. Required.",
        required=True,
        gt=0,
    ),
    Field(
        "discount",
        "number",
        "Discount factor from asof to settlement, from put-call parity. Required.",
        required=True,
        ge=0.5,
        le=1.1,
    ),
    Field(
        "rms",
        "number",
        "RMS error of the fit against the chain's implied vols, in vol points. Required.",
        required=True,
        ge=0,
    ),
    Field("n_quotes", "integer", "Out-of-the-money quotes the slice was fitted to.", ge=0),
    Field(
        "butterfly_free",
        "boolean",
        "Whether the slice passed the butterfly-arbitrage check (Durrleman g >= 0).",
    ),
)

MARKET_FIELDS = (
    Field(
        "asof",
        "instant",
        "Snapshot time: an offset date-time is taken as is, a local date-time is "
        "America/New_York, a date means 16:00 New York. Required.",
        required=True,
    ),
    Field("spx", "number", "SPX index level. Required.", required=True, gt=0),
    Field(
        "vix",
        "number",
        "VIX index level, between 5 and 150. Required.",
        required=True,
        ge=5,
        le=150,
        hint="(VIX has closed between 9.14 and 82.69 since 1990)",
    ),
    Field(
        "rate",
        "number",
        "Risk-free rate, continuously compounded, annual decimal (4.2% is 0.042). Required.",
        required=True,
        ge=CARRY_BOUNDS[0],
        le=CARRY_BOUNDS[1],
        hint="(4.2% is written 0.042)",
    ),
    Field(
        "dividend_yield",
        "number",
        "SPX dividend yield, continuous, annual decimal (1.3% is 0.013). Required.",
        required=True,
        ge=CARRY_BOUNDS[0],
        le=CARRY_BOUNDS[1],
        hint="(1.3% is written 0.013)",
    ),
    Field(
        "vix_futures",
        "tables",
        "VIX futures curve: one {expiry, price} per listed expiry.",
        fields=FUTURE_FIELDS,
    ),
    Field(
        "spx_vol",
        "table",
        "SPX volatility smile. "
        + _SMILE_FORM
        + " When given, skew and smile are required (atm defaults to vix/100); without "
        "the table the smile is flat at vix/100.",
        fields=SPX_VOL_FIELDS,
    ),
    Field(
        "vix_vol",
        "table",
        "VIX option volatility smile against the future of the same expiry. " + _SMILE_FORM,
        fields=VIX_VOL_FIELDS,
    ),
    Field(
        "quotes",
        "tables",
        "Bid/ask quotes; a quote beats the smile for its contract.",
        fields=QUOTE_FIELDS,
    ),
    Field(
        "spx_svi",
        "tables",
        "The SPX volatility surface fitted to option chains (alvh market writes it): one raw "
        "SVI slice per expiry, w(k) = a + b*(rho*(k - m) + sqrt((k - m)^2 + sigma^2)) in "
        "k = ln(K/F), iv = sqrt(w/T). When given, every SPX option is priced on the slices' "
        "forwards and discount factors, and one with neither iv nor quote at their vol "
        "(total variance interpolated linearly in T between expiries, vol flat outside); "
        "spx_vol stays the smile scenarios move.",
        fields=SPX_SVI_FIELDS,
    ),
)

FILE_FIELDS = (
    Field(
        "market",
        "table",
        "Market snapshot; --market FILE overrides it.",
        fields=MARKET_FIELDS,
    ),
    Field(
        "rules",
        "rules",
        "Overrides of the rule defaults (see `alvh rules`); --rules FILE overrides it.",
    ),
    Field(
        "positions",
        "tables",
        "The positions: an iron condor each, with any ALVH layers on it.",
        fields=POSITION_FIELDS,
    ),
)
