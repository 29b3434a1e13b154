"""Presentation: rich tables for people, JSON and CSV for scripts.

The only module that imports rich. It receives plain data from the core and
never computes a figure of its own beyond formatting.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from collections.abc import Iterable

# Keys holding dollars are rounded to cents in JSON/CSV; other floats keep 10 significant
# digits (a per-unit gamma of 0.00082 or a theta of -1e-7 must survive).
DOLLAR_KEYS = {
    "cost",
    "stress_gain",
    "stress_loss",
    "pnl",
    "value",
    "dollar_delta",
    "dollar_gamma",
    "dollar_vega",
    "dollar_theta",
    "delta_before",
    "delta_after",
    "ev_before",
    "ev_after",
    "sd_before",
    "sd_after",
    "budget",
    "budget_spent",
    "existing_gain",
    "needed_gain",
}


def _clean(value, key: str = ""):
    """JSON-safe copy: NaN → null, dollars to cents, other floats to 10 significant digits."""
    if isinstance(value, dict):
        return {k: _clean(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v, key) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return round(value, 2) if key in DOLLAR_KEYS else float(f"{value:.10g}")
    return value


def _console():
    from rich.console import Console

    # markup off: ids, reasons and file names are the user's text, never rich markup
    # Piped output (a script, a file) gets a wide table unless COLUMNS says otherwise.
    wide = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(width=200 if wide else None, markup=False, highlight=False)


def _json(data) -> None:
    sys.stdout.write(json.dumps(_clean(data), indent=2) + "\n")


def _csv(rows: Iterable[dict]) -> None:
    rows = [_flatten(_clean(r)) for r in rows]
    fields: list[str] = []
    for r in rows:
        fields.extend(k for k in r if k not in fields)
    writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def _flatten(row: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in row.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, f"{name}."))
        elif isinstance(v, list):
            out[name] = json.dumps(v)
        else:
            out[name] = "" if v is None else v
    return out


def money(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return _unsigned_zero(f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}")


def num(x, fmt: str = ".2f") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return _unsigned_zero(format(x, fmt))


def _unsigned_zero(text: str) -> str:
    """'-0.00' → '0.00': a value that rounds to zero has no sign worth showing."""
    if text.startswith("-") and not text.strip("-0.,"):
        return text[1:]
    return text


# ---------------------------------------------------------------- price


def emit_price(data: dict, fmt: str) -> None:
    if fmt == "json":
        return _json(data)
    if fmt == "csv":
        return _csv(data["legs"])
    from rich.table import Table

    console = _console()
    console.print(f"alvh price as of {data['asof']}", style="bold")
    legs = Table(title="Legs (per unit; Greeks per DESIGN §3 units)", title_justify="left")
    for col in (
        "position",
        "leg",
        "und",
        "root",
        "type",
        "strike",
        "expiry",
        "DTE",
        "qty",
        "vol",
        "src",
        "price",
        "delta",
        "gamma",
        "vega",
        "theta",
        "rho",
        "value $",
    ):
        legs.add_column(
            col,
            justify="left" if col in ("position", "leg", "und", "root", "type", "src") else "right",
        )
    for r in data["legs"]:
        legs.add_row(
            r["position"],
            r["leg"].split(".")[-1],
            r["underlying"],
            r["root"],
            r["type"],
            num(r["strike"], "g"),
            r["expiry"],
            str(r["dte"]),
            str(r["quantity"]),
            num(r["vol"] * 100 if r["vol"] is not None else None, ".1f"),
            r["vol_source"],
            num(r["price"]),
            num(r["delta"], ".3f"),
            num(r["gamma"], ".5f"),
            num(r["vega"], ".3f"),
            num(r["theta"], ".3f"),
            num(r["rho"], ".3f"),
            money(r["value"]),
        )
    console.print(legs)
    pos = Table(
        title="Positions ($ Greeks: condor / hedges / total; VIX legs mapped to SPX)",
        title_justify="left",
    )
    for col in (
        "position",
        "expiry",
        "credit",
        "debit",
        "mark",
        "P&L $",
        "$delta",
        "$gamma",
        "$vega",
        "$theta",
    ):
        pos.add_column(col, justify="left" if col == "position" else "right")
    for p in data["positions"]:
        g = p["greeks"]

        def three(name, g=g):
            return " / ".join(money(g[part][name]) for part in ("condor", "hedges", "total"))

        pos.add_row(
            p["id"],
            p["expiry"],
            num(p["credit"]),
            num(p["debit_to_close"]),
            f"{p['mark_multiple']:.2f}x",
            money(p["pnl"]),
            three("delta"),
            three("gamma"),
            three("vega"),
            three("theta"),
        )
    console.print(pos)


# ---------------------------------------------------------------- check


def check_json(result) -> dict:
    data = {"asof": result.asof, "regime": _regime(result.regime), "positions": result.positions}
    return data


def _regime(regime) -> dict:
    return {
        "elevated": regime.elevated,
        "active_signals": regime.active if regime.elevated is not None else None,
        "signals": [_signal(s) for s in regime.signals],
        "note": regime.note,
    }


def _signal(s) -> dict:
    return {
        "name": s.name,
        "active": s.active,
        "value": s.value,
        "threshold": s.threshold,
        "asof": s.asof.isoformat() if s.asof else None,
        "note": s.note,
    }


def emit_check(result, fmt: str) -> None:
    if fmt == "json":
        return _json(check_json(result))
    if fmt == "csv":
        rows = []
        for p in result.positions:
            base = {k: v for k, v in p.items() if k != "recommendations"}
            for r in p["recommendations"]:
                rows.append({**base, **{f"rec.{k}": v for k, v in r.items()}})
        return _csv(rows)
    console = _console()
    print_check(console, result)


def print_check(console, result) -> None:
    from rich.table import Table

    regime = result.regime
    console.print(
        f"alvh check as of {result.asof} — regime: {regime.label} ({regime.note})", style="bold"
    )
    t = Table(title_justify="left")
    for col in (
        "position",
        "DTE",
        "credit",
        "debit",
        "mark",
        "side",
        "layer",
        "on",
        "$delta",
        "$vega",
        "$theta",
        "P&L $",
        "2x stop",
        "3x stop",
    ):
        t.add_column(
            col,
            justify="left" if col in ("position", "side", "2x stop", "3x stop", "on") else "right",
        )
    for p in result.positions:
        g = p["greeks"]
        mark = f"{p['mark_multiple']:.2f}x"
        style = "bold red" if p["layer"] >= 3 else "yellow" if p["layer"] >= 1 else ""
        t.add_row(
            p["id"],
            str(p["dte"]),
            num(p["credit"]),
            num(p["debit_to_close"]),
            mark,
            p["tested_side"],
            str(p["layer"]),
            ",".join(map(str, p["deployed_layers"])) or "-",
            money(g["delta"]),
            money(g["vega"]),
            money(g["theta"]),
            money(p["pnl"]),
            p["traditional"]["stop_2x"],
            p["traditional"]["stop_3x"],
            style=style,
        )
    console.print(t)
    print_recommendations(
        console, [(p["id"], rec) for p in result.positions for rec in p["recommendations"]]
    )


def print_recommendations(console, items) -> None:
    """The orders to place: ``items`` are (position id, recommendation dict) pairs."""
    from rich.table import Table

    right = ("qty", "limit", "cost $", "gain $", "cover")
    r = Table(title="Recommendations", title_justify="left")
    for col in ("position", "action", "instrument", "expiry", "strikes", *right, "reason"):
        r.add_column(col, justify="right" if col in right else "left", overflow="fold")
    for pid, rec in items:
        r.add_row(pid, rec["action"], *_rec_cells(rec))
    console.print(r)
    console.print(
        "limit: per spread or synthetic, in points (db pay, cr receive); * = model price (no "
        "quote). gain $: the hedge's net gain in the stress scenario; cover: the share of the "
        "condor's stress loss all hedges cover (b = budget-limited)."
    )


def _rec_cells(rec: dict) -> list[str]:
    action = rec["action"]
    reason = rec.get("reason", "")
    if action == "open_hedge":
        strikes = f"{rec['long_strike']:g}/{rec['short_strike']:g} C"
        limit = f"{rec['debit']:.2f} db" + ("*" if rec["price_source"] == "model" else "")
        cov = f"{rec['coverage']:.0%}" + (" b" if rec["budget_limited"] else "")
        return [
            f"VIX call spread L{rec['layer']}",
            rec["expiry"],
            strikes,
            str(rec["quantity"]),
            limit,
            money(rec["cost"]),
            money(rec["stress_gain"]),
            cov,
            reason,
        ]
    if action == "convert":
        legs = ", ".join(
            f"{'buy' if q > 0 else 'sell'} {abs(q)} {t}"
            for t in ("put", "call")
            for leg in rec["legs"]
            if leg["type"] == t
            for q in [leg["quantity"]]
        )
        limit = f"{rec['debit']:.2f} " + ("db" if rec["debit"] >= 0 else "cr")
        extra = (
            f"; delta {money(rec['delta_before'])} → {money(rec['delta_after'])} $/pt; "
            f"EV {money(rec['ev_before'])} → {money(rec['ev_after'])} $, "
            f"sd {money(rec['sd_before'])} → {money(rec['sd_after'])} $; parity edge "
            + (f"{rec['parity_edge']:.2f}" if rec["parity_edge"] is not None else "n/a (no quotes)")
        )
        return [
            f"{rec['instrument']} {rec['root']} ({legs})",
            rec["expiry"],
            f"{rec['strike']:g}",
            str(rec["quantity"]),
            limit + ("*" if rec["price_source"] == "model" else ""),
            money(rec["cost"]),
            "",
            "",
            reason + extra,
        ]
    if action in ("close_hedge", "take_profit"):
        price = rec.get("credit", rec.get("debit"))
        label = "cr" if action == "close_hedge" else "db"
        return [
            rec["instrument"],
            rec.get("expiry", ""),
            "",
            str(rec.get("quantity", "")),
            f"{price:.2f} {label}" + ("*" if rec["price_source"] == "model" else ""),
            money(rec["cost"]),
            "",
            "",
            reason,
        ]
    return ["", "", "", "", "", "", "", "", reason]


# ---------------------------------------------------------------- size-hedge


def size_hedge_json(data: dict) -> dict:
    items = []
    for item in data["items"]:
        pv, sc, s = item["position"], item["scenario"], item["sizing"]
        items.append(
            {
                "id": pv.position.id,
                "source": pv.position.source,
                "mark_multiple": pv.mark_multiple,
                "tested_side": item["side"],
                "scenario": {
                    "how": sc.how,
                    "spx": sc.spx,
                    "spx_stressed": sc.spx_stressed,
                    "spx_move": sc.spx_move,
                    "vix": sc.vix,
                    "vix_stressed": sc.vix_stressed,
                    "vix_expiry": s.vix_expiry.isoformat(),
                    "future": s.future,
                    "future_stressed": s.future_stressed,
                    "spx_atm_vol": pv.loaded.market.spx_vol.atm,
                    "spx_atm_vol_stressed": sc.market.spx_vol.atm,
                },
                "layer": s.layer,
                "coverage_target": s.coverage_target,
                "stress_loss": s.stress_loss,
                "existing_gain": s.existing_gain,
                "needed_gain": s.needed_gain,
                "budget": s.budget,
                "budget_spent": s.budget_spent,
                "candidates": [_cand(c) for c in s.candidates[:5]],
                "choice": _cand(s.choice) if s.choice else None,
                "quantity": s.quantity,
                "cost": s.cost,
                "stress_gain": s.stress_gain,
                "coverage": s.coverage,
                "budget_limited": s.budget_limited,
                "note": s.note,
            }
        )
    return {"positions": items}


def _key(cand: dict) -> tuple:
    return cand["expiry"], cand["long_strike"], cand["short_strike"]


def _cand(c) -> dict:
    return {
        "expiry": c.expiry.isoformat(),
        "long_strike": c.long_strike,
        "short_strike": c.short_strike,
        "debit": c.debit,
        "price_source": c.debit_source,
        "stressed_value": c.stressed_value,
        "stress_gain": c.gain,
        "gain_per_dollar": c.gain_per_dollar,
        "count_needed": c.count_needed,
    }


def emit_size_hedge(data: dict, fmt: str) -> None:
    out = size_hedge_json(data)
    if fmt == "json":
        return _json(out)
    if fmt == "csv":
        return _csv(
            [
                {"id": p["id"], "rank": i + 1, **c}
                for p in out["positions"]
                for i, c in enumerate(p["candidates"])
            ]
        )
    from rich.table import Table

    console = _console()
    for p in out["positions"]:
        sc = p["scenario"]
        console.print(
            f"{p['id']} ({p['source']}): mark {p['mark_multiple']:.2f}x, "
            f"{p['tested_side']} side tested — layer {p['layer']} sizing",
            style="bold",
        )
        s = Table(title="Stress scenario", title_justify="left")
        for col in ("", "now", "stressed"):
            s.add_column(col, justify="left" if not col else "right")
        s.add_row("SPX", f"{sc['spx']:,.2f}", f"{sc['spx_stressed']:,.2f} ({sc['spx_move']:+.2%})")
        s.add_row("VIX", f"{sc['vix']:.2f}", f"{sc['vix_stressed']:.2f}")
        s.add_row(
            f"VIX future {sc['vix_expiry']}", f"{sc['future']:.2f}", f"{sc['future_stressed']:.2f}"
        )
        s.add_row("SPX ATM vol", f"{sc['spx_atm_vol']:.2%}", f"{sc['spx_atm_vol_stressed']:.2%}")
        console.print(s)
        console.print(
            f"{sc['how']}. "
            + (
                f"Condor stress loss ${money(p['stress_loss'])}"
                if p["stress_loss"] > 0
                else f"The condor gains ${money(-p['stress_loss'])} in this stress"
            )
            + "; hedges on gain "
            f"${money(p['existing_gain'])}; target {p['coverage_target']:.0%} → need "
            f"${money(p['needed_gain'])} more. Budget ${money(p['budget'])}, spent "
            f"${money(p['budget_spent'])}."
        )
        c = Table(
            title="Top candidate VIX call spreads (by gain per $, among near-equals fewest "
            "contracts; the choice in bold)",
            title_justify="left",
        )
        for col in ("spread", "debit", "src", "stressed value", "gain $/spread", "gain/$", "count"):
            c.add_column(col, justify="left" if col in ("spread", "src") else "right")
        shown = list(p["candidates"])
        if p["choice"] and all(_key(x) != _key(p["choice"]) for x in shown):
            shown.append(p["choice"])  # bought within the budget, ranked lower
        for cand in shown:
            mine = p["choice"] is not None and _key(cand) == _key(p["choice"])
            c.add_row(
                f"{cand['long_strike']:g}/{cand['short_strike']:g} C {cand['expiry']}",
                f"{cand['debit']:.2f}",
                cand["price_source"],
                f"{cand['stressed_value']:.2f}",
                money(cand["stress_gain"]),
                f"{cand['gain_per_dollar']:.2f}",
                str(cand["count_needed"]),
                style="bold" if mine else "",
            )
        console.print(c)
        if p["choice"]:
            ch = p["choice"]
            console.print(
                f"Choice: buy {p['quantity']} × VIX {ch['long_strike']:g}/"
                f"{ch['short_strike']:g} call spread {ch['expiry']} at {ch['debit']:.2f} "
                f"(${money(p['cost'])}); stress gain ${money(p['stress_gain'])}; coverage "
                f"{p['coverage']:.0%}" + (" — budget-limited" if p["budget_limited"] else ""),
                style="bold",
            )
        if p["note"]:
            console.print(p["note"])
        console.print()


# ---------------------------------------------------------------- rules


def emit_rules(rules, fmt: str) -> None:
    from alvh_cli.method.rules import effective_table

    rows = effective_table(rules)
    if fmt == "json":
        return _json({r["key"]: {k: v for k, v in r.items() if k != "key"} for r in rows})
    if fmt == "csv":
        return _csv(rows)
    from rich.table import Table

    t = Table(title="Effective rules", title_justify="left")
    for col in ("key", "value", "default", "source", "meaning"):
        t.add_column(col, justify="right" if col in ("value", "default") else "left")
    for r in rows:
        t.add_row(
            r["key"],
            "unset" if r["value"] is None else f"{r['value']:g}",
            "unset" if r["default"] is None else f"{r['default']:g}",
            r["source"],
            r["help"],
        )
    _console().print(t)


# ---------------------------------------------------------------- signals, calibrate


def signals_json(rep) -> dict:
    return {
        "history_asof": rep.history_asof.isoformat() if rep.history_asof else None,
        "elevated": rep.elevated,
        "active_signals": rep.active_count,
        "signals": [_signal(s) for s in rep.signals],
        "notes": list(rep.notes),
    }


def emit_signals(rep, fmt: str) -> None:
    data = signals_json(rep)
    if fmt == "json":
        return _json(data)
    if fmt == "csv":
        return _csv(data["signals"])
    from rich.table import Table

    t = Table(title=f"Signals (history to {rep.history_label})", title_justify="left")
    for col in ("signal", "value", "threshold", "state", "as of", "note"):
        t.add_column(col, justify="right" if col == "value" else "left", overflow="fold")
    for s in data["signals"]:
        state = {True: "ACTIVE", False: "quiet", None: "unavailable"}[s["active"]]
        value = s["value"]
        shown = (
            f"{value:.4g}" if isinstance(value, float) else ("" if value is None else str(value))
        )
        t.add_row(
            s["name"],
            shown,
            s["threshold"],
            state,
            s["asof"] or "",
            s["note"] or "",
            style="bold" if s["active"] else "",
        )
    console = _console()
    console.print(t)
    regime = "unavailable" if rep.elevated is None else "ELEVATED" if rep.elevated else "normal"
    console.print(f"Regime: {regime} ({rep.active_count} active)")
    for note in rep.notes:
        console.print(note)


def emit_calibration(data: dict, fmt: str) -> None:
    if fmt == "json":
        return _json(data)
    rows = []
    for name in ("all_days", "down_days"):
        fit = data["vix_beta"][name]
        rows.append({"estimate": f"vix_beta ({name.replace('_', ' ')})", **_fit(fit, "beta")})
    kappa = data["vix_term_kappa"]
    rows.append({"estimate": "vix_term_kappa", **_fit(kappa, "value")})
    if fmt == "csv":
        return _csv(rows)
    from rich.table import Table

    h = data["history"]
    t = Table(
        title=f"Calibration from {data['source']} ({h['first']} to {h['last']}, {h['rows']} rows)",
        title_justify="left",
    )
    for col in ("estimate", "value", "n", "R²", "std err", "note"):
        t.add_column(col, justify="left" if col in ("estimate", "note") else "right")
    for r in rows:
        t.add_row(
            r["estimate"],
            num(r["value"], ".3f"),
            str(r["n"] or ""),
            num(r["r2"], ".3f"),
            num(r["stderr"], ".3f"),
            r["note"] or "",
        )
    console = _console()
    console.print(t)
    console.print("Paste into [rules]:", markup=False)
    console.print(data["rules_snippet"], markup=False, highlight=False)


def _fit(fit: dict, key: str) -> dict:
    return {
        "value": fit.get(key),
        "n": fit.get("n"),
        "r2": fit.get("r2"),
        "stderr": fit.get("stderr"),
        "note": fit.get("note"),
    }
