"""``alvh signals`` and ``alvh calibrate``: what a history file says."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path


def signals(
    history: Sequence[Path | str],
    *,
    market: Path | str | None = None,
    rules: Path | str | None = None,
    events: Sequence[Path | str] = (),
    now: datetime | None = None,
):
    """Each regime signal at the market file's ``asof`` (default: the history's last
    close), and the regime (``alvh_cli.method.signals.SignalReport``). ``now``, the clock:
    a market file's ``asof`` after it is refused, as ``check`` refuses it."""
    from alvh_cli.inputs import positions
    from alvh_cli.inputs.events import load_events
    from alvh_cli.inputs.history import read_history
    from alvh_cli.method import signals as method
    from alvh_cli.method.regime import front_future
    from alvh_cli.model.rules import resolve
    from alvh_cli.model.timing import at_close

    frame = read_history(history)
    snap = positions.load_market_file(market, now) if market is not None else None
    layers = [(positions.load_rules_table(rules), str(rules))] if rules is not None else []
    effective = resolve(*layers)
    if snap is not None:
        front, asof, vix = front_future(snap), snap.asof, snap.vix
    else:
        front, vix = None, None
        asof = at_close(frame.index[-1].date())  # the history's last close
    return method.evaluate(
        frame, effective, asof=asof, front_future=front, events=load_events(events), vix=vix
    )


def calibrate(history: Sequence[Path | str]) -> dict:
    """``vix_beta`` (and ``vix_term_kappa`` where futures columns exist) estimated from
    the history files (``alvh_cli.method.calibrate.calibrate``)."""
    from alvh_cli.inputs.history import read_history
    from alvh_cli.method import calibrate as method

    frame = read_history(history)
    return method.calibrate(frame, source=", ".join(map(str, history)))
