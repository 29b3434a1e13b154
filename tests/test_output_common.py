"""What every command's output shares: rounding by unit in JSON/CSV, and the atomic file
writer (whole file or the old one, never half, never a stray temp).

Expected contents are the literal bytes handed to the writer; permissions are
0666 less the umask, as for any file ``open()`` creates.
"""

from __future__ import annotations

import errno
import os
import stat

import pytest

from alvh_cli.errors import InputError
from alvh_cli.output.common import Dollars, clean
from alvh_cli.output.files import write_atomic


def test_rounding_follows_the_unit_not_the_key():
    # "value" once rounded to cents whatever it held; now only Dollars are.
    data = {"value": 56.92481234567, "pnl": Dollars(1416.0234), "cost": 0.000821}
    assert clean(data) == {"value": 56.92481235, "pnl": 1416.02, "cost": 0.000821}
    assert clean([Dollars(float("nan"))]) == [None]


def _rsi_history(tmp_path):
    """15 closes, 14 changes: 9 rises of 1 point and 5 falls of 2. Wilder's first RSI is the
    simple means: gain 9/14, loss 10/14, RS 0.9, RSI 100 - 100/1.9 = 47.368421052631..."""
    from datetime import date, timedelta

    moves = [1, 1, -2, 1, 1, -2, 1, 1, -2, 1, 1, -2, 1, -2]
    closes = [5000.0]
    for m in moves:
        closes.append(closes[-1] + m)
    day, rows = date(2026, 11, 3), []
    while len(rows) < len(closes):
        if day.weekday() < 5:
            rows.append(day)
        day += timedelta(days=1)
    path = tmp_path / "h.csv"
    lines = [f"{d.isoformat()},{c},15" for d, c in zip(rows, closes, strict=True)]
    path.write_text("date,spx,vix\n" + "\n".join(lines) + "\n")
    return path


def test_signals_json_keeps_the_rsi_digits(tmp_path, alvh):
    import json

    code, out, err = alvh(["signals", "--history", _rsi_history(tmp_path), "--format", "json"])
    assert code == 0, err
    rsi = next(s for s in json.loads(out)["signals"] if s["name"] == "rsi_oversold")
    assert rsi["value"] == pytest.approx(100 - 100 / 1.9, rel=1e-9)  # not 47.37


def test_price_json_rounds_dollars_to_cents(alvh):
    import json
    from pathlib import Path

    sample = Path(__file__).resolve().parent.parent / "sample_positions" / "calm.toml"
    code, out, err = alvh(["price", sample, "--format", "json"])
    assert code == 0, err
    data = json.loads(out)
    for leg in data["legs"]:
        # value = price per point x quantity x 100, in dollars: cents, no more
        assert leg["value"] == round(leg["value"], 2)
        assert abs(leg["value"] - leg["price"] * leg["quantity"] * 100) <= 0.005 + 1e-6
        assert leg["gamma"] != round(leg["gamma"], 2)  # per-unit Greeks keep their digits
    for p in data["positions"]:
        assert p["pnl"] == round(p["pnl"], 2)


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_replaces_the_file_with_exactly_the_bytes_written(tmp_path):
    target = tmp_path / "book.toml"
    target.write_bytes(b"old\n")
    write_atomic(target, lambda fh: fh.write('a = 1\nb = "\u00e9"\n'))
    # UTF-8, no newline translation: é is C3 A9, each line ends in one LF.
    assert target.read_bytes() == b'a = 1\nb = "\xc3\xa9"\n'
    assert _names(tmp_path) == ["book.toml"]


def test_binary_mode_writes_bytes_as_given(tmp_path):
    target = tmp_path / "plot.png"
    write_atomic(target, lambda fh: fh.write(b"\x89PNG\r\n\x1a\n"), mode="wb")
    assert target.read_bytes() == b"\x89PNG\r\n\x1a\n"


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "trades.csv"
    target.write_bytes(b"old\n")

    def half(fh):
        fh.write("policy,id\n")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        write_atomic(target, half)
    assert target.read_bytes() == b"old\n"
    assert _names(tmp_path) == ["trades.csv"]


def test_an_os_error_is_one_input_error_naming_the_file(tmp_path):
    target = tmp_path / "book.toml"
    target.write_bytes(b"old\n")

    def full(fh):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(InputError) as err:
        write_atomic(target, full)
    assert str(err.value) == f"{target}: cannot write: {os.strerror(errno.ENOSPC)}"
    assert target.read_bytes() == b"old\n"
    assert _names(tmp_path) == ["book.toml"]


def test_missing_folder_is_refused_before_anything_is_created(tmp_path):
    target = tmp_path / "nope" / "book.toml"
    with pytest.raises(InputError) as err:
        write_atomic(target, lambda fh: fh.write("x"))
    assert str(err.value) == f"{target}: no such directory: {target.parent}"
    assert _names(tmp_path) == []


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_permissions_follow_the_umask_not_mkstemp(tmp_path, umask, expected):
    target = tmp_path / "book.toml"
    old = os.umask(umask)
    try:
        write_atomic(target, lambda fh: fh.write("x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == expected
