"""Output of ``alvh apply``: what was traded, at what price against the limit, and where it
was written."""

from __future__ import annotations

from alvh_cli.output import common
from alvh_cli.output.common import Dollars, money


def apply_json(run) -> dict:
    o = run.order
    return {
        "file": run.file,
        "position": run.before.id,
        "action": run.action,
        "fill": run.fill,
        "limit": None if o is None else o.limit,
        "price_effect": None if o is None else o.price_effect,
        "quantity": None if o is None else o.quantity,
        "slippage": run.slippage,
        "slippage_dollars": None if run.slippage_dollars is None else Dollars(run.slippage_dollars),
        "realised": Dollars(run.realised),
        "realised_total": Dollars(run.after.realised()),
        "legs": [
            {
                "action": t.action,
                "quantity": abs(t.quantity),
                "root": t.root,
                "type": t.type,
                "strike": t.strike,
                "expiry": t.expiry.isoformat(),
                "price": t.price,
            }
            for t in run.trades
        ],  # fmt: skip
        "revision": run.after.revision,
        "backup": run.backup,
        "journal": {"path": run.journal_path, "execution_id": run.execution_id},
    }


def emit_apply(run, fmt: str) -> None:
    if fmt == "json":
        return common.emit_json(apply_json(run))
    lines = [_head(run)]
    for t in run.trades:
        strike = "" if t.strike is None else f" {t.strike:g}{t.type[0].upper()}"
        lines.append(
            f"  {t.action} {abs(t.quantity):g} {t.root} {t.expiry:%d%b%y}{strike} at {t.price:.4g}"
        )
    lines.append(
        f"realised by this fill $ {money(run.realised)}; position realised $ "
        f"{money(run.after.realised())}; {len(run.after.legs)} leg"
        f"{'s' * (len(run.after.legs) != 1)} held"
    )
    lines.append(f"{run.file} written (the old file kept as {run.backup})")
    if run.execution_id is not None:
        lines.append(f"journal {run.journal_path}: execution #{run.execution_id}")
    else:
        lines.append("not journalled (--no-journal)")
    print("\n".join(lines))


def _head(run) -> str:
    o = run.order
    if o is None:
        return f"{run.before.id}: settled at expiry"
    way = "paid" if o.price_effect == "debit" else "received"
    worse = run.slippage > 0
    slip = (
        "at the limit"
        if abs(run.slippage) < 1e-9
        else f"{abs(run.slippage):.2f} {'worse' if worse else 'better'} than the limit "
        f"($ {money(abs(run.slippage_dollars))})"
    )
    return (
        f"{run.before.id}: {run.action}, {o.quantity} × {o.price_effect} {run.fill:.2f} {way} "
        f"(limit {o.limit:.2f}; {slip})"
    )
