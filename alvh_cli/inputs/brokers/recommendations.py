"""The VIX call spreads alvh recommended before, read from the decision journal.

Every ``alvh review`` records, per position, its recommendation dicts
(``alvh_cli.journal``: ``decisions.recommendations``). The ones with
``action = "open_hedge"`` and ``instrument = "vix_call_spread"`` carry
``layer``, ``expiry``, ``long_strike``, ``short_strike`` and ``quantity``:
what the trader was told to buy. They are returned newest review first,
each with the condor of its position — root, expiry and strikes — read from
the position file the journal names, when that file still holds the position
(files are only read). A journal that does not exist yields nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

from alvh_cli import journal
from alvh_cli.errors import InputError
from alvh_cli.inputs.brokers.group import Recommendation


def load_recommendations(path: str | Path) -> tuple[list[Recommendation], str]:
    """(recommendations newest first, the reason to give a VIX spread none of them names)."""
    conn = journal.open_journal(path, readonly=True)
    if conn is None:
        return [], (
            f"no journal at {path}, so no recommendation to match: "
            "give --journal PATH to match VIX spreads to the layers alvh recommended"
        )
    found: list[Recommendation] = []
    try:
        for review in journal.reviews(conn):
            for d in journal.decisions(conn, review.id):
                for rec in d.get("recommendations") or ():
                    r = _recommendation(rec, d, review.asof)
                    if r is not None:
                        found.append(r)
    except sqlite3.Error as exc:
        raise InputError(f"journal error: {exc}", str(path)) from None
    finally:
        conn.close()
    condors = _condors({r.source for r in found})
    found = [replace(r, condor=condors.get((r.source, r.position_id))) for r in found]
    return found, f"alvh never recommended this spread (journal {path})"


def _recommendation(rec: dict, decision: dict, asof: str) -> Recommendation | None:
    """The recommendation as a record, or None when it is not a VIX call spread to open
    (or a field is missing: an older journal's row is not worth an error here)."""
    if rec.get("action") != "open_hedge" or rec.get("instrument") != "vix_call_spread":
        return None
    try:
        return Recommendation(
            position_id=str(decision["position_id"]),
            source=str(decision.get("source_key") or decision["source"]),
            layer=int(rec["layer"]),
            expiry=date.fromisoformat(str(rec["expiry"])),
            long_strike=float(rec["long_strike"]),
            short_strike=float(rec["short_strike"]),
            quantity=int(rec["quantity"]),
            asof=asof,
        )
    except (KeyError, TypeError, ValueError):
        return None


def _condors(sources: set[str]) -> dict[tuple[str, str], tuple]:
    """(file, position id) → (root, expiry, strikes…) for the positions still in those files."""
    from alvh_cli.inputs import positions

    out: dict[tuple[str, str], tuple] = {}
    for source in sorted(sources):
        try:
            loaded = positions.load_file(source)
        except InputError:
            continue  # moved, renamed or edited since: match by position id only
        for p in loaded.positions:
            lp, sp, sc, lc = p.condor
            out[(source, p.id)] = (lp.root, lp.expiry, lp.strike, sp.strike, sc.strike, lc.strike)
    return out
