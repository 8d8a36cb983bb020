"""A small published warehouse for the cockpit and statement tests, and a cockpit server.

The warehouse is the end-to-end fixture's three deliveries (tests/e2e_deliveries.py), loaded
once per test session by `cvm load`'s job. Its 2026 holds one customer in every segment:
C1 develop, C2 and C5 opportunistic, C3 renegotiate, C4 invest. Its five customers are too
few to fit the purchase model: `forecast_warehouse` is a copy of its catalog whose CLV marts
are those the build writes when the fit gives the parameters of FORECAST_FITS.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from pathlib import Path
from unittest import mock

import duckdb
from werkzeug.serving import WSGIRequestHandler, make_server

from orchestration.cockpit.app import create_app
from orchestration.runner import run_load
from tests.e2e_deliveries import D1, D2, D3, write_delivery

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


# The parameters the forecast warehouse's fit "finds": BG/NBD per week as published for CDNOW
# (Fader, Hardie & Lee 2005); Gamma-Gamma on the scale of the fixture's euros.
FORECAST_FITS = {
    "bg_nbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "gamma_gamma_margin": {"p": 6.25, "q": 3.74, "gamma": 5000.0},
    "gamma_gamma_revenue": {"p": 6.25, "q": 3.74, "gamma": 20000.0},
}
# customer_equity of two earlier as-of dates, as earlier loads would have appended them:
# (as_of_date, segment, customers, clv_eur, expected_margin_eur, mean_p_alive)
FORECAST_HISTORY = [
    (dt.date(2026, 9, 30), "develop", 1, 12000.0, 12500.0, 0.65),
    (dt.date(2026, 9, 30), "opportunistic", 1, 2500.0, 2600.0, 0.62),
    (dt.date(2026, 9, 30), "renegotiate", 1, 2400.0, 2500.0, 0.63),
    (dt.date(2026, 10, 31), "develop", 1, 13000.0, 13500.0, 0.61),
    (dt.date(2026, 10, 31), "invest", 1, 4000.0, 4200.0, 1.0),
    (dt.date(2026, 10, 31), "opportunistic", 1, 2700.0, 2800.0, 0.6),
    (dt.date(2026, 10, 31), "renegotiate", 1, 2300.0, 2400.0, 0.61),
]


def forecast_warehouse(root: Path, out: Path) -> Path:
    """A copy at `out` of the published catalog under `root` (its views still read the
    store's files under `root`), whose marts customer_lifetime_value, clv_model and
    customer_equity are rewritten by lib/clv/build.py from the catalog's purchase summary,
    with a fit that gives FORECAST_FITS, and FORECAST_HISTORY as the earlier as-of dates."""
    from orchestration.lib.clv import build, model

    def fitted(name):
        return lambda *args: model.Fit(dict(FORECAST_FITS[name]), -1.0, 5, True, "")

    shutil.copyfile(root / "warehouse.duckdb", out)
    con = duckdb.connect(str(out))
    try:
        with mock.patch.object(build, "MIN_CUSTOMERS", 1), \
                mock.patch.object(model, "fit_bg_nbd", fitted("bg_nbd")), \
                mock.patch.object(model, "fit_gamma_gamma", mock.Mock(side_effect=[
                    fitted("gamma_gamma_margin")(), fitted("gamma_gamma_revenue")()])):
            outcome, frame = build.fit(build.read_inputs(con))
        con.execute(f"create temp table history ({build.EQUITY_COLUMNS})")
        con.executemany("insert into history values (?, ?, ?, ?, ?, ?)", FORECAST_HISTORY)
        for table in build.TABLES:
            con.execute(f"drop view marts.{table}")
        build.write(con, outcome, frame, "history")
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
