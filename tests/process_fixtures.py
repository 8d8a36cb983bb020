"""The processes below a process, from /proc: for the tests that a stopped load, or a killed
`cvm-dbt`, leaves nothing behind."""

from __future__ import annotations

from pathlib import Path


def living_parents() -> dict[int, int]:
    """pid -> parent pid of every living process (a zombie is dead, only not yet reaped)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()  # the name may hold blanks
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    return parents


def children(pid: int) -> set[int]:
    """The living children of `pid`."""
    return {child for child, parent in living_parents().items() if parent == pid}


def descendants(pid: int) -> set[int]:
    """Every living process below `pid` (children, their children, ...)."""
    parents = living_parents()
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found
