"""The sales cockpit: a Dash app on the published warehouse, strictly read-only.

Pages (each a stable URL that a CRM can link to; ``&lang=en`` for English):
  /portfolio?period=2026                  the 2x2 portfolio of a period
  /customer/<customer_id>?period=2026     one customer's cockpit
  /migration?from=2025&to=2026            previous → current segment
  /customer/<customer_id>/statement.pdf   the customer's value statement (also .html)
  /login, /logout, /audit, /audit.csv     sign-in and the audit trail (signin.py)

Every request reads the file through :class:`Warehouse`, which attaches each published
version read-only, so `cvm load` can publish at any time and the next request shows it, and
through access.reader, which shows the signed-in viewer only the customers in their scope: a
customer outside it is "not found" (404) on the page, the statement and every callback, and
the refusal goes to the audit trail.
"""

from __future__ import annotations

import logging
import re
from html import escape
from pathlib import Path
from urllib.parse import parse_qsl, unquote

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from flask import Response, abort, request

from orchestration.cockpit import access, customer, migration, portfolio, queries
from orchestration.cockpit.audit import AuditTrail
from orchestration.cockpit.components import (
    customer_path,
    error_page,
    frame,
    href,
    unknown_period,
)
from orchestration.cockpit.signin import client_address, current_viewer, plain_page
from orchestration.lib.reports.periods import (
    PeriodNotFound,
    data_through,
    find_period,
    read_periods,
)
from orchestration.lib.reports.translations import day, language, number, text
from orchestration.lib.reports.warehouse import Warehouse, WarehouseMissing, WarehouseUnreadable

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
CUSTOMER_PATH = re.compile(r"^/customer/([^/]+)/?$")
log = logging.getLogger(__name__)


def parse_query(search: str | None) -> dict[str, str]:
    """``?a=1&b=2`` as a dict; the last value wins when a key repeats."""
    return dict(parse_qsl((search or "").lstrip("?"), keep_blank_values=False))


def audit(event: str, customer_id: str | None = None, period: str | None = None,
          detail: str = "") -> None:
    """An entry of the audit trail for the current request's viewer (when there is a trail)."""
    from flask import current_app, has_request_context

    if not has_request_context():
        return
    trail: AuditTrail | None = current_app.extensions.get("cvm_audit")
    if trail is not None:
        viewer = current_viewer()
        trail.record(event, viewer.name, viewer.role if viewer.signed_in else "nobody",
                     customer_id=customer_id, period=period, address=client_address(),
                     detail=detail)


def denied(customer_id: str, what: str) -> None:
    """A customer outside the viewer's scope was asked for: the log and the audit trail."""
    viewer = current_viewer()
    log.warning("%s (%s) asked for %s of customer %s outside their scope", viewer.name,
                viewer.role, what, customer_id)
    audit("denied", customer_id, detail=what)


def render(warehouse: Warehouse, pathname: str | None, search: str | None,
           viewer: access.Viewer | None = None):
    """The whole page for a URL as ``viewer`` (default: the request's) may see it: frame plus
    content, or a clear error page."""
    pathname = pathname or "/"
    query = parse_query(search)
    lang = language(query.get("lang"))
    viewer = viewer or current_viewer()
    as_of = None
    try:
        with access.reader(warehouse, viewer) as con:
            # the data's end, the one "as of" date of every report
            through = data_through(con)
            as_of = day(through, lang) if through else None
            if through is None:
                content = error_page(text("error_no_periods", lang))
            else:
                content = _page(con, pathname, query, lang, viewer)
    except WarehouseMissing as exc:
        # the visitor learns what to do; the server's path goes to the server's log only
        log.warning("%s", exc)
        content = error_page(text("error_no_warehouse", lang),
                             text("error_no_warehouse_hint", lang))
    except WarehouseUnreadable as exc:
        log.warning("%s", exc)
        content = error_page(text("error_unreadable", lang),
                             text("error_unreadable_hint", lang))
    return frame(content, lang=lang, pathname=pathname, query=query, as_of=as_of,
                 viewer=viewer)


def _page(con, pathname: str, query: dict, lang: str, viewer: access.Viewer):
    """The page's content; for a period the warehouse does not hold, the periods it does."""
    if pathname in ("/", "/portfolio"):
        page, layout = "/portfolio", lambda: portfolio.layout(con, query, lang)
    elif pathname == "/migration":
        page, layout = "/migration", lambda: migration.layout(con, query, lang)
    elif match := CUSTOMER_PATH.match(pathname):
        customer_id = unquote(match.group(1))
        if not access.can_see(con, customer_id):  # unknown, or not theirs: the same answer
            if not viewer.sees_all:  # a restricted viewer's callback: 404, nothing else
                denied(customer_id, "page")
                abort(404)
            return error_page(text("error_unknown_customer", lang, customer_id=customer_id))
        audit("view_customer", customer_id, query.get("period"))
        page, layout = (customer_path(customer_id),
                        lambda: customer.layout(con, customer_id, query, lang))
    else:
        return error_page(text("error_not_found", lang),
                          text("error_not_found_hint", lang, path=pathname))
    try:
        return layout()
    except PeriodNotFound as exc:
        return unknown_period(exc.key, exc.available, page, lang)


def page_status(warehouse: Warehouse, pathname: str | None, search: str | None) -> int:
    """The HTTP status of the page at a URL, as :func:`render` would show it: 404 for an
    address, customer or period that does not exist, 503 while there is no readable
    warehouse with customer values, else 200. Only the look-ups, not the page itself."""
    pathname = pathname or "/"
    query = parse_query(search)
    try:
        with access.reader(warehouse, current_viewer()) as con:
            available = read_periods(con)
            if not available:
                return 503
            if pathname in ("/", "/portfolio"):
                wanted = [query.get("period")]
            elif pathname == "/migration":
                wanted = [query.get("to"), query.get("from")]
            elif match := CUSTOMER_PATH.match(pathname):
                if queries.customer(con, unquote(match.group(1))) is None:
                    return 404
                wanted = [query.get("period")]
            else:
                return 404
    except (WarehouseMissing, WarehouseUnreadable):
        return 503
    try:
        for key in filter(None, wanted):
            find_period(available, key)
    except PeriodNotFound:
        return 404
    return 200


class Cockpit(Dash):
    """Dash, whose page answers with the status of what it will show (see page_status):
    the browser gets the same page either way, a crawler or a link checker the truth."""

    def __init__(self, warehouse: Warehouse, **kwargs):
        super().__init__(**kwargs)
        self.warehouse = warehouse

    def index(self, *args, **kwargs):
        refused = self._refused_customer()
        if refused is not None:
            return refused
        page = super().index(*args, **kwargs)
        status = page_status(self.warehouse, request.path, request.query_string.decode())
        return page, status

    def _refused_customer(self) -> Response | None:
        """For a viewer who sees only some customers, the address of any other customer (or
        of one that does not exist: the answer is the same) is a plain 404 page, not the
        cockpit's page: nothing of it reaches the browser, no callback asks for it."""
        match = CUSTOMER_PATH.match(request.path)
        viewer = current_viewer()
        if not match or viewer.sees_all:
            return None
        customer_id = unquote(match.group(1))
        try:
            with access.reader(self.warehouse, viewer) as con:
                if access.can_see(con, customer_id):
                    return None
        except (WarehouseMissing, WarehouseUnreadable):
            return None  # page_status answers 503
        denied(customer_id, "page")
        lang = language(request.args.get("lang"))
        body = (f"<div id='error-page' class='error-page'><h1 class='error-title'>"
                f"{escape(text('error_unknown_customer', lang, customer_id=customer_id))}"
                f"</h1><p><a href='{escape(href('/portfolio', lang))}'>"
                f"{escape(text('nav_portfolio', lang))}</a></p></div>")
        return plain_page(text("app_title", lang), body, lang, status=404)


def search_results(warehouse: Warehouse, term: str | None, query: dict) -> list:
    """The search's answer: a link per matching customer (same period and language), a
    line when none matches, nothing for fewer than two characters."""
    lang = language(query.get("lang"))
    term = (term or "").strip()
    if len(term) < 2:
        return []
    try:
        with access.reader(warehouse, current_viewer()) as con:
            found = queries.find_customers(con, term)
    except (WarehouseMissing, WarehouseUnreadable):
        found = []
    if not found:
        return [html.Div(text("search_none", lang, term=term), className="search-none")]
    return [dcc.Link(f"{name} ({cid})", className="search-hit",
                     href=href(customer_path(cid), lang, period=query.get("period")))
            for cid, name in found]


def services_update(warehouse: Warehouse, context: dict, page_current: int | None,
                    sort_by: list | None, service_type: str | None, kind: str | None,
                    search: str | None) -> tuple[list[dict], int, str]:
    """One page of the service list for the table's paging, sorting and filters."""
    lang = language(context.get("lang"))
    with access.reader(warehouse, current_viewer()) as con:
        if not access.can_see(con, context.get("customer_id") or ""):
            denied(context.get("customer_id") or "", "services")
            abort(404)
        total = number(context.get("total", 0), lang)
        try:
            period = find_period(read_periods(con), context.get("period"))
        except PeriodNotFound:
            return [], 1, text("services_count", lang, count=0, total=total)
        page = queries.service_page(
            con, context["customer_id"], period, sort=customer.sort_spec(sort_by, lang),
            where=queries.ServiceFilter(service_type, kind, search),
            offset=(page_current or 0) * customer.PAGE_SIZE, limit=customer.PAGE_SIZE,
        )
    return (customer.service_rows(page, lang), customer.page_count(page.total),
            text("services_count", lang, count=number(page.total, lang), total=total))


def create_app(warehouse_path: str | Path, auth: str = "none", users: Path | None = None,
               audit_trail: AuditTrail | None = None) -> Dash:
    """The cockpit on the published warehouse at ``warehouse_path`` (it may not exist yet),
    with the sign-in mode ``auth`` (settings.AUTH_MODES; signin.py) and, with ``users``, the
    users file. Without ``audit_trail``, the trail goes to settings.audit_dir."""
    from orchestration import settings
    from orchestration.cockpit import signin

    warehouse = Warehouse(Path(warehouse_path).resolve())
    app = Cockpit(
        warehouse, name=__name__, title=text("app_title", "de"), assets_folder=str(ASSETS_DIR),
        suppress_callback_exceptions=True, update_title=None,
    )
    app.layout = html.Div([dcc.Location(id="url", refresh="callback-nav"),
                           html.Div(id="root")])
    if audit_trail is None:
        audit_trail = AuditTrail(settings.audit_dir(warehouse.path),
                                 int(settings.env_number("CVM_AUDIT_DAYS", 365, minimum=1)))
    signin.install(app.server, auth, users_path=users, audit=audit_trail)

    @app.callback(Output("root", "children"), Input("url", "pathname"), Input("url", "search"))
    def route(pathname, search):
        return render(warehouse, pathname, search)

    @app.callback(
        Output("url", "href", allow_duplicate=True),
        Input({"role": "url-param", "key": ALL}, "value"),
        State("url", "pathname"), State("url", "search"),
        prevent_initial_call=True,
    )
    def navigate(values, pathname, search):
        """A control of the URL changed: the same page with that one parameter changed."""
        changed = ctx.triggered_id
        if not changed:
            return no_update
        value = next((v for item, v in zip(ctx.inputs_list[0], values, strict=True)
                      if item["id"] == changed), None)
        query = parse_query(search)
        new = dict(query)
        if value in (None, ""):
            new.pop(changed["key"], None)
        else:
            new[changed["key"]] = str(value)
        if new == query:
            return no_update
        lang = language(new.pop("lang", None))
        return href(pathname, lang, **new)

    @app.callback(
        Output("url", "href", allow_duplicate=True),
        Input("portfolio-graph", "clickData"), State("url", "search"),
        prevent_initial_call=True,
    )
    def open_customer(click, search):
        """A bubble was clicked: its customer's cockpit for the same period."""
        if not click or not click.get("points") or not click["points"][0].get("customdata"):
            return no_update
        query = parse_query(search)
        customer_id = click["points"][0]["customdata"][0]
        return href(customer_path(customer_id), language(query.get("lang")),
                    period=query.get("period"))

    @app.callback(
        Output("customer-results", "children"), Input("customer-search-term", "data"),
        State("url", "search"), prevent_initial_call=True,
    )
    def search_customers(typed, search):
        """The customers matching the search text, as links to their cockpits."""
        return search_results(warehouse, (typed or {}).get("term"), parse_query(search))

    @app.callback(
        Output("services-table", "data"), Output("services-table", "page_count"),
        Output("services-count", "children"), Output("services-table", "page_current"),
        Input("services-table", "page_current"), Input("services-table", "sort_by"),
        Input("services-type", "value"), Input("services-kind", "value"),
        Input("services-text", "value"), State("services-context", "data"),
        prevent_initial_call=True,
    )
    def services(page_current, sort_by, service_type, kind, search, context):
        # a new filter starts again at the first page
        if ctx.triggered_id in ("services-type", "services-kind", "services-text"):
            page_current = 0
        rows, pages, count = services_update(warehouse, context, page_current, sort_by,
                                             service_type, kind, search)
        return rows, pages, count, page_current

    _statement_routes(app, warehouse)
    return app


def _statement_routes(app: Dash, warehouse: Warehouse) -> None:
    """`/customer/<id>/statement.pdf|.html?period=…&lang=…`: the download."""
    from orchestration.lib.reports import statement

    def refusal(status: int, *lines: str) -> Response:
        """Why there is no statement, in the language asked for."""
        return Response("\n".join(lines) + "\n", status=status, mimetype="text/plain")

    def download(customer_id: str, fmt: str):
        lang = language(request.args.get("lang"))
        period = request.args.get("period")
        try:
            with access.reader(warehouse, current_viewer()) as con:
                available = read_periods(con)
                if not available:
                    return refusal(503, text("error_no_periods", lang))
                if not access.can_see(con, customer_id):  # unknown, or not theirs
                    denied(customer_id, f"statement.{fmt}")
                    return refusal(404, text("error_unknown_customer", lang,
                                             customer_id=customer_id))
                try:
                    find_period(available, period)
                except PeriodNotFound:
                    return refusal(404, text("error_unknown_period", lang, period=period),
                                   text("error_available_periods", lang) + " "
                                   + ", ".join(p.key for p in available))
                span = statement.resolve_range(
                    available, period, request.args.get("from"), request.args.get("to"))
                html_text = statement.render_html(
                    statement.statement_context(con, customer_id, span, lang))
        except WarehouseMissing as exc:
            log.warning("%s", exc)
            return refusal(503, text("error_no_warehouse", lang),
                           text("error_no_warehouse_hint", lang))
        except WarehouseUnreadable as exc:
            log.warning("%s", exc)
            return refusal(503, text("error_unreadable", lang),
                           text("error_unreadable_hint", lang))
        except statement.StatementError as exc:  # from/to that make no range
            log.info("statement of %s refused: %s", customer_id, exc)
            return refusal(404, text("error_bad_range", lang))
        audit(f"statement_{fmt}", customer_id,
              span.period.key if span.period else f"{span.start}..{span.end}")
        if fmt == "html":
            return Response(html_text, mimetype="text/html")
        name = statement.default_out(customer_id, span, lang).name
        return Response(statement.render_pdf(html_text), mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    app.server.add_url_rule("/customer/<customer_id>/statement.pdf", "statement_pdf",
                            lambda customer_id: download(customer_id, "pdf"))
    app.server.add_url_rule("/customer/<customer_id>/statement.html", "statement_html",
                            lambda customer_id: download(customer_id, "html"))


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def serve(warehouse_path: str | Path, host: str = "127.0.0.1", port: int = 8050,
          auth: str = "users", users: Path | None = None, ready=None) -> None:
    """Run the cockpit on the production server (server.py) until SIGTERM or Ctrl+C. Without
    sign-in (``auth`` none) only on this machine's own address."""
    from orchestration import settings
    from orchestration.cockpit import server
    from orchestration.cockpit.users import read_users

    if auth == "none" and host not in LOCAL_HOSTS:
        raise ValueError(f"without sign-in the cockpit listens on 127.0.0.1 only, not {host}; "
                         "choose --auth users or --auth oidc to share it")
    if auth == "users":
        users = settings.users_file(users)
        if not read_users(users):
            raise ValueError(f"{users}: no users yet; add one with `cvm users add NAME --role "
                             "... --password-stdin`, or serve with --no-auth on this machine")
    server.serve(Path(warehouse_path), host, port, auth, users, ready=ready)
