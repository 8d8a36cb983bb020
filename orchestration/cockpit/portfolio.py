"""Page `/portfolio?period=…`: the 2x2 of classic value against value transfer, and the value
of the customer base over time."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

import numpy as np
from dash import dcc, html

from orchestration.cockpit import queries
from orchestration.cockpit.components import (
    href,
    labelled,
    param_control,
    period_dropdown,
    segment_colour,
    simple_table,
    url_dropdown,
)
from orchestration.lib.reports import reference
from orchestration.lib.reports.periods import find_period, read_periods
from orchestration.lib.reports.translations import (
    day,
    money,
    number,
    percent,
    plotly_money,
    plotly_separators,
    text,
)

# Above this many points the chart draws with WebGL; below, as SVG (every point clickable
# without a GPU).
WEBGL_FROM = 3000
SCALES = ("log", "linear")


def figure(points: dict, segments: list[reference.Segment], frame: queries.PortfolioFrame,
           scale: str, lang: str) -> dict:
    """The portfolio as a Plotly figure (plain dicts: no validation cost at 20,000 points)."""
    classic = points["classic_value_eur"].astype(float)
    transfer = points["value_transfer_eur"].astype(float)
    revenue = points["revenue_eur"].astype(float)
    potential = points["is_valued_by_potential"].astype(bool)
    log = scale == "log"
    not_positive = (classic <= 0) | (transfer <= 0)
    if log:
        # values <= 0 have no place on a log axis: they sit on its floor, drawn as "x",
        # and the tooltip gives the true value
        floor_x = (frame.classic_range[2] or 1.0) / 3
        floor_y = (frame.transfer_range[2] or 1.0) / 3
        x = np.where(classic > 0, classic, floor_x)
        y = np.where(transfer > 0, transfer, floor_y)
    else:
        x, y = classic, transfer
    symbols = np.where(log & not_positive, "x", np.where(potential, "diamond", "circle"))
    size_ref = 2.0 * max(float(revenue.max()) if revenue.size else 1.0, 1.0) / 44**2
    kind = "scattergl" if len(classic) >= WEBGL_FROM else "scatter"
    potential_note = np.where(potential, " " + text("hover_potential", lang), "")
    hover = (
        "<b>%{customdata[1]}</b> (%{customdata[0]})<br>"
        f"{text('hover_revenue', lang)}: {plotly_money('customdata[2]', lang)}<br>"
        f"{text('hover_classic', lang)}: {plotly_money('customdata[3]', lang)}"
        "%{customdata[5]}<br>"
        f"{text('hover_transfer', lang)}: {plotly_money('customdata[4]', lang)}<br>"
        "%{fullData.name}<br><i>" + text("hover_click", lang) + "</i><extra></extra>"
    )
    data = []
    for segment in segments:
        mask = points["segment"] == segment.code
        count = int(mask.sum())
        # plain Python lists: Plotly's JSON encoder takes them ~50x faster than numpy objects
        customdata = [list(row) for row in zip(
            points["customer_id"][mask].tolist(), points["customer_name"][mask].tolist(),
            revenue[mask].round(2).tolist(), classic[mask].round(2).tolist(),
            transfer[mask].round(2).tolist(), potential_note[mask].tolist(), strict=True)]
        data.append({
            "type": kind, "mode": "markers",
            "name": f"{segment.label(lang)} ({number(count, lang)})",
            "legendgroup": segment.code, "x": x[mask], "y": y[mask],
            "customdata": customdata, "hovertemplate": hover,
            "marker": {
                # Plotly hides a marker of size 0: revenue <= 0 gets the smallest bubble
                "size": np.maximum(revenue[mask], 1e-6), "sizemode": "area", "sizeref": size_ref,
                "sizemin": 5, "color": segment_colour(segment.display_order),
                "symbol": symbols[mask].tolist(), "opacity": 0.75,
                "line": {"width": 0.6, "color": "#ffffff"},
            },
        })
    for symbol, key, count in (("diamond", "legend_potential", int(potential.sum())),
                               ("x", "legend_not_positive",
                                int(not_positive.sum()) if log else 0)):
        if count:
            data.append({"type": "scatter", "mode": "markers", "x": [None], "y": [None],
                         "name": text(key, lang, n=number(count, lang)), "hoverinfo": "skip",
                         "marker": {"symbol": symbol, "size": 10, "color": "#555"}})

    shapes, annotations = [], []
    for axis, value, key in (("x", frame.classic_threshold, "threshold_classic"),
                             ("y", frame.value_transfer_threshold, "threshold_transfer")):
        if value is None:
            continue
        shown = value if not log or value > 0 else (floor_x if axis == "x" else floor_y)
        line = {"type": "line", "line": {"dash": "dash", "color": "#333", "width": 1.2}}
        if axis == "x":
            shapes.append({**line, "xref": "x", "yref": "paper", "x0": shown, "x1": shown,
                           "y0": 0, "y1": 1})
            annotations.append({"xref": "x", "yref": "paper", "x": np.log10(shown) if log
                                else shown, "y": 1.0, "yanchor": "bottom", "xanchor": "left",
                                "text": text(key, lang, value=money(value, lang, 0)),
                                "showarrow": False, "font": {"size": 11, "color": "#333"}})
        else:
            shapes.append({**line, "xref": "paper", "yref": "y", "x0": 0, "x1": 1,
                           "y0": shown, "y1": shown})
            annotations.append({"xref": "paper", "yref": "y", "x": 1.0, "xanchor": "right",
                                "y": np.log10(shown) if log else shown, "yanchor": "bottom",
                                "text": text(key, lang, value=money(value, lang, 0)),
                                "showarrow": False, "font": {"size": 11, "color": "#333"}})
    for segment in segments:  # the quadrant's label in its corner, placed by the seed's levels
        right = segment.classic_value_level == "high"
        top = segment.value_transfer_level == "high"
        # on linear axes the low side's label sits just inside the zero lines, not on them
        place = {"xref": "paper", "x": 0.995 if right else 0.005,
                 "yref": "paper", "y": 0.985 if top else 0.015}
        if not log and not right:
            place.update(xref="x", x=0.0, xshift=6)
        if not log and not top:
            place.update(yref="y", y=0.0, yshift=6)
        annotations.append({
            **place, "xanchor": "right" if right else "left",
            "yanchor": "top" if top else "bottom", "showarrow": False,
            "text": f"<b>{segment.label(lang)}</b>",
            "font": {"size": 13, "color": segment_colour(segment.display_order)},
            "bgcolor": "rgba(255,255,255,0.7)",
        })
    axis_style = {"type": scale, "gridcolor": "#e5e5e5", "zeroline": not log,
                  "tickformat": ",.0f", **({"dtick": 1} if log else {})}
    xaxis, yaxis = dict(axis_style), dict(axis_style)
    # the axes span the whole period, thresholds included, so that a filter keeps the picture
    for axis, (low, high, _), threshold in (
            (xaxis, frame.classic_range, frame.classic_threshold),
            (yaxis, frame.transfer_range, frame.value_transfer_threshold)):
        high = max(high or 0.0, threshold or 0.0, 1.0)
        if log:
            floor = floor_x if axis is xaxis else floor_y
            axis["range"] = [float(np.log10(floor / 1.6)), float(np.log10(high * 1.6))]
        else:
            low = min(low or 0.0, 0.0)
            axis["range"] = [low - 0.04 * (high - low), high + 0.04 * (high - low)]
    if log:  # the floor where values <= 0 sit gets the tick "≤ 0"
        for axis, floor, values in ((xaxis, floor_x, classic), (yaxis, floor_y, transfer)):
            if (values <= 0).any():
                decades = [10.0**k for k in range(int(np.ceil(np.log10(floor * 1.5))),
                                                  int(np.floor(axis["range"][1])) + 1)]
                axis.pop("dtick")
                axis["tickvals"] = [floor, *decades]
                axis["ticktext"] = ["≤ 0", *(number(v, lang) for v in decades)]
    return {
        "data": data,
        "layout": {
            "separators": plotly_separators(lang),
            "xaxis": {**xaxis, "title": {"text": text("axis_classic", lang)}},
            "yaxis": {**yaxis, "title": {"text": text("axis_transfer", lang)}},
            "shapes": shapes, "annotations": annotations,
            "legend": {"orientation": "h", "y": -0.14, "x": 0, "itemclick": "toggle"},
            "margin": {"l": 70, "r": 20, "t": 36, "b": 40},
            "height": 620, "plot_bgcolor": "#fbfbfb", "paper_bgcolor": "#ffffff",
            "hovermode": "closest", "clickmode": "event",
            "uirevision": "portfolio",
        },
    }


def rounded_to_total(values: list) -> list[int]:
    """Whole euros that add up to the rounded sum of the exact values (largest remainder):
    each row is its value rounded down, and the euros still missing to the total go to the
    rows with the largest fractions. No row moves by a euro or more from its exact value."""
    exact = [Decimal(str(v or 0)) for v in values]
    total = int(sum(exact, Decimal(0)).to_integral_value(rounding=ROUND_HALF_UP))
    floors = [int(v.to_integral_value(rounding=ROUND_FLOOR)) for v in exact]
    missing = total - sum(floors)
    by_fraction = sorted(range(len(exact)), key=lambda i: exact[i] - floors[i], reverse=True)
    for i in by_fraction[:missing]:
        floors[i] += 1
    return floors


NO_SEGMENT = "none"  # customer_equity's segment of customers without a row in the period
NO_SEGMENT_COLOUR = "#bdbdbd"


def _equity_segments(rows: list[queries.EquityRow], segments: list[reference.Segment],
                     lang: str) -> list[tuple[str, str, str]]:
    """(code, label, colour) of every segment in the rows: the seed's order, then the rest
    (customers without a segment last)."""
    present = {row.segment for row in rows}
    known = [(s.code, s.label(lang), segment_colour(s.display_order)) for s in segments
             if s.code in present]
    others = sorted(present - {s.code for s in segments}, key=lambda c: (c == NO_SEGMENT, c))
    return known + [(code, text("segment_none", lang) if code == NO_SEGMENT else code,
                     NO_SEGMENT_COLOUR) for code in others]


def equity_figure(rows: list[queries.EquityRow], segments: list[reference.Segment],
                  lang: str) -> dict:
    """The sum of CLV per as-of date, stacked by segment (bars: one as-of date is a bar, not
    an invisible point of a line)."""
    dates = sorted({row.as_of_date for row in rows})
    names = [day(d, lang) for d in dates]
    by_key = {(row.as_of_date, row.segment): row for row in rows}
    data = []
    for code, label, colour in _equity_segments(rows, segments, lang):
        values = [by_key.get((d, code)) for d in dates]
        data.append({
            "type": "bar", "name": label, "x": names, "marker": {"color": colour},
            "y": [None if v is None or v.clv_eur is None else float(v.clv_eur)
                  for v in values],
            "hovertemplate": "%{x}: " + plotly_money("y", lang)
                             + "<extra>%{fullData.name}</extra>",
        })
    return {
        "data": data,
        "layout": {
            "separators": plotly_separators(lang), "barmode": "relative", "height": 320,
            "margin": {"l": 90, "r": 20, "t": 10, "b": 40},
            "legend": {"orientation": "h", "y": 1.12},
            "xaxis": {"type": "category", "title": {"text": text("col_as_of", lang)}},
            "yaxis": {"title": {"text": text("equity_axis", lang)}, "tickformat": ",.0f"},
            "plot_bgcolor": "#fbfbfb",
        },
    }


def equity_section(rows: list[queries.EquityRow] | None, segments: list[reference.Segment],
                   lang: str) -> list:
    """The value of the customer base (`marts.customer_equity`): a chart over the as-of
    dates and the latest date's table; a plain sentence where the model has no value yet, or
    where the viewer does not see every customer (None: the rows are totals over all)."""
    if rows is None:
        return [html.H2(text("equity_heading", lang)),
                html.P(text("equity_restricted", lang), className="empty",
                       id="equity-restricted")]
    parts = [html.H2(text("equity_heading", lang)),
             html.P(text("equity_subtitle", lang), className="subtitle")]
    if not any(row.clv_eur is not None for row in rows):
        return [*parts, html.P(text("equity_none", lang), className="empty",
                               id="equity-none")]
    parts.append(dcc.Graph(id="equity-graph", figure=equity_figure(rows, segments, lang),
                           config={"displayModeBar": False}))
    latest = max(row.as_of_date for row in rows)
    current = {row.segment: row for row in rows if row.as_of_date == latest}
    order = _equity_segments(list(current.values()), segments, lang)
    shown = [current[code] for code, _, _ in order]
    parts.append(html.H3(text("equity_latest", lang, date=day(latest, lang)),
                         id="equity-latest"))
    if all(row.clv_eur is None for row in shown):
        parts.append(html.P(text("equity_not_fitted", lang, date=day(latest, lang)),
                            className="note warn", id="equity-not-fitted"))
    clv = rounded_to_total([row.clv_eur for row in shown])
    margin = rounded_to_total([row.expected_margin_eur for row in shown])
    customers = sum(row.customers for row in shown)
    alive = [(row.mean_p_alive, row.customers) for row in shown if row.mean_p_alive is not None]
    mean_alive = (sum(p * n for p, n in alive) / sum(n for _, n in alive)
                  if alive and sum(n for _, n in alive) else None)
    fitted = [row.clv_eur is not None for row in shown]
    table_rows = [
        [html.Span(label, className="chip", style={"borderColor": colour, "color": colour}),
         number(row.customers, lang),
         money(euros, lang, 0) if ok else "–",
         money(margin_euros, lang, 0) if row.expected_margin_eur is not None else "–",
         percent(row.mean_p_alive, lang)]
        for (_, label, colour), row, euros, margin_euros, ok in zip(
            order, shown, clv, margin, fitted, strict=True)
    ]
    parts.append(simple_table(
        [(text("col_segment", lang), "text"), (text("col_customers", lang), "num"),
         (text("col_clv", lang), "num"), (text("col_expected_margin", lang), "num"),
         (text("col_mean_p_alive", lang), "num")],
        table_rows,
        footer=[text("col_total", lang), number(customers, lang),
                money(sum(clv), lang, 0) if any(fitted) else "–",
                money(sum(margin), lang, 0) if any(fitted) else "–",
                percent(mean_alive, lang)],
        table_id="equity-summary",
    ))
    parts.append(html.P(text("segments_rounding_note", lang), className="note"))
    return parts


def layout(con, query: dict, lang: str):
    available = read_periods(con)
    period = find_period(available, query.get("period"))  # PeriodNotFound: app.render
    filters = {key: query.get(key) for key in queries.PORTFOLIO_FILTERS}
    scale = query.get("scale") if query.get("scale") in SCALES else "log"
    segments = reference.segments(con)
    frame = queries.portfolio_frame(con, period)
    points = queries.portfolio_points(con, period, filters)
    by_segment = queries.portfolio_by_segment(con, period, filters)
    equity = queries.customer_equity(con)
    shown = len(points["customer_id"])

    def options(values):
        return [{"label": v, "value": v} for v in values]

    controls = html.Div([
        period_dropdown("period", text("filter_period", lang), available, period, query,
                        lang),
        url_dropdown("manager", text("filter_manager", lang), options(frame.managers),
                     filters["manager"], lang),
        url_dropdown("region", text("filter_region", lang), options(frame.regions),
                     filters["region"], lang, width="10rem"),
        url_dropdown("industry", text("filter_industry", lang), options(frame.industries),
                     filters["industry"], lang),
        url_dropdown("segment", text("filter_segment", lang),
                     [{"label": s.label(lang), "value": s.code} for s in segments],
                     filters["segment"], lang, width="15rem"),
        labelled(text("filter_scale", lang), dcc.RadioItems(
            id=param_control("scale"), value=scale, inline=True,
            options=[{"label": text(f"scale_{s}", lang), "value": s} for s in SCALES],
        ), "14rem"),
    ], className="controls")

    not_positive = int(((points["classic_value_eur"] <= 0)
                        | (points["value_transfer_eur"] <= 0)).sum()) if shown else 0
    notes = [html.P(text("note_click", lang), className="note")]
    if scale == "log" and not_positive:
        notes.append(html.P(text("note_not_positive", lang, count=not_positive),
                            className="note warn", id="note-not-positive"))
    chart = (
        dcc.Graph(id="portfolio-graph", figure=figure(points, segments, frame, scale, lang),
                  config={"displaylogo": False, "responsive": True})
        if shown else html.P(text("no_match", lang), className="empty", id="portfolio-empty")
    )

    rows = []
    counts = [by_segment.get(s.code, (0, 0, 0))[0] for s in segments]
    # whole euros that add up: the total of the exact values, the rows rounded to match it
    revenues = rounded_to_total([by_segment.get(s.code, (0, 0, 0))[1] for s in segments])
    transfers = rounded_to_total([by_segment.get(s.code, (0, 0, 0))[2] for s in segments])
    for segment, customers, revenue, transfer in zip(segments, counts, revenues, transfers,
                                                     strict=True):
        chip = dcc.Link(segment.label(lang), className="chip",
                        style={"borderColor": segment_colour(segment.display_order),
                               "color": segment_colour(segment.display_order)},
                        href=href("/portfolio", lang, period=period.key,
                                  **{**filters, "segment": segment.code}))
        rows.append([chip, segment.advice(lang) or "–", number(customers, lang),
                     money(revenue, lang, 0), money(transfer, lang, 0)])
    summary = simple_table(
        [(text("col_segment", lang), "text"), (text("col_strategy", lang), "text"),
         (text("col_customers", lang), "num"), (text("col_revenue", lang), "num"),
         (text("col_value_transfer", lang), "num")],
        rows,
        footer=[text("col_total", lang), "", number(sum(counts), lang),
                money(sum(revenues), lang, 0), money(sum(transfers), lang, 0)],
        table_id="segment-summary",
    )
    return html.Div([
        html.H1(text("portfolio_title", lang, period=period.key), id="page-title"),
        html.P(text("portfolio_subtitle", lang), className="subtitle"),
        controls,
        html.P(text("portfolio_count", lang, shown=number(shown, lang),
                    total=number(frame.customers, lang)), className="count",
               id="portfolio-count"),
        chart,
        *notes,
        html.H2(text("segments_heading", lang)),
        summary,
        html.P(text("segments_rounding_note", lang), className="note", id="rounding-note"),
        *equity_section(equity, segments, lang),
    ])
