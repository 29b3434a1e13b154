"""``alvh apply``: a recommended order filled, written into the position file and the journal.

The order is one of the position's recommendations today (re-checked on the file), one of
a Layer 3 alternative's, or one read from a saved ``check --format json`` (refused when
the position changed since). The trader's net fill is spread over the legs
(:func:`alvh_cli.method.fills.allocate`), the legs are closed, split or added
(:func:`alvh_cli.method.fills.apply_trades`), the file is edited line by line
(:mod:`alvh_cli.output.position_file`), read back through the loader, kept as a numbered
backup and replaced atomically; the execution goes into the journal beside the review
whose recommendation it followed. Expired legs are closed at their settlement instead of
an order. Nothing is written when any check fails.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from alvh_cli import journal
from alvh_cli.errors import InputError
from alvh_cli.method.actions import Action
from alvh_cli.method.orders import Order, OrderLeg, Trade, orders_of
from alvh_cli.model.domain import Position

# A fill further from the order's assumed fill than this is a typo (39.30 for 3.93), not a
# market move: a quarter of the price, half a point, or five ticks, whichever is most.
PLAUSIBLE_SHARE = 0.25
PLAUSIBLE_POINTS = 0.50
PLAUSIBLE_TICKS = 5
# A check's JSON is some 15 KB a position: 100 MB is a book of thousands. A file larger
# is not a saved check, and is refused from its size before it is read.
MAX_CHECK_JSON_BYTES = 100 * 2**20


@dataclass(frozen=True)
class _Fill:
    """What is applied: the trades at their prices, the action and the order they come
    from (None for a settlement), the layer of the legs opened, the net fill per unit and
    its slippage against the limit (points, > 0 worse for the trader)."""

    trades: tuple[Trade, ...]
    action: str
    order: Order | None = None
    layer: int | None = None
    paid: float | None = None
    slippage: float | None = None

    @property
    def slippage_dollars(self) -> float | None:
        if self.order is None or self.slippage is None:
            return None
        return self.slippage * self.order.quantity * self.order.multiplier


@dataclass(frozen=True)
class ApplyRun:
    """A fill applied: the position ``before`` and ``after``, the ``trades`` at the prices
    filled (per contract), the ``order`` followed with the ``fill`` (net per unit) and its
    ``slippage`` against the limit (points per unit and dollars, > 0 worse for the
    trader), the dollars ``realised`` by the fill, the ``backup`` of the old file and the
    journal's execution id."""

    file: str
    action: str
    before: Position
    after: Position
    trades: tuple[Trade, ...]
    order: Order | None
    fill: float | None
    slippage: float | None
    slippage_dollars: float | None
    realised: float
    backup: str
    journal_path: str | None
    execution_id: int | None


def apply(
    file: Path | str,
    *,
    position: str,
    fill: float | None = None,
    order: int | None = None,
    alternative: str | None = None,
    from_json: Path | str | None = None,
    settle_spx: float | None = None,
    settle_vix: float | None = None,
    market: Path | str | None = None,
    rules: Path | str | None = None,
    history: Sequence[Path | str] | None = None,
    events: Sequence[Path | str] = (),
    chains: Sequence[Path | str] = (),
    now: datetime | None = None,
    journal_path: Path | str | None = None,
) -> ApplyRun:
    """Apply to ``position`` of ``file`` either an order at ``fill`` (points per unit, as
    its limit is written: ≥ 0, the direction is the order's), or its legs' settlement
    (``settle_spx``, ``settle_vix``: the settlement values of the legs expired by asof).

    ``order`` (1-based) picks among the position's orders today, ``alternative`` names a
    Layer 3 alternative to follow instead of the one chosen (its name in full, or the start of
    it), ``from_json`` reads the orders from a saved ``check --format json``. The other
    options are :func:`alvh_cli.app.check.check`'s; ``journal_path`` None records nothing.
    """
    from alvh_cli.inputs import book
    from alvh_cli.output.files import refuse_input

    if journal_path is not None:  # before the work: an input is never the journal
        refuse_input(journal_path, [file, *(f for f in (market, rules, from_json) if f),
                                    *(history or ()), *events, *chains])  # fmt: skip
    settling = settle_spx is not None or settle_vix is not None
    if settling and (fill is not None or order or alternative or from_json):
        raise InputError(
            "a settlement closes expired legs at their settlement value: give no fill or order",
            option="settle_spx",
        )
    if not settling and fill is None:
        raise InputError("the price filled is needed (per unit, as the limit)", option="fill")
    if (settling or from_json is not None) and (history or events):
        # never read: a file given and not looked at would pass however bad it is
        by = "a settlement" if settling else "{flag:from_json} (its orders were decided then)"
        raise InputError(
            f"not used with {by}: give it only when apply decides today's orders",
            option="history" if history else "events",
        )
    (lf,) = book.load_book(
        [file], market=market, rules=rules, now=now, chains=chains, allow_expired=settling
    )
    index, p = _position(lf, position)
    if settling:
        done = _Fill(tuple(_settlement(p, lf.market, settle_spx, settle_vix)), "settle")
    else:
        from alvh_cli.method.fills import allocate

        done_before = _done(journal_path, p, Path(file), lf.market.asof.date())
        action, chosen, layer = _order(
            lf, p, order, alternative, from_json, history, events, done_before
        )
        paid = _plausible(chosen, fill)
        slip = paid - chosen.limit if chosen.price_effect == "debit" else chosen.limit - paid
        done = _Fill(tuple(allocate(chosen, paid)), action, chosen, layer, paid, slip)
    return _write(Path(file), lf, index, p, done, journal_path)


def _position(lf, position: str) -> tuple[int, Position]:
    for index, p in enumerate(lf.file.positions):
        if p.id == position:
            return index, p
    ids = ", ".join(p.id for p in lf.file.positions)
    raise InputError(f"no position '{position}' (positions: {ids})", option="position")


def _settlement(p: Position, market, spx: float | None, vix: float | None) -> list[Trade]:
    """Closing trades at settlement for the legs expired by ``market.asof``."""
    from alvh_cli.method.fills import settlement_trades
    from alvh_cli.model.timing import settlement_timestamp

    now = market.asof.timestamp()
    expired = [g for g in p.legs if settlement_timestamp(g.root, g.expiry) <= now]
    trades = [
        t
        for t in settlement_trades(
            Position(p.id, tuple(expired), p.credit, units=p.units), spx, vix
        )  # fmt: skip
    ]
    if not trades:
        held = ", ".join(sorted({f"{g.root} {g.expiry}" for g in p.legs})) or "nothing"
        raise InputError(
            f"no leg of position '{p.id}' has settled by asof {market.asof:%Y-%m-%d %H:%M} "
            f"(held: {held}) — or its underlying's settlement was not given",
            option="settle_spx",
        )
    return trades


def _order(lf, p, order, alternative, from_json, history, events, done_before):
    """(action, the order to fill, the layer of the legs it opens). ``done_before``: the
    executions the journal holds for this position (id, run_at, Execution)."""
    if from_json is not None:
        if alternative is not None:
            raise InputError(
                "give an alternative or a check's JSON, not both", option="alternative"
            )
        choices = _orders_from_json(Path(from_json), p, done_before)
    else:
        choices = _orders_today(lf, p, alternative, history, events)
    if not choices:
        today = [f"#{i} {e.action}" for i, _, e in done_before if e.asof[:10] == _day(lf)]
        also = f"; already applied today: {', '.join(today)}" if today else ""
        raise InputError(
            f"nothing to apply: today's decision for '{p.id}' trades nothing (a hold){also}",
            option="position",
        )
    if order is None:
        if len(choices) > 1:
            listed = "; ".join(f"{k}: {c[0]} {c[1].underlying}" for k, c in
                               enumerate(choices, 1))  # fmt: skip
            raise InputError(
                f"'{p.id}' has {len(choices)} orders today ({listed}): choose one with "
                "{flag:order}",
                option="order",
            )
        order = 1
    if not 1 <= order <= len(choices):
        raise InputError(f"must be 1 to {len(choices)}, got {order}", option="order")
    return choices[order - 1]


def _orders_today(lf, p, alternative, history, events) -> list[tuple[str, Order, int | None]]:
    from alvh_cli.app.context import regime_context
    from alvh_cli.method.check import check_values
    from alvh_cli.model.valuation import value_book

    regimes, closes, _ = regime_context([lf], history, events)
    # the whole file, as check sees it: its positions due a hedge layer share one program
    values = value_book([lf])
    checked = check_values(values, regimes * len(values), history=closes).positions
    (pc,) = [c for c in checked if c.position.id == p.id]
    if alternative is None:
        return [
            (r.action.value, o, _layer_of(r.action, r.layer))
            for r in pc.recommendations
            for o in r.orders
        ]
    alts = [a for r in pc.recommendations for a in r.alternatives]
    wanted = alternative.strip().lower()
    # a name in full wins over the names it starts ("conversion 1" beside "conversion 10")
    found = [a for a in alts if a.name.lower() == wanted] or [
        a for a in alts if a.name.lower().startswith(wanted)
    ]
    if len(found) != 1:
        names = "; ".join(a.name for a in alts) or "none today (no Layer 3 decision)"
        why = "no alternative" if not found else f"{len(found)} alternatives"
        raise InputError(
            f"{why} of '{p.id}' starts with {alternative!r} (alternatives: {names})",
            option="alternative",
        )
    (alt,) = found
    return [(alt.action.value, o, _layer_of(alt.action, 3)) for o in orders_of(alt.trades, p.legs)]


def _layer_of(action: Action, layer: int | None) -> int | None:
    """The layer a recommendation's new legs carry: a hedge's own, 3 for Layer 3 trades."""
    if action in (Action.CONVERT, Action.ROLL):
        return layer or 3
    return layer if action == Action.OPEN_HEDGE else None


def _day(lf) -> str:
    return lf.market.asof.date().isoformat()


def _done(journal_path, p: Position, path: Path, day) -> list:
    """The journal's executions on this position (none without a journal)."""
    if journal_path is None:
        return []
    conn = journal.open_journal(journal_path, readonly=True)
    if conn is None:
        return []
    try:
        return journal.executions(conn, str(path.resolve()), p.id)
    except sqlite3.Error as exc:
        raise InputError(f"journal error: {exc}", str(journal_path)) from None
    finally:
        conn.close()


def _orders_from_json(path: Path, p: Position, done_before) -> list:
    from alvh_cli.inputs.files import read_limited
    from alvh_cli.inputs.toml_reader import os_error_message

    try:
        data = json.loads(read_limited(path, MAX_CHECK_JSON_BYTES, "a check's JSON").decode())
    except OSError as exc:
        raise InputError(os_error_message(exc, path), str(path)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not a check's JSON: {exc}", str(path)) from None
    except RecursionError:
        raise InputError("not a check's JSON: nested hundreds of levels deep", str(path)) from None
    if not isinstance(data, dict):
        raise InputError("not a check's JSON: expected an object with positions", str(path))
    positions = data.get("positions", ())
    if not isinstance(positions, list):
        raise InputError("not a check's JSON: 'positions' is not a list", str(path), "positions")
    rows = [(i, r) for i, r in enumerate(positions) if isinstance(r, dict) and r.get("id") == p.id]
    if not rows:
        raise InputError(f"no position '{p.id}' in this check's JSON", str(path))
    at, row = rows[0]
    if row.get("revision") != p.revision:
        for i, run_at, e in done_before:
            if e.revision_before == row.get("revision"):
                raise InputError(
                    f"already applied: execution #{i} ({e.action}, run {run_at}) followed "
                    f"this check's position '{p.id}'",
                    str(path),
                )
        raise InputError(
            f"position '{p.id}' has changed since this check (revision {row.get('revision')} "
            f"then, {p.revision} now): check it again",
            str(path),
        )
    out = []
    key = f"positions[{at}].recommendations"
    try:
        for j, rec in enumerate(row.get("recommendations", ())):
            key = f"positions[{at}].recommendations[{j}]"
            action = Action(rec["action"])
            for k, o in enumerate(rec.get("orders") or ()):
                key = f"positions[{at}].recommendations[{j}].orders[{k}]"
                out.append((action.value, _order_from_json(o), _layer_of(action, rec.get("layer"))))
    except KeyError as exc:
        raise InputError(f"not a check's JSON: no '{exc.args[0]}'", str(path), key) from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"not a check's JSON: {exc}", str(path), key) from None
    return out


def _order_from_json(o: dict) -> Order:
    legs = tuple(
        OrderLeg(
            g["action"],
            int(g["ratio"]),
            int(g["quantity"]),
            g.get("occ"),
            g["underlying"],
            g["root"],
            g["type"],
            g.get("strike"),
            date.fromisoformat(g["expiry"]),
            float(g["price"]),
            g.get("model"),
        )  # fmt: skip
        for g in o["legs"]
    )
    return Order(o["underlying"], legs, int(o["quantity"]), o["price_effect"], float(o["limit"]),
                 float(o["model_value"]), float(o["tick"]), o.get("note") or "",
                 o.get("fill_value"))  # fmt: skip


def _plausible(order: Order, fill: float) -> float:
    """``fill`` when it is a price this order could have filled at today, else InputError."""
    if not math.isfinite(fill) or fill < 0:
        raise InputError(
            f"must be a price >= 0 (points per unit, as the limit), got {fill!r}", option="fill"
        )
    base = order.fill_value if order.fill_value is not None else order.limit
    room = max(PLAUSIBLE_SHARE * base, PLAUSIBLE_POINTS, PLAUSIBLE_TICKS * order.tick)
    low, high = max(base - room, 0.0), base + room
    if not low <= fill <= high:
        raise InputError(
            f"{fill:g} is outside the day's plausible range for this order ({order.limit_text}, "
            f"assumed fill {base:.2f}): {low:.2f} to {high:.2f} — a typo?",
            option="fill",
        )
    return float(fill)


def _write(path: Path, lf, index: int, p: Position, done: _Fill, journal_path) -> ApplyRun:
    """The position after ``done``: the file edited, read back, backed up and replaced, and
    the execution journalled. Every check comes before the first write."""
    from alvh_cli.inputs.positions import load_text
    from alvh_cli.method.fills import NotHeld, apply_trades, signature
    from alvh_cli.output.files import backup_path, write_atomic
    from alvh_cli.output.position_file import NotEditable, edit_position

    day = lf.market.asof.date()
    sig = signature(done.trades)
    source_key = str(path.resolve())
    _refuse_repeat(journal_path, source_key, p, sig, day)
    try:
        after = apply_trades(p, done.trades, day, done.layer, lf.market.vix)
    except NotHeld as exc:
        raise InputError(
            f"already applied? position '{p.id}' no longer holds what the order closes: {exc}",
            str(path),
        ) from None
    old_text = path.read_text(encoding="utf-8-sig")
    try:
        new_text = edit_position(old_text, p, after, index, f"alvh apply {day}: {done.action}")
    except NotEditable as exc:
        raise InputError(f"cannot edit this file line by line: {exc}", str(path)) from None
    if load_text(new_text, str(path)).positions[index].revision != after.revision:
        raise InputError(
            "the edited file would not read back as the position after the fill; nothing written",
            str(path),
        )
    backup = backup_path(path)
    write_atomic(backup, lambda fh: fh.write(old_text))
    write_atomic(path, lambda fh: fh.write(new_text), edit=True)  # through a link
    realised = after.realised() - p.realised()
    execution = _execution(lf, path, source_key, p, done, sig, realised, new_text, index)
    execution_id = _record(journal_path, source_key, p, done, execution)
    return ApplyRun(
        str(path), done.action, p, after, done.trades, done.order, done.paid, done.slippage,
        done.slippage_dollars, realised, str(backup),
        None if journal_path is None else str(journal_path), execution_id,
    )  # fmt: skip


def _refuse_repeat(journal_path, source_key: str, p: Position, sig: str, day: date) -> None:
    """The same trades on the same position and day, already in the journal: applied."""
    if journal_path is None:
        return
    conn = journal.open_journal(journal_path, readonly=True)
    if conn is None:
        return
    try:
        for _, run_at, e in journal.executions(conn, source_key, p.id):
            if e.signature == sig and e.asof[:10] == day.isoformat():
                raise InputError(
                    f"already applied to position '{p.id}' (journal, run {run_at}): {sig}",
                    str(journal_path),
                )
    except sqlite3.Error as exc:
        raise InputError(f"journal error: {exc}", str(journal_path)) from None
    finally:
        conn.close()


def _execution(lf, path, source_key, p, done: _Fill, sig, realised, text, index):
    from alvh_cli.app.review import recorded_order

    return journal.Execution(
        asof=lf.market.asof.isoformat(),
        source=str(path),
        position_id=p.id,
        action=done.action,
        legs=tuple(
            journal.RecordedFill(
                t.underlying, t.root, t.type, t.strike, t.expiry, t.quantity, t.price, t.opening
            )  # fmt: skip
            for t in done.trades
        ),
        signature=sig,
        source_key=source_key,
        layer=done.layer,
        order=recorded_order(done.order) if done.order is not None else None,
        fill=done.paid,
        limit=done.order.limit if done.order is not None else None,
        slippage=done.slippage,
        slippage_dollars=done.slippage_dollars,
        realised=realised,
        position=_position_text(text, index),
        revision_before=p.revision,
    )


def _record(journal_path, source_key: str, p: Position, done: _Fill, execution) -> int | None:
    """The execution in the journal, beside the latest review's recommendation it followed
    (the review whose recommendation has an order on the same contracts)."""
    if journal_path is None:
        return None
    from dataclasses import replace

    conn = journal.open_journal(journal_path)
    try:
        latest = journal.latest_decision(conn, source_key, p.id)
        if latest is not None and done.order is not None:
            mine = {g.occ for g in done.order.legs}
            for rec in latest[1].recommendations:
                if any({g.occ for g in o.legs} == mine for o in rec.orders):
                    execution = replace(execution, review_id=latest[0])
        return journal.record_execution(conn, execution)
    except sqlite3.Error as exc:
        raise InputError(f"journal error: {exc}", str(journal_path)) from None
    finally:
        conn.close()


def _position_text(text: str, index: int) -> str:
    """The ``index``-th position's tables of a position file's text (for the journal)."""
    lines = text.splitlines()
    starts = [k for k, line in enumerate(lines) if line.strip().startswith("[[positions]]")]
    if index >= len(starts):
        return ""
    end = starts[index + 1] if index + 1 < len(starts) else len(lines)
    stop = next(
        (k for k in range(starts[index] + 1, end) if lines[k].strip().startswith("[")
         and not lines[k].strip().startswith("[[positions.legs]]")),
        end,
    )  # fmt: skip
    return "\n".join(lines[starts[index] : stop]).rstrip() + "\n"
