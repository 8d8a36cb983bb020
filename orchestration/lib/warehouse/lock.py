"""The one writer's lock on a warehouse: held for a whole load, by the process that runs it.

DuckDB allows one writing process per file, and a load is more than one write: it scans the
landing, loads the pending deliveries into the next catalog, builds, checks and publishes. Two
loads that interleave would each see the other's deliveries as theirs, or discard each other's
next catalog. So the lock is taken once per load and held until the load ends:

- `cvm load` takes it before it looks at the landing, and keeps it to the end;
- a run that Dagster launches (the schedule, the sensor, the UI, a backfill) takes it in its
  executor (defs/executor.py), before its first step, and keeps it to its last;
- every step that writes takes it again: within the process that holds it already this costs
  nothing (the lock is the process's), and a step run on its own takes it for itself.

The lock is a file lock (`writer.lock` in the store), so it holds between processes, between
Dagster instances with different homes, and between a `cvm load` and a Dagster run. The kernel
frees it when its process ends, however it ends. Beside it, `writer.owner` names the holder
(process, start time, what runs), so that a load that waits can say for whom.

A second load waits, says once for whom, and gives up after `settings.writer_wait()` (default
2 hours) with `WarehouseBusy`, whose message is the one line to show.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import filelock

from orchestration.lib import processes
from orchestration.lib.warehouse.store import Store


class WarehouseBusy(RuntimeError):
    """Another process is writing the warehouse, and the wait for it ran out."""


@dataclass
class _Held:
    lock: filelock.FileLock
    depth: int


_held: dict[Path, _Held] = {}  # the locks this process holds, by lock file
_guard = threading.Lock()


def owner_path(lock: Path) -> Path:
    return lock.with_name("writer.owner")


def holds(store: Store) -> bool:
    """Whether this process holds the writer's lock of the warehouse of `store`."""
    with _guard:
        return store.lock.resolve() in _held


def read_owner(lock: Path) -> dict | None:
    """What `writer.owner` says of the holder, or None (no holder, or a record half written)."""
    try:
        return json.loads(owner_path(lock).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def describe_owner(owner: dict | None) -> str:
    """The holder in words: 'cvm load (process 4711 on host, since 2026-12-04 05:01:02)'."""
    if not owner:
        return "another process"
    what = owner.get("what") or "a load"
    return (f"{what} (process {owner.get('pid', '?')} on {owner.get('host', '?')}, since "
            f"{owner.get('since', '?')})")


def _write_owner(lock: Path, what: str) -> None:
    record = {
        "what": what,
        "pid": os.getpid(),
        "host": processes.token().split(":")[0],
        "process": processes.token(),
        "since": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %z"),
    }
    temporary = owner_path(lock).with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(record), encoding="utf-8")
    temporary.replace(owner_path(lock))


def _format_wait(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


@contextlib.contextmanager
def write_lock(
    store: Store,
    timeout_s: float | None = None,
    *,
    what: str = "a load",
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the one writer's lock on the warehouse of `store`.

    Within a process that holds it already, this holds it once more (and frees nothing on
    exit). Otherwise it waits for the holder up to `timeout_s` (default: the setting
    `settings.writer_wait()`); `on_wait` gets one line naming the holder when it has to wait.
    `what` names this holder for the others (e.g. 'cvm load', 'Dagster run 1a2b…').
    """
    path = store.lock.resolve()
    with _guard:
        held = _held.get(path)
        if held is not None:
            held.depth += 1
    if held is not None:
        try:
            yield
        finally:
            with _guard:
                held.depth -= 1
        return

    if timeout_s is None:
        from orchestration import settings

        timeout_s = settings.writer_wait()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(path, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        owner = read_owner(path)
        if on_wait is not None:
            on_wait(f"waiting for the warehouse's writer: {describe_owner(owner)} holds "
                    f"{path}; waiting up to {_format_wait(timeout_s)} (CVM_WRITER_WAIT)")
        started = time.monotonic()
        try:
            lock.acquire(timeout=max(timeout_s, 0.0), poll_interval=0.2)
        except filelock.Timeout:
            raise WarehouseBusy(
                f"{path}: another run is writing the warehouse ({describe_owner(read_owner(path))}"
                f"); gave up after {_format_wait(round(time.monotonic() - started))} "
                "(CVM_WRITER_WAIT)"
            ) from None
    try:
        with _guard:
            _held[path] = _Held(lock, 1)
        _write_owner(path, what)
        yield
    finally:
        with _guard:
            _held.pop(path, None)
        with contextlib.suppress(OSError):
            owner_path(path).unlink()
        lock.release()
