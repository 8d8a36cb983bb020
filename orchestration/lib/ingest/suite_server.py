"""The load's Great Expectations, in a process of its own.

Importing great_expectations costs about 2 s, paid by every load before its first suite runs,
in the load's own process: at S0 that is an eighth of a one-day nightly. So a load starts a
suite server once it holds the writer's lock (`suite_server`, beside the dbt server of
lib/dbt_server.py): a process that imports GX and opens the warehouse's Data Docs context on
the other core while the load imports its own modules, and then waits for requests. `cvm load`
starts that process sooner still, first of all, before it imports Dagster (`start_early`);
the load takes it once it holds the lock, and a load that ends before that stops it.

What it does for the load, one request at a time:
- `validate`: a file's suite, on the rows the load just committed. The server reads them from
  the raw files of the delivery (the catalog's list, which the load sends) through its own
  in-memory DuckDB, as the view raw.<entity> over those files, and runs the same suite with
  the same code as the load would (expectations.validate_rows). The load checks that the server
  validated as many rows as its own raw.<entity> holds for the file.
- `publish`: the result's Data Docs page (data_docs.publish_validation). The server stores the
  result and answers the page's address at once, then builds the page (about 0.3 s) while the
  load goes on; its next request waits for that page. At its end the load waits for the last
  page (`SuiteServer.finish`). A page that could not be built is said in the load's log.

What stays as it was without the server:
- The results: the same summary and page, from the same functions.
- An error: a request the server could not answer (an error in it, the server gone or not
  started) is done again in the load's own process, which raises what it raises there, as
  before. The server is an optimisation only.
- Its memory (about 0.2 GB) is not held during the build: when the load's dbt build starts,
  the server ends once its last page is built (`rest`), and a later delivery of the same load
  starts it again.
- Nothing lives on after the load: the server dies with the load (lib/processes.py,
  `die_with_parent`) and is stopped at the end of the block (at once when the block ends by
  an error or an interrupt). A Ctrl-C during a request stops
  the server (its answer would come to nobody); the load's suites then run in its own process.
- Outside `cvm load` (a Dagster run of the daemon or of `dagster dev`, the tests of the
  loader) no server runs, and the suites run in the process that loads.
- A load in a process that has imported GX already (`for_load`: a load run by a test, or by a
  long-lived process that loaded before) starts no server either: there the server would
  import GX a second time, and the load's own suites cost no import.

The channel is the server's standard input and output (pickled requests and answers); what
the server itself would print goes to the load's log file (its stderr is the log during a
request).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

_ACTIVE: list[SuiteServer] = []  # the server of the load running in this process
FINISH_SECONDS = 60  # the longest a finished load waits for the server's last page


def active() -> SuiteServer | None:
    """The running load's suite server, or None."""
    return _ACTIVE[-1] if _ACTIVE else None


def rest() -> None:
    """The load's files are loaded for now (its dbt build starts): the server ends once its
    last page is built, so that it holds no memory during the build. A later request (the next
    delivery of a load of several) starts it again."""
    server = active()
    if server is not None:
        server.rest()


class SuiteServer:
    """The load's side of the server: `ask` sends a request and returns its answer."""

    def __init__(self, start: Callable[[], subprocess.Popen], log: Path):
        self._start = start
        self.process = start()
        self.log = Path(log)
        self._lock = threading.Lock()
        self._resting = False

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, op: str, **args) -> tuple[bool, object]:
        """(True, the answer) of the request, or (False, None) when the server cannot answer
        it: then the caller does the work itself."""
        with self._lock:
            if self._resting:
                self._resting = False
                self._close()
                try:
                    self.process = self._start()
                except OSError:
                    return False, None
            if not self.alive:
                return False, None
            try:
                pickle.dump({"op": op, "args": args, "log": str(self.log)}, self.process.stdin)
                self.process.stdin.flush()
                status, answer = pickle.load(self.process.stdout)
            except BaseException as error:
                self.stop()  # half a conversation: no later request could be trusted
                if isinstance(error, Exception):
                    return False, None
                raise  # Ctrl-C and exits go on
            if status != "ok":
                print(f"cvm suite server: {op} done in the load's process ({answer})",
                      file=sys.stderr)
                return False, None
            return True, answer

    def rest(self) -> None:
        """End the process once its last page is built (`finish`); the next request starts
        a new one."""
        with self._lock:
            if self.alive:
                self.finish()
                self.stop()
                self._resting = True

    def finish(self) -> None:
        """No more requests: wait for the work the server does after its last answer (a Data
        Docs page) for up to FINISH_SECONDS."""
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(FINISH_SECONDS)

    def stop(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait()

    def _close(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                pipe.close()


@contextlib.contextmanager
def suite_server(published: Path, log: Path) -> Iterator[SuiteServer | None]:
    """A suite server for the load of the warehouse `published`, active for the length of the
    block (`active()`); None where it cannot run (not Linux). `log` is the load's log file,
    where the server's own output goes."""
    if not sys.platform.startswith("linux"):
        yield None
        return

    def start() -> subprocess.Popen:
        return _take_early(published) or _spawn(published)

    try:
        server = SuiteServer(start, log)
    except OSError as error:  # no process to spare: the load validates in its own
        print(f"cvm suite server: not started ({error})", file=sys.stderr)
        yield None
        return
    _ACTIVE.append(server)
    try:
        yield server
        server.finish()  # a load that ended (an error or an interrupt: at once, below)
    finally:
        _ACTIVE.remove(server)
        with contextlib.suppress(OSError):
            server.process.stdin.close()
        server.stop()
        server._close()


def _spawn(published: Path) -> subprocess.Popen:
    from orchestration.lib.ingest.data_docs import context_root
    from orchestration.lib.processes import PARENT_ENV, module_command

    return subprocess.Popen(
        module_command("orchestration.lib.ingest.suite_server", str(context_root(published))),
        env={**os.environ, PARENT_ENV: str(os.getpid())},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)


_EARLY: list[tuple[Path, subprocess.Popen]] = []  # started by start_early, not yet taken


def start_early(published: Path) -> None:
    """Start the server of a load of `published` now, before the load imports its own
    modules: `cvm load` calls this first, so that GX's import (about 4 s) begins about 1 s
    sooner. The load's `suite_server` takes this process instead of starting one; a load that
    ends before (a wrong setting, a warehouse that stays busy) stops it with `discard_early`,
    and it dies with the load's process in any case. While the load waits for another load's
    lock, the process waits too, warmed up (about 0.2 GB). Nothing where `for_load` would start
    no server."""
    if not sys.platform.startswith("linux") or "great_expectations" in sys.modules or _EARLY:
        return
    with contextlib.suppress(OSError):  # no process to spare: the load starts its own later
        _EARLY.append((Path(published), _spawn(published)))


def _take_early(published: Path) -> subprocess.Popen | None:
    """The process start_early started for `published`, if it still runs."""
    if _EARLY and _EARLY[0][0] == Path(published) and _EARLY[0][1].poll() is None:
        return _EARLY.pop()[1]
    discard_early()
    return None


def discard_early() -> None:
    """Stop a server that start_early started and no load took."""
    while _EARLY:
        _, process = _EARLY.pop()
        for pipe in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                pipe.close()
        if process.poll() is None:
            process.kill()
        process.wait()


def for_load(published: Path, log: Path) -> contextlib.AbstractContextManager:
    """The suite server of a load (`suite_server`), or, in a process that has imported
    Great Expectations already, none (a block that yields None): its suites cost no import
    there."""
    if "great_expectations" in sys.modules:
        return contextlib.nullcontext()
    return suite_server(published, log)


# --- the server's side ----------------------------------------------------------------------

def _validate(entity: str, paths: list[str], params: dict, suite_json: dict,
              temp_directory: str) -> dict:
    """The suite over the rows of raw.<entity> (a view over `paths`) that `params` select."""
    import duckdb

    from orchestration.lib.ingest import expectations
    from orchestration.lib.ingest.spec import get_spec
    from orchestration.lib.warehouse.catalog import raw_view_sql
    from orchestration.lib.warehouse.connection import MEMORY_LIMIT_BYTES

    spec = get_spec(entity)
    con = duckdb.connect(config={"memory_limit": f"{MEMORY_LIMIT_BYTES}B",
                                 "temp_directory": temp_directory})
    try:
        con.execute("create schema raw")
        con.execute(f"create view raw.{entity} as {raw_view_sql(spec, paths)}")
        return expectations.validate_rows(con, spec, expectations._select_sql(spec), params,
                                          suite_json)
    finally:
        con.close()


@dataclass(frozen=True)
class _Then:
    """An answer, and work to do after it is sent (`what` names it in a failure's line)."""
    answer: object
    work: Callable[[], None]
    what: str


def _publish(root: str, extract_date, source_file: str, summary: dict) -> _Then:
    """The result stored and the address of its page answered; the page built after."""
    from orchestration.lib.ingest.data_docs import store_validation

    page, build = store_validation(Path(root), extract_date, source_file, summary)
    return _Then(page, build, f"the Data Docs page of {source_file}")


_OPS = {"validate": _validate, "publish": _publish}


def _warm_up(root: Path) -> None:
    """GX's imports, its ephemeral context and the Data Docs context of `root` (when the
    warehouse has one already). A warm-up that fails costs the time it was to save."""
    # the suites run on DuckDB here, never on Spark: GX need not import pyspark (where it is
    # installed, for the Spark engine), which it would for its Spark support (about 0.3 s)
    sys.modules.setdefault("pyspark", None)  # type: ignore[arg-type]  # import: ImportError
    try:
        import sqlalchemy.dialects.postgresql  # noqa: F401 - the dialect validate_rows uses
        from great_expectations.validator.v1_validator import Validator  # noqa: F401

        from orchestration.lib.ingest import data_docs, expectations

        expectations._context()
        if (root / "gx").is_dir():
            data_docs._context(root)
    except Exception as error:  # noqa: BLE001 - an optimisation only
        print(f"cvm suite server: warm-up skipped ({type(error).__name__}: {error})",
              file=sys.stderr)


def _write_to(log: str | None) -> None:
    """The server's stdout and stderr: the load's log file (opened again per request: the load
    starts a new log after the server started)."""
    if not log:
        return
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def serve(root: Path) -> None:
    """Warm up, then answer requests from standard input until it closes."""
    from orchestration.lib.processes import die_with_parent

    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the load
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # a stray print must not reach the channel
    os.close(null)
    from orchestration import settings

    settings.telemetry_off()
    _warm_up(root)
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:  # the load is done: end without tearing GX down (about 0.8 s)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        _write_to(request.get("log"))
        then = None
        try:
            value = _OPS[request["op"]](**request["args"])
            if isinstance(value, _Then):
                value, then = value.answer, value
            answer = ("ok", value)
        except Exception as error:  # noqa: BLE001 - the load does it again, and raises
            answer = ("error", f"{type(error).__name__}: {error}")
        pickle.dump(answer, answers)
        answers.flush()
        if then is not None:
            try:
                then.work()
            except Exception as error:  # noqa: BLE001 - said in the load's log
                print(f"cvm suite server: {then.what} was not built "
                      f"({type(error).__name__}: {error})", file=sys.stderr, flush=True)


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
