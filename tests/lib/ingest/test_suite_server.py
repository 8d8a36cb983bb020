"""The load's suite server (lib/ingest/suite_server.py): GX validates a landed file's rows and
publishes its Data Docs page in a process of its own, with the results the load's own process
would have had; a request it cannot answer is done in the load's process."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from orchestration.lib.ingest import data_docs
from orchestration.lib.ingest import expectations as gxe
from orchestration.lib.ingest.loader import load_file
from orchestration.lib.ingest.spec import SPECS
from orchestration.lib.ingest.suite_server import active, for_load, rest, suite_server
from tests.ingest_fixtures import (
    PRINT_GX_IMPORTED,
    add_expectation,
    extract,
    record,
    run_python,
    write_file,
)
from tests.process_fixtures import children

D1 = "2025-03-31"
DAY = dt.date.fromisoformat(D1)
CUSTOMERS = SPECS["customers"]


def _customers(root: Path) -> None:
    """Two customers; one's annual potential (1000) is below the stricter suite's 5000."""
    write_file(root, D1, "customers", extract(
        "customers",
        record("customers", customer_id="C1", customer_name="Alpha", country_code="DE",
               customer_since="2020-01-01", annual_potential_eur="1000"),
        record("customers", customer_id="C2", customer_name="Beta", country_code="AT",
               customer_since="2021-06-01", annual_potential_eur="6000")))


def _stricter(monkeypatch) -> None:
    add_expectation(monkeypatch, {"type": "expect_column_values_to_be_between",
                                  "kwargs": {"column": "annual_potential_eur",
                                             "min_value": 5000}})


def _not_here(*args, **kwargs):
    raise AssertionError("done in the load's process")


def _text(url: str) -> str:
    assert url.startswith("file://")
    page = Path(unquote(urlparse(url).path))
    return " ".join(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")).split())


def test_the_server_validates_and_publishes_what_the_load_would(tmp_path, con, monkeypatch):
    """With the load's own validation and publishing made to fail, a load in the server's
    block still gets its suite result and its page: the server's. The result is the one the
    load's own process computes afterwards: two rows validated, one potential below 5000."""
    _customers(tmp_path)
    _stricter(monkeypatch)
    with suite_server(tmp_path / "w.duckdb", tmp_path / "load.log") as server:
        assert active() is server
        monkeypatch.setattr(gxe, "validate_rows", _not_here)
        monkeypatch.setattr(data_docs, "publish_here", _not_here)
        result = load_file(con, tmp_path, D1, "customers")
        suite = result.expectation_results["customers"]
        page = data_docs.publish_validation(tmp_path, DAY, result.source_file, suite)
        assert server.alive
    assert active() is None

    assert suite["success"] is False and suite["rows_validated"] == 2
    (failed,) = suite["unsuccessful_expectations"]
    assert (failed["column"], failed["element_count"], failed["unexpected_count"]) \
        == ("annual_potential_eur", 2, 1)
    assert [float(v) for v in failed["partial_unexpected"]] == [1000.0]
    shown = _text(page)
    assert f"Run Name {D1} customers.csv" in shown
    assert "Unsuccessful Expectations 1" in shown

    monkeypatch.undo()
    _stricter(monkeypatch)
    here = gxe.validate_rows(con, CUSTOMERS, gxe._select_sql(CUSTOMERS),
                             {"d": DAY, "f": result.source_file},
                             gxe.load_suite_json("customers", D1))
    assert {k: suite[k] for k in here} == here


def test_a_request_the_server_cannot_answer_is_done_in_the_load(tmp_path, con, monkeypatch,
                                                                  capsys):
    """A suite the server refuses (an unanchored pattern) is refused again by the load's own
    process, with its own error; a server that died leaves the load's suites to its own
    process, and no process behind."""
    _customers(tmp_path)
    with suite_server(tmp_path / "w.duckdb", tmp_path / "load.log") as server:
        add_expectation(monkeypatch, {"type": "expect_column_values_to_match_regex",
                                      "kwargs": {"column": "country_code", "regex": "[A-Z]"}})
        with pytest.raises(ValueError, match="country_code: the pattern '\\[A-Z\\]' must"):
            load_file(con, tmp_path, D1, "customers")
        assert "cvm suite server: validate done in the load's process (ValueError" \
            in capsys.readouterr().err
        assert server.alive  # an error of a request is not the server's end
        monkeypatch.undo()

        server.process.kill()
        server.process.wait()
        again = load_file(con, tmp_path, D1, "customers")
        assert again.expectation_results["customers"]["success"] is True
        assert again.expectation_results["customers"]["rows_validated"] == 2
        pid = server.process.pid
    assert pid not in children(os.getpid())


def test_the_server_ends_with_its_block(tmp_path):
    with suite_server(tmp_path / "w.duckdb", tmp_path / "load.log") as server:
        pid = server.process.pid
        assert pid in children(os.getpid())
    assert pid not in children(os.getpid())
    assert not server.alive


def test_a_folder_named_like_the_package_where_the_load_starts_is_not_imported(
        tmp_path, monkeypatch):
    """The server runs the load's own code, wherever the load was started."""
    shadow = tmp_path / "orchestration"
    shadow.mkdir()
    (shadow / "__init__.py").write_text('raise SystemExit("the folder\'s package ran")\n')
    monkeypatch.chdir(tmp_path)
    with suite_server(tmp_path / "w.duckdb", tmp_path / "load.log") as server:
        time.sleep(2)  # the folder's package would have ended it by now
        assert server.alive


def test_a_load_with_a_suite_server_does_not_import_gx(tmp_path):
    """The point of the server: the load's own process validates and publishes without
    importing Great Expectations or the SQL dialect it uses."""
    _customers(tmp_path)
    script = (
        "import sys, datetime, duckdb\n"
        "import orchestration.defs.ingest.assets, orchestration.defs.ingest.checks\n"
        "from orchestration.lib.ingest.data_docs import publish_validation\n"
        "from orchestration.lib.ingest.loader import load_file\n"
        "from orchestration.lib.ingest.suite_server import suite_server\n"
        "from orchestration.lib.warehouse.catalog import ensure_meta\n"
        "from orchestration.lib.warehouse.store import StoreFiles\n"
        "from pathlib import Path\n"
        "root = Path(sys.argv[1])\n"
        "con = duckdb.connect()\n"
        "ensure_meta(con, StoreFiles(root / 'store'))\n"
        "with suite_server(root / 'w.duckdb', root / 'load.log'):\n"
        "    result = load_file(con, root, sys.argv[2], 'customers')\n"
        "    suite = result.expectation_results['customers']\n"
        "    page = publish_validation(root, datetime.date.fromisoformat(sys.argv[2]),\n"
        "                              result.source_file, suite)\n"
        "print('validated:', suite['rows_validated'], suite['success'], flush=True)\n"
        "from urllib.parse import unquote, urlparse\n"
        "print('page:', Path(unquote(urlparse(page).path)).is_file(), flush=True)\n"
        + PRINT_GX_IMPORTED
    )
    out = run_python(script, str(tmp_path), D1)
    assert "validated: 2 True" in out, out
    assert "page: True" in out, out
    assert "imported: []" in out, out


def test_a_load_starts_a_server_unless_its_process_has_gx_already(tmp_path, monkeypatch):
    """A process that has imported Great Expectations (a test's, a long-lived one's) runs its
    load's suites itself: a server there would import GX a second time."""
    import sys

    monkeypatch.delitem(sys.modules, "great_expectations", raising=False)
    with for_load(tmp_path / "w.duckdb", tmp_path / "load.log") as server:
        assert server is not None and active() is server and server.alive
    monkeypatch.setitem(sys.modules, "great_expectations", sys)  # any module: it is imported
    with for_load(tmp_path / "w.duckdb", tmp_path / "load.log") as server:
        assert server is None and active() is None


def test_a_server_that_cannot_start_leaves_the_suites_to_the_load(tmp_path, monkeypatch,
                                                                  capsys):
    from orchestration.lib.ingest import suite_server as module

    def no_process(*args, **kwargs):
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(module.subprocess, "Popen", no_process)
    with suite_server(tmp_path / "w.duckdb", tmp_path / "load.log") as server:
        assert server is None and active() is None
    assert "cvm suite server: not started (Resource temporarily unavailable)" \
        in capsys.readouterr().err


def test_a_resting_server_holds_nothing_and_starts_again(tmp_path, con, monkeypatch):
    """When the load's build starts, the server ends once its last page is built; a later
    file of the same load (the next delivery of a load of several) starts a new one, which
    answers in place of the load's own process."""
    _customers(tmp_path)
    with suite_server(tmp_path / "w.duckdb", tmp_path / "load.log") as server:
        first = server.process
        monkeypatch.setattr(gxe, "validate_rows", _not_here)
        monkeypatch.setattr(data_docs, "publish_here", _not_here)
        result = load_file(con, tmp_path, D1, "customers")
        page = data_docs.publish_validation(tmp_path, DAY, result.source_file,
                                            result.expectation_results["customers"])
        rest()
        assert first.poll() is not None and first.pid not in children(os.getpid())
        assert "Unsuccessful Expectations 0" in _text(page)  # built before it ended
        again = load_file(con, tmp_path, D1, "customers", force=True)
        assert server.process is not first and server.alive
        assert again.expectation_results["customers"]["rows_validated"] == 2


def test_the_load_takes_the_server_started_early_for_its_warehouse(tmp_path, monkeypatch):
    """`cvm load` starts its suite server before its own imports (start_early); the load's
    block takes that process instead of starting another, and ends it with the block."""
    import sys

    from orchestration.lib.ingest import suite_server as module

    monkeypatch.delitem(sys.modules, "great_expectations", raising=False)
    module.start_early(tmp_path / "w.duckdb")
    (early,) = [process for _, process in module._EARLY]
    with for_load(tmp_path / "w.duckdb", tmp_path / "load.log") as server:
        assert server.process is early and server.alive and not module._EARLY
    assert early.poll() is not None and early.pid not in children(os.getpid())


def test_a_server_started_early_that_no_load_takes_is_stopped(tmp_path, monkeypatch):
    """One started for another warehouse is stopped when a load starts its own; one that no
    load took is stopped by discard_early (`cvm load` calls it when the load ends)."""
    import sys

    from orchestration.lib.ingest import suite_server as module

    monkeypatch.delitem(sys.modules, "great_expectations", raising=False)
    module.start_early(tmp_path / "other.duckdb")
    (other,) = [process for _, process in module._EARLY]
    with for_load(tmp_path / "w.duckdb", tmp_path / "load.log") as server:
        assert server.process is not other and server.alive
        assert other.poll() is not None and other.pid not in children(os.getpid())
    module.start_early(tmp_path / "w.duckdb")
    (unused,) = [process for _, process in module._EARLY]
    module.discard_early()
    assert not module._EARLY
    assert unused.poll() is not None and unused.pid not in children(os.getpid())
    # a process that has imported GX starts none: it would import GX a second time
    monkeypatch.setitem(sys.modules, "great_expectations", sys)
    module.start_early(tmp_path / "w.duckdb")
    assert not module._EARLY
