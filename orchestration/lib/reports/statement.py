"""The customer's value statement: the services we gave, as a PDF (and HTML) to hand over.

It is customer-facing. It reads only the customer's name (`marts.dim_customers`), the periods'
bounds, the names of the services as the customer reads them (`customer_name_de`/`_en` of
`marts.dim_service_types`) and the value-transfer ledger
(`marts.fct_value_transfers`); it never selects the internal figures of `marts.customer_value`
(segment, strategy, ABC class, margin, share of wallet, potential), the account manager nor
employee ids, so it cannot show them. HTML from a Jinja template and a stylesheet next to this
module; WeasyPrint turns the same HTML into the PDF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from orchestration.lib.reports import ledger, reference
from orchestration.lib.reports.errors import ReportError
from orchestration.lib.reports.periods import (
    Period,
    PeriodNotFound,
    data_through,
    find_period,
    read_periods,
)
from orchestration.lib.reports.translations import (
    data_language_note,
    day,
    hours,
    language,
    money,
    number,
    text,
)
from orchestration.lib.reports.warehouse import Warehouse

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TOP_SERVICES = 10
COMPARISON_PERIODS = 4


class StatementError(ReportError):
    """The statement cannot be made: an unknown customer, or dates that make no range (an
    unknown period is :class:`PeriodNotFound`)."""


@dataclass(frozen=True)
class StatementRange:
    """The dates a statement covers; ``period`` is set when they are exactly one period."""

    start: date
    end: date
    period: Period | None = None


def _bound(available: list[Period], value: str, end: bool) -> date:
    """A period key (its first or last day) or an ISO date."""
    try:
        found = find_period(available, value)
    except PeriodNotFound:
        pass
    else:
        return found.end if end else found.start
    try:
        return date.fromisoformat(value)
    except ValueError:
        keys = ", ".join(p.key for p in available) or "none"
        raise StatementError(
            f"{value!r} is neither a period of the warehouse ({keys}) nor a date YYYY-MM-DD"
        ) from None


def resolve_range(
    available: list[Period], period: str | None = None,
    start: str | None = None, end: str | None = None,
) -> StatementRange:
    """``--period`` or ``--from``/``--to``; without either, the latest period. A period the
    warehouse does not hold is :class:`PeriodNotFound`."""
    if period and (start or end):
        raise StatementError("give either a period or --from/--to, not both")
    latest = find_period(available, None)  # PeriodNotFound when the warehouse holds none
    if start or end:
        first = _bound(available, start, end=False) if start else available[0].start
        last = _bound(available, end, end=True) if end else latest.end
        if first > last:
            raise StatementError(f"the range starts ({first}) after it ends ({last})")
        exact = next((p for p in available if (p.start, p.end) == (first, last)), None)
        return StatementRange(first, last, exact)
    found = find_period(available, period)
    return StatementRange(found.start, found.end, found)


def statement_context(
    con, customer_id: str, span: StatementRange, lang: str, issued: date | None = None
) -> dict:
    """Everything the template shows, already formatted for ``lang``."""
    lang = language(lang)
    name = ledger.customer_name(con, customer_id)
    if name is None:
        raise StatementError(f"customer {customer_id!r} is not in the warehouse")
    names = reference.service_types(con)
    through = data_through(con)
    by_type = ledger.given_by_service_type(con, customer_id, span.start, span.end)
    total = by_type.pop() if by_type else None  # the grand total (count 0 when none)
    if total is not None and not total.activities:
        total = None
    top = ledger.most_significant_given(con, customer_id, span.start, span.end, TOP_SERVICES)
    history = ledger.given_by_period(con, customer_id, span.end)[-COMPARISON_PERIODS:]
    largest = max((float(h[3]) for h in history), default=0.0) or 1.0
    # participants are counted where they drive the cost (trainings), not for a phone call
    trained = sum(r.participants for r in by_type if names[r.service_type_code].counts_participants)

    if span.period is not None:
        title = text("st_title_period", lang, period=span.period.key)
    else:
        title = text("st_title_range", lang, start=day(span.start, lang), end=day(span.end, lang))
    # a range that reaches past the data loaded is an interim statement, and says so
    running = through is not None and through < span.end
    if running:
        title += " – " + text("st_interim", lang)
    return {
        "lang": lang,
        "t": {key: text(key, lang) for key in (
            "st_customer_number", "st_period", "st_as_of", "st_issued", "st_intro",
            "st_total_label", "st_total_note", "st_by_category", "st_col_service", "st_col_count",
            "st_col_hours", "st_col_participants", "st_col_standard_cost", "st_col_billed",
            "st_col_given", "st_col_date", "st_col_background", "st_col_period",
            "st_total_row", "st_top_services", "st_comparison", "st_none", "st_footer",
            "st_page", "st_of",
        )},
        # the background notes stay in the language they were recorded in, German
        "background_note": data_language_note("st_background_note", lang),
        "title": title,
        "customer_name": name,
        "customer_id": customer_id,
        "period": f"{day(span.start, lang)} – {day(span.end, lang)}",
        "as_of": day(through, lang) if running else None,
        "interim_note": text("st_interim_note", lang, end=day(span.end, lang),
                             through=day(through, lang)) if running else None,
        "issued": day(issued or date.today(), lang),
        "total_given": money(total.value_given_eur if total else 0, lang),
        "has_services": total is not None,
        "by_type": [
            {
                "service": names[row.service_type_code].customer_name(lang),
                "count": number(row.activities, lang),
                "hours": hours(row.minutes, lang),
                "participants": (number(row.participants, lang)
                                 if names[row.service_type_code].counts_participants else "–"),
                "standard_cost": money(row.standard_cost_eur, lang),
                "billed": money(row.billed_eur, lang),
                "given": money(row.value_given_eur, lang),
            }
            for row in by_type
        ],
        "total": total and {
            "count": number(total.activities, lang),
            "hours": hours(total.minutes, lang),
            "participants": number(trained, lang),
            "standard_cost": money(total.standard_cost_eur, lang),
            "billed": money(total.billed_eur, lang),
            "given": money(total.value_given_eur, lang),
        },
        "top": [
            {
                "date": day(row.activity_date, lang),
                "service": names[row.service_type_code].customer_name(lang),
                "background": row.description or "",
                "hours": hours(row.minutes, lang),
                "standard_cost": money(row.standard_cost_eur, lang),
                "billed": money(row.billed_eur, lang),
                "given": money(row.value_given_eur, lang),
            }
            for row in top
        ],
        "history": [
            {
                "period": (text("st_running_period", lang, period=period.key,
                                through=day(through, lang))
                           if through is not None and through < period.end else period.key),
                "count": number(count, lang),
                "hours": hours(minutes, lang),
                "given": money(given, lang),
                "bar": round(100 * float(given) / largest, 1),
                "current": span.start <= period.start and period.end <= span.end,
            }
            for period, count, minutes, given in history
        ],
    }


def _css_string(value: str) -> str:
    """A quoted CSS string (for the page footer): no HTML escaping applies inside <style>."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ")
    return '"' + " ".join(escaped.split()) + '"'


def render_html(context: dict) -> str:
    """The statement as one self-contained HTML page (stylesheet inlined)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from markupsafe import Markup

    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html", "j2"])
    )
    env.filters["css_string"] = lambda value: Markup(_css_string(str(value)))
    css = (TEMPLATES_DIR / "statement.css").read_text(encoding="utf-8")
    return env.get_template("statement.html.j2").render(css=css, **context)


def render_pdf(html: str) -> bytes:
    """The PDF of the statement's HTML (WeasyPrint, imported only when needed)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=str(TEMPLATES_DIR)).write_pdf()


def default_out(customer_id: str, span: StatementRange, lang: str) -> Path:
    """`reports/statements/<customer>_<period or range>_<lang>.pdf`."""
    name = span.period.key if span.period else f"{span.start}_{span.end}"
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{customer_id}_{name}_{language(lang)}")
    return Path("reports") / "statements" / f"{safe}.pdf"


def write_statement(
    warehouse: Warehouse, customer_id: str, out: Path | None = None, *,
    period: str | None = None, start: str | None = None, end: str | None = None,
    lang: str = "de",
) -> tuple[Path, Path]:
    """Write the PDF to ``out`` and the same statement as HTML beside it; return both."""
    with warehouse.reader() as con:
        span = resolve_range(read_periods(con), period, start, end)
        html = render_html(statement_context(con, customer_id, span, lang))
    pdf_path = Path(out) if out else default_out(customer_id, span, lang)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    html_path = pdf_path.with_suffix(".html")
    html_path.write_text(html, encoding="utf-8")
    pdf_path.write_bytes(render_pdf(html))
    return pdf_path, html_path
