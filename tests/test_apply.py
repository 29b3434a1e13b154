"""``alvh apply``: the daily loop closes. A condor is walked through open → Layer 1 hedge →
roll of the tested side → close of the other side → expiry, each step applied at the
trader's fill, and the file, the journal and the realised P&L are checked at every step.

Hand figures: a leg closed realises (exit − entry) × signed contracts × 100; the legs of
one order net to the fill per unit (a debit paid: Σ buys − Σ sells = fill); settled at
expiry, an option is worth its intrinsic value at the settlement level.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from alvh_cli import cli
from alvh_cli.inputs.positions import load_file

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_positions" / "put_tested_1_6x.toml"
EST = timezone(timedelta(hours=-5))


def at(path: Path, when: datetime, spx: float, vix: float) -> None:
    """Move the file's own market to ``when`` with SPX and VIX at these levels."""
    text = path.read_text()
    text = re.sub(r"(?m)^asof = .*$", f"asof = {when.isoformat()}", text)
    text = re.sub(r"(?m)^spx = .*$", f"spx = {spx}", text)
    text = re.sub(r"(?m)^vix = .*$", f"vix = {vix}", text)
    path.write_text(text)


def orders(alvh, path: Path) -> list[dict]:
    """Today's orders of the file's one position, with their recommendations' actions."""
    r = alvh(["check", path, "--format", "json"])
    assert r.code in (0, 1), r.err
    (p,) = json.loads(r.out)["positions"]
    return [{**o, "rec": rec["action"]} for rec in p["recommendations"] for o in rec["orders"]]


def alternatives(alvh, path: Path) -> dict[str, dict]:
    r = alvh(["check", path, "--format", "json"])
    (p,) = json.loads(r.out)["positions"]
    return {a["name"]: a for rec in p["recommendations"] for a in rec.get("alternatives", ())}


def realised(p) -> float:
    return sum((g.exit_price - g.entry_price) * g.quantity * g.multiplier for g in p.closed)


def net_of(legs) -> float:
    """Σ buys − Σ sells per unit of an order's legs (price × ratio): > 0 a debit."""
    return sum((1 if g["action"][0] == "B" else -1) * g["ratio"] * g["price"] for g in legs)


def executions(journal: Path) -> list[tuple]:
    with sqlite3.connect(journal) as conn:
        return conn.execute(
            "SELECT action, fill, limit_price, slippage, review_id FROM executions ORDER BY id"
        ).fetchall()


# The loop's mechanics, not the decision rule, are tested here: the Layer 3 adjustments only
# at Layer 3 and a risk aversion (γ 1) at which the Layer 1 spreads beat holding.
PINNED = "\n[rules]\nadjust_from_layer = 3\nrisk_aversion = 1.0\n"


@pytest.fixture
def walk(tmp_path, monkeypatch):
    path = tmp_path / "dec.toml"
    path.write_text(SAMPLE.read_text() + PINNED)
    return path, tmp_path / "journal.sqlite"


def test_a_condor_walked_from_open_to_expiry(walk, alvh, monkeypatch):
    path, journal = walk
    jargs = ["--journal", journal]

    # 1. Layer 1 (mark 1.60x): the first VIX call spread, filled at its limit.
    day1 = datetime(2026, 11, 24, 15, 45, tzinfo=EST)
    monkeypatch.setattr(cli, "_now", lambda: day1 + timedelta(minutes=5))
    review = alvh(["review", path, *jargs])
    assert review.code == 1, review.err
    first = orders(alvh, path)[0]
    assert first["rec"] == "open_hedge" and first["underlying"] == "VIX"
    run = alvh(["apply", path, "-p", "dec-1", "--order", 1, "--fill", first["limit"], *jargs])
    assert run.code == 0, run.err
    assert "at the limit" in run.out and (path.parent / "dec.toml.~1~").is_file()
    p = load_file(path).positions[0]
    hedge = [g for g in p.legs if g.underlying == "VIX"]
    # the legs the order named, long and short (a spread, or a call alone), now held
    signed = sorted((1 if g["action"][0] == "B" else -1) * g["quantity"] for g in first["legs"])
    assert sorted(g.quantity for g in hedge) == signed
    assert {(g.layer, g.opened, g.entry_vix) for g in hedge} == {(1, day1.date(), 21.5)}
    # the legs net to the fill: Σ long prices − Σ short prices per unit = the debit paid
    unit = first["quantity"]
    net = sum(g.entry_price * g.quantity / unit for g in hedge)
    assert net == pytest.approx(first["limit"], abs=1e-9)
    assert p.closed == () and realised(p) == 0.0
    (e1,) = executions(journal)
    # the execution sits beside the review whose recommendation it followed
    assert e1 == ("open_hedge", first["limit"], first["limit"], 0.0, 1)

    # 2. SPX through the 5650 short put: Layer 3; the trader rolls the put vertical.
    day2 = datetime(2026, 11, 30, 15, 45, tzinfo=EST)
    at(path, day2, 5600.0, 26.0)
    monkeypatch.setattr(cli, "_now", lambda: day2 + timedelta(minutes=5))
    # the first roll offered (the nearest listed expiry), named in full: there are three
    name, roll = next(
        (n, a) for n, a in alternatives(alvh, path).items() if n.startswith("roll put")
    )
    run = alvh(["apply", path, "-p", "dec-1", "--alternative", name, "--fill", 9.9, *jargs])
    assert run.code == 2 and "plausible range" in run.err  # a slipped digit is refused...
    assert load_file(path).positions[0].closed == ()  # ...and nothing was written
    fill = round(abs(net_of_trades(roll["legs"])), 2)  # the roll's net at its assumed fills
    out = alvh(["apply", path, "-p", "dec-1", "--alternative", name, "--fill", fill,
                "--format", "json", *jargs])  # fmt: skip
    assert out.code == 0, out.err
    applied = json.loads(out.out)
    p = load_file(path).positions[0]
    old_puts = [g for g in p.closed if g.type == "put"]
    new_puts = [g for g in p.legs if g.type == "put"]
    assert sorted(g.strike for g in old_puts) == [5600.0, 5650.0]
    assert {g.closed for g in old_puts} == {day2.date()}
    assert len(new_puts) == 2 and {g.layer for g in new_puts} == {3}
    assert {g.expiry for g in new_puts} == {date_of(roll["legs"][-1]["expiry"])}
    assert all(g.expiry > old_puts[0].expiry for g in new_puts)
    # realised by hand: the short 5650 sold at 47.40, the long 5600 bought at 42.90
    (s_old,) = [g for g in old_puts if g.quantity < 0]
    (l_old,) = [g for g in old_puts if g.quantity > 0]
    expected = ((s_old.exit_price - 47.40) * -5 + (l_old.exit_price - 42.90) * 5) * 100
    assert realised(p) == pytest.approx(expected, abs=1e-6)
    assert applied["realised"] == pytest.approx(expected, abs=0.005)
    # the four legs of the roll net to the fill (a debit: buys − sells)
    (s_new,) = [g for g in new_puts if g.quantity < 0]
    (l_new,) = [g for g in new_puts if g.quantity > 0]
    net = (s_old.exit_price - l_old.exit_price) - (s_new.entry_price - l_new.entry_price)
    sign = 1 if applied["price_effect"] == "debit" else -1
    assert net == pytest.approx(sign * applied["fill"], abs=1e-9)
    assert len(executions(journal)) == 2

    # 3. A rally to 6445: the short call 6450 at |delta| 0.51, Layer 3; the trader closes
    # the call vertical.
    day3 = datetime(2026, 12, 2, 15, 45, tzinfo=EST)
    at(path, day3, 6445.0, 14.0)
    monkeypatch.setattr(cli, "_now", lambda: day3 + timedelta(minutes=5))
    close = alternatives(alvh, path)["close call vertical"]
    fill = abs(net_of_trades(close["legs"]))
    run = alvh(["apply", path, "-p", "dec-1", "--alternative", "close call vertical", "--fill",
                round(fill, 2), *jargs])  # fmt: skip
    assert run.code == 0, run.err
    p = load_file(path).positions[0]
    calls = [g for g in p.closed if g.type == "call" and g.underlying == "SPX"]
    assert sorted(g.strike for g in calls) == [6450.0, 6500.0]
    (s_c,) = [g for g in calls if g.quantity < 0]
    (l_c,) = [g for g in calls if g.quantity > 0]
    assert s_c.exit_price - l_c.exit_price == pytest.approx(round(fill, 2), abs=1e-9)
    # what was realised so far: the put roll's close, and the call vertical sold at
    # 8.40 - 4.30 = 4.10 bought back at the fill
    call_realised = (4.10 - round(fill, 2)) * 5 * 100
    assert realised(p) == pytest.approx(expected + call_realised, abs=1e-6)
    held = alvh(["check", path, "--format", "json"])
    assert held.code in (0, 1), held.err
    row = json.loads(held.out)["positions"][0]
    assert row["realised_pnl"] == pytest.approx(expected + call_realised, abs=0.01)

    # 4. Past every expiry: the legs settle at intrinsic (SPX 5800: the rolled 5xxx puts
    # worthless; VRO 17: the VIX calls, struck above it, worthless).
    last = max(g.expiry for g in p.legs)
    day4 = datetime(last.year, last.month, last.day, 16, 30, tzinfo=EST)
    at(path, day4, 5800.0, 17.0)
    text = path.read_text()
    path.write_text(_futures_after(text, last))
    monkeypatch.setattr(cli, "_now", lambda: day4 + timedelta(minutes=5))
    run = alvh(["apply", path, "-p", "dec-1", "--settle-spx", 5800, "--settle-vix", 17,
                "--format", "json", *jargs])  # fmt: skip
    assert run.code == 0, run.err
    p = load_file(path).positions[0]
    assert p.legs == () and all(g.exit_price == 0.0 for g in p.closed if g.closed == last)
    settled = sum(-g.entry_price * g.quantity * g.multiplier for g in p.closed
                  if g.closed == day4.date())  # fmt: skip
    assert json.loads(run.out)["realised"] == pytest.approx(settled, abs=0.005)
    assert [e[0] for e in executions(journal)] == [
        "open_hedge", "roll", "close_vertical", "settle",
    ]  # fmt: skip
    done = alvh(["check", path, "--allow-expired", "--format", "json"])
    row = json.loads(done.out)["positions"][0]
    assert done.code == 0 and row["recommendations"][0]["reason"].startswith("closed")


def date_of(text: str):
    from datetime import date

    return date.fromisoformat(text)


def net_of_trades(legs: list[dict]) -> float:
    """Σ buys − Σ sells per contract at the assumed fills, per unit of the smallest leg."""
    unit = min(abs(g["quantity"]) for g in legs)
    return sum(g["quantity"] / unit * g["price"] for g in legs)


def _futures_after(text: str, last) -> str:
    """The file's VIX futures curve moved past ``last`` (a snapshot lists live futures)."""
    return re.sub(
        r"vix_futures = \[.*?\n\]",
        "vix_futures = [\n  { expiry = 2027-02-17, price = 18.0 },\n"
        "  { expiry = 2027-03-17, price = 18.5 },\n]",
        text,
        flags=re.S,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["-p", "nope", "--fill", 0.65], "--position: no position 'nope' (positions: dec-1)"),
        (["-p", "dec-1", "--order", 1, "--fill", 65], "--fill: 65 is outside the day's plausible"),
        (["-p", "dec-1", "--order", 1, "--fill", -1], "--fill: must be a price >= 0"),
        (["-p", "dec-1"], "--fill: the price filled is needed"),
        (["-p", "dec-1", "--fill", 0.65], "--order: 'dec-1' has 3 orders today"),
        (["-p", "dec-1", "--fill", 0.65, "--order", 9], "--order: must be 1 to"),
        (["-p", "dec-1", "--fill", 0.65, "--alternative", "roll"], "--alternative: no alternative"),
        (["-p", "dec-1", "--settle-spx", 5700], "--settle-spx: no leg of position 'dec-1'"),
    ],
)
def test_bad_input_to_apply_is_one_line_and_the_file_is_untouched(walk, alvh, args, message):
    path, journal = walk
    before = path.read_bytes()
    run = alvh(["apply", path, *args, "--journal", journal])
    assert run.code == 2, run.out
    assert run.err.startswith(f"alvh: {message}"), run.err
    assert len(run.err.strip().splitlines()) == 1
    assert path.read_bytes() == before and not (path.parent / "dec.toml.~1~").exists()


def test_an_order_applied_twice_is_refused(walk, alvh, tmp_path):
    path, journal = walk
    saved = tmp_path / "check.json"
    saved.write_text(alvh(["check", path, "--format", "json"]).out)
    limit = orders(alvh, path)[0]["limit"]
    args = ["apply", path, "-p", "dec-1", "--order", 1, "--fill", limit, "--journal", journal]
    assert alvh([*args, "--from-json", saved]).code == 0
    before = path.read_bytes()
    again = alvh([*args, "--from-json", saved])  # the same check's order, a second time
    assert again.code == 2 and "already applied: execution #1 (open_hedge" in again.err
    today = alvh(args)  # checked again: the layer is on, nothing left to do
    assert today.code == 2 and "already applied today: #1 open_hedge" in today.err
    assert path.read_bytes() == before


def test_a_check_of_a_file_changed_since_is_refused(walk, alvh, tmp_path):
    path, journal = walk
    saved = tmp_path / "check.json"
    saved.write_text(alvh(["check", path, "--format", "json"]).out)
    limit = orders(alvh, path)[0]["limit"]
    path.write_text(path.read_text().replace("entry_price = 47.40", "entry_price = 47.50"))
    before = path.read_bytes()
    run = alvh(["apply", path, "-p", "dec-1", "--from-json", saved, "--order", 1,
                "--fill", limit, "--journal", journal])  # fmt: skip
    assert run.code == 2 and "has changed since this check" in run.err
    assert path.read_bytes() == before


@pytest.mark.parametrize("role", ["rules", "market", "book file", "linked into the folder"])
def test_a_review_never_takes_an_input_for_its_journal(role, alvh, tmp_path):
    # An empty rules file given as the journal too became a 32 kB SQLite database: SQLite
    # takes an empty file for a new one. Refused before anything is read or written.
    book = tmp_path / "book"
    book.mkdir()
    (book / "dec.toml").write_text(SAMPLE.read_text())
    rules, market = tmp_path / "r.toml", tmp_path / "m.toml"
    rules.write_text("")
    market.write_text(SAMPLE.read_text().split("[[positions]]")[0])
    journal = {"rules": rules, "market": market, "book file": book / "dec.toml"}.get(role)
    if journal is None:  # a hard link in the folder to the file named as the journal
        journal = tmp_path / "j.toml"
        journal.write_text(SAMPLE.read_text())
        os.link(journal, book / "linked.toml")
    before = {p: p.read_bytes() for p in (rules, market, book / "dec.toml", journal)}
    run = alvh(["review", book, "--rules", rules, "--market", market, "--journal", journal])
    assert run.code == 2
    assert run.err.startswith(f"alvh: {journal}: is also an input (")
    assert run.err.endswith("alvh never writes to an input\n")
    assert {p: p.read_bytes() for p in before} == before


def test_apply_never_takes_an_input_for_its_journal(alvh, walk):
    path, _ = walk
    before = path.read_bytes()
    run = alvh(["apply", path, "-p", "dec-1", "--order", 1, "--fill", 1.0, "--journal", path])
    assert (run.code, run.out) == (2, "")
    assert run.err == f"alvh: {path}: is also an input ({path}); alvh never writes to an input\n"
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["dec.toml"]  # no backup either


def test_a_journal_named_toml_in_a_book_folder_is_refused_before_it_is_made(alvh, tmp_path):
    # accepted once, the SQLite file was then read as a position file of the folder, and
    # every review after refused it as an input
    book = tmp_path / "book"
    book.mkdir()
    (book / "dec.toml").write_text(SAMPLE.read_text())
    run = alvh(["review", book, "--journal", book / "j.toml"])
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        f"alvh: {book / 'j.toml'}: is in the book folder {book} and named *.toml: the next "
        "review would read it as a position file; give the journal another name or folder\n"
    )
    assert sorted(p.name for p in book.iterdir()) == ["dec.toml"]
    assert alvh(["review", book, "--journal", book / "j.sqlite"]).code in (0, 1)
