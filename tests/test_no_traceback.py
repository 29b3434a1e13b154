"""No input gives a traceback: a file nested 500 deep, a date at the end of the calendar, a
path that is no file. Each is the one ``alvh:`` line naming the file, exit 2, and the good
files of the same run keep their output; no file is touched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

SAMPLE = Path(__file__).parents[1] / "sample_positions" / "calm.toml"


def _state(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _beside_a_good_file(tmp_path, alvh, bad_name, bad_text=None, command=("check",)):
    good = tmp_path / "good.toml"
    good.write_text(SAMPLE.read_text())
    bad = tmp_path / bad_name
    if bad_text is not None:
        bad.write_text(bad_text)
    before = _state(tmp_path)
    run = alvh([*command, "--format", "json", good, bad])
    assert _state(tmp_path) == before
    assert run.code == 2
    errors = [line for line in run.err.splitlines() if line.startswith("alvh:")]
    assert len(errors) == 1 and "Traceback" not in run.err
    ids = [p["id"] for p in json.loads(run.out)["positions"]]
    assert ids == ["dec-calm"]  # the good file, checked
    return bad, errors[0]


@pytest.mark.parametrize(
    "text",
    [
        "[market]\nspx = " + "[" * 500 + "]" * 500 + "\n",
        "x = " + "{a = " * 500 + "1" + "}" * 500 + "\n",
    ],
    ids=["arrays", "inline tables"],
)
def test_a_file_nested_500_deep_is_one_line(tmp_path, alvh, text):
    bad, line = _beside_a_good_file(tmp_path, alvh, "deep.toml", text)
    assert line == (
        f"alvh: {bad}: TOML nested too deep (arrays or inline tables hundreds of levels "
        "inside each other): not a position, market or rules file"
    )


@pytest.mark.parametrize(
    ("old", "new", "key", "shown"),
    [
        ("asof = 2026-11-24T15:45:00-05:00", "asof = 9999-12-31T15:45:00-05:00", "market.asof",
         "9999-12-31T15:45:00-05:00"),
        ("asof = 2026-11-24T15:45:00-05:00", "asof = 0001-01-01T00:00:00+05:00", "market.asof",
         "0001-01-01T00:00:00+05:00"),
        ("expiry = 2026-12-18", "expiry = 9999-12-31", "positions[0].legs[0].expiry",
         "9999-12-31"),
        ("opened = 2026-11-16", "opened = 9999-12-31", "positions[0].opened", "9999-12-31"),
    ],
)  # fmt: skip
def test_a_date_at_the_end_of_the_calendar_is_one_line(tmp_path, alvh, old, new, key, shown):
    text = SAMPLE.read_text()
    assert old in text
    bad, line = _beside_a_good_file(tmp_path, alvh, "far.toml", text.replace(old, new, 1))
    assert line.startswith(
        f"alvh: {bad}: {key}: must be in the years 1900 to 2999 (a typo?), got {shown}"
    )


@pytest.mark.parametrize("command", [("check",), ("price",), ("review", "--no-journal")])
def test_a_path_that_is_no_file_costs_only_itself(tmp_path, alvh, monkeypatch, command):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path.parent / f"{tmp_path.name}-data"))
    if command[0] == "review":
        # a review lists its files' positions in its own JSON; the run still reviews good.toml
        good = tmp_path / "good.toml"
        good.write_text(SAMPLE.read_text())
        run = alvh([*command, "--format", "json", good, tmp_path / "missing.toml"])
        assert run.code == 2 and "Traceback" not in run.err
        assert [e for e in run.err.splitlines() if e.startswith("alvh:")] == [
            f"alvh: {tmp_path / 'missing.toml'}: no such file or directory"
        ]
        assert "dec-calm" in run.out
        return
    bad, line = _beside_a_good_file(tmp_path, alvh, "missing.toml", command=command)
    assert line == f"alvh: {bad}: no such file"


@pytest.mark.parametrize("command", ["price", "check"])
def test_a_reader_that_stops_early_is_status_141_not_1(tmp_path, command):
    # `alvh price --format json book/*.toml | head -c 100` once exited 1, which a script
    # reads as "act" (price itself exits 0). The reader gone, the output is not wanted and
    # the command cannot say what to do: 141, the shell's status of a command ended by a
    # broken pipe (`yes | head`), with no traceback and no "Exception ignored" message
    import subprocess
    import sys

    text = SAMPLE.read_text()
    files = []
    for i in range(60):  # JSON well past a pipe's 64 KiB
        path = tmp_path / f"f{i:02d}.toml"
        path.write_text(text.replace('id = "', f'id = "{i:02d}-'))
        files.append(str(path))
    run = subprocess.Popen(
        [sys.executable, "-m", "alvh_cli", command, "--format", "json", *files],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert run.stdout.read(100).startswith(b"{")
    run.stdout.close()
    err = run.stderr.read().decode()
    assert run.wait(timeout=120) == 141, err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert all(line.startswith("warning:") for line in err.splitlines()), err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_disk_is_not_taken_for_a_reader_gone():
    # only a broken pipe means the reader stopped (141); stdout on a full disk is Python's
    # own report of the failed write and its status, as before
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        run = subprocess.run(
            [sys.executable, "-m", "alvh_cli", "check", "--format", "json", str(SAMPLE)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
        )
    assert run.returncode not in (0, 1, 141) and "No space left" in run.stderr
