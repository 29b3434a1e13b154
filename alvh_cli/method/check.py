"""The daily question: what to do with each position today (DESIGN §4, §7).

``check_book`` values the book, applies the layer rules and returns plain
data: one dict per position in the JSON shape of DESIGN §7.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from alvh_cli.inputs.book import LoadedFile
from alvh_cli.method import adjust, sizing, stress
from alvh_cli.method.rules import Rules
from alvh_cli.model.quotes import natural_price
from alvh_cli.model.valuation import PositionValues, value_book


@dataclass(frozen=True)
class Regime:
    """``elevated`` is None when no history was given: signals unavailable, never quiet."""

    elevated: bool | None = None
    active: int = 0
    signals: tuple = ()
    note: str = "no --history file: signals unavailable"

    @property
    def label(self) -> str:
        """ "elevated", "normal", or "unavailable" (no history: thresholds stay at 1x)."""
        if self.elevated is None:
            return "unavailable"
        return "elevated" if self.elevated else "normal"


@dataclass
class CheckResult:
    asof: str
    positions: list[dict]
    regime: Regime = field(default_factory=Regime)

    @property
    def needs_action(self) -> bool:
        return any(r["action"] != "hold" for p in self.positions for r in p["recommendations"])


def layer_targets(rules: Rules) -> dict[int, float]:
    """Cumulative coverage each hedge layer sizes to."""
    return {1: rules.layer1_coverage, 2: rules.layer2_coverage}


def check_book(
    loaded: Sequence[LoadedFile], regimes: Sequence[Regime] | None = None
) -> CheckResult:
    """Check every position; ``regimes`` (one per loaded file) default to 'unavailable'."""
    regimes = list(regimes) if regimes is not None else [Regime() for _ in loaded]
    by_file = {id(lf): r for lf, r in zip(loaded, regimes, strict=True)}
    rows = [check_position(pv, by_file[id(pv.loaded)]) for pv in value_book(loaded)]
    asofs = sorted({lf.market.asof.isoformat() for lf in loaded})
    return CheckResult(
        asofs[0] if len(asofs) == 1 else ",".join(asofs), rows, regimes[0] if regimes else Regime()
    )


def traditional(mark: float) -> dict[str, str]:
    """What the blunt stops would do at today's mark."""
    return {
        "stop_2x": "close" if mark >= 2.0 else "hold",
        "stop_3x": "close" if mark >= 3.0 else "hold",
    }


def required_layer(pv: PositionValues, side: str, rules: Rules, elevated: bool) -> tuple[int, str]:
    """The layer today's mark and spot call for (0..3), and the reason in a few words."""
    t1, t2, t3 = rules.thresholds(elevated)
    mark = pv.mark_multiple
    roles = pv.position.legs_by_role()
    short = roles["short_put"] if side == "put" else roles["short_call"]
    spot = pv.loaded.market.spx
    i = pv.legs.index(short)
    short_delta = abs(float(pv.values.delta[i]))
    through = spot <= short.strike if side == "put" else spot >= short.strike
    if mark >= t3:
        return 3, f"mark {mark:.2f}x >= {t3:.4g}x"
    if through:
        return 3, f"SPX {spot:,.2f} through the short {side} {short.strike:g}"
    if short_delta >= rules.layer3_short_delta:
        return 3, f"short {side} |delta| {short_delta:.2f} >= {rules.layer3_short_delta:g}"
    if mark >= t2:
        return 2, f"mark {mark:.2f}x >= {t2:.4g}x"
    if mark >= t1:
        return 1, f"mark {mark:.2f}x >= {t1:.4g}x"
    return 0, f"mark {mark:.2f}x < {t1:.4g}x"


def check_position(pv: PositionValues, regime: Regime) -> dict:
    p, market, rules = pv.position, pv.loaded.market, pv.loaded.rules
    side = stress.tested_side(p, market.spx)
    elevated = bool(regime.elevated)
    layer, why = required_layer(pv, side, rules, elevated)
    if elevated:
        why += f" (elevated regime: thresholds × {rules.elevated_scale:g})"
    recs = recommend(pv, side, layer, why, rules, elevated)
    return {
        "id": p.id,
        "source": p.source,
        "expiry": p.expiry.isoformat(),
        "dte": int(pv.values.dte[pv.legs.index(p.condor[0])]),
        "units": p.units,
        "credit": p.credit,
        "debit_to_close": pv.debit_to_close,
        "mark_multiple": pv.mark_multiple,
        "tested_side": side,
        "layer": layer,
        "deployed_layers": list(p.deployed_layers),
        "regime": regime.label,
        "greeks": pv.greeks["total"],
        "pnl": pv.pnl,
        "traditional": traditional(pv.mark_multiple),
        "recommendations": recs,
    }


def recommend(pv, side, layer, why, rules: Rules, elevated: bool) -> list[dict]:
    p = pv.position
    t1 = rules.thresholds(elevated)[0]
    mark = pv.mark_multiple
    deployed_through = max(p.deployed_layers, default=0)
    if rules.profit_take > 0 and mark <= 1.0 - rules.profit_take:
        return [take_profit(pv, rules)]
    if p.hedges and mark < t1 * rules.unwind_fraction:
        return unwind(pv, t1 * rules.unwind_fraction)
    if layer == 0:
        return [hold(why)]
    if deployed_through >= layer or deployed_through == 3:
        return [hold(f"{why}; layer {deployed_through} already on")]
    if side == "call" or layer == 3:
        return [convert(pv, side, layer, why, rules)]
    return [open_hedge(pv, side, layer, why, rules)]


def hold(reason: str) -> dict:
    return {"action": "hold", "reason": reason}


def open_hedge(pv, side, layer, why, rules) -> dict:
    sc = stress.build(pv.position, pv.loaded.market, rules, side)
    s = sizing.size(pv, sc, rules, layer, layer_targets(rules)[layer])
    if s.choice is None or s.quantity == 0:
        reason = s.note or "no spread fits the remaining budget"
        return {
            "action": "hold",
            "layer": layer,
            "reason": f"{why}; {reason}",
            "budget_limited": s.budget_limited,
        }
    c = s.choice
    return {
        "action": "open_hedge",
        "layer": layer,
        "instrument": "vix_call_spread",
        "expiry": c.expiry.isoformat(),
        "long_strike": c.long_strike,
        "short_strike": c.short_strike,
        "quantity": s.quantity,
        "debit": c.debit,
        "price_source": c.debit_source,
        "cost": s.cost,
        "stress_gain": s.stress_gain,
        "stress_loss": s.stress_loss,
        "coverage": s.coverage,
        "budget_limited": s.budget_limited,
        "reason": why + (f"; {s.note}" if s.note else ""),
    }


def convert(pv, side, layer, why, rules) -> dict:
    if side == "call":
        why += "; call side tested: VIX calls do not hedge a rally, so delta adjustment instead"
    delta = pv.greeks["total"]["delta"]
    c = adjust.conversion(pv, side, delta)
    if c.quantity == 0:
        return {
            "action": "hold",
            "layer": layer,
            "reason": f"{why}; delta {delta:,.0f} $/pt already closest to zero",
        }
    name = "conversion" if side == "put" else "reversal"
    return {
        "action": "convert",
        "layer": 3,
        "instrument": name,
        "root": c.root,
        "expiry": c.expiry.isoformat(),
        "strike": c.strike,
        "quantity": c.quantity,
        "legs": [{"type": t, "quantity": q} for t, q in c.legs],
        "debit": c.price,
        "price_source": c.price_source,
        "cost": c.price * c.quantity * 100.0,
        "delta_before": c.delta_before,
        "delta_after": c.delta_after,
        "parity_edge": c.parity_edge,
        "ev_before": c.ev_before,
        "ev_after": c.ev_after,
        "sd_before": c.sd_before,
        "sd_after": c.sd_after,
        "reason": why,
    }


def _closing_value(market, legs) -> tuple[float, str]:
    """Dollars received (> 0) or paid (< 0) to close ``legs`` (pairs of leg, model price)."""
    total, natural = 0.0, True
    for g, model in legs:
        side = "sell" if g.quantity > 0 else "buy"
        q = (
            natural_price(market, g.underlying, g.type, g.strike, g.expiry, side, g.root)
            if g.is_option
            else None
        )
        if q is None:
            natural, q = False, model
        total += q * g.quantity * g.multiplier
    return total, "natural" if natural else "model"


def unwind(pv, threshold: float) -> list[dict]:
    p, market = pv.position, pv.loaded.market
    out = []
    for layer in p.deployed_layers:
        legs = [(g, float(pv.values.price[i])) for i, g in enumerate(pv.legs) if g.layer == layer]
        recorded = [g.entry_vix for g, _ in legs if g.entry_vix is not None]
        entry_vix = min(recorded) if recorded else None
        if entry_vix is not None and market.vix > entry_vix:
            out.append(
                hold(
                    f"mark {pv.mark_multiple:.2f}x < {threshold:.4g}x but VIX "
                    f"{market.vix:g} > layer {layer} entry {entry_vix:g}: keep the hedge"
                )
            )
            continue
        proceeds, source = _closing_value(market, legs)
        first = legs[0][0]
        vix_note = (
            f"VIX {market.vix:g} <= entry {entry_vix:g}"
            if entry_vix is not None
            else "entry_vix not recorded, VIX test skipped"
        )
        out.append(
            {
                "action": "close_hedge",
                "layer": layer,
                "instrument": _describe(legs),
                "legs": [_leg_dict(g) for g, _ in legs],
                "credit": proceeds / (abs(first.quantity) * first.multiplier),
                "price_source": source,
                "cost": -proceeds,
                "reason": f"unwind: mark {pv.mark_multiple:.2f}x < {threshold:.4g}x, {vix_note}",
            }
        )
    return out


def take_profit(pv, rules) -> dict:
    p, market = pv.position, pv.loaded.market
    legs = [(g, float(pv.values.price[i])) for i, g in enumerate(pv.legs)]
    proceeds, source = _closing_value(market, legs)
    condor = [(g, m) for g, m in legs if g.layer is None]
    condor_value, _ = _closing_value(market, condor)
    return {
        "action": "take_profit",
        "instrument": "iron_condor" + (" and hedges" if p.hedges else ""),
        "expiry": p.expiry.isoformat(),
        "quantity": p.units,
        "legs": [_leg_dict(g) for g, _ in legs],
        "debit": -condor_value / (p.units * 100.0),
        "price_source": source,
        "cost": -proceeds,
        "reason": f"mark {pv.mark_multiple:.2f}x <= {1 - rules.profit_take:.2f}x: "
        f"{1 - pv.mark_multiple:.0%} of the credit captured on the condor",
    }


def _leg_dict(g) -> dict:
    return {
        "underlying": g.underlying,
        "type": g.type,
        "strike": g.strike,
        "expiry": g.expiry.isoformat(),
        "quantity": -g.quantity,
    }


def _describe(legs) -> str:
    kinds = {(g.underlying, g.type) for g, _ in legs}
    if kinds == {("VIX", "call")} and len(legs) == 2:
        return "vix_call_spread"
    return "+".join(sorted(f"{u.lower()}_{t}" for u, t in kinds))
