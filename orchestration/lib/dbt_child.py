"""`cvm-dbt`: dbt as a child of a load that dies with it.

The load runs dbt as a process of its own (dagster-dbt). Killed with SIGKILL, the load could
not stop it: dbt lived on, kept the engine's database locked and kept writing it. This entry
point asks the kernel first to kill it together with its parent (lib/processes.py), then has
dbt run by the load's dbt server, which has imported dbt already (lib/dbt_server.py), or, with
no server to ask, runs dbt's own command line in the same process.
"""

from __future__ import annotations

import sys

from orchestration.lib.processes import die_with_parent


def main() -> int:
    die_with_parent()
    from orchestration.lib.dbt_server import run_in_server

    status = run_in_server(sys.argv)
    if status is not None:
        return status
    from dbt.cli.main import cli

    return cli()


if __name__ == "__main__":
    sys.exit(main())
