"""The command line as a user meets it: exit statuses, one-line errors, JSON, golden output."""

from __future__ import annotations

import hashlib
import json
import math
import os
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


def test_check_does_not_import_pandas_or_scipy_stats():
    sample = ROOT / "sample_positions" / "put_tested_1_6x.toml"
    code = (
        "import sys\nfrom alvh_cli import cli\n"
        f"sys.argv=['alvh','check',{str(sample)!r},'--format','json']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', [m for m in ('pandas','scipy.stats') if m in sys.modules])"
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
                assert r["quantity"] >= 1 and r["long_strike"] < r["short_strike"]
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
        golden.write_text(out)
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
    assert plan["layer"] == 2 and plan["chosen"]
    # what check says for the same file
    code, out, _ = alvh(
        ["check", ROOT / "sample_positions" / "put_tested_2_3x.toml", "--format", "json"]
    )
    recs = json.loads(out)["positions"][0]["recommendations"]
    bought = {(r["long_strike"], r["short_strike"], r["quantity"]) for r in recs}
    assert bought == {(c["long_strike"], c["short_strike"], c["count"]) for c in plan["chosen"]}


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
def test_size_hedge_says_what_check_says(sample, capsys, monkeypatch):
    """Without options, size-hedge shows the same decision as check for every position."""
    monkeypatch.chdir(ROOT)
    _, out, _ = run(
        ["check", f"sample_positions/{sample.name}", "--format", "json"], capsys, monkeypatch
    )
    checked = {p["id"]: p["recommendations"] for p in json.loads(out)["positions"]}
    _, out, _ = run(
        ["size-hedge", f"sample_positions/{sample.name}", "--format", "json"], capsys, monkeypatch
    )
    sized = {p["id"]: p["recommendations"] for p in json.loads(out)["positions"]}
    assert sized == checked
