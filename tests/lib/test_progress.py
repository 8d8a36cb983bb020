"""Progress lines reach the person even while a step sends sys.stdout to a log file."""

from __future__ import annotations

import contextlib
import io

from orchestration.lib.progress import Progress, report


def test_lines_reach_the_terminal_while_stdout_is_redirected():
    terminal, log = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(terminal):
        with Progress("deliveries", total=1) as progress, progress.reporting():
            progress.line("[1/1] delivery 2026-11-21")
            with contextlib.redirect_stdout(log):  # as `cvm load` does around each run
                report("  published /tmp/warehouse.duckdb")
                print("a dbt log line")
    assert terminal.getvalue().splitlines() == [
        "[1/1] delivery 2026-11-21", "  published /tmp/warehouse.duckdb",
    ]
    assert log.getvalue() == "a dbt log line\n"
