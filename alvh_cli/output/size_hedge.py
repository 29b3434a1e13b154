"""Output of ``alvh size-hedge``: the stress scenario, candidate spreads, count and cost."""

from __future__ import annotations

from alvh_cli.output import common
from alvh_cli.output.common import money


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
        return common.emit_json(out)
    if fmt == "csv":
        return common.emit_csv(
            [
                {"id": p["id"], "rank": i + 1, **c}
                for p in out["positions"]
                for i, c in enumerate(p["candidates"])
            ]
        )
    from rich.table import Table

    console = common.console()
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
