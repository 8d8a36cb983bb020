"""The customer's value statement: hand-worked sums in the PDF's text, nothing internal.

Standard cost rates (dbt_project/seeds/standard_cost_rates.csv) and the rules of docs/reference.md:
cost = minutes/60 * hourly + per event + participants * per participant, to the cent, half
away from zero; free (billed 0) gives the whole cost, discounted gives cost - billed, billed
(>= cost) gives nothing and is not in the value-transfer ledger.

  HOTLINE-2025 83.47/h:   A1 C2 2025-02-10, 30 min      0.5 * 83.47 = 41.735        ->   41.74
  TRAINING-2025 110.13/h + 173.89 + 52.17/p:
                          A2 C3 2025-09-15, 480 min, 6p 8*110.13 + 173.89 + 6*52.17
                                                        = 881.04 + 173.89 + 313.02   = 1,367.95
  REPAIR-2025 106.65/h + 52.17:
                          A3 C1 2025-04-01, 120 min     2*106.65 + 52.17 = 265.47, billed 300
                                                        -> billed: no value given
  COMMISSIONING-2026 125.38/h + 143.29:
                          A4 C1 2026-01-01, 240 min     4*125.38 + 143.29 = 501.52 + 143.29
                                                                                      =   644.81
                          A9 C4 2026-07-02, 480 min     8*125.38 + 143.29 = 1003.04 + 143.29
                                                                                      = 1,146.33
  HOTLINE-2026 85.97/h:   A6 C2 2026-03-11, corrected to 60 min                       =    85.97
  REPAIR-2026 109.85/h + 53.73:
                          A7 C3 2026-04-02, 90 min, given free
                                                        1.5*109.85 + 53.73 = 218.505  ->  218.51
                          A10 C1 2026-06-01, 60 min     109.85 + 53.73 = 163.58, billed 163.58
                                                        -> billed: no value given
  TRAINING-2026 113.43/h + 179.11 + 53.73/p:
                          A8 C3 2026-05-05, 240 min, 3p 4*113.43 + 179.11 + 3*53.73
                                                        = 453.72 + 179.11 + 161.19    =   794.02
                                                        billed 200.00 -> discounted:      594.02
C3 in 2026: 2 services, 1.5 h + 4 h = 5.5 h, 3 participants (the training's), standard cost
218.51 + 794.02 = 1,012.53, billed 200.00, value given 218.51 + 594.02 = 812.53.
C3 from 2025 to 2026: 812.53 + 1,367.95 = 2,180.48.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from orchestration.cli import main
from orchestration.lib.reports import reference
from orchestration.lib.reports.periods import Period, read_periods
from orchestration.lib.reports.statement import (
    StatementError,
    render_html,
    render_pdf,
    resolve_range,
    statement_context,
    write_statement,
)
from orchestration.lib.reports.warehouse import Warehouse
from orchestration.settings import SEEDS_DIR
from tests.cockpit_fixtures import published_warehouse

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return published_warehouse(tmp_path_factory) / "warehouse.duckdb"


def pdf_text(data: bytes) -> str:
    """The PDF's text with every run of white space (no-break spaces too) as one blank."""
    reader = PdfReader(BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def statement_text(warehouse, customer_id, lang="de", **span) -> str:
    wh = Warehouse(warehouse)
    with wh.reader() as con:
        window = resolve_range(read_periods(con), **span)
        html = render_html(statement_context(con, customer_id, window, lang,
                                             issued=date(2026, 11, 25)))
    return pdf_text(render_pdf(html))


def test_statement_of_c3_holds_the_hand_worked_sums(warehouse):
    text = statement_text(warehouse, "C3", period="2026")
    assert "Unsere Leistungen für Sie 2026 – Zwischenstand" in text
    assert "Gamma Müller & Söhne KG" in text  # the latest CRM version (German delivery)
    assert "&amp;" not in text  # the page footer's copy of the name is not HTML-escaped
    assert "Kundennummer C3" in text
    assert "01.01.2026 – 31.12.2026" in text
    # 2026 is still running: the last delivery is of 2026-11-22 (tests/e2e_fixtures.py, D3)
    assert "Leistungen bis 22.11.2026" in text
    assert ("Zwischenstand: Der Zeitraum läuft noch bis 31.12.2026. Erfasst sind unsere "
            "Leistungen bis 22.11.2026; spätere folgen mit der nächsten Übersicht.") in text
    assert "Erstellt am 25.11.2026" in text
    assert "Wert der Ihnen kostenfrei erbrachten Leistungen 812,53 €" in text
    # by type: count, hours, participants (trainings only), standard cost, billed, given
    assert "Schulungen und Seminare 1 4,0 3 794,02 € 200,00 € 594,02 €" in text
    assert "Reparaturservice 1 1,5 – 218,51 € 0,00 € 218,51 €" in text
    assert "Summe 2 5,5 3 1.012,53 € 200,00 € 812,53 €" in text
    # the most significant services, largest value given first, with date and background
    assert text.index("05.05.2026 Schulungen und Seminare Refresher course") < text.index(
        "02.04.2026 Reparaturservice Goodwill repair")
    # earlier periods: 2025 had the six-person training
    assert "2025 1 8,0 1.367,95 €" in text
    # the running period in the comparison: not a decline, a period not yet over
    assert "2026 (bis 22.11.2026, laufend) 2 5,5 812,53 €" in text


def test_statement_in_english_and_over_a_range(warehouse):
    text = statement_text(warehouse, "C3", lang="en", period="2026")
    assert "Our services to you in 2026 – interim statement" in text
    assert ("Interim statement: the period runs until 31 Dec 2026. It counts our services up "
            "to 22 Nov 2026; later ones follow in the next statement.") in text
    assert "2026 (to 22 Nov 2026, running) 2 5.5 €812.53" in text
    assert "The background notes are quoted as our staff recorded them, usually in German." in (
        text)
    assert "Value of services provided to you free of charge €812.53" in text
    assert "Trainings and seminars 1 4.0 3 €794.02 €200.00 €594.02" in text
    assert "5 May 2026 Trainings and seminars Refresher course" in text

    assert "Services up to 22 Nov 2026" in text
    complete = statement_text(warehouse, "C3", period="2025")
    # 2025 is complete: nothing to say
    for word in ("Leistungen bis", "Zwischenstand", "laufend", "background notes"):
        assert word not in complete

    both = statement_text(warehouse, "C3", start="2025", end="2026")
    assert "Unsere Leistungen für Sie vom 01.01.2025 bis 31.12.2026 – Zwischenstand" in both
    assert "Wert der Ihnen kostenfrei erbrachten Leistungen 2.180,48 €" in both


def test_a_customer_without_value_given_gets_a_statement_that_says_so(warehouse):
    # C1's only 2025 activity (A3) was billed above its standard cost
    text = statement_text(warehouse, "C1", period="2025")
    assert "Wert der Ihnen kostenfrei erbrachten Leistungen 0,00 €" in text
    assert "keine kostenlosen oder vergünstigten Leistungen" in text


# Internal figures of each customer in 2026, as the surfaces would write them (German,
# English); tests/system/test_end_to_end.py works them out: contribution margin, share of wallet,
# annual potential, potential value, classic value, and the employees of its activities.
INTERNAL_2026 = {
    "C1": {"abc": "A", "values": [("50.000", "50,000"), ("0,3 %", "0.3 %"),
                                  ("40.000.000", "40,000,000"), ("10.000.000", "10,000,000"),
                                  ("120.000", "120,000"), ("E03", "E03")]},
    "C2": {"abc": "A", "values": [("6.000", "6,000"), ("15,0 %", "15.0 %"),
                                  ("100.000", "100,000"), ("25.000", "25,000"),
                                  ("15.000", "15,000"), ("E01", "E01")]},
    "C3": {"abc": "B", "values": [("2.000", "2,000"), ("27,5 %", "27.5 %"),
                                  ("40.000", "40,000"), ("10.000", "10,000"),
                                  ("11.000", "11,000"), ("E02", "E02"), ("E03", "E03")]},
    "C4": {"abc": "C", "values": [("2.000", "2,000"), ("0,6 %", "0.6 %"),
                                  ("800.000", "800,000"), ("200.000", "200,000"),
                                  ("E03", "E03")]},
}
FORBIDDEN_WORDS = {
    "de": ("Segment", "Strategie", "ABC", "Klasse", "Deckungsbeitrag", "Marge",
           "Lieferanteil", "Potenzial", "Mitarbeiter"),
    "en": ("segment", "strategy", "ABC", "class", "margin", "share of wallet", "potential",
           "employee"),
}


def _seed() -> list[dict]:
    with open(SEEDS_DIR / "segments.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("lang", ["de", "en"])
def test_no_internal_word_or_value_in_any_segment(warehouse, lang):
    """C1 develop, C2 opportunistic, C3 renegotiate, C4 invest: one statement each."""
    wh = Warehouse(warehouse)
    with wh.reader() as con:
        segments = dict(con.execute(
            "select customer_id, segment from marts.customer_value "
            "where period_start = '2026-01-01'").fetchall())
    assert {segments[c] for c in INTERNAL_2026} == {"develop", "opportunistic", "renegotiate",
                                                   "invest"}
    # labels and strategies as the seed holds them; the codes as words of their own
    phrases = [row[col] for row in _seed() for col in (
        "segment_label_de", "segment_label_en", "strategy", "strategy_de")]
    codes = [row["segment"] for row in _seed()]
    for customer_id, internal in INTERNAL_2026.items():
        text = statement_text(warehouse, customer_id, lang=lang, period="2026")
        lowered = text.lower()
        for phrase in (*FORBIDDEN_WORDS[lang], *phrases):
            assert phrase.lower() not in lowered, (customer_id, phrase)
        for code in codes:
            assert not re.search(rf"\b{code}\b", lowered), (customer_id, code)
        for de, en in internal["values"]:
            assert (de if lang == "de" else en) not in text, (customer_id, de)
        assert not re.search(rf"\b(ABC|class|Klasse)\W+{internal['abc']}\b", text)


def test_cvm_statement_writes_pdf_and_html(warehouse, tmp_path, capsys):
    out = tmp_path / "c3.pdf"
    assert main(["statement", "C3", "--warehouse", str(warehouse), "--period", "2026",
                 "--out", str(out)]) == 0
    assert "812,53 €" in pdf_text(out.read_bytes())
    html = out.with_suffix(".html").read_text(encoding="utf-8")
    assert "Unsere Leistungen für Sie 2026 – Zwischenstand" in html and "812,53\xa0€" in html
    assert f"statement written to {out}" in capsys.readouterr().out


def test_cvm_statement_names_what_is_wrong(warehouse, tmp_path, capsys):
    assert main(["statement", "C9", "--warehouse", str(warehouse)]) == 2
    assert "customer 'C9' is not in the warehouse" in capsys.readouterr().err
    assert main(["statement", "C3", "--warehouse", str(warehouse), "--period", "2031"]) == 2
    assert "no period '2031' in the warehouse (periods: 2025, 2026)" in capsys.readouterr().err
    missing = tmp_path / "none.duckdb"
    assert main(["statement", "C3", "--warehouse", str(missing)]) == 2
    assert f"{missing}: no published warehouse" in capsys.readouterr().err


def test_range_rules():
    two = [Period(date(2025, 1, 1), date(2025, 12, 31)),
           Period(date(2026, 1, 1), date(2026, 12, 31))]
    assert resolve_range(two).period == two[1]  # no choice: the latest period
    span = resolve_range(two, start="2025-07-01", end="2026")
    assert (span.start, span.end, span.period) == (date(2025, 7, 1), date(2026, 12, 31), None)
    with pytest.raises(StatementError, match="either a period or --from/--to"):
        resolve_range(two, period="2026", start="2025")
    with pytest.raises(StatementError, match="starts .* after it ends"):
        resolve_range(two, start="2026", end="2025")
    with pytest.raises(StatementError, match="neither a period of the warehouse"):
        resolve_range(two, start="last year")


def test_write_statement_defaults_to_reports_statements(warehouse, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pdf, html = write_statement(Warehouse(warehouse), "C2", lang="en")
    assert pdf == Path("reports/statements/C2_2026_en.pdf")
    assert pdf.exists() and html.exists()
    # C2 2026: the corrected hotline call A6, 60 min at 85.97/h
    assert "€85.97" in pdf_text(pdf.read_bytes())



def test_the_catalogue_names_services_for_the_customer():
    """customer_name_de/_en of the seed: no internal label (lead-user status), the customer
    addressed as "Sie"/"you", never in the third person."""
    with open(SEEDS_DIR / "service_catalogue.csv", encoding="utf-8") as handle:
        catalogue = {row["service_type_code"]: row for row in csv.DictReader(handle)}
    for row in catalogue.values():
        for lang in ("de", "en"):
            name = row[f"customer_name_{lang}"]
            assert name and "lead-user" not in name.lower(), name
            assert "beim Kunden" not in name and "customer" not in name.lower(), name
    assert catalogue["JOINT_DEVELOPMENT"]["customer_name_de"] == "Gemeinsame Produktentwicklung"
    assert catalogue["OPTIMISATION"]["customer_name_de"] == (
        "Optimierung Ihrer Anlagen, Fernwartung inklusive")
    assert catalogue["OPTIMISATION"]["customer_name_en"] == (
        "Optimisation of your plant, remote maintenance included")


def test_the_statement_shows_the_customer_facing_names(warehouse, monkeypatch):
    """The statement takes a service's name from customer_name_de/_en, not name_de/_en."""
    wh = Warehouse(warehouse)
    with wh.reader() as con:
        catalogue = reference.service_types(con)
    marked = {code: dataclasses.replace(kind, customer_name_de=f"Für Sie: {kind.name_de}",
                                        customer_name_en=f"For you: {kind.name_en}")
              for code, kind in catalogue.items()}
    monkeypatch.setattr(reference, "service_types", lambda con: marked)
    german = statement_text(warehouse, "C3", period="2026")
    assert "Für Sie: Schulungen und Seminare 1 4,0 3 794,02 €" in german
    assert "05.05.2026 Für Sie: Schulungen und Seminare Refresher course" in german
    english = statement_text(warehouse, "C3", lang="en", period="2026")
    assert "For you: Trainings and seminars 1 4.0 3 €794.02" in english


def _written(value, lang: str, digits: int = 2) -> str:
    """A number as the surfaces write it: 1.234,56 in German, 1,234.56 in English."""
    written = f"{value:,.{digits}f}"
    return written.translate(str.maketrans(",.", ".,")) if lang == "de" else written


# the purchase model's words on the cockpit and in the export
FORECAST_WORDS = {
    "de": ("CLV", "Kundenlebenswert", "Kaufmodell", "Prognose", "noch aktiv",
           "Wahrscheinlichkeit", "Erwartete", "Erwarteter", "Kauftag", "Stichtag",
           "Kundenstamm", "BG/NBD", "Gamma-Gamma"),
    "en": ("CLV", "lifetime value", "purchase model", "forecast", "still active",
           "probability", "expected", "purchase day", "customer base", "BG/NBD",
           "Gamma-Gamma"),
}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_no_word_or_figure_of_the_purchase_model(warehouse, tmp_path, lang):
    """The forecast is internal: with a fitted model in the warehouse (tests/clv_fixtures.py),
    no statement names it or shows one of its figures."""
    import duckdb

    from tests.cockpit_fixtures import forecast_warehouse

    forecast = forecast_warehouse(warehouse.parent, tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(forecast), read_only=True)
    try:
        rows = con.execute(
            "select customer_id, clv_eur, expected_margin_eur, expected_revenue_eur, "
            "avg_margin_per_purchase_eur, p_alive, expected_purchases "
            "from marts.customer_lifetime_value").fetchall()
    finally:
        con.close()
    assert len(rows) == 5 and all(row[1] is not None for row in rows)  # a forecast each
    for customer_id, *money, p_alive, purchases in rows:
        text = statement_text(forecast, customer_id, lang=lang, period="2026")
        for word in FORECAST_WORDS[lang]:
            assert word.lower() not in text.lower(), (customer_id, word)
        figures = [_written(v, lang) for v in money] + [
            _written(float(p_alive) * 100, lang, 1) + " %", _written(purchases, lang)]
        for figure in figures:
            assert figure not in text, (customer_id, figure)
