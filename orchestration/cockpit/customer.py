"""Page `/customer/<id>?period=…`: one customer's values, what it will be worth, every
service, and its history."""

from __future__ import annotations

import math

from dash import dash_table, dcc, html

from orchestration.cockpit import queries
from orchestration.cockpit.components import (
    customer_path,
    error_page,
    href,
    kpi,
    labelled,
    period_dropdown,
    period_name,
    segment_colour,
    simple_table,
)
from orchestration.lib.reports import reference
from orchestration.lib.reports.periods import data_through, find_period, read_periods
from orchestration.lib.reports.translations import (
    TEXTS,
    day,
    hours,
    in_language,
    money,
    number,
    percent,
    plotly_money,
    plotly_separators,
    text,
)

PAGE_SIZE = 25
POTENTIAL_SOURCES = ("crm", "model", "none")  # customer_value.potential_source
FONT = '"DejaVu Sans", "Segoe UI", Arial, sans-serif'

# The service list's columns: (column id, title key, numeric); ids are the sort keys of
# queries.SERVICE_SORT_COLUMNS ("service" becomes service_de/service_en).
SERVICE_COLUMNS = (
    ("date", "col_date", False),
    ("service", "col_service", False),
    ("background", "col_background", False),
    ("duration", "col_duration", True),
    ("participants", "col_participants", True),
    ("employee", "col_employee", False),
    ("standard_cost", "col_standard_cost", True),
    ("rate", "col_rate", False),
    ("billed", "col_billed", True),
    ("kind", "col_kind", False),
    ("value_transfer", "col_value_transfer", True),
)


def kind_label(kind: str | None, lang: str) -> str:
    return text(f"kind_{kind or 'unpriced'}", lang)


def rate_label(rate_id: str | None, source: str | None, lang: str) -> str:
    """The rate version that priced a service, and whether it is derived from capacity."""
    if rate_id is None:
        return ""
    return rate_id if source != "derived" else f"{rate_id} ({text('rate_derived', lang)})"


def service_rows(page: queries.ServicePage, lang: str) -> list[dict]:
    """The page's activities, formatted for the table."""
    return [
        {
            "activity_id": row["activity_id"],
            "date": day(row["activity_date"], lang),
            "service": in_language(lang, de=row["service_name_de"], en=row["service_name_en"]),
            "background": row["description"] or "",
            "duration": number(row["duration_minutes"], lang),
            "participants": number(row["participants"], lang),
            "employee": row["employee_id"] or "",
            "standard_cost": money(row["standard_cost_eur"], lang),
            "rate": rate_label(row["rate_id"], row["rate_source"], lang),
            "billed": money(row["billed_amount_eur"], lang),
            "kind": kind_label(row["transfer_kind"], lang),
            "value_transfer": money(row["value_transfer_eur"], lang),
        }
        for row in page.rows
    ]


def sort_spec(sort_by: list[dict] | None, lang: str) -> list[tuple[str, bool]]:
    """DataTable's ``sort_by`` as (sort key, descending) for queries.service_page."""
    spec = []
    for item in sort_by or []:
        key = item.get("column_id")
        key = in_language(lang, de="service_de", en="service_en") if key == "service" else key
        spec.append((key, item.get("direction") == "desc"))
    return spec


def page_count(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


REVENUE_COLOUR, TRANSFER_COLOUR = "#4c78a8", "#f58518"


def status_label(status: str | None, lang: str) -> str:
    """A customer's status in the page's language (empty means active, as in the CRM)."""
    key = f"status_{(status or 'active').strip().lower()}"
    return text(key, lang) if key in TEXTS else status


def _history_figure(history: list[queries.HistoryRow], through, lang: str) -> dict:
    """Revenue as bars on the left axis, value transfer as a line on its own right axis: it
    is often a hundredth of the revenue and would vanish on one axis."""
    names = [period_name(row.period, through, lang) for row in history]
    hover = "%{x}: " + plotly_money("y", lang) + "<extra>%{fullData.name}</extra>"
    return {
        "data": [
            {"type": "bar", "x": names, "name": text("col_revenue", lang),
             "marker": {"color": REVENUE_COLOUR}, "hovertemplate": hover,
             "y": [float(row.revenue_eur) for row in history]},
            {"type": "scatter", "mode": "lines+markers", "x": names, "yaxis": "y2",
             "name": text("col_value_transfer", lang), "hovertemplate": hover,
             "line": {"color": TRANSFER_COLOUR, "width": 3}, "marker": {"size": 9},
             "y": [float(row.value_transfer_eur) for row in history]},
        ],
        "layout": {
            "separators": plotly_separators(lang), "height": 300,
            "margin": {"l": 80, "r": 80, "t": 10, "b": 30},
            "legend": {"orientation": "h", "y": 1.14},
            "yaxis": {"title": {"text": text("history_axis_revenue", lang),
                                "font": {"color": REVENUE_COLOUR}},
                      "tickformat": ",.0f", "rangemode": "tozero"},
            "yaxis2": {"title": {"text": text("history_axis_transfer", lang),
                                 "font": {"color": TRANSFER_COLOUR}},
                       "tickformat": ",.0f", "rangemode": "tozero", "overlaying": "y",
                       "tickmode": "auto",
                       "side": "right", "showgrid": False},
            "xaxis": {"type": "category"},
        },
    }


def _totals_notes(grand: queries.ServiceTotals | None, lang: str) -> list:
    """Why standard cost − billed differs from the value transfer, when it does."""
    if grand is None:
        return []
    notes = []
    for name, count, amount in (("over_billed", grand.over_billed, grand.over_billed_eur),
                                ("unpriced", grand.unpriced, grand.unpriced_billed_eur)):
        if count:
            key = f"totals_note_{name}" + ("_one" if count == 1 else "")
            notes.append(html.P(text(key, lang, count=number(count, lang),
                                     amount=money(amount, lang)),
                                className="note", id=f"note-{name.replace('_', '-')}"))
    return notes


def potential_kpi(value: queries.CustomerValue, lang: str) -> html.Div:
    """The period's potential and its source: sales' number (CRM), with the purchase model's
    estimate beside it where there is one; else the model's; else none."""
    source = value.potential_source if value.potential_source in POTENTIAL_SOURCES else "none"
    notes = [html.Div(text(f"potential_source_{source}", lang), className="kpi-note",
                      id="kpi-potential-source")]
    if source == "crm" and value.model_potential_value_eur is not None:
        notes.append(html.Div(
            text("potential_model_beside", lang,
                 amount=money(value.model_potential_value_eur, lang)),
            className="kpi-note", id="kpi-potential-model"))
    return html.Div([
        html.Div(text("kpi_potential", lang), className="kpi-label"),
        html.Div(money(value.potential_value_eur, lang), className="kpi-value",
                 id="kpi-potential"),
        *notes,
    ], className="kpi")


def lifetime_block(forecast: queries.LifetimeValue | None, through, lang: str) -> html.Div:
    """What the purchase model expects of the customer (`marts.customer_lifetime_value`), as
    of the data's end; a plain sentence where there is no forecast: no purchase (no row), or
    the model not fitted (no p_alive)."""
    if forecast is None or forecast.p_alive is None:
        key = "clv_no_purchase" if forecast is None else "clv_not_fitted"
        date = day(forecast.as_of_date if forecast else through, lang)
        return html.Div(html.P(text(key, lang, date=date), className="empty",
                               id="clv-none"), id="clv")
    months = forecast.horizon_months
    no_value = text("kpi_no_value_model", lang)
    so_far = ("kpi_purchases_so_far_one" if forecast.purchases == 1
              else "kpi_purchases_so_far")
    return html.Div([
        html.P(text("clv_subtitle", lang, date=day(forecast.as_of_date, lang), months=months),
               className="subtitle", id="clv-subtitle"),
        html.Div([
            kpi(text("kpi_clv", lang), money(forecast.clv_eur, lang),
                no_value if forecast.clv_eur is None else None, kpi_id="kpi-clv"),
            kpi(text("kpi_p_alive", lang), percent(forecast.p_alive, lang),
                kpi_id="kpi-p-alive"),
            kpi(text("kpi_expected_purchases", lang, months=months),
                number(forecast.expected_purchases, lang, digits=2),
                text(so_far, lang, count=number(forecast.purchases, lang)),
                kpi_id="kpi-expected-purchases"),
            kpi(text("kpi_expected_margin", lang, months=months),
                money(forecast.expected_margin_eur, lang),
                no_value if forecast.expected_margin_eur is None else None,
                kpi_id="kpi-expected-margin"),
        ], className="kpis clv"),
    ], id="clv")


def layout(con, customer_id: str, query: dict, lang: str):
    customer = queries.customer(con, customer_id)
    if customer is None:
        return error_page(
            text("error_unknown_customer", lang, customer_id=customer_id),
            text("error_unknown_customer_hint", lang),
            [dcc.Link(text("error_back", lang), href=href("/portfolio", lang))],
        )
    available = read_periods(con)
    period = find_period(available, query.get("period"))  # PeriodNotFound: app.render
    segments = {s.code: s for s in reference.segments(con)}
    names = reference.service_types(con)
    value = queries.customer_value(con, customer_id, period)
    totals = queries.service_totals(con, customer_id, period)
    first_page = queries.service_page(con, customer_id, period, limit=PAGE_SIZE)
    history = queries.customer_history(con, customer_id)
    forecast = queries.lifetime_value(con, customer_id)
    through = data_through(con)

    statement = customer_path(customer_id, "/statement")
    head = html.Div([
        dcc.Link(text("customer_back", lang, period=period.key),
                 href=href("/portfolio", lang, period=period.key), className="back"),
        html.H1(customer.customer_name, id="page-title"),
        html.P([
            html.Span(customer.customer_id, className="id"),
            f" · {text('customer_since', lang)} {day(customer.customer_since, lang)}",
            f" · {text('customer_status', lang)}: {status_label(customer.status, lang)}",
            f" · {text('customer_manager', lang)}: {customer.account_manager or '–'}",
            f" · {text('customer_region', lang)}: {customer.region or '–'} / "
            f"{customer.industry or '–'}",
        ], className="subtitle", id="customer-facts"),
        html.Div([
            period_dropdown("period", text("filter_period", lang), available, period, query,
                            lang),
            html.A(text("download_pdf", lang), id="download-pdf", className="button",
                   href=href(f"{statement}.pdf", lang, period=period.key)),
            html.A(text("download_html", lang), id="download-html", className="button light",
                   href=href(f"{statement}.html", lang, period=period.key), target="_blank"),
        ], className="controls"),
    ])

    if value is None:
        kpis = html.P(text("customer_no_value", lang, period=period.key), className="empty",
                      id="customer-no-value")
    else:
        segment = segments.get(value.segment)
        colour = segment_colour(segment.display_order) if segment else "#333"
        kpis = html.Div([
            kpi(text("kpi_revenue", lang), money(value.revenue_eur, lang), kpi_id="kpi-revenue"),
            kpi(text("kpi_margin", lang), money(value.contribution_margin_eur, lang),
                kpi_id="kpi-margin"),
            kpi(text("kpi_share", lang), percent(value.share_of_wallet, lang),
                text("kpi_share_no_potential", lang) if value.share_of_wallet is None
                else None, kpi_id="kpi-share"),
            kpi(text("kpi_abc", lang), value.abc_class, kpi_id="kpi-abc"),
            kpi(text("kpi_classic", lang), money(value.classic_value_eur, lang),
                text("kpi_classic_is_potential", lang) if value.is_valued_by_potential
                else None, kpi_id="kpi-classic"),
            potential_kpi(value, lang),
            kpi(text("kpi_transfer", lang), money(value.value_transfer_eur, lang),
                kpi_id="kpi-transfer"),
            html.Div([
                html.Div(text("kpi_segment", lang), className="kpi-label"),
                html.Div(segment.label(lang) if segment else value.segment,
                         className="kpi-value segment", style={"color": colour},
                         id="kpi-segment"),
                html.Div(segment.advice(lang) if segment else "", className="kpi-note",
                         id="kpi-strategy"),
            ], className="kpi wide", style={"borderTopColor": colour}),
        ], className="kpis")

    grand = totals[-1] if totals else None
    # participants are summed where they drive the cost (trainings), not for a phone call
    trained = sum(row.participants for row in totals[:-1]
                  if names[row.service_type_code].counts_participants)
    totals_table = simple_table(
        [(text("col_service", lang), "text"), (text("col_count", lang), "num"),
         (text("col_hours", lang), "num"), (text("col_participants", lang), "num"),
         (text("col_standard_cost", lang), "num"), (text("col_billed", lang), "num"),
         (text("col_value_transfer", lang), "num")],
        [[names[row.service_type_code].name(lang), number(row.activities, lang),
          hours(row.minutes, lang),
          number(row.participants, lang)
          if names[row.service_type_code].counts_participants else "–",
          money(row.standard_cost_eur, lang), money(row.billed_eur, lang),
          money(row.value_transfer_eur, lang)] for row in totals[:-1]],
        footer=[text("col_total", lang), number(grand.activities, lang),
                hours(grand.minutes, lang), number(trained, lang),
                money(grand.standard_cost_eur, lang), money(grand.billed_eur, lang),
                money(grand.value_transfer_eur, lang)] if grand else None,
        table_id="service-totals",
    )

    numeric = [c for c, _, is_num in SERVICE_COLUMNS if is_num]
    services = html.Div([
        dcc.Store(id="services-context", data={
            "customer_id": customer_id, "period": period.key, "lang": lang,
            "total": first_page.total}),
        html.Div([
            labelled(text("services_filter_type", lang), dcc.Dropdown(
                id="services-type", placeholder=text("filter_all", lang),
                options=[{"label": names[row.service_type_code].name(lang),
                          "value": row.service_type_code} for row in totals[:-1]],
            ), "20rem"),
            labelled(text("services_filter_kind", lang), dcc.Dropdown(
                id="services-kind", placeholder=text("filter_all", lang),
                options=[{"label": kind_label(k, lang), "value": k}
                         for k in (*queries.TRANSFER_KINDS, "unpriced")],
            ), "11rem"),
            labelled(text("services_filter_text", lang), dcc.Input(
                id="services-text", type="search", debounce=True, className="text-input",
            ), "16rem"),
            html.Span(text("services_count", lang, count=number(first_page.total, lang),
                           total=number(first_page.total, lang)),
                      id="services-count", className="count"),
        ], className="controls"),
        dash_table.DataTable(
            id="services-table",
            columns=[{"name": text(title, lang), "id": column}
                     for column, title, _ in SERVICE_COLUMNS],
            data=service_rows(first_page, lang),
            page_action="custom", page_current=0, page_size=PAGE_SIZE,
            page_count=page_count(first_page.total),
            sort_action="custom", sort_mode="single", sort_by=[],
            style_as_list_view=True,
            style_table={"overflowX": "auto"},
            style_header={"fontWeight": "bold", "backgroundColor": "#f3f5f7",
                          "whiteSpace": "normal"},
            style_cell={"fontFamily": FONT, "fontSize": "13px", "padding": "4px 8px",
                        "textAlign": "left", "whiteSpace": "normal", "height": "auto",
                        "maxWidth": "22rem"},
            style_cell_conditional=[
                {"if": {"column_id": c}, "textAlign": "right", "whiteSpace": "nowrap"}
                for c in numeric
            ] + [{"if": {"column_id": "date"}, "whiteSpace": "nowrap"}],
        ),
    ], id="services")

    path = []
    for row in history:
        segment = segments.get(row.segment)
        if path:
            path.append(html.Span("→", className="arrow"))
        path.append(html.Span(
            f"{period_name(row.period, through, lang)}: "
            f"{segment.label(lang) if segment else row.segment}",
            className="chip", style={"borderColor": segment_colour(segment.display_order),
                                     "color": segment_colour(segment.display_order)}
            if segment else {}))
    history_block = html.Div([
        html.Div([html.Span(text("history_path", lang) + ": ", className="kpi-label"), *path],
                 className="path", id="segment-path"),
        dcc.Graph(id="history-graph", figure=_history_figure(history, through, lang),
                  config={"displayModeBar": False}),
        simple_table(
            [(text("col_period", lang), "text"), (text("col_revenue", lang), "num"),
             (text("col_value_transfer", lang), "num"), (text("col_segment", lang), "text")],
            [[dcc.Link(period_name(row.period, through, lang),
                       href=href(customer_path(customer_id), lang, period=row.period.key)),
              money(row.revenue_eur, lang), money(row.value_transfer_eur, lang),
              segments[row.segment].label(lang) if row.segment in segments else row.segment]
             for row in history],
            table_id="history-table",
        ),
        *[html.P(text("history_partial_note", lang, name=row.period.key,
                      through=day(through, lang)), className="note", id="history-partial")
          for row in history[-1:] if period_name(row.period, through, lang) != row.period.key],
    ])

    return html.Div([
        head,
        kpis,
        html.H2(text("clv_heading", lang)),
        lifetime_block(forecast, through, lang),
        html.H2(text("totals_heading", lang, period=period.key)),
        totals_table,
        *_totals_notes(grand, lang),
        html.H2(text("services_heading", lang, period=period.key)),
        services,
        html.H2(text("history_heading", lang)),
        history_block,
    ])
