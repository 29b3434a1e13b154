"""Work shared with forked copies of the process (alvh_cli.forked): results in order and the
same as one process gives, errors raised at their item, no copy left behind; a check, a
book's programs and a book's parsing shared that way give the outputs of one process.

Run by tests/test_forked.py in a pytest of its own: a process may fork only while it has
one thread, and earlier tests leave threads behind (joblib's pool, dask's loop)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path

import pytest

from alvh_cli import forked

ROOT = Path(__file__).resolve().parents[1]


def children() -> set[int]:
    """This process's children, running or not yet waited for (Linux's /proc)."""
    out: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread just joined may be leaving
            out.update(int(pid) for pid in (task / "children").read_text().split())
    return out


@pytest.fixture(autouse=True)
def no_children_left():
    """Each case may fork (it runs in a process of one thread), and every copy it makes is
    gone (waited for) when it ends."""
    assert forked.can_fork(), "run in a process that may fork (tests/test_forked.py)"
    before = children()
    yield
    assert children() <= before


@pytest.mark.parametrize("workers", [1, 2, 3, 5])
@pytest.mark.parametrize("count", [0, 1, 2, 7, 40])
def test_results_come_in_order_from_every_process(workers, count):
    # item i is worked by process i mod workers: its own pid comes back with it
    got = list(forked.ordered_map(lambda i: (i, i * i, os.getpid()), count, workers))
    assert [(i, sq) for i, sq, _ in got] == [(i, i * i) for i in range(count)]
    pids = {i % min(workers, max(count, 1)): pid for i, _, pid in got}
    if workers > 1 and count > 1:
        assert pids[0] == os.getpid()
        assert len(set(pids.values())) == min(workers, count)  # each a process of its own
    else:
        assert set(pids.values()) <= {os.getpid()}


@pytest.mark.parametrize("workers", [1, 2, 3, 5])
@pytest.mark.parametrize("count", [0, 1, 2, 7, 40])
def test_with_work_meanwhile_the_copies_take_every_item(workers, count):
    # this process does its own work once, while copies work every item; with no copy
    # (one worker, one item) it does the items and never that work: the caller does it
    calls = []
    got = list(
        forked.ordered_map(
            lambda i: (i, os.getpid()), count, workers, meanwhile=lambda: calls.append(1)
        )
    )
    assert [i for i, _ in got] == list(range(count))
    if workers > 1 and count > 1:
        assert calls == [1]
        assert os.getpid() not in {pid for _, pid in got}
        assert len({pid for _, pid in got}) == min(workers, count) - 1
    else:
        assert calls == []
        assert {pid for _, pid in got} <= {os.getpid()}


def test_a_copys_error_is_raised_at_its_item_after_the_ones_before():
    def work(i):
        if i == 5:
            raise ValueError(f"bad item {i}")
        return i

    seen = []
    with pytest.raises(ValueError, match="bad item 5"):
        for x in forked.ordered_map(work, 12, 2):  # item 5 falls to the copy
            seen.append(x)
    assert seen == [0, 1, 2, 3, 4]


def test_an_error_that_will_not_pickle_comes_back_as_its_text():
    class Local(Exception):  # a class defined in a function: pickle cannot find it
        pass

    def work(i):
        if i == 1:
            raise Local("went wrong")
        return i

    with pytest.raises(RuntimeError, match="Local: went wrong"):
        list(forked.ordered_map(work, 4, 2))


def test_a_copy_that_dies_is_an_error_not_a_hang():
    def work(i):
        if i == 3:
            os._exit(7)  # the copy vanishes mid-way
        return i

    with pytest.raises(RuntimeError, match="stopped before item 3"):
        list(forked.ordered_map(work, 6, 2))


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_a_copy_that_dies_is_named_with_its_signal():
    import signal

    def work(i):
        if i == 3:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
        return i

    with pytest.raises(RuntimeError, match="before item 3 .killed by signal 9"):
        list(forked.ordered_map(work, 6, 2))


def test_an_exit_in_a_copy_is_raised_here_as_it_is():
    def work(i):
        if i == 1:
            raise SystemExit(3)
        return i

    with pytest.raises(SystemExit) as got:
        list(forked.ordered_map(work, 4, 2))
    assert got.value.code == 3


@pytest.mark.parametrize("refused", ["pipe", "thread"])
def test_no_pipe_or_thread_to_be_had_means_this_process_does_it_all(monkeypatch, refused):
    # the system refuses the second copy's pipe (too many open files) or its reader
    # thread (a process limit): every item still comes, from this process, no file left open
    calls = []
    if refused == "pipe":
        real = os.pipe

        def pipe():
            calls.append(1)
            if len(calls) == 2:
                raise OSError(24, "Too many open files")
            return real()

        monkeypatch.setattr(os, "pipe", pipe)
    else:
        real = threading.Thread.start

        def start(self):
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("can't start new thread")
            return real(self)

        monkeypatch.setattr(threading.Thread, "start", start)
    before = open_fds()
    got = list(forked.ordered_map(lambda i: (i, os.getpid()), 9, 3))
    assert [i for i, _ in got] == list(range(9))
    assert {pid for _, pid in got} == {os.getpid()}
    assert open_fds() <= before


def noted(done: Path):
    """Work whose every item is written down in ``done`` as it is done, and is 64 kB."""

    def work(i):
        with open(done, "a") as fh:
            fh.write(f"{i}\n")
        return b"x" * 65536

    return work


def test_a_copy_runs_only_so_far_ahead_of_a_stalled_reader(tmp_path, monkeypatch):
    # results of 64 kB, a reader that stops after the first: the copy may fill the queue
    # (LEAD), the reader thread's hand and the pipe, and no more
    import time

    monkeypatch.setattr(forked, "LEAD", 4)
    done = tmp_path / "done"
    it = forked.ordered_map(noted(done), 200, 2)
    next(it)
    time.sleep(1.0)
    ahead = [int(x) for x in done.read_text().split() if int(x) % 2]
    it.close()
    assert 0 < len(ahead) <= 4 + 4  # the queue, the reader's hand, the pipe, the one in work


def test_a_copy_told_so_runs_ahead_to_the_end_while_this_process_works(tmp_path, monkeypatch):
    # a book's parse: every item may come ahead, so while this process does its own work
    # (meanwhile) the copy does all of its items, not LEAD of them
    import time

    monkeypatch.setattr(forked, "LEAD", 4)
    done = tmp_path / "done"

    def finished() -> int:
        return len(done.read_text().split()) if done.exists() else 0

    def meanwhile():  # the copy's items counted until all are done or 10 s have passed
        deadline = time.monotonic() + 10.0
        while finished() < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        meanwhile.seen = finished()

    got = forked.ordered_map(noted(done), 60, 2, meanwhile=meanwhile, ahead=60)
    assert [len(r) for r in got] == [65536] * 60
    assert meanwhile.seen == 60


def test_never_more_than_the_cap_of_processes(monkeypatch):
    pids = {pid for pid in forked.ordered_map(lambda i: os.getpid(), 50, 64)}
    assert len(pids) == forked.FORK_MAX


def test_a_reader_that_stops_early_stops_the_copies():
    import time

    def work(i):
        if i % 2:
            time.sleep(0.01)
        return i

    it = forked.ordered_map(work, 1000, 2)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()


def test_with_another_thread_running_nothing_is_forked():
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert not forked.can_fork() and forked.fork_workers() == 1
        pids = {pid for pid in forked.ordered_map(lambda i: os.getpid(), 6, 3)}
    finally:
        stop.set()
        t.join()
    assert pids == {os.getpid()}


def warns(i):
    import warnings

    warnings.warn("an odd item", UserWarning, stacklevel=1)
    return i


@pytest.mark.parametrize(("action", "shown"), [("default", 1), ("always", 6), ("ignore", 0)])
def test_a_copys_warnings_are_warned_here_as_if_raised_here(action, shown):
    # Python's default shows a warning once per place (its text, module and line): raised
    # at one place in every item, by two processes, it is shown once, as in one process.
    # The filters set here decide for the copy's warnings too.
    import warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter(action)
        assert list(forked.ordered_map(warns, 6, 2)) == list(range(6))
    assert [str(w.message) for w in seen] == ["an odd item"] * shown
    assert all(w.filename == __file__ for w in seen)


def test_packed_results_come_back_unpacked():
    got = list(forked.ordered_map(lambda i: str(i), 5, 2, str.encode, bytes.decode))
    assert got == ["0", "1", "2", "3", "4"]


def interrupted_often(i: int) -> bytes:
    """A big result from a copy whose writes a timer's signal keeps interrupting: a write to
    a full pipe interrupted after part of it returns what it wrote so far."""
    if os.getpid() != PARENT:  # in a copy: a handler that returns, so the write goes on
        import signal

        signal.signal(signal.SIGALRM, lambda *_: None)
        signal.setitimer(signal.ITIMER_REAL, 0.0002, 0.0002)
    return bytes([i]) * (4 << 20)


PARENT = os.getpid()


def test_a_copys_results_arrive_whole_through_interrupted_writes():
    # 4 MiB a result through a 64 KiB pipe: every write blocks and is interrupted many times
    got = list(forked.ordered_map(interrupted_often, 6, 2, bytes, bytes))
    assert [len(r) for r in got] == [4 << 20] * 6
    assert [set(r) for r in got] == [{i} for i in range(6)]


def test_the_workers_are_the_cores_up_to_a_limit(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))
    assert forked.fork_workers() == forked.FORK_MAX
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    assert forked.fork_workers() == 1
    monkeypatch.setattr(sys, "platform", "darwin")  # not fork-safe there
    assert not forked.can_fork() and forked.fork_workers() == 1


def test_a_cpu_quota_caps_the_workers(tmp_path, monkeypatch):
    # a container given 1.5 CPUs of a host's 64 cores: two processes, not 64
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert forked.cpu_quota(str(tmp_path)) == 2
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert forked.cpu_quota(str(tmp_path)) is None
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")  # cgroup v1, half a CPU
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert forked.cpu_quota(str(tmp_path)) == 1
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert forked.cpu_quota(str(tmp_path)) is None
    assert forked.cpu_quota(str(tmp_path / "none")) is None
    # cgroup v2 with the quota on the process's own group (a systemd unit's CPUQuota=)
    # or on one above it: the tightest counts
    unit = tmp_path / "v2" / "system.slice" / "alvh.service"
    unit.mkdir(parents=True)
    (unit / "cpu.max").write_text("300000 100000\n")
    assert forked.cpu_quota(str(tmp_path / "v2"), "/system.slice/alvh.service") == 3
    (unit.parent / "cpu.max").write_text("100000 100000\n")
    assert forked.cpu_quota(str(tmp_path / "v2"), "/system.slice/alvh.service") == 1
    assert forked.cpu_quota(str(tmp_path / "v2"), "/") is None
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))
    monkeypatch.setattr(forked, "cpu_quota", lambda: 3)
    assert forked.fork_workers() == 3


def test_a_quota_of_one_core_forks_nothing_and_takes_no_pool(monkeypatch):
    # a container with one CPU on a 16-core host: no copy, no pool of fresh processes
    from alvh_cli.method import check

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)))
    monkeypatch.setattr(forked, "cpu_quota", lambda root=None: 1)
    assert forked.fork_workers() == 1
    assert check.default_workers(10 * check.PARALLEL_FROM) == 1


# ------------------------------------------------------- a check shared with forked copies


def test_a_check_shared_with_copies_is_the_check_of_one_process(monkeypatch):
    # The samples and tested condors (a hedge sized, Layer 3 choices, hedges on, a profit
    # take), their book's programs worked out by copies too: listed and streamed, the
    # same checks to the last bit as one process, the same JSON, the same verdict, the
    # caller's own position objects.
    from test_book_scale import books_with_a_tested_side, checked_json, same

    from alvh_cli.method import check
    from alvh_cli.model import pricing

    pricing.use_normal("numpy")
    values = books_with_a_tested_side()
    pricing.use_normal("auto")
    serial = check.check_values(values, workers=1)
    monkeypatch.setattr(check, "FORK_MEMBERS", 2)
    monkeypatch.setattr(forked, "fork_workers", lambda: 2)
    for stream in (False, True):
        shared = check.check_values(values, workers=2, stream=stream)
        rows = list(shared.positions)
        same(rows, serial.positions)
        assert all(a.position is pv.position for a, pv in zip(rows, values, strict=True))
        assert shared.needs_action is serial.needs_action is True
    streamed = check.check_values(values, workers=3, stream=True)
    assert checked_json(streamed) == checked_json(serial)


def write_book(folder: Path, count: int) -> list[Path]:
    """``count`` files of the samples' positions, renamed apart, and a bad one."""
    src = sorted((ROOT / "sample_positions").glob("*.toml"))
    out = []
    for i in range(count):
        text = src[i % len(src)].read_text()
        path = folder / f"f{i:02d}.toml"
        path.write_text(text.replace('id = "', f'id = "{i:02d}-'))
        out.append(path)
    bad = folder / "bad.toml"
    bad.write_text('[[positions]]\nid = "x"\nexpiry = 2026-13-01\n')
    out.insert(3, bad)
    return out


def test_a_book_parsed_by_copies_loads_as_in_one_process(tmp_path, monkeypatch):
    from alvh_cli.inputs import book

    files = write_book(tmp_path, 9)
    one, one_errors = book.load_book_tolerant(files)
    monkeypatch.setattr(book, "FORK_BYTES", 0)
    monkeypatch.setattr(forked, "fork_workers", lambda: 3)
    many, many_errors = book.load_book_tolerant(files)
    assert [str(e) for e in many_errors] == [str(e) for e in one_errors] and one_errors
    assert [repr(lf.file) for lf in many] == [repr(lf.file) for lf in one]


def test_check_through_the_cli_with_copies_prints_what_one_process_prints(
    tmp_path, monkeypatch, alvh
):
    from alvh_cli.inputs import book
    from alvh_cli.method import check

    files = [str(p) for p in write_book(tmp_path, 8)]
    one = alvh(["check", *files, "--format", "json"])
    monkeypatch.setattr(check, "FORK_FROM", 2)
    monkeypatch.setattr(check, "FORK_MEMBERS", 2)
    monkeypatch.setattr(book, "FORK_BYTES", 0)
    monkeypatch.setattr(forked, "fork_workers", lambda: 2)
    shared = alvh(["check", *files, "--format", "json"])
    assert shared == one


def write_history(path: Path) -> Path:
    """60 business days of closes to the samples' asof, SPX falling for the last 20."""
    from datetime import date, timedelta

    days, d = [], date(2026, 11, 24)
    while len(days) < 60:
        if d.weekday() < 5:
            days.append(d)
        d -= timedelta(days=1)
    lines = ["date,spx,vix"]
    for i, day in enumerate(reversed(days)):
        lines.append(f"{day.isoformat()},{6000 * 0.99 ** max(0, i - 39):.2f},{15 + (i == 59)}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("command", ["check", "review"])
@pytest.mark.parametrize("history", ["good", "bad"])
def test_a_history_read_while_copies_parse_gives_what_one_process_gives(
    tmp_path, monkeypatch, alvh, command, history
):
    # the history is read (and scipy imported) while copies parse the book: the output,
    # the one line of a bad history and the exit status are one process's
    from alvh_cli.inputs import book

    files = [str(p) for p in write_book(tmp_path, 8)]
    path = write_history(tmp_path / "history.csv")
    if history == "bad":
        path.write_text(path.read_text().replace("15", "fifteen", 1))
    args = [command, *files, "--history", str(path), "--format", "json"]
    if command == "review":
        args += ["--no-journal"]
    one = alvh(args)
    monkeypatch.setattr(book, "FORK_BYTES", 0)
    monkeypatch.setattr(forked, "fork_workers", lambda: 2)
    read = []
    real = book._parsed_tables

    def spy(paths, meanwhile=None):
        read.append(meanwhile is not None)
        return real(paths, meanwhile)

    monkeypatch.setattr(book, "_parsed_tables", spy)
    shared = alvh(args)
    assert read == [True]
    assert shared == one
    assert one.code == 2  # the book's bad file, or the history
    if history == "bad":
        assert "history.csv" in one.err and not one.out
    else:
        assert '"positions"' in one.out and "bad.toml" in one.err


def test_a_review_written_by_copies_prints_what_one_process_prints(tmp_path, monkeypatch, alvh):
    from alvh_cli.method import check

    files = [str(p) for p in write_book(tmp_path, 8)]
    args = ["review", *files, "--format", "json", "--no-journal"]
    one = alvh(args)
    monkeypatch.setattr(check, "FORK_FROM", 2)
    monkeypatch.setattr(forked, "fork_workers", lambda: 3)
    made = []
    real = forked.ordered_map

    def spy(work, count, workers, *a, **k):
        made.append(workers)
        return real(work, count, workers, *a, **k)

    monkeypatch.setattr(forked, "ordered_map", spy)
    shared = alvh(args)
    assert 3 in made
    assert shared == one and '"recommendations"' in one.out


def test_review_records_made_by_copies_are_the_ones_written_after(tmp_path, monkeypatch):
    # compact JSON: each copy makes its rows' records and sends back trimmed checks (no
    # position, no alternatives); the text is the one written from full checks after
    import io

    from alvh_cli.app import review as app_review
    from alvh_cli.method import check
    from alvh_cli.output import common
    from alvh_cli.output import review as review_out

    files = [str(p) for p in write_book(tmp_path, 12) if p.name != "bad.toml"]
    monkeypatch.setattr(check, "FORK_FROM", 2)
    monkeypatch.setattr(forked, "fork_workers", lambda: 3)
    texts = []
    for records in (None, review_out.encoded_row):
        run = app_review.review(files, journal_path=None, records=records)
        text = io.StringIO()
        common.write_json(text, review_out.review_json(run, encode=True))
        texts.append(text.getvalue())
    assert run.records is not None and len(run.records) == len(run.review.rows)
    assert all(r.check.position.source in files for r in run.review.rows)
    assert texts[0] == texts[1] and '"alternatives"' in texts[0]


def test_books_solved_by_copies_give_what_one_process_gives(tmp_path, monkeypatch, alvh):
    # the review benchmark's book: positions on two condor expiries due a hedge, so two
    # books of one snapshot, each solved in a process of its own
    from alvh_cli.method import book_hedge, check

    files = [str(p) for p in write_book(tmp_path, 14)]
    args = ["review", *files, "--format", "json", "--no-journal"]
    books = []
    real = book_hedge._book

    def spy(group, integral):
        books.append((len(group), os.getpid()))
        return real(group, integral)

    monkeypatch.setattr(book_hedge, "_book", spy)
    monkeypatch.setattr(check, "FORK_MEMBERS", 10**6)  # only the books are shared here
    one = alvh(args)
    assert len(books) >= 2 and {pid for _, pid in books} == {os.getpid()}
    alone = len(books)
    books.clear()
    monkeypatch.setattr(book_hedge, "FORK_FROM", 2)
    monkeypatch.setattr(forked, "fork_workers", lambda: 2)
    shared = alvh(args)
    assert shared == one
    assert 0 < len(books) < alone  # the others were solved by the copy (its calls unseen)
