"""Output of ``alvh signals`` and ``alvh calibrate``."""

from __future__ import annotations

from alvh_cli.output import common
from alvh_cli.output.common import num


def signals_json(rep) -> dict:
    return {
        "history_asof": rep.history_asof.isoformat() if rep.history_asof else None,
        "elevated": rep.elevated,
        "active_signals": rep.active_count,
        "signals": [common.signal_json(s) for s in rep.signals],
        "notes": list(rep.notes),
    }


def emit_signals(rep, fmt: str) -> None:
    data = signals_json(rep)
    if fmt == "json":
        return common.emit_json(data)
    if fmt == "csv":
        return common.emit_csv(data["signals"])
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
    console = common.console()
    console.print(t)
    regime = "unavailable" if rep.elevated is None else "ELEVATED" if rep.elevated else "normal"
    console.print(f"Regime: {regime} ({rep.active_count} active)")
    for note in rep.notes:
        console.print(note)


def emit_calibration(data: dict, fmt: str) -> None:
    if fmt == "json":
        return common.emit_json(data)
    rows = []
    for name in ("all_days", "down_days"):
        fit = data["vix_beta"][name]
        rows.append({"estimate": f"vix_beta ({name.replace('_', ' ')})", **_fit(fit, "beta")})
    kappa = data["vix_term_kappa"]
    rows.append({"estimate": "vix_term_kappa", **_fit(kappa, "value")})
    if fmt == "csv":
        return common.emit_csv(rows)
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
    console = common.console()
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
