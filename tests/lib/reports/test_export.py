"""`cvm export`: every total of the workbook and of the CSV files reconciles with the marts.

The warehouse is the hand-made one of tests/reports_fixtures.py; its docstring works out every
figure of period 2026 by hand from the 2026 rates of dbt_project/seeds/standard_cost_rates.csv:
9 activities, 960 minutes (16 hours), 10 participants, standard cost 2294.99, billed 500.00,
value transfer 1831.41.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main
from orchestration.lib.reports.sheets import HEADER_ROW

D = Decimal
VALUE_TRANSFER, STANDARD_COST, BILLED = D("1831.41"), D("2294.99"), D("500.00")
ACTIVITIES, MINUTES, PARTICIPANTS = 9, 960, 10

# value transfer per rate version: HOTLINE-2026 = 85.97 * 3 + 42.99 + 128.96 (A01, A09, A08,
# A04, A06), TRAINING-2026 = 513.43 - 300, COMMISSIONING-2026 1146.33, MARKET_INFO-2026 41.79,
# REPAIR-2026 0 (billed 200 >= 163.58)
RATES = {
    # rate_id: (activities, hours, standard cost, value transfer)
    "COMMISSIONING-2026": (1, D("8"), D("1146.33"), D("1146.33")),
    "HOTLINE-2026": (5, D("5"), D("429.86"), D("429.86")),
    "MARKET_INFO-2026": (1, D("0"), D("41.79"), D("41.79")),
    "REPAIR-2026": (1, D("1"), D("163.58"), D("0")),
    "TRAINING-2026": (1, D("2"), D("513.43"), D("213.43")),
}


def _marts(warehouse: Path, sql: str):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def _sheet(workbook, name: str) -> list[dict]:
    """The rows of one sheet as {heading: cell}, the headings in row HEADER_ROW."""
    sheet = workbook[name]
    headings = [cell.value for cell in sheet[HEADER_ROW]]
    return [dict(zip(headings, row, strict=True))
            for row in sheet.iter_rows(min_row=HEADER_ROW + 1)]


def _sheet_rows(workbook, name: str) -> list[tuple]:
    """The values of one sheet below its headings, without the empty cells of each row."""
    return [tuple(c for c in row if c.value is not None)
            for row in workbook[name].iter_rows(min_row=HEADER_ROW + 1)]


def _total(rows: list[dict], heading: str) -> Decimal:
    """A column's sum, each cell read as Excel holds it (a double) and rounded to the cent."""
    return sum((D(str(round(row[heading].value or 0, 4))) for row in rows), D(0))


@pytest.fixture(scope="module")
def workbook(reports_warehouse, tmp_path_factory):
    from openpyxl import load_workbook

    out = tmp_path_factory.mktemp("export") / "export.xlsx"
    assert main(["export", "--warehouse", str(reports_warehouse), "--period", "2026",
                 "--out", str(out)]) == 0
    return load_workbook(out)


def test_the_marts_hold_the_figures_worked_out_by_hand(reports_warehouse):
    """The reconciliation below compares the export with these, so they are checked first."""
    assert _marts(reports_warehouse,
                  "select sum(value_transfer_eur), sum(service_activities), "
                  "sum(service_minutes) from marts.customer_value "
                  "where period_start = '2026-01-01'") == (VALUE_TRANSFER, ACTIVITIES, MINUTES)


def test_workbook_totals_reconcile_with_the_marts(workbook, reports_warehouse):
    assert workbook.sheetnames == [
        "Zeitraum", "Abstimmung", "Leistungskosten je Kunde", "Wertetransfer-Journal",
        "Kostensätze", "Kapazität", "Nicht bewertet", "Ladeprotokoll", "Abgelehnte Zeilen",
        "Kundenlebenswert (CLV)", "Kaufmodell (CLV)",
    ]
    cost = _sheet(workbook, "Leistungskosten je Kunde")
    # K1 HOTLINE free (A01, A09), REPAIR billed, TRAINING discounted; K2 HOTLINE; K3
    # COMMISSIONING and HOTLINE; K4 MARKET_INFO; K6 HOTLINE
    assert len(cost) == 8
    assert _total(cost, "Wertetransfer") == VALUE_TRANSFER
    assert _total(cost, "Standardkosten") == STANDARD_COST
    assert _total(cost, "Berechnet") == BILLED
    assert _total(cost, "Leistungen") == ACTIVITIES
    assert _total(cost, "Minuten") == MINUTES
    assert _total(cost, "Stunden") == D(MINUTES) / 60
    assert _total(cost, "Teilnehmer") == PARTICIPANTS
    hotline_k1 = next(r for r in cost if r["Kunde"].value == "K1"
                      and r["Kostensatz"].value == "HOTLINE-2026")
    assert (hotline_k1["Leistungen"].value, hotline_k1["Stunden"].value,
            hotline_k1["Wertetransfer"].value) == (2, 2, pytest.approx(171.94))
    assert hotline_k1["Kundenname"].value == "Anker Armaturen GmbH"
    assert hotline_k1["Leistung"].value == "Kostenfreie technische Hotline"  # from the seed

    ledger = _sheet(workbook, "Wertetransfer-Journal")
    assert len(ledger) == 8  # every 2026 activity but A03 (billed)
    assert _total(ledger, "Wertetransfer") == VALUE_TRANSFER
    a02 = next(r for r in ledger if r["Leistung-ID"].value == "A02")
    # A02 was the fifth row of the activities file of the first delivery (header = line 1)
    assert (a02["Kostensatz"].value, a02["Quelldatei"].value, a02["Zeile"].value) == (
        "TRAINING-2026", "2026-03-31/service_activities.csv", 6)
    # billed 300 of a standard cost of 513.43: discounted, in the cockpit's word
    assert a02["Transferart"].value == "vergünstigt"
    assert a02["Zeile"].number_format == "0"  # a line number has no thousands separator

    rates = _sheet(workbook, "Kostensätze")
    assert {r["Kostensatz"].value: (r["Bewertete Leistungen"].value,
                                    D(str(r["Stunden"].value)),
                                    D(str(r["Standardkosten"].value)),
                                    D(str(r["Wertetransfer"].value))) for r in rates} == RATES
    hotline = next(r for r in rates if r["Kostensatz"].value == "HOTLINE-2026")
    assert hotline["Gültig ab"].value == dt.datetime(2026, 1, 1)
    assert hotline["Gültig bis (ausschließlich)"].value is None  # open
    assert hotline["Stundensatz"].value == pytest.approx(85.97)
    # no department has capacity data: every rate is typed, and the capacity sheet is empty
    assert {r["Herkunft des Satzes"].value for r in rates} == {"erfasst"}
    assert [[c.value for c in row] for row in _sheet_rows(workbook, "Kapazität")] == [
        ["keine Einträge"]]
    # every 2026 activity has a rate: the sheet says so in a row of its own
    assert [[c.value for c in row] for row in _sheet_rows(workbook, "Nicht bewertet")] == [
        ["keine Einträge"]]

    # the reconciliation sheet: the same totals beside the marts', no difference
    checks = _sheet(workbook, "Abstimmung")
    assert len(checks) == 13
    for row in checks:
        assert row["Differenz"].value == 0, row["Position"].value
    assert next(r for r in checks if r["Position"].value == "Wertetransfer: Journal")[
        "Laut Marts"].value == pytest.approx(float(VALUE_TRANSFER))


def test_numbers_stay_numbers_with_german_formats(workbook):
    sheet = workbook["Leistungskosten je Kunde"]
    assert sheet["A1"].value == "Leistungskosten je Kunde – 2026, Daten bis 22.11.2026"
    headings = [cell.value for cell in sheet[HEADER_ROW]]
    first = sheet[HEADER_ROW + 1]
    amount = first[headings.index("Wertetransfer")]
    assert amount.data_type == "n" and isinstance(amount.value, float)
    # a German Excel shows this format as #.##0,00 €
    assert amount.number_format.startswith('#,##0.00 "€"')
    assert first[headings.index("Leistungen")].number_format == "#,##0"
    ledger = workbook["Wertetransfer-Journal"]
    day = ledger.cell(row=HEADER_ROW + 1, column=1)
    assert isinstance(day.value, dt.datetime) and day.number_format == "DD.MM.YYYY"
    period = {row["Angabe"].value: row["Wert"] for row in _sheet(workbook, "Zeitraum")}
    assert period["Zeitraum"].value == "2026, Daten bis 22.11.2026"
    assert period["Zeitraum vollständig"].value == "nein"
    # the period's dates are dates (Excel's day numbers) with a date format, not text
    for item, when in (("Beginn", dt.datetime(2026, 1, 1)), ("Ende", dt.datetime(2026, 12, 31)),
                       ("Daten bis (letzte geladene Lieferung)", dt.datetime(2026, 11, 22))):
        assert period[item].is_date, item
        assert (period[item].value, period[item].number_format) == (when, "DD.MM.YYYY")
    created = period["Erstellt am"]
    assert created.is_date and created.number_format == "DD.MM.YYYY HH:MM:SS"


def test_load_log_and_rejected_rows_open_and_resolved(workbook):
    log = _sheet(workbook, "Ladeprotokoll")
    assert len(log) == 6  # three extracts in each of the two deliveries
    assert _total(log, "Abgelehnt") == 3 and _total(log, "Davon offen") == 1
    rejected = _sheet(workbook, "Abgelehnte Zeilen")
    assert [(r["Datei"].value, r["Zeile"].value, r["Grund"].value, r["Code"].value,
             r["Stand"].value) for r in rejected] == [
        ("2026-03-31/orders.csv", 6, "ungültige Zahl", "invalid_number", "endgültig abgelehnt"),
        ("2026-03-31/service_activities.csv", 8, "unbekannter Kunde", "unknown_customer",
         "aufgelöst"),
        ("2026-11-22/orders.csv", 5, "unbekannter Kunde", "unknown_customer",
         "offen: wartet auf den Kunden"),
    ]
    # the details in German, the values quoted as delivered
    assert [r["Detail"].value for r in rejected] == [
        "net_revenue_eur: '8000.00' ist keine Zahl",
        "customer_id: 'K6' ist in keinem bisher geladenen Kundenstand",
        "customer_id: 'K7' ist in keinem bisher geladenen Kundenstand",
    ]


def test_english_workbook_dates_none_row_and_reasons(reports_warehouse, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "en.xlsx"
    assert main(["export", "--warehouse", str(reports_warehouse), "--period", "2026",
                 "--lang", "en", "--out", str(out)]) == 0
    workbook = load_workbook(out)
    period = {row["Item"].value: row["Value"] for row in _sheet(workbook, "Period")}
    assert period["Start"].value == dt.datetime(2026, 1, 1)
    assert period["Start"].number_format == "YYYY-MM-DD"
    assert [[c.value for c in row] for row in _sheet_rows(workbook, "Unpriced activities")] == [
        ["none"]]
    rejected = _sheet(workbook, "Rejected rows")
    assert (rejected[0]["Reason"].value, rejected[0]["Code"].value,
            rejected[0]["Detail"].value) == (
        "invalid number", "invalid_number", "net_revenue_eur: '8000.00' is not a number")


CLV_HEADINGS = {  # the sheet's heading of each column of marts.customer_lifetime_value
    "as_of_date": "Stichtag", "customer_id": "Kunde", "purchases": "Kauftage",
    "frequency": "Wiederholungskäufe (Tage)", "recency_days": "Erster bis letzter Kauf (Tage)",
    "t_days": "Erster Kauf bis Stichtag (Tage)",
    "avg_margin_per_purchase_eur": "Deckungsbeitrag je Kauftag (erwartet)",
    "p_alive": "Noch aktiv (Wahrscheinlichkeit)", "expected_purchases": "Erwartete Kauftage",
    "expected_revenue_eur": "Erwarteter Umsatz",
    "expected_margin_eur": "Erwarteter Deckungsbeitrag", "clv_eur": "CLV (abgezinst)",
    "horizon_months": "Horizont (Monate)",
}


def _mart_rows(warehouse: Path, sql: str) -> list[dict]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def _as_cell(value):
    """A mart's value as the workbook holds it: numbers as doubles, dates as datetimes."""
    if isinstance(value, Decimal):
        return pytest.approx(float(value), rel=1e-12)
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-12)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return value


def test_clv_sheet_of_a_model_not_fitted(workbook, reports_warehouse):
    """Six customers are too few to fit: each customer with a purchase day has its row, with
    its purchase history and empty forecasts; the model's sheet has no parameters."""
    mart = _mart_rows(reports_warehouse, "select * from marts.customer_lifetime_value "
                                         "order by customer_id")
    # K1, K2, K3, K5 (a credit note is a purchase day) and K6; K4 bought nothing
    assert [row["customer_id"] for row in mart] == ["K1", "K2", "K3", "K5", "K6"]
    sheet = _sheet(workbook, "Kundenlebenswert (CLV)")
    assert [{key: row[heading].value for key, heading in CLV_HEADINGS.items()}
            for row in sheet] == [{key: _as_cell(row[key]) for key in CLV_HEADINGS}
                                  for row in mart]
    assert all(row["CLV (abgezinst)"].value is None and row["Kauftage"].value >= 1
               for row in sheet)
    assert [[c.value for c in row] for row in _sheet_rows(workbook, "Kaufmodell (CLV)")] == [
        ["keine Einträge"]]


def test_clv_sheets_hold_every_customer_s_forecast_and_the_model(reports_warehouse, tmp_path):
    from openpyxl import load_workbook

    from tests.clv_fixtures import FORECAST_FITS, LOG_LIKELIHOOD, write_forecast

    warehouse = tmp_path / "forecast.duckdb"
    shutil.copyfile(reports_warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    write_forecast(con)
    con.close()
    out = tmp_path / "export.xlsx"
    assert main(["export", "--warehouse", str(warehouse), "--period", "2025",
                 "--out", str(out)]) == 0
    workbook = load_workbook(out)
    mart = _mart_rows(warehouse, "select * from marts.customer_lifetime_value "
                                 "order by customer_id")
    sheet = _sheet(workbook, "Kundenlebenswert (CLV)")
    assert [{key: row[heading].value for key, heading in CLV_HEADINGS.items()}
            for row in sheet] == [{key: _as_cell(row[key]) for key in CLV_HEADINGS}
                                  for row in mart]
    # the forecast is the customer's, whatever the period exported: as of the data's end
    assert {row["Stichtag"].value for row in sheet} == {dt.datetime(2026, 11, 22)}
    names = {row["Kunde"].value: row["Kundenname"].value for row in sheet}
    assert names["K1"] == "Anker Armaturen GmbH"
    # K6 has no repeat purchase: still active with probability 1, and the population's
    # margin per purchase p gamma / (q - 1) = 6.25 * 5000 / 2.74 = 11,405.11
    k6 = next(row for row in sheet if row["Kunde"].value == "K6")
    assert k6["Noch aktiv (Wahrscheinlichkeit)"].value == 1.0
    assert k6["Deckungsbeitrag je Kauftag (erwartet)"].value == pytest.approx(11405.11,
                                                                               abs=0.005)
    assert k6["CLV (abgezinst)"].number_format.startswith('#,##0.00 "€"')
    assert 0 < k6["CLV (abgezinst)"].value < k6["Erwarteter Deckungsbeitrag"].value
    parameters = {(row["Modell"].value, row["Parameter"].value): (
        row["Wert"].value, row["Log-Likelihood"].value, row["Zeiteinheit"].value)
        for row in _sheet(workbook, "Kaufmodell (CLV)")}
    assert parameters == {
        (model, name): (pytest.approx(value), LOG_LIKELIHOOD,
                        "week" if model == "bg_nbd" else None)
        for model, fitted in FORECAST_FITS.items() for name, value in fitted.items()}


def test_reject_details_of_every_shape_in_german():
    """Each detail the ingest writes (lib/ingest/rules.py, reading.py), in German."""
    from orchestration.lib.reports.translations import reject_detail

    cases = {
        "participants is empty": "participants ist leer",
        "participants: '2.5' is not an integer": "participants: '2.5' ist keine ganze Zahl",
        "activity_date: '31.02.2026' is not a date": "activity_date: '31.02.2026' ist kein Datum",
        "order_date: '1899-12-31' is before 1900-01-01":
            "order_date: '1899-12-31' liegt vor dem 1900-01-01",
        "order_date: '2026-12-01' is after the extract date 2026-11-22":
            "order_date: '2026-12-01' liegt nach dem Lieferdatum 2026-11-22",
        "record has 7 fields, the header 8": "Datensatz hat 7 Felder, die Kopfzeile 8",
        "channel: 'fax' is not one of phone, email": "channel: 'fax' ist keiner der Werte "
                                                      "phone, email",
        "duration_minutes: '-5' is below 0": "duration_minutes: '-5' ist kleiner als 0",
        "service_type_code: 'X' is not in the service catalogue":
            "service_type_code: 'X' steht nicht im Leistungskatalog",
        "bytes 0xE4 0xFC do not decode as utf-8":
            "Bytes 0xE4 0xFC lassen sich nicht als utf-8 lesen",
        "record of 1,048,700 bytes (lines 5 to 9) is longer than the limit of 1,048,576 "
        "bytes; it starts 'A1,K1…'":
            "Datensatz von 1.048.700 Byte (Zeilen 5 bis 9) ist länger als die Grenze von "
            "1.048.576 Byte; er beginnt mit 'A1,K1…'",
    }
    for english, german in cases.items():
        assert reject_detail(english, "de") == german
        assert reject_detail(english, "en") == english
    assert reject_detail("a detail of no known shape", "de") == "a detail of no known shape"


def _read_csv(path: Path, encoding: str, delimiter: str) -> list[dict]:
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def test_csv_in_the_german_excel_dialect(reports_warehouse, tmp_path):
    out = tmp_path / "csv"
    assert main(["export", "--warehouse", str(reports_warehouse), "--format", "csv",
                 "--out", str(out)]) == 0
    raw = (out / "service_cost.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark
    assert raw.splitlines()[0].decode("utf-8-sig").startswith("Zeitraum;Kunde;Kundenname;")
    cost = _read_csv(out / "service_cost.csv", "utf-8-sig", ";")
    assert sum(D(r["Wertetransfer"].replace(",", ".")) for r in cost) == VALUE_TRANSFER
    assert sum(D(r["Standardkosten"].replace(",", ".")) for r in cost) == STANDARD_COST
    assert sum(int(r["Leistungen"]) for r in cost) == ACTIVITIES
    training = next(r for r in cost if r["Kostensatz"] == "TRAINING-2026")
    assert (training["Standardkosten"], training["Berechnet"], training["Wertetransfer"]) == (
        "513,43", "300,00", "213,43")
    ledger = _read_csv(out / "ledger.csv", "utf-8-sig", ";")
    assert sum(D(r["Wertetransfer"].replace(",", ".")) for r in ledger) == VALUE_TRANSFER
    assert {r["Datum"] for r in ledger} >= {"10.02.2026", "01.08.2026"}
    period = {r["Angabe"]: r["Wert"] for r in _read_csv(out / "period.csv", "utf-8-sig", ";")}
    assert period["Zeitraum"] == "2026, Daten bis 22.11.2026"
    checks = _read_csv(out / "reconciliation.csv", "utf-8-sig", ";")
    assert {D(r["Differenz"].replace(",", ".")) for r in checks} == {D(0)}


def test_csv_in_the_standard_dialect(reports_warehouse, tmp_path):
    out = tmp_path / "csv"
    assert main(["export", "--warehouse", str(reports_warehouse), "--format", "csv",
                 "--lang", "en", "--out", str(out)]) == 0
    assert not (out / "ledger.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    ledger = _read_csv(out / "ledger.csv", "utf-8", ",")
    assert sum(D(r["Value transfer"]) for r in ledger) == VALUE_TRANSFER
    a05 = next(r for r in ledger if r["Activity"] == "A05")
    assert (a05["Date"], a05["Value transfer"], a05["Service"], a05["Transfer kind"]) == (
        "2026-06-01", "1146.33", "Commissioning", "free")
    period = {r["Item"]: r["Value"] for r in _read_csv(out / "period.csv", "utf-8", ",")}
    assert period["Period"] == "2026, data through 22 Nov 2026"


def test_unpriced_activities_with_their_reason(reports_warehouse, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "2024.xlsx"
    assert main(["export", "--warehouse", str(reports_warehouse), "--period", "2024",
                 "--out", str(out)]) == 0
    workbook = load_workbook(out)
    (unpriced,) = _sheet(workbook, "Nicht bewertet")
    # FIELD_SERVICE's first rate is valid from 2025-01-01
    assert unpriced["Leistung-ID"].value == "A11"
    assert unpriced["Grund"].value == (
        "kein gültiger Kostensatz für FIELD_SERVICE am 15.06.2024 (erster gültig ab 01.01.2025)")
    assert workbook["Nicht bewertet"]["A1"].value == "Nicht bewertet – 2024"  # complete
    checks = _sheet(workbook, "Abstimmung")
    assert all(row["Differenz"].value == 0 for row in checks)


def test_a_period_the_warehouse_does_not_hold_is_named(reports_warehouse, tmp_path, capsys):
    assert main(["export", "--warehouse", str(reports_warehouse), "--period", "2019",
                 "--out", str(tmp_path / "x.xlsx")]) == 2
    error = capsys.readouterr().err
    assert "no period '2019'" in error and "2024, 2025, 2026" in error
    assert not (tmp_path / "x.xlsx").exists()


def test_a_text_longer_than_a_cell_is_cut_and_a_formula_stays_text(reports_warehouse, tmp_path):
    """A rejected record as delivered can be longer than an Excel cell holds (32,767
    characters): the cell holds its start and says it was cut. A text that reads like a
    formula is written as the text it is."""
    from openpyxl import load_workbook

    from orchestration.lib.reports.export import TEXT, Column, Table, build_export
    from orchestration.lib.reports.sheets import write_xlsx

    export = build_export(reports_warehouse, "2026", "de")
    table = Table("rejected_rows", "ex_table_rejected_rows", "audit.rejected_rows",
                  (Column("raw_record", TEXT, "ex_col_record_as_delivered"),),
                  [("x" * 40_000,), ("=1+1",), ("y" * 32_767,)])
    out = write_xlsx(export._replace(tables=(table,)), tmp_path / "cut.xlsx")
    sheet = load_workbook(out).worksheets[0]
    cut, formula, whole = (sheet.cell(HEADER_ROW + n, 1) for n in (1, 2, 3))
    assert len(cut.value) == 32_767 and cut.value.endswith("x […]")
    assert (formula.value, formula.data_type) == ("=1+1", "s")
    assert whole.value == "y" * 32_767  # what a cell holds is written whole


def test_a_table_longer_than_a_sheet_is_refused(reports_warehouse, tmp_path, capsys,
                                                monkeypatch):
    """A table with more rows than an Excel sheet holds below its headings is refused before
    anything is written, and the line says to write CSV files instead (here with the sheet's
    limit lowered to a few rows: the period sheet alone has more)."""
    from orchestration.lib.reports import sheets

    monkeypatch.setattr(sheets, "EXCEL_ROWS", HEADER_ROW + 2)
    assert main(["export", "--warehouse", str(reports_warehouse), "--period", "2026",
                 "--out", str(tmp_path / "x.xlsx")]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"cvm export: {reports_warehouse}: the sheet 'Zeitraum' would hold")
    assert "more than an Excel sheet holds below its headings (2)" in error
    assert "--format csv" in error
    assert not (tmp_path / "x.xlsx").exists()
    assert main(["export", "--warehouse", str(reports_warehouse), "--period", "2026",
                 "--format", "csv", "--out", str(tmp_path / "csv")]) == 0
