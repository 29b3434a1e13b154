"""The backtest's parameters: entry rule, price model and costs, one table.

``PARAMS`` is the only place a default lives: ``BacktestParams`` is generated from it (as
``model.rules.Rules`` is from ``DEFAULTS``), ``costs.CostModel`` takes its defaults from
it, the entry parameters and sweeps validate against it, and the backtest command's help
and the README read it.

Model defaults and their sources
--------------------------------
* SPX ATM vol = ``atm_ratio``·VIX/100, ``atm_ratio`` 0.88: the ATM vol at which the model
  smile's own 30-day variance swap — the Cboe VIX formula on a fine strike grid of the
  smile below — equals the VIX (:func:`alvh_cli.model.variance_swap.atm_ratio`: 0.8806 at
  VIX 16, 0.893 at 10, 0.871 at 30 and at 60: one ratio serves every level). The VIX prices
  the skew (every strike weighted by 1/K²); ATM vol does not. Real chains agree: the
  30-day ATM vol was 0.87 × the chain's own VIX-style variance-swap vol on 2019-06-26
  (14.04 against 16.22; the published VIX closed at 16.21) and 0.78 × on 2025-09-03
  (12.82 against 16.41; 0.77 with the ATM vol read as 12.67) (``benchmarks/atm_ratio.py``,
  on the SPXW samples shipped by the volkit package). The model's skew was fitted to a
  chain like the first; the second's is steeper. ``atm_ratio`` 1 is the first build's
  ATM = VIX/100, which prices every option with the skew's premium on top; the model
  sensitivity runs 0.77, 0.87 and 1. The ratio is not refitted when the slope is changed
  (the first build's −1.1 would fit 0.806).
* SPX smile, iv = ATM + skew(T)·k + smile·k², k = ln(K/F). The slope depends on the
  tenor T: skew(T) = ``spx_skew`` + ``spx_skew_term``·ln(T / 30 days). Fitted by least
  squares to the slopes of one SPXW end-of-day chain on a calm day (VIX ≈ 16): −0.66 at 23
  days, −0.61 at 44, −0.47 at 87, −0.35 at 188 (a + b·ln T_days with a = −1.161, b =
  0.1537, residuals under 0.031), which gives −0.638 at 30 days and +0.154 per unit of
  ln T. Whether the slope in log-moneyness also moves with the VIX level is not
  documented by anything found (Mixon 2011, "What does implied volatility skew measure?",
  finds skew measures co-moving with VIX, with no rule in these units): the slope does not
  depend on VIX here. The curvature stays at the first build's 2.5 (the chain's fitted
  curvature was not recorded). ``spx_skew`` −1.1 with ``spx_skew_term`` 0 is the first
  build's smile, one slope for every tenor.
* VIX option ATM vol (on the future): σ = ``vix_atm``·(VIX/16)^``vix_vol_power``, anchored
  at the first build's 0.9 at VIX 16. The exponent is the method's rule ``vix_vol_power``
  (0.41; :func:`alvh_cli.model.smile.vix_option_atm` gives its source), so the market the
  backtest prices and the scenarios its alvh engine revalues on move VIX option vol the
  same way; ``vix_vol_power`` 0 (a rule: ``LEGACY_RULES``) is the first build's flat 0.9.
* Costs: :mod:`alvh_cli.backtest.costs` (half-spreads and fees, each with its source).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields, make_dataclass, replace
from datetime import date, datetime
from typing import Any

from alvh_cli.errors import InputError
from alvh_cli.model.rules import bounded_number
from alvh_cli.model.smile import ATM_PER_VIX

VIX_VOL_REFERENCE = 16.0  # VIX level at which VIX options' ATM vol is ``vix_atm``


@dataclass(frozen=True)
class Param:
    default: float
    help: str
    low: float
    high: float
    integer: bool = False


PARAMS: dict[str, Param] = {
    # Entry rule.
    "weekday": Param(0, "entry weekday, 0 = Monday (the next trading day when closed)", 0, 4, True),
    "dte": Param(45, "target calendar days to expiry: the SPXW Friday nearest it", 1, 365, True),
    "delta": Param(0.16, "|delta| of the short put and the short call", 0.01, 0.49),
    "wing": Param(50, "wing width, SPX points", 1, 1000),
    "strike_step": Param(5, "listed strike grid, SPX points", 0.05, 100),
    "contracts": Param(1, "condors per entry", 1, 10000, True),
    "warmup": Param(
        250,
        "trading days of history before the first entry (the alvh policy's scenario set "
        "is built from the closes before each decision)",
        0,
        5000,
        True,
    ),
    # Model.
    "rate": Param(0.02, "risk-free rate, continuous, annual", -0.05, 0.25),
    "dividend_yield": Param(0.018, "SPX dividend yield, continuous, annual", 0, 0.2),
    "atm_ratio": Param(
        ATM_PER_VIX,
        "SPX ATM vol as a multiple of VIX/100 (0.88: the smile's 30-day variance swap is "
        "the VIX; 1: the first build's ATM = VIX)",
        0.3,
        2,
    ),
    "spx_skew": Param(
        -0.638,
        "SPX smile slope at 30 days (iv = atm + skew(T)·k + smile·k², k = ln K/F)",
        -10,
        10,
    ),
    "spx_skew_term": Param(
        0.154, "change of the SPX slope per unit of ln(T / 30 days); 0: one slope", -2, 2
    ),
    "spx_smile": Param(2.5, "SPX smile curvature", -10, 50),
    "vix_theta": Param(19, "long-run VIX level θ of F(τ) = θ + (VIX − θ)·e^(−κτ)", 5, 80),
    "vix_atm": Param(0.9, "VIX option ATM vol (on the future) at VIX 16", 0.05, 5),
    "vix_skew": Param(0.8, "VIX smile skew", -10, 10),
    "vix_smile": Param(0.0, "VIX smile curvature", -10, 50),
    # Costs (alvh_cli.backtest.costs).
    "spx_half_spread": Param(
        0.10, "SPX option half-spread per leg at VIX <= spx_spread_vix, points", 0, 10
    ),
    "spx_spread_vix": Param(16, "VIX above which the half-spreads (SPX, VIX) grow", 1, 100),
    "spx_spread_power": Param(
        1.0, "SPX half-spread × (VIX/spx_spread_vix)^this above it; 0: flat", 0, 5
    ),
    "vix_half_spread": Param(
        0.05, "VIX option half-spread per leg at VIX <= spx_spread_vix, points", 0, 10
    ),
    "vix_spread_power": Param(
        1.0, "VIX option half-spread × (VIX/spx_spread_vix)^this above it; 0: flat", 0, 5
    ),
    "spread_multiplier": Param(1.0, "both half-spreads times this", 0, 20),
    "commission": Param(0.65, "broker commission per contract, dollars", 0, 100),
    "exchange_fees": Param(1.0, "Cboe's per-contract fee schedule times this; 0: none", 0, 10),
    "clearing_fee": Param(0.025, "OCC clearing fee per contract, dollars", 0, 10),
    "regulatory_fee": Param(0.02815, "options regulatory fee per contract, dollars", 0, 10),
}

# The first build's model and costs: ATM vol = VIX/100, one SPX slope for every tenor, flat
# VIX option vol, flat slippage 0.05 (SPX) and 0.02 (VIX) and a $0.65 commission with no
# other fee.
LEGACY: dict[str, float] = {
    "atm_ratio": 1.0,
    "spx_skew": -1.1,
    "spx_skew_term": 0.0,
    "spx_half_spread": 0.05,
    "spx_spread_power": 0.0,
    "vix_half_spread": 0.02,
    "vix_spread_power": 0.0,
    "exchange_fees": 0.0,
    "clearing_fee": 0.0,
    "regulatory_fee": 0.0,
}
# ... and the first build's rules where they differ: flat VIX option vol in the backtest's
# market and in the scenarios (a method rule, ``model.rules.DEFAULTS``).
LEGACY_RULES: dict[str, float] = {"vix_vol_power": 0.0}


class _ParamsBase:
    """Methods of ``BacktestParams`` (its fields are generated from ``PARAMS``)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: (v.isoformat() if isinstance(v, date) else v)
            for f in fields(self)
            for v in [getattr(self, f.name)]
        }


def _field_type(p: Param):
    return int if p.integer else float


# ``profit_take`` False turns the shared profit take off for every policy; ``start`` is the
# first entry date (the warm-up comes from the closes before it), ``end`` the last close.
BacktestParams = make_dataclass(
    "BacktestParams",
    [(k, _field_type(p), field(default=_field_type(p)(p.default))) for k, p in PARAMS.items()]
    + [
        ("profit_take", bool, field(default=True)),
        ("start", date | None, field(default=None)),
        ("end", date | None, field(default=None)),
    ],
    bases=(_ParamsBase,),
    frozen=True,
)
BacktestParams.__module__ = __name__
BacktestParams.__doc__ = (
    "Entry rule, model and costs of a backtest (defaults and meanings: ``PARAMS``); "
    "``profit_take`` False turns the shared profit take off for every policy; ``start`` is "
    "the first entry date (the warm-up comes from the closes before it), ``end`` the last "
    "close used."
)
KEYS = tuple(f.name for f in fields(BacktestParams))


def make_params(
    table: dict,
    source: str = "",
    base: BacktestParams | None = None,
    *,
    option: str | None = None,
) -> BacktestParams:
    """``base`` (default: the defaults) overridden by a validated table of parameters.

    Numbers for the ``PARAMS`` keys, a boolean ``profit_take``, dates (or
    ``YYYY-MM-DD`` strings) ``start`` and ``end``. Unknown keys are errors, naming the
    file ``source`` the table came from, or else the parameter ``option`` that carried it.
    """
    try:
        return _checked(table, source, base)
    except InputError as exc:
        if option is None or exc.source:
            raise
        raise InputError(exc.message, key=exc.key, option=option) from None


def _checked(table: dict, source: str, base: BacktestParams | None) -> BacktestParams:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InputError(f"unknown backtest parameter '{key}'{hint}", source, key)
        if key == "profit_take":
            if not isinstance(value, bool):
                raise InputError(f"must be true or false, got {value!r}", source, key)
            values[key] = value
        elif key in ("start", "end"):
            values[key] = as_date(value, source, key)
        else:
            values[key] = bounded_number(value, PARAMS[key], source, key)
    params = replace(base or BacktestParams(), **values)
    if params.start and params.end and params.start > params.end:
        raise InputError(f"start {params.start} is after end {params.end}", source, "start")
    return params


def as_date(value: Any, source: str, key: str) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"must be a date YYYY-MM-DD, got {value!r}", source, key) from None
