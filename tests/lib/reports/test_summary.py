"""The load summary: the latest period named honestly, and the warnings a load leaves.

The warehouse is the hand-made one of tests/reports_fixtures.py: data through 2026-11-22, one
unpriced activity (A11, FIELD_SERVICE on 2024-06-15, before its first rate), and one
rejection still open (an order line of 2026-11-22 waiting for its customer).
"""

from __future__ import annotations

from orchestration.lib.reports.periods import choose_period, period_label, terminal_label
from orchestration.lib.reports.summary import print_summary
from orchestration.lib.reports.warehouse import Warehouse


def test_summary_names_the_running_period_and_the_warnings(reports_warehouse):
    lines: list[str] = []
    print_summary(reports_warehouse, ["2026-03-31", "2026-11-22"], echo=lines.append)
    text = "\n".join(lines)
    # the terminal's dates are ISO, as everywhere on it (the deliveries, the README)
    assert ("  latest period 2026, data through 2026-11-22 (2026-01-01 … 2026-12-31, "
            "running: not complete yet):") in lines
    assert ("    unpriced activities (no valid standard cost rate on their date, so no value "
            "transfer): 1 (FIELD_SERVICE 2024: 1)") in lines
    assert ("    open rejections (rows waiting for a customer snapshot that brings their "
            "customer): 1 (orders: 1)") in lines
    # 2026 by segment: K1 and K6 invest, K2 develop, K3 renegotiate, K4 and K5 opportunistic
    assert "    invest                 2" in text


def test_periods_and_their_labels(reports_warehouse):
    with Warehouse(reports_warehouse).reader() as con:
        latest, complete = choose_period(con), choose_period(con, "2025-01-01")
    assert (latest.key, latest.is_complete, str(latest.data_through)) == (
        "2026", False, "2026-11-22")
    assert period_label(latest, "de") == "2026, Daten bis 22.11.2026"
    assert period_label(latest, "en") == "2026, data through 22 Nov 2026"
    assert terminal_label(latest) == "2026, data through 2026-11-22"
    assert terminal_label(complete) == "2025"
    assert (complete.key, complete.is_complete) == ("2025", True)
    assert period_label(complete, "de") == "2025"
