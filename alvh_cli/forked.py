"""Work shared with forked copies of this process, its results handed back in order.

Why fork: a copy made by ``os.fork`` starts with everything this process has built — the
book loaded and valued, its programs solved, the scenario sets and every cache — at no
cost, where a fresh worker (joblib's pool) imports numpy and scipy again, rebuilds the
scenario sets and takes the positions pickled, which cost what a second core saves on
two. So each copy computes the items whose index falls to it (every ``workers``-th, so
costly ones are shared evenly) and sends back only their results, already in the form
the caller writes (a JSON record), through a pipe; this process computes its own share
in between and hands out every result in order. The results are the ones this process
computes alone: each copy runs the same code on the same state.

Only where a fork is safe: on Linux (macOS's system libraries are not fork-safe), in a
process of one thread (a lock held by another thread at the fork stays held in the
copy).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from queue import Empty, Queue
from typing import Any

FORK_MAX = 8
"""Processes at most: this one reads and writes every result in order, and past a few
copies that is what it spends its time on."""

LEAD = 256
"""Results a copy may run ahead of the reader (held here, then in its pipe)."""

_HEADER = struct.Struct("<BQ")  # kind, payload bytes
_RESULT, _FAILED, _WARNED = 0, 1, 2  # an item's warnings come before its result
_END = object()


def can_fork() -> bool:
    """Whether this process may fork now: on Linux, with one thread."""
    return (
        sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1
    )


def fork_workers() -> int:
    """The processes (this one included) a forked map may use: :func:`usable_cores`, up to
    ``FORK_MAX``; 1 where forking is not safe."""
    return min(usable_cores(), FORK_MAX) if can_fork() else 1


def usable_cores() -> int:
    """The cores this process may run on (its affinity) that its CPU quota allows
    (:func:`cpu_quota`)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    quota = cpu_quota()
    return max(1, cores if quota is None else min(cores, quota))


_CGROUP = "/sys/fs/cgroup"


def cpu_quota(root: str = _CGROUP, own: str | None = None) -> int | None:
    """The CPUs the control group's quota allows, rounded up (a container run with
    ``--cpus 1.5``: 2), or None without a quota. A container sees every core of its host
    in its affinity; forking one copy per core beyond its quota only slices the same CPU
    time thinner. cgroup v2: the tightest ``cpu.max`` from this process's own group
    (``own``, default from /proc/self/cgroup: a systemd unit's ``CPUQuota=``) up to
    ``root``; else cgroup v1's ``cpu.cfs_quota_us`` at ``root``."""
    if own is None:
        own = _own_cgroup()
    parts = [x for x in (own or "").split("/") if x and x != ".."]
    groups = (os.path.join(root, *parts[:depth]) for depth in range(len(parts) + 1))
    found = [q for q in map(_quota_v2, groups) if q is not None]  # its group and those above
    if found:
        return min(found)
    try:  # cgroup v1: -1 for no quota
        with open(os.path.join(root, "cpu", "cpu.cfs_quota_us")) as fh:
            quota = fh.read().strip()
        with open(os.path.join(root, "cpu", "cpu.cfs_period_us")) as fh:
            period = fh.read().strip()
    except OSError:
        return None
    return _cpus(quota, period)


def _quota_v2(folder: str) -> int | None:
    """A cgroup v2 folder's ``cpu.max`` ("max 100000" or "<quota> <period>", microseconds)
    as CPUs, or None."""
    try:
        with open(os.path.join(folder, "cpu.max")) as fh:
            quota, period = fh.read().split()[:2]
    except (OSError, ValueError):
        return None
    return _cpus(quota, period)


def _cpus(quota: str, period: str) -> int | None:
    try:
        q, t = int(quota), int(period)
    except ValueError:  # "max": no quota
        return None
    if q <= 0 or t <= 0:
        return None
    return max(1, -(-q // t))


def _own_cgroup() -> str | None:
    """This process's cgroup v2 path (the "0::" line of /proc/self/cgroup), or None."""
    try:
        with open("/proc/self/cgroup") as fh:
            for line in fh:
                if line.startswith("0::"):
                    return line[3:].strip()
    except OSError:
        pass
    return None


def ordered_map(
    work: Callable[[int], Any],
    count: int,
    workers: int,
    pack: Callable[[Any], bytes] = pickle.dumps,
    unpack: Callable[[bytes], Any] = pickle.loads,
    meanwhile: Callable[[], Any] | None = None,
    ahead: int | None = None,
) -> Iterator:
    """``work(i)`` for i in 0..count−1, in order, computed by ``workers`` processes (at most
    ``FORK_MAX``): this one takes i ≡ 0 (mod workers), forked copies the others, their
    results sent back as ``pack`` gives them and read with ``unpack``. A copy's exception
    is raised here, at its item. With one worker, one item, or where a fork is not safe
    (:func:`can_fork`), nothing is forked; nor where the system refuses a process, a pipe
    or a thread (this process then does it all).

    A copy runs at most ``ahead`` results ahead of the reader (default ``LEAD``), so a
    reader that stalls (stdout to a pager) holds no more than that. A copy's warnings are
    warned again here, before its item, under this process's filters (:func:`_warn_again`).
    The copies are made when the iterator is first read; if it is dropped before its end
    they are stopped.

    ``meanwhile``: work of its own this process does while the copies start (a file to
    read, a module to import that it will need after the map), instead of a share of the
    items: the copies then take them all. Called only if copies were made (this process
    otherwise has the items to do): a caller that needs its result must be ready to do it
    later itself."""
    workers = min(workers, count, FORK_MAX)
    if workers <= 1 or not can_fork():
        yield from map(work, range(count))
        return
    for stream in (sys.stdout, sys.stderr):  # a copy must not write this one's buffers again
        if stream is not None:
            stream.flush()
    lead = 0 if meanwhile is None else 1  # items skipped by this process: none, or all
    copies = workers - lead  # processes that share the items
    children: list[int] = []
    reads: list[int] = []  # this process's ends of the copies' pipes, in order
    readers: list[threading.Thread] = []
    queues: list[Queue] = [Queue(maxsize=ahead or LEAD) for _ in range(workers)]  # [0]: unused
    finished = False
    try:
        # every copy is made before any reader thread starts: a fork in one thread only
        for w in range(1, workers):
            try:
                read_fd, write_fd = os.pipe()
            except OSError:  # no more files to be had: this one does it all
                break
            try:
                pid = os.fork()
            except OSError:  # no more processes to be had
                os.close(read_fd)
                os.close(write_fd)
                break
            if pid == 0:  # pragma: no cover - the copy: it leaves by os._exit, never returns
                try:
                    for fd in (read_fd, *reads):  # the other copies' pipes are not its own
                        os.close(fd)
                    _serve(work, range(w - lead, count, copies), write_fd, pack)
                finally:
                    os._exit(1)
            os.close(write_fd)
            children.append(pid)
            reads.append(read_fd)
        if len(children) == workers - 1:
            for w, fd in enumerate(reads, start=1):
                t = threading.Thread(target=_read, args=(fd, queues[w]), daemon=True)
                try:
                    t.start()
                except RuntimeError:  # no more threads to be had
                    break
                readers.append(t)  # it owns fd from here: it closes it at the pipe's end
        if len(readers) < workers - 1:  # this process does it all
            for fd in reads[len(readers) :]:
                os.close(fd)
            _stop(children, readers, queues)
            children, readers = [], []
            yield from map(work, range(count))
            finished = True
            return
        if meanwhile is not None:
            meanwhile()
        for i in range(count):
            w = i % copies + lead
            if w == 0:
                yield work(i)
                continue
            while True:
                got = queues[w].get()
                if got is _END:
                    how = _how_it_ended(children[w - 1])
                    raise RuntimeError(f"a forked worker stopped before item {i} ({how})")
                kind, payload = got
                if kind != _WARNED:
                    break
                _warn_again(payload)
            if kind == _FAILED:
                raise _exception(payload)
            yield unpack(payload)
        finished = True
    finally:
        if finished:
            _reap(children)
            for t in readers:  # each ends at its pipe's end, the copy gone: this process is
                t.join()  # again of one thread, as the next fork needs
        else:
            _stop(children, readers, queues)


def _serve(work, indices, fd: int, pack) -> None:  # pragma: no cover - in the copy
    """In a copy: ``work`` of each index, packed, written to ``fd``; then leave at once
    (``os._exit``: no buffers flushed, no exit handlers of the parent run twice). An
    exception, an exit or an interrupt in ``work`` is sent back, to be raised at its item."""
    import warnings

    status = 0
    try:
        for i in indices:
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")  # the reader's filters decide
                try:
                    body, kind = pack(work(i)), _RESULT
                except BaseException as exc:  # sent back, raised by the reader here
                    body, kind, status = _pickled(exc), _FAILED, 1
            if seen:
                said = _pickled_warnings(seen)
                _send(fd, _HEADER.pack(_WARNED, len(said)) + said)
            _send(fd, _HEADER.pack(kind, len(body)) + body)
            if kind == _FAILED:
                break
    except BaseException:  # a closed pipe (the reader gone), an interrupt
        status = 1
    finally:
        os._exit(status)


def _send(fd: int, data: bytes) -> None:  # pragma: no cover - in the copy
    """All of ``data`` written to ``fd``. A write to a full pipe that a signal interrupts
    (a profiler or debugger attaching, a handler) returns what it wrote so far; the rest
    must follow, or every frame after it is read misaligned."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _pickled_warnings(seen: list) -> bytes:
    """A copy's warnings (``warnings.catch_warnings(record=True)``), to be warned again by
    the reader (:func:`_warn_again`)."""
    out = []
    for w in seen:
        message = w.message
        try:
            pickle.dumps(message)
        except Exception:  # a warning that will not pickle: its text
            message = str(message)
        out.append((message, w.category, w.filename, w.lineno))
    return pickle.dumps(out)


def _warn_again(payload: bytes) -> None:
    """A copy's warnings warned here, as if this process had raised them: its filters
    apply, and the registry of the module that warned, so a warning shown once per
    place is shown once whichever process raised it."""
    import warnings

    for message, category, filename, lineno in pickle.loads(payload):
        module = _module_of(filename)
        registry = None if module is None else module.__dict__.setdefault("__warningregistry__", {})
        name = None if module is None else module.__name__
        warnings.warn_explicit(message, category, filename, lineno, name, registry)


def _module_of(filename: str):
    """The loaded module whose source is ``filename``, or None."""
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) == filename:
            return module
    return None


def _pickled(exc: BaseException) -> bytes:
    try:
        return pickle.dumps(exc)
    except Exception:  # an exception that will not pickle: its text
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))


def _exception(payload: bytes) -> BaseException:
    try:
        exc = pickle.loads(payload)
    except Exception as broken:  # an exception whose class will not rebuild from its args
        return RuntimeError(f"a forked worker failed, and its error could not be read: {broken}")
    return exc if isinstance(exc, BaseException) else RuntimeError(str(exc))


def _read(fd: int, q: Queue) -> None:
    """A copy's frames, read as they come, onto ``q`` (which holds ``ahead`` at most: a full
    one stops the reading, then the copy, at its full pipe); ``_END`` once the pipe closes."""
    try:
        with os.fdopen(fd, "rb") as pipe:
            while True:
                head = pipe.read(_HEADER.size)
                if len(head) < _HEADER.size:
                    break
                kind, size = _HEADER.unpack(head)
                body = pipe.read(size)
                if len(body) < size:
                    break
                q.put((kind, body))
    finally:
        q.put(_END)


def _how_it_ended(pid: int) -> str:
    """How a copy that sent no more ended: its exit status or signal (left to be waited
    for: a process waited for may give its number to another, which must not be killed)."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:  # pragma: no cover - waited for already
        return "gone"
    if info.si_code in (os.CLD_KILLED, os.CLD_DUMPED):  # waited for, so never None
        return f"killed by signal {info.si_status}"
    return f"exit status {info.si_status}"


def _stop(children: list[int], readers: list[threading.Thread], queues: list[Queue]) -> None:
    """The copies stopped and waited for, and their readers: each reader is unblocked (its
    queue emptied) until its pipe's end, the copy gone."""
    import signal

    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _reap(children)
    for t in readers:
        while t.is_alive():
            for q in queues:
                with contextlib.suppress(Empty):
                    while True:
                        q.get_nowait()
            t.join(0.01)


def _reap(children: list[int]) -> None:
    """Wait for every copy (one already waited for is passed over)."""
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
