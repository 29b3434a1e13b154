"""The book hedged as a book: one program for the positions due a hedge layer on one
snapshot, its hedges shared out by CVaR contribution, each position still deciding.

Truth used here: the Euler allocation sums to the CVaR of the sum (a property of the
tail weights); Hamilton's method gives whole parts within one of their quotas that sum
to the count; the book program is exact (hedge_milp), so the positions' own programs,
added up, are one point it could have chosen — their book objective is no better."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alvh_cli.inputs.book import load_book
from alvh_cli.method import book_hedge
from alvh_cli.method.check import ScenarioSets, check_values, sizes_a_hedge
from alvh_cli.method.decision import Preference
from alvh_cli.method.scenarios import cvar
from alvh_cli.model.valuation import value_book

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "tests" / "fixtures" / "book_put_tested.toml"
HEDGING = ROOT / "tests" / "fixtures" / "hedging_rules.toml"


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(20, 300),
    st.sampled_from([0.05, 0.1, 0.013]),
    st.integers(0, 2**31 - 1),
)
def test_contributions_add_up_to_the_cvar_of_the_sum(rows, n, level, seed):
    pnl = np.random.default_rng(seed).normal(0, 1000, (rows, n))
    parts = book_hedge.contributions(pnl, level)
    assert parts.sum() == pytest.approx(cvar(pnl.sum(axis=0), level), rel=1e-9, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60), st.lists(st.floats(0.0, 10.0), min_size=1, max_size=8))
def test_whole_contracts_are_shared_within_one_of_each_quota(count, raw):
    total = sum(raw)
    weights = np.array(raw) / total if total > 0 else np.full(len(raw), 1 / len(raw))
    parts = book_hedge.apportion(float(count), weights)
    assert parts.sum() == count
    assert np.all(parts == np.round(parts)) and np.all(parts >= 0)
    assert np.all(np.abs(parts - count * weights) < 1 + 1e-9)
    exact = book_hedge.apportion(float(count), weights, integral=False)
    assert exact.sum() == pytest.approx(count)


def test_shares_follow_the_losses_in_the_tail_and_a_gain_there_takes_none():
    # two positions lose 300 and 100 in the book's tail, one gains 50 there: 75% / 25% / 0
    assert book_hedge.shares(np.array([-300.0, -100.0, 50.0]), np.ones(3)).tolist() == [
        0.75,
        0.25,
        0.0,
    ]
    # nobody loses in the tail: shared as the spending limits are
    assert book_hedge.shares(np.array([10.0, 20.0]), np.array([100.0, 300.0])).tolist() == [
        0.25,
        0.75,
    ]


def _book(**rules):
    (lf,) = load_book([BOOK], rules=HEDGING)
    return replace(lf, rules=replace(lf.rules, **rules)) if rules else lf


def _checked(lf, book_hedges=True):
    values = value_book([lf])
    return values, check_values(values, workers=1, book_hedges=book_hedges)


def _book_pnl(values, result=None, only=None) -> np.ndarray:
    """The summed P&L over the historical scenarios of the positions as checked (those at
    ``only``'s indices, default all), with the hedges each was told to buy (each hedge's
    own P&L from its plan); none without a ``result``."""
    sets = ScenarioSets()
    total = 0.0
    for k, pv in enumerate(values):
        if only is not None and k not in only:
            continue
        ev = sets.evaluator(pv)
        hist = ev.scenarios.historical
        total = total + ev.pnl(pv.position.legs, pv.values).sum(axis=0)[hist]
        pc = result.positions[k] if result is not None else None
        if pc is not None and any(r.action.value == "open_hedge" for r in pc.recommendations):
            for hedge, n in pc.hedge_plan.chosen:
                total = total + n * hedge.pnl[hist]
    return total


def test_every_position_of_the_book_is_due_a_hedge_layer():
    lf = _book()
    values = value_book([lf])
    assert len(values) == 6 and all(sizes_a_hedge(pv, None) for pv in values)


SETTINGS = [(1.0, 3), (0.13, 3), (0.19, 3), (0.3, 3), (1.0, 2), (2.0, 2)]


@pytest.mark.parametrize(("gamma", "adjust"), SETTINGS)
def test_the_book_program_beats_the_positions_own_programs_added_up(gamma, adjust):
    """Over the positions that end in the book, EV + γ·CVaR of their summed P&L with the
    book's hedges is at least that with each one's own program's hedges (a point the
    exact program weighs: same candidates, within the pooled budget and the futures'
    rules); above holding where the book buys anything. The settings include books that
    positions leave (γ 0.13-0.19: some would rather hold; adjustments from Layer 2: some
    close their verticals)."""
    lf = _book(risk_aversion=gamma, adjust_from_layer=adjust)
    level = lf.rules.cvar_level
    values, book = _checked(lf)
    _, own = _checked(lf, book_hedges=False)
    members = {k for k, pc in enumerate(book.positions) if _in_book(pc)}
    assert len(members) >= 2

    def objective(x):
        return float(x.mean()) + gamma * cvar(x, level)

    with_book = _book_pnl(values, book, members)
    with_own = _book_pnl(values, own, members)
    assert objective(with_book) >= objective(with_own) - 1e-6 * abs(objective(with_own))
    assert objective(with_book) >= objective(_book_pnl(values, None, members)) - 1e-6
    # the figures the reasons print are the book's own
    share = book.positions[min(members)].hedge_plan.book
    assert share.positions == len(members)
    assert share.cvar_after == pytest.approx(cvar(with_book, level), abs=0.01)
    assert share.ev_after == pytest.approx(float(with_book.mean()), abs=0.01)


@pytest.mark.parametrize(("gamma", "adjust"), SETTINGS)
def test_a_position_out_of_the_book_decides_as_with_its_own_program(gamma, adjust):
    lf = _book(risk_aversion=gamma, adjust_from_layer=adjust)
    _, book = _checked(lf)
    _, own = _checked(lf, book_hedges=False)
    for b, o in zip(book.positions, own.positions, strict=True):
        if _in_book(b):
            continue
        assert [r.action for r in b.recommendations] == [r.action for r in o.recommendations]
        assert [r.after for r in b.recommendations] == [r.after for r in o.recommendations]
        assert b.hedge_plan is None or b.hedge_plan.book is None


def _in_book(pc) -> bool:
    return pc.hedge_plan is not None and pc.hedge_plan.book is not None


def test_no_position_holds_more_futures_than_its_own_rule_allows():
    """The futures' size rule (a position's futures gain at most what it loses at its worst
    rung) holds for each share, not only for the book."""
    from alvh_cli.method import hedges

    for gamma in (1.0, 3.0):
        values, book = _checked(_book(risk_aversion=gamma))
        sets = ScenarioSets()
        held = 0
        for pv, pc in zip(values, book.positions, strict=True):
            for hedge, n in pc.hedge_plan.chosen:
                if hedge.instrument == "vix_future":
                    assert hedge.root == "VXM"
                    ev = sets.evaluator(pv)
                    pnl = ev.pnl(pv.position.legs, pv.values).sum(axis=0)
                    assert n <= hedges.futures_room(ev, pnl, hedge)
                    held += n
        assert held > 0


def test_the_same_snapshot_and_rules_in_two_files_make_one_book(tmp_path):
    """Two files, each with its own copy of the same [market] and [rules]: one book."""
    text = BOOK.read_text()
    head, _, body = text.partition("[[positions]]")
    rules = HEDGING.read_text()
    chunks = ["[[positions]]" + c for c in body.split("[[positions]]")]
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(head + rules + "".join(chunks[:3]))
    b.write_text(head + rules + "".join(chunks[3:]).replace('id = "p', 'id = "q'))
    values = value_book(load_book([a, b]))
    result = check_values(values, workers=1)
    sizes = {pc.hedge_plan.book.positions for pc in result.positions if _in_book(pc)}
    assert sizes == {6}


def test_a_position_with_its_own_cvar_limit_keeps_its_own_program():
    """A per-position CVaR limit binds that position's program; the book's has none."""
    lf = _book(cvar_limit=9000.0)
    _, book = _checked(lf)
    _, own = _checked(lf, book_hedges=False)
    for b, o in zip(book.positions, own.positions, strict=True):
        assert not _in_book(b)
        assert [r.after for r in b.recommendations] == [r.after for r in o.recommendations]


def test_the_readmes_figures_for_the_test_book_are_alvhs():
    lf = _book()
    level, gamma = lf.rules.cvar_level, lf.rules.risk_aversion
    values, book = _checked(lf)
    _, own = _checked(lf, book_hedges=False)
    text = (ROOT / "README.md").read_text()

    def said(result):
        x = _book_pnl(values, result)
        if result is None:
            return f"{float(x.mean()) + gamma * cvar(x, level):,.0f}".replace("-", "−")
        plans = [pc.hedge_plan for pc in result.positions]
        count = sum(n for p in plans for _, n in p.chosen)
        spend = sum(p.spend for p in plans)
        objective = float(x.mean()) + gamma * cvar(x, level)
        return count, f"${spend:,.0f}", f"{objective:,.0f}".replace("-", "−")

    (nb, sb, ob), (no, so, oo) = said(book), said(own)
    sentence = (
        f"program buys {nb} contracts for {sb} against {no} for {so} one position at a\n"
        f"time, and the book's EV + CVaR is {ob} against {oo} (held: {said(None)})."
    )
    assert sentence in text


def test_the_shares_add_up_to_the_books_hedges_within_its_spend():
    lf = _book()
    _, result = _checked(lf)
    plans = [pc.hedge_plan for pc in result.positions]
    share = plans[0].book
    assert share.positions == 6 and all(p.book is not None for p in plans)
    book_counts = {r.hedge.key: r.count for r in plans[0].ranked if r.count}
    shared: dict = {}
    for p in plans:
        for hedge, n in p.chosen:
            shared[hedge.key] = shared.get(hedge.key, 0) + n
    assert shared == book_counts and book_counts
    spend = sum(p.spend for p in plans)
    assert spend == pytest.approx(share.spend)
    assert share.budget == pytest.approx(sum(p.limit for p in plans))
    assert spend <= share.budget + 1e-6
    assert sum(p.book.share for p in plans) == pytest.approx(1.0)


def test_no_position_is_told_to_buy_a_share_worse_than_holding():
    lf = _book()
    _, result = _checked(lf)
    for pc in result.positions:
        pref = Preference.for_position(lf.rules, pc.position)
        for r in pc.recommendations:
            assert r.objective_after >= r.objective_before - pref.tie, r.reason
        assert "hedged as a book of 6 positions" in pc.recommendations[0].reason


def test_a_book_cvar_limit_binds_the_book_and_outranks_holding():
    """At γ 0.01 the book buys less than at γ 1; a book limit halfway between the two
    book CVaRs (reachable: γ 1 reaches it within the same spend) is met, and the positions
    take their shares although their own γ 0.01 would rather hold."""
    low = _checked(_book(risk_aversion=0.01))[1].positions[0].hedge_plan.book
    high = _checked(_book())[1].positions[0].hedge_plan.book
    assert high.cvar_after > low.cvar_after + 1000
    limit = -(low.cvar_after + high.cvar_after) / 2
    _, bound = _checked(_book(risk_aversion=0.01, book_cvar_limit=limit))
    share = bound.positions[0].hedge_plan.book
    assert share.binding and share.positions == 6
    assert share.cvar_after >= -limit - 1e-6 > low.cvar_after
    assert all(
        any(r.action.value == "open_hedge" for r in pc.recommendations)
        for pc in bound.positions
        if pc.hedge_plan.chosen
    )
    assert "holding misses the book's limit" in bound.positions[0].recommendations[0].reason


def test_positions_that_would_rather_adjust_leave_the_book():
    """At the default rules (γ 0.05, adjustments from Layer 1) every position of this book
    closes its put vertical on its own figures: each leaves the book, none buys a hedge, and
    each decision is the one its own program gives."""
    (lf,) = load_book([BOOK])
    _, book = _checked(lf)
    _, own = _checked(lf, book_hedges=False)
    for b, o in zip(book.positions, own.positions, strict=True):
        assert [r.action for r in b.recommendations] == [r.action for r in o.recommendations]
        assert all(r.action.value != "open_hedge" for r in b.recommendations)
        assert _same_figures(b.recommendations[0].after, o.recommendations[0].after)


def test_a_leaver_whose_own_program_cannot_win_is_not_solved_again(monkeypatch):
    """At the default rules every position of the test book closes its put vertical rather
    than take a share. Each one's own program is bounded (its objective as held plus its
    spend times the best candidate's value per dollar at the margin) below that close, so
    none is solved: one program for the book, none per position, the same decisions."""
    from alvh_cli.method import hedges

    (lf,) = load_book([BOOK])
    solved = []
    real = hedges.plan
    monkeypatch.setattr(hedges, "plan", lambda *a, **k: solved.append(1) or real(*a, **k))
    _, book = _checked(lf)
    assert not solved
    _, own = _checked(lf, book_hedges=False)
    assert len(solved) == 6
    for b, o in zip(book.positions, own.positions, strict=True):
        assert [r.action for r in b.recommendations] == [r.action for r in o.recommendations]
        for x, y in zip(b.recommendations, o.recommendations, strict=True):
            assert _same_figures(x.after, y.after)


def _same_figures(a, b) -> bool:
    """Figures equal to the last bit: the second check in one process values the book as
    the first did, though the first loaded scipy (pricing.sized_normal)."""
    if a is None or b is None:
        return a is b
    return vars(a) == vars(b)


def test_check_takes_per_position_hedges_from_the_command_line(alvh):
    args = ["check", BOOK, "--rules", HEDGING, "--format", "json"]
    book, own = alvh(args), alvh([*args, "--per-position-hedges"])
    assert book.code == own.code == 1
    assert "hedged as a book of 6 positions" in book.out
    assert "hedged as a book" not in own.out
    books = [p["hedge_book"] for p in json.loads(book.out)["positions"]]
    assert all(b["positions"] == 6 for b in books)
    assert sum(b["share"] for b in books) == pytest.approx(1.0, abs=1e-5)
    assert books[0]["spend"] <= books[0]["budget"]
    assert all(p["hedge_book"] is None for p in json.loads(own.out)["positions"])


def test_a_book_of_one_is_the_positions_own_program(alvh):
    path = ROOT / "sample_positions" / "put_tested_1_6x.toml"
    args = ["check", path, "--rules", HEDGING, "--format", "json"]
    assert alvh(args).out == alvh([*args, "--per-position-hedges"]).out


@pytest.mark.parametrize("rules", [{}, {"risk_aversion": 0.3}, {"book_cvar_limit": 50_000.0}])
def test_the_books_program_is_the_full_milps(monkeypatch, rules):
    """The one program of the test book (six positions summed, 400+ candidates) reaches the
    full MILP's objective within 1e-6 relative (the full MILP: every candidate, every
    scenario, HiGHS; tests/test_hedges.py)."""
    from test_hedges import Programs

    programs = Programs(monkeypatch)
    _checked(_book(**rules))
    assert len(programs.seen) >= 1
    assert min(len(a["cost"]) for a in programs.seen) >= 400
    programs.check_against_the_full_milp()


def _first_orders(out: str) -> dict:
    """Each position's open_hedge orders in a check's JSON: (quantity, first leg's OCC)."""
    return {
        p["id"]: [
            (o["quantity"], o["legs"][0]["occ"] or o["legs"][0]["root"])
            for r in p["recommendations"]
            if r["action"] == "open_hedge"
            for o in r["orders"]
        ]
        for p in json.loads(out)["positions"]
    }


def test_size_hedge_shows_the_share_check_decides(alvh):
    base = ["--rules", HEDGING, "--format", "json"]
    checked = json.loads(alvh(["check", BOOK, *base]).out)["positions"][3]
    sized = json.loads(alvh(["size-hedge", BOOK, "-p", "p3", *base]).out)["positions"][0]
    assert sized["hedge_plan"]["book"]["positions"] == 6
    assert sized["hedge_plan"]["book"] == checked["hedge_book"]
    chosen = sized["hedge_plan"]["chosen"]
    bought = [(h["count"], h["long_strike"], h["instrument"]) for h in chosen]
    told = [(r["quantity"], r["long_strike"], r["instrument"]) for r in checked["recommendations"]]
    assert bought == told


def test_apply_records_the_order_check_gave_the_position_in_its_book(alvh, tmp_path):
    book = tmp_path / "book.toml"
    book.write_text(BOOK.read_text())
    orders = _first_orders(alvh(["check", book, "--rules", HEDGING, "--format", "json"]).out)
    quantity, occ = orders["p3"][0]
    run = alvh(
        ["apply", book, "-p", "p3", "--order", "1", "--fill", "2.47", "--rules", HEDGING,
         "--no-journal"]
    )  # fmt: skip
    assert run.code == 0, run.err
    (lf,) = load_book([book])
    (p3,) = [p for p in lf.file.positions if p.id == "p3"]
    (opened,) = [g for g in p3.legs if g.underlying == "VIX"]
    assert opened.quantity == quantity and f"{int(opened.strike):05d}000" in occ


def test_review_takes_per_position_hedges_too(alvh, tmp_path):
    args = ["review", BOOK, "--rules", HEDGING, "--format", "json", "--no-journal"]
    book, own = alvh(args), alvh([*args, "--per-position-hedges"])
    assert book.code == own.code == 1
    assert "hedged as a book of 6" in book.out and "hedged as a book" not in own.out
