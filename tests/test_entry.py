"""The console entry ``alvh_cli.cli:run`` as a process: single-threaded BLAS and the
os._exit after main(), which must lose no output, exit status or file."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PINNED_NOW

from alvh_cli import cli

ROOT = Path(__file__).resolve().parent.parent
CALM = ROOT / "sample_positions" / "calm.toml"
TESTED = ROOT / "sample_positions" / "put_tested_1_6x.toml"


# run() as the console script calls it, with os._exit traced: "[os._exit]" on
# stderr when run() took the fast exit.
TRACED = """
import os, sys
_exit = os._exit
def traced(code):
    sys.stderr.write("[os._exit]\\n")
    sys.stderr.flush()
    _exit(code)
os._exit = traced
sys.argv = ["alvh", *sys.argv[1:]]
import datetime as dt
from alvh_cli import cli
cli._now = lambda: dt.datetime.fromisoformat({now!r})  # conftest's pinned clock
{setup}
cli.run()
"""
FAST = "[os._exit]\n"


def alvh(*args, setup=""):
    """run() on ARGS in a process of its own, the worktree first on the path."""
    args = [str(a) for a in args]
    return subprocess.run(
        [sys.executable, "-c", TRACED.format(now=PINNED_NOW.isoformat(), setup=setup), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120"},
    )


def in_process(args, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["alvh", *map(str, args)])
    cli._state["debug"] = False
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("sample", [CALM, TESTED], ids=lambda p: p.stem)
def test_run_gives_main_output_and_status(sample, capsys, monkeypatch):
    # The whole JSON document arrives through the pipe, and the exit status
    # (0 nothing to do, 1 action) is main()'s.
    code, out, err = in_process(["check", sample, "--format", "json"], capsys, monkeypatch)
    proc = alvh("check", sample, "--format", "json")
    assert proc.returncode == code
    assert json.loads(proc.stdout) == json.loads(out)
    assert proc.stderr.replace(FAST, "") == err
    if sample == CALM:  # no hedge to size: nothing registers exit work
        assert proc.stderr.endswith(FAST)


def test_python_m_alvh_cli_bad_input_is_one_line_and_status_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "alvh_cli", "check", str(tmp_path / "missing.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("alvh: ")


def test_run_journal_is_committed_and_closed(tmp_path):
    # os._exit skips finalisers: each review must be in the journal when the
    # process is gone, and the second run must read the first.
    journal = tmp_path / "journal.sqlite"
    first = alvh("review", CALM, "--journal", journal, "--format", "json")
    second = alvh("review", CALM, "--journal", journal, "--changes", "--format", "json")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stderr.endswith(FAST) and second.stderr.endswith(FAST)
    conn = sqlite3.connect(journal)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ids = [r[0] for r in conn.execute("SELECT id FROM reviews ORDER BY id")]
        n_decisions = conn.execute("SELECT count(*) FROM decisions").fetchone()[0]
    finally:
        conn.close()
    assert len(ids) == 2 and n_decisions == 2
    report = json.loads(second.stdout)
    assert report["journal"]["review_id"] == ids[1]
    assert report["changes"]["since"]["review_id"] == ids[0]


def test_run_writes_the_trades_file_whole(tmp_path):
    trades = tmp_path / "trades.csv"
    proc = alvh("backtest", "--end", "2015-04-30", "--policies", "hold", "--trades", trades)
    assert proc.returncode == 0, proc.stderr
    with trades.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["policy"] == "hold" for r in rows)
    assert [p.name for p in tmp_path.iterdir()] == ["trades.csv"]  # no temporary left


def test_run_runs_the_atexit_handlers_once_then_exits_fast(tmp_path):
    # A process pool (joblib, multiprocessing) is shut down by an atexit handler: run()
    # runs the handlers as Python's exit would, once, and only then skips the teardown
    setup = "import atexit; atexit.register(print, 'atexit ran')"
    proc = alvh("check", CALM, setup=setup)
    assert proc.returncode == 0
    assert proc.stdout.endswith("atexit ran\n") and proc.stdout.count("atexit ran") == 1
    assert FAST in proc.stderr


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_run_leaves_no_pool_worker_behind(tmp_path):
    # multiprocessing's pool, shut down by its atexit handler: no worker outlives alvh
    import time

    setup = (
        "import multiprocessing as mp, sys\n"
        "pool = mp.get_context('fork').Pool(2)\n"
        "sys.stderr.write('workers ' + ' '.join(str(p.pid) for p in pool._pool) + '\\n')"
    )
    proc = alvh("check", CALM, setup=setup)
    assert proc.returncode == 0 and FAST in proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("workers ")]
    pids = [int(x) for x in line.split()[1:]]
    assert len(pids) == 2
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
        time.sleep(0.05)
    assert not any(Path(f"/proc/{p}").exists() for p in pids)


def test_run_leaves_threads_to_python(tmp_path):
    # A non-daemon thread is joined at exit: its work must not be cut short.
    done = tmp_path / "done"
    setup = (
        "import threading, time, pathlib\n"
        f"late = lambda: (time.sleep(1), pathlib.Path({str(done)!r}).touch())\n"
        "threading.Thread(target=late).start()"
    )
    proc = alvh("check", CALM, setup=setup)
    assert proc.returncode == 0 and FAST not in proc.stderr
    assert done.exists()


def test_single_threaded_blas_respects_the_users_choice():
    env: dict[str, str] = {}
    assert cli.single_threaded_blas(env) is True
    assert env == {"OPENBLAS_NUM_THREADS": "1"}
    for var in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        env = {var: "4"}
        assert cli.single_threaded_blas(env) is False
        assert env == {var: "4"}


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_run_sets_blas_threads_before_numpy_loads():
    # One thread in the process once numpy is loaded: the variable was set in time.
    code = (
        "import os, sys\n"
        "from alvh_cli import cli\n"
        "assert 'numpy' not in sys.modules\n"
        "cli.single_threaded_blas()\n"
        "import numpy\n"
        "print(len(os.listdir('/proc/self/task')))"
    )
    env = {k: v for k, v in os.environ.items() if k not in cli._BLAS_THREAD_VARS}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1"


def test_a_closed_stdout_is_no_traceback():
    # `alvh check x >&-`: Python has None for the stream; the output goes nowhere and the
    # exit status still says what to do (1: an action), the warnings still on stderr
    code = TRACED.format(now=PINNED_NOW.isoformat(), setup="")
    proc = subprocess.run(
        ["sh", "-c", 'exec "$0" -c "$1" check "$2" >&-', sys.executable, code, str(TESTED)],
        capture_output=False,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
