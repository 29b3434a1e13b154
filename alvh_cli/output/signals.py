"""Output of ``alvh signals`` and ``alvh calibrate``."""

from __future__ import annotations

import sys

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
    from alvh_cli.output.layout import Column, Grid

    grid = Grid(
        [Column("signal", "left"), Column("value"), Column("threshold", "left"),
         Column("state", "left"), Column("as of", "left"), Column("note", "left", wrap=True)],
        title=f"Signals (history to {rep.history_label})",
    )  # fmt: skip
    for s in data["signals"]:
        state = {True: "ACTIVE", False: "quiet", None: "unavailable"}[s["active"]]
        value = s["value"]
        shown = (
            f"{value:.4g}" if isinstance(value, float) else ("" if value is None else str(value))
        )
        grid.add(
            s["name"],
            shown,
            s["threshold"],
            state,
            s["asof"] or "",
            s["note"] or "",
            style="bold" if s["active"] else "",
        )
    regime = "unavailable" if rep.elevated is None else "ELEVATED" if rep.elevated else "normal"
    common.print_table(grid, [f"Regime: {regime} ({rep.active_count} active)", *rep.notes])


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
    from alvh_cli.output.layout import Column, Grid

    h = data["history"]
    grid = Grid(
        [Column("estimate", "left"), Column("value"), Column("n"), Column("R²"),
         Column("std err"), Column("note", "left", wrap=True)],
        title=f"Calibration from {data['source']} ({h['first']} to {h['last']}, {h['rows']} rows)",
    )  # fmt: skip
    for r in rows:
        grid.add(
            r["estimate"],
            num(r["value"], ".3f"),
            str(r["n"] or ""),
            num(r["r2"], ".3f"),
            num(r["stderr"], ".3f"),
            r["note"] or "",
        )
    common.print_table(grid, ["Paste into [rules]:"])
    sys.stdout.write(data["rules_snippet"].rstrip("\n") + "\n")


def _fit(fit: dict, key: str) -> dict:
    return {
        "value": fit.get(key),
        "n": fit.get("n"),
        "r2": fit.get("r2"),
        "stderr": fit.get("stderr"),
        "note": fit.get("note"),
    }
