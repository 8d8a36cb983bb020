"""Page `/migration?from=…&to=…`: customers per previous → current segment."""

from __future__ import annotations

from dash import dcc, html

from orchestration.cockpit import queries
from orchestration.cockpit.components import (
    customer_path,
    href,
    period_dropdown,
    period_name,
    segment_colour,
    simple_table,
)
from orchestration.lib.reports import reference
from orchestration.lib.reports.periods import data_through, find_period, read_periods
from orchestration.lib.reports.translations import day, money, number, text

NONE = "none"  # the URL's name for "no row in that period"


def layout(con, query: dict, lang: str):
    available = read_periods(con)
    target = find_period(available, query.get("to"))  # PeriodNotFound: app.render
    if query.get("from"):
        source = find_period(available, query.get("from"))
    else:
        earlier = [p for p in available if p.start < target.start]
        source = earlier[-1] if earlier else target
    segments = reference.segments(con)
    matrix = queries.migration_matrix(con, source, target)
    codes = [s.code for s in segments] + [None]
    label = {s.code: s.label(lang) for s in segments} | {None: text("migration_none", lang)}
    colour = {s.code: segment_colour(s.display_order) for s in segments} | {None: "#666"}

    valid = {s.code for s in segments} | {NONE}
    picked = None
    if query.get("prev") in valid and query.get("seg") in valid:
        picked = tuple(None if query[k] == NONE else query[k] for k in ("prev", "seg"))

    def cell_href(prev, seg):
        return href("/migration", lang, **{"from": source.key, "to": target.key,
                                           "prev": prev or NONE, "seg": seg or NONE})

    through = data_through(con)
    source_name, target_name = (period_name(p, through, lang) for p in (source, target))
    notes = []
    if source.start > target.start:  # backwards: say so, and offer the forward direction
        notes.append(html.P([
            text("migration_backwards", lang, start=source.key, end=target.key), " ",
            dcc.Link(text("migration_forward", lang, start=source.key, end=target.key),
                     href=href("/migration", lang, **{"from": target.key, "to": source.key}),
                     id="migration-forward"),
        ], className="note warn", id="migration-backwards"))
    notes += [html.P(text("migration_partial_note", lang, name=p.key,
                          through=day(through, lang)), className="note",
                     id=f"migration-partial-{p.key}")
              for p in {source.key: source, target.key: target}.values()
              if period_name(p, through, lang) != p.key]

    header = html.Tr(
        [html.Th(f"{source_name} ↓ / {target_name} →", className="text")]
        + [html.Th(label[c], className="num", style={"color": colour[c]}) for c in codes]
        + [html.Th(text("col_total", lang), className="num")]
    )
    body = []
    for prev in codes:
        cells = [html.Th(label[prev], className="text", style={"color": colour[prev]})]
        for seg in codes:
            count = matrix.get((prev, seg), 0)
            content = (dcc.Link(number(count, lang), href=cell_href(prev, seg),
                                id=f"cell-{prev or NONE}-{seg or NONE}")
                       if count else html.Span("·", className="muted"))
            classes = ("num cell" + (" diagonal" if prev == seg and prev else "")
                       + (" selected" if picked == (prev, seg) else ""))
            cells.append(html.Td(content, className=classes))
        row_total = sum(matrix.get((prev, seg), 0) for seg in codes)
        cells.append(html.Td(number(row_total, lang), className="num total"))
        body.append(html.Tr(cells))
    body.append(html.Tr(
        [html.Th(text("col_total", lang), className="text")]
        + [html.Td(number(sum(matrix.get((p, s), 0) for p in codes), lang),
                   className="num total") for s in codes]
        + [html.Td(number(sum(matrix.values()), lang), className="num total")]
    ))
    table = html.Table([html.Thead(header), html.Tbody(body)], className="grid matrix",
                       id="migration-matrix")

    selected = None
    if picked is not None:
        prev, seg = picked
        rows = queries.migration_customers(con, source, target, prev, seg)
        shown_period = target if seg is not None else source
        selected = html.Div([
            html.H2(text("migration_cell", lang, count=number(matrix.get((prev, seg), 0), lang),
                         start=source.key, source=label[prev], end=target.key,
                         target=label[seg])),
            simple_table(
                [(text("col_customer", lang), "text"), (text("col_customer_id", lang), "text"),
                 (f"{text('col_revenue', lang)} {target.key}", "num"),
                 (f"{text('col_value_transfer', lang)} {target.key}", "num")],
                [[dcc.Link(name or customer_id,
                           href=href(customer_path(customer_id), lang, period=shown_period.key)),
                  customer_id, money(revenue, lang, 0), money(transfer, lang, 0)]
                 for customer_id, name, revenue, transfer in rows],
                table_id="migration-customers",
            ),
        ])
    return html.Div([
        html.H1(text("migration_title", lang, start=source_name, end=target_name),
                id="page-title"),
        html.P(text("migration_subtitle", lang), className="subtitle"),
        *notes,
        html.Div([
            period_dropdown("from", text("migration_from", lang), available, source, query,
                            lang),
            period_dropdown("to", text("migration_to", lang), available, target, query, lang),
        ], className="controls"),
        table,
        selected or html.P(text("migration_pick_cell", lang), className="note"),
    ])
