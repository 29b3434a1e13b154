"""An import after the fill gives the same position: a condor walked through ``alvh apply``
(a Layer 1 VIX spread, then its put vertical rolled out, then its call vertical closed),
each state written as the export each broker would give of what is open, and imported with
the journal: the position written is the one ``apply`` wrote — its id, the legs held and
closed, the opening credit, its revision (the fingerprint of all of them) — and checked in
the same snapshot it has the same mark multiple and realised P&L.

The exports carry each leg's broker mark at the model's own price (``alvh price``, to six
decimals), so ``check`` prices from the marks and the multiple is the file's to within
rounding; the transactions export carries no marks at all.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from test_apply import at, net_of_trades

from alvh_cli.inputs.brokers.common import ImportedLeg
from alvh_cli.inputs.brokers.journalled import AppliedPosition, match, render
from alvh_cli.inputs.brokers.write import mark_lines
from alvh_cli.inputs.positions import load_file
from alvh_cli.inputs.toml_reader import tomllib
from alvh_cli.model.contracts import osi_symbol
from alvh_cli.model.domain import Leg, Position

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_positions" / "put_tested_1_6x.toml"
EST = timezone(timedelta(hours=-5))


@dataclass(frozen=True)
class State:
    """The position file as one fill left it, the journal as it was then, its asof."""

    name: str
    file: Path
    journal: Path
    asof: datetime

    @property
    def position(self) -> Position:
        (p,) = load_file(self.file).positions
        return p


def _run(args, env=None):
    from typer.testing import CliRunner

    from alvh_cli import cli

    result = CliRunner().invoke(cli.app, [str(a) for a in args], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _backup(src: Path, dst: Path) -> None:
    """A copy of an SQLite file as it stands (its write-ahead log included)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


@pytest.fixture(scope="module")
def states(tmp_path_factory) -> dict[str, State]:
    from alvh_cli import cli

    folder = tmp_path_factory.mktemp("walk")
    path, journal = folder / "dec.toml", folder / "journal.sqlite"
    # the loop's mechanics under pinned rules, as test_apply's walk: adjustments at Layer 3,
    # γ 1 (the Layer 1 spreads beat holding)
    path.write_text(SAMPLE.read_text() + "\n[rules]\nadjust_from_layer = 3\nrisk_aversion = 1.0\n")
    jargs = ["--journal", journal]
    out: dict[str, State] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["alvh"])

        def day(name: str, when: datetime, spx: float, vix: float, alternative: str) -> None:
            """On ``when``, at these levels, the Layer 3 ``alternative`` (else the first
            whose name starts with it), filled at its assumed fills; the file and the journal kept
            as ``name``."""
            at(path, when, spx, vix)
            mp.setattr(cli, "_now", lambda: when + timedelta(minutes=5))
            code, text, err = _run(["check", path, "--format", "json"])
            assert code in (0, 1), err
            (p,) = json.loads(text)["positions"]
            alts = [a for r in p["recommendations"] for a in r.get("alternatives", ())]
            exact = [a for a in alts if a["name"] == alternative]
            alt = exact[0] if exact else next(a for a in alts if a["name"].startswith(alternative))
            fill = round(abs(net_of_trades(alt["legs"])), 2)
            code, _, err = _run(["apply", path, "-p", "dec-1", "--alternative", alt["name"],
                                 "--fill", fill, *jargs])  # fmt: skip
            assert code == 0, err
            keep(name, when)

        def keep(name: str, when: datetime) -> None:
            file, j = folder / f"{name}.toml", folder / f"{name}.sqlite"
            shutil.copy(path, file)
            _backup(journal, j)
            out[name] = State(name, file, j, when)

        # 1. Layer 1: the first VIX call spread, at its limit
        day1 = datetime(2026, 11, 24, 15, 45, tzinfo=EST)
        mp.setattr(cli, "_now", lambda: day1 + timedelta(minutes=5))
        code, text, err = _run(["check", path, "--format", "json"])
        (p,) = json.loads(text)["positions"]
        limit = p["recommendations"][0]["orders"][0]["limit"]
        code, _, err = _run(["apply", path, "-p", "dec-1", "--order", 1, "--fill", limit, *jargs])
        assert code == 0, err
        keep("hedged", day1)
        # 2. SPX through the short put: the put vertical rolled out (sides apart)
        day("rolled", datetime(2026, 11, 30, 15, 45, tzinfo=EST), 5600.0, 26.0, "roll put")
        # 3. A rally to the short call (Layer 3): the call vertical closed (a put vertical
        # and the hedge left)
        day(
            "closed",
            datetime(2026, 12, 2, 15, 45, tzinfo=EST),
            6445.0,
            14.0,
            "close call vertical",
        )
    return out


def test_the_walk_leaves_the_shapes_an_export_must_be_read_as(states):
    # what each state holds (the premise of the round trips below)
    def shape(p):
        return sorted({(g.underlying, g.type, g.expiry.isoformat()) for g in p.legs})

    hedged, rolled, closed = (states[n].position for n in ("hedged", "rolled", "closed"))
    vix = [g for g in hedged.legs if g.underlying == "VIX"]
    assert len(hedged.legs) == 4 + len(vix) and vix and hedged.closed == ()
    spx = [g for g in rolled.legs if g.underlying == "SPX"]
    assert len({g.expiry for g in spx}) == 2 and len(rolled.closed) == 2  # sides expire apart
    assert [g.type for g in closed.legs if g.underlying == "SPX"] == ["put", "put"]
    assert len(closed.closed) == 4 and shape(closed) != shape(rolled)


# --------------------------------------------------------------------------- exports


def _marks(state: State) -> dict[str, float]:
    """The model's price of each leg held (``alvh price``), to six decimals: the broker's
    mark in the exports, by the leg's key. Priced on the state's day: its clock."""
    from alvh_cli import cli

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli, "_now", lambda: state.asof + timedelta(minutes=5))
        code, text, err = _run(["price", state.file, "--format", "json"])
    assert code == 0, err
    return {g["leg"]: round(g["price"], 6) for g in json.loads(text)["legs"]}


def _cell(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".")


def _k(g: Leg) -> str:
    return f"{g.strike:g}"


def _tos_day(d) -> str:
    return d.strftime("%d %b %y").upper()  # 31 DEC 26


def _ib_day(d) -> str:
    return d.strftime("%d%b%y").upper()  # 31DEC26


def _cp(g: Leg) -> str:
    return "C" if g.type == "call" else "P"


def tasty_positions(state: State, marks) -> tuple[str, list]:
    rows = ["Account,Symbol,Type,Quantity,Exp Date,Strike Price,Call/Put,Trade Price,Mark"]
    for g in state.position.legs:
        rows.append(
            f"5WT00001,{osi_symbol(g.root, g.expiry, g.type, g.strike)},OPTION,{g.quantity},"
            f"{g.expiry:%m/%d/%y},{_k(g)},{g.type.upper()},{_cell(g.entry_price)},"
            f"{_cell(marks[g.key])}"
        )
    # the export states no time: the trader says when it was taken
    return "\n".join(rows), ["--mark-time", state.asof.strftime("%Y-%m-%dT%H:%M")]


def tasty_transactions(state: State, marks) -> tuple[str, list]:
    p = state.position
    fills = []
    for g in (*p.legs, *p.closed):
        day = g.opened or p.opened
        side = "BUY" if g.quantity > 0 else "SELL"
        fills.append((day, 10, f"{side}_TO_OPEN", g, g.entry_price))
        if g.closed is not None:
            back = "SELL" if g.quantity > 0 else "BUY"
            fills.append((g.closed, 11, f"{back}_TO_CLOSE", g, g.exit_price))
    rows = ["Date,Type,Action,Symbol,Instrument Type,Description,Value,Quantity,Average Price,"
            "Multiplier"]  # fmt: skip
    for day, hour, action, g, price in sorted(fills, key=lambda f: (f[0], f[1]), reverse=True):
        sign = -1 if action.startswith("BUY") else 1
        rows.append(
            f"{day}T{hour}:00:00-0500,Trade,{action},"
            f"{osi_symbol(g.root, g.expiry, g.type, g.strike)},Index Option,fill,"
            f"{_cell(sign * price * 100 * abs(g.quantity))},{abs(g.quantity)},"
            f"{_cell(sign * price * 100)},100"
        )
    return "\n".join(rows), []


def tos_position_statement(state: State, marks) -> tuple[str, list]:
    rows = [f"Position Statement for 86612345 (Individual) on {state.asof:%m/%d/%y %H:%M:%S}", ""]
    rows.append("Equities and Equity Options")
    rows.append("Instrument,Qty,Days,Trade Price,Mark,Mrk Chng,P/L Open,P/L Day,BP Effect")
    for underlying in ("SPX", "VIX"):
        legs = [g for g in state.position.legs if g.underlying == underlying]
        if not legs:
            continue
        rows.append(f"{underlying},,,,,,,,")
        for g in legs:
            tag = " (Weeklys)" if g.root.endswith("W") else ""
            rows.append(
                f"100{tag} {_tos_day(g.expiry)} {_k(g)} {g.type.upper()},{g.quantity:+d},,"
                f"{_cell(g.entry_price)},{_cell(marks[g.key])},,,,"
            )
    return "\n".join(rows), []


def tos_account_statement(state: State, marks) -> tuple[str, list]:
    day = f"{state.asof:%m/%d/%y}"
    rows = [f"Account Statement for 86612345 (Individual) since {day} through {day}", ""]
    rows += ["Options", "Symbol,Option Code,Exp,Strike,Type,Qty,Trade Price,Mark,Mark Value"]
    for g in state.position.legs:
        code = f".{g.root}{g.expiry:%y%m%d}{_cp(g)}{_k(g)}"
        rows.append(
            f"{g.underlying},{code},{_tos_day(g.expiry)},{_k(g)},{g.type.upper()},"
            f"{g.quantity:+d},{_cell(g.entry_price)},{_cell(marks[g.key])},"
        )
    rows.append(",OVERALL TOTALS,,,,,,,")
    return "\n".join(rows), []


def ibkr_flex_xml(state: State, marks) -> tuple[str, list]:
    rows = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<FlexQueryResponse queryName="alvh" type="AF"><FlexStatements count="1">',
            f'<FlexStatement accountId="U1234567" toDate="{state.asof:%Y%m%d}">',
            "<OpenPositions>"]  # fmt: skip
    for g in state.position.legs:
        rows.append(
            f'<OpenPosition accountId="U1234567" assetCategory="OPT" '
            f'symbol="{osi_symbol(g.root, g.expiry, g.type, g.strike)}" '
            f'position="{g.quantity}" multiplier="100" costBasisPrice="{_cell(g.entry_price)}" '
            f'markPrice="{_cell(marks[g.key])}" reportDate="{state.asof:%Y%m%d}" '
            'levelOfDetail="SUMMARY" />'
        )
    rows += ["</OpenPositions></FlexStatement></FlexStatements></FlexQueryResponse>"]
    return "\n".join(rows), []


def ibkr_flex_csv(state: State, marks) -> tuple[str, list]:
    rows = ["ClientAccountID,AssetClass,Symbol,Quantity,Multiplier,CostBasisPrice,MarkPrice,"
            "ReportDate,LevelOfDetail"]  # fmt: skip
    for g in state.position.legs:
        rows.append(
            f"U1234567,OPT,{osi_symbol(g.root, g.expiry, g.type, g.strike)},{g.quantity},100,"
            f"{_cell(g.entry_price)},{_cell(marks[g.key])},{state.asof:%Y%m%d},SUMMARY"
        )
    return "\n".join(rows), []


def ibkr_activity(state: State, marks) -> tuple[str, list]:
    rows = ["Statement,Header,Field Name,Field Value",
            f'Statement,Data,Period,"{state.asof:%B} {state.asof.day}, {state.asof.year}"',
            "Account Information,Header,Field Name,Field Value",
            "Account Information,Data,Account,U7654321",
            "Open Positions,Header,DataDiscriminator,Asset Category,Currency,Symbol,Open,Quantity,"
            "Mult,Cost Price,Cost Basis,Close Price,Value,Unrealized P/L,Code"]  # fmt: skip
    for g in state.position.legs:
        rows.append(
            f"Open Positions,Data,Summary,Equity and Index Options,USD,"
            f"{g.root} {_ib_day(g.expiry)} {_k(g)} {_cp(g)},-,{g.quantity},100,"
            f"{_cell(g.entry_price)},,{_cell(marks[g.key])},,,"
        )
    return "\n".join(rows), []


def generic(state: State, marks) -> tuple[str, list]:
    rows = ["account,symbol,quantity,entry_price,mark,mark_time"]
    for g in state.position.legs:
        rows.append(
            f"IRA,{osi_symbol(g.root, g.expiry, g.type, g.strike)},{g.quantity},"
            f"{_cell(g.entry_price)},{_cell(marks[g.key])},{state.asof.isoformat()}"
        )
    return "\n".join(rows), []


EXPORTS = {
    "tastytrade_positions.csv": tasty_positions,
    "tastytrade_transactions.csv": tasty_transactions,
    "thinkorswim_position_statement.csv": tos_position_statement,
    "thinkorswim_account_statement.csv": tos_account_statement,
    "ibkr_flex.xml": ibkr_flex_xml,
    "ibkr_flex.csv": ibkr_flex_csv,
    "ibkr_activity.csv": ibkr_activity,
    "generic.csv": generic,
}


# --------------------------------------------------------------------------- round trips


def _legs(legs) -> list[tuple]:
    return sorted(
        (
            g.contract,
            g.quantity,
            g.entry_price,
            g.layer,
            g.entry_vix,
            g.opened,
            g.closed,
            g.exit_price,
        )  # fmt: skip
        for g in legs
    )


@pytest.mark.parametrize("state_name", ["hedged", "rolled", "closed"])
@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_an_import_after_the_fill_gives_the_position_apply_wrote(
    states, state_name, export, tmp_path, monkeypatch
):
    from alvh_cli import cli

    state = states[state_name]
    monkeypatch.setattr(cli, "_now", lambda: state.asof + timedelta(minutes=5))  # its day
    marks = _marks(state)
    text, args = EXPORTS[export](state, marks)
    f = tmp_path / export
    f.write_text(text + "\n")
    out = tmp_path / "imported.toml"
    code, stdout, err = _run(["import", f, "-o", out, "--journal", state.journal, *args])
    assert (code, err) == (0, ""), stdout  # every leg is the journal's position's
    assert "as alvh apply left it" in stdout
    (got,) = load_file(out).positions
    want = state.position
    assert got.id == want.id == "dec-1"
    assert _legs(got.legs) == _legs(want.legs)
    assert _legs(got.closed) == _legs(want.closed)
    assert (got.credit, got.units, got.opened) == (want.credit, want.units, want.opened)
    assert got.revision == want.revision
    if export != "tastytrade_transactions.csv":  # fills carry no marks
        assert {g.key: g.mark for g in got.legs} == {g.key: marks[g.key] for g in want.legs}
    # checked in the state's own snapshot: the same mark multiple and realised P&L
    code, text, err = _run(["check", out, "--market", state.file, "--format", "json"])
    assert code in (0, 1), err
    data = json.loads(text)
    (a,) = data["positions"]
    code, text, err = _run(["check", state.file, "--format", "json"])
    (b,) = json.loads(text)["positions"]
    assert a["mark_multiple"] == pytest.approx(b["mark_multiple"], abs=1e-5)
    assert a["realised_pnl"] == b["realised_pnl"] and a["credit"] == b["credit"]
    assert "broker_mark_tolerance" not in err
    used = [m["status"] for m in data["marks"]]
    if export != "tastytrade_transactions.csv":  # the marks priced the legs they could
        assert "mark" in used and set(used) <= {"mark", "unusable"}


def test_without_the_journal_the_shapes_are_still_imported(states, tmp_path):
    # no journal: the rolled condor's sides apart are one position of the export's own (its
    # credit the export's cost basis), with a note, and the hedge is left over
    state = states["rolled"]
    text, _ = generic(state, _marks(state))
    f = tmp_path / "after.csv"
    f.write_text(text + "\n")
    out = tmp_path / "nojournal.toml"
    code, stdout, _ = _run(["import", f, "-o", out], env={"XDG_DATA_HOME": str(tmp_path)})
    assert code == 1, stdout  # the VIX spread: no recommendation read
    (got,) = load_file(out).positions
    assert got.id.startswith("IRA-SPXW-") and got.closed == ()
    assert len({g.expiry for g in got.legs}) == 2
    assert "make one position (a condor whose sides expire apart" in stdout


def test_a_journalled_position_the_export_no_longer_holds_is_not_written(states, tmp_path):
    # the journal is the rolled state's, the export the closed state's: the rolled position
    # holds a call vertical the export does not, so the put vertical is imported as itself
    text, _ = generic(states["closed"], _marks(states["closed"]))
    f = tmp_path / "later.csv"
    f.write_text(text + "\n")
    out = tmp_path / "mismatch.toml"
    code, stdout, _ = _run(["import", f, "-o", out, "--journal", states["rolled"].journal])
    assert "as alvh apply left it" not in stdout
    ids = [p.id for p in load_file(out).positions]
    assert ids and "dec-1" not in ids


# --------------------------------------------------------------------------- matching, by hand

TEXT = """[[positions]]
id = "dec-1"   # kept
opened = 2026-10-22
credit = 3.0

  [[positions.legs]]
  type = "put"
  strike = 5400
  expiry = 2026-12-18
  quantity = 2
  entry_price = 4.0
  mark = 9.99
  mark_time = 2026-11-01

  [[positions.legs]]
  type = "put"
  strike = 5450
  expiry = 2026-12-18
  quantity = -2
  entry_price = 7.0
  # the short put
"""


def _applied(text=TEXT, pid="dec-1", source="a.toml", execution=1):
    return AppliedPosition(pid, source, execution, "2026-11-30T15:45:00-05:00", "close", text)


def _held(strike, qty, account="A", mark=None):
    when = None if mark is None else date(2026, 12, 1)
    return ImportedLeg("SPX", "SPXW", "put", float(strike), date(2026, 12, 18), qty, 1.0,
                       account, mark=mark, mark_time=when)  # fmt: skip


def test_a_journalled_position_takes_its_legs_and_leaves_the_rest():
    # the account holds 3 of the 5400 put: 2 are the journal's vertical's, 1 stays
    found, rest, notes = match([_held(5400, 3), _held(5450, -2)], [_applied()])
    (j,) = found
    assert [g.quantity for g in j.legs] == [2, -2] and notes == []
    assert [(g.strike, g.quantity) for g in rest] == [(5400.0, 1)]
    # held the other way round (long where the position is short): no match
    found, rest, _ = match([_held(5400, 2), _held(5450, 2)], [_applied()])
    assert found == [] and len(rest) == 2


def test_legs_two_accounts_hold_are_not_guessed():
    legs = [_held(5400, 2, "A"), _held(5450, -2, "A"), _held(5400, 2, "B"), _held(5450, -2, "B")]
    found, rest, notes = match(legs, [_applied()])
    assert found == [] and len(rest) == 4
    assert notes == ["dec-1 (a.toml): accounts A, B each hold its legs; not matched (import one "
                     "account at a time)"]  # fmt: skip


def test_the_latest_fill_is_tried_first_and_a_closed_position_matches_nothing():
    closed = TEXT.replace("  # the short put", "  closed = 2026-11-30\n  exit_price = 1.0")
    closed = closed.replace("  mark = 9.99\n  mark_time = 2026-11-01",
                            "  closed = 2026-11-30\n  exit_price = 1.0")  # fmt: skip
    older, newer = _applied(execution=1, source="old.toml"), _applied(execution=2)
    found, _, _ = match([_held(5400, 2), _held(5450, -2)], [older, newer])
    assert [j.applied.source for j in found] == ["a.toml"]
    found, _, _ = match([_held(5400, 2), _held(5450, -2)], [_applied(closed)])
    assert found == []


def test_the_journals_text_carries_the_exports_marks_and_a_free_id():
    (j,), _, _ = match([_held(5400, 2, mark=3.15), _held(5450, -2, mark=4.2)], [_applied()])
    lines = render(j, mark_lines, new_id="dec-1-2")
    doc = tomllib.loads("\n".join(lines))
    (p,) = doc["positions"]
    assert p["id"] == "dec-1-2" and p["credit"] == 3.0
    # the earlier import's mark is replaced, the export's written on each leg held
    assert [(g["mark"], str(g["mark_time"])) for g in p["legs"]] == [
        (3.15, "2026-12-01"), (4.2, "2026-12-01")]  # fmt: skip
    # the mark goes in its leg's table, before the comment that ends it
    assert lines[-3:] == ["  mark = 4.2", "  mark_time = 2026-12-01", "  # the short put"]
    assert 'id = "dec-1-2"   # kept' in lines
