"""Calibration of the scenario model from a daily history.

``calibrate`` estimates ``vix_beta`` and ``vix_term_kappa``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from alvh_cli.errors import InputError

MIN_CHANGES = 20  # daily changes needed before a regression is reported
KAPPA_BOUNDS = (0.0, 50.0)


def _ols(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Slope of y (log VIX changes) on x (log SPX changes) with an intercept.

    ``beta``, its standard error, R² and n; all None (with a ``note`` saying
    why) when the regression is undefined: fewer than ``MIN_CHANGES``
    changes, or x or y constant.
    """
    n = len(x)
    undefined = {"beta": None, "n": n, "r2": None, "stderr": None}
    if n < MIN_CHANGES:
        return {**undefined, "note": f"needs {MIN_CHANGES} changes, have {n}"}
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    sst = float(((y - ym) ** 2).sum())
    if sxx == 0:
        return {**undefined, "note": "SPX never changed"}
    if sst == 0:
        return {**undefined, "note": "VIX never changed"}
    beta = float(((x - xm) * (y - ym)).sum() / sxx)
    resid = y - ym - beta * (x - xm)
    ssr = float((resid**2).sum())
    return {
        "beta": beta,
        "n": n,
        "r2": 1.0 - ssr / sst,
        "stderr": math.sqrt(ssr / (n - 2) / sxx),
        "note": "",
    }


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def calibrate(history: pd.DataFrame, *, source: str) -> dict[str, Any]:
    """Estimate the stress scenario's ``vix_beta`` and ``vix_term_kappa`` from history.

    ``vix_beta``: OLS slope (with intercept) of daily log VIX changes on daily
    log SPX changes between consecutive rows, over all days and over down
    days only (SPX change < 0); each with n, R² and the slope's standard
    error. The snippet uses the all-days slope, the definition of the -4.9
    default.

    ``vix_term_kappa``: where ``vx1`` and ``vx1_dte`` exist, least squares of
    ΔF_t = e^(−κ·τ_t)·ΔVIX_t over κ in [0, 50], with ΔF the front future's
    daily change, ΔVIX the spot change and τ_t = vx1_dte_t / 365. Roll days
    (``vx1_dte`` rising, so ΔF mixes two contracts) are left out.

    An estimate that cannot be made (too few changes, a constant column) is
    None with a note, and left out of the snippet. When neither can be made
    ``InputError`` (``source``, key ``spx`` or ``vix``) says why.

    Returns plain data ready to print: ``source``, ``history`` (first, last,
    rows), ``vix_beta``, ``vix_term_kappa`` and ``rules_snippet`` (TOML).
    """
    h = history.sort_index()
    pair = h[["spx", "vix"]].dropna() if {"spx", "vix"} <= set(h.columns) else h.iloc[:0]
    x = np.log(pair["spx"].to_numpy(dtype=float))
    y = np.log(pair["vix"].to_numpy(dtype=float))
    x, y = np.diff(x), np.diff(y)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    every, down = _ols(x, y), _ols(x[x < 0], y[x < 0])
    kappa_fit = _kappa(h)
    if every["beta"] is None and kappa_fit["value"] is None:
        raise _nothing_to_calibrate(pair, len(x), source)
    out: dict[str, Any] = {
        "source": source,
        "history": {
            "first": h.index[0].date().isoformat(),
            "last": h.index[-1].date().isoformat(),
            "rows": len(h),
        },
        "vix_beta": {
            "value": every["beta"],
            "all_days": every,
            "down_days": down,
            "note": every["note"] or "log VIX change per log SPX change, consecutive rows",
        },
        "vix_term_kappa": kappa_fit,
    }

    lines = ["[rules]"]
    beta = every["beta"]
    if beta is not None and -20 <= beta <= 0:
        lines.append(
            f"vix_beta = {beta:.2f}  # all days n={every['n']}, R2={_fmt(every['r2'])};"
            f" down days {_fmt(down['beta'])}"
        )
    elif beta is not None:
        lines.append(
            f"# vix_beta estimate {beta:.2f} is outside the rule's range [-20, 0]; not suggested"
        )
    else:
        lines.append(f"# vix_beta: no estimate ({every['note']})")
    kappa = kappa_fit["value"]
    if kappa is not None:
        lines.append(
            f"vix_term_kappa = {kappa:.2f}  # n={kappa_fit['n']}, R2={_fmt(kappa_fit['r2'])}"
        )
    out["rules_snippet"] = "\n".join(lines) + "\n"
    return out


def _nothing_to_calibrate(pair: pd.DataFrame, changes: int, source: str) -> InputError:
    rows = len(pair)
    if changes < MIN_CHANGES:
        return InputError(
            f"need at least {MIN_CHANGES + 1} daily rows to calibrate, the history has {rows}",
            source,
            "spx",
        )
    for col in ("spx", "vix"):
        if pair[col].nunique() == 1:
            return InputError(
                f"{col} is {pair[col].iloc[0]:g} on every one of the {rows} rows: "
                "nothing to calibrate from",
                source,
                col,
            )
    return InputError("no estimate possible from this history", source, "spx")  # pragma: no cover


def _kappa(h: pd.DataFrame) -> dict[str, Any]:
    if "vx1" not in h.columns or "vx1_dte" not in h.columns:
        have = "vx1" in h.columns
        return {
            "value": None,
            "n": 0,
            "r2": None,
            "note": "history has no vx1_dte column"
            if have
            else "history has no futures columns (vx1, vx1_dte)",
        }
    d = h[["vix", "vx1", "vx1_dte"]].dropna()
    dv = d["vix"].diff().to_numpy()[1:]
    df = d["vx1"].diff().to_numpy()[1:]
    dte = d["vx1_dte"].to_numpy()
    roll = dte[1:] > dte[:-1]
    tau = dte[1:] / 365.0
    keep = ~roll & np.isfinite(dv) & np.isfinite(df)
    dv, df, tau = dv[keep], df[keep], tau[keep]
    n = len(dv)
    if n < MIN_CHANGES:
        return {
            "value": None,
            "n": n,
            "r2": None,
            "note": f"needs {MIN_CHANGES} non-roll changes, have {n}",
        }
    if not np.any(dv != 0):
        return {"value": None, "n": n, "r2": None, "note": "VIX never changed"}
    if not np.any(df != df[0]):
        why = "vx1 never changed" if df[0] == 0 else "vx1 changed by the same amount every day"
        return {"value": None, "n": n, "r2": None, "note": why}

    from scipy.optimize import minimize_scalar

    def ssr(kappa: float) -> float:
        return float(((df - np.exp(-kappa * tau) * dv) ** 2).sum())

    res = minimize_scalar(ssr, bounds=KAPPA_BOUNDS, method="bounded", options={"xatol": 1e-6})
    kappa = float(res.x)
    sst = float(((df - df.mean()) ** 2).sum())  # > 0: df varies
    note = "front future change = exp(-kappa*tau) x spot VIX change; roll days left out"
    if kappa > KAPPA_BOUNDS[1] - 1e-3 or kappa < KAPPA_BOUNDS[0] + 1e-3:
        note += f"; estimate at the search bound {kappa:.2f}"
    return {
        "value": kappa,
        "n": n,
        "r2": 1.0 - ssr(kappa) / sst,
        "note": note,
    }
