"""Nightly benchmark: the floor, the full initial load, the one-day nightly and the pandas peer
at one scale, in one run; each step a subprocess measured for wall time and peak memory.

    make bench SCALE=S1 [BENCH_ARGS="--s0-nightly 33.0 --demo --engine spark"]
    .venv/bin/python bench/nightly_bench.py S0 [S1 ...] [--s0-nightly SECONDS] [--demo]
        [--engine spark [--spark-master URL]]

A scale is `cvm generate-sample --customers N --years 5 --deltas 1` (UTF-8, no faults):
S0 = 200, S1 = 2,000, S2 = 20,000, S3 = 200,000 customers. Per scale, in a fresh work folder:

0. the disk: the free space of the work folder's file system beside what the scale needs
   (the sample's CSV, unless `--sample` links one, and the store with DuckDB's temp files at
   the peak of the full load; both estimated per customer); a scale that does not fit stops
   here, saying so;
1. generate the sample (not a figure);
2. floor: DuckDB `read_csv` of the initial delivery's three files into tables of a new file
   (deleted once timed: only its time is a figure);
3. full initial load: `cvm load` over a landing root that holds only the initial delivery,
   into a new warehouse with a new DAGSTER_HOME;
4. nightly: the one-day delta folder is moved in, `cvm load` again;
5. peer: bench/pandas_peer.py computes customer_value from the same landing root (with the
   nightly's purchase model forecast, `--forecast`, where sales gave no potential); its
   result is then compared with the published `marts.customer_value` row by row (not timed).
   `--no-peer [SCALE ...]` leaves it out, at the scales named or at all (at S2 it holds more
   than 13 GB: more memory than a small machine has); at S3 it is always left out;
6. `--engine spark`: steps 3 and 4 again on Apache Spark (`CVM_ENGINE=spark`), over the same
   deliveries, into a warehouse of its own; printed beside DuckDB's. Spark is not expected to
   beat DuckDB on one machine: the figures show the price of portability, and whether the
   incremental nightly holds there too. Targets at S1: Spark's nightly <= 0.3x Spark's full
   load; Spark's full load within 4x DuckDB's. Spark runs on the profile's master
   (CVM_SPARK_MASTER, by default a local session `local[2]` in the load's process);
   `--spark-master URL` (e.g. `spark://127.0.0.1:7077`, a standalone master already running)
   sets it for these runs. Against a master on 127.0.0.1 the driver listens on 127.0.0.1 too
   (SPARK_LOCAL_IP), and each executor asks for SPARK_EXECUTOR_MEMORY (default here 512m, which
   fits a worker of 1 GB); either one set in the environment is kept. The master is printed
   above the Spark figures.

`--sample [SCALE=]DIR` takes a sample generated before with the same command instead of
generating one (hard links). `--profile` runs the two `cvm load` steps under pyinstrument and
keeps a text profile of each in the work folder (the times are then the profiler's, not the
bench's).

The steps use nothing but the `cvm` command, the env vars CVM_LANDING_DIR, CVM_WAREHOUSE,
DAGSTER_HOME and CVM_ENGINE (on Spark also CVM_SPARK_MASTER, SPARK_LOCAL_IP and
SPARK_EXECUTOR_MEMORY), and the published file's `marts.customer_value`.

Memory, two figures per step, both of the step's whole process tree:
- peak RSS: the largest sum of the tree's resident sets, sampled from /proc every 0.1 s
  (a shorter spike can be missed; pages shared between processes count once per process);
- largest process: the kernel's high-water mark (ru_maxrss from wait4) of the biggest single
  process in the tree.
Disk, one figure per step: the most the work folder's file system held during the step
beyond what it held at the start (sampled with the memory): the store's new files and
DuckDB's temp files at their peak.

`--demo` also times `make demo` in the project on the installed venv (after the scales).
Exit status: 0, or 1 when the peer and the mart disagree, 2 when a step fails.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import pandas_peer  # noqa: E402  (the peer's comparison, from this folder)

SCALES = {"S0": 200, "S1": 2_000, "S2": 20_000, "S3": 200_000}
NO_PEER = {"S3"}  # the peer holds every row in pandas: more than 13 GB already at S2
# disk per customer (5 years, one delta): the CSV from S2 (20,000 customers: 3.4 GB); the
# store with DuckDB's temp files at the peak of the full load, since the first build keeps no
# copy of the history in its CTEs: about 3.0 GB at S2, 35.9 GB at S3 (docs/benchmarks.md)
SAMPLE_BYTES_PER_CUSTOMER, STORE_BYTES_PER_CUSTOMER = 175_000, 200_000
YEARS, DELTAS = 5, 1
SAMPLE_SECONDS = 0.1
PAGE = os.sysconf("SC_PAGE_SIZE")
# Targets, each a ratio within one run on a 2-core machine.
TARGET_NIGHTLY_VS_S0 = 1.5  # at S2
TARGET_NIGHTLY_SECONDS = {"S0": 8.0, "S2": 15.0}  # the one-day nightly, at most
TARGET_FULL_VS_FLOOR, TARGET_FULL_RSS = 6.0, 3 * 1024**3  # at S2
TARGET_PEER_VS_FULL = 1.5  # at S1: the full load at least 1.5x faster than the peer
TARGET_DEMO_SECONDS = 20.0
# at S3: the full load under an hour within 4 GB, the nightly under a minute
TARGET_S3_FULL_SECONDS, TARGET_S3_FULL_RSS, TARGET_S3_NIGHTLY_SECONDS = 3600.0, 4 * 1024**3, 60.0
# at S1, on Spark: the nightly at most 0.3x Spark's full load, the full load within 4x DuckDB's
TARGET_SPARK_NIGHTLY_VS_FULL, TARGET_SPARK_FULL_VS_DUCKDB = 0.3, 4.0
TARGET_SCALE_SPARK = "S1"
SPARK_EXECUTOR_MEMORY = "512m"  # one executor of a worker that offers 1 GB
LOOPBACK = ("127.0.0.1", "localhost", "::1")


# ---- measuring one subprocess tree ---------------------------------------------------------

@dataclass
class Measured:
    name: str
    seconds: float
    peak_tree_rss: int  # bytes
    largest_process_rss: int  # bytes
    returncode: int
    log: Path
    load_before: float
    load_after: float
    disk_growth: int  # bytes: the file system's largest use during the step, above its start


def _parents() -> dict[int, list[int]]:
    """ppid -> child pids, from /proc/<pid>/stat."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name sits in parentheses and may hold blanks: fields follow the last ')'
        fields = stat[stat.rindex(b")") + 2:].split()
        children[int(fields[1])].append(int(entry.name))
    return children


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(root: int) -> int:
    """Sum of the resident sets of `root` and all its descendants now."""
    children, total, stack = _parents(), 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss(pid)
        stack.extend(children.get(pid, ()))
    return total


def measure(name: str, command: list[str], log: Path, env: dict | None = None,
            cwd: Path | None = None) -> Measured:
    """Run `command`, its output into `log`; wall time and memory of its process tree, and
    the disk it takes at its peak (the use of the log's file system: the work folder's, where
    the store and DuckDB's temp files are; anything else writing there counts too)."""
    load_before = os.getloadavg()[0]
    disk_before = shutil.disk_usage(log.parent).used
    with open(log, "wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   cwd=cwd)
        peak, disk_peak, done = 0, disk_before, threading.Event()

        def sample() -> None:
            nonlocal peak, disk_peak
            while not done.is_set():
                peak = max(peak, tree_rss(process.pid))
                disk_peak = max(disk_peak, shutil.disk_usage(log.parent).used)
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(name, seconds, peak, usage.ru_maxrss * 1024, process.returncode, log,
                    load_before, os.getloadavg()[0], max(0, disk_peak - disk_before))


# ---- the steps -----------------------------------------------------------------------------

def floor(folder: Path, database: Path) -> None:
    """DuckDB's own CSV reader, every file of `folder` into a table of a new file."""
    import duckdb

    con = duckdb.connect(str(database))
    rows = 0
    for path in sorted(folder.glob("*.csv")):
        literal = str(path).replace("'", "''")
        con.execute(f"create table {path.stem} as select * from read_csv('{literal}')")
        rows += con.execute(f"select count(*) from {path.stem}").fetchone()[0]
    con.close()
    print(f"rows: {rows}")


def line_count(folder: Path) -> int:
    """Lines of the folder's CSV files (as wc -l counts them, headers included)."""
    total = 0
    for path in folder.glob("*.csv"):
        with open(path, "rb") as handle:
            total += sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b""))
    return total


def _no_date(name: str) -> bool:
    try:
        return date.fromisoformat(name).isoformat() != name
    except ValueError:
        return True


def _gb(value: int) -> str:
    return f"{value / 1024**3:.2f} GB" if value >= 1024**3 else f"{value / 1024**2:,.0f} MB"


def _report(step: Measured) -> None:
    print(f"  {step.name:<28} {step.seconds:8.1f} s   peak RSS {_gb(step.peak_tree_rss):>9}"
          f"   largest process {_gb(step.largest_process_rss):>9}"
          f"   disk at peak +{_gb(step.disk_growth)}"
          f"   (load avg {step.load_before:.1f} -> {step.load_after:.1f})", flush=True)


class StepFailed(RuntimeError):
    pass


def _run(name: str, command: list[str], log: Path, **kwargs) -> Measured:
    step = measure(name, command, log, **kwargs)
    _report(step)
    if step.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
        raise StepFailed(f"{name} exited with {step.returncode}; last lines of {log}:\n"
                         + "\n".join(tail))
    return step


@dataclass
class ScaleResult:
    scale: str
    floor: Measured
    full: Measured
    nightly: Measured
    peer: Measured | None  # None: left out (--no-peer)
    agrees: bool
    # engine -> (full load, nightly) on the engines besides DuckDB (--engine)
    engines: dict[str, tuple[Measured, Measured]] = field(default_factory=dict)
    # engine -> where it ran, e.g. "master spark://127.0.0.1:7077"
    where: dict[str, str] = field(default_factory=dict)


def _size(path: Path) -> int:
    """Bytes of a file, or of every file below a folder."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0


def disk_needed(customers: int, generate: bool) -> int:
    """Bytes a scale needs on disk: the store at the full load's peak (DuckDB's temp files
    included), and the sample's CSV when it is generated."""
    return customers * (STORE_BYTES_PER_CUSTOMER + (SAMPLE_BYTES_PER_CUSTOMER if generate else 0))


def check_disk(work: Path, customers: int, generate: bool) -> str:
    """The work folder's free disk beside what the scale needs (disk_needed); StepFailed
    when it does not fit."""
    free, needed = shutil.disk_usage(work).free, disk_needed(customers, generate)
    said = (f"disk: {_gb(free)} free in {work}, about {_gb(needed)} needed (the store"
            + (" and the sample's CSV" if generate else "") + ", temp files included)")
    if free < needed:
        raise StepFailed(f"{said}: this scale does not fit; free space or pass --workdir on a "
                         "larger disk")
    return said


def spark_environment(master: str | None, environ: dict[str, str]) -> dict[str, str]:
    """What the Spark runs add to the environment: nothing without `master` (the profile's
    master then, CVM_SPARK_MASTER or its default); with it, CVM_SPARK_MASTER, the executor's
    memory and, for a master on this machine, the driver's address. A value already set in
    `environ` is kept."""
    if master is None:
        return {}
    env = {"CVM_SPARK_MASTER": master,
           "SPARK_EXECUTOR_MEMORY": environ.get("SPARK_EXECUTOR_MEMORY", SPARK_EXECUTOR_MEMORY)}
    host = urlsplit(master).hostname
    if host in LOOPBACK:
        env["SPARK_LOCAL_IP"] = environ.get("SPARK_LOCAL_IP", "127.0.0.1")
    return env


def spark_where(master: str | None, environ: dict[str, str]) -> str:
    """The master the Spark runs use, as the header of their figures names it."""
    if master is None:
        given = environ.get("CVM_SPARK_MASTER")
        return (f"master {given} (CVM_SPARK_MASTER)" if given
                else "master local[2] (the profile's default: a local session in the load)")
    extra = spark_environment(master, environ)
    return f"master {master} (" + ", ".join(
        f"{name}={extra[name]}" for name in ("SPARK_LOCAL_IP", "SPARK_EXECUTOR_MEMORY")
        if name in extra) + ")"


def check_master(master: str) -> str | None:
    """None when something answers at a spark:// master's host and port (another master,
    e.g. local[4], is left to Spark), else the reason."""
    parts = urlsplit(master)
    if parts.scheme != "spark":
        return None
    if not parts.hostname:
        return f"--spark-master {master}: expected spark://HOST:PORT"
    try:
        with socket.create_connection((parts.hostname, parts.port or 7077), timeout=5):
            return None
    except OSError as error:
        return (f"--spark-master {master}: nothing answers at {parts.hostname}:"
                f"{parts.port or 7077} ({error.strerror or error})")


def run_engine(engine: str, work: Path, cvm: str, initial: Path, delta: Path,
               dagster_home: Path, extra_env: dict[str, str] | None = None,
               where: str = "") -> tuple[Measured, Measured]:
    """The full initial load and the nightly on `engine`, over the deliveries `initial` and
    `delta` (hard links), into a warehouse of its own; `extra_env` added to the environment
    (e.g. the Spark master), `where` printed above the figures."""
    landing = work / f"landing-{engine}"
    warehouse = work / f"warehouse-{engine}" / "warehouse.duckdb"
    landing.mkdir()
    warehouse.parent.mkdir()
    env = {**os.environ, "CVM_LANDING_DIR": str(landing), "CVM_WAREHOUSE": str(warehouse),
           "DAGSTER_HOME": str(dagster_home), "CVM_ENGINE": engine, **(extra_env or {})}
    print(f"  {engine}: {where}" if where else f"  {engine}:", flush=True)
    shutil.copytree(initial, landing / initial.name, copy_function=os.link)
    full = _run(f"full initial load ({engine})", [cvm, "load"], work / f"full-{engine}.log",
                env=env)
    shutil.copytree(delta, landing / delta.name, copy_function=os.link)
    nightly = _run(f"nightly one-day delta ({engine})", [cvm, "load"],
                   work / f"nightly-{engine}.log", env=env)
    return full, nightly


def run_scale(scale: str, work: Path, cvm: str, peer: bool = True,
              profile: bool = False, sample_from: Path | None = None,
              engines: tuple[str, ...] = (), spark_master: str | None = None) -> ScaleResult:
    customers = SCALES[scale]
    print(f"\n{scale}: cvm generate-sample --customers {customers} --years {YEARS} "
          f"--deltas {DELTAS} (utf8, no faults); work folder {work}", flush=True)
    sample, landing = work / "sample", work / "landing"
    warehouse = work / "warehouse" / "warehouse.duckdb"
    env = {**os.environ, "CVM_LANDING_DIR": str(landing), "CVM_WAREHOUSE": str(warehouse),
           "DAGSTER_HOME": str(work / "dagster_home")}
    landing.mkdir()
    warehouse.parent.mkdir()
    print("  " + check_disk(work, customers, generate=sample_from is None), flush=True)
    if scale in NO_PEER:
        print("  the pandas peer is left out at this scale (it holds every row in memory)")

    if sample_from is not None:
        # a sample generated before with the same command: hard links, nothing copied
        shutil.copytree(sample_from, sample, copy_function=os.link)
        print(f"  sample: {sample_from} (generated before with the command above)")
    else:
        _run("generate (not a figure)",
             [cvm, "generate-sample", "--out", str(sample), "--customers", str(customers),
              "--years", str(YEARS), "--deltas", str(DELTAS)], work / "generate.log")
    folders = sorted(p for p in sample.iterdir() if p.is_dir())
    if len(folders) != 1 + DELTAS or any(_no_date(p.name) for p in folders):
        raise StepFailed(f"expected the initial delivery and {DELTAS} delta folder(s) in "
                         f"{sample}, found {[p.name for p in folders]}")
    initial, delta = folders
    initial_lines, delta_lines = line_count(initial), line_count(delta)
    initial.rename(landing / initial.name)

    floor_step = _run("floor: DuckDB read_csv", [sys.executable, __file__, "_floor",
                      str(landing / initial.name), str(work / "floor.duckdb")],
                      work / "floor.log")
    (work / "floor.duckdb").unlink()  # only its time is a figure; at S3 it holds 5 GB
    store = warehouse.with_suffix(".store")

    def load(name: str) -> list[str]:
        if not profile:
            return [cvm, "load"]
        return [str(Path(sys.executable).with_name("pyinstrument")), "-r", "text", "-o",
                str(work / f"{name}.profile.txt"), cvm, "load"]

    full = _run("full initial load (cvm load)", load("full"), work / "full.log", env=env)
    size_full = (warehouse.stat().st_size, _size(store / "raw"), _size(store / "marts"),
                 _size(store / "work"))
    delta.rename(landing / delta.name)
    nightly = _run("nightly one-day delta", load("nightly"), work / "nightly.log", env=env)
    size_nightly = (warehouse.stat().st_size, _size(store / "raw"), _size(store / "marts"),
                    _size(store / "work"))
    where = {engine: spark_where(spark_master, dict(os.environ)) if engine == "spark" else ""
             for engine in engines}
    on_engines = {engine: run_engine(
        engine, work, cvm, landing / initial.name, landing / delta.name,
        work / f"dagster_home-{engine}",
        spark_environment(spark_master, dict(os.environ)) if engine == "spark" else None,
        where[engine]) for engine in engines}
    peer_csv = work / "peer.csv"
    peer_step = None
    if peer:
        peer_step = _run("pandas peer", [sys.executable, str(BENCH_DIR / "pandas_peer.py"),
                         "--landing", str(landing), "--forecast", str(warehouse),
                         "--out", str(peer_csv)], work / "peer.log")

    for when, step in (("full load", full), ("nightly", nightly)):
        print(f"  purchase model fit in the {when}: {fit_seconds(step.log)}")
    print(f"  initial delivery {initial.name}: {initial_lines:,} lines; "
          f"delta {delta.name}: {delta_lines:,} lines "
          f"({delta_lines / initial_lines:.2%} of the initial; wc -l, headers included)")
    for when, (catalog, raw, marts, engine) in (("full load", size_full),
                                                ("nightly", size_nightly)):
        print(f"  after the {when}: published catalog {_gb(catalog)}; store: raw zone "
              f"{_gb(raw)}, mart files {_gb(marts)}, engine's database {_gb(engine)}")
    if profile:
        print(f"  profiles: {work / 'full.profile.txt'}, {work / 'nightly.profile.txt'}")
    if peer_step is None:
        return ScaleResult(scale, floor_step, full, nightly, None, True, on_engines, where)
    comparison = pandas_peer.compare(pandas_peer.read_result(peer_csv), warehouse)
    print("  ", end="")
    pandas_peer.print_comparison(comparison)
    return ScaleResult(scale, floor_step, full, nightly, peer_step, comparison.agrees,
                       on_engines, where)


FIT_LINE = re.compile(r"purchase model fitted on ([\d,]+) customers in ([\d.]+) s")


def fit_seconds(log: Path) -> str:
    """The purchase model's fit as the load's log names it: '0.84 s (20,000 customers)'."""
    found = FIT_LINE.search(log.read_text(encoding="utf-8", errors="replace"))
    return f"{found[2]} s ({found[1]} customers)" if found else "not in the log"


# ---- ratios --------------------------------------------------------------------------------

def _verdict(applies: bool, met: bool) -> str:
    return ("met" if met else "NOT met") if applies else "not this scale"


def print_ratios(result: ScaleResult, s0_nightly: float | None, s0_source: str) -> None:
    s, full, nightly = result.scale, result.full.seconds, result.nightly.seconds
    rss = max(result.full.peak_tree_rss, result.full.largest_process_rss)
    lines = [
        ("nightly / full load", f"{nightly / full:.2f}", ""),
        ("full load / floor", f"{full / result.floor.seconds:.2f}",
         f"target at S2 <= {TARGET_FULL_VS_FLOOR:g}: " + _verdict(
             s == "S2", full / result.floor.seconds <= TARGET_FULL_VS_FLOOR)),
        ("full load peak RSS", _gb(rss),
         f"target at S2 <= {_gb(TARGET_FULL_RSS)}: " + _verdict(s == "S2", rss <= TARGET_FULL_RSS)),
        ("pandas peer / full load",
         f"{result.peer.seconds / full:.2f}" if result.peer else "left out",
         f"target at S1 >= {TARGET_PEER_VS_FULL:g}: " + _verdict(
             s == "S1" and result.peer is not None,
             result.peer is not None and result.peer.seconds / full >= TARGET_PEER_VS_FULL)),
        ("nightly wall", f"{nightly:.1f} s",
         "target " + ", ".join(f"at {scale} <= {limit:g} s" for scale, limit
                               in TARGET_NIGHTLY_SECONDS.items()) + ": " + _verdict(
             s in TARGET_NIGHTLY_SECONDS, nightly <= TARGET_NIGHTLY_SECONDS.get(s, 0))),
    ]
    if s == "S3":  # its own targets, in place of S2's and S0's
        lines[2:3] = [
            ("full load wall", f"{full:.1f} s", f"target at S3 < {TARGET_S3_FULL_SECONDS:g} s: "
             + _verdict(True, full < TARGET_S3_FULL_SECONDS)),
            ("full load peak RSS", _gb(rss), f"target at S3 <= {_gb(TARGET_S3_FULL_RSS)}: "
             + _verdict(True, rss <= TARGET_S3_FULL_RSS))]
        lines[-1] = ("nightly wall", f"{nightly:.1f} s",
                     f"target at S3 < {TARGET_S3_NIGHTLY_SECONDS:g} s: "
                     + _verdict(True, nightly < TARGET_S3_NIGHTLY_SECONDS))
    if s0_nightly:
        lines.append((f"nightly {s} / nightly S0", f"{nightly / s0_nightly:.2f}",
                      f"S0 nightly {s0_nightly:.1f} s ({s0_source}); target at S2 <= "
                      f"{TARGET_NIGHTLY_VS_S0:g}: " + _verdict(
                          s == "S2", nightly / s0_nightly <= TARGET_NIGHTLY_VS_S0)))
    print(f"\n{s} ratios (within this run):")
    for label, value, note in lines:
        print(f"  {label:<26} {value:>9}   {note}".rstrip())
    for engine, (engine_full, engine_nightly) in result.engines.items():
        print_engine_ratios(s, engine, engine_full.seconds, engine_nightly.seconds, full,
                            nightly, result.where.get(engine, ""))


def print_engine_ratios(s: str, engine: str, engine_full: float, engine_nightly: float,
                        full: float, nightly: float, where: str = "") -> None:
    """An engine's figures beside DuckDB's, under a header that names where it ran; on Spark
    with the targets at S1 (nightly <= 0.3x its full load, full load within 4x DuckDB's)."""
    targets = engine == "spark"
    own, against = engine_nightly / engine_full, engine_full / full
    lines = [
        (f"full load {engine} / duckdb", f"{against:.2f}",
         f"{engine_full:.1f} s against {full:.1f} s"
         + (f"; target at {TARGET_SCALE_SPARK} <= {TARGET_SPARK_FULL_VS_DUCKDB:g}: " + _verdict(
             s == TARGET_SCALE_SPARK, against <= TARGET_SPARK_FULL_VS_DUCKDB) if targets else "")),
        (f"nightly {engine} / duckdb", f"{engine_nightly / nightly:.2f}",
         f"{engine_nightly:.1f} s against {nightly:.1f} s"),
        (f"nightly / full load {engine}", f"{own:.2f}",
         f"{engine_nightly:.1f} s against {engine_full:.1f} s"
         + (f"; target at {TARGET_SCALE_SPARK} <= {TARGET_SPARK_NIGHTLY_VS_FULL:g}: " + _verdict(
             s == TARGET_SCALE_SPARK, own <= TARGET_SPARK_NIGHTLY_VS_FULL) if targets else "")),
    ]
    print(f"{s} on {engine}" + (f", {where}:" if where else ":"))
    for label, value, note in lines:
        print(f"  {label:<26} {value:>9}   {note}".rstrip())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_floor"]:
        floor(Path(argv[1]), Path(argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scales", nargs="+", choices=sorted(SCALES), metavar="SCALE",
                        help="S0, S1, S2 or S3 (several run one after the other)")
    parser.add_argument("--s0-nightly", type=float, metavar="SECONDS",
                        help="the nightly at S0 to compare with, when S0 is not in this run")
    parser.add_argument("--demo", action="store_true", help="also time `make demo`")
    parser.add_argument("--workdir", type=Path, help="where the work folders go, made when "
                        "missing (default: the system temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folders")
    parser.add_argument("--sample", action="append", default=[], metavar="[SCALE=]DIR",
                        help="a sample generated before with the scale's command, linked into "
                        "the work folder instead of generated; SCALE=DIR for one of several "
                        "scales, DIR alone when one scale is run (may be repeated)")
    parser.add_argument("--no-peer", nargs="*", choices=list(SCALES), metavar="SCALE",
                        help="leave out the pandas peer (and its comparison with the mart): at "
                        "the scales named, or at every scale when none is named (at S2 the "
                        "peer holds more than 13 GB)")
    parser.add_argument("--engine", action="append", choices=["spark"], default=[],
                        help="also run the full load and the nightly on this engine, beside "
                        "DuckDB's, over the same deliveries")
    parser.add_argument("--spark-master", metavar="URL",
                        help="the Spark runs on this master (CVM_SPARK_MASTER), e.g. "
                        "spark://127.0.0.1:7077, a standalone master already running, or "
                        "local[N]; implies --engine spark (default: the profile's, a local "
                        "session local[2])")
    parser.add_argument("--profile", action="store_true",
                        help="profile the two cvm load steps with pyinstrument (kept in the "
                        "work folder, which is then kept)")
    args = parser.parse_args(argv)

    samples: dict[str, Path] = {}
    for given in args.sample:
        scale, _, folder = given.rpartition("=")
        if not scale and len(args.scales) == 1:
            scale = args.scales[0]
        if scale not in args.scales:
            parser.error(f"--sample {given}: name one of the scales run, as SCALE=DIR")
        samples[scale] = Path(folder)
    if args.workdir is not None:
        try:
            args.workdir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            parser.error(f"--workdir {args.workdir}: {error.strerror or error}")
    if args.spark_master is not None:
        unreachable = check_master(args.spark_master)
        if unreachable:
            parser.error(unreachable)
        args.engine.append("spark")
    cvm = str(Path(sys.executable).with_name("cvm"))
    if not Path(cvm).exists():
        print(f"{cvm} not found: run `make install` and start this with .venv/bin/python")
        return 2
    print(f"nightly benchmark: {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start; figures are wall times of one run each")
    results, status = {}, 0
    for scale in args.scales:
        work = Path(tempfile.mkdtemp(prefix=f"cvm-bench-{scale}-", dir=args.workdir))
        try:
            no_peer = scale in NO_PEER or (
                args.no_peer is not None and (not args.no_peer or scale in args.no_peer))
            results[scale] = run_scale(scale, work, cvm, peer=not no_peer,
                                       profile=args.profile, sample_from=samples.get(scale),
                                       engines=tuple(dict.fromkeys(args.engine)),
                                       spark_master=args.spark_master)
        except StepFailed as failed:
            print(f"FAILED: {failed}\nwork folder kept: {work}")
            return 2
        if not results[scale].agrees:
            status = 1
            print(f"  the peer and the mart disagree; work folder kept: {work}")
        elif not args.keep and not args.profile:
            shutil.rmtree(work)
    for scale, result in results.items():
        if "S0" in results and scale != "S0":
            s0, source = results["S0"].nightly.seconds, "this run"
        else:
            s0, source = (args.s0_nightly, "given") if scale != "S0" else (None, "")
        print_ratios(result, s0, source)
    if args.demo:
        print("\nmake demo (installed venv):")
        log = PROJECT_DIR / "data" / "bench-demo.log"
        log.parent.mkdir(exist_ok=True)
        try:
            demo = _run("make demo", ["make", "demo"], log, cwd=PROJECT_DIR)
        except StepFailed as failed:
            print(f"FAILED: {failed}")
            return 2
        print(f"  make demo wall {demo.seconds:.1f} s   target <= {TARGET_DEMO_SECONDS:g} s: "
              f"{_verdict(True, demo.seconds <= TARGET_DEMO_SECONDS)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
