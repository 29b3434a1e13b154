"""What the commands share: the regime a book runs under, and dates given as text.

The regime comes from a history file and the macro calendar, read here once and handed
to the method as data (:func:`alvh_cli.method.regime.regimes_for`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

from alvh_cli.errors import InputError
from alvh_cli.model.book import LoadedFile

# The history's last close on or before asof further than this from the snapshot's SPX:
# the wrong file, or a stale one (a day's move is rarely over 3 %)
HISTORY_SPX_GAP = 0.03


class HistoryRead:
    """The history files, read (:func:`alvh_cli.inputs.history.read_history`) at the first
    call, by whichever step comes first: the loader while forked copies parse a big book
    (``load_book_tolerant``'s ``meanwhile``: reading pandas and the closes takes ~0.3 s),
    else :func:`regime_context`. An error is kept and raised by :meth:`frame`, where the
    history is read without a loader to go first: after the book's files are loaded."""

    def __init__(self, paths: Sequence[Path | str]) -> None:
        self.paths = paths
        self._read: tuple | None = None  # (frame, None) or (None, the error)

    def __call__(self) -> None:
        if self._read is None and self.paths:
            from alvh_cli.inputs.history import read_history

            try:
                self._read = (read_history(self.paths), None)
            except Exception as exc:  # noqa: BLE001 - raised where the history is used
                self._read = (None, exc)

    def frame(self):
        self()
        frame, error = self._read
        if error is not None:
            raise error
        return frame


def while_parsing(read: HistoryRead) -> Callable[[], None]:
    """What a command does while forked copies parse its book's files, if they do
    (``load_book_tolerant``'s ``meanwhile``): the history read and the check's imports
    (``alvh_cli.method.check.imports_ahead``)."""

    def meanwhile() -> None:
        from alvh_cli.method.check import imports_ahead

        read()
        imports_ahead()

    return meanwhile


def regime_context(
    loaded: Sequence[LoadedFile],
    history: Sequence[Path | str] | HistoryRead | None,
    events: Sequence[Path | str] = (),
):
    """(one Regime per loaded file, the history's closes for the scenario set or None,
    warnings about the history: its last close far from a snapshot's SPX).

    Without ``history`` (files, or a :class:`HistoryRead` of them) every regime is
    'unavailable' and the scenario set uses the embedded closes; ``events`` are still read
    (a bad file is an error) and each is warned about as unused (:func:`unused_events`).
    The history file is read once for both.
    """
    from alvh_cli.method.regime import Regime

    read = history if isinstance(history, HistoryRead) else HistoryRead(history or ())
    if not read.paths:
        return [Regime() for _ in loaded], None, unused_events(events)
    from alvh_cli.inputs import events as events_mod
    from alvh_cli.method.regime import regimes_for
    from alvh_cli.method.scenarios import History

    frame = read.frame()
    sources = ", ".join(str(s) for s in frame.attrs.get("sources", [])) or "history"
    closes = History.from_frame(frame, sources)
    regimes = regimes_for(loaded, frame, events_mod.load_events(events))
    return regimes, closes, history_warnings(loaded, closes)


def unused_events(events: Sequence[Path | str]) -> list:
    """The macro calendar files given without a history: each is read all the same (a
    missing or malformed one is an InputError, as with a history), and each gets a warning
    that it is not used, since without a history every signal, the macro event among them,
    is unavailable and the regime with them."""
    from alvh_cli.errors import InputWarning
    from alvh_cli.inputs import events as events_mod

    if not events:
        return []
    events_mod.load_events(events)
    return [
        InputWarning(
            "macro dates not used: without a history file the signals, the macro event "
            "among them, are unavailable",
            str(path),
        )
        for path in events
    ]


def history_warnings(loaded: Sequence[LoadedFile], closes) -> list:
    """A warning for each snapshot whose SPX is more than ``HISTORY_SPX_GAP`` from the
    history's last close on or before its asof (one per snapshot)."""
    from alvh_cli.errors import InputWarning

    out, seen = [], set()
    for lf in loaded:
        m = lf.market
        if id(m) in seen:
            continue
        seen.add(id(m))
        past = closes.before(m.asof.date())
        if not len(past.spx):
            continue
        last, day = float(past.spx[-1]), date.fromordinal(int(past.dates[-1]))
        gap = m.spx / last - 1.0
        if abs(gap) > HISTORY_SPX_GAP:
            out.append(
                InputWarning(
                    f"spx {m.spx:,.2f} is {gap:+.1%} from the history's last close "
                    f"{last:,.2f} ({day}, {closes.source}) — the wrong history, or a stale "
                    "one? Its signals and scenarios may not be this market's",
                    m.source,
                    "market.spx",
                )
            )
    return out


def as_date(value: date | str | None, role: str) -> date | None:
    """A date parameter given as a date or as text YYYY-MM-DD; None when not given."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"must be a date YYYY-MM-DD, got {value!r}", option=role) from None


def as_instant(value: datetime | date | str | None, role: str) -> datetime | None:
    """An instant given as a datetime, a date or ISO text (with or without offset), made
    aware as a file's ``asof`` is (a local time is New York's, a date its 16:00 close);
    None when not given."""
    from alvh_cli.model.timing import resolve_asof

    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise InputError(
                f"must be a date YYYY-MM-DD or a date-time YYYY-MM-DDTHH:MM[:SS][+HH:MM], "
                f"got {value!r}",
                option=role,
            ) from None
    return resolve_asof(value)
