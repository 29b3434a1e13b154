"""Output of ``alvh price``: each leg's price, vol and Greeks; each mark."""

from __future__ import annotations

from alvh_cli.output import common
from alvh_cli.output.common import Dollars, money, num

LEG_DOLLARS = ("value", "dollar_delta", "dollar_gamma", "dollar_vega", "dollar_theta")


def in_dollars(data: dict) -> dict:
    """``valuation.price_book``'s plain dicts with their dollar figures as ``Dollars``: each
    leg's ``value`` and ``dollar_*`` Greeks, each position's ``pnl`` and ``greeks``."""
    legs = [{**r, **{k: Dollars(r[k]) for k in LEG_DOLLARS}} for r in data["legs"]]
    positions = [
        {
            **p,
            "pnl": Dollars(p["pnl"]),
            "greeks": {
                part: {n: Dollars(v) for n, v in greeks.items()}
                for part, greeks in p["greeks"].items()
            },
        }
        for p in data["positions"]
    ]
    return {**data, "positions": positions, "legs": legs}


def emit_price(data: dict, fmt: str, warnings=()) -> None:
    """``warnings`` (InputWarnings) join the JSON; the caller prints them on stderr."""
    data = in_dollars(data)
    if fmt == "json":
        return common.emit_json({**data, "warnings": [common.problem_json(w) for w in warnings]})
    if fmt == "csv":
        return common.emit_csv(data["legs"])
    from rich.table import Table

    console = common.console()
    console.print(f"alvh price as of {data['asof']}", style="bold")
    legs = Table(
        title="Legs, per unit (delta /pt, gamma /pt², vega /vol pt, theta /day, rho /1% rate)",
        title_justify="left",
    )
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
    for surface in data.get("surface", []):
        _print_surface(console, surface)


def _print_surface(console, surface: dict) -> None:
    from rich.table import Table

    t = Table(
        title=f"SPX surface from {surface['source']} (SVI per expiry; RMS in vol points)",
        title_justify="left",
    )
    columns = ("expiry", "root", "DTE", "forward", "discount", "rate", "RMS", "quotes", "arb-free")
    for col in columns:
        t.add_column(col, justify="left" if col in ("expiry", "root", "arb-free") else "right")
    for e in surface["expiries"]:
        free = e["butterfly_free"]
        t.add_row(
            e["expiry"],
            e["root"],
            str(e["dte"]),
            num(e["forward"]),
            num(e["discount"], ".5f"),
            num(e["rate"] * 100, ".2f") + "%",
            num(e["rms"], ".3f"),
            "-" if e["n_quotes"] is None else str(e["n_quotes"]),
            "-" if free is None else ("yes" if free else "NO"),
        )
    console.print(t)
    console.print(
        "forward: parity forward at the market's SPX; rate: -ln(discount)/T; arb-free: the "
        "butterfly check (Durrleman g >= 0) on the fitted range."
    )
    for u in surface["unfitted"]:
        console.print(f"not fitted: {u['root']} {u['expiry']}: {u['reason']}")
