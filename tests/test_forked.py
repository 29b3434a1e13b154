"""The cases of work shared with forked copies of the process (tests/forked_cases.py), run
in a pytest of their own: a process may fork only while it has one thread
(``alvh_cli.forked.can_fork``), and earlier tests in this one leave threads behind
(joblib's reusable pool, dask's event loop)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks only on Linux")
def test_the_forked_cases_pass_in_a_process_of_one_thread():
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "forked_cases.py"],
        cwd=TESTS,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert " passed" in run.stdout and "skipped" not in run.stdout
