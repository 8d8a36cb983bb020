"""The return on value transfer: marts.segment_payback and `cvm chart --kind payback`,
worked out by hand on hand-made rows of marts.value_transfer_payback.

(The payback rows themselves, per customer and period, are the dbt unit test
`value_transfer_payback_pairs_each_period_with_the_next`.)

The rows (value transfer in t, margin change from t to t + 1):
  2024  A invest         1,000  +2,500     B invest        500    +500
        C develop            0  -1,000     D develop       100    +200
        E renegotiate      400       0     F opportunistic   0  -3,000
  2025  A invest           200  -1,500
Per segment in 2024: invest 2 customers, 1,500, +3,000, ratio 2.0, mean +1,500; develop 2,
100, -800, ratio -8.0, mean -400; renegotiate 1, 400, 0, ratio 0; opportunistic 1, 0,
-3,000, no ratio (nothing given away).
High classic value (invest = high value transfer, develop = low): 1,500 - (-400) = 1,900.
Each group has two customers, so a resample's mean is the lower value, the middle or the
upper with chances 1/4, 1/2, 1/4: invest 500, 1,500, 2,500; develop -1,000, -400, 200. The
smallest difference 500 - 200 = 300 has a chance of 1/16 = 6.25 % > 2.5 %, the greatest
2,500 + 1,000 = 3,500 too: the 95 % interval is 300 to 3,500 (of 2,000 resamples, about 125
land on each end; the 50 outermost are all there).
Low classic value: renegotiate 0 minus opportunistic -3,000 = 3,000; one customer per group,
no interval. 2025: invest alone, no low-value-transfer group: no comparison.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main
from orchestration.lib.clv import payback
from orchestration.lib.reports.payback import payback_figure
from orchestration.lib.reports.periods import PeriodNotFound
from orchestration.settings import SEEDS_DIR

ROWS = [  # period t, customer, segment, value transfer, margin change
    (2024, "A", "invest", 1000, 2500), (2024, "B", "invest", 500, 500),
    (2024, "C", "develop", 0, -1000), (2024, "D", "develop", 100, 200),
    (2024, "E", "renegotiate", 400, 0), (2024, "F", "opportunistic", 0, -3000),
    (2025, "A", "invest", 200, -1500),
]
LEVELS = {"invest": ("high", "high"), "develop": ("high", "low"),
          "renegotiate": ("low", "high"), "opportunistic": ("low", "low")}


def test_identical_groups_give_an_interval_around_zero():
    found = payback.bootstrap_difference([1, 2, 3, 4], [1, 2, 3, 4])
    assert found.difference == 0
    assert found.low_bound < 0 < found.high_bound


def test_a_clear_shift_gives_an_interval_without_zero():
    """Every resampled mean of 100..103 lies in [100, 103], of 0..3 in [0, 3]: every
    difference in [97, 103]."""
    found = payback.bootstrap_difference([100, 101, 102, 103], [0, 1, 2, 3])
    assert found.difference == 100
    assert 97 <= found.low_bound < 100 < found.high_bound <= 103


def test_the_same_seed_gives_the_same_numbers():
    high, low = [5, 40, 7, 90, 12], [3, 8, 1, 30]
    first = payback.bootstrap_difference(high, low, seed=7)
    assert payback.bootstrap_difference(high, low, seed=7) == first
    assert payback.bootstrap_difference(high, low, seed=8) != first
    assert first.difference == pytest.approx(30.8 - 10.5)  # 154 / 5 - 42 / 4


def test_constant_small_and_empty_groups():
    assert payback.bootstrap_difference([5, 5], [2, 2]) == (2, 2, 3.0, 3.0, 3.0)
    assert payback.bootstrap_difference([5], [2, 2]) == (1, 2, 3.0, None, None)
    assert payback.bootstrap_difference([], [2, 2]) == (0, 2, None, None, None)


def _payback_frame():
    import pandas as pd

    rows = []
    for year, customer, segment, transfer, change in ROWS:
        classic, transfer_level = LEVELS[segment]
        rows.append({
            "period_start": pd.Timestamp(year, 1, 1), "period_end": pd.Timestamp(year, 12, 31),
            "next_period_start": pd.Timestamp(year + 1, 1, 1),
            "is_next_period_complete": year + 1 < 2026, "segment": segment,
            "classic_value_level": classic, "value_transfer_level": transfer_level,
            "customer_id": customer, "value_transfer_eur": float(transfer),
            "margin_change_eur": float(change)})
    return pd.DataFrame(rows)


def test_segment_payback_of_two_periods_worked_out_by_hand():
    summary = payback.summarise(_payback_frame())
    summary = summary.astype(object).where(summary.notna(), None)  # NaN: none
    got = {(row.period_start.year, row.segment): row for row in summary.itertuples()}
    assert sorted(got) == [(2024, "develop"), (2024, "invest"), (2024, "opportunistic"),
                           (2024, "renegotiate"), (2025, "invest")]
    sums = {key: (row.customers, row.value_transfer_eur, row.margin_change_eur,
                  row.payback_ratio, row.mean_margin_change_eur) for key, row in got.items()}
    assert sums == {
        (2024, "invest"): (2, 1500, 3000, 2.0, 1500),
        (2024, "develop"): (2, 100, -800, -8.0, -400),
        (2024, "renegotiate"): (1, 400, 0, 0.0, 0),
        (2024, "opportunistic"): (1, 0, -3000, None, -3000),
        (2025, "invest"): (1, 200, -1500, -7.5, -1500),
    }
    bands = {key: (row.band_high_transfer_customers, row.band_low_transfer_customers,
                   row.band_difference_eur, row.band_difference_low_eur,
                   row.band_difference_high_eur) for key, row in got.items()}
    # both segments of a band carry the band's comparison
    assert bands[(2024, "invest")] == bands[(2024, "develop")] == (2, 2, 1900, 300, 3500)
    assert bands[(2024, "renegotiate")] == bands[(2024, "opportunistic")] == (
        1, 1, 3000, None, None)
    assert bands[(2025, "invest")] == (1, 0, None, None, None)
    assert set(summary["bootstrap_seed"]) == {payback.BOOTSTRAP_SEED}
    assert set(summary["bootstrap_resamples"]) == {payback.BOOTSTRAP_RESAMPLES}


def _warehouse(path: Path) -> Path:
    """A warehouse with what the payback surfaces read: the periods (customer_value), the
    segments' seed, marts.value_transfer_payback (ROWS); segment_payback as a load writes
    it."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        con.execute("create schema reference")
        con.execute("create table reference.segments as select * from read_csv(?, header=true)",
                    [str(SEEDS_DIR / "segments.csv")])
        con.execute("""create table marts.customer_value as
            select make_date(y, 1, 1) as period_start, make_date(y, 12, 31) as period_end,
                   date '2026-11-22' as data_through, y < 2026 as is_period_complete
            from range(2024, 2027) as t(y)""")
        con.register("cvm_rows", _payback_frame())
        con.execute("""create table marts.value_transfer_payback as
            select customer_id, cast(period_start as date) as period_start,
                   cast(period_end as date) as period_end,
                   cast(next_period_start as date) as next_period_start,
                   is_next_period_complete, segment, classic_value_level,
                   value_transfer_level,
                   cast(value_transfer_eur as decimal(18, 4)) as value_transfer_eur,
                   cast(margin_change_eur as decimal(18, 4)) as margin_change_eur
            from cvm_rows""")
    finally:
        con.close()
    return path


def test_a_load_writes_segment_payback_and_its_check_can_fail(tmp_path):
    database = _warehouse(tmp_path / "engine.duckdb")
    outcome = payback.run(database)
    assert (outcome.periods, outcome.rows, outcome.failures) == (2, 5, [])
    con = duckdb.connect(str(database))
    try:
        assert con.execute(
            "select segment, customers, value_transfer_eur::varchar, "
            "margin_change_eur::varchar, payback_ratio, band_difference_eur::varchar, "
            "band_difference_low_eur::varchar, band_difference_high_eur::varchar "
            "from marts.segment_payback where period_start = '2024-01-01' "
            "and segment = 'invest'").fetchall() == [
            ("invest", 2, "1500.0000", "3000.0000", 2.0, "1900.0000", "300.0000",
             "3500.0000")]
        con.execute("update marts.segment_payback set customers = 3 "
                    "where segment = 'develop' and period_start = '2024-01-01'")
        con.execute("update marts.segment_payback set band_difference_low_eur = 4000 "
                    "where segment = 'invest' and period_start = '2024-01-01'")
        failures = payback.reconciliation_failures(con)
    finally:
        con.close()
    assert len(failures) == 2
    assert failures[0].startswith("2024-01-01 develop: segment_payback 3 customers")
    assert failures[1].startswith("2024-01-01 invest: the interval 4000.0000 to 3500.0000")


def test_an_empty_payback_gives_an_empty_table(tmp_path):
    database = _warehouse(tmp_path / "engine.duckdb")
    con = duckdb.connect(str(database))
    con.execute("delete from marts.value_transfer_payback")
    con.close()
    assert payback.run(database) == payback.Outcome(0, 0, [])
    con = duckdb.connect(str(database), read_only=True)
    try:
        columns = [r[0] for r in con.execute("describe marts.segment_payback").fetchall()]
    finally:
        con.close()
    assert tuple(columns) == payback.COLUMNS


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda artist: hasattr(artist, "get_text"))]


def test_the_payback_chart_renders_in_both_languages(tmp_path, capsys):
    warehouse = _warehouse(tmp_path / "warehouse.duckdb")
    payback.run(warehouse)
    for lang in ("de", "en"):
        out = tmp_path / f"payback_{lang}.png"
        assert main(["chart", "--kind", "payback", "--warehouse", str(warehouse),
                     "--lang", lang, "--out", str(out)]) == 0
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the default period t is the latest with a following one: 2025, to 2026 (running)
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"payback chart of 2025 to 2026, data through 2026-11-22 written to "
        f"{tmp_path / 'payback_en.png'}")
    fig, label = payback_figure(warehouse, "2024", "en")
    texts = "\n".join(_texts(fig))
    assert label == "2024"
    assert "Value transfer in 2024 and the change of contribution margin to 2025" in texts
    assert "customers: 2; value transfer €1,500, change €3,000" in texts
    assert "change per € of value transfer: 2.00" in texts
    assert ("High classic value: mean change with high minus low value transfer €1,900 "
            "(95 % bootstrap interval €300 to €3,500)") in texts
    assert "Low classic value: mean change with high minus low value transfer €3,000 " \
           "(too few customers for an interval)" in texts
    assert "An association over the data, not proof of cause" in texts
    fig, _ = payback_figure(warehouse, None, "de")
    texts = "\n".join(_texts(fig))
    assert "Wertetransfer 2025 und Änderung des Deckungsbeitrags zu 2026, Daten bis " \
           "22.11.2026" in texts
    assert "Hoher klassischer Wert: kein Vergleich (eine der Gruppen ist leer)" in texts
    assert "Ein Zusammenhang in den Daten, kein Beweis einer Ursache" in texts
    assert "keine Kunden" in texts


def test_the_last_period_has_no_payback_chart(tmp_path):
    warehouse = _warehouse(tmp_path / "warehouse.duckdb")
    payback.run(warehouse)
    with pytest.raises(PeriodNotFound) as found:
        payback_figure(warehouse, "2026", "en")
    assert str(found.value) == ("no period '2026' with a following period in the warehouse "
                                "(periods with one: 2024, 2025)")
    assert dt.date(2024, 1, 1) == found.value.available[0].start
