"""`cvm-dbt`: dbt as a child of a load that dies with it.

The load runs dbt as a process of its own (dagster-dbt). Killed with SIGKILL, the load could
not stop it: dbt lived on, kept the engine's database locked and kept writing it. This entry
point asks the kernel first to kill it together with its parent (lib/processes.py), then has
dbt run by the load's dbt server, which has imported dbt already (lib/dbt_server.py), or, with
no server to ask, runs dbt's own command line in the same process (`run_dbt`). A command that
must run in the server or not at all ($CVM_DBT_SERVER_ONLY: the parse a load makes ahead of
its first build, dbt_build.parsing_ahead) exits 1 instead, saying so.

A load's build names the one artifact it reads in $CVM_DBT_RUN_RESULTS (dbt_build.py): dbt's
run results. dbt then writes no JSON artifact of its own (DBT_WRITE_JSON=false), and
`run_dbt` writes the run results to that file. Otherwise dbt would also write manifest.json
and semantic_manifest.json twice per build (once after the parse, once at the end): 1.8 MB at
S0, about 0.4 s of each part, read by nothing of a load (dagster-dbt reads the project's
prepared manifest). Any other command (`cvm-dbt parse`, `docs generate`) writes what dbt
writes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from orchestration.lib.processes import die_with_parent

# this entry point, beside the Python that runs the load: what dagster-dbt and the load start
EXECUTABLE = str(Path(sys.executable).with_name("cvm-dbt"))
RUN_RESULTS_ENV = "CVM_DBT_RUN_RESULTS"  # where run_dbt writes a build's run results
RUN_RESULTS = "run_results.json"  # their name in dbt's target folder


def run_dbt(args: list[str], prog_name: str = "dbt") -> int:
    """dbt's command line with `args` (the program's name left out); its exit status."""
    results = os.environ.get(RUN_RESULTS_ENV)
    if not results:
        from dbt.cli.main import cli

        try:
            cli.main(args=list(args), prog_name=prog_name)
        except SystemExit as done:
            return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        return 0
    from dbt.cli.exceptions import DbtUsageException
    from dbt.cli.main import dbtRunner
    from dbt.utils import ExitCodes  # the exit statuses of dbt's command line

    path = Path(results)
    path.unlink(missing_ok=True)  # a build that ends without results leaves none behind
    outcome = dbtRunner().invoke(list(args))
    if hasattr(outcome.result, "write"):  # build, run, test, seed: a RunExecutionResult
        path.parent.mkdir(parents=True, exist_ok=True)
        outcome.result.write(str(path))
    if outcome.success:
        return ExitCodes.Success
    if outcome.exception is None:
        return ExitCodes.ModelError  # nodes failed
    if isinstance(outcome.exception, DbtUsageException):
        # as dbt's command line says it; dbt has logged any other error it caught
        print(f"{prog_name}: Error: {outcome.exception}", file=sys.stderr)
    return ExitCodes.UnhandledError


def main() -> int:
    die_with_parent()
    from orchestration.lib.dbt_server import SERVER_ONLY_ENV, run_in_server

    status = run_in_server(sys.argv)
    if status is not None:
        return status
    if os.environ.get(SERVER_ONLY_ENV):
        print("cvm-dbt: the load's dbt server did not take this command, and it runs nowhere "
              "else; not run", file=sys.stderr)
        return 1
    return run_dbt(sys.argv[1:], os.path.basename(sys.argv[0]))


if __name__ == "__main__":
    sys.exit(main())
