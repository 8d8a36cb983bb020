"""Pieces every page of the cockpit uses: links that keep the language, the frame, errors."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from dash import dcc, html

from orchestration.lib.reports.periods import Period
from orchestration.lib.reports.translations import DEFAULT_LANGUAGE, LANGUAGES, day, text

# Segment colours follow the seed's display order; no segment code is named here.
SEGMENT_PALETTE = ("#1b9e77", "#7570b3", "#d95f02", "#8c8c8c", "#e7298a", "#66a61e")


def segment_colour(display_order: int) -> str:
    return SEGMENT_PALETTE[(display_order - 1) % len(SEGMENT_PALETTE)]


def href(path: str, lang: str, **params) -> str:
    """An internal address: ``path?key=value…``, empty values dropped, ``lang`` only for
    English (German is the default), so that every page has one stable URL."""
    query = {k: v for k, v in params.items() if v not in (None, "")}
    if lang != DEFAULT_LANGUAGE:
        query["lang"] = lang
    return f"{path}?{urlencode(query)}" if query else path


def customer_path(customer_id: str, suffix: str = "") -> str:
    """`/customer/<id>`: the id quoted, so that any id makes one path segment."""
    return f"/customer/{quote(customer_id, safe='')}{suffix}"


def param_control(key: str) -> dict:
    """The id of a control whose value is part of the page's URL (see app.navigate)."""
    return {"role": "url-param", "key": key}


def labelled(label: str, control, width: str = "12rem") -> html.Div:
    return html.Div([html.Label(label, className="control-label"), control],
                    className="control", style={"width": width})


def url_dropdown(key: str, label: str, options: list[dict], value, lang: str,
                 clearable: bool = True, width: str = "12rem",
                 placeholder: str | None = None) -> html.Div:
    """A dropdown that puts its value into the URL under ``key``."""
    return labelled(label, dcc.Dropdown(
        id=param_control(key), options=options, value=value, clearable=clearable,
        placeholder=placeholder or text("filter_all", lang), searchable=True,
    ), width)


def period_name(period: Period, through, lang: str) -> str:
    """``2026 (bis 23.11.2026)`` for a period that runs past the data, else ``2025``."""
    if through is not None and period.end > through:
        return text("period_partial", lang, name=period.key, through=day(through, lang))
    return period.key


def period_dropdown(key: str, label: str, available: list, shown, query: dict,
                    lang: str) -> html.Div:
    """The period chooser. Without the period in the URL it shows the period in use as its
    placeholder, so that opening the page does not rewrite the URL and render it twice."""
    return url_dropdown(
        key, label, [{"label": p.key, "value": p.key} for p in reversed(available)],
        shown.key if query.get(key) else None, lang, clearable=False, width="8rem",
        placeholder=shown.key)


def search_box(lang: str) -> html.Div:
    """The customer search of the navigation bar.

    The text belongs to the input field alone: no callback writes it, and with
    ``debounce=True`` the field keeps what is typed in its own state instead of sending every
    keystroke through Dash's props and back (that round trip lost keys at typing speed).
    assets/search.js hands the text, after a short pause in typing, to the store
    ``customer-search-term``; the server answers with the matching customers as links in
    ``customer-results`` (app.search_customers)."""
    return html.Div([
        dcc.Input(id="customer-search", type="search", autoComplete="off", debounce=True,
                  placeholder=text("nav_search", lang), className="search-input"),
        dcc.Store(id="customer-search-term"),
        html.Div(id="customer-results", className="search-results"),
    ], className="search")


def who(viewer, lang: str) -> list:
    """The header's word on the viewer: who is signed in and a sign-out button, or that nobody
    is; for a viewer who sees only some customers, a line saying which (every total is theirs).
    """
    from orchestration.cockpit.signin import CSRF_FIELD, csrf_token, label

    if viewer is None:
        return [], None
    if not viewer.signed_in:
        return [html.Span(label("nobody", lang), id="viewer", className="viewer nobody")], None
    badge = html.Form([
        html.Span(label("signed_in_as", lang, name=viewer.name, role=viewer.role),
                  id="viewer", className="viewer"),
        # the button carries the form's CSRF token: signing out is a POST
        html.Button(label("logout", lang), type="submit", name=CSRF_FIELD,
                    value=csrf_token(), id="logout", className="logout"),
    ], method="post", action="/logout", className="viewer-form")
    if viewer.sees_all:
        return [badge], None
    parts = []
    if viewer.account_managers:
        parts.append(label("scope_manager", lang, managers=", ".join(viewer.account_managers)))
    if viewer.region:
        parts.append(label("scope_region", lang, region=viewer.region))
    note = html.Div(label("scope_managers", lang, what=" / ".join(parts)), id="scope-note",
                    className="scope-note")
    return [badge], note


def frame(content, *, lang: str, pathname: str, query: dict, as_of: str | None,
          viewer=None) -> html.Div:
    """Navigation, the viewer, the page and a footer with the data's date."""
    switch = []
    for code in LANGUAGES:
        params = {k: v for k, v in query.items() if k != "lang"}
        link = dcc.Link(code.upper(), href=href(pathname, code, **params),
                        className="lang" + (" active" if code == lang else ""),
                        id=f"lang-{code}")
        switch.append(link)
    period = query.get("period")
    badge, scope_note = who(viewer, lang)
    nav = html.Nav([
        dcc.Link(text("app_title", lang), href=href("/portfolio", lang, period=period),
                 className="brand"),
        dcc.Link(text("nav_portfolio", lang), href=href("/portfolio", lang, period=period),
                 className="nav-link", id="nav-portfolio"),
        dcc.Link(text("nav_migration", lang), href=href("/migration", lang),
                 className="nav-link", id="nav-migration"),
        search_box(lang),
        html.Div(switch, className="lang-switch"),
        *badge,
    ], className="nav")
    # the footer names the data's date only: where the file lies is the server's business
    footer = html.Footer([
        html.Span(text("data_as_of", lang, date=as_of) if as_of else "", id="data-as-of"),
        html.Span(text("read_only_note", lang)),
    ], className="footer")
    return html.Div([nav, scope_note, html.Main(content, className="page"), footer])


def error_page(title: str, hint: str | None = None, links: list | None = None) -> html.Div:
    """A clear message instead of a traceback."""
    return html.Div([
        html.H1(title, className="error-title"),
        html.P(hint) if hint else None,
        html.Div(links) if links else None,
    ], className="error-page", id="error-page")


def unknown_period(key: str, periods: list, path: str, lang: str, **params) -> html.Div:
    return error_page(
        text("error_unknown_period", lang, period=key),
        text("error_available_periods", lang),
        [dcc.Link(p.key, href=href(path, lang, period=p.key, **params), className="chip")
         for p in periods],
    )


def kpi(label: str, value, note: str | None = None, kpi_id: str | None = None) -> html.Div:
    return html.Div([
        html.Div(label, className="kpi-label"),
        html.Div(value, className="kpi-value", id=kpi_id) if kpi_id else
        html.Div(value, className="kpi-value"),
        html.Div(note, className="kpi-note") if note else None,
    ], className="kpi")


def simple_table(columns: list[tuple[str, str]], rows: list[list], footer: list | None = None,
                 table_id: str | None = None) -> html.Table:
    """A plain HTML table; ``columns`` are (title, css class: "num" or "text")."""
    head = html.Thead(html.Tr([html.Th(title, className=cls) for title, cls in columns]))
    body = html.Tbody([
        html.Tr([html.Td(cell, className=cls) for cell, (_, cls) in zip(row, columns,
                                                                        strict=True)])
        for row in rows
    ])
    parts = [head, body]
    if footer:
        parts.append(html.Tfoot(html.Tr([
            html.Td(cell, className=cls) for cell, (_, cls) in zip(footer, columns, strict=True)
        ])))
    kwargs = {"id": table_id} if table_id else {}
    return html.Table(parts, className="grid", **kwargs)
