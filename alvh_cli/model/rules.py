"""Every threshold of the method in one place, with overrides and their provenance.

A default lives here and nowhere else; the CLI, the README table and the
engine read it from ``DEFAULTS``. Overrides come from a position file's
``[rules]`` table and from ``--rules FILE`` (which wins); unknown keys and
out-of-range values are input errors.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, make_dataclass, replace
from typing import Any

from alvh_cli.errors import InputError


@dataclass(frozen=True)
class Rule:
    default: float | None
    help: str
    low: float = -math.inf  # inclusive bounds of a sensible value
    high: float = math.inf
    integer: bool = False


DEFAULTS: dict[str, Rule] = {
    # Layer triggers: mark = debit to close / credit.
    "layer1_multiple": Rule(
        1.5, "mark multiple that brings in layer 1 (first VIX call spreads)", 1.0, 10
    ),
    "layer1_elevated_multiple": Rule(
        1.2,
        "layer 1 comes in from this multiple while the VIX spike signal is active "
        "(the first sign of volatility expansion)",
        1.0,
        10,
    ),
    "layer2_multiple": Rule(2.0, "mark multiple that brings in layer 2 (more spreads)", 1.0, 20),
    "layer3_multiple": Rule(
        3.0, "mark multiple that brings in layer 3 (its alternatives are evaluated)", 1.0, 30
    ),
    "layer3_short_delta": Rule(0.50, "|delta| of a short leg that brings in layer 3", 0.05, 1.0),
    # 1: the walk-forward's most frequent choice beside γ (12 of 26 windows; 3 in 11)
    "adjust_from_layer": Rule(
        1,
        "from this layer the Layer 3 adjustments (closes, conversions, rolls) are weighed "
        "beside holding and the hedges on a tested put side (the call side, which has no "
        "hedges, from layer 1)",
        1,
        3,
        True,
    ),
    "hedge_budget": Rule(
        0.35, "all VIX hedge debits as a share of the opening credit dollars", 0.0, 5.0
    ),
    "layer1_budget_share": Rule(
        0.5, "share of the hedge budget layer 1 may spend; layer 2 may spend the rest", 0.0, 1.0
    ),
    "profit_take": Rule(
        0.50,
        "mark <= 1 - this closes the condor and its hedges; 0 turns it off",
        0.0,
        1.0,
    ),
    "unwind_fraction": Rule(
        0.8, "hedges close when mark < layer1_multiple × this and VIX ≤ entry", 0.0, 1.0
    ),
    "elevated_scale": Rule(
        0.85, "multiple thresholds are scaled by this in an elevated regime", 0.1, 1.0
    ),
    # Scenario set and the choice of hedges and adjustments.
    "scenario_horizon_days": Rule(
        5, "trading days over which every scenario is revalued", 1, 60, True
    ),
    "cvar_level": Rule(0.05, "CVaR is the mean of this worst share of scenarios", 0.005, 0.5),
    "vix_beta": Rule(-4.9, "log VIX move per log SPX move on the ladder rungs", -20, 0),
    "vix_term_kappa": Rule(
        5.0, "VIX future of tenor τ moves by e^(−κτ) of the spot VIX move", 0, 100
    ),
    "spx_atm_per_vix": Rule(
        0.88,
        "SPX ATM vol moves by this × the VIX move / 100 in each scenario (0.88: the model "
        "smile's variance swap equals the VIX at ATM = 0.88 × VIX)",
        0,
        2,
    ),
    "vix_vol_power": Rule(
        0.41,
        "VIX options' ATM vol moves with VIX as (VIX_s/VIX)^this (in the scenarios and the "
        "backtest's market); 0: fixed",
        0,
        3,
    ),
    "stress_spx_move": Rule(
        None,
        "the old stress rung: SPX move as a fraction (e.g. -0.05); unset: to the short strike",
        -0.9,
        0.9,
    ),
    "hedge_max_width": Rule(10, "widest VIX call spread considered, in VIX points", 1, 50, True),
    "hedge_take_profit": Rule(
        2.0, "a hedge worth this multiple of its cost is partly sold to recover the cost", 1, 100
    ),
    "hedge_roll_days": Rule(
        7, "a hedge this many days from expiry, the condor still open, is rolled", 0, 60, True
    ),
    "roll_min_days": Rule(
        7, "a rolled vertical expires at least this many days after the old one", 1, 365, True
    ),
    "roll_delta": Rule(0.16, "|delta| of the short strike of a rolled vertical", 0.01, 0.5),
    # The trader's risk preference: every decision maximises EV + risk_aversion × CVaR.
    # 0.05: the walk-forward's choice on 2000-2014 (2-year train windows, the most P&L at
    # stop2x's CVaR or better): 0.05 in 14 of 26 windows, 0.02 in 9 (README, Backtest).
    "risk_aversion": Rule(
        0.05,
        "γ: each decision maximises EV + γ·CVaR (dollars, net of trading cost); γ = 0.05 "
        "gives up $5 of expected P&L to cut the 5%-worst average loss by $100",
        0.0,
        100.0,
    ),
    "cvar_limit": Rule(
        0,
        "a position's CVaR (dollars) must not be worse than −this: the best objective within "
        "it, else the smallest tail loss; 0 no limit",
        0.0,
        1e9,
    ),
    "cvar_limit_credit": Rule(
        0,
        "the same limit as a multiple of the position's opening credit dollars (the tighter "
        "of the two applies); 0 no limit",
        0.0,
        1000.0,
    ),
    "book_cvar_limit": Rule(
        0,
        "the CVaR (dollars) of the positions hedged together as a book (those due a hedge "
        "layer on one snapshot) must not be worse than −this; 0 no limit",
        0.0,
        1e9,
    ),
    "spx_half_spread": Rule(
        0.10, "assumed half bid/ask spread of an unquoted SPX option, points", 0, 10
    ),
    "vix_half_spread": Rule(
        0.05, "assumed half bid/ask spread of an unquoted VIX option, points", 0, 5
    ),
    "fee_per_contract": Rule(
        1.00, "commission and exchange/clearing fees per contract, dollars", 0, 50
    ),
    # Broker marks (alvh import writes them on the legs).
    "broker_mark_tolerance": Rule(
        0.10,
        "a leg's broker mark and the model's own price of it further apart than this share "
        "of the mark (and by more than a tick) is warned about",
        0.0,
        10.0,
    ),
    # Signals.
    "vix_spike_pct": Rule(0.20, "VIX above its 10-day mean by this share is a spike", 0.0, 5.0),
    "vix_spike_window": Rule(10, "days in the VIX mean for the spike signal", 2, 250, True),
    "rsi_period": Rule(14, "RSI period (Wilder smoothing)", 2, 250, True),
    "rsi_oversold": Rule(30, "RSI at or below this is a signal", 0, 100),
    "macd_fast": Rule(12, "MACD fast EMA span", 1, 250, True),
    "macd_slow": Rule(26, "MACD slow EMA span", 2, 500, True),
    "macd_signal": Rule(9, "MACD signal EMA span", 1, 250, True),
    "macd_cross_days": Rule(
        3, "a bearish MACD cross within this many sessions counts", 1, 60, True
    ),
    "ad_lookback": Rule(20, "sessions for the SPX high / A-D line divergence", 2, 250, True),
    "event_days": Rule(2, "a FOMC/CPI/PPI date within this many trading days counts", 0, 30, True),
    "elevated_min_signals": Rule(2, "active signals needed for an elevated regime", 1, 6, True),
}

# Keys of the first method, refused with what replaced them (a silent no-op would hide
# that a file's setting no longer does anything).
RETIRED = {
    "layer3_ev_slack": "every alternative is now chosen by its objective EV + risk_aversion × "
    "CVaR (trading cost included): see risk_aversion and cvar_limit",
    "layer1_coverage": "layer 1 is now sized by the decision rule EV + risk_aversion × CVaR: "
    "see layer1_budget_share and risk_aversion",
    "layer2_coverage": "layer 2 is now sized by the decision rule EV + risk_aversion × CVaR: "
    "see hedge_budget and risk_aversion",
    "hedge_min_gain_per_dollar": "hedges are now sized by the decision rule: see risk_aversion "
    "and cvar_limit",
    "hedge_min_cvar_per_dollar": "hedges are now sized by the decision rule every choice "
    "follows, EV + risk_aversion × CVaR (their cost included) within cvar_limit: see "
    "risk_aversion",
    "hedge_ratio_tolerance": "spreads are now chosen together by CVaR; no tolerance is used",
}


class _RulesBase:
    """Effective rule values (attribute per ``DEFAULTS`` key) and where each came from."""

    def source_of(self, key: str) -> str:
        return dict(self.origin).get(key, "default")

    def profit_take_hit(self, mark: float) -> bool:
        """Whether a condor marked at ``mark`` (debit to close / opening credit) is due its
        profit take: 0 ≤ mark ≤ 1 − ``profit_take``; ``profit_take`` 0 turns it off. A
        short condor never pays to be closed: a mark below zero is a price set that breaks
        no-arbitrage (a slipped quote or smile), no reason to trade."""
        return self.profit_take > 0 and 0.0 <= mark <= 1.0 - self.profit_take

    def thresholds(self, elevated: bool) -> tuple[float, float, float]:
        """Layer 1/2/3 mark multiples in force, scaled when the regime is elevated."""
        scale = self.elevated_scale if elevated else 1.0
        return (
            self.layer1_multiple * scale,
            self.layer2_multiple * scale,
            self.layer3_multiple * scale,
        )


def _field_type(rule: Rule):
    if rule.integer:
        return int
    return float | None if rule.default is None else float


# Generated from the table, so a default lives in one place only.
Rules = make_dataclass(
    "Rules",
    [(k, _field_type(r), field(default=r.default)) for k, r in DEFAULTS.items()]
    + [("origin", tuple, field(default=()))],
    bases=(_RulesBase,),
    frozen=True,
)
Rules.__module__ = __name__


def check_overrides(table: Any, source: str, key_prefix: str = "rules") -> dict[str, float]:
    """Validate a raw ``[rules]`` table: known keys, finite numbers in range."""
    if not isinstance(table, dict):
        raise InputError(f"must be a table, got {type(table).__name__}", source, key_prefix)
    out: dict[str, float] = {}
    for key, value in table.items():
        where = f"{key_prefix}.{key}"
        rule = DEFAULTS.get(key)
        if key in RETIRED:
            raise InputError(f"'{key}' is no longer used: {RETIRED[key]}", source, where)
        if rule is None:
            close = difflib.get_close_matches(key, list(DEFAULTS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InputError(f"unknown rule '{key}'{hint}", source, where)
        out[key] = bounded_number(value, rule, source, where)
    return out


def bounded_number(value: Any, bounds, source: str, key: str) -> float:
    """``value`` as a float (int when ``bounds.integer``) within ``bounds.low..high``, or an
    input error saying which of number / finite / whole / range it fails."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"must be a number, got {value!r}", source, key)
    if not math.isfinite(value):
        raise InputError(f"must be a finite number, got {value!r}", source, key)
    if bounds.integer and value != int(value):
        raise InputError(f"must be a whole number, got {value!r}", source, key)
    if not bounds.low <= value <= bounds.high:
        raise InputError(
            f"must be between {bounds.low:g} and {bounds.high:g}, got {value!r}", source, key
        )
    return int(value) if bounds.integer else float(value)


def resolve(*layers: tuple[dict, str]) -> Rules:
    """Rules from the defaults overridden by each (table, source) in turn; later wins."""
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for table, source in layers:
        for key, value in check_overrides(table, source).items():
            values[key] = value
            origin[key] = source
    rules = Rules(**values, origin=tuple(sorted(origin.items())))
    _check_consistent(rules, origin)
    return rules


def override(rules: Rules, table: dict, source: str) -> Rules:
    """``rules`` with a validated table of overrides on top (a backtest sweep's point);
    the same checks as ``resolve``."""
    if not table:
        return rules
    values = check_overrides(table, source)
    origin = {**dict(rules.origin), **dict.fromkeys(values, source)}
    new = replace(rules, **values, origin=tuple(sorted(origin.items())))
    _check_consistent(new, origin)
    return new


def _check_consistent(rules: Rules, origin: dict[str, str]) -> None:
    pairs = [
        ("layer1_elevated_multiple", "layer1_multiple"),
        ("layer1_multiple", "layer2_multiple"),
        ("layer2_multiple", "layer3_multiple"),
        ("macd_fast", "macd_slow"),
    ]
    for low, high in pairs:
        if getattr(rules, low) > getattr(rules, high):
            key = high if high in origin else low
            raise InputError(
                f"{low} ({getattr(rules, low):g}) must not exceed "
                f"{high} ({getattr(rules, high):g})",
                origin.get(key, "rules"),
                f"rules.{key}",
            )


def effective_table(rules: Rules) -> list[dict[str, Any]]:
    """Rows for ``alvh rules``: key, value, default, source, meaning."""
    return [
        {
            "key": key,
            "value": getattr(rules, key),
            "default": rule.default,
            "source": rules.source_of(key),
            "help": rule.help,
        }
        for key, rule in DEFAULTS.items()
    ]
