"""Tables that fit the terminal: every command rendered at 80, 100 and 200 columns.

The contract (output/layout.py): a number is never shortened ("8.…", "-2,…"),
no line is wider than the terminal, and every figure the JSON carries for a
position is on screen in the form the table prints it. The JSON of the same
run is the independent record the text is checked against; the layouts are
exercised both through rich (a small book) and plain (``BIG_BOOK`` forced to 0,
the path 10,000-position books take).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from test_market_snapshot import files  # noqa: F401  (the chain fixture)

from alvh_cli.output import layout
from alvh_cli.output.common import money, num
from alvh_cli.output.layout import Column, Grid, plain_lines

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted(str(p) for p in (ROOT / "sample_positions").glob("*.toml"))
WIDTHS = (80, 100, 200)
# A number cut short: a digit, sign or comma right before or after the ellipsis.
CUT = re.compile(r"[-+\d.,$]…|…[\d.,]")


def run(alvh, args, width=None):
    """stdout of ``alvh ARGS`` with ``COLUMNS`` set to ``width`` (unset for None)."""
    r = alvh(args, env={"COLUMNS": None if width is None else str(width)})
    assert r.code in (0, 1), r.err
    return r.out


def check_fits(text: str, width: int) -> None:
    assert "…" not in text, CUT.findall(text) or text[text.index("…") - 40 :][:80]
    for line in text.splitlines():
        assert len(line) <= width, f"{len(line)} > {width}: {line!r}"


def as_if_at_a_terminal(monkeypatch):
    """The rich layout a terminal gets (captured stdout is not one: it gets plain text)."""
    from alvh_cli.output import common

    monkeypatch.setattr(common, "layout_console", common.console)


@pytest.fixture(params=[False, True], ids=["rich", "plain"])
def plain(request, monkeypatch):
    if request.param:
        monkeypatch.setattr(layout, "BIG_BOOK", 0)
    else:
        as_if_at_a_terminal(monkeypatch)
    return request.param


@pytest.mark.parametrize("width", WIDTHS)
def test_check_fits_and_shows_every_figure(width, plain, alvh, monkeypatch):
    monkeypatch.chdir(ROOT)
    data = json.loads(run(alvh, ["check", "--format", "json", *SAMPLES]))
    text = run(alvh, ["check", *SAMPLES], width)
    check_fits(text, width)
    compact = width < layout.COMPACT_BELOW
    assert ("┃ position" in text) == (not compact and not plain)
    for p in data["positions"]:
        assert p["id"] in text
        for figure in (
            f"{p['mark_multiple']:.2f}x",
            money(p["pnl"]),
            money(p["figures"]["cvar"]),
            num(p["debit_to_close"]),
        ):
            assert figure in text, (p["id"], figure)
        for rec in p["recommendations"]:
            assert rec["action"] in text
            for o in rec["orders"]:
                # "debit 0.92 × 5": the ticket's limit, unsigned, with its order size
                assert f"{o['limit_text']} × {o['quantity']}" in text
                assert re.match(r"(debit|credit) \d+\.\d\d$", o["limit_text"])


@pytest.mark.parametrize("width", WIDTHS)
def test_review_fits_and_shows_every_figure(width, plain, alvh, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = ["review", "sample_positions", "--no-journal"]
    data = json.loads(run(alvh, [*args, "--format", "json"]))
    text = run(alvh, args, width)
    check_fits(text, width)
    for r in data["positions"]:
        assert r["id"] in text
        figures = (f"{r['mark_multiple']:.2f}x", money(r["pnl"]), money(r["greeks"]["delta"]))
        for figure in figures:
            assert figure in text, (r["id"], figure)
    for rec in data["recommendations"]:
        for o in rec["orders"] if rec["action"] != "hold" else ():
            assert f"{o['limit_text']} × {o['quantity']}" in text
    assert money(data["totals"]["pnl"]) in text


@pytest.mark.parametrize("width", WIDTHS)
def test_price_fits_and_shows_every_figure(width, plain, alvh, monkeypatch):
    monkeypatch.chdir(ROOT)
    data = json.loads(run(alvh, ["price", "--format", "json", *SAMPLES]))
    text = run(alvh, ["price", *SAMPLES], width)
    check_fits(text, width)
    for leg in data["legs"]:
        for figure in (num(leg["price"]), num(leg["gamma"], ".5f"), money(leg["value"])):
            assert figure in text, (leg["position"], leg["leg"], figure)
    for p in data["positions"]:
        assert f"{p['mark_multiple']:.2f}x" in text
        assert money(p["greeks"]["total"]["vega"]) in text


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("sample", ["put_tested_1_6x.toml", "book.toml"])
def test_size_hedge_fits(width, sample, alvh, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = f"sample_positions/{sample}"
    data = json.loads(run(alvh, ["size-hedge", path, "--format", "json"]))
    text = run(alvh, ["size-hedge", path], width)
    check_fits(text, width)
    for p in data["positions"]:
        for row in p["ladder"]:
            assert money(row["pnl"]) in text, (p["id"], row["rung"])
        plan = p["hedge_plan"]
        for c in plan["candidates"] if plan else ():
            assert f"{c['debit']:.2f}" in text


def test_compact_layout_below_120_columns(alvh, monkeypatch):
    monkeypatch.chdir(ROOT)
    as_if_at_a_terminal(monkeypatch)
    sample = "sample_positions/put_breached_3x.toml"
    wide = run(alvh, ["check", sample], 160)
    narrow = run(alvh, ["check", sample], 119)
    assert "┃ position" in wide and "┃" not in narrow
    # the stacked block: the reason on a line of its own
    assert re.search(r"^\s+why: mark 3\.20x >= 3x", narrow, re.M)


@pytest.mark.parametrize("command", [["check"], ["review", "--no-journal"]])
def test_full_tables_fit_120_columns(command, alvh, monkeypatch):
    """The README promises full tables from 120 columns: every sample's tables (positions,
    recommendations, Layer 3 alternatives; the book and its totals) fit there, no number
    shortened."""
    monkeypatch.chdir(ROOT)
    as_if_at_a_terminal(monkeypatch)
    samples = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "sample_positions").glob("*.toml"))
    text = run(alvh, [command[0], *samples, *command[1:]], 120)
    check_fits(text, 120)
    assert "┃ position" in text


def test_plain_grid_aligns_columns_and_puts_wrapped_text_below():
    grid = Grid([Column("id", "left"), Column("P&L $"), Column("reason", "left", wrap=True)])
    grid.add("a", "-1,234", "short")
    grid.add("long-id", "5.00\n6.00", "word " * 30)
    lines = plain_lines(grid, 40)
    assert lines[0] == "id        P&L $"
    assert lines[1] == "-------  ------"
    assert lines[2] == "a        -1,234"
    assert lines[3] == "    short"
    assert lines[4] == "long-id    5.00"
    assert lines[5] == "           6.00"
    assert all(len(x) <= 40 for x in lines)
    assert lines[6].startswith("    word") and lines[7].startswith("      word")


def test_grid_needs_counts_borders_and_padding():
    grid = Grid([Column("a"), Column("bb", wrap=True)])
    grid.add("12345", "x" * 200)
    # widths 5 and WRAP_MIN, 1 space of padding each side, 3 borders
    assert grid.needs() == 5 + layout.WRAP_MIN + 2 * 2 + 3


def test_fields_pack_items_and_never_split_one(capsys):
    from rich.console import Console

    console = Console(width=30, file=sys.stdout)
    out = layout.Out(console, layout.Layout(30, True, True))
    out.fields(["P&L $ -26,950", "$delta 94.29", "x" * 40, "EV $ -1,015"], indent=2)
    out.flush()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "  P&L $ -26,950; $delta 94.29;"
    assert lines[1] == "    " + "x" * 40 + ";"  # alone and too long: runs over, not cut
    assert lines[2] == "    EV $ -1,015"


@pytest.mark.parametrize("width", WIDTHS)
def test_price_with_a_fitted_surface_fits(width, files, alvh):  # noqa: F811
    _, chain, pos = files
    data = json.loads(run(alvh, ["price", pos, "--chain", chain, "--format", "json"]))
    text = run(alvh, ["price", pos, "--chain", chain], width)
    check_fits(text, width)
    assert "SPX surface from" in text
    for e in data["surface"][0]["expiries"]:
        assert num(e["forward"]) in text and num(e["rms"], ".3f") in text


def test_a_pipe_gets_plain_text_without_rich(alvh, monkeypatch):
    """Piped (a script, a cron mail): aligned plain text at COLUMNS, no box drawing."""
    monkeypatch.chdir(ROOT)
    text = run(alvh, ["check", "sample_positions/put_tested_1_6x.toml"], 150)
    check_fits(text, 150)
    assert "┃" not in text and re.search(r"^position\s+DTE\s+debit", text, re.M)


def test_a_grid_measured_again_after_a_row_is_added():
    grid = Grid([Column("id", "left"), Column("P&L $")])
    grid.add("a", "1")
    assert grid.widths() == [2, 5]
    grid.add("a-long-id", "1,234,567")
    assert grid.widths() == [9, 9]
    assert plain_lines(grid, 80) == ["id             P&L $", "---------  ---------",
                                     "a                  1", "a-long-id  1,234,567"]  # fmt: skip


def test_plain_rows_of_several_lines_align_as_rows_of_one():
    grid = Grid([Column("a", "left"), Column("b"), Column("why", "left", wrap=True)])
    grid.add("x\nyy", "1", "because")
    grid.add("z", "22\n3", "")
    assert plain_lines(grid, 80) == ["a    b", "--  --", "x    1", "yy", "    because",
                                     "z   22", "     3"]  # fmt: skip
