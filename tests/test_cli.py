"""The command line as a user meets it: exit statuses, one-line errors, JSON, golden output."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_positions import BAD_FILES, GOOD

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "sample_positions").glob("*.toml"))
GOLDEN = Path(__file__).parent / "golden"


def test_help_lists_commands(alvh):
    code, out, _ = alvh(["--help"])
    assert code == 0
    for command in ("check", "size-hedge", "price", "rules", "schema", "signals", "calibrate"):
        assert command in out


def test_version(alvh):
    from alvh_cli import __version__

    code, out, _ = alvh(["--version"])
    assert code == 0 and __version__ in out


def test_help_does_not_import_numpy_scipy_pandas():
    code = (
        "import sys\nfrom alvh_cli import cli\nsys.argv=['alvh','--help']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "heavy=[m for m in ('numpy','scipy','pandas') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert "HEAVY []" in out.stdout, out.stdout[-300:]


@pytest.mark.parametrize(
    ("name", "heavy"),
    [
        # pricing needs no scipy at all (alvh_cli.model.normal)
        ("calm.toml", ("pandas", "scipy")),
        # sizing a hedge solves a MILP: scipy.optimize, imported when it is needed
        ("put_tested_1_6x.toml", ("pandas", "scipy.stats")),
    ],
)
def test_check_does_not_import_heavy_modules(name, heavy):
    sample = ROOT / "sample_positions" / name
    code = (
        "import sys\nfrom alvh_cli import cli\n"
        f"sys.argv=['alvh','check',{str(sample)!r},'--format','json']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY', [m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY []" in out.stdout, out.stdout[-300:]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_check_sample_exit_status_matches_recommendations(sample, alvh):
    code, out, err = alvh(["check", sample, "--format", "json"])
    assert code in (0, 1), err
    data = json.loads(out)
    acting = any(r["action"] != "hold" for p in data["positions"] for r in p["recommendations"])
    assert code == (1 if acting else 0)
    for p in data["positions"]:
        # DESIGN §3: mark multiple is debit to close / credit
        assert math.isclose(p["mark_multiple"], p["debit_to_close"] / p["credit"], rel_tol=1e-4)
        for r in p["recommendations"]:
            if r["action"] == "open_hedge":
                assert r["quantity"] >= 1
                if r["instrument"] == "vix_call_spread":
                    assert r["long_strike"] < r["short_strike"]
                if r["instrument"] == "vix_future":  # no premium: the budget pays its roll-down
                    assert r["cost"] == 0 and r["budget_cost"] > 0
                else:
                    assert math.isclose(r["cost"], r["quantity"] * r["debit"] * 100, rel_tol=1e-3)


def _close(a, b, path="$"):
    if isinstance(a, dict):
        assert set(a) == set(b), f"{path}: keys {sorted(set(a) ^ set(b))}"
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=0.011), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_check_golden_json(sample, monkeypatch, alvh):
    """Regression guard on every sample: the golden files were read by hand when written
    (marks, layers and orders match each file's comment); regenerate with
    ``ALVH_REGOLD=1 pytest tests/test_cli.py`` only after checking a change is intended."""
    monkeypatch.chdir(ROOT)
    _, out, _ = alvh(["check", f"sample_positions/{sample.name}", "--format", "json"])
    golden = GOLDEN / f"{sample.stem}.json"
    if os.environ.get("ALVH_REGOLD"):
        golden.parent.mkdir(exist_ok=True)
        # stdout is not a terminal here, so alvh wrote compact JSON: indent it for review
        golden.write_text(json.dumps(json.loads(out), indent=2) + "\n")
    _close(json.loads(out), json.loads(golden.read_text()))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("text", "expected"), BAD_FILES)
@pytest.mark.parametrize("command", ["check", "price"])
def test_bad_file_through_the_cli(tmp_path, command, text, expected, alvh):
    path = tmp_path / "dec.toml"
    path.write_text(text)
    before = _sha(path)
    code, out, err = alvh([command, path])
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(path) in lines[0] and expected in lines[0]
    assert "Traceback" not in err
    assert _sha(path) == before


@pytest.mark.parametrize(
    "args",
    [
        ["check", "does/not/exist.toml"],
        ["check", "."],
        ["price", "--market", "missing_market.toml", "sample_positions/calm.toml"],
        ["check", "sample_positions/calm.toml", "--rules", "missing_rules.toml"],
        ["size-hedge", "sample_positions/put_tested_1_6x.toml", "--position", "nope"],
        ["size-hedge", "sample_positions/put_tested_1_6x.toml", "--vix-expiry", "2027-13-01"],
        ["check", "sample_positions/calm.toml", "--history", "missing.csv"],
    ],
)
def test_bad_arguments_exit_2_in_one_line(args, monkeypatch, alvh):
    monkeypatch.chdir(ROOT)
    code, _, err = alvh(args)
    assert code == 2, err
    assert "Traceback" not in err


def test_file_without_market_needs_market_option(tmp_path, alvh):
    path = tmp_path / "nomarket.toml"
    path.write_text(GOOD[GOOD.index("[[positions]]") :])
    code, _, err = alvh(["check", path])
    assert code == 2 and "market" in err
    code, out, err = alvh(
        ["check", path, "--market", ROOT / "sample_positions" / "calm.toml", "--format", "json"]
    )
    assert code in (0, 1), err


def test_rules_file_overrides_and_reports_source(tmp_path, alvh):
    rules = tmp_path / "r.toml"
    rules.write_text("[rules]\nlayer1_multiple = 1.4\n")
    code, out, _ = alvh(["rules", "--rules", rules, "--format", "json"])
    assert code == 0
    data = json.loads(out)
    assert data["layer1_multiple"]["value"] == 1.4
    assert data["layer1_multiple"]["source"] == str(rules)
    assert data["layer2_multiple"]["source"] == "default"
    rules.write_text("[rules]\nlayer1_multipel = 1.4\n")
    code, _, err = alvh(["rules", "--rules", rules])
    assert code == 2 and "did you mean 'layer1_multiple'" in err


def test_missing_file_is_one_line_and_exit_2_inside_the_app(alvh):
    """The exit status is set inside the app: a CliRunner run (the ``alvh`` fixture) sees
    what the shell sees."""
    code, out, err = alvh(["check", "missing.toml"])
    assert (code, out) == (2, "")
    assert err == "alvh: missing.toml: no such file\n"


def test_debug_shows_traceback(tmp_path, alvh):
    code, _, err = alvh(["--debug", "check", tmp_path / "nope.toml"])
    assert code == 2 and "Traceback" in err
    assert err.rstrip().splitlines()[-1] == f"alvh: {tmp_path / 'nope.toml'}: no such file"


def test_price_json_marks_and_legs(alvh):
    code, out, _ = alvh(["price", ROOT / "sample_positions" / "calm.toml", "--format", "json"])
    assert code == 0
    data = json.loads(out)
    for p in data["positions"]:
        assert math.isclose(p["mark_multiple"], p["debit_to_close"] / p["credit"], rel_tol=1e-4)
    for leg in data["legs"]:
        assert leg["vol_source"] in ("iv", "quote", "smile", "")


def test_csv_and_table_formats_run(alvh):
    sample = ROOT / "sample_positions" / "book.toml"
    for fmt in ("table", "csv"):
        code, out, _ = alvh(["check", sample, "--format", fmt])
        assert code in (0, 1) and out
    code, out, _ = alvh(
        ["size-hedge", ROOT / "sample_positions" / "put_tested_2_3x.toml", "--format", "json"]
    )
    assert code == 0
    item = json.loads(out)["positions"][0]
    # the old stress point (SPX to the short put, 5700 → 5650 here) is a rung of the ladder
    assert item["stress_rung"]["spx"] == 5650.0 and item["stress_rung"]["vix"] > 24.0
    rungs = {r["rung"]: r for r in item["ladder"]}
    assert rungs["SPX -10%"]["vix"] > rungs["SPX -5%"]["vix"] > 24.0
    plan = item["hedge_plan"]
    assert plan["layer"] == 2
    # what check says for the same file
    code, out, _ = alvh(
        ["check", ROOT / "sample_positions" / "put_tested_2_3x.toml", "--format", "json"]
    )
    recs = json.loads(out)["positions"][0]["recommendations"]
    hedges = [r for r in recs if r["action"] == "open_hedge"]
    if hedges:  # the plan won: check buys exactly what size-hedge shows
        bought = {(r["long_strike"], r["short_strike"], r["quantity"]) for r in hedges}
        assert bought == {(c["long_strike"], c["short_strike"], c["count"]) for c in plan["chosen"]}
    elif plan["chosen"]:  # a Layer 3 alternative (or holding) beat it: check says so
        (rec,) = recs
        assert f"the best layer 2 hedge, ${plan['spend']:,.0f}, would give" in rec["reason"]
    else:  # no hedge raises the objective: size-hedge buys nothing and check opens none
        assert plan["spend"] == 0 and not hedges


def test_schema_is_json(alvh):
    code, out, _ = alvh(["schema"])
    assert code == 0
    assert json.loads(out)["type"] == "object"


def test_backtest_never_writes_an_input_file(tmp_path, alvh):
    from importlib.resources import files

    history = tmp_path / "h.csv"
    history.write_bytes((files("alvh_cli") / "data" / "spx_vix_2014_2018.csv").read_bytes())
    before = _sha(history)
    for option in ("--trades", "--plot"):
        code, _, err = alvh(["backtest", "--history", history, option, history])
        assert code == 2 and "input file" in err
    assert _sha(history) == before


def test_library_names_import_lazily():
    """DESIGN §9: the public names come from alvh_cli without loading numpy up front."""
    code = (
        "import sys, alvh_cli\n"
        "assert 'numpy' not in sys.modules\n"
        "from alvh_cli import bsm_greeks, implied_vol, load_book, check_book, Rules\n"
        "g = bsm_greeks(True, 42.0, 40.0, 0.5, 0.10, 0.0, 0.20)\n"
        "print(round(float(g.price), 2))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "4.76"  # Hull's call


def _history(tmp_path, days=80, beta=-4.9):
    """A business-day history where log VIX moves beta x log SPX, exactly (no noise)."""
    import numpy as np

    rng = np.random.default_rng(7)
    r = rng.normal(0, 0.01, days)
    spx = 5000 * np.exp(np.cumsum(r))
    vix = 18 * np.exp(np.cumsum(beta * r))
    from datetime import date, timedelta

    d, rows = date(2026, 7, 1), []
    while len(rows) < days:
        if d.weekday() < 5:
            rows.append(d)
        d += timedelta(days=1)
    path = tmp_path / "h.csv"
    path.write_text(
        "date,spx,vix\n"
        + "".join(
            f"{x.isoformat()},{s:.4f},{v:.6f}\n" for x, s, v in zip(rows, spx, vix, strict=True)
        )
    )
    return path


def test_calibrate_recovers_the_beta_through_the_cli(tmp_path, alvh):
    code, out, err = alvh(["calibrate", "--history", _history(tmp_path), "--format", "json"])
    assert code == 0, err
    data = json.loads(out)
    assert data["vix_beta"]["value"] == pytest.approx(-4.9, abs=0.01)  # built with -4.9
    assert "vix_beta = -4.90" in data["rules_snippet"]


def test_signals_through_the_cli(tmp_path, alvh):
    code, out, err = alvh(["signals", "--history", _history(tmp_path), "--format", "json"])
    assert code == 0, err
    data = json.loads(out)
    names = [s["name"] for s in data["signals"]]
    assert names == [
        "vix_spike",
        "term_structure",
        "macd_cross",
        "rsi_oversold",
        "ad_divergence",
        "macro_event",
    ]
    assert data["elevated"] in (True, False)  # 80 sessions: the history signals are computed
    ad = data["signals"][4]
    assert ad["active"] is None  # no advances/declines columns: unavailable, not quiet


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_size_hedge_says_what_check_says(sample, alvh, monkeypatch):
    """Without options, size-hedge shows the same decision as check for every position."""
    monkeypatch.chdir(ROOT)
    _, out, _ = alvh(["check", f"sample_positions/{sample.name}", "--format", "json"])
    checked = {p["id"]: p["recommendations"] for p in json.loads(out)["positions"]}
    _, out, _ = alvh(["size-hedge", f"sample_positions/{sample.name}", "--format", "json"])
    sized = {p["id"]: p["recommendations"] for p in json.loads(out)["positions"]}
    assert sized == checked


# ------------------------------------------------------------------ help and messages


def _command_names():
    import typer

    from alvh_cli import cli

    return sorted(typer.main.get_command(cli.app).commands)


def test_help_is_self_contained(alvh):
    """No help text points at a document users do not have (DESIGN.md, "§3")."""
    for args in (["--help"], *([name, "--help"] for name in _command_names())):
        code, out, err = alvh(args)
        assert code == 0, (args, err)
        assert "DESIGN" not in out and "§" not in out, args


def test_readme_and_messages_cite_no_design_document():
    """README and every string alvh can print (not docstrings or comments) stand alone."""
    import ast

    assert not {"DESIGN", "§"} & {
        w for w in ("DESIGN", "§") if w in (ROOT / "README.md").read_text()
    }
    for path in sorted((ROOT / "alvh_cli").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and id(node) not in docstrings:
                assert "DESIGN" not in text and "§" not in text, (
                    f"{path.relative_to(ROOT)}:{node.lineno}"
                )


def test_backtest_help_lists_every_entry_key(alvh):
    from dataclasses import fields

    from alvh_cli.backtest.params import PARAMS, BacktestParams

    code, out, _ = alvh(["backtest", "--help"])
    assert code == 0
    listed = " ".join(out.split("--entry keys")[1].split())  # wrapped lines joined
    for name, param in PARAMS.items():
        assert f"{name} {param.help} (default {param.default:g})" in listed, name
    for name in {f.name for f in fields(BacktestParams)} - set(PARAMS):
        assert re.search(rf"(^| |, ){name}\b", listed), name  # profit_take, start, end


def test_backtest_plot_without_matplotlib_stops_before_the_run(monkeypatch, tmp_path, alvh):
    from alvh_cli import compat
    from alvh_cli.backtest import simulation

    def never(*args, **kwargs):
        raise AssertionError("the backtest ran")

    monkeypatch.setattr(compat, "HAS_MATPLOTLIB", False)
    monkeypatch.setattr(simulation, "run_backtest", never)
    code, out, err = alvh(["backtest", "--plot", tmp_path / "equity.png"])
    assert (code, out) == (2, "")
    assert err == "alvh: --plot: needs matplotlib: pip install 'alvh[plot]'\n"
    assert not (tmp_path / "equity.png").exists()


# "1 positions", "1 windows": a count of one takes the singular.
PLURAL_SLIP = re.compile(
    r"(?<![\d.,])1 (positions|files|windows|spreads|legs|days|trading days|rows|contracts|"
    r"entries|closes|alternatives|rungs|errors|warnings)\b|(?<![\d.,])1 need action"
)


def test_a_count_of_one_is_singular(tmp_path, alvh, monkeypatch):
    monkeypatch.chdir(ROOT)
    one = "sample_positions/put_tested_1_6x.toml"
    runs = [
        ["review", one, "--no-journal"],
        ["review", one, "--no-journal", "--changes", "--journal", tmp_path / "j.sqlite"],
        ["check", one],
        ["size-hedge", one],
        ["price", one],
    ]
    for args in runs:
        code, out, err = alvh(args)
        assert code in (0, 1, 2), err
        assert not PLURAL_SLIP.search(out + err), (args, PLURAL_SLIP.search(out + err))
    _, out, _ = alvh(["review", one, "--no-journal"])
    assert "1 position, 1 needs action" in out


@pytest.mark.parametrize(
    "args",
    [
        ["rules"],
        ["signals", "--history", "H"],
        ["calibrate", "--history", "H"],
        ["backtest", "--sensitivity", "none", "--end", "2015-03-31"],
    ],
)
def test_tables_into_a_pipe_are_plain_text(args, alvh, tmp_path):
    """A script or a mail reads aligned text, not box drawing."""
    history = str(_history(tmp_path))
    run = alvh([history if a == "H" else a for a in args])
    assert run.code == 0, run.err
    assert not set("┏┃━│┡└") & set(run.out), run.out[:300]


# ------------------------------------------------------------------ one file, once


def _ids_in(path: Path) -> list[str]:
    """The position ids the file holds, read with tomllib (not through alvh)."""
    import tomllib

    return [p["id"] for p in tomllib.loads(path.read_text())["positions"]]


def _legs_in(path: Path) -> int:
    import tomllib

    return sum(len(p["legs"]) for p in tomllib.loads(path.read_text())["positions"])


@pytest.mark.parametrize("how", ["the same path", "a hard link", "a symbolic link"])
@pytest.mark.parametrize(("command", "status"), [("check", 1), ("price", 0)])
def test_a_file_given_twice_is_read_once_with_one_warning(tmp_path, command, status, how, alvh):
    """book.toml named twice (the same path, or a link: one device and inode): its three
    positions once each, one warning naming the repeat, and the file's own exit status
    (check: 1, its comment's advice: dec-wide takes its profit, dec-tight is past 1.5x;
    price: 0)."""
    first = tmp_path / "book.toml"
    first.write_bytes((ROOT / "sample_positions" / "book.toml").read_bytes())
    again = {"the same path": first, "a hard link": tmp_path / "linked.toml",
             "a symbolic link": tmp_path / "symlinked.toml"}[how]  # fmt: skip
    if how == "a hard link":
        os.link(first, again)
    elif how == "a symbolic link":
        again.symlink_to(first)
    before = _sha(first)
    code, out, err = alvh([command, first, again, "--format", "json"])
    assert code == status
    assert err == f"warning: {first}: also given as {again}: read once\n"
    data = json.loads(out)
    ids = [p["id"] for p in data["positions"]]
    assert ids == _ids_in(first) == ["dec-wide", "jan-ic", "dec-tight"]  # the file's order
    assert {p["source"] for p in data["positions"]} == {str(first)}
    assert data["warnings"] == [
        {"source": str(first), "key": "", "message": f"also given as {again}: read once"}
    ]
    if command == "price":
        assert len(data["legs"]) == _legs_in(first)
    assert _sha(first) == before


def test_each_repeat_is_named_and_the_files_keep_their_order(tmp_path, alvh):
    """calm, book, calm again through a link, book again by its path: two files, in the
    order first given, and one warning line for each repeat (never joined into one)."""
    calm, book = tmp_path / "calm.toml", tmp_path / "book.toml"
    for f in (calm, book):
        f.write_bytes((ROOT / "sample_positions" / f.name).read_bytes())
    link = tmp_path / "calm_link.toml"
    link.symlink_to(calm)
    code, out, err = alvh(["check", calm, book, link, book, "--format", "json"])
    assert code == 1
    assert err.splitlines() == [
        f"warning: {calm}: also given as {link}: read once",
        f"warning: {book}: also given as {book}: read once",
    ]
    ids = [(p["id"], p["source"]) for p in json.loads(out)["positions"]]
    assert ids == [(i, str(calm)) for i in _ids_in(calm)] + [(i, str(book)) for i in _ids_in(book)]


def test_a_bad_file_given_twice_is_one_error(tmp_path, alvh):
    code, out, err = alvh(["check", tmp_path / "nope.toml", tmp_path / "nope.toml"])
    assert (code, out) == (2, "")
    assert err == f"alvh: {tmp_path / 'nope.toml'}: no such file\n"


@pytest.mark.parametrize("command", ["check", "review"])
def test_the_cycle_collector_is_paused_for_the_work_and_back_after(
    command, alvh, monkeypatch, tmp_path
):
    # check and review load, check and write acyclic trees: the collector's passes over
    # them are only cost (output.common.collector_paused). It must be on again after,
    # for whatever the process does next (the tests' own process here).
    import gc

    from alvh_cli.app import check as app_check
    from alvh_cli.app import review as app_review

    seen = []
    target = app_check if command == "check" else app_review
    real = target.check if command == "check" else target.review

    def spy(*a, **k):
        seen.append(gc.isenabled())
        return real(*a, **k)

    monkeypatch.setattr(target, command, spy)
    sample = str(ROOT / "sample_positions" / "put_tested_1_6x.toml")
    args = [command, sample, "--format", "json"]
    if command == "review":
        args += ["--journal", str(tmp_path / "j.sqlite")]
    assert gc.isenabled()
    code, _, _ = alvh(args)
    assert code in (0, 1)
    assert seen == [False]
    assert gc.isenabled()


@pytest.mark.parametrize("command", ["check", "review"])
def test_check_and_review_keep_the_memory_they_free(command, alvh, monkeypatch, tmp_path):
    # their arrays are made and freed position after position: glibc's malloc is told to
    # reuse those pages (alvh_cli.allocator), before the work
    from alvh_cli import allocator, cli
    from alvh_cli.app import check as app_check
    from alvh_cli.app import review as app_review

    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append("kept"))
    target = app_check if command == "check" else app_review
    real = getattr(target, command)
    monkeypatch.setattr(target, command, lambda *a, **k: (calls.append("work"), real(*a, **k))[1])
    sample = str(ROOT / "sample_positions" / "put_tested_1_6x.toml")
    args = [command, sample, "--format", "json"]
    if command == "review":
        args += ["--journal", str(tmp_path / "j.sqlite")]
    code, _, _ = alvh(args)  # in-process (a test, a library caller): the allocator is theirs
    assert code in (0, 1)
    assert calls == ["work"]
    calls.clear()
    monkeypatch.setitem(cli._state, "ends_by_exit", True)  # as run() sets it
    monkeypatch.setattr(cli, "_held", [])
    code, _, _ = alvh(args)
    assert code in (0, 1)
    assert calls == ["kept", "work"]


def test_a_file_name_with_control_characters_stays_one_line(alvh, tmp_path):
    # a name with a newline split the error in two; an ESC sequence reached the terminal
    bad = tmp_path / "bad\nname.toml"
    red = tmp_path / "esc\x1b[31mred.toml"
    gone = tmp_path / "nope\u202e.toml"
    red.write_text("x = [")
    code, _, err = alvh(["check", bad, red, gone])
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 3 and "\x1b" not in err and "\u202e" not in err
    assert f"alvh: {tmp_path}/bad\\nname.toml: no such file" in lines
    assert f"alvh: {tmp_path}/esc\\x1b[31mred.toml:1: TOML syntax error" in lines[1]
    assert f"alvh: {tmp_path}/nope\\u202e.toml: no such file" in lines


def test_printable_escapes_what_a_terminal_would_act_on():
    from alvh_cli.errors import printable

    assert printable("plain: é, 5,850.25 — ok") == "plain: é, 5,850.25 — ok"
    assert printable("a\tb\rc\nd") == "a\\tb\\rc\\nd"
    assert printable("\x1b[2J\x7f\x85") == "\\x1b[2J\\x7f\\x85"
    assert printable("\u202e\u2028\u200b") == "\\u202e\\u2028\\u200b"


@pytest.mark.parametrize(
    ("args", "said", "command"),
    [
        (["market", "--vix", "18,2"], ("--vix", "'18,2'", "float"), " market"),
        (["check", "--format", "jsn", "x.toml"], ("--format", "'jsn'"), " check"),
        (["chek", "x.toml"], ("'chek'",), ""),
        (["check"], ("Missing argument",), " check"),
        (["check", "x.toml", "--bogus"], ("--bogus",), " check"),
        (["check", "--format"], ("--format", "requires an argument"), ""),
    ],
)  # fmt: skip
def test_a_mistyped_option_or_command_is_one_line(alvh, args, said, command):
    # click's usage errors were four lines (usage, hint, blank, error): a script's log
    # reads one line per problem, as for every other bad input. (Click's own words differ
    # from one version to the next: the parts that say what is wrong are asserted.)
    code, out, err = alvh(args)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("alvh: ") and all(part in err for part in said)
    assert err.endswith(f"{command} --help)\n")


def test_a_mistyped_option_of_alvh_itself_is_one_line(alvh):
    code, out, err = alvh(["--bogus"])
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("alvh: ") and "--bogus" in err and err.endswith("--help)\n")


def test_alvh_alone_prints_its_help_as_it_is(alvh):
    code, out, err = alvh([])
    assert "Commands" in out + err and "check" in out + err
    assert not (out + err).startswith("alvh: ")


def test_signals_refuses_a_market_file_from_the_future(alvh, tmp_path):
    # as check and review refuse it: an asof of 2099 is a typo, not a snapshot
    market = tmp_path / "m.toml"
    market.write_text(
        (ROOT / "sample_positions" / "calm.toml")
        .read_text()
        .replace("asof = 2026-11-24T15:45:00-05:00", "asof = 2099-11-24T15:45:00-05:00")
    )
    history = ROOT / "alvh_cli" / "data" / "spx_vix_2014_2018.csv"  # shipped, in git
    code, out, err = alvh(["signals", "--history", history, "--market", market])
    assert (code, out) == (2, "")
    assert err.startswith(f"alvh: {market}: market.asof: 2099-11-24 15:45 EST is in the future")
    assert err.count("\n") == 1
