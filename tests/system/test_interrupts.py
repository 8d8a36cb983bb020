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
Two more loads are stopped by a SIGTERM whose exception some code swallows (SWALLOWING): the
one dagster-dbt swallows as it reads dbt's lines, and one met in the publish step. They publish
nothing either.
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
BUILT = "  dbt build passed (customer value)"  # the checks and the publication follow
# `cvm load`, where the load sends itself SIGTERM once the file $TRIGGER exists, at a point
# where the exception of the interrupt is swallowed ($SWALLOW):
# - "dbt": in dagster-dbt, as it reads dbt's next line (a bare `except:` takes the exception
#   for a line that is no JSON, dbt_cli_invocation._stream_stdout);
# - "publish": at the start of the marts' export, by code that goes on after any exception.
SWALLOWING = r"""
import os, signal, sys, time
import orjson
import dagster_dbt.core.dbt_cli_invocation as invocation
from orchestration.lib.warehouse import marts

def stop_myself():
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(100_000):  # the handler raises in here
        pass

class Orjson:
    def __getattr__(self, name):
        return getattr(orjson, name)

    def loads(self, text):
        if os.path.exists(os.environ["TRIGGER"]):
            os.unlink(os.environ["TRIGGER"])
            stop_myself()
        return orjson.loads(text)

export_marts = marts.export_marts

def swallowing_export_marts(*args, **kwargs):
    while not os.path.exists(os.environ["TRIGGER"]):
        time.sleep(0.05)
    os.unlink(os.environ["TRIGGER"])
    try:
        stop_myself()
    except BaseException:
        pass
    return export_marts(*args, **kwargs)

if os.environ["SWALLOW"] == "dbt":
    invocation.orjson = Orjson()
else:
    marts.export_marts = swallowing_export_marts
from orchestration.cli import main
sys.exit(main())
"""


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


def trigger(landing: Path) -> Path:
    """The file whose existence makes a SWALLOWING load stop itself."""
    return landing.parent / "stop-now"


def start_load(landing: Path, warehouse: Path, home: Path,
               swallow: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    command = [CVM]
    if swallow:  # SWALLOWING
        command = [sys.executable, "-c", SWALLOWING]
        env |= {"SWALLOW": swallow, "TRIGGER": str(trigger(landing))}
    return subprocess.Popen(
        [*command, "load", "--landing", str(landing), "--warehouse", str(warehouse)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group: Ctrl-C reaches it and its children
    )


def stop_at(load: subprocess.Popen, marker: str, how: str) -> tuple[int, str, dict[int, str]]:
    """Read the load's output until `marker`, then stop it `how` (at the dbt step: once dbt
    builds, as the load's child `cvm-dbt build`; "swallowed": the load stops itself,
    SWALLOWING); its exit code, its whole output and the processes below it when it was
    stopped (pid: command line)."""
    lines = []
    for line in load.stdout:
        lines.append(line)
        if line.startswith(marker):
            break
    else:
        pytest.fail("the load ended before " + repr(marker) + ":\n" + "".join(lines))
    if marker == DBT:
        deadline = time.monotonic() + 60
        while not any("cvm-dbt build" in _cmdline(pid) for pid in descendants(load.pid)):
            assert load.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.05)
        time.sleep(0.5)  # dbt is under way
    children = {pid: _cmdline(pid) for pid in descendants(load.pid)}
    if how == "swallowed":
        trigger(Path(load.args[load.args.index("--landing") + 1])).touch()
    elif how == "SIGINT":
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
                        (DBT, "SIGINT"), (DBT, "SIGTERM"), (DBT, "swallowed"),
                        (BUILT, "swallowed")):
        where = {DBT: "dbt", INGEST: "ingest", BUILT: "publish"}[marker]
        case = f"{how} at the {where} step"
        swallow = where if how == "swallowed" else None
        code, out, children = stop_at(start_load(landing, warehouse, home, swallow), marker,
                                      how)
        assert published_state(warehouse) == before, (case, code, out)
        if (marker, how) == (DBT, "swallowed"):  # stopped at dbt's next event, not after it
            assert "dbt build passed" not in out, (case, out)
        # the run the killed load left STARTED, holding the writers' pool, is found and freed
        assert ("of an earlier load that was killed" in out) == after_kill, (case, out)
        after_kill = how == "SIGKILL"
        if marker == DBT:  # stopped while dbt ran as its child
            assert any("cvm-dbt" in line for line in children.values()), (case, children)
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
