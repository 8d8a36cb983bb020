"""One writer owns a warehouse for a whole load: loads started at the same time wait for each
other, say for whom, and never report a delivery that the version they published lacks.

The lock itself first (no dbt: fast), then real `cvm load` processes and a run launched the way
Dagster launches one, on the small deliveries of tests/e2e_fixtures.py.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration import settings
from orchestration.lib.warehouse.lock import WarehouseBusy, holds, read_owner, write_lock
from orchestration.lib.warehouse.store import Store
from orchestration.runner import register_deliveries
from tests.dbt.test_incremental import end_state
from tests.e2e_fixtures import D1, D2, D3, write_delivery

CVM = str(Path(sys.executable).with_name("cvm"))


# --- the lock -------------------------------------------------------------------------------

def _hold(store, seconds, ready):
    with write_lock(store, what="cvm load"):
        ready.set()
        time.sleep(seconds)


def _holder(store: Store, seconds: float) -> multiprocessing.Process:
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(store, seconds, ready))
    holder.start()
    assert ready.wait(10), "the other process did not get the lock"
    return holder


def test_a_second_writer_says_once_whom_it_waits_for_then_gives_up(tmp_path):
    store = Store(tmp_path / "warehouse.duckdb", "duckdb")
    holder = _holder(store, 3)
    said: list[str] = []
    started = time.monotonic()
    with pytest.raises(WarehouseBusy) as busy, write_lock(store, 0.6, on_wait=said.append):
        pass
    assert 0.5 < time.monotonic() - started < 3
    # one line, naming the holder: what it is, its process and since when
    assert len(said) == 1, said
    assert f"cvm load (process {holder.pid} on " in said[0], said
    assert re.search(r"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", said[0]), said
    assert "waiting up to 0.6 s" in said[0], said
    assert f"process {holder.pid}" in str(busy.value) and "gave up after" in str(busy.value)
    holder.join()
    # the holder is gone: the lock is free, and so is the record of its owner
    assert read_owner(store.lock) is None
    with write_lock(store, 1, on_wait=said.append):
        assert read_owner(store.lock)["pid"] == os.getpid()
    assert len(said) == 1


def test_the_lock_is_the_process_s_nested_holds_are_free_and_the_outer_one_frees_it(tmp_path):
    store = Store(tmp_path / "warehouse.duckdb", "duckdb")
    with write_lock(store, 1):
        assert holds(store)
        with write_lock(store, 0), write_lock(store, 0):  # a step of this load
            pass
        assert holds(store)  # an inner hold frees nothing
        other = multiprocessing.Process(target=_hold, args=(store, 0, multiprocessing.Event()))
    assert not holds(store)
    other.start()
    other.join(10)
    assert other.exitcode == 0


def test_a_waiting_writer_gets_the_lock_as_soon_as_it_is_free(tmp_path):
    store = Store(tmp_path / "warehouse.duckdb", "duckdb")
    holder = _holder(store, 1.5)
    said: list[str] = []
    with write_lock(store, 30, on_wait=said.append):
        assert holder.exitcode is not None or not holder.is_alive()
    assert len(said) == 1
    holder.join()


@pytest.mark.parametrize(("value", "seconds"), [
    ("", 7200.0), ("90", 90.0), ("45s", 45.0), ("30m", 1800.0), ("2h", 7200.0), ("0", 0.0)])
def test_the_wait_is_a_setting(monkeypatch, value, seconds):
    monkeypatch.setenv("CVM_WRITER_WAIT", value)
    assert settings.writer_wait() == seconds


@pytest.mark.parametrize("value", ["soon", "-5", "3 days"])
def test_a_wait_that_is_no_duration_is_refused_by_name(monkeypatch, value):
    monkeypatch.setenv("CVM_WRITER_WAIT", value)
    with pytest.raises(ValueError, match="CVM_WRITER_WAIT"):
        settings.writer_wait()


def test_registering_a_known_delivery_is_no_error(tmp_path, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        register_deliveries(instance, [D1])
        register_deliveries(instance, [D1, D2])  # D1 again, from a later load
        assert instance.get_dynamic_partitions("deliveries") == [D1, D2]

        # another process adds D3 between this one's look and its insert: the storage's
        # unique constraint fails, and the partition is there all the same
        original = instance.add_dynamic_partitions

        def added_meanwhile(name, keys):
            original(name, keys)
            raise IntegrityError("INSERT INTO dynamic_partitions", {}, Exception("UNIQUE"))

        monkeypatch.setattr(instance, "add_dynamic_partitions", added_meanwhile)
        register_deliveries(instance, [D3])
        assert instance.get_dynamic_partitions("deliveries") == [D1, D2, D3]


# --- loads at the same time -----------------------------------------------------------------

def _start(landing: Path, warehouse: Path, home: Path) -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [CVM, "load", "--landing", str(landing), "--warehouse", str(warehouse)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _read_until(process: subprocess.Popen, marker: str) -> list[str]:
    lines = []
    for line in process.stdout:
        lines.append(line)
        if marker in line:
            return lines
    pytest.fail(f"the process ended before {marker!r}:\n" + "".join(lines))


def _loaded(out: str) -> list[str]:
    """The deliveries a load says it loaded (its summary's line)."""
    found = re.search(r"deliveries loaded in this run: \d+ \(([^)]*)\)", out)
    if not found:
        return []
    first, _, last = found.group(1).partition(" … ")
    return sorted({first, last or first})


def _logged_deliveries(warehouse: Path) -> set[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {r[0] for r in con.execute(
            "select distinct split_part(source_file, '/', 1) from audit.load_log").fetchall()}
    finally:
        con.close()


class Reader(threading.Thread):
    """An analyst who queries the published warehouse read-only, again and again, while loads
    run: every query either answers or finds no published warehouse yet; none fails."""

    def __init__(self, warehouse: Path):
        super().__init__(daemon=True)
        self.warehouse, self.stop, self.errors, self.reads = warehouse, threading.Event(), [], 0

    def run(self):
        while not self.stop.is_set():
            if self.warehouse.exists():
                try:
                    con = duckdb.connect(str(self.warehouse), read_only=True)
                    try:
                        con.execute("select count(*) from marts.customer_value").fetchone()
                        self.reads += 1
                    finally:
                        con.close()
                except duckdb.Error as error:
                    if "marts" not in str(error):  # before the first build: no marts yet
                        self.errors.append(repr(error))
            time.sleep(0.2)


@pytest.fixture(scope="module")
def clean_load(tmp_path_factory):
    """One clean load of D1, D2 and D3 into a new warehouse: the end state every test below
    must reach."""
    root = tmp_path_factory.mktemp("clean")
    for folder in (D1, D2, D3):
        write_delivery(root / "landing", folder)
    load = _start(root / "landing", root / "warehouse.duckdb", root / "home")
    out, _ = load.communicate(timeout=900)
    assert load.returncode == 0, out
    return end_state(root / "warehouse.duckdb")


@pytest.mark.slow
def test_three_loads_at_once_wait_for_each_other_and_report_only_what_they_published(
        tmp_path, clean_load):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    for folder in (D1, D2):
        write_delivery(landing, folder)
    reader = Reader(warehouse)
    reader.start()
    first = _start(landing, warehouse, tmp_path / "home")  # one Dagster home ...
    head = _read_until(first, "deliveries to load")
    write_delivery(landing, D3)  # a new delivery arrives while the first load runs
    second = _start(landing, warehouse, tmp_path / "home")
    time.sleep(1)
    third = _start(landing, warehouse, tmp_path / "other_home")  # ... and another one
    outs = []
    for load, before in ((first, head), (second, []), (third, [])):
        rest, _ = load.communicate(timeout=900)
        outs.append("".join(before) + rest)
    reader.stop.set()
    reader.join()

    for load, out in zip((first, second, third), outs, strict=True):
        assert load.returncode == 0, out
        assert "Traceback" not in out and "IntegrityError" not in out, out
    # the later two waited for the first, each saying so in one line that names it
    for out in outs[1:]:
        waits = [line for line in out.splitlines() if "waiting for the warehouse's writer" in line]
        assert len(waits) == 1, out
    assert f"cvm load (process {first.pid} on " in "".join(outs[1:])
    # what each says it loaded is in the version published at its end; D3 was loaded once
    assert _loaded(outs[0]) == [D1, D2], outs[0]
    assert sorted(_loaded(outs[1]) + _loaded(outs[2])) == [D3], outs[1:]
    assert _logged_deliveries(warehouse) == {D1, D2, D3}
    assert end_state(warehouse) == clean_load
    assert reader.reads > 0 and not reader.errors, reader.errors


@pytest.mark.slow
def test_a_load_during_a_launched_run_waits_for_it(tmp_path, clean_load):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    for folder in (D1, D2, D3):
        write_delivery(landing, folder)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(settings.PROJECT_DIR / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1",
           "CVM_LANDING_DIR": str(landing), "CVM_WAREHOUSE": str(warehouse)}
    reader = Reader(warehouse)
    reader.start()
    # the run Dagster launches for delivery D1 (a schedule's or the sensor's) ...
    launched = subprocess.Popen([sys.executable, "-m", "tests.launched_run_fixtures", D1], env=env,
                                cwd=settings.PROJECT_DIR, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    owner = Store(warehouse, "duckdb").lock.with_name("writer.owner")
    deadline = time.monotonic() + 300
    while not owner.exists() and launched.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert owner.exists(), launched.communicate()[0]
    # ... and a `cvm load` on another Dagster home meanwhile
    load = _start(landing, warehouse, tmp_path / "cli_home")
    run_out, _ = launched.communicate(timeout=900)
    load_out, _ = load.communicate(timeout=900)
    reader.stop.set()
    reader.join()

    assert launched.returncode == 0, run_out
    assert load.returncode == 0, load_out
    run_id = re.search(r"run (\S+) success", run_out).group(1)
    waits = [line for line in load_out.splitlines() if "waiting for the warehouse's writer" in line]
    assert len(waits) == 1 and f"Dagster run {run_id}" in waits[0], load_out
    # the run published D1; the load found D2 and D3 still new, and only those
    assert _loaded(load_out) == [D2, D3], load_out
    assert _logged_deliveries(warehouse) == {D1, D2, D3}
    assert end_state(warehouse) == clean_load
    assert reader.reads > 0 and not reader.errors, reader.errors


def test_a_failed_load_leaves_no_file_that_no_version_names(tmp_path):
    from orchestration.runner import run_load

    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    folder = write_delivery(landing, D1)
    # customers load (a raw file is written), then orders are refused: the load fails
    (folder / "orders.csv").write_text("order_no;customer\nO1;C1\n", encoding="utf-8")
    said: list[str] = []
    outcome = run_load(landing, warehouse, echo=said.append,
                       instance=dg.DagsterInstance.ephemeral())
    assert outcome.exit_code == 1, said
    assert any(f"{D1} customers: read 4, loaded 4" in line for line in said), said
    store = Store(warehouse, "duckdb")
    assert store.data_files() == []  # nothing is published, so no file is named
    assert not store.next_catalog.exists()
    assert not warehouse.exists()


@pytest.mark.parametrize(("name", "value"), [
    ("CVM_WRITER_WAIT", "soon"), ("CVM_NUMBER_FORMAT_ORDERS", "dots"),
    ("CVM_MAX_REJECTED_SHARE", "lots"), ("CVM_MISSING_FINAL_LINE_BREAK", "maybe"),
    ("CVM_SOURCE_TIMEZONE", "Mars/Olympus")])
def test_a_wrong_setting_stops_the_load_before_it_starts(tmp_path, monkeypatch, name, value):
    from orchestration.runner import run_load

    monkeypatch.setenv(name, value)
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    write_delivery(landing, D1)
    said: list[str] = []
    outcome = run_load(landing, warehouse, echo=said.append)
    assert outcome.exit_code == 2, said
    assert len(said) == 1 and said[0].startswith("FAILED: ") and name in said[0], said
    assert not Store(warehouse, "duckdb").raw_dir.exists()
