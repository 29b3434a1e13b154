"""Behaviour unchanged? Every command's output on the samples and fixtures, saved and compared.

A restructuring must not change what a trader sees. This script runs a fixed corpus of
``alvh`` commands (check, size-hedge, price, review, rules, schema, plot, import, market,
signals, calibrate, backtest --sensitivity none; every format; good files and bad ones)
in-process, with the clock pinned to the samples' cron moment and a fresh journal, and
stores each run's exit status, stdout and stderr, and any file it wrote:

    python benchmarks/outputs.py save before/       # on the old commit
    python benchmarks/outputs.py save after/        # on the new one
    python benchmarks/outputs.py compare before/ after/

``compare`` prints each run that differs (a unified diff of its first lines) and the
count of identical runs; it exits 1 when any differs. ``--quick`` leaves the backtests
out (they take most of the time).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

SAMPLES = sorted((ROOT / "sample_positions").glob("*.toml"))
BROKERS = ROOT / "tests" / "fixtures" / "brokers"
CHAINS = ROOT / "tests" / "fixtures" / "chains"
PINNED_NOW = datetime(2026, 11, 24, 15, 50, tzinfo=timezone(timedelta(hours=-5)))

BAD_FILES = {
    "typo_key.toml": 'positions = [{ id = "x", credit = 2.0, legs = [] }]\n[market]\nspx = 1\n',
    "syntax.toml": "[market]\nspx = 5,850.25\n",
    "empty.toml": "",
    "strike_neg.toml": None,  # built from calm.toml below
}


def _bad_files(work: Path) -> list[Path]:
    calm = (ROOT / "sample_positions" / "calm.toml").read_text()
    out = []
    for name, text in BAD_FILES.items():
        if text is None:
            text = calm.replace("strike = 5500", "strike = -5500", 1)
        path = work / name
        path.write_text(text)
        out.append(path)
    return out


def _history(work: Path) -> Path:
    """A deterministic business-day history (80 days) for signals and calibrate."""
    import numpy as np

    rng = np.random.default_rng(7)
    r = rng.normal(0, 0.01, 80)
    spx = 5000 * np.exp(np.cumsum(r))
    vix = 18 * np.exp(np.cumsum(-4.9 * r))
    day, rows = datetime(2026, 7, 1).date(), []
    while len(rows) < 80:
        if day.weekday() < 5:
            rows.append(day)
        day += timedelta(days=1)
    path = work / "history.csv"
    lines = ["date,spx,vix"] + [
        f"{d},{s:.2f},{v:.2f}" for d, s, v in zip(rows, spx, vix, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _chain(work: Path) -> Path:
    from chain_builders import chain_rows, write_cboe

    path = work / "chain.csv"
    write_cboe(path, chain_rows())
    return path


def corpus(work: Path, quick: bool) -> list[tuple[str, list[str]]]:
    """(name, argv) for every run; paths relative to ROOT where they are the repository's."""
    rel = [str(p.relative_to(ROOT)) for p in SAMPLES]
    bad = [str(p) for p in _bad_files(work)]
    history = str(_history(work))
    chain = str(_chain(work))
    today = str(work / "today.toml")
    runs: list[tuple[str, list[str]]] = []
    for path in rel:
        stem = Path(path).stem
        for fmt in ("table", "json", "csv"):
            runs.append((f"check-{stem}-{fmt}", ["check", path, "--format", fmt]))
            runs.append((f"price-{stem}-{fmt}", ["price", path, "--format", fmt]))
        for fmt in ("table", "json"):
            runs.append((f"size-hedge-{stem}-{fmt}", ["size-hedge", path, "--format", fmt]))
        runs.append((f"check-{stem}-history", ["check", path, "--history", history]))
        runs.append((f"rules-{stem}", ["rules", path]))
    for fmt in ("table", "json", "csv"):
        runs.append((f"check-all-{fmt}", ["check", *rel, "--format", fmt]))
        runs.append((f"check-bad-{fmt}", ["check", rel[0], *bad, "--format", fmt]))
    runs += [
        ("size-hedge-layer2", ["size-hedge", rel[-1], "--layer", "2", "--format", "json"]),
        ("size-hedge-move", ["size-hedge", rel[-1], "--spx-move", "-0.08"]),
        ("size-hedge-bad-position", ["size-hedge", rel[-1], "--position", "nope"]),
        ("size-hedge-bad-expiry", ["size-hedge", rel[-1], "--vix-expiry", "2026-12-17"]),
        (
            "market-chain",
            [
                "market",
                "--chain",
                chain,
                "--vix",
                "18.2",
                "--futures",
                str(CHAINS / "vix_futures.csv"),
            ],
        ),  # fmt: skip
        (
            "market-chain-file",
            [
                "market",
                "--chain",
                chain,
                "--vix",
                "18.2",
                "--futures",
                str(CHAINS / "vix_futures.csv"),
                "-o",
                today,
            ],
        ),  # fmt: skip
        ("check-chain", ["check", rel[0], "--market", today, "--chain", chain]),
        ("check-chain-json", ["check", *rel, "--market", today, "--chain", chain, "-f", "json"]),
        ("price-chain", ["price", rel[0], "--market", today, "--chain", chain, "-f", "json"]),
        ("price-market", ["price", rel[0], "--market", today]),
        ("review-market", ["review", "sample_positions", "--market", today, "--no-journal"]),
        ("market-fixture", ["market", "--chain", str(CHAINS / "cboe_eod.csv")]),
        ("rules-json", ["rules", "--format", "json"]),
        ("rules-csv", ["rules", "--format", "csv"]),
        ("schema", ["schema"]),
        ("signals", ["signals", "--history", history]),
        ("signals-json", ["signals", "--history", history, "--market", rel[0], "-f", "json"]),
        ("calibrate", ["calibrate", "--history", history]),
        ("calibrate-json", ["calibrate", "--history", history, "-f", "json"]),
        ("plot-bad-suffix", ["plot", rel[0], "-o", "x.jpg"]),
        ("check-missing", ["check", "missing.toml"]),
        ("check-bad-rules", ["check", rel[0], "--rules", bad[0]]),
    ]
    journal = str(work / "journal.sqlite")
    for fmt in ("table", "json", "csv"):
        runs.append(
            (f"review-{fmt}", ["review", "sample_positions", "--journal", journal, "-f", fmt])
        )
    runs.append(
        ("review-changes", ["review", "sample_positions", "--journal", journal, "--changes"])
    )
    runs.append(
        (
            "review-changes-json",
            ["review", "sample_positions", "--journal", journal, "--changes", "-f", "json"],
        )
    )
    runs.append(("review-bad", ["review", "sample_positions", bad[1], "--no-journal"]))
    for export in sorted(BROKERS.glob("*")):
        if export.suffix == ".toml":
            continue
        out = work / f"import-{export.stem}.toml"
        runs.append(
            (
                f"import-{export.name}",
                [
                    "import",
                    str(export),
                    "-o",
                    str(out),
                    "--journal",
                    journal,
                    "--market",
                    str(BROKERS / "market.toml"),
                ],
            )  # fmt: skip
        )
    if not quick:
        for fmt in ("table", "json"):
            runs.append((f"backtest-{fmt}", ["backtest", "--sensitivity", "none", "-f", fmt]))
        runs.append(
            (
                "backtest-short",
                [
                    "backtest",
                    "--sensitivity",
                    "none",
                    "--policies",
                    "hold,stop2x,alvh_frac",
                    "--start",
                    "2016-01-01",
                    "--end",
                    "2016-12-31",
                ],
            )  # fmt: skip
        )
    return runs


def save(target: Path, quick: bool) -> None:
    from typer.testing import CliRunner

    from alvh_cli import cli

    cli._now = lambda: PINNED_NOW
    target.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="alvh-outputs-"))
    os.chdir(ROOT)
    try:
        runs = corpus(work, quick)
        for name, argv in runs:
            sys.argv = ["alvh", *argv]
            result = CliRunner().invoke(cli.app, argv, env={"COLUMNS": "120"})
            exc = result.exception
            if exc is not None and not isinstance(exc, SystemExit):
                raise exc
            text = f"exit {result.exit_code}\n--- stdout\n{result.stdout}--- stderr\n"
            text += result.stderr
            for written in sorted(work.glob("import-*.toml")):
                text += f"--- wrote {written.name}\n{written.read_text()}"
                written.unlink()
            if "-o" in argv and argv[0] == "market" and Path(argv[-1]).exists():
                text += f"--- wrote {Path(argv[-1]).name}\n{Path(argv[-1]).read_text()}"
            text = text.replace(str(work), "<work>").replace(str(ROOT), "<root>")
            text = re.sub(r"\d{4}-\d\d-\d\dT[0-9:.]+\+00:00", "<run time>", text)
            (target / f"{name}.txt").write_text(text)
        print(f"{len(runs)} runs saved in {target}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compare(a: Path, b: Path) -> int:
    names = sorted({p.name for p in a.glob("*.txt")} | {p.name for p in b.glob("*.txt")})
    same, differ = 0, []
    for name in names:
        pa, pb = a / name, b / name
        if not pa.exists() or not pb.exists():
            differ.append(name)
            print(f"{name}: only in {a if pa.exists() else b}")
            continue
        ta, tb = pa.read_text(), pb.read_text()
        if ta == tb:
            same += 1
            continue
        differ.append(name)
        diff = difflib.unified_diff(
            ta.splitlines(), tb.splitlines(), str(pa), str(pb), lineterm="", n=1
        )
        print("\n".join(list(diff)[:40]))
    print(json.dumps({"runs": len(names), "identical": same, "different": len(differ)}))
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    s = sub.add_parser("save")
    s.add_argument("target", type=Path)
    s.add_argument("--quick", action="store_true", help="leave the backtests out")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.verb == "save":
        save(args.target, args.quick)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
