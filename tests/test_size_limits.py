"""Size limits, applied before the parse, with the limit in the message.

- bytes: a broker export over ``MAX_EXPORT_BYTES`` (50 MB), a chain over
  ``MAX_CHAIN_BYTES`` (100 MB) is refused from its size alone. The files here are
  sparse (a header, then a hole of zeros): were a byte of them read, alvh would say
  "binary data" instead, so the message itself shows nothing was read.
- rows: an export past ``MAX_EXPORT_ROWS`` (CSV records or Flex XML ``<OpenPosition>``
  elements), a chain past ``MAX_CHAIN_ROWS`` is refused at the first row too many, naming
  its line (a Parquet chain from its metadata, before a column is read). The limits are
  lowered for most cases so the files stay small; one case per kind meets the real one.
- ``alvh market`` never writes a snapshot larger than ``--market`` reads
  (``toml_reader.MAX_FILE_BYTES``, 20 MB): it is refused, naming ``--no-quotes``; the
  snapshot without quotes is written and read back by ``check --market``.

Every case: exit 2, one line on stderr, the inputs untouched, nothing written.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from alvh_cli.inputs import chain as chain_module
from alvh_cli.inputs import toml_reader
from alvh_cli.inputs.brokers import common

ROOT = Path(__file__).resolve().parent.parent
BROKERS = ROOT / "tests" / "fixtures" / "brokers"
CHAINS = ROOT / "tests" / "fixtures" / "chains"
EXPORTS = sorted(p.name for p in BROKERS.iterdir() if p.suffix in (".csv", ".xml"))
CHAIN_FILES = ["cboe_eod.csv", "generic.csv", "vix_futures.csv"]


def state(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file: size, modification time and (for a small one) its digest."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            st = p.stat()
            small = st.st_size < 2**24
            out[str(p)] = (st.st_size, st.st_mtime_ns,
                           hashlib.sha256(p.read_bytes()).digest() if small else b"")  # fmt: skip
    return out


def sparse(fixture: Path, out: Path, size: int) -> Path:
    """``fixture``'s first line, then zeros (a hole: no disk used) up to ``size`` bytes."""
    with open(out, "wb") as fh:
        fh.write(fixture.read_bytes().splitlines(keepends=True)[0])
        fh.truncate(size)
    return out


def repeated(fixture: Path, out: Path, times: int) -> Path:
    """``fixture`` with its first option line (the 5400 put; a chain's 5800 strike; the
    futures file's first row) repeated ``times`` times in place."""
    lines = fixture.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    at = next(
        (i for i, line in enumerate(lines) if i > 0 and ("5400" in line or "5800" in line)), 1
    )
    out.write_text("".join(lines[:at] + [lines[at]] * times + lines[at + 1 :]))
    return out


# ------------------------------------------------------------------ broker exports


@pytest.mark.parametrize("name", EXPORTS)
def test_an_export_over_the_byte_limit_is_refused_unread(tmp_path, alvh, name):
    f = sparse(BROKERS / name, tmp_path / name, 60 * 2**20)
    before = state(tmp_path)
    code, out, err = alvh(["import", f, "-o", tmp_path / "book.toml"])
    assert (code, out) == (2, "")
    assert err == f"alvh: {f}: file too large (60 MB) for a broker export (at most 50 MB)\n"
    assert state(tmp_path) == before


@pytest.mark.parametrize("name", EXPORTS)
def test_an_export_past_the_row_limit_is_refused_at_that_row(tmp_path, alvh, monkeypatch, name):
    monkeypatch.setattr(common, "MAX_EXPORT_ROWS", 40)
    f = repeated(BROKERS / name, tmp_path / name, 60)
    before = state(tmp_path)
    code, out, err = alvh(["import", f, "-o", tmp_path / "book.toml"])
    assert (code, out) == (2, "")
    what = "<OpenPosition> records" if name.endswith(".xml") else "rows"
    pattern = (
        rf"alvh: {re.escape(str(f))}:(\d+): more than 40 {what}: not a broker export alvh "
        r"reads \(at most 40 rows of positions or fills\)\n"
    )
    m = re.fullmatch(pattern, err)
    assert m, err
    line = int(m.group(1))
    assert 40 < line <= 41 + len((BROKERS / name).read_text().splitlines())
    assert state(tmp_path) == before


def test_an_export_at_the_real_row_limit(tmp_path, alvh):
    f = tmp_path / "big.csv"
    f.write_text("symbol,quantity,entry_price\n" + "SPXW  261218P05400000,1,4\n" * 100_000)
    before = state(tmp_path)
    code, out, err = alvh(["import", f, "-o", tmp_path / "book.toml"])
    assert (code, out) == (2, "")
    assert err == (
        f"alvh: {f}:100001: more than 100,000 rows: not a broker export alvh reads (at most "
        "100,000 rows of positions or fills)\n"
    )  # the header is the first of the rows counted
    assert state(tmp_path) == before


# ------------------------------------------------------------------ chains


POSITION = ROOT / "sample_positions" / "calm.toml"


@pytest.mark.parametrize("name", CHAIN_FILES)
@pytest.mark.parametrize("command", ["check", "market"])
def test_a_chain_over_the_byte_limit_is_refused_unread(tmp_path, alvh, name, command):
    f = sparse(CHAINS / name, tmp_path / name, 120 * 2**20)
    args = (["check", POSITION, "--chain", f] if command == "check"
            else ["market", "--chain", f, "-o", tmp_path / "m.toml"])  # fmt: skip
    before = state(tmp_path)
    code, out, err = alvh(args)
    assert (code, out) == (2, "")
    assert err == (
        f"alvh: {f}: file too large (120 MB) for an option chain or futures file (at most 100 MB)\n"
    )
    assert state(tmp_path) == before


@pytest.mark.parametrize("name", ["cboe_eod.csv", "generic.csv"])
def test_a_chain_past_the_row_limit_is_refused_at_that_row(tmp_path, alvh, monkeypatch, name):
    monkeypatch.setattr(chain_module, "MAX_CHAIN_ROWS", 30)
    f = repeated(CHAINS / name, tmp_path / name, 40)
    before = state(tmp_path)
    code, out, err = alvh(["market", "--chain", f, "--vix", "18.2", "-o", tmp_path / "m.toml"])
    assert (code, out) == (2, "")
    assert err == (
        f"alvh: {f}:32: more than 30 rows: not one day's option chain (alvh reads at most 30)\n"
    )  # the header, then 30 rows: line 32 is one too many
    assert state(tmp_path) == before


def test_a_parquet_chain_past_the_row_limit_is_refused_from_its_metadata(
    tmp_path, alvh, monkeypatch
):
    pq = pytest.importorskip("pyarrow.parquet")
    pcsv = pytest.importorskip("pyarrow.csv")
    f = tmp_path / "chain.parquet"
    pq.write_table(pcsv.read_csv(repeated(CHAINS / "generic.csv", tmp_path / "g.csv", 40)), f)
    monkeypatch.setattr(chain_module, "MAX_CHAIN_ROWS", 30)
    read = []
    monkeypatch.setattr(pq.ParquetFile, "read", lambda *a, **k: read.append(1))
    before = state(tmp_path)
    code, out, err = alvh(["check", POSITION, "--chain", f])
    assert (code, out, read) == (2, "", [])
    rows = 40 + len((CHAINS / "generic.csv").read_text().splitlines()) - 2
    assert err == (
        f"alvh: {f}: {rows:,} rows: not one day's option chain (alvh reads at most 30)\n"
    )
    assert state(tmp_path) == before


# ------------------------------------------------------------------ market's output


def test_market_never_writes_what_market_cannot_read(tmp_path, alvh, monkeypatch):
    from chain_builders import chain_rows, write_cboe

    chain = tmp_path / "spx.csv"
    write_cboe(chain, chain_rows())
    whole = tmp_path / "whole.toml"
    code, _, err = alvh(["market", "--chain", chain, "--vix", "18.2", "-o", whole])
    assert code == 0, err
    size = whole.stat().st_size
    whole.unlink()
    # the limit just under what this snapshot takes: refused, nothing written
    monkeypatch.setattr(toml_reader, "MAX_FILE_BYTES", size - 1)
    before = state(tmp_path)
    out = tmp_path / "today.toml"
    code, stdout, err = alvh(["market", "--chain", chain, "--vix", "18.2", "-o", out])
    assert (code, stdout) == (2, "")
    quotes = len(chain_rows())
    assert err == (
        f"alvh: {out}: the snapshot would be {size / 2**20:.1f} MB, over the 0 MB a market "
        f"file may be (--market reads at most that): its {quotes:,} quotes are most of it; give "
        "--no-quotes (the fitted smiles keep the chain's information) or a chain of fewer "
        "expiries\n"
    )
    assert state(tmp_path) == before
    # without its quotes it fits, and check --market reads it under the same limit
    code, _, err = alvh(["market", "--chain", chain, "--vix", "18.2", "-o", out, "--no-quotes"])
    assert code == 0, err
    assert out.stat().st_size <= size - 1
    code, _, err = alvh(["check", ROOT / "sample_positions" / "calm.toml", "--market", out])
    assert code in (0, 1) and "too large" not in err


def test_a_file_that_grows_after_its_stat_is_read_whole_up_to_the_limit(tmp_path, monkeypatch):
    """The stat sees the file smaller than it is read (it grew in between, as a file being
    written does): what it holds then is read whole, and refused only past the limit."""
    import os

    from alvh_cli.errors import InputError

    f = tmp_path / "growing.toml"
    f.write_text('a = 1\nb = "' + "x" * 100 + '"\n')
    size = f.stat().st_size
    true_stat = Path.stat

    def earlier(self, **kw):
        st = true_stat(self, **kw)
        return os.stat_result((*st[:6], 10, *st[7:])) if self == f else st

    monkeypatch.setattr(Path, "stat", earlier)
    assert toml_reader.read_toml(f) == {"a": 1, "b": "x" * 100}
    monkeypatch.setattr(toml_reader, "MAX_FILE_BYTES", size - 1)
    with pytest.raises(InputError, match=r"file too large \(over 0 MB\) for a position file"):
        toml_reader.read_toml(f)
