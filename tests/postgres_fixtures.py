"""A PostgreSQL server for the tests, and Dagster instances on it, as README "Dagster on
PostgreSQL" sets one up.

`postgres_server` (session scope) starts one server for the whole test run: `initdb` and
`pg_ctl` from /usr/lib/postgresql/<version>/bin (the newest), run as user postgres when the
tests run as root (PostgreSQL refuses root), with its data and unix socket in a temporary folder
under /tmp (user postgres must reach it), TCP on 127.0.0.1 at a free port, a password for TCP
logins. At the end it is stopped (`pg_ctl stop -m fast`) and its folder deleted; the teardown
fails when the stop fails or a process of the server (the postmaster or a child of it) is still
there 30 s later, and kills that process.

Each test that wants an instance takes a database of its own on the shared server:
`dagster_home_on_postgres(folder, server, "name")` creates the database, writes
`folder/dagster.yaml` from orchestration/dagster.yaml as a user would (the `event_log_storage`
block deleted, the commented `storage` block uncommented, telemetry off) and returns the
environment of a `cvm load` on it: DAGSTER_HOME and the DAGSTER_PG_* variables.
`server.query(database, sql)` reads Dagster's tables directly (`runs`, `event_logs`, ...).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
DAGSTER_YAML = PROJECT_DIR / "orchestration" / "dagster.yaml"
HOST = "127.0.0.1"
USER = "postgres"
PASSWORD = "cvm-test-secret"


def bindir() -> Path:
    """The newest installed PostgreSQL's bin folder."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    if not found:
        pytest.fail("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
                    "apt-get install postgresql")
    return found[-1].parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


# ---- orchestration/dagster.yaml, as a user edits it -----------------------------------------

def documented_storage_block() -> str:
    """The commented `storage:` block of orchestration/dagster.yaml, uncommented."""
    lines = DAGSTER_YAML.read_text().splitlines()
    start = lines.index("# storage:")
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith("#   "):
            break
        block.append(line)
    return "\n".join(line[2:] for line in block) + "\n"


def without_event_log_block(settings: str) -> str:
    """dagster.yaml without its `event_log_storage` block, as its comment says to do."""
    lines = settings.splitlines()
    start = lines.index("event_log_storage:")
    end = start + 1
    while end < len(lines) and lines[end].startswith("  "):
        end += 1
    return "\n".join(lines[:start] + lines[end:]) + "\n"


def postgres_settings() -> str:
    """orchestration/dagster.yaml for an instance on PostgreSQL: the `event_log_storage` block
    deleted and the commented `storage` block uncommented where it stands; the rest (telemetry
    off, the pools, one run at a time) as it is."""
    settings = without_event_log_block(DAGSTER_YAML.read_text())
    commented = "".join(f"# {line}\n" if line else "#\n"
                        for line in documented_storage_block().splitlines())
    if commented not in settings:
        raise ValueError(f"{DAGSTER_YAML}: no commented `storage:` block to uncomment")
    settings = settings.replace(commented, documented_storage_block())
    if "telemetry:\n  enabled: false\n" not in settings:
        raise ValueError(f"{DAGSTER_YAML}: telemetry is not turned off")
    return settings


# ---- the server ----------------------------------------------------------------------------

def _process(pid: int) -> tuple[int, str] | None:
    """(pid, start time) of a live process, None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # pid (comm) state ppid ...: comm may hold blanks, so split after its ')'
    fields = stat[stat.rindex(")") + 2:].split()
    return None if fields[0] == "Z" else (pid, fields[19])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@dataclass
class PostgresServer:
    """A running server: TCP on `host`:`port` with `user` and `password`, its unix socket and
    data in `folder`."""

    folder: Path
    port: int
    host: str = HOST
    user: str = USER
    password: str = PASSWORD

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def pid(self) -> int:
        """The postmaster's process id."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def log(self) -> str:
        return (self.folder / "server.log").read_text(encoding="utf-8", errors="replace")

    def query(self, database: str, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one statement in `database` (over the unix socket, as the superuser, autocommit);
        its rows, or [] when it returns none."""
        import psycopg2

        con = psycopg2.connect(host=str(self.folder), port=self.port, user=self.user,
                               dbname=database)
        con.autocommit = True
        try:
            with con.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            con.close()

    def create_database(self, name: str) -> None:
        """A new, empty database; refused when one of that name exists (each test its own)."""
        from psycopg2 import sql

        if self.query("postgres", "select 1 from pg_database where datname = %s", (name,)):
            raise ValueError(f"database {name!r} exists already on the test server: "
                             "give each test a database of its own")
        self.query("postgres", sql.SQL("create database {}").format(sql.Identifier(name)))

    def environment(self, database: str) -> dict[str, str]:
        """The DAGSTER_PG_* variables of the documented `storage` block, for `database`."""
        return {"DAGSTER_PG_HOST": self.host, "DAGSTER_PG_PORT": str(self.port),
                "DAGSTER_PG_DB": database, "DAGSTER_PG_USERNAME": self.user,
                "DAGSTER_PG_PASSWORD": self.password}


def start_server() -> tuple[PostgresServer, list[str]]:
    """initdb and start a server in a new folder under /tmp; returns it and the command prefix
    that runs its tools (as user postgres when the tests run as root)."""
    tools = bindir()
    root = Path(tempfile.mkdtemp(prefix="cvm-pg-"))  # in /tmp: user postgres can reach it
    as_postgres: list[str] = []
    password_file = root / "password"
    password_file.write_text(PASSWORD)
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (root, password_file):
            os.chown(path, user.pw_uid, user.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    server = PostgresServer(root, free_port())
    try:
        _run(as_postgres, str(tools / "initdb"), "-D", str(server.data), "-U", USER,
             "--pwfile", str(password_file), "--auth-local=trust",
             "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
        with open(server.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(f"listen_addresses = '{HOST}'\nport = {server.port}\n"
                       f"unix_socket_directories = '{root}'\nfsync = off\n")
        _run(as_postgres, str(tools / "pg_ctl"), "-D", str(server.data), "-l",
             str(root / "server.log"), "-w", "start")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server, as_postgres


def _run(as_postgres: list[str], *command: str) -> None:
    done = subprocess.run([*as_postgres, *command], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} (exit {done.returncode}):\n"
                           f"{done.stdout}{done.stderr}")


def stop_server(server: PostgresServer, as_postgres: list[str], timeout: float = 30) -> list[int]:
    """Stop the server (fast shutdown: sessions are ended) and delete its folder; returns the
    processes of the server that were still there `timeout` seconds later (none, when all went
    well), which are then killed."""
    processes = [p for p in map(_process, [server.pid, *_children(server.pid)]) if p]

    def left() -> list[int]:
        return [pid for pid, started in processes if _process(pid) == (pid, started)]

    try:
        _run(as_postgres, str(bindir() / "pg_ctl"), "-D", str(server.data), "-m", "fast",
             "-w", "stop")
    finally:
        # pg_ctl returns once the postmaster removed its pid file, a moment before it ends
        deadline = time.monotonic() + timeout
        while left() and time.monotonic() < deadline:
            time.sleep(0.1)
        remaining = left()
        for pid in remaining:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(server.folder, ignore_errors=True)
    return remaining


@pytest.fixture(scope="session")
def postgres_server():
    """A running PostgreSQL server (`PostgresServer`) for the whole test run."""
    server, as_postgres = start_server()
    try:
        yield server
    finally:
        left = stop_server(server, as_postgres)
    assert left == [], f"PostgreSQL processes left behind (killed at the end): {left}"


def dagster_home_on_postgres(folder: Path, server: PostgresServer,
                             database: str) -> dict[str, str]:
    """A Dagster home on the test server: creates the database `database`, writes
    `folder/dagster.yaml` (`postgres_settings`) and returns the environment of a `cvm load`
    (or any process) that uses it: DAGSTER_HOME and the DAGSTER_PG_* variables."""
    server.create_database(database)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dagster.yaml").write_text(postgres_settings(), encoding="utf-8")
    return {"DAGSTER_HOME": str(folder), **server.environment(database)}
