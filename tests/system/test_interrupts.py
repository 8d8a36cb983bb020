"""A killed or interrupted `cvm load` publishes nothing, leaves no process behind and wedges
nothing: real `cvm load` processes, stopped at the ingest step and at the dbt step.

The published warehouse holds the first two deliveries of tests/e2e_fixtures.py; the third
is pending. One `cvm load` after another is stopped while it loads the third delivery or while
dbt builds, each on the same warehouse and the same Dagster instance ($DAGSTER_HOME), so that
every start also meets what the stopped ones left: a run still STARTED that holds the writers'
pool, a next catalog, an engine's database in the middle of a build. Each time:
- the published catalog and every file it names are byte-identical (sha256);
- no process of the load is left, dbt and any other child included;
- SIGINT (Ctrl-C, to the whole process group as a terminal sends it) and SIGTERM (to the load
  alone) exit 130 and say so in one line, without a traceback.
Then a last `cvm load` finishes, and its marts equal those of a clean load of the same three
deliveries into a new warehouse.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.landing import sha256_of
from orchestration.lib.warehouse.store import Store
from tests.dbt.test_incremental import end_state
from tests.e2e_fixtures import D1, D2, D3, write_delivery
from tests.process_fixtures import descendants

pytestmark = [pytest.mark.slow, pytest.mark.kill]

CVM = str(Path(sys.executable).with_name("cvm"))
INGEST = f"  {D3} customers:"  # the first extract of the pending delivery is loaded
DBT = "  dbt "  # dbt starts building


def published_state(warehouse: Path) -> dict[str, str]:
    """sha256 of the published catalog and of every file it names."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        named = [r[0] for r in con.execute(
            "select path from meta.raw_files union select path from meta.mart_files "
            "union select path from meta.retired_files").fetchall()]
    finally:
        con.close()
    store = Store(warehouse, "duckdb")
    return {"catalog": sha256_of(warehouse)} | {
        path: sha256_of(store.path(path)) for path in sorted(named)}


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if state[state.rindex(")") + 2] != "Z":
            living.add(pid)
    return living


def start_load(landing: Path, warehouse: Path, home: Path) -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [CVM, "load", "--landing", str(landing), "--warehouse", str(warehouse)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group: Ctrl-C reaches it and its children
    )


def stop_at(load: subprocess.Popen, marker: str, how: str) -> tuple[int, str, dict[int, str]]:
    """Read the load's output until `marker`, then stop it `how`; its exit code, its whole
    output and the processes below it when it was stopped (pid: command line)."""
    lines = []
    for line in load.stdout:
        lines.append(line)
        if line.startswith(marker):
            break
    else:
        pytest.fail("the load ended before " + repr(marker) + ":\n" + "".join(lines))
    if marker == DBT:
        time.sleep(2)  # dbt is under way
    children = {pid: _cmdline(pid) for pid in descendants(load.pid)}
    if how == "SIGINT":
        os.killpg(load.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
    else:
        os.kill(load.pid, getattr(signal, how))  # the load alone
    rest, _ = load.communicate(timeout=120)
    return load.returncode, "".join(lines) + rest, children


def test_a_stopped_load_publishes_nothing_and_the_next_one_completes(tmp_path):
    landing, home = tmp_path / "landing", tmp_path / "dagster_home"
    for folder in (D1, D2):
        write_delivery(landing, folder)
    warehouse = tmp_path / "warehouse.duckdb"
    first = start_load(landing, warehouse, home)
    first_out, _ = first.communicate(timeout=900)
    assert first.returncode == 0, first_out
    write_delivery(landing, D3)
    # the clean load to compare with: all three deliveries into a new warehouse, meanwhile
    clean_landing = tmp_path / "clean" / "landing"
    shutil.copytree(landing, clean_landing)
    clean_warehouse = tmp_path / "clean" / "warehouse.duckdb"
    clean = start_load(clean_landing, clean_warehouse, tmp_path / "clean" / "dagster_home")

    before = published_state(warehouse)
    after_kill = False  # the load before was killed outright
    for marker, how in ((DBT, "SIGKILL"), (INGEST, "SIGINT"), (INGEST, "SIGKILL"),
                        (DBT, "SIGINT"), (DBT, "SIGTERM")):
        where = "dbt" if marker == DBT else "ingest"
        code, out, children = stop_at(start_load(landing, warehouse, home), marker, how)
        case = f"{how} at the {where} step"
        # the run the killed load left STARTED, holding the writers' pool, is found and freed
        assert ("of an earlier load that was killed" in out) == after_kill, (case, out)
        after_kill = how == "SIGKILL"
        if where == "dbt":  # stopped while dbt ran as its child
            assert any("cvm-dbt" in line for line in children.values()), (case, children)
        assert published_state(warehouse) == before, case
        deadline = time.monotonic() + 15
        while alive(set(children)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(set(children)), (case, {p: children[p] for p in alive(set(children))})
        if how == "SIGKILL":
            assert code == -signal.SIGKILL, case
            continue
        assert code == 130, (case, out)
        assert "Traceback" not in out, (case, out)
        said = [line for line in out.splitlines() if "INTERRUPTED" in line]
        assert len(said) == 1 and "nothing published" in said[0], (case, out)

    last = start_load(landing, warehouse, home)
    out, _ = last.communicate(timeout=900)
    assert last.returncode == 0, out
    # a load with dbt's partial parse: nothing of its dbt processes is left for Python's
    # resource tracker to clean up, and to warn of in the load's output
    assert "leaked semaphore" not in out, out
    clean_out, _ = clean.communicate(timeout=900)
    assert clean.returncode == 0, clean_out
    assert end_state(warehouse) == end_state(clean_warehouse)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
