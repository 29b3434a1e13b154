"""The inputs read whole — a history, a macro calendar, a saved check's JSON — and the
broker exports' option symbols: a bad one is one line on stderr naming the file (and the
line and column), exit status 2, never a traceback and never a silent default.

- bytes: ``--history`` over 20 MB, ``--events`` over 1 MB, ``apply --from-json`` over
  100 MB are refused from their size. The files are sparse (a header, then a hole of
  zeros): were a byte of them read, alvh would say something else (binary data, a bad
  row), so the message itself shows nothing was read. A named pipe is refused unopened
  (opening one would wait for a writer for ever).
- a macro calendar or a history with a field over the csv module's limit (128 KiB, its
  documented default), or a calendar with a quote never closed, is refused naming the line.
- ``--events`` without ``--history``: the file is still read (a missing or malformed one
  is refused), and a good one is said to be unused: without a history there are no
  signals, the macro event among them.
- a history's numbers are read as the broker and chain files read them: a comma only as
  a thousands separator, no underscores, no digits of other scripts.
- an SPX/SPXW/VIX option code with a date that is none (a day 38) in a thinkorswim or
  IBKR Activity Statement is refused naming file, line and column, as the generic,
  tastytrade and Flex layouts refuse an OSI symbol's; a thinkorswim ``Exp`` cell must be
  a date, and the expiry of the row's option code.
- ``apply --from-json``: a saved check broken by hand (a recommendation without its
  action, an order without its fields) is one line naming the key; ``--history`` and
  ``--events`` with ``--from-json`` or a settlement, where apply would never open them,
  are refused.

Every refusal: exit 2, one line on stderr, the inputs untouched, nothing written.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from test_size_limits import sparse, state

from alvh_cli.errors import InputError
from alvh_cli.inputs.history import read_history

ROOT = Path(__file__).resolve().parent.parent
CALM = ROOT / "sample_positions" / "calm.toml"  # dec-calm, asof 2026-11-24, SPX 5850.25
BROKERS = ROOT / "tests" / "fixtures" / "brokers"
CSV_FIELD_LIMIT = 131_072  # the csv module's default field_size_limit: 128 KiB


@pytest.fixture
def folder(tmp_path):
    """A folder of inputs: calm.toml (one calm condor, asof 2026-11-24)."""
    d = tmp_path / "in"
    d.mkdir()
    (d / "calm.toml").write_bytes(CALM.read_bytes())
    return d


@pytest.fixture(autouse=True)
def _history_today(monkeypatch):
    """The history reader's "today" (dates after it are refused): the samples' asof."""
    import alvh_cli.inputs.history as history

    monkeypatch.setattr(history, "_today", lambda: date(2026, 11, 24))


def history_text(days: int = 60, last: date = date(2026, 11, 24)) -> str:
    """``days`` weekdays to ``last``, SPX 5850.25 and VIX 18.2 on each (a flat market)."""
    rows, d = [], last
    while len(rows) < days:
        if d.weekday() < 5:
            rows.append(f"{d.isoformat()},5850.25,18.2\n")
        d -= timedelta(days=1)
    return "date,spx,vix\n" + "".join(reversed(rows))


def one_line(err: str) -> str:
    lines = err.splitlines()
    refusals = [x for x in lines if x.startswith("alvh: ")]
    assert len(refusals) == 1 and all(x.startswith(("alvh: ", "warning: ")) for x in lines), err
    return refusals[0]


# ------------------------------------------------------------------ byte limits


def test_a_history_over_the_byte_limit_is_refused_unread(folder, alvh):
    big = sparse(CALM, folder / "h.csv", 30 * 2**20)  # any first line: it is never read
    before = state(folder)
    code, out, err = alvh(["check", folder / "calm.toml", "--history", big])
    assert (code, out) == (2, "")
    assert one_line(err) == (
        f"alvh: {big}: file too large (30 MB) for a history file (at most 20 MB)"
    )
    assert state(folder) == before


def test_a_history_just_over_the_limit_says_by_how_much(folder, alvh):
    big = sparse(CALM, folder / "h.csv", 20 * 2**20 + 300_000)  # 20.29 MB
    code, out, err = alvh(["check", folder / "calm.toml", "--history", big])
    assert (code, out) == (2, "")
    assert one_line(err) == (
        f"alvh: {big}: file too large (20.3 MB) for a history file (at most 20 MB)"
    )


@pytest.mark.parametrize("with_history", [True, False])
def test_an_event_file_over_the_byte_limit_is_refused_unread(folder, alvh, with_history):
    (folder / "h.csv").write_text(history_text())
    big = sparse(CALM, folder / "ev.csv", 3 * 2**20)
    history = ["--history", folder / "h.csv"] if with_history else []
    before = state(folder)
    code, out, err = alvh(["check", folder / "calm.toml", *history, "--events", big])
    assert (code, out) == (2, "")
    assert one_line(err) == f"alvh: {big}: file too large (3 MB) for an event file (at most 1 MB)"
    assert state(folder) == before


def test_a_saved_check_over_the_byte_limit_is_refused_unread(folder, alvh):
    big = sparse(CALM, folder / "check.json", 120 * 2**20)
    journal = folder / "journal.sqlite"
    before = state(folder)
    code, out, err = alvh(["apply", folder / "calm.toml", "-p", "dec-calm", "--fill", "1.00",
                           "--from-json", big, "--journal", journal])  # fmt: skip
    assert (code, out) == (2, "")
    assert one_line(err) == (
        f"alvh: {big}: file too large (120 MB) for a check's JSON (at most 100 MB)"
    )
    assert state(folder) == before  # no backup ~1~, no journal


@pytest.mark.parametrize("role", ["history", "events", "from-json"])
def test_a_named_pipe_is_refused_unopened(folder, alvh, role):
    pipe = folder / "pipe"
    os.mkfifo(pipe)
    what = {"history": "a history file", "events": "an event file",
            "from-json": "a check's JSON"}[role]  # fmt: skip
    args = ["check", folder / "calm.toml", f"--{role}", pipe]
    if role == "from-json":
        args = ["apply", folder / "calm.toml", "-p", "dec-calm", "--fill", "1.00",
                "--from-json", pipe, "--journal", folder / "j.sqlite"]  # fmt: skip
    before = state(folder)
    code, out, err = alvh(args)  # opening the pipe would block: the test would hang
    assert (code, out) == (2, "")
    assert one_line(err) == f"alvh: {pipe}: not a regular file (a named pipe): expected {what}"
    assert state(folder) == before


# ------------------------------------------------------------------ the macro calendar


def test_an_event_field_over_the_csv_limit_is_refused_naming_its_line(folder, alvh):
    (folder / "h.csv").write_text(history_text())
    ev = folder / "ev.csv"
    # line 1 a comment, 2 the header, 3 a good row, 4 the long note (200,000 characters)
    ev.write_text("# mine\ndate,event,note\n2026-12-09,FOMC,\n2026-12-01,other," + "a" * 200_000
                  + "\n")  # fmt: skip
    before = state(folder)
    code, out, err = alvh(["check", folder / "calm.toml", "--history", folder / "h.csv",
                           "--events", ev])  # fmt: skip
    assert (code, out) == (2, "")
    assert one_line(err) == (
        f"alvh: {ev}:4: not readable as CSV: a field longer than {CSV_FIELD_LIMIT:,} characters"
    )
    assert state(folder) == before


def test_an_event_file_cut_inside_a_quote_is_refused(folder, alvh):
    ev = folder / "ev.csv"
    ev.write_text('date,event,note\n2026-12-09,FOMC,"second day\n')  # the quote never closes
    code, out, err = alvh(["check", folder / "calm.toml", "--events", ev])
    assert (code, out) == (2, "")
    assert one_line(err) == (
        f"alvh: {ev}:2: not readable as CSV: a quoted field is never closed (the file may "
        "have been cut short)"
    )


def test_a_note_over_two_lines_keeps_the_line_numbers_right(tmp_path):
    from alvh_cli.inputs.events import load_events

    ev = tmp_path / "ev.csv"
    # line 2-3: one record, its note over two lines; line 4: a bad event
    ev.write_text('date,event,note\n2026-12-09,FOMC,"day two\nof two"\n2026-12-10,NFP,\n')
    with pytest.raises(InputError) as e:
        load_events([ev])
    assert str(e.value) == (
        f"{ev}:4: event: unknown event 'NFP': must be one of FOMC, CPI, PPI, other"
    )


def test_a_history_field_over_the_csv_limit_is_refused_naming_its_line(folder, alvh):
    h = folder / "h.csv"
    h.write_text(history_text(5) + "2026-11-25,5850.25," + "1" * 200_000 + "\n")  # line 7
    before = state(folder)
    code, out, err = alvh(["check", folder / "calm.toml", "--history", h])
    assert (code, out) == (2, "")
    assert one_line(err) == (
        f"alvh: {h}:7: CSV syntax error: a field longer than {CSV_FIELD_LIMIT:,} characters"
    )
    assert state(folder) == before


@pytest.mark.parametrize(
    "text,said",
    [
        (None, "cannot read event file: No such file or directory"),
        ("when,what\n2026-12-09,FOMC\n",
         "1: when: unknown column 'when': expected date,event[,note]"),
        ("date,event\n2026-02-30,FOMC\n",
         "2: date: cannot read date '2026-02-30': expected YYYY-MM-DD or MM/DD/YYYY"),
        (b"SQLite format 3\x00\xff\xfe", "not a UTF-8 text file"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["check", "review"])
def test_an_event_file_without_a_history_is_still_read(folder, alvh, text, said, command):
    ev = folder / "ev.csv"
    if isinstance(text, str):
        ev.write_text(text)
    elif text is not None:
        ev.write_bytes(text)
    before = state(folder)
    args = ["check", folder / "calm.toml"] if command == "check" else [
        "review", folder / "calm.toml", "--journal", folder / "j.sqlite"]  # fmt: skip
    code, out, err = alvh([*args, "--events", ev])
    assert (code, out) == (2, "")
    sep = ":" if said[:1].isdigit() else ": "
    assert one_line(err) == f"alvh: {ev}{sep}{said}"
    assert state(folder) == before


def test_a_good_event_file_without_a_history_is_said_to_be_unused(folder, alvh):
    ev = folder / "ev.csv"
    ev.write_text("date,event\n2026-11-25,CPI\n")  # the day after asof: the signal's window
    plain = alvh(["check", folder / "calm.toml"])
    run = alvh(["check", folder / "calm.toml", "--events", ev])
    # the calendar changes nothing without a history: the same report, the same status
    assert (run.code, run.out) == (plain.code, plain.out)
    assert plain.code == 0  # calm: nothing to do
    extra = set(run.err.splitlines()) - set(plain.err.splitlines())
    assert extra == {
        f"warning: {ev}: macro dates not used: without a history file the signals, the macro "
        "event among them, are unavailable"
    }


# ------------------------------------------------------------------ a history's numbers

# What a trader wrote, and what it means — or None: no one number (module docstring of
# alvh_cli.inputs.numbers: the rule every file alvh reads follows).
NUMBERS = [
    ("5850.25", 5850.25),
    ("+5850", 5850.0),
    ("5.85025e3", 5850.25),
    ('"5,850.25"', 5850.25),  # a thousands separator, as US exports write money
    ('"5,850"', 5850.0),
    ("6_017.24", None),  # Python's float() reads it as 6017.24; no export writes it
    ("٥٨٥٠.٢٥", None),  # Arabic-Indic digits: float() reads 5850.25
    ("５８５０", None),  # full-width digits
    ('"5.850,25"', None),  # European: 5850.25 — or a typo
    ('"58,50.25"', None),  # no grouping in threes
    ("5850.25.1", None),
    ("1e999", None),  # no finite number
    ("nan", None),
    ("inf", None),
]


@pytest.mark.parametrize("cell,value", NUMBERS, ids=[c for c, _ in NUMBERS])
def test_a_history_number_is_read_as_every_file_reads_it(tmp_path, cell, value):
    p = tmp_path / "h.csv"
    p.write_text(f"date,spx,vix\n2026-11-23,5840,18.4\n2026-11-24,{cell},18.2\n")
    if value is not None:
        assert read_history([p])["spx"].tolist() == [5840.0, value]
        return
    with pytest.raises(InputError) as e:
        read_history([p])
    assert (e.value.source, e.value.line, e.value.key) == (str(p), 3, "spx")
    assert cell.strip('"') in str(e.value)


@pytest.mark.parametrize("cell,value", NUMBERS, ids=[c for c, _ in NUMBERS])
def test_a_chain_reads_the_same_numbers(tmp_path, cell, value):
    """The same text, the same answer: a chain's strike column, by the same table."""
    from alvh_cli.inputs.chain import read_chain

    p = tmp_path / "chain.csv"
    p.write_text(f"expiry,strike,type,bid,ask\n2026-12-18,{cell},put,43.20,43.70\n")
    if value is not None:
        assert read_chain(p).strike.tolist() == [value]
        return
    with pytest.raises(InputError) as e:
        read_chain(p)
    assert str(e.value).startswith(f"{p}:2: strike: ")


def test_a_vix_in_other_digits_no_longer_turns_a_signal_on(folder, alvh):
    h = folder / "h.csv"
    # VIX 18.2 flat, then ١٨.٥ (18.5 to float()) on the last day: refused, not read
    h.write_text(history_text().rstrip("\n").rsplit("\n", 1)[0] + "\n2026-11-24,5850.25,١٨.٥\n")
    last = len(h.read_text().splitlines())
    before = state(folder)
    code, out, err = alvh(["check", folder / "calm.toml", "--history", h])
    assert (code, out) == (2, "")
    assert one_line(err) == f"alvh: {h}:{last}: vix: not a number: '١٨.٥'"
    assert state(folder) == before


def test_a_history_with_thousands_separators_is_read(folder, alvh):
    h = folder / "h.csv"
    h.write_text(history_text().replace(",5850.25,", ',"5,850.25",'))
    plain = folder / "plain.csv"
    plain.write_text(history_text())
    grouped = alvh(["check", folder / "calm.toml", "--history", h, "--format", "json"])
    same = alvh(["check", folder / "calm.toml", "--history", plain, "--format", "json"])
    assert grouped.code == same.code == 0, grouped.err
    assert grouped.out.replace(str(h), "H") == same.out.replace(str(plain), "H")


def test_an_extra_column_is_a_number_only_as_every_file_reads_one(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text('date,spx,vix,reer,code\n2026-11-23,5840,18.4,"1,101.5",1_0\n'
                 "2026-11-24,5850,18.2,99,20\n")  # fmt: skip
    h = read_history([p])
    assert h["reer"].tolist() == [1101.5, 99.0]
    assert h["code"].tolist() == ["1_0", "20"]  # text: 1_0 is not a number a file writes


# ------------------------------------------------------------------ broker option symbols


def _edit(name: str, old: str, new: str, out: Path) -> tuple[Path, int]:
    """The fixture ``name`` with its first ``old`` replaced by ``new``, and that line's number."""
    lines = (BROKERS / name).read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if old in line)
    lines[at] = lines[at].replace(old, new, 1)
    out.write_text("".join(lines))
    return out, at + 1


TOS = "thinkorswim_account_statement.csv"
BAD_SYMBOLS = [
    (TOS, ".SPXW261218P5400", ".SPXW261238P5400",
     "Option Code: expiry 261238 is not a valid YYMMDD date, got '.SPXW261238P5400'"),
    (TOS, "SPXW261218C6300", "SPXW261318C6300",  # month 13, no dot
     "Option Code: expiry 261318 is not a valid YYMMDD date, got 'SPXW261318C6300'"),
    ("thinkorswim_position_statement.csv", "100 (Weeklys) 18 DEC 26 5400 PUT",
     ".SPXW261238P5400",
     "Instrument: expiry 261238 is not a valid YYMMDD date, got '.SPXW261238P5400'"),
    ("ibkr_activity.csv", "SPXW 18DEC26 5400 P", "SPXW 38DEC26 5400 P",
     "Symbol: expiry 38DEC26 is not a valid date, got 'SPXW 38DEC26 5400 P'"),
    ("ibkr_activity.csv", "VIX 20JAN27 21 C", "VIX 20JAX27 21 C",
     "Symbol: expiry 20JAX27 is not a valid date, got 'VIX 20JAX27 21 C'"),
    ("ibkr_flex.csv", '"SPXW  261218P05400000","SPXW 18DEC26 5400 P"',
     '"","SPXW 38DEC26 5400 P"',  # no OSI symbol: the description is read
     "description: expiry 38DEC26 is not a valid date, got 'SPXW 38DEC26 5400 P'"),
    # the layouts that refused already, for the same day 38
    ("generic_osi.csv", "SPXW  261218P05400000", "SPXW  261238P05400000",
     "expiry 261238 is not a valid YYMMDD date, got 'SPXW  261238P05400000'"),
    (TOS, ",18 DEC 26,5400,", ",38 DEC 26,5400,", "Exp: not a date, got '38 DEC 26'"),
    (TOS, ",18 DEC 26,5400,", ",17 DEC 26,5400,",
     "Exp: '17 DEC 26' (2026-12-17) is not the expiry of the Option Code '.SPXW261218P5400' "
     "(2026-12-18): the row names two expiries"),
]  # fmt: skip


@pytest.mark.parametrize("name,old,new,said", BAD_SYMBOLS, ids=lambda x: str(x)[:24])
def test_an_spx_option_code_with_no_such_date_is_refused(tmp_path, alvh, name, old, new, said):
    _refused(tmp_path, alvh, name, old, new, said)


def _refused(tmp_path, alvh, name, old, new, said):
    """The fixture ``name`` edited (``old`` → ``new``): its import exits 2 with one line
    naming the file, the edited line and ``said``, and writes nothing."""
    f, line = _edit(name, old, new, tmp_path / name)
    out_file = tmp_path / "book.toml"
    before = state(tmp_path)
    code, out, err = alvh(["import", f, "-o", out_file])
    assert (code, out) == (2, "")
    message = one_line(err)
    assert message.startswith(f"alvh: {f}:{line}: ") and message.endswith(said), message
    assert state(tmp_path) == before and not out_file.exists()


FLEX = "ibkr_flex.csv"
TASTY = "tastytrade_positions.csv"
RESTATED = [  # a row's own columns say another option than the symbol it is read from
    (TOS, ",18 DEC 26,5400,PUT,", ",18 DEC 26,5450,PUT,",
     "Strike: '5450' (5450) is not the strike of the Option Code '.SPXW261218P5400' (5400): "
     "the row names two strikes"),
    (TOS, ",18 DEC 26,5400,PUT,", ",18 DEC 26,5400,CALL,",
     "Type: 'CALL' (call) is not the type of the Option Code '.SPXW261218P5400' (put): the "
     "row names a put and a call"),
    (TOS, ",18 DEC 26,5400,PUT,", ",18 DEC 26,5400,PUTT,", "Type: 'PUTT' is not P, PUT, C or CALL"),
    (FLEX, '"5400","20261218","P"', '"5400","20261218","C"',
     "put/call: 'C' (call) is not the type of the symbol 'SPXW  261218P05400000' (put): the row "
     "names a put and a call"),
    (FLEX, '"5400","20261218","P"', '"5400","20261217","P"',
     "expiry: '20261217' (2026-12-17) is not the expiry of the symbol 'SPXW  261218P05400000' "
     "(2026-12-18): the row names two expiries"),
    (FLEX, '"5400","20261218","P"', '"540","20261218","P"',
     "strike: '540' (540) is not the strike of the symbol 'SPXW  261218P05400000' (5400): the "
     "row names two strikes"),
    (FLEX, '"SPXW 18DEC26 5400 P"', '"SPXW 18DEC26 5450 P"',
     "description: 'SPXW 18DEC26 5450 P' (SPXW 2026-12-18 5450 put) is not the option of the "
     "symbol 'SPXW  261218P05400000' (SPXW 2026-12-18 5400 put): the row names two options"),
    ("ibkr_flex.xml", 'strike="5400" expiry="20261218" putCall="P"',
     'strike="5400" expiry="20261218" putCall="C"',
     "put/call: 'C' (call) is not the type of the symbol 'SPXW  261218P05400000' (put): the row "
     "names a put and a call"),
    (TASTY, ",12/18/26,24,5400,PUT,", ",12/18/26,24,5400,CALL,",
     "Call/Put: 'CALL' (call) is not the type of the Symbol 'SPXW  261218P05400000' (put): the "
     "row names a put and a call"),
    (TASTY, ",12/18/26,24,5400,PUT,", ",12/19/26,24,5400,PUT,",
     "Exp Date: '12/19/26' (2026-12-19) is not the expiry of the Symbol "
     "'SPXW  261218P05400000' (2026-12-18): the row names two expiries"),
]  # fmt: skip


@pytest.mark.parametrize("name,old,new,said", RESTATED, ids=lambda x: str(x)[:24])
def test_a_row_that_names_two_options_is_refused(tmp_path, alvh, name, old, new, said):
    # the strike, expiry and put/call columns (and IBKR's description beside its OSI
    # symbol) were ignored once the symbol was read: a row saying 5450 beside a 5400 symbol
    # was imported as the symbol says. Now it is refused, naming the line and the column
    _refused(tmp_path, alvh, name, old, new, said)


@pytest.mark.parametrize(
    "name,old,new",
    [
        (TOS, ",18 DEC 26,5400,PUT,", ",18 DEC 26,5400.00,P,"),
        # a description naming the class by its index (SPX for the SPXW symbol's option)
        (FLEX, '"SPXW 18DEC26 5400 P"', '"SPX 18DEC26 5400 P"'),
        # a Flex query's date format is the user's choice: day first, or one alvh does not
        # read (then not compared: the symbol says the expiry)
        (FLEX, '"5400","20261218","P"', '"5400","18/12/2026","P"'),
        (FLEX, '"5400","20261218","P"', '"5400","18-Dec-26","P"'),
        # a cell left as the export's "no value"
        (TASTY, ",12/18/26,24,5400,PUT,", ",-,24,5400,--,"),
    ],
)
def test_a_row_whose_columns_agree_in_other_words_is_imported(tmp_path, alvh, name, old, new):
    # the same option said another way is no disagreement: "5400.00", "P" for PUT
    f, _ = _edit(name, old, new, tmp_path / name)
    code, out, err = alvh(["import", f, "-o", tmp_path / "book.toml"])
    assert code in (0, 1) and "alvh: " not in err, err
    assert "strike = 5400" in (tmp_path / "book.toml").read_text()


def test_another_roots_code_with_no_such_date_is_still_skipped(tmp_path, alvh):
    """An AAPL option alvh never imports: skipped as before, the condor imported."""
    f, _ = _edit(TOS, "SPX,SPXW261218P5600,", "AAPL,.AAPL261238P200,", tmp_path / TOS)
    code, out, err = alvh(["import", f, "-o", tmp_path / "book.toml"])
    assert code in (0, 1) and "alvh: " not in err, err
    assert ".AAPL261238P200" in out and (tmp_path / "book.toml").is_file()


def test_an_exp_cell_left_blank_is_no_claim(tmp_path, alvh):
    f, _ = _edit(TOS, ",18 DEC 26,5400,", ",,5400,", tmp_path / TOS)
    code, out, err = alvh(["import", f, "-o", tmp_path / "book.toml"])
    assert code in (0, 1) and "alvh: " not in err, err
    assert "5 SPX/VIX option legs" in out


# ------------------------------------------------------------------ apply's inputs


@pytest.fixture
def saved(folder, alvh):
    """calm.toml's check saved as JSON (its one position: dec-calm, a hold)."""
    run = alvh(["check", folder / "calm.toml", "--format", "json"])
    assert run.code == 0, run.err
    path = folder / "check.json"
    path.write_text(run.out)
    return path


def _apply(folder, saved, *more):
    return ["apply", folder / "calm.toml", "-p", "dec-calm", "--fill", "1.00",
            "--from-json", saved, "--journal", folder / "j.sqlite", *more]  # fmt: skip


BAD_RECOMMENDATIONS = [
    ([{"orders": [{}]}], "positions[0].recommendations[0]: not a check's JSON: no 'action'"),
    ([{"action": "open_hedge", "orders": [{"legs": []}]}],
     "positions[0].recommendations[0].orders[0]: not a check's JSON: no 'underlying'"),
    ([{"action": "fly"}],
     "positions[0].recommendations[0]: not a check's JSON: 'fly' is not a valid Action"),
    (5, "positions[0].recommendations: not a check's JSON: 'int' object is not iterable"),
]  # fmt: skip


@pytest.mark.parametrize("recommendations,said", BAD_RECOMMENDATIONS)
def test_a_saved_check_with_a_broken_recommendation_is_one_line(folder, alvh, saved,
                                                                recommendations, said):  # fmt: skip
    import json

    data = json.loads(saved.read_text())
    data["positions"][0]["recommendations"] = recommendations  # as a hand edit leaves it
    saved.write_text(json.dumps(data))
    before = state(folder)
    code, out, err = alvh(_apply(folder, saved))
    assert (code, out) == (2, "")
    assert one_line(err) == f"alvh: {saved}: {said}"
    assert state(folder) == before


@pytest.mark.parametrize("option", ["--history", "--events"])
@pytest.mark.parametrize("how", ["from-json", "settle"])
def test_apply_refuses_a_file_it_would_not_read(folder, alvh, saved, option, how):
    """With --from-json (the saved check's orders) or a settlement, apply decides nothing
    today: a history or calendar given would never be opened, so even a missing one
    passed. It is refused, naming the option."""
    args = _apply(folder, saved) if how == "from-json" else [
        "apply", folder / "calm.toml", "-p", "dec-calm", "--settle-spx", "5000",
        "--journal", folder / "j.sqlite"]  # fmt: skip
    before = state(folder)
    code, out, err = alvh([*args, option, folder / "missing.csv"])
    assert (code, out) == (2, "")
    by = "--from-json (its orders were decided then)" if how == "from-json" else "a settlement"
    assert one_line(err) == (
        f"alvh: {option}: not used with {by}: give it only when apply decides today's orders"
    )
    assert state(folder) == before
