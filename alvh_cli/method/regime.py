"""The regime a file's check runs under: signals from a history file, or unavailable."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alvh_cli.inputs.book import LoadedFile
from alvh_cli.method.check import Regime


def regimes_for(
    loaded: Sequence[LoadedFile], history: Sequence[Path] | None, events: Sequence[Path] = ()
) -> list[Regime]:
    """One Regime per loaded file; without ``history`` every one is 'unavailable'."""
    if not history:
        return [Regime() for _ in loaded]
    from alvh_cli.inputs import events as events_mod
    from alvh_cli.inputs.history import read_history

    frame = read_history(history)
    calendar = events_mod.load_events(events)
    # Files that share a snapshot and rules share a regime: evaluate once for them all.
    done: dict[tuple, Regime] = {}
    out = []
    for lf in loaded:
        key = (id(lf.market), lf.rules)
        if key not in done:
            done[key] = _evaluate(lf, frame, calendar)
        out.append(done[key])
    return out


def _evaluate(lf: LoadedFile, frame, calendar) -> Regime:
    from alvh_cli.method import signals

    m = lf.market
    front = min(m.vix_futures, key=lambda f: f.expiry).price if m.vix_futures else None
    rep = signals.evaluate(
        frame, lf.rules, asof=m.asof, front_future=front, events=calendar, vix=m.vix
    )
    notes = "; ".join(rep.notes) if rep.notes else ""
    label = (
        "unavailable"
        if rep.elevated is None
        else f"{rep.active_count} of {len(rep.signals)} signals active"
    )
    note = f"history to {rep.history_label}: {label}" + (f"; {notes}" if notes else "")
    return Regime(rep.elevated, rep.active_count, rep.signals, note)
