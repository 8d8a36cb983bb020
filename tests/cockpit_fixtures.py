"""A small published warehouse for the cockpit and statement tests, and a cockpit server.

The warehouse is the end-to-end fixture's three deliveries (tests/e2e_fixtures.py), loaded
once per test session by `cvm load`'s job. Its 2026 holds one customer in every segment:
C1 develop, C2 and C5 opportunistic, C3 renegotiate, C4 invest. Its five customers are too
few to fit the purchase model: `forecast_warehouse` is a copy of its catalog whose CLV marts
are those the build writes when the fit gives fixed parameters (tests/clv_fixtures.py).
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import duckdb
from werkzeug.serving import WSGIRequestHandler, make_server

from orchestration.cockpit.app import create_app
from orchestration.runner import run_load
from tests.clv_fixtures import write_forecast
from tests.e2e_fixtures import D1, D2, D3, write_delivery

CHROMIUM = Path("/usr/bin/chromium")
_lock = threading.Lock()


def published_warehouse(tmp_path_factory) -> Path:
    """The root holding `landing/`, `warehouse.duckdb` and its `work/` copy; built once."""
    root = tmp_path_factory.getbasetemp() / "cockpit-warehouse"
    warehouse = root / "warehouse.duckdb"
    with _lock:
        if not warehouse.exists():
            landing = root / "landing"
            for folder in (D1, D2, D3):
                write_delivery(landing, folder)
            outcome = run_load(landing, warehouse)
            assert outcome.exit_code == 0, outcome.error
    return root


def forecast_warehouse(root: Path, out: Path) -> Path:
    """A copy at `out` of the published catalog under `root` (its views still read the
    store's files under `root`), whose CLV marts are rewritten by tests/clv_fixtures.py: the
    fit gives FORECAST_FITS, and FORECAST_HISTORY holds the earlier as-of dates."""
    shutil.copyfile(root / "warehouse.duckdb", out)
    con = duckdb.connect(str(out))
    try:
        write_forecast(con)
    finally:
        con.close()
    return out


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # no access log in the test output
        pass


class CockpitServer:
    """The cockpit on a free port (port 0), served from a thread of the test process."""

    def __init__(self, warehouse: Path):
        self.app = create_app(warehouse)
        self._httpd = make_server("127.0.0.1", 0, self.app.server, threaded=True,
                                  request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._httpd.server_port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> CockpitServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._thread.join(timeout=10)
