"""`make docs` (`cvm docs`): the dbt docs site is built from a read-only snapshot, so it works
while an analyst holds a read-only connection and leaves the published file untouched."""

from __future__ import annotations

import hashlib
import multiprocessing
import re
import threading
import urllib.request
from pathlib import Path

import duckdb

from orchestration.lib.docs_site import build_docs, serve
from orchestration.settings import DBT_PROJECT_DIR

OVERVIEW = DBT_PROJECT_DIR / "models" / "overview.md"


def _analyst(published: str, ready, stop, answers) -> None:
    """An analyst's session: a read-only connection, querying until told to stop."""
    con = duckdb.connect(published, read_only=True)
    ready.set()
    while not stop.wait(0.2):
        answers.put(con.execute("select count(*) from marts.customer_value").fetchone()[0])
    answers.put(con.execute("select count(*) from marts.customer_value").fetchone()[0])
    con.close()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_docs_build_while_an_analyst_reads(reports_warehouse, tmp_path):
    before = _sha256(reports_warehouse)
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    answers = multiprocessing.Queue()
    analyst = multiprocessing.Process(
        target=_analyst, args=(str(reports_warehouse), ready, stop, answers))
    analyst.start()
    try:
        assert ready.wait(30), "the analyst could not connect"
        page = build_docs(reports_warehouse, tmp_path / "site")
    finally:
        stop.set()
        analyst.join(30)
    assert analyst.exitcode == 0
    counts = []
    while not answers.empty():
        counts.append(answers.get())
    assert counts and set(counts) == {8}  # the fixture's customer_value rows, read throughout
    assert _sha256(reports_warehouse) == before  # the published file is untouched

    html = page.read_text(encoding="utf-8")
    assert "Customer-value warehouse" in html  # the overview page of our own
    catalog = (page.parent / "catalog.json").read_text(encoding="utf-8")
    assert "customer_profitability" in catalog  # the snapshot's tables are catalogued

    server = serve(page.parent, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        with urllib.request.urlopen(f"http://{host}:{port}/", timeout=10) as response:
            assert response.status == 200
            assert b"Customer-value warehouse" in response.read()
    finally:
        server.shutdown()
        server.server_close()


def test_the_overview_names_the_grain_of_every_mart():
    from orchestration.lib.clv import payback  # segment_payback, written after dbt
    from orchestration.lib.clv.build import TABLES  # the marts the purchase model writes

    marts = {path.stem for path in (DBT_PROJECT_DIR / "models" / "marts").glob("*.sql")}
    marts |= set(TABLES) | set(payback.TABLES)
    listed = set(re.findall(r"^\| `(\w+)` \| one row per", OVERVIEW.read_text(), re.MULTILINE))
    assert listed == marts
