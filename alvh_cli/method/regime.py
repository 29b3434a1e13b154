"""The regime a file's check runs under: signals from a history file, or unavailable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alvh_cli.model.book import LoadedFile


@dataclass(frozen=True)
class Regime:
    """``elevated`` is None when no history was given: signals unavailable, never quiet.

    ``spike`` is the VIX spike signal (None when unavailable): it brings Layer 1 in
    early, at ``layer1_elevated_multiple``.
    """

    elevated: bool | None = None
    active: int = 0
    signals: tuple = ()
    note: str = "no {flag:history} file: signals unavailable"
    spike: bool | None = None

    @property
    def label(self) -> str:
        """ "elevated", "normal", or "unavailable" (no history: thresholds stay at 1x)."""
        if self.elevated is None:
            return "unavailable"
        return "elevated" if self.elevated else "normal"


def front_future(market) -> float | None:
    """The nearest listed VIX future's price, or None."""
    return min(market.vix_futures, key=lambda f: f.expiry).price if market.vix_futures else None


def regimes_for(loaded: Sequence[LoadedFile], frame, calendar) -> list[Regime]:
    """One Regime per loaded file from a history ``frame`` (``inputs.history.read_history``)
    and a macro ``calendar`` (``model.calendar.Event`` list). Files that share a snapshot
    and rules share a regime: it is evaluated once for them all."""
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
    rep = signals.evaluate(
        frame, lf.rules, asof=m.asof, front_future=front_future(m), events=calendar, vix=m.vix
    )
    notes = "; ".join(rep.notes) if rep.notes else ""
    label = (
        "unavailable"
        if rep.elevated is None
        else f"{rep.active_count} of {len(rep.signals)} signals active"
    )
    note = f"history to {rep.history_label}: {label}" + (f"; {notes}" if notes else "")
    spike = next((s.active for s in rep.signals if s.name == "vix_spike"), None)
    return Regime(rep.elevated, rep.active_count, rep.signals, note, spike)
