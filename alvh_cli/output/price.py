"""Output of ``alvh price``: each leg's price, vol and Greeks; each mark."""

from __future__ import annotations

from alvh_cli.output import common, layout
from alvh_cli.output.common import Dollars, money, num
from alvh_cli.output.layout import Column, Grid, Out
from alvh_cli.output.records import marks_json, price_json

LEG_DOLLARS = ("value", "dollar_delta", "dollar_gamma", "dollar_vega", "dollar_theta")


def in_dollars(data: dict) -> dict:
    """``records.price_json``'s plain dicts with their dollar figures as ``Dollars``: each
    leg's ``value`` and ``dollar_*`` Greeks, each position's ``pnl`` and ``greeks``.

    The dicts are changed in place rather than copied (a copy of 50,000 leg dicts is
    ~30 MiB); lazy legs (an iterator) are wrapped as they are read.
    """

    def leg(r: dict) -> dict:
        for k in LEG_DOLLARS:
            r[k] = Dollars(r[k])
        return r

    for p in data["positions"]:
        p["pnl"] = Dollars(p["pnl"])
        p["greeks"] = {
            part: {n: Dollars(v) for n, v in greeks.items()} for part, greeks in p["greeks"].items()
        }
    legs = data["legs"]
    data["legs"] = [leg(r) for r in legs] if isinstance(legs, list) else map(leg, legs)
    return data


def emit_price(values, fmt: str, warnings=(), marks=(), errors=()) -> None:
    """The valued positions (``PositionValues``) in ``fmt``; ``warnings`` (InputWarnings)
    and ``errors`` (the InputErrors of files not valued) join the JSON, the caller prints
    them on stderr; ``marks`` ((file, ``MarkUse``)) say which broker marks priced their
    legs. JSON streams the leg rows as they are built (a big book's rows need not all be
    held)."""
    data = in_dollars(price_json(values, lazy=fmt == "json"))
    if fmt == "json":
        return common.emit_json(
            {
                **data,
                "marks": marks_json(marks),
                "warnings": [common.problem_json(w) for w in warnings],
                "errors": [common.problem_json(e) for e in errors],
            }
        )
    if fmt == "csv":
        return common.emit_csv(data["legs"])
    if not values and errors:
        return  # no file valued: the errors alone, on stderr
    print_price(common.layout_console(), data, common.marks_lines(marks))


LEG_COLUMNS = (
    *("position", "leg", "und", "root", "type", "strike", "expiry", "DTE", "qty", "vol"),
    *("src", "price", "delta", "gamma", "vega", "theta", "rho", "value $"),
)


def leg_cells(r: dict) -> dict[str, str]:
    return {
        "position": r["position"],
        "leg": r["leg"].split(".")[-1],
        "und": r["underlying"],
        "root": r["root"],
        "type": r["type"],
        "strike": num(r["strike"], "g"),
        "expiry": r["expiry"],
        "DTE": str(r["dte"]),
        "qty": str(r["quantity"]),
        "vol": num(r["vol"] * 100 if r["vol"] is not None else None, ".1f"),
        "src": r["vol_source"],
        "price": num(r["price"]),
        "delta": num(r["delta"], ".3f"),
        "gamma": num(r["gamma"], ".5f"),
        "vega": num(r["vega"], ".3f"),
        "theta": num(r["theta"], ".3f"),
        "rho": num(r["rho"], ".3f"),
        "value $": money(r["value"]),
    }


def legs_grid(data: dict) -> Grid:
    left = ("position", "leg", "und", "root", "type", "src")
    grid = Grid(
        [Column(c, "left" if c in left else "right") for c in LEG_COLUMNS],
        title="Legs, per unit (delta /pt, gamma /pt², vega /vol pt, theta /day, rho /1% rate)",
    )
    for r in data["legs"]:
        cells = leg_cells(r)
        grid.add(*(cells[c] for c in LEG_COLUMNS))
    return grid


def _three(g: dict, name: str) -> str:
    return " / ".join(money(g[part][name]) for part in ("condor", "hedges", "total"))


def positions_grid(data: dict) -> Grid:
    cols = ("position", "expiry", "credit", "debit", "mark", "P&L $", "$delta", "$gamma",
            "$vega", "$theta")  # fmt: skip
    grid = Grid(
        [Column(c, "left" if c == "position" else "right") for c in cols],
        title="Positions ($ Greeks: condor / hedges / total; VIX legs mapped to SPX)",
    )
    for p in data["positions"]:
        g = p["greeks"]
        grid.add(
            p["id"],
            p["expiry"],
            num(p["credit"]),
            num(p["debit_to_close"]),
            f"{p['mark_multiple']:.2f}x",
            money(p["pnl"]),
            _three(g, "delta"),
            _three(g, "gamma"),
            _three(g, "vega"),
            _three(g, "theta"),
        )
    return grid


SURFACE_NOTE = (
    "forward: parity forward at the market's SPX; rate: -ln(discount)/T; arb-free: the "
    "butterfly check (Durrleman g >= 0) on the fitted range."
)


def surface_grid(surface: dict) -> Grid:
    columns = ("expiry", "root", "DTE", "forward", "discount", "rate", "RMS", "quotes", "arb-free")
    grid = Grid(
        [Column(c, "left" if c in ("expiry", "root", "arb-free") else "right") for c in columns],
        title=f"SPX surface from {surface['source']} (SVI per expiry; RMS in vol points)",
    )
    for e in surface["expiries"]:
        cells = surface_cells(e)
        grid.add(*(cells[c] for c in columns))
    return grid


def surface_cells(e: dict) -> dict[str, str]:
    free = e["butterfly_free"]
    return {
        "expiry": e["expiry"],
        "root": e["root"],
        "DTE": str(e["dte"]),
        "forward": num(e["forward"]),
        "discount": num(e["discount"], ".5f"),
        "rate": num(e["rate"] * 100, ".2f") + "%",
        "RMS": num(e["rms"], ".3f"),
        "quotes": "-" if e["n_quotes"] is None else str(e["n_quotes"]),
        "arb-free": "-" if free is None else ("yes" if free else "NO"),
    }


def print_surface(out: Out, surface: dict) -> None:
    if not out.layout.compact:
        out.grid(surface_grid(surface))
    else:
        out.line(
            f"SPX surface from {surface['source']} (SVI per expiry; RMS in vol points)",
            style="bold",
        )
        for e in surface["expiries"]:
            c = surface_cells(e)
            out.fields(
                [
                    f"{c['expiry']} {c['root']}",
                    f"DTE {c['DTE']}",
                    f"forward {c['forward']}",
                    f"discount {c['discount']}",
                    f"rate {c['rate']}",
                    f"RMS {c['RMS']}",
                    f"quotes {c['quotes']}",
                    f"arb-free {c['arb-free']}",
                ],
                indent=2,
                sep=",",
            )
    out.line(SURFACE_NOTE)
    for u in surface["unfitted"]:
        out.line(f"not fitted: {u['root']} {u['expiry']}: {u['reason']}")


def print_price(console, data: dict, marks: list[str] = ()) -> None:
    """``marks``: the lines saying which broker marks priced their legs (``common.marks_lines``)."""
    surfaces = data.get("surface", [])
    grids = [legs_grid(data), positions_grid(data), *(surface_grid(s) for s in surfaces)]
    out = Out(console, layout.choose(console, len(data["positions"]), grids))
    out.line(f"alvh price as of {data['asof']}", style="bold")
    for line in marks:
        out.line(line)
    if not out.layout.compact:
        out.grid(grids[0])
        out.grid(grids[1])
        for surface in surfaces:
            print_surface(out, surface)
        out.flush()
        return
    legs: dict[tuple, list[dict]] = {}
    for r in data["legs"]:
        legs.setdefault((r["source"], r["position"]), []).append(r)
    out.line(
        "Per unit: price in points, delta per point, gamma per point², vega per vol point, "
        "theta per day, rho per 1% of rate. $ Greeks: condor / hedges / total, VIX legs "
        "mapped to SPX."
    )
    for p in data["positions"]:
        g = p["greeks"]
        out.line(f"{p['id']} ({p['source']}), expiry {p['expiry']}", style="bold")
        out.fields(
            [
                f"credit {num(p['credit'])}",
                f"debit {num(p['debit_to_close'])}",
                f"mark {p['mark_multiple']:.2f}x",
                f"P&L $ {money(p['pnl'])}",
            ],
            indent=2,
        )
        out.fields([f"{name} {_three(g, name[1:])}" for name in GREEK_LABELS], indent=2)
        for r in legs.get((p["source"], p["id"]), []):
            c = leg_cells(r)
            out.fields(
                [
                    f"{c['leg']}: {c['qty']} {c['root']} {c['type']} {c['strike']} {c['expiry']}",
                    f"DTE {c['DTE']}",
                    f"vol {c['vol']}% ({c['src']})" if r["vol"] is not None else "no vol",
                    f"price {c['price']}",
                    f"value $ {c['value $']}",
                ],
                indent=2,
                sep=",",
            )
            out.fields(
                [f"{name} {c[name]}" for name in ("delta", "gamma", "vega", "theta", "rho")],
                indent=6,
                sep=",",
            )
    for surface in surfaces:
        print_surface(out, surface)
    out.flush()


GREEK_LABELS = ("$delta", "$gamma", "$vega", "$theta")
