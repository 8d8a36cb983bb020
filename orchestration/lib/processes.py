"""The processes of a load: a token that names one process for good, whether it still runs,
children that die with their parent, the interrupts a load received, and interrupts held over
a step that must not stop halfway.

A process id alone names a process only while it runs: the kernel gives the number to another
process later. The token adds the host and the process's start time (in clock ticks since
boot, /proc/<pid>/stat), so that a token of a process that is gone never matches a new one.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_ENV = "CVM_PARENT_PID"  # the pid a child of a load must die with
HELD = (signal.SIGINT, signal.SIGTERM)  # the interrupts: what `interrupts_held` holds
_RECEIVED = {"pipe": None, "seen": False}  # interrupts_recorded's pipe, and what it has read


def module_command(module: str, *args: str) -> list[str]:
    """The command line of a child that runs `module` of this program with this Python: `-P`
    keeps the current folder out of its import path (`-m` would put it first), so that a
    folder named `orchestration` where the load was started is not imported in the program's
    place."""
    return [sys.executable, "-P", "-m", module, *args]


def start_time(pid: int) -> str | None:
    """The start time of process `pid` (clock ticks since boot), or None when it is gone (or
    there is no /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the name in parentheses may hold blanks; the fields after it are plain
    return stat[stat.rindex(")") + 2:].split()[19]


def token(pid: int | None = None) -> str:
    """`host:pid:start time` of process `pid` (default: this one)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{start_time(pid) or ''}"


def is_running(process: str) -> bool | None:
    """Whether the process of a token still runs: None when it ran on another host (nobody
    here can tell)."""
    parts = process.rsplit(":", 2)
    if len(parts) != 3:
        return False
    host, pid, started = parts
    if host != socket.gethostname():
        return None
    if not pid.isdigit():
        return False
    found = start_time(int(pid))
    return found is not None and (not started or found == started)


def die_with_parent() -> None:
    """Make the kernel kill this process (SIGKILL) when its parent dies, so that a child never
    lives on after its load is killed. The parent is the pid in $CVM_PARENT_PID (else the
    parent of now); when it is gone already, exit at once. Linux only; elsewhere nothing."""
    expected = os.environ.get(PARENT_ENV)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: not Linux
        return
    # the parent may have died before prctl took effect: then this process was reparented
    if expected and expected.isdigit() and os.getppid() != int(expected):
        os._exit(1)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """SIGINT and SIGTERM that come during the block act at its end: a step that has begun to
    change what users see (a publication) finishes its bookkeeping before a stop takes effect,
    and a stop is never lost. The first signal held is raised again as the block ends, with
    the handlers of before (a KeyboardInterrupt, Dagster's interrupt, or the default action).
    Only the main thread receives Python's signals; elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {}
    try:
        for number in HELD:  # installing one may run a handler pending: restore what was set
            previous[number] = signal.signal(number, lambda number, _frame: held.append(number))
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if held:
            signal.raise_signal(held[0])


@contextlib.contextmanager
def interrupts_recorded() -> Iterator[None]:
    """Record every SIGINT and SIGTERM the process receives in the block, whatever handler
    meets it, so that an interrupt is known (`interrupted`) even where a library's bare
    `except:` swallowed the exception its handler raised (dagster-dbt's reading of dbt's
    lines does). Python's own signal handler writes the number of each signal it receives to
    the wakeup fd, before any handler written in Python runs. Main thread only; elsewhere
    nothing is recorded."""
    if (threading.current_thread() is not threading.main_thread()
            or _RECEIVED["pipe"] is not None):  # within a block already: that one records
        yield
        return
    read_end, write_end = os.pipe()
    try:
        for end in (read_end, write_end):
            os.set_blocking(end, False)
        previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        try:
            _RECEIVED.update(pipe=read_end, seen=False)
            yield
        finally:
            try:
                signal.set_wakeup_fd(previous)
            finally:
                _RECEIVED.update(pipe=None, seen=False)
    finally:
        os.close(read_end)
        os.close(write_end)


def interrupted() -> bool:
    """Whether the process received SIGINT or SIGTERM in the block of `interrupts_recorded`
    (False outside one)."""
    pipe = _RECEIVED["pipe"]
    if pipe is not None and not _RECEIVED["seen"]:
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(pipe, 512):
                _RECEIVED["seen"] |= any(number in HELD for number in chunk)
    return bool(_RECEIVED["seen"])
