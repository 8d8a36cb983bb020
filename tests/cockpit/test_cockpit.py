"""The cockpit in a real browser: Playwright drives Debian's Chromium (no browser download).

The warehouse is the end-to-end fixture (tests/cockpit_fixtures.py). Figures worked out by
hand from the standard cost rates and the rules of docs/reference.md (see
tests/lib/reports/test_statement.py for the cost arithmetic of every activity):

2026, customer C3 (Gamma Müller & Söhne KG, the German delivery's later version):
  revenue 12,000 (O6 corrected) - 1,000 (credit note O9) = 11,000; margin (12,000 - 9,000)
  + (-1,000 - 0) = 2,000; share of wallet 11,000 / 40,000 = 27.5 %; ABC B (share before
  135,000 / 153,000 = 0.882); classic value 11,000 (not new); potential from the CRM
  40,000 * 0.25 = 10,000; value transfer 218.51 + 594.02
  = 812.53; classic 11,000 <= median 15,000 and transfer 812.53 > median 644.81: renegotiate.
  Services: A7 02.04.2026 repair 90 min, E03, 218.51, billed 0 -> free 218.51;
            A8 05.05.2026 training 240 min, 3 participants, E02, 794.02, billed 200.00
            -> discounted 594.02. Totals 2 services, 5.5 h, 1,012.53, 200.00, 812.53.
  2025: revenue 10,000, value transfer 1,367.95, renegotiate.
Segments 2026 (count, revenue, value transfer rounded to euros): develop C1 1 / 120,000 / 645;
opportunistic C2 + C5 2 / 15,000 + 2,000 = 17,000 / 85.97 + 28.66 = 115; renegotiate C3
1 / 11,000 / 813; invest C4 1 / 5,000 / 1,146.
Segments 2025: develop C1 100,000 / 0; opportunistic C2 30,000 / 42; renegotiate C3 10,000 /
1,368; invest none.
"""

from __future__ import annotations

import csv
import math
import os
import re
import shutil
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from orchestration.lib.warehouse.store import Store
from orchestration.settings import SEEDS_DIR
from tests.cockpit_fixtures import (
    CockpitServer,
    forecast_warehouse,
    published_warehouse,
)

pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def fixture_root(tmp_path_factory):
    return published_warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def server(fixture_root):
    with CockpitServer(fixture_root / "warehouse.duckdb") as running:
        yield running


@pytest.fixture(scope="module")
def forecast(fixture_root, tmp_path_factory):
    """The fixture warehouse with the purchase model's marts of a fit (tests/clv_fixtures.py)."""
    return forecast_warehouse(fixture_root, tmp_path_factory.mktemp("forecast")
                              / "warehouse.duckdb")


@pytest.fixture(scope="module")
def forecast_server(forecast):
    with CockpitServer(forecast) as running:
        yield running


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """Screenshots of every page, to look at (their folder is printed with -s)."""
    folder = tmp_path_factory.mktemp("cockpit-screenshots")
    print(f"\ncockpit screenshots in {folder}")
    return folder


def seed_segments() -> dict[str, dict]:
    with open(SEEDS_DIR / "segments.csv", encoding="utf-8") as handle:
        return {row["segment"]: row for row in csv.DictReader(handle)}


def clean(value: str) -> str:
    return re.sub(r"\s+", " ", value.replace("\xa0", " ")).strip()


def table_rows(page, selector: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"{selector} tbody tr, {selector} tfoot tr",
        "rows => rows.map(r => Array.from(r.children).map(c => c.innerText))",
    )


def service_rows(page) -> list[list[str]]:
    return page.eval_on_selector_all(
        "#services-table tr:has(td.dash-cell)",
        "rows => rows.map(r => Array.from(r.querySelectorAll('td.dash-cell'))"
        ".map(c => c.innerText))",
    )


def pick(page, control_key: str, option: str) -> None:
    """Choose ``option`` in the dropdown whose URL parameter is ``control_key``."""
    page.locator(f'[id*=\'"key":"{control_key}"\']').first.click()
    page.locator(".dash-dropdown-option", has_text=option).first.click()


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#page-title, #error-page")


def test_portfolio_click_a_bubble_to_reach_the_customer(page, server, shots):
    labels = {code: row["segment_label_de"] for code, row in seed_segments().items()}
    open_page(page, f"{server.url}/portfolio?period=2026")
    assert page.inner_text("#page-title") == "Kundenportfolio 2026"
    assert clean(page.inner_text("#portfolio-count")) == "5 von 5 Kunden des Zeitraums"
    table = table_rows(page, "#segment-summary")
    rows = {clean(r[0]): [clean(c) for c in r[2:]] for r in table}
    assert rows == {
        labels["invest"]: ["1", "5.000 €", "1.146 €"],
        labels["develop"]: ["1", "120.000 €", "645 €"],
        labels["renegotiate"]: ["1", "11.000 €", "812 €"],
        labels["opportunistic"]: ["2", "17.000 €", "115 €"],
        # 644.81 + 114.63 + 812.53 + 1,146.33 = 2,718.30 -> 2,718. Each row rounded on its
        # own would add up to 2,719; rounded down they make 2,716, and the two euros missing
        # go to the largest fractions, .81 (develop) and .63 (opportunistic).
        "Summe": ["5", "153.000 €", "2.718 €"],
    }
    assert "die Zeilen sind so gerundet, dass sie diese Summe ergeben" in page.inner_text(
        "#rounding-note")
    # the strategy beside its label, without repeating the label (seed: "Investitionskunden:
    # Mehrwertleistungen …", "opportunistisch betreuen: nicht wie ein König …")
    strategies = {clean(r[0]): clean(r[1]) for r in table}
    assert strategies[labels["invest"]] == (
        "Mehrwertleistungen schlagen sich in Kundenbindung und Folgegeschäften nieder")
    assert strategies[labels["opportunistic"]] == (
        "Nicht wie ein König beschenkt und nicht wie ein König behandelt")
    page.wait_for_selector("#portfolio-graph .scatterlayer .trace path.point")
    # C4 and C5 are new and valued by their potential (800,000 and 20,000 times 0.25, above
    # their revenue 5,000 and 2,000): two diamonds
    assert "Neukunde, nach Potenzial bewertet (2)" in page.locator(
        "#portfolio-graph .legendtext").all_text_contents()
    footer = clean(page.inner_text("footer"))
    assert footer == "Datenstand 22.11.2026 nur lesend"  # no path of the server's files
    assert clean(page.inner_text("#equity-none")) == (
        "Noch kein Wert des Kundenstamms: das Kaufmodell wurde noch zu keinem Stichtag "
        "geschätzt.")
    page.screenshot(path=shots / "portfolio-de.png", full_page=True)
    # traces follow the seed's display order: the third is renegotiate, C3 its only point
    order = sorted(seed_segments().values(), key=lambda r: int(r["display_order"]))
    index = [r["segment"] for r in order].index("renegotiate")
    point = page.locator("#portfolio-graph .scatterlayer .trace").nth(index).locator(
        "path.point").first
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(".hoverlayer .hovertext")
    assert "Gamma Müller & Söhne KG (C3)" in clean(page.text_content(".hoverlayer"))
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(r"/customer/C3\?period=2026$"))
    expect(page.locator("#page-title")).to_have_text("Gamma Müller & Söhne KG")


def test_customer_cockpit_shows_the_hand_worked_figures(page, server, shots):
    segment = seed_segments()["renegotiate"]
    open_page(page, f"{server.url}/customer/C3?period=2026")
    assert "Status: aktiv" in clean(page.inner_text("#customer-facts"))
    kpis = {key: clean(page.inner_text(f"#kpi-{key}")) for key in (
        "revenue", "margin", "share", "abc", "classic", "potential", "potential-source",
        "transfer", "segment", "strategy")}
    assert kpis == {
        "revenue": "11.000,00 €", "margin": "2.000,00 €", "share": "27,5 %", "abc": "B",
        "classic": "11.000,00 €", "potential": "10.000,00 €",
        "potential-source": "vom Vertrieb (CRM)", "transfer": "812,53 €",
        "segment": segment["segment_label_de"], "strategy": segment["strategy_de"],
    }
    # the purchase model is not fitted on five customers: no estimate beside sales' number
    assert page.locator("#kpi-potential-model").count() == 0
    assert [[clean(c) for c in r] for r in table_rows(page, "#service-totals")] == [
        ["Schulungen und Seminare", "1", "4,0", "3", "794,02 €", "200,00 €", "594,02 €"],
        ["Reparaturservice", "1", "1,5", "–", "218,51 €", "0,00 €", "218,51 €"],
        ["Summe", "2", "5,5", "3", "1.012,53 €", "200,00 €", "812,53 €"],
    ]
    # each service with the rate version that priced it
    a8 = ["05.05.2026", "Schulungen und Seminare", "Refresher course", "240", "3", "E02",
          "794,02 €", "TRAINING-2026", "200,00 €", "vergünstigt", "594,02 €"]
    a7 = ["02.04.2026", "Reparaturservice", "Goodwill repair", "90", "1", "E03", "218,51 €",
          "REPAIR-2026", "0,00 €", "kostenlos", "218,51 €"]
    assert [[clean(c) for c in r] for r in service_rows(page)] == [a8, a7]  # newest first
    assert clean(page.inner_text("#services-count")) == "2 von 2 Leistungen"
    history = [[clean(c) for c in r] for r in table_rows(page, "#history-table")]
    # the data reach 22.11.2026: 2026 is still running, and says so
    assert history == [
        ["2025", "10.000,00 €", "1.367,95 €", segment["segment_label_de"]],
        ["2026 (bis 22.11.2026)", "11.000,00 €", "812,53 €", segment["segment_label_de"]],
    ]
    assert clean(page.inner_text("#history-partial")).startswith(
        "2026 läuft noch: Daten bis 22.11.2026.")
    # revenue (11,000) and value transfer (812.53) each on its own axis
    page.wait_for_selector("#history-graph .y2tick")
    assert page.locator("#note-over-billed").count() == 0  # A8 billed 200 of 794.02
    # five customers are too few to fit the purchase model: a sentence, no empty figures
    assert clean(page.inner_text("#clv")) == (
        "Für diesen Kunden gibt es keine Prognose: das Kaufmodell wurde zum 22.11.2026 nicht "
        "geschätzt (zu wenige Kunden mit Käufen, oder die Schätzung kam zu keinem Ergebnis).")
    assert "NaN" not in page.inner_text("body")
    page.screenshot(path=shots / "customer-de.png", full_page=True)

    # sort by standard cost, ascending: the repair (218.51) before the training (794.02)
    page.locator("#services-table th.dash-header", has_text="Standardkosten").locator(
        ".column-header--sort").click()
    page.wait_for_function(
        "() => document.querySelector('#services-table td.dash-cell').innerText"
        " === '02.04.2026'")
    assert [clean(r[0]) for r in service_rows(page)] == ["02.04.2026", "05.05.2026"]
    # filter: only discounted services
    page.locator("#services-kind").click()
    page.locator(".dash-dropdown-option", has_text="vergünstigt").click()
    page.wait_for_function(
        "() => document.querySelector('#services-count').innerText.startsWith('1 ')")
    assert [[clean(c) for c in r] for r in service_rows(page)] == [a8]
    page.locator("#services-kind .dash-dropdown-clear, #services-kind ~ * .dash-dropdown-clear"
                 ).first.click()
    page.wait_for_function(
        "() => document.querySelector('#services-count').innerText.startsWith('2 ')")
    # search the background: only the goodwill repair is left
    page.fill("#services-text", "goodwill")
    page.press("#services-text", "Enter")
    page.wait_for_function(
        "() => document.querySelectorAll('#services-table tr:has(td.dash-cell)').length === 1"
        " && document.querySelector('#services-table td.dash-cell').innerText"
        " === '02.04.2026'")
    assert [[clean(c) for c in r] for r in service_rows(page)] == [a7]


def test_switch_the_language(page, server, shots):
    segment = seed_segments()["renegotiate"]
    open_page(page, f"{server.url}/customer/C3?period=2026")
    page.click("#lang-en")
    page.wait_for_url(re.compile(r"/customer/C3\?period=2026&lang=en$"))
    page.wait_for_selector("text=Every service in 2026")
    expect(page.locator("#kpi-revenue")).to_have_text("€11,000.00")
    assert clean(page.inner_text("#kpi-revenue")) == "€11,000.00"
    assert clean(page.inner_text("#kpi-segment")) == segment["segment_label_en"]
    assert clean(page.inner_text("#kpi-strategy")) == segment["strategy"]
    assert clean(page.inner_text("#kpi-potential-source")) == "from sales (CRM)"
    assert [clean(r[0]) for r in table_rows(page, "#service-totals")] == [
        "Trainings and seminars", "Repair service", "Total"]  # names from the catalogue
    assert clean(service_rows(page)[0][0]) == "5 May 2026"
    page.screenshot(path=shots / "customer-en.png", full_page=True)
    page.click("#nav-portfolio")
    page.wait_for_url(re.compile(r"/portfolio\?period=2026&lang=en$"))
    expect(page.locator("#page-title")).to_have_text("Customer portfolio 2026")
    page.click("#lang-de")
    page.wait_for_url(re.compile(r"/portfolio\?period=2026$"))
    expect(page.locator("#page-title")).to_have_text("Kundenportfolio 2026")


def marts(warehouse, sql: str) -> list[dict]:
    """Rows of the warehouse's marts, read with DuckDB beside the cockpit."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach '{warehouse}' as w (read_only)")
        con.execute("use w")
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def shown_number(value, lang: str, digits: int = 2) -> str:
    """A number as the page writes it: 1.234,56 in German, 1,234.56 in English."""
    written = f"{value:,.{digits}f}"
    return written.translate(str.maketrans(",.", ".,")) if lang == "de" else written


def shown_money(value, lang: str, digits: int = 2) -> str:
    amount = shown_number(value, lang, digits)
    return f"{amount} €" if lang == "de" else f"€{amount}"


def shown_percent(value, lang: str) -> str:
    return f"{shown_number(float(value) * 100, lang, 1)} %"


@pytest.mark.parametrize("lang", ["de", "en"])
def test_customer_forecast_from_the_purchase_model(page, forecast_server, forecast, shots,
                                                   lang):
    """C3 (two repeat purchase days) and C5 (none: still active with probability 1), each
    figure as marts.customer_lifetime_value holds it."""
    rows = {row["customer_id"]: row for row in marts(
        forecast, "select * from marts.customer_lifetime_value")}
    words = {"de": ("Prognose des Kaufmodells zum 22.11.2026 für die nächsten 12 Monate",
                    "Erwartete Kauftage (12 Monate)", "Erwarteter Deckungsbeitrag (12 Monate)",
                    "bisher {n} Kauftage", "bisher ein Kauftag"),
             "en": ("The purchase model's forecast as of 22 Nov 2026 for the next 12 months",
                    "Expected purchase days (12 months)",
                    "Expected contribution margin (12 months)", "{n} purchase days so far",
                    "one purchase day so far")}[lang]
    for customer_id in ("C3", "C5"):
        row = rows[customer_id]
        assert (row["as_of_date"].isoformat(), row["horizon_months"]) == ("2026-11-22", 12)
        query = "?period=2026" + ("&lang=en" if lang == "en" else "")
        open_page(page, f"{forecast_server.url}/customer/{customer_id}{query}")
        assert clean(page.inner_text("#clv-subtitle")).startswith(words[0])
        assert clean(page.inner_text("#kpi-clv")) == shown_money(row["clv_eur"], lang)
        assert clean(page.inner_text("#kpi-p-alive")) == shown_percent(row["p_alive"], lang)
        assert clean(page.inner_text("#kpi-expected-purchases")) == shown_number(
            row["expected_purchases"], lang)
        assert clean(page.inner_text("#kpi-expected-margin")) == shown_money(
            row["expected_margin_eur"], lang)
        block = clean(page.inner_text("#clv"))
        assert words[1] in block and words[2] in block
        so_far = words[4] if row["purchases"] == 1 else words[3].format(n=row["purchases"])
        assert so_far in block
        assert "NaN" not in page.inner_text("body")
        if customer_id == "C5":
            assert row["frequency"] == 0 and row["p_alive"] == 1.0
            assert clean(page.inner_text("#kpi-p-alive")) == shown_percent(1, lang)
        else:
            page.screenshot(path=shots / f"customer-forecast-{lang}.png", full_page=True)


def whole_euros(amounts: list) -> list[int]:
    """Whole euros that add up to the rounded total (the portfolio's note): each amount
    rounded down, the euros missing to the total to the largest fractions."""
    total = int(sum(amounts).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    floors = [math.floor(a) for a in amounts]
    largest = sorted(range(len(amounts)), key=lambda i: amounts[i] - floors[i], reverse=True)
    for i in largest[:total - sum(floors)]:
        floors[i] += 1
    return floors


@pytest.mark.parametrize("lang", ["de", "en"])
def test_portfolio_shows_the_value_of_the_base_over_time(page, forecast_server, forecast,
                                                         shots, lang):
    labels = {code: row[f"segment_label_{lang}"] for code, row in seed_segments().items()}
    equity = marts(forecast, "select * from marts.customer_equity order by as_of_date")
    # two earlier as-of dates (tests/clv_fixtures.py) and this load's, 22.11.2026
    dates = sorted({row["as_of_date"] for row in equity})
    assert [d.isoformat() for d in dates] == ["2026-09-30", "2026-10-31", "2026-11-22"]
    open_page(page, f"{forecast_server.url}/portfolio?period=2026"
                    + ("&lang=en" if lang == "en" else ""))
    page.wait_for_selector("#equity-graph .barlayer .trace")
    # the chart: per segment, the sum of CLV at each as-of date
    drawn = page.evaluate("""() => document.querySelector('#equity-graph .js-plotly-plot')
        .data.map(t => [t.name, t.x, t.y])""")
    if lang == "de":
        expected = {}
        for row in equity:
            expected.setdefault(labels[row["segment"]], {})[
                row["as_of_date"].strftime("%d.%m.%Y")] = pytest.approx(float(row["clv_eur"]))
        assert {name: {x: y for x, y in zip(xs, ys, strict=True) if y is not None}
                for name, xs, ys in drawn} == expected
    # traces in the seed's display order
    order = [r["segment"] for r in sorted(seed_segments().values(),
                                          key=lambda r: int(r["display_order"]))]
    present = {row["segment"] for row in equity}
    assert [name for name, _, _ in drawn] == [labels[c] for c in order if c in present]
    # the latest as-of date's table: customers, CLV and expected margin in whole euros,
    # mean p_alive; the total's mean weighs each segment by its customers
    latest = [row for row in equity if row["as_of_date"] == dates[-1]]
    table = {clean(r[0]): [clean(c) for c in r[1:]] for r in table_rows(page, "#equity-summary")}
    clv = whole_euros([row["clv_eur"] for row in latest])
    margin = whole_euros([row["expected_margin_eur"] for row in latest])
    customers = sum(row["customers"] for row in latest)
    mean_alive = sum(row["mean_p_alive"] * row["customers"] for row in latest) / customers
    total = "Summe" if lang == "de" else "Total"
    assert table == {
        **{labels[row["segment"]]: [str(row["customers"]), shown_money(c, lang, 0),
                                    shown_money(m, lang, 0),
                                    shown_percent(row["mean_p_alive"], lang)]
           for row, c, m in zip(latest, clv, margin, strict=True)},
        total: [str(customers), shown_money(sum(clv), lang, 0), shown_money(sum(margin), lang, 0),
                shown_percent(mean_alive, lang)],
    }
    heading = "Stand 22.11.2026" if lang == "de" else "As of 22 Nov 2026"
    assert clean(page.inner_text("#equity-latest")) == heading
    page.locator("#equity-graph").scroll_into_view_if_needed()
    page.screenshot(path=shots / f"portfolio-equity-{lang}.png", full_page=True)


# What the search finds, by hand from the names of tests/e2e_fixtures.py (ids or names
# containing the text, case-insensitive, ordered by name). A lost key finds something else or
# nothing: "GbH" and "Mller" match no customer, "Anagen" none either.
SEARCHES = {
    "GmbH": ["Alpha Maschinenbau GmbH (C1)", "Delta Neu GmbH (C4)",
             "Epsilon Start-up GmbH (C5)"],
    "Müller": ["Gamma Müller & Söhne KG (C3)"],
    "Anlagen": ["Beta Anlagen AG (C2)"],
}


def test_search_keeps_every_keystroke_at_typing_speed(page, server):
    """A person types about 8 keys a second: 120 ms a key, on a freshly opened page, ten
    times over (the lost key happened about once in ten)."""
    for attempt in range(10):
        for word, expected in SEARCHES.items():
            open_page(page, f"{server.url}/portfolio?period=2026")
            page.click("#customer-search")
            page.keyboard.type(word, delay=120)
            typed = page.evaluate("() => document.activeElement.value")
            assert typed == word, f"attempt {attempt + 1}: {word!r} arrived as {typed!r}"
            page.wait_for_function(
                "n => document.querySelectorAll('#customer-results a.search-hit').length === n",
                arg=len(expected))
            assert [clean(t) for t in page.locator("#customer-results a.search-hit")
                    .all_inner_texts()] == expected, f"attempt {attempt + 1}: {word!r}"
    # Enter opens the first customer found, in the period shown
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/customer/C2\?period=2026$"))
    expect(page.locator("#page-title")).to_have_text("Beta Anlagen AG")
    # nothing found says so, in the page's language
    open_page(page, f"{server.url}/portfolio?lang=en")
    page.click("#customer-search")
    page.keyboard.type("Zeta", delay=120)
    expect(page.locator("#customer-results")).to_have_text("No customer matches “Zeta”")


def test_filter_a_period_and_the_portfolio(page, server):
    labels = {code: row["segment_label_de"] for code, row in seed_segments().items()}
    open_page(page, f"{server.url}/portfolio?period=2026")
    pick(page, "period", "2025")
    page.wait_for_url(re.compile(r"/portfolio\?period=2025$"))
    page.wait_for_selector("text=Kundenportfolio 2025")
    assert clean(page.inner_text("#portfolio-count")) == "3 von 3 Kunden des Zeitraums"
    rows = {clean(r[0]): [clean(c) for c in r[2:]] for r in table_rows(page, "#segment-summary")}
    assert rows[labels["develop"]] == ["1", "100.000 €", "0 €"]
    assert rows[labels["opportunistic"]] == ["1", "30.000 €", "42 €"]
    assert rows[labels["renegotiate"]] == ["1", "10.000 €", "1.368 €"]
    assert rows[labels["invest"]] == ["0", "0 €", "0 €"]
    # account manager AM01 looks after C1 and C3
    pick(page, "manager", "AM01")
    page.wait_for_url(re.compile(r"/portfolio\?period=2025&manager=AM01$"))
    page.wait_for_selector("text=2 von 3 Kunden des Zeitraums")


def test_migration_matrix_links_to_its_customers(page, server, shots):
    labels = {code: row["segment_label_de"] for code, row in seed_segments().items()}
    open_page(page, f"{server.url}/migration?from=2025&to=2026")
    # 2025 -> 2026: C1 develop -> develop, C2 opportunistic -> opportunistic, C3 renegotiate
    # -> renegotiate; C4 (invest) and C5 (opportunistic) had no 2025 row
    assert page.inner_text("#cell-develop-develop") == "1"
    assert page.inner_text("#cell-none-invest") == "1"
    assert page.inner_text("#cell-none-opportunistic") == "1"
    assert page.locator("[id^=cell-]").count() == 5
    page.click("#cell-none-invest")
    page.wait_for_url(re.compile(r"/migration\?from=2025&to=2026&prev=none&seg=invest$"))
    page.wait_for_selector("#migration-customers")
    assert labels["invest"] in page.inner_text("h2")
    page.screenshot(path=shots / "migration-de.png", full_page=True)
    page.click("#migration-customers a")
    page.wait_for_url(re.compile(r"/customer/C4\?period=2026$"))
    expect(page.locator("#page-title")).to_have_text("Delta Neu GmbH")
    # C4 is new (since 2026-06-01): valued by its potential 800,000 * 0.25 = 200,000
    assert clean(page.inner_text("#kpi-classic")) == "200.000,00 €"
    assert "Potenzial" in page.inner_text(".kpis")


def test_over_billed_services_are_explained(page, server):
    # C1 2025: A3, a repair of 120 min, 2 * 106.65 + 52.17 = 265.47 at standard cost, billed
    # 300.00: 34.53 above its cost, so its value transfer is 0, not -34.53
    open_page(page, f"{server.url}/customer/C1?period=2025")
    assert [[clean(c) for c in r] for r in table_rows(page, "#service-totals")][-1] == [
        "Summe", "1", "2,0", "0", "265,47 €", "300,00 €", "0,00 €"]
    assert clean(page.inner_text("#note-over-billed")) == (
        "Wertetransfer je Leistung = Standardkosten − Berechnet, nie unter 0 €: eine Leistung "
        "wurde über ihren Standardkosten berechnet (34,53 € darüber) und zählt mit 0 €.")


def test_backwards_migration_says_so(page, server):
    open_page(page, f"{server.url}/migration?from=2026&to=2025&lang=en")
    assert clean(page.inner_text("#page-title")) == (
        "Segment migration 2026 (to 22 Nov 2026) → 2025")
    assert clean(page.inner_text("#migration-backwards")).startswith(
        "Backwards: 2026 comes after 2025.")
    assert clean(page.inner_text("#migration-partial-2026")).startswith(
        "2026 is still running: data to 22 Nov 2026.")
    page.click("#migration-forward")
    page.wait_for_url(re.compile(r"/migration\?from=2025&to=2026&lang=en$"))
    page.wait_for_selector("text=Segment migration 2025 → 2026 (to 22 Nov 2026)")
    assert page.locator("#migration-backwards").count() == 0


def test_clear_pages_for_unknown_customers_periods_and_paths(page, server, tmp_path):
    assert page.goto(f"{server.url}/customer/C3?period=2026").status == 200
    assert page.goto(f"{server.url}/customer/C99?period=2026").status == 404
    page.wait_for_selector("#page-title, #error-page")
    assert page.inner_text("#error-page h1") == "Kunde C99 ist unbekannt"
    assert page.goto(f"{server.url}/portfolio?period=2031").status == 404
    page.wait_for_selector("#page-title, #error-page")
    assert page.inner_text("#error-page h1") == "Für den Zeitraum 2031 liegen keine Daten vor"
    assert page.locator("#error-page a").all_inner_texts() == ["2025", "2026"]
    assert page.goto(f"{server.url}/migration?from=2025&to=2031").status == 404
    assert page.goto(f"{server.url}/nowhere?lang=en").status == 404
    page.wait_for_selector("#page-title, #error-page")
    assert page.inner_text("#error-page h1") == "This page does not exist"
    with CockpitServer(tmp_path / "missing.duckdb") as empty:
        assert page.goto(f"{empty.url}/portfolio").status == 503
        page.wait_for_selector("#page-title, #error-page")
        assert page.inner_text("#error-page h1") == "Kein veröffentlichtes Warehouse gefunden"
        hint = page.inner_text("#error-page p")
        assert hint == ("Auf dem Server ist noch kein Warehouse veröffentlicht. Der Befehl "
                        "„cvm load“ veröffentlicht es; danach genügt ein Neuladen dieser Seite.")
        assert "`" not in hint and str(tmp_path) not in page.inner_text("body")
        refused = page.request.get(f"{empty.url}/customer/C3/statement.pdf?lang=en")
        assert refused.status == 503
        assert refused.text().startswith("No published warehouse found\n")


def test_download_the_statement_from_the_cockpit(page, server, shots):
    open_page(page, f"{server.url}/customer/C3?period=2026")
    with page.expect_download() as download:
        page.click("#download-pdf")
    assert download.value.suggested_filename == "C3_2026_de.pdf"
    path = shots / "statement-C3.pdf"
    download.value.save_as(path)
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(path.read_bytes())).pages)
    assert "812,53 €" in clean(text)
    html = page.request.get(f"{server.url}/customer/C3/statement.html?period=2026&lang=en")
    assert html.ok and "Our services to you in 2026" in html.text()
    # refusals in the language asked for
    unknown = page.request.get(f"{server.url}/customer/C99/statement.pdf")
    assert (unknown.status, unknown.text()) == (404, "Kunde C99 ist unbekannt\n")
    unknown = page.request.get(f"{server.url}/customer/C99/statement.pdf?lang=en")
    assert (unknown.status, unknown.text()) == (404, "Customer C99 is unknown\n")
    no_period = page.request.get(f"{server.url}/customer/C3/statement.html?period=2031")
    assert (no_period.status, no_period.text()) == (
        404, "Für den Zeitraum 2031 liegen keine Daten vor\nVerfügbare Zeiträume: 2025, 2026\n")
    bad_range = page.request.get(
        f"{server.url}/customer/C3/statement.pdf?from=soon&lang=en")
    assert bad_range.status == 404 and bad_range.text().startswith("There is no such range")


def _fourth_delivery(landing):
    """A CRM snapshot in which C2 is renamed (a later updated_at)."""
    folder = landing / "2026-11-23"
    folder.mkdir()
    text = (landing / "2026-11-22" / "customers.csv").read_text(encoding="utf-8")
    renamed = text.replace("C2,Beta Anlagen AG,", "C2,Beta Anlagen SE,").replace(
        "2026-11-19T08:00:00\nC3", "2026-11-23T08:00:00\nC3", 1)
    assert "Beta Anlagen SE" in renamed and renamed != text
    (folder / "customers.csv").write_text(renamed, encoding="utf-8")


def test_keeps_working_while_cvm_load_publishes(page, fixture_root, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(fixture_root / "landing", landing)
    warehouse = tmp_path / "warehouse.duckdb"
    # the published catalog and its store of files
    shutil.copytree(Store(fixture_root / "warehouse.duckdb", "duckdb").root,
                    Store(warehouse, "duckdb").root)
    shutil.copyfile(fixture_root / "warehouse.duckdb", warehouse)
    _fourth_delivery(landing)
    with CockpitServer(warehouse) as cockpit:
        open_page(page, f"{cockpit.url}/customer/C2?period=2026")
        assert page.inner_text("#page-title") == "Beta Anlagen AG"
        # a throw-away Dagster instance, as `cvm load` makes without $DAGSTER_HOME
        env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
        load = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "load", "--landing", str(landing),
             "--warehouse", str(warehouse)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        pages = 0
        deadline = time.monotonic() + 300
        while load.poll() is None and time.monotonic() < deadline:
            for url in ("/portfolio?period=2026", "/customer/C2?period=2026"):
                open_page(page, cockpit.url + url)
                assert page.locator("#error-page").count() == 0
                pages += 1
            page.wait_for_timeout(1000)  # a person's pace: leave the two cores to the load
        output = load.communicate(timeout=60)[0]
        assert load.returncode == 0, output
        assert "published" in output and pages >= 2
        # the next request reads the new version: no restart
        open_page(page, f"{cockpit.url}/customer/C2?period=2026")
        assert page.inner_text("#page-title") == "Beta Anlagen SE"
