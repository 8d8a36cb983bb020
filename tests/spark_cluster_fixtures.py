"""A Spark standalone cluster for the tests: a master and one worker, each a process of its
own on 127.0.0.1, started from the pip pyspark (`bin/spark-class`; the wheel has no start
scripts in `sbin/`), as README "When one machine is not enough" starts one.

`spark_cluster` (session scope) starts both on free ports, waits until the worker is
registered with the master (the master's JSON at http://127.0.0.1:<webui>/json/), and at the
end stops the worker (with its executors, which are in the worker's process group) and the
master by their process ids, and checks that no process of theirs is left. Their logs and
the worker's directory (the executors' working directories) are in a temporary folder.

A load reaches the cluster with `cluster.environment`: CVM_SPARK_MASTER (the profile's
spark.master), SPARK_LOCAL_IP (the driver in dbt's process listens on 127.0.0.1 too) and
SPARK_EXECUTOR_MEMORY (the worker offers 1 GB; one executor of 512 MB fits). The tests' loads
use `cluster.test_environment`, which adds SPARK_CONF_DIR, the driver's configuration folder:
its spark-defaults.conf starts each executor with the JIT's first tier only and the serial
collector (`spark.executor.defaultJavaOptions`): the tests' builds are short. The driver,
which plans every statement of a load, runs with the profile's flags (every tier).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

HOST = "127.0.0.1"
EXECUTOR_MEMORY = "512m"
# the JVM flags of the tests' short-lived daemons and executors (the driver: the profile's)
SHORT_RUN_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def spark_home() -> Path:
    """The Spark of the pip pyspark: its `bin/spark-class` starts master and worker."""
    import pyspark

    return Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def master_command(port: int, webui_port: int) -> list[str]:
    return [str(spark_home() / "bin" / "spark-class"), "org.apache.spark.deploy.master.Master",
            "--host", HOST, "--port", str(port), "--webui-port", str(webui_port)]


def worker_command(master_url: str, webui_port: int, work_dir: Path) -> list[str]:
    return [str(spark_home() / "bin" / "spark-class"), "org.apache.spark.deploy.worker.Worker",
            master_url, "--host", HOST, "--cores", "2", "--memory", "1g",
            "--webui-port", str(webui_port), "--work-dir", str(work_dir)]


@dataclass
class SparkCluster:
    master_url: str
    webui_port: int
    folder: Path
    master: subprocess.Popen
    worker: subprocess.Popen

    @property
    def work_dir(self) -> Path:
        """The worker's directory: one folder per application, one per executor in it (the
        executor's working directory, its stdout and stderr)."""
        return self.folder / "work"

    @property
    def environment(self) -> dict[str, str]:
        """What a `cvm load --engine spark` needs to run on this cluster."""
        return {"CVM_SPARK_MASTER": self.master_url, "SPARK_LOCAL_IP": HOST,
                "SPARK_EXECUTOR_MEMORY": EXECUTOR_MEMORY}

    @property
    def test_environment(self) -> dict[str, str]:
        """`environment` and the driver's configuration folder of the tests (SPARK_CONF_DIR):
        the executors' JVM flags for short builds, which README's commands leave out."""
        return {**self.environment, "SPARK_CONF_DIR": str(self.folder / "client")}

    def state(self) -> dict:
        """The master's state: its workers, active and completed applications."""
        url = f"http://{HOST}:{self.webui_port}/json/"
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            return json.load(response)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")


def _daemon_environment(folder: Path) -> dict[str, str]:
    conf = folder / "conf"  # an empty configuration: nothing of the machine's own
    conf.mkdir(exist_ok=True)
    return {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_CONF_DIR": str(conf),
            "SPARK_LOCAL_IP": HOST, "SPARK_LOG_DIR": str(folder),
            "SPARK_DAEMON_MEMORY": "256m",
            "SPARK_DAEMON_JAVA_OPTS": SHORT_RUN_JVM}


def _start(command: list[str], folder: Path, name: str) -> subprocess.Popen:
    with open(folder / f"{name}.log", "wb") as log:
        # a process group of its own: the worker's executors are in it too
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=folder,
                                env=_daemon_environment(folder), start_new_session=True)


def _wait_for_worker(cluster: SparkCluster, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in (("master", cluster.master), ("worker", cluster.worker)):
            if process.poll() is not None:
                raise RuntimeError(f"the Spark {name} ended (exit {process.returncode}):\n"
                                   + cluster.log(name)[-3000:])
        try:
            workers = cluster.state()["workers"]
        except (OSError, ValueError, KeyError):
            workers = []
        if any(w.get("state") == "ALIVE" for w in workers):
            return
        time.sleep(0.5)
    raise RuntimeError(f"no Spark worker registered with {cluster.master_url} within "
                       f"{timeout:.0f} s:\n{cluster.log('master')[-2000:]}\n"
                       f"{cluster.log('worker')[-2000:]}")


def start_cluster(folder: Path, timeout: float = 180) -> SparkCluster:
    """A master and one worker (1 core, 1 GB) on free ports of 127.0.0.1, the worker
    registered; stop it with `stop_cluster`."""
    if shutil.which("java") is None:
        pytest.fail("the Spark tests need Java 17 (Debian: openjdk-17-jre-headless)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "client").mkdir(exist_ok=True)
    (folder / "client" / "spark-defaults.conf").write_text(
        f"spark.executor.defaultJavaOptions {SHORT_RUN_JVM}\n",
        encoding="utf-8")
    port, webui = free_port(), free_port()
    master_url = f"spark://{HOST}:{port}"
    master = _start(master_command(port, webui), folder, "master")
    worker = None
    try:
        worker = _start(worker_command(master_url, free_port(), folder / "work"), folder,
                        "worker")
        cluster = SparkCluster(master_url, webui, folder, master, worker)
        _wait_for_worker(cluster, timeout)
        return cluster
    except BaseException:
        for process in (worker, master):
            if process is not None:
                _stop(process)
        raise


def group_members(pgid: int) -> list[int]:
    """The live processes of a process group (a zombie, already ended, does not count)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold blanks, so split after its ')'
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a daemon and everything in its process group (a worker's executors): SIGTERM,
    then SIGKILL for what is left after `timeout` seconds."""
    pgid = process.pid  # start_new_session: the group is the daemon's own
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not group_members(pgid):
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None and not group_members(pgid):
                break
            time.sleep(0.2)
    process.wait(timeout=10)


def stop_cluster(cluster: SparkCluster) -> list[int]:
    """Stop the worker (and its executors), then the master; returns the processes of theirs
    that are still there (none, when all went well)."""
    _stop(cluster.worker)
    _stop(cluster.master)
    return [pid for p in (cluster.worker, cluster.master) for pid in group_members(p.pid)]


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory):
    """A running standalone cluster (`SparkCluster`) for the whole test run."""
    cluster = start_cluster(tmp_path_factory.mktemp("spark_cluster"))
    try:
        yield cluster
    finally:
        left = stop_cluster(cluster)
    assert left == [], f"Spark processes left behind: {left}"
