"""Tests for alvh_cli.method.review, alvh_cli.app.review and alvh_cli.output.review: urgency
order, totals, journal, changes.

The book: three condors (DESIGN §2 format) expiring 2026-12-18, priced on a
shared market file whose SPX moves over three "days":

    day 1  SPX 5850.25, VIX 18.2   calm 1.05x hold      hedged 1.35x hold (layer 1 on)
    day 2  SPX 5700,    VIX 24     calm 2.18x layer 2   hedged 2.03x layer 2 (what fits the
                                                        $307.50 of budget left)
    day 3  SPX 5900,    VIX 14     calm 0.48x take profit, hedged 0.83x hold (the unwind is
                                                        weighed, VIX 14 <= 22.4, and loses: at
                                                        VIX 14 the spread's EV is positive)

(marks are debit to close / the `credit` written in each file; ``book_states``
checks those states first, so a change in the pricing engine shows up there
and not as a puzzling journal failure). ``extra`` is a copy of ``calm`` that
is closed (its file removed) before day 3.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
from test_journal import start_together

from alvh_cli.app import review as app_review
from alvh_cli.app.context import regime_context
from alvh_cli.errors import InputError
from alvh_cli.inputs import book
from alvh_cli.method import regime as regime_mod
from alvh_cli.method import review
from alvh_cli.method.check import check_book, check_values
from alvh_cli.method.regime import Regime
from alvh_cli.model.valuation import value_book
from alvh_cli.output import common
from alvh_cli.output import review as review_report
from alvh_cli.output.records import review_recommendations_json, review_row_json, totals_json

ROOT = Path(__file__).resolve().parents[1]

DAYS = {  # spx, vix, (Dec 16 and Jan 20 VIX futures)
    1: (5850.25, 18.2, (19.1, 19.8)),
    2: (5700, 24, (23.0, 22.5)),
    3: (5900, 14, (15.8, 17.0)),
}


def market_toml(spx: float, vix: float, futures: tuple[float, float]) -> str:
    return f"""\
[market]
asof = 2026-11-24T15:45:00-05:00
spx = {spx}
vix = {vix}
rate = 0.042
dividend_yield = 0.013
vix_futures = [ {{ expiry = 2026-12-16, price = {futures[0]} }},
                {{ expiry = 2027-01-20, price = {futures[1]} }} ]

[market.spx_vol]
atm = {vix / 100}
skew = -1.1
smile = 2.5

[market.vix_vol]
atm = 0.95
skew = 0.8
"""


# The review's mechanics, not the decision rule, are tested here (``--rules``): the Layer 3
# adjustments only at Layer 3, and a risk aversion (γ 1) at which the day-2 spreads beat
# holding. (The unwind as a change is tested on decisions in test_journal.)
def rules_toml(day: int) -> str:
    return "[rules]\nadjust_from_layer = 3\nrisk_aversion = 1.0\n"


def condor_toml(pid, strikes, units, entry, credit, hedge=()) -> str:
    out = f'[[positions]]\nid = "{pid}"\nopened = 2026-11-03\ncredit = {credit}\n'
    sides = (("put", units), ("put", -units), ("call", -units), ("call", units))
    for (typ, qty), strike, price in zip(sides, strikes, entry, strict=True):
        out += (
            f'\n[[positions.legs]]\ntype = "{typ}"\nstrike = {strike}\n'
            f"expiry = 2026-12-18\nquantity = {qty}\nentry_price = {price}\n"
        )
    for strike, qty, price in hedge:
        out += (
            f'\n[[positions.legs]]\nunderlying = "VIX"\ntype = "call"\nstrike = {strike}\n'
            f"expiry = 2026-12-16\nquantity = {qty}\nentry_price = {price}\nlayer = 1\n"
            "entry_vix = 22.4\n"
        )
    return out


CALM = dict(strikes=(5450, 5500, 6250, 6300), units=2, entry=(3.0, 5.0, 3.0, 1.0), credit=4.5)
HEDGED = dict(
    strikes=(5550, 5600, 6150, 6200),
    units=3,
    entry=(6.0, 12.0, 9.0, 3.0),
    credit=7.5,
    hedge=((21, 6, 1.35), (28, -6, 0.55)),
)


@pytest.fixture
def desk(tmp_path):
    """A book directory, one market file per day, and a journal path (not yet created)."""
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "calm.toml").write_text(condor_toml("calm", **CALM))
    (folder / "hedged.toml").write_text(condor_toml("hedged", **HEDGED))
    (folder / "extra.toml").write_text(condor_toml("extra", **CALM))
    for day, args in DAYS.items():
        (tmp_path / f"day{day}.toml").write_text(market_toml(*args))
        (tmp_path / f"rules{day}.toml").write_text(rules_toml(day))
    return tmp_path


def load(desk: Path, day: int):
    return book.load_book(
        [desk / "book"],
        market=desk / f"day{day}.toml",
        rules=desk / f"rules{day}.toml",
        expand_dirs=True,
    )


def run(desk: Path, day: int, books=None, **kw) -> app_review.ReviewRun:
    kw.setdefault("journal_path", desk / "journal.sqlite")
    kw.setdefault("rules", desk / f"rules{day}.toml")
    books = books if books is not None else [str(desk / "book")]
    return app_review.review(books, market=desk / f"day{day}.toml", **kw)


def reviewed(desk: Path, day: int) -> review.Review:
    """The review of the book on ``day``, with no journal."""
    return run(desk, day, journal_path=None).review


def rows(rv: review.Review) -> list[dict]:
    return [review_row_json(r) for r in rv.rows]


def recs(rv: review.Review) -> list[dict]:
    return review_recommendations_json(rv.rows)


def kinds(changes, *fields):
    return [(c.id, c.kind, *(getattr(c, f) for f in fields)) for c in changes]


def test_book_states(desk):
    """The engine puts the book where the scenario in the module docstring says."""
    want = {
        1: {"calm": (0, ["hold"]), "hedged": (0, ["hold"])},
        2: {"calm": (2, ["open_hedge"]), "hedged": (2, ["open_hedge"])},
        3: {"calm": (0, ["take_profit"]), "hedged": (0, ["hold"])},
    }
    for day, expected in want.items():
        got = {
            p.position.id: (p.layer, sorted({r.action.value for r in p.recommendations}))
            for p in check_book(load(desk, day)).positions
        }
        assert {k: got[k] for k in expected} == expected, day


# ------------------------------------------------------------------ the review itself


def test_rows_most_urgent_first(desk):
    result = reviewed(desk, 2)
    # day 2: all layer 2; calm and extra (2.18x) before hedged (2.03x); equal marks by file
    assert [r.check.position.id for r in result.rows] == ["calm", "extra", "hedged"]
    keys = [review.urgency_key(r) for r in result.rows]
    assert keys == sorted(keys)
    # recommendations follow the rows, each naming its position (a layer may buy more
    # than one spread)
    order = [(r["id"], r["action"]) for r in recs(result)]
    assert sorted(set(order), key=order.index) == [
        ("calm", "open_hedge"),
        ("extra", "open_hedge"),
        ("hedged", "open_hedge"),
    ]
    assert result.needs_action


def test_urgency_layer_beats_mark():
    from types import SimpleNamespace as NS

    def row(pid, layer, mark):
        return NS(check=NS(position=NS(id=pid, source="f"), layer=layer, mark_multiple=mark))

    rows = [
        row("a", 1, 2.9),
        row("b", 3, 0.4),  # through a short strike
        row("c", 1, float("nan")),
        row("d", 0, 5.0),
        row("e", 1, 3.0),
    ]
    ordered = sorted(rows, key=review.urgency_key)
    assert [r.check.position.id for r in ordered] == ["b", "e", "a", "c", "d"]


def test_totals(desk):
    result = reviewed(desk, 1)
    t = totals_json(result.totals)
    # hedge_budget = 0.35 x credit x units x 100 (DESIGN §4):
    # calm and extra 0.35 x 4.5 x 2 x 100 = 315 each; hedged 0.35 x 7.5 x 3 x 100 = 787.5
    assert t["hedge_budget"] == pytest.approx(315 + 315 + 787.5)
    # hedged's layer 1: 6 x 21C at 1.35 bought, 6 x 28C at 0.55 sold: (1.35 - 0.55) x 6 x 100
    assert t["hedge_spent"] == pytest.approx(480.0)
    assert t["hedge_remaining"] == pytest.approx(1417.5 - 480.0)
    assert t["hedge_budget_used"] == pytest.approx(480 / 1417.5)
    assert t["hedge_proposed"] == 0.0  # day 1: nothing to buy
    by_id = {r["id"]: r for r in rows(result)}
    assert (by_id["hedged"]["hedge_budget"], by_id["hedged"]["hedge_spent"]) == pytest.approx(
        (787.5, 480.0)
    )
    checked = check_book(load(desk, 1)).positions
    for name in ("delta", "gamma", "vega", "theta"):
        assert t[name] == pytest.approx(sum(p.greeks[name] for p in checked))
    assert t["pnl"] == pytest.approx(sum(p.pnl for p in checked))
    assert (t["positions"], t["needs_action"]) == (3, 0)


def test_proposed_spend_is_todays_open_hedges(desk):
    result = reviewed(desk, 2)
    # what each open_hedge charges to the budget: its orders' cost, or a future's roll-down
    # and friction (a future pays no premium)
    costs = [
        r["budget_cost"] if r["instrument"] == "vix_future" else r["cost"]
        for r in recs(result)
        if r["action"] == "open_hedge"
    ]
    assert len(costs) >= 3 and all(c > 0 for c in costs)
    assert result.totals.hedge_proposed == pytest.approx(sum(costs))
    # the three positions are due Layer 2 on one snapshot: one program for the book, whose
    # budget is theirs pooled (hedged has $307.50 of its own left)
    plans = [pc.hedge_plan for pc in check_book(load(desk, 2)).positions]
    pooled = sum(p.limit for p in plans)
    assert all(p.book.budget == pytest.approx(pooled) for p in plans)
    assert 307.5 < sum(costs) <= pooled + 1e-9
    # the program's note on each position's first hedge, the others pointing to it
    firsts = {}
    for r in recs(result):
        if r["action"] == "open_hedge":
            firsts.setdefault(r["id"], r["reason"])
    assert len(firsts) == 3
    assert all("hedged as a book of 3 positions" in reason for reason in firsts.values())


def test_each_position_hedged_on_its_own_keeps_within_its_budget(desk):
    """hedged has $307.50 of its budget left: with its own program, what it buys fits."""
    loaded = load(desk, 2)
    result = check_values(value_book(loaded), book_hedges=False)
    (hedged,) = [pc for pc in result.positions if pc.position.id == "hedged"]
    assert 0 < hedged.hedge_plan.spend <= 307.5 and hedged.hedge_plan.budget_limited


def test_regimes_from_history(desk, tmp_path, monkeypatch):
    # 60 business days to asof: SPX falls 1% a session for the last 20 (RSI(14) -> 0),
    # VIX 15 then 30 on the last day (2x its 10-day mean): two signals, elevated.
    days, d = [], date(2026, 11, 24)
    while len(days) < 60:
        if d.weekday() < 5:
            days.append(d)
        d -= timedelta(days=1)
    days.reverse()
    lines = ["date,spx,vix"]
    for i, day in enumerate(days):
        spx = 6000 * 0.99 ** max(0, i - 39)
        lines.append(f"{day.isoformat()},{spx:.2f},{30 if i == 59 else 15}")
    history = tmp_path / "history.csv"
    history.write_text("\n".join(lines) + "\n")
    loaded = load(desk, 1)
    calls = []
    real = regime_mod._evaluate

    def counting(lf, *args):
        calls.append(lf)
        return real(lf, *args)

    monkeypatch.setattr(regime_mod, "_evaluate", counting)
    regimes, _, _ = regime_context(loaded, [history])
    assert len(calls) == 1  # three files sharing --market: the signals are evaluated once
    assert len(regimes) == 3 and regimes[0] is regimes[2]
    assert regimes[0].elevated is True and regimes[0].active >= 2
    assert "history to 2026-11-24" in regimes[0].note
    result = run(desk, 1, history=[history], journal_path=desk / "j.sqlite").review
    assert result.regime.elevated is True
    assert {r.check.regime for r in result.rows} == {"elevated"}
    with sqlite3.connect(desk / "j.sqlite") as conn:
        assert conn.execute("SELECT regime FROM reviews").fetchall() == [("elevated",)]
    assert regime_context(loaded, None) == ([Regime()] * 3, None, [])


# ------------------------------------------------------------------ journal and changes


def test_changes_across_three_runs(desk):
    first = run(desk, 1, changes=True)
    assert first.review_id == 1 and first.since is None
    assert kinds(first.changes) == [
        ("hedged", "new_position"),
        ("calm", "new_position"),
        ("extra", "new_position"),
    ]

    second = run(desk, 2, changes=True)
    assert second.since.id == 1
    assert kinds(second.changes, "detail") == [
        ("calm", "new_layer", "layer 0 → 2"),
        ("calm", "action_changed", "hold → open_hedge"),
        ("extra", "new_layer", "layer 0 → 2"),
        ("extra", "action_changed", "hold → open_hedge"),
        ("hedged", "new_layer", "layer 0 → 2"),
        ("hedged", "action_changed", "hold → open_hedge"),
    ]

    (desk / "book" / "extra.toml").unlink()  # closed before day 3
    third = run(desk, 3, changes=True)
    assert third.since.id == 2  # compared with day 2, not day 1
    assert kinds(third.changes, "detail") == [
        ("hedged", "layer_dropped", "layer 2 → 0"),
        ("hedged", "action_changed", "open_hedge → hold"),
        ("calm", "layer_dropped", "layer 2 → 0"),
        ("calm", "take_profit", "open_hedge → take_profit"),
        ("extra", "position_gone", "was layer 2, open_hedge"),
    ]
    c = third.changes[3]
    assert (c.mark_before, c.mark_after) == pytest.approx((2.18, 0.48), abs=0.01)

    with sqlite3.connect(desk / "journal.sqlite") as conn:
        assert conn.execute("SELECT id, positions, status FROM reviews").fetchall() == [
            (1, 3, "nothing_to_do"),
            (2, 3, "action"),
            (3, 2, "action"),
        ]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_same_review_twice_has_no_changes(desk):
    run(desk, 2)
    again = run(desk, 2, changes=True)
    assert again.since.id == 1 and again.changes == []


def test_changes_compare_with_the_same_book(desk):
    run(desk, 1)
    other = run(desk, 2, books=[desk / "book" / "calm.toml"], changes=True)
    assert other.since is None  # a different book: no earlier review of it
    back = run(desk, 2, changes=True)
    assert back.since.id == 1  # the book's own last review, not the calm.toml one (#2)


def test_book_given_by_another_relative_path_is_the_same(desk, monkeypatch):
    monkeypatch.chdir(desk)
    run(desk, 1, books=["book"])
    again = run(desk, 1, books=["./book/"], changes=True)
    assert again.since.id == 1 and again.changes == []


def test_not_recording_still_shows_changes(desk):
    run(desk, 1)
    peek = run(desk, 2, changes=True, record=False)
    assert peek.review_id is None and peek.since.id == 1
    assert {c.kind for c in peek.changes} == {"new_layer", "action_changed"}
    with sqlite3.connect(desk / "journal.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM reviews").fetchone()[0] == 1


def test_not_recording_creates_nothing(desk):
    peek = run(desk, 1, changes=True, record=False)
    assert peek.since is None and len(peek.changes) == 3
    assert not (desk / "journal.sqlite").exists()


def test_no_journal(desk):
    result = run(desk, 1, journal_path=None)
    assert result.review_id is None and result.changes is None
    with pytest.raises(InputError, match="journal: needs a journal"):
        run(desk, 1, journal_path=None, changes=True)


def test_bad_journal_file(desk):
    bad = desk / "journal.sqlite"
    bad.write_text("date,spx,vix\n")
    with pytest.raises(InputError, match=f"^{bad}: not a usable alvh journal"):
        run(desk, 1)


REVIEWER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from alvh_cli.app.review import review
    folder, market, path, name, n, go = sys.argv[1:6] + [Path(sys.argv[6])]
    (go.parent / f"ready-{name}").touch()
    while not go.exists():
        time.sleep(0.002)
    for k in range(int(n)):
        review([folder], market=market, journal_path=path, argv=[name, str(k)])
    """
)


def test_two_reviews_at_once_in_separate_processes(desk, tmp_path):
    path = tmp_path / "shared" / "journal.sqlite"  # neither the file nor its directory exists
    args = [
        [str(desk / "book"), str(desk / f"day{day}.toml"), str(path), f"day{day}", "4"]
        for day in (1, 2)
    ]
    for rc, _, err in start_together(tmp_path, REVIEWER, args):
        assert rc == 0, err
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        reviews = conn.execute("SELECT id, argv, positions FROM reviews ORDER BY id").fetchall()
        per_review = dict(conn.execute("SELECT review_id, count(*) FROM decisions GROUP BY 1"))
        layers = conn.execute(
            "SELECT json_extract(r.argv, '$[0]'), d.layer FROM decisions d "
            "JOIN reviews r ON r.id = d.review_id WHERE d.position_id = 'calm'"
        ).fetchall()
    assert sorted(json.loads(a)[0] + json.loads(a)[1] for _, a, _ in reviews) == sorted(
        f"day{d}{k}" for d in (1, 2) for k in range(4)
    )
    assert all(per_review[rid] == n == 3 for rid, _, n in reviews)
    assert set(layers) == {("day1", 0), ("day2", 2)}  # each process wrote its own decisions


# ------------------------------------------------------------------ report


def test_emit_json(desk, capsys):
    result = run(desk, 2, changes=True)
    review_report.emit_review(result, "json")
    data = json.loads(capsys.readouterr().out)
    assert list(data) == [
        "asof",
        "regime",
        "journal",
        "totals",
        "positions",
        "recommendations",
        "legend",
        "warnings",
        "errors",
        "changes",
    ]
    assert data["warnings"] == []
    assert data["journal"] == {"path": str(desk / "journal.sqlite"), "review_id": 1}
    assert [p["id"] for p in data["positions"]] == ["calm", "extra", "hedged"]
    assert data["totals"]["hedge_budget"] == 1417.5
    assert data["changes"]["since"] is None
    assert data["regime"]["elevated"] is None


def test_records_made_with_the_checks_are_the_ones_written_after(capsys):
    # the records a compact JSON review has each check's process make (review's
    # ``records``) are the very text written from the full checks afterwards; the checks
    # kept are the caller's own positions, without what only the records read. The
    # samples: Layer 3 alternatives (34 on the breached condor), holds, a profit take.
    book = [str(ROOT / "sample_positions")]
    after = app_review.review(book, journal_path=None)
    made = app_review.review(book, journal_path=None, records=review_report.encoded_row)
    assert len(made.records) == len(after.review.rows) == 9
    texts = []
    for r in (after, made):
        text = io.StringIO()
        common.write_json(text, review_report.review_json(r, encode=True))
        texts.append(text.getvalue())
    assert texts[0] == texts[1] and texts[0].count('"alternatives"') == 6
    capsys.readouterr()
    loaded = {r.check.position.id: r.check.position for r in after.review.rows}
    for row, full in zip(made.review.rows, after.review.rows, strict=True):
        assert row.check.position is not None and row.actions == full.actions
        assert row.check.position.legs == loaded[row.check.position.id].legs
        assert row.check.layer3 is None and row.check.hedge_plan is None
        assert all(not rec.alternatives for rec in row.check.recommendations)
        assert row.check.greeks == full.check.greeks
    assert made.review.totals == after.review.totals


def test_emit_csv(desk, capsys):
    review_report.emit_review(run(desk, 2), "csv")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    pairs = [(r["id"], r["rec.action"]) for r in rows]
    assert sorted(set(pairs), key=pairs.index) == [
        ("calm", "open_hedge"),
        ("extra", "open_hedge"),
        ("hedged", "open_hedge"),
    ]
    assert {r["hedge_spent"] for r in rows if r["id"] == "hedged"} == {"480.0"}
    review_report.emit_review(run(desk, 3, changes=True), "csv")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["kind"] == "layer_dropped"


def test_emit_table(desk, capsys):
    run(desk, 1)
    review_report.emit_review(run(desk, 2, changes=True), "table")
    out = capsys.readouterr().out
    for text in (
        "alvh review as of 2026-11-24T15:45:00-05:00",
        "3 positions, 3 need action",
        "Book, most urgent first",
        "Book totals",
        "Recommendations",
        "Changes since review #1",
        "new layer",
        "0 positions with nothing to do",
    ):
        assert text in out, text


# ------------------------------------------------------------------ command line


def test_cli_exit_status_and_journal(desk, alvh, monkeypatch):
    monkeypatch.chdir(desk)
    common = ["--market", "day1.toml", "--journal", "j.sqlite", "--format", "json"]
    done = alvh(["review", "book", *common])
    assert done.code == 0, done.err  # day 1: nothing to do
    act = alvh(
        [
            "review",
            "book",
            "--market",
            "day2.toml",
            "--journal",
            "j.sqlite",
            "--changes",
            "--format",
            "json",
        ]
    )
    assert act.code == 1, act.err
    data = json.loads(act.out)
    assert data["changes"]["since"]["review_id"] == 1
    assert data["journal"]["review_id"] == 2
    with sqlite3.connect(desk / "j.sqlite") as conn:
        (argv,) = conn.execute("SELECT argv FROM reviews WHERE id = 2").fetchone()
    assert json.loads(argv)[:2] == ["review", "book"]


def test_cli_no_journal_writes_nothing(desk, alvh, monkeypatch):
    monkeypatch.chdir(desk)
    home = desk / "home"
    env_home = {"HOME": str(home), "XDG_DATA_HOME": str(home / "data")}  # default journal's home
    run = alvh(
        ["review", "book", "--market", "day1.toml", "--no-journal", "--format", "json"],
        env=env_home,
    )
    assert run.code == 0, run.err
    assert json.loads(run.out)["journal"] == {"path": None, "review_id": None}
    assert not home.exists()


def test_cli_default_journal_under_user_data_dir(desk, alvh, monkeypatch):
    monkeypatch.chdir(desk)
    home = desk / "home"
    run = alvh(
        ["review", "book", "--market", "day1.toml", "--format", "json"],
        env={"HOME": str(home), "XDG_DATA_HOME": str(home / "data")},
    )
    assert run.code == 0, run.err
    if sys.platform.startswith("linux"):
        assert (home / "data" / "alvh" / "journal.sqlite").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["book", "--market", "day1.toml", "--journal", "notes.txt"],
            "alvh: notes.txt: not a usable alvh journal",
        ),
        (["book", "--market", "day1.toml", "--journal", "."], "alvh: .: is a directory"),
        (
            ["missing", "--market", "day1.toml", "--no-journal"],
            "alvh: missing: no such file or directory",
        ),
        (
            ["book", "--market", "day1.toml", "--no-journal", "--history", "notes.txt"],
            "alvh: notes.txt",
        ),
    ],
)
def test_cli_bad_input_exits_2(desk, args, message, alvh, monkeypatch):
    monkeypatch.chdir(desk)
    (desk / "notes.txt").write_text("hello\n")
    run = alvh(["review", *args])
    assert run.code == 2, run.out
    assert run.err.startswith(message), run.err
    assert "Traceback" not in run.err


def test_a_position_copied_into_two_files_is_flagged(tmp_path):
    import shutil

    src = Path(__file__).resolve().parent.parent / "sample_positions" / "calm.toml"
    for name in ("a.toml", "b.toml"):
        shutil.copy(src, tmp_path / name)
    result = app_review.review([tmp_path]).review
    assert len(result.rows) == 2
    assert list(result.warnings) == [
        f"position 'dec-calm' in {tmp_path / 'b.toml'} repeats {tmp_path / 'a.toml'} "
        "leg for leg: counted twice?"
    ]


def test_changes_csv_without_changes_still_has_its_header(desk, alvh, monkeypatch):
    monkeypatch.chdir(desk)
    args = ["review", "book", "--market", "day1.toml", "--journal", "j.sqlite"]
    alvh(args)
    run = alvh([*args, "--changes", "--format", "csv"])
    assert run.out == ",".join(review_report.CHANGE_COLUMNS) + "\n"


def test_the_changes_csv_columns_are_a_changes_fields():
    from dataclasses import fields

    from alvh_cli.journal import Change

    assert tuple(f.name for f in fields(Change)) == review_report.CHANGE_COLUMNS


def _readme_cron_script() -> str:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    (script,) = [b for b in blocks if "crontab:" in b]
    return script


@pytest.mark.skipif(shutil.which("jq") is None, reason="the README's cron script needs jq")
def test_the_readme_cron_script_mails_a_breached_position_held(tmp_path):
    """The README's cron job, run as written (its mail and alvh on PATH, a book in
    $HOME/book), on a book whose only position is through its short call at 3.04x and held:
    status 1, and the mail names the position, its decision and its reason."""
    import os
    import subprocess

    home = tmp_path / "home"
    (home / "book" / "positions").mkdir(parents=True)
    sample = (ROOT / "sample_positions" / "call_tested.toml").read_text()
    breached = re.sub(r"(?m)^spx = .*$", "spx = 6240", sample)
    (home / "book" / "positions" / "dec.toml").write_text(breached)
    (home / "book" / "today.toml").write_text(breached)  # its [market] is the day's
    history = ["date,spx,vix"]
    day = date(2026, 8, 3)
    while day <= date(2026, 11, 24):
        if day.weekday() < 5:
            history.append(f"{day},{6000 + day.toordinal() % 17},{16 + day.toordinal() % 5}")
        day += timedelta(days=1)
    (home / "book" / "spx_vix.csv").write_text("\n".join(history) + "\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "alvh").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m alvh_cli "$@"\n')
    (bin_dir / "mail").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > "{tmp_path}/mail.args"\ncat > "{tmp_path}/mail.body"\n'
    )
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    script = tmp_path / "alvh-daily"
    script.write_text(_readme_cron_script())
    env = {**os.environ, "HOME": str(home), "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "PYTHONPATH": str(ROOT), "XDG_DATA_HOME": str(home / "data")}  # fmt: skip
    done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "action or attention today" in (tmp_path / "mail.args").read_text()
    body = (tmp_path / "mail.body").read_text()
    assert body.startswith("dec-call  hold !  mark 3.04x >= 3x; holding is the best of")


def test_a_breached_position_held_is_listed_in_every_format(tmp_path, alvh, monkeypatch):
    """Through its short call at 3.04x, the decision is to hold: the review still lists it,
    with its decision and reason, in the table, the JSON (attention: true) and the CSV."""
    sample = (ROOT / "sample_positions" / "call_tested.toml").read_text()
    book = tmp_path / "dec.toml"
    book.write_text(re.sub(r"(?m)^spx = .*$", "spx = 6240", sample))
    args = ["review", book, "--no-journal"]
    data = json.loads(alvh([*args, "--format", "json"]).out)
    (rec,) = data["recommendations"]
    assert (rec["action"], rec["attention"]) == ("hold", True)
    assert rec["reason"].startswith("mark 3.04x >= 3x; holding is the best of")
    assert rec["alternatives"] and data["positions"][0]["attention"] is True
    rows = list(csv.DictReader(io.StringIO(alvh([*args, "--format", "csv"]).out)))
    assert [(r["id"], r["rec.action"], r["rec.attention"]) for r in rows] == [
        ("dec-call", "hold", "True")
    ]
    assert rows[0]["rec.reason"] == rec["reason"]
    table = alvh(args)
    assert table.code == 1
    assert "hold !" in table.out and rec["reason"][:40] in table.out
    assert "1 held with attention" in table.out and "nothing to do today" not in table.out
