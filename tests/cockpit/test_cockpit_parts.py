"""The cockpit's small rules, without a browser or a warehouse: whole euros that add up, the
strategy beside its label, a customer's status, a running period's name, the history chart's
two axes, the quadrant labels of the linear view, and a forecast that is missing."""

from __future__ import annotations

from datetime import date

import numpy as np

from orchestration.cockpit import queries
from orchestration.cockpit.components import period_name
from orchestration.cockpit.customer import (
    _history_figure,
    lifetime_block,
    potential_kpi,
    status_label,
)
from orchestration.cockpit.portfolio import (
    equity_figure,
    equity_section,
    figure,
    rounded_to_total,
)
from orchestration.lib.reports.periods import Period
from orchestration.lib.reports.reference import Segment
from tests.seed_fixtures import seed_segments


def test_rows_rounded_to_whole_euros_add_up_to_the_rounded_total():
    # 644.81 + 114.63 + 812.53 + 1,146.33 = 2,718.30 -> 2,718; one by one 645 + 115 + 813 +
    # 1,146 = 2,719. Rounded down 644 + 114 + 812 + 1,146 = 2,716; the two missing euros go
    # to the largest fractions, .81 and .63.
    assert rounded_to_total([644.81, 114.63, 812.53, 1146.33]) == [645, 115, 812, 1146]
    # 0.5 + 0.5 + 0.5 = 1.5 -> 2: the first two of three equal fractions get a euro
    assert rounded_to_total([0.5, 0.5, 0.5]) == [1, 1, 0]
    # a negative row: -10.6 + 20.3 = 9.7 -> 10; floors -11 + 20 = 9, one euro to .4 (-10.6)
    assert rounded_to_total([-10.6, 20.3]) == [-10, 20]
    assert rounded_to_total([None, 3]) == [0, 3]
    assert rounded_to_total([]) == []


def _segments() -> dict[str, Segment]:
    return {s.segment: Segment(s.segment, s.display_order, s.classic_value_level,
                                       s.value_transfer_level, s.label_de, s.label_en,
                                       s.strategy, s.strategy_de)
            for s in seed_segments()}


def test_the_strategy_does_not_repeat_the_label():
    segments = _segments()
    # "Investitionskunden: Mehrwertleistungen …" beside the label "Investitionskunden"
    assert segments["invest"].advice("de") == (
        "Mehrwertleistungen schlagen sich in Kundenbindung und Folgegeschäften nieder")
    assert segments["invest"].advice("en") == (
        "Services turn into loyalty and follow-up business")
    # "serve opportunistically" is the label "Serve opportunistically" itself
    assert segments["opportunistic"].advice("en") == ""
    # a strategy that does not start with its label is shown as it is
    assert segments["renegotiate"].advice("de") == segments["renegotiate"].strategy_de


def test_status_and_running_period_in_the_reader_s_language():
    assert status_label("active", "de") == "aktiv"
    assert status_label(None, "de") == "aktiv"  # empty means active
    assert status_label("prospect", "de") == "Interessent"
    assert status_label("inactive", "en") == "inactive"
    year = Period(date(2026, 1, 1), date(2026, 12, 31))
    assert period_name(year, date(2026, 11, 23), "de") == "2026 (bis 23.11.2026)"
    assert period_name(year, date(2026, 11, 23), "en") == "2026 (to 23 Nov 2026)"
    assert period_name(year, date(2026, 12, 31), "de") == "2026"
    assert period_name(year, None, "de") == "2026"


def test_history_puts_value_transfer_on_its_own_axis():
    history = [queries.HistoryRow(Period(date(2025, 1, 1), date(2025, 12, 31)),
                                  100_000.0, 500.0, "develop", None),
               queries.HistoryRow(Period(date(2026, 1, 1), date(2026, 12, 31)),
                                  80_000.0, 700.0, "develop", "develop")]
    chart = _history_figure(history, date(2026, 11, 23), "de")
    revenue, transfer = chart["data"]
    assert revenue.get("yaxis", "y") == "y" and transfer["yaxis"] == "y2"
    assert chart["layout"]["yaxis2"]["overlaying"] == "y"
    assert transfer["x"] == ["2025", "2026 (bis 23.11.2026)"]


def test_linear_quadrant_labels_sit_inside_the_zero_lines():
    segments = list(_segments().values())
    points = {
        "customer_id": np.array(["C1", "C2"]), "customer_name": np.array(["A", "B"]),
        "classic_value_eur": np.array([100.0, -50.0]),
        "value_transfer_eur": np.array([10.0, 0.0]),
        "revenue_eur": np.array([100.0, 5.0]), "segment": np.array(["invest", "opportunistic"]),
        "is_valued_by_potential": np.array([True, False]),
    }
    frame = queries.PortfolioFrame(
        customers=2, classic_range=(-50.0, 100.0, 100.0), transfer_range=(0.0, 10.0, 10.0),
        classic_threshold=50.0, value_transfer_threshold=5.0, managers=[], regions=[],
        industries=[])
    labels = {a["text"]: a for a in figure(points, segments, frame, "linear", "en")
              ["layout"]["annotations"] if a["text"].startswith("<b>")}
    low = labels["<b>Serve opportunistically</b>"]  # low, low: at the zero lines' corner
    assert (low["xref"], low["x"], low["yref"], low["y"]) == ("x", 0.0, "y", 0.0)
    assert low["xshift"] > 0 and low["yshift"] > 0
    high = labels["<b>Investment customers</b>"]  # high, high: the plot's corner
    assert (high["xref"], high["yref"]) == ("paper", "paper")
    # the legend counts the new customers' diamonds
    names = [trace["name"] for trace in figure(points, segments, frame, "linear", "en")["data"]]
    assert "new customer, valued by potential (1)" in names


def _words(component) -> str:
    """Every text of a Dash component tree, in order, separated by blanks."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(filter(None, (_words(c) for c in component)))
    return _words(getattr(component, "children", None))


def _by_id(component, wanted: str):
    if isinstance(component, list | tuple):
        return next(filter(None, (_by_id(c, wanted) for c in component)), None)
    if getattr(component, "id", None) == wanted:
        return component
    return _by_id(getattr(component, "children", None), wanted) if hasattr(
        component, "children") else None


def test_a_forecast_that_is_missing_says_why_in_a_sentence():
    through = date(2026, 11, 22)
    # no row: the customer bought nothing
    assert _words(lifetime_block(None, through, "de")) == (
        "Für diesen Kunden gibt es keine Prognose: bis zum 22.11.2026 hat er nichts gekauft.")
    assert _words(lifetime_block(None, through, "en")) == (
        "There is no forecast for this customer: it bought nothing up to 22 Nov 2026.")
    # a row, the model not fitted: no p_alive
    row = queries.LifetimeValue(date(2026, 11, 22), 12, 3, None, None, None, None)
    assert _words(lifetime_block(row, through, "en")).startswith(
        "There is no forecast for this customer: the purchase model was not fitted as of "
        "22 Nov 2026")
    # BG/NBD fitted, Gamma-Gamma on margin not: the purchases, and a dash that says why
    row = queries.LifetimeValue(date(2026, 11, 22), 9, 1, 1.0, 0.4567, None, None)
    block = lifetime_block(row, through, "de")
    assert _words(_by_id(block, "kpi-p-alive")) == "100,0 %"
    assert _words(_by_id(block, "kpi-expected-purchases")) == "0,46"
    assert _words(_by_id(block, "kpi-clv")) == "–"
    words = _words(block)
    assert "Erwartete Kauftage (9 Monate)" in words and "bisher ein Kauftag" in words
    assert words.count("kein Wertmodell geschätzt") == 2 and "nan" not in words.lower()


def test_the_base_s_value_names_a_date_without_a_fit_and_customers_without_a_segment():
    segments = list(_segments().values())
    first, second = date(2026, 10, 31), date(2026, 11, 30)
    rows = [queries.EquityRow(first, "invest", 2, 1000.4, 1100.0, 0.5),
            queries.EquityRow(first, "none", 1, 200.4, 210.0, 1.0),
            queries.EquityRow(second, "invest", 3, None, None, None)]
    assert _words(equity_section([], segments, "en")).endswith(
        "No value of the customer base yet: the purchase model has not been fitted at any "
        "as-of date.")
    parts = equity_section(rows, segments, "en")
    words = _words(parts)
    assert "The purchase model was not fitted as of 30 Nov 2026" in words
    # the chart keeps the fitted date; customers without a segment are named so, last
    traces = equity_figure(rows, segments, "en")["data"]
    assert [t["name"] for t in traces][-1] == "no segment"
    assert traces[-1]["y"] == [200.4, None]
    assert "NaN" not in words and "nan" not in words


def _value(source: str, potential, model) -> queries.CustomerValue:
    return queries.CustomerValue(11000, 2000, 0.275, "B", 11000, False, 812.53, "renegotiate",
                                 potential, source, model)


def test_the_potential_names_its_source_and_the_model_beside_sales():
    # sales gave 40,000 a year: 10,000 for the year at a target share of 0.25; the model
    # expects 7,654.32 of the customer in the period, shown beside it
    crm = potential_kpi(_value("crm", 10000, 7654.32), "de")
    assert _words(_by_id(crm, "kpi-potential")) == "10.000,00\xa0€"
    assert _words(_by_id(crm, "kpi-potential-source")) == "vom Vertrieb (CRM)"
    assert _words(_by_id(crm, "kpi-potential-model")) == "Kaufmodell: 7.654,32\xa0€"
    # sales' number without a model: no line for the model
    assert _by_id(potential_kpi(_value("crm", 10000, None), "de"), "kpi-potential-model") is None
    model = potential_kpi(_value("model", 7654.32, 7654.32), "en")
    assert _words(_by_id(model, "kpi-potential")) == "€7,654.32"
    assert _words(_by_id(model, "kpi-potential-source")) == (
        "the purchase model's estimate; none in the CRM")
    assert _by_id(model, "kpi-potential-model") is None  # it is the value itself
    none = potential_kpi(_value("none", None, None), "de")
    assert _words(_by_id(none, "kpi-potential")) == "–"
    assert _words(_by_id(none, "kpi-potential-source")) == "weder im CRM noch vom Kaufmodell"


def test_a_viewer_who_sees_some_customers_gets_no_total_of_the_base():
    """access.py gives a restricted viewer no relation customer_equity (totals over every
    customer): the query answers None, the portfolio a sentence."""
    import duckdb

    con = duckdb.connect(":memory:")
    assert queries.customer_equity(con) is None
    con.execute("create temp table customer_equity (as_of_date date, segment text, customers int, "
                "clv_eur decimal(18, 4), expected_margin_eur decimal(18, 4), "
                "mean_p_alive double)")
    assert queries.customer_equity(con) == []
    assert _words(equity_section(None, [], "de")) == (
        "Wert des Kundenstamms Der Wert des Kundenstamms ist eine Summe über alle Kunden; er "
        "wird nur denen gezeigt, die alle Kunden sehen dürfen.")
