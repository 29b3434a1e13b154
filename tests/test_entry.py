"""The console entry ``alvh_cli.cli:run`` as a process: single-threaded BLAS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from alvh_cli import cli

ROOT = Path(__file__).resolve().parent.parent
CALM = ROOT / "sample_positions" / "calm.toml"
TESTED = ROOT / "sample_positions" / "put_tested_1_6x.toml"


def alvh(*args, env=None):
    """``python -m alvh_cli ARGS`` (which calls run()) with the worktree first on the path."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "alvh_cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environ,
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
