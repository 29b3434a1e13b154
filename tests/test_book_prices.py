"""The loader checks the prices of a book's files together: each file gets what it would
alone (its model-wing warnings, or the error that refuses it), and a bad file costs only
itself, whether the check refuses it or pricing does."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from builders import condor, market, vix_spread

from alvh_cli.errors import InputError
from alvh_cli.inputs import book
from alvh_cli.model.domain import Quote, Smile
from alvh_cli.model.valuation import check_files_prices, check_prices


def _alone(positions, mkt):
    try:
        return check_prices(positions, mkt)
    except InputError as exc:
        return exc


def _said(outcome):
    """An outcome as the user reads it: an error's line, or the warnings' lines."""
    if isinstance(outcome, InputError):
        return ("error", str(outcome), outcome.key)
    return ("warnings", [(w.message, w.source, w.key) for w in outcome])


def _same_as_alone(files, mkt):
    together = check_files_prices(files, mkt)
    assert [_said(o) for o in together] == [_said(_alone(f, mkt)) for f in files]
    return [_said(o) for o in together]


def test_each_file_gets_its_own_wing_warnings_and_vertical_errors():
    """Skew −1.1, smile 2.5 prices the 4700 put above the 4825 put (a wing warning naming the
    position that holds them, in its file alone); quotes that make the 5400/5500 put spread
    worth −74.4 refuse the one file holding it."""
    quotes = (
        Quote("SPX", "put", 5400, date(2026, 12, 18), 74.40, 74.60),
        Quote("SPX", "put", 5500, date(2026, 12, 18), 0.10, 0.20),
    )
    mkt = market(spx=5800.0, spx_vol=Smile(0.165, -1.1, 2.5), quotes=quotes)
    files = [
        [condor((4825, 4925, 6100, 6200), pid="calm")],
        [condor((4700, 4825, 6100, 6200), pid="wing")],
        [condor(pid="crossed")],
        [condor((4700, 4825, 6100, 6200), pid="wing-too"), condor((4500, 4600, 6100, 6200))],
    ]
    said = _same_as_alone(files, mkt)
    assert said[0] == ("warnings", [])
    assert said[1][0] == "warnings" and "(position 'wing')" in said[1][1][0][0]
    assert said[2][0] == "error" and "the put spread 5400/5500 prices at -74." in said[2][1]
    assert said[3][0] == "warnings"  # 4500/4600, 4600/4700 and 4700/4825: sorted by strike
    named = [w[0][w[0].rindex("(position") :] for w in said[3][1]]
    assert named == ["(position 'ic')", "(position 'wing-too', 'ic')", "(position 'wing-too')"]


def test_a_file_pricing_refuses_costs_only_itself():
    """A VIX spread with no VIX smile (its legs' pricing refuses it), and one on an expiry
    with no VIX future (the model's pricing at its strikes refuses it): those files alone
    are refused, with the message each would get alone."""
    no_vix_smile = market(vix_vol=None)
    files = [
        [condor(pid="a")],
        [condor(pid="b", hedges=vix_spread(25, 30, 5, 1.0, 0.5))],
        [condor(pid="c")],
    ]
    said = _same_as_alone(files, no_vix_smile)
    assert [s[0] for s in said] == ["warnings", "error", "warnings"]
    assert "no VIX smile to price a VIX option" in said[1][1]

    late = vix_spread(25, 30, 5, 1.0, 0.5, expiry=date(2027, 6, 16))
    files = [[condor(pid="a")], [condor(pid="b", hedges=late)], [condor(pid="c")]]
    said = _same_as_alone(files, market())
    assert [s[0] for s in said] == ["warnings", "error", "warnings"]
    assert "no VIX future at or around 2027-06-16" in said[1][1]


def test_a_smile_typo_refuses_every_file_it_prices():
    """Skew −10 for −1.0 breaks the put bound by 58 points at 5400/5500: every file holding
    strikes there is refused, each naming its own position."""
    mkt = market(spx_vol=Smile(0.15, -10.0, 0.0))
    files = [[condor(pid="a")], [condor(pid="b")]]
    said = _same_as_alone(files, mkt)
    assert [s[0] for s in said] == ["error", "error"]
    assert said[0][1].endswith("(position 'a')") and said[1][1].endswith("(position 'b')")


SAMPLES = Path(__file__).resolve().parent.parent / "sample_positions"


@pytest.mark.parametrize("batch", [1, 8, 4096])
def test_a_book_loads_file_by_file_whatever_the_batches(tmp_path, monkeypatch, batch):
    """A shared market whose quotes make the 5500/5550 put spread worth −79.9: the file
    holding it is refused where it stands, between a syntax error and good files, with the
    errors and warnings each file gets loaded alone, however many legs are checked in one
    batch (``batch``: 1 and 8 legs check the 4-leg files one or two at a time)."""
    monkeypatch.setattr(book, "_BATCH_LEGS", batch)
    calm = (SAMPLES / "calm.toml").read_text()
    head, _, legs = calm.partition("[[positions]]")
    quotes = (
        '\n[[market.quotes]]\ntype = "put"\nstrike = 5500\nexpiry = 2026-12-18\n'
        "bid = 80.0\nask = 80.2\n"
        '\n[[market.quotes]]\ntype = "put"\nstrike = 5550\nexpiry = 2026-12-18\n'
        "bid = 0.1\nask = 0.2\n"
    )
    (tmp_path / "market.toml").write_text(head + quotes)
    lower = legs.replace("5500", "5400").replace("5550", "5450")
    files = {
        "a_crossed.toml": "[[positions]]" + legs,
        "b_syntax.toml": "[[positions]]\nid = \n",
        "c_lower.toml": "[[positions]]" + lower,
        "d_crossed_too.toml": "[[positions]]" + legs.replace("dec-calm", "dec-2"),
        "e_lower_too.toml": "[[positions]]" + lower.replace("dec-calm", "dec-3"),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    paths = [tmp_path / name for name in files]
    market = tmp_path / "market.toml"

    def said(paths):
        loaded, errors = book.load_book_tolerant(paths, market=market)
        return (
            [(lf.file.path, [(w.message, w.key) for w in lf.warnings]) for lf in loaded],
            [(e.source, e.key, e.message) for e in errors],
        )

    together = said(paths)
    alone = [said([p]) for p in paths]
    assert together == tuple([x for a in alone for x in a[i]] for i in (0, 1))
    crossed = "the put spread 5500/5550 prices at -79.95"
    assert [(Path(s).name, crossed in m) for s, _, m in together[1]] == [
        ("market.toml", True), ("b_syntax.toml", False), ("market.toml", True)
    ]  # fmt: skip
    assert "(position 'dec-2')" in together[1][2][2]
    assert [Path(s).name for s, _ in together[0]] == ["c_lower.toml", "e_lower_too.toml"]
