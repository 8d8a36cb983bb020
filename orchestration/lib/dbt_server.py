"""dbt's processes of a load, forked from one that has imported dbt already.

Every part of a load's build is a `cvm-dbt` process (dagster-dbt starts it, lib/dbt_child.py).
Python's start and dbt's imports cost about 2 s of each, more than the whole build of a small
delta's nodes on DuckDB. So a load starts one server once it holds the writer's lock
(`dbt_server`): a process that imports dbt and the engine's adapter while the load imports its
own modules and ingests, on the other core, and then waits. `cvm-dbt` asks it for dbt
(`run_in_server`): it hands over its standard streams, its arguments, its environment and its
folder, and the server forks a process that runs dbt with them (`_worker`). That process
writes into `cvm-dbt`'s own streams, so dagster-dbt reads dbt's events as before, and
`cvm-dbt` exits with its exit status.

What stays as it was without the server:
- Ctrl-C and SIGTERM: `cvm-dbt` passes SIGINT and SIGTERM on to the process it asked for. That
  process is in a process group of its own, so it gets each signal once, as a direct child
  would: a terminal's Ctrl-C reaches `cvm-dbt`, which passes it on.
- Nothing lives on after the load: the server dies with the load (lib/processes.py,
  `die_with_parent`), each forked process with the server, and the server kills the process of
  a `cvm-dbt` that is gone (its connection closed before the process ended).
- One process, one command: the server forks before it runs any command of dbt, so each
  build starts from dbt's state after its imports and the warm-up below alone. The server has
  no threads of its own (on Spark, pyspark's accumulator server waits in a thread of it,
  which the forks neither have nor use).
- Without a server (`cvm-dbt` outside a load, the server gone, no Linux), `cvm-dbt` runs dbt
  itself.

Before it waits, the server also fills the caches that dbt fills at the start of every build
and that hang on dbt's classes alone (`_warm_up`): the JSON schemas it checks its project,
profile and packages with, and the code mashumaro writes on the first use of a class to read
and write it, which reading the store's partial parse (the manifest of the last build) writes
for every kind of node. Nothing of a command is in them; each build still reads its own
manifest. This saves about 0.35 s of each build's start at S0 (docs/benchmarks.md). Then,
while no request waits, it compiles the templates of the macros of that manifest into dbt's
cache of them (`_compile_macro`), the project's and the adapter's first: dbt makes one
template per macro's text, without a context, so a build finds the very template it would
have compiled. Sampled in a nightly at S0, a build spent 0.8 s compiling them at the first
call of each macro (the customer-value part 0.3 to 0.5 s). Those seconds are the build's
wall time: a build's CPU time is about its wall time, as dbt's Python holds one core. A store
that has no partial parse yet gets one during its first load's ingest (`dbt parse`, asked for
by the load: dbt_build.parsing_ahead); once that request is served, the server reads it and
compiles its macros as above (`_macros_after`).

The server listens on an abstract Unix socket (Linux: no file to clean up, no length limit of
the store's path) named in the load's environment ($CVM_DBT_SERVER) while the load runs.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

SERVER_ENV = "CVM_DBT_SERVER"  # the abstract socket's name, while a load runs
# set for a `cvm-dbt` that must run in the server or not at all (dbt_build.parsing_ahead)
SERVER_ONLY_ENV = "CVM_DBT_SERVER_ONLY"
START_ENGINE = "start_engine"  # a request of the load's own (`start_engine`), not a build
STOP_WAIT_S = 30  # how long the load waits for its server to stop its engine, then kills it
CONNECT_WAIT_S = 10  # how long `start_engine` tries to reach a server that has just started
STREAMS = (0, 1, 2)  # stdin, stdout and stderr of `cvm-dbt`, handed over to the server
HELD_AT_FORK = {signal.SIGTERM, signal.SIGINT}  # held until a forked process has its handlers
HEADER = struct.Struct("!I")  # the length of the request that follows
# what the server imports before it waits: dbt's command line and what each build reads
PRELOAD = ("dbt.cli.main", "dbt.task.build", "dbt.parser.manifest", "agate",
           "dbt_common.clients.agate_helper", "google.protobuf.descriptor_pb2",
           "multiprocessing.dummy", "babel.dates", "_strptime")
PARTIAL_PARSE = "partial_parse.msgpack"  # dbt's parse of the project, in its target folder
ADAPTERS = {"duckdb": ("dbt.adapters.duckdb", "dbt.adapters.duckdb.environments.local"),
            "spark": ("dbt.adapters.spark", "dbt.adapters.spark.session")}


@contextlib.contextmanager
def dbt_server(engine_kind: str, dbt_target: Path | None = None,
               environment: dict[str, str] | None = None) -> Iterator[str | None]:
    """A server for the dbt processes of one load on `engine_kind`, named in $CVM_DBT_SERVER
    for the length of the block; its name, or None where it cannot run (not Linux). The server
    is stopped at the end of the block. `dbt_target` is the builds' target folder, whose
    partial parse the server reads to warm dbt up (`_warm_up`); `environment`, the engine's
    part of every build's environment (dbt_build.py: `Engine.environment`), which the server
    starts Spark's session with (`_start_spark`)."""
    if not sys.platform.startswith("linux"):
        yield None
        return
    from orchestration.lib.processes import PARENT_ENV, module_command

    name = f"cvm-dbt-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, **(environment or {}), PARENT_ENV: str(os.getpid())}
    server = subprocess.Popen(
        module_command("orchestration.lib.dbt_server", name, engine_kind,
                       *([str(dbt_target)] if dbt_target is not None else [])),
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    previous = os.environ.get(SERVER_ENV)
    os.environ[SERVER_ENV] = name
    try:
        yield name
    finally:
        if previous is None:
            os.environ.pop(SERVER_ENV, None)
        else:
            os.environ[SERVER_ENV] = previous
        server.terminate()  # on Spark, the server stops its session's JVM and waits for it
        try:
            server.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _address(name: str) -> str:
    return "\0" + name  # Linux's abstract namespace


def serve(name: str, engine_kind: str, dbt_target: Path | None = None) -> None:
    """The server: listen, import dbt and warm it up, then fork a dbt process per request,
    one at a time."""
    from orchestration.lib.processes import die_with_parent

    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the load and its dbt
    signal.signal(signal.SIGTERM, _stop)  # the load's end: the engine's session first
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(_address(name))
    listener.listen(8)  # a request waits here until the imports are done
    for module in (*PRELOAD, *ADAPTERS.get(engine_kind, ())):
        importlib.import_module(module)
    macros = _warm_up(engine_kind, dbt_target)
    sys.stdout.flush()
    sys.stderr.flush()
    while True:
        if _compile_while_idle(listener, macros):
            continue
        conn, _ = listener.accept()
        with conn:
            try:
                request, fds = _receive(conn)
            except (OSError, ValueError):
                continue
            if request.get("op") == START_ENGINE:
                with _streams(fds):
                    if engine_kind == "spark":
                        _start_spark(Path(request["project_dir"]))
                continue
            # SIGTERM and SIGINT held until the forked process has its own handlers: one that
            # came at once would run the server's `_stop` there, and end it with status 0
            held = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_AT_FORK)
            pid = os.fork()
            if pid == 0:
                listener.close()
                _worker(conn, request, fds, held)  # never returns
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            for fd in fds:
                os.close(fd)  # the streams are the process's and cvm-dbt's alone
            _watch(conn, pid)
        macros = _macros_after(request, macros, listener, engine_kind, dbt_target)


def _warm_up(engine_kind: str, dbt_target: Path | None) -> list:
    """Fill dbt's caches that hang on its classes alone (see the module docstring); the macros
    whose templates to compile while no request waits (`_compile_macro`), the last first. A
    warm-up that fails costs only the time it was to save: one line on stderr, and the server
    serves."""
    try:
        from dbt.config.profile import ProfileConfig
        from dbt.contracts.project import PackageConfig, Project, ProjectFlags

        credentials = importlib.import_module(ADAPTERS[engine_kind][0]).Plugin.credentials
        for schema_of in (Project, ProjectFlags, PackageConfig, ProfileConfig, credentials):
            schema_of.json_schema()  # kept by dbt per class
        parse = dbt_target / PARTIAL_PARSE if dbt_target is not None else None
        if parse is not None and parse.is_file():
            from dbt.contracts.graph.manifest import Manifest

            manifest = Manifest.from_msgpack(parse.read_bytes())  # readers of every node kind
            manifest.build_flat_graph()  # their writers
            # the project's and the adapter's macros last in the list, so compiled first
            return sorted(manifest.macros.values(), key=lambda macro: macro.package_name != "dbt")
    except Exception as error:  # noqa: BLE001 - an optimisation only
        print(f"cvm dbt server: warm-up skipped ({type(error).__name__}: {error})",
              file=sys.stderr)
    return []


def _compile_while_idle(listener: socket.socket, macros: list) -> bool:
    """Whether the last of `macros` was taken off the list and compiled (`_compile_macro`):
    only while no request waits at `listener`, which then waits for one macro at most."""
    if not macros or _waiting(listener):
        return False
    _compile_macro(macros.pop())
    return True


def _macros_after(request: dict, macros: list, listener: socket.socket, engine_kind: str,
                  dbt_target: Path | None) -> list:
    """The macros to compile once `request` was served: those of the parse it made, when it
    was a `dbt parse` (a store's first, made ahead of its first build: dbt_build.
    parsing_ahead), the server had none left to compile and no request waits; else
    `macros`."""
    if macros or not _is_parse(request) or _waiting(listener):
        return macros
    return _warm_up(engine_kind, dbt_target)


def _waiting(listener: socket.socket) -> bool:
    """Whether a request waits at `listener`."""
    return bool(select.select([listener], [], [], 0)[0])


def _is_parse(request: dict) -> bool:
    """Whether a request runs `dbt parse` (its first argument that is not an option)."""
    return next((arg for arg in request.get("argv", [])[1:] if not arg.startswith("-")),
                None) == "parse"


def _compile_macro(macro) -> None:
    """The template of `macro` compiled into dbt's cache of them (`template_cache`), which
    every build forked afterwards finds filled: dbt keeps one template per macro's text, made
    without a context, so it is the one each build would compile (about 2 ms a macro, 1.3 s
    for all of them). A macro that does not compile is left to the build that calls it."""
    from dbt_common.clients.jinja import template_cache

    with contextlib.suppress(Exception):
        template_cache.get_node_template(macro)


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    """A request: its JSON (argv, env, cwd) and the three streams."""
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, len(STREAMS))
    if len(fds) != len(STREAMS) or len(data) < HEADER.size:
        for fd in fds:
            os.close(fd)
        raise ValueError("incomplete request")
    (length,) = HEADER.unpack_from(data)
    body = data[HEADER.size:]
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            raise ValueError("incomplete request")
        body += chunk
    return json.loads(body), list(fds)


def _watch(conn: socket.socket, pid: int) -> None:
    """Tell `cvm-dbt` the process's pid, wait for it to end and tell its status; kill it when
    `cvm-dbt` is gone first."""
    try:
        conn.sendall(f"pid {pid}\n".encode())
    except OSError:  # cvm-dbt is gone already
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return
    try:  # readable when the process ends (Linux 5.3)
        pidfd, timeout = os.pidfd_open(pid), None
    except (AttributeError, OSError):
        pidfd, timeout = None, 0.05
    status = None
    try:
        while status is None:
            ready, _, _ = select.select([conn] + ([pidfd] if pidfd is not None else []), [], [],
                                        timeout)
            if conn in ready and not _receives(conn):  # cvm-dbt is gone
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                return
            done, status = os.waitpid(pid, os.WNOHANG)
            if not done:
                status = None
    finally:
        if pidfd is not None:
            os.close(pidfd)
    with contextlib.suppress(OSError):
        conn.sendall(f"status {status}\n".encode())


@contextlib.contextmanager
def _streams(fds: list[int]) -> Iterator[None]:
    """The server's standard streams are `fds` (closed afterwards) for the length of the
    block: what it starts then writes there."""
    kept = [os.dup(target) for target in STREAMS]
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        for target, fd in zip(STREAMS, fds, strict=True):
            os.dup2(fd, target)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for target, fd in zip(STREAMS, kept, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        for fd in fds:
            os.close(fd)


def start_engine(log: Path, project_dir: Path) -> None:
    """Ask the load's server, if there is one, to start its engine's session now, writing
    into `log` (on Spark: `_start_spark`, with the profile of `project_dir`; nothing on
    DuckDB). The load asks once it knows that it will build, so that the session starts
    beside its ingest; it does not wait for it. A server that cannot be reached (it has just
    started and does not listen yet: it is tried for CONNECT_WAIT_S) is said in `log`; each
    build then starts its own session."""
    name = os.environ.get(SERVER_ENV)
    if not name or not hasattr(socket, "send_fds"):
        return
    body = json.dumps({"op": START_ENGINE, "project_dir": str(project_dir)}).encode()
    with contextlib.ExitStack() as opened:
        stdin = os.open(os.devnull, os.O_RDONLY)
        opened.callback(os.close, stdin)
        out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        opened.callback(os.close, out)
        deadline = time.monotonic() + CONNECT_WAIT_S
        while True:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:  # one per attempt
                try:
                    conn.connect(_address(name))
                    socket.send_fds(conn, [HEADER.pack(len(body)) + body], [stdin, out, out])
                    return
                except OSError as error:
                    if time.monotonic() > deadline:
                        os.write(out, f"cvm load: the dbt server was not reached ({error}); "
                                      "each build starts its engine's session itself\n".encode())
                        return
            time.sleep(0.05)


def _start_spark(project_dir: Path) -> None:
    """Spark's session for every build of the load, started when the load asks
    (`start_engine`), before its first build.

    dbt-spark's `method: session` makes its session with `SparkSession.builder...getOrCreate()`
    in the dbt process, and each part of a build is a process of its own: each started a JVM,
    a Spark application and its Hive metastore (about 15 to 20 s on two cores, docs/
    benchmarks.md), twice per load. The server makes the session as dbt-spark would, from the
    profile's `spark` target rendered with the load's environment (the one every build gets:
    `dbt_server`'s `environment`), beside the load's ingest; each forked build inherits it, so
    dbt-spark's `getOrCreate()` finds it. The builds are one at a time, as the forks are.

    The JVM is the server's child, its output the load's log (as a build's JVM wrote into
    the build's stderr, which the load's log keeps). It ends with the server (pyspark's
    gateway exits when its standard input closes, which the server and its forks hold). A
    build that is stopped leaves the session to the server, which the load stops with it.
    Only for the local session (`method: session`); a target of another method, or a session
    that cannot start, leaves each build to start its own (the second said in the log)."""
    from orchestration.lib.warehouse import spark_engine

    if spark_engine.target_method(project_dir) != "session":
        return
    try:
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.enableHiveSupport()
        for parameter, value in spark_engine.profile_parameters(project_dir=project_dir).items():
            builder = builder.config(parameter, value)
        builder.getOrCreate().sql("show databases").collect()  # the metastore too
        _SPARK["variables"] = spark_engine.profile_variables(project_dir)
    except Exception as error:  # noqa: BLE001 - each build then starts its own
        print(f"cvm dbt server: Spark's session not started here ({type(error).__name__}: "
              f"{error})", file=sys.stderr)
        _stop_spark()
        _forget_spark()
    finally:
        # pyspark's SparkContext takes SIGINT (cancel the jobs, raise KeyboardInterrupt): the
        # server ignores it, as before, and each build sets its own (`_worker`)
        signal.signal(signal.SIGINT, signal.SIG_IGN)


_SPARK: dict[str, set[str]] = {}  # the server's session: the variables its settings read


def _stop(_signum, _frame) -> None:
    """SIGTERM, the load's end: stop the session's JVM (`_stop_spark`), then exit."""
    _stop_spark()
    os._exit(0)


def _stop_spark() -> None:
    """The JVM that pyspark started in this process, if any, closed and waited for: its
    gateway ends when its standard input closes (Spark then stops its application), and is
    killed if it has not after STOP_WAIT_S / 2."""
    spark = sys.modules.get("pyspark")
    gateway = spark and spark.SparkContext._gateway
    proc = getattr(gateway, "proc", None)
    if proc is None:
        return
    with contextlib.suppress(OSError):
        proc.stdin.close()
    try:
        proc.wait(timeout=STOP_WAIT_S / 2)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _forget_spark() -> None:
    """pyspark's record of a session and its JVM cleared: the next `getOrCreate()` of this
    process starts its own."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    SparkSession._instantiatedSession = None
    SparkSession._activeSession = None
    SparkContext._active_spark_context = None
    SparkContext._gateway = None
    SparkContext._jvm = None


def _own_spark_connections(request_env: dict[str, str]) -> None:
    """A forked build's own connections to the inherited JVM: the server's stay the server's.
    Those inherited are set aside, not closed (closing one would shut down the socket the
    server shares), and so are the finalizers of the Java objects the build inherited (one
    would free a Java object of the server's session). A build whose environment sets the
    session's settings otherwise than the server's (a variable the profile's `spark` target
    reads) does not use the session: it starts its own, as without a server."""
    spark = sys.modules.get("pyspark")
    gateway = spark and spark.SparkContext._gateway
    if gateway is None:
        return
    from py4j.finalizer import ThreadSafeFinalizer

    client = gateway._gateway_client
    _INHERITED.extend(client.deque)
    client.deque.clear()
    ThreadSafeFinalizer.clear_finalizers(clear_all=True)
    differ = sorted(name for name in _SPARK.get("variables", ())
                    if os.environ.get(name) != request_env.get(name))
    if differ:
        print(f"cvm dbt server: this build's {', '.join(differ)} differ from the load's Spark "
              "session; it starts its own", file=sys.stderr)
        _forget_spark()


_INHERITED: list = []  # the server's connections to Spark's JVM, in a forked build


def _receives(conn: socket.socket) -> bool:
    """Whether `cvm-dbt` is still there (it sends nothing more: readable means gone)."""
    try:
        return bool(conn.recv(1))
    except OSError:
        return False


def _worker(conn: socket.socket, request: dict, fds: list[int], mask: set) -> None:
    """The forked process: `cvm-dbt`'s streams, folder, environment and arguments, then dbt.
    It starts with SIGTERM and SIGINT held (`serve`) and lets them through, `mask`, once its
    own handlers are set: a signal that came meanwhile acts as it would on dbt."""
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the server's `_stop`
        conn.close()
        from orchestration.lib.processes import PARENT_ENV, die_with_parent

        os.setpgid(0, 0)  # signals come from cvm-dbt alone
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for target, fd in zip(STREAMS, fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        _own_spark_connections(request["env"])  # says so on cvm-dbt's stderr if it cannot
        for stream in (sys.stdout, sys.stderr):  # dbt's events as they come, line by line
            stream.reconfigure(line_buffering=True)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ[PARENT_ENV] = str(os.getppid())
        die_with_parent()  # with the server
        sys.argv = list(request["argv"])
        from orchestration.lib.dbt_child import run_dbt

        # the program's name in dbt's messages: as click takes it from a script
        code = run_dbt(sys.argv[1:], os.path.basename(sys.argv[0]))
    except BaseException:  # noqa: BLE001 - a traceback for cvm-dbt's stderr, then exit
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            # what exit() would clean up and os._exit does not: the named semaphores of
            # dbt's locks (a spawn context's), else the resource tracker removes them at the
            # load's end, warning of leaked semaphores in the load's output
            from multiprocessing import util

            util._run_finalizers(0)
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def run_in_server(argv: list[str]) -> int | None:
    """`cvm-dbt`'s side: dbt run by the load's server with this process's streams, folder,
    environment and `argv`; its exit status, or None when there is no server to ask."""
    name = os.environ.get(SERVER_ENV)
    if not name or not hasattr(socket, "send_fds"):
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(_address(name))
    except OSError:
        conn.close()
        return None
    body = json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    try:
        socket.send_fds(conn, [HEADER.pack(len(body)) + body], list(STREAMS))
        reader = conn.makefile("rb")
        first = reader.readline().split()
    except OSError:
        first = []
    if len(first) != 2 or first[0] != b"pid":
        return None  # the server went away before it forked: run dbt here
    pid = int(first[1])

    def pass_on(signum, _frame):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, pass_on)
    last = reader.readline().split()
    if len(last) != 2 or last[0] != b"status":
        print("cvm-dbt: the load's dbt server stopped before dbt ended", file=sys.stderr)
        return 1
    status = int(last[1])
    if os.WIFSIGNALED(status):  # end as dbt ended: by its signal (SIGKILL has no handler)
        signum = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], Path(sys.argv[3]) if len(sys.argv) > 3 else None)
