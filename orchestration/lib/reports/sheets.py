"""The export written as a workbook (xlsx) or as CSV files.

- xlsx: one sheet per table; the title and the period in the first row, where the rows come
  from in the second, the column headings in the fourth. Numbers stay numbers and dates stay
  dates, with number formats: `#,##0.00 "€"` is what a German Excel shows as `#.##0,00 €`
  (a workbook stores formats in one notation; Excel writes the separators of the reader's
  locale).
- CSV: one file per table. German (`--lang de`): the German Excel dialect, `;` between
  fields, a decimal comma, dates as `22.11.2026`, UTF-8 with a byte-order mark. English: the
  standard dialect, `,`, a decimal point, ISO dates, UTF-8.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

from orchestration.lib.reports.errors import ReportError
from orchestration.lib.reports.export import (
    ANY,
    DATE,
    EUR,
    HOURS,
    INT,
    LINE,
    NUMBER,
    TIMESTAMP,
    Export,
    Table,
)
from orchestration.lib.reports.translations import (
    CSV_DIALECTS,
    EXCEL_FORMATS,
    LANGUAGES,
    language,
    minute,
    plain_day,
    plain_time,
    text,
)

HEADER_ROW = 4  # the row of the column headings in every sheet; the data follow
EXCEL_ROWS = 1_048_576  # the rows of an Excel sheet
EXCEL_CELL_CHARS = 32_767  # the characters an Excel cell holds
CUT = " […]"  # the end of a text cut to what a cell holds



def number_format(kind: str, lang: str, value=None) -> str | None:
    """The Excel number format of a cell of `kind`; None for text."""
    formats = EXCEL_FORMATS[language(lang)]
    if kind == EUR:
        return formats["eur"]
    if kind == HOURS:
        return "#,##0.00"
    if kind == INT:
        return "#,##0"
    if kind == LINE:  # a line number: no thousands separator
        return "0"
    if kind == NUMBER:  # a count or an amount: whole numbers without decimals
        return "#,##0" if value is not None and value == int(value) else "#,##0.00##"
    if kind == DATE:
        return formats["date"]
    if kind == TIMESTAMP or (kind == ANY and isinstance(value, dt.datetime)):
        return formats["timestamp"]
    if kind == ANY and isinstance(value, dt.date):
        return formats["date"]
    return None


def write_xlsx(export: Export, out: Path) -> Path:
    """The export as one workbook at `out`, written with XlsxWriter row by row (its
    constant-memory mode: a ledger of many thousand rows in about a second at demo size).
    Each value is written as what it is: text as text (never read as a formula or a link),
    numbers as numbers (decimals as Excel's doubles), dates and timestamps as dates. A text
    longer than a cell holds is cut (`_in_a_cell`); a table longer than a sheet holds is
    refused (ReportError) before anything is written, as Excel would not show its end."""
    import xlsxwriter

    lang = language(export.lang)
    for table in export.tables:  # before anything is written
        if HEADER_ROW + len(table.rows) > EXCEL_ROWS:
            raise ReportError(
                f"the sheet {table.title(lang)!r} would hold {len(table.rows):,} rows, more "
                f"than an Excel sheet holds below its headings ({EXCEL_ROWS - HEADER_ROW:,}); "
                "write the export as CSV files (--format csv)")
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(out), {"constant_memory": True,
                                              "nan_inf_to_errors": True})
    workbook.set_properties({"title": f"{export.tables[0].title(lang)} {export.label}"})
    created = minute(export.created_at, lang)
    title_format = workbook.add_format({"bold": True, "font_size": 13})
    source_format = workbook.add_format({"italic": True, "font_color": "#666666"})
    heading_format = workbook.add_format({"bold": True, "bg_color": "#DDE4EE", "pattern": 1,
                                          "text_wrap": True, "valign": "top"})
    formats: dict[str, object] = {}  # one format per number format, shared by its cells

    def number_style(kind: str, value):
        fmt = number_format(kind, lang, value)
        if fmt is None:
            return None
        if fmt not in formats:
            formats[fmt] = workbook.add_format({"num_format": fmt})
        return formats[fmt]

    for table in export.tables:
        sheet = workbook.add_worksheet(table.title(lang)[:31])
        last_column = len(table.columns) - 1
        sheet.freeze_panes(HEADER_ROW, 0)  # the rows down to the headings stay in view
        sheet.autofilter(HEADER_ROW - 1, 0, HEADER_ROW - 1 + max(len(table.rows), 1),
                         last_column)
        for index in range(len(table.columns)):
            sheet.set_column(index, index, _width(table, index))
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)  # one page wide, as many long as it takes
        sheet.repeat_rows(HEADER_ROW - 1)  # the headings on every printed page

        sheet.write_string(0, 0, f"{table.title(lang)} – {export.label}", title_format)
        sheet.write_string(1, 0, text("ex_sheet_source", lang, source=table.source,
                                      created=created), source_format)
        for index, column in enumerate(table.columns):
            sheet.write_string(HEADER_ROW - 1, index, column.heading(lang), heading_format)
        if not table.rows:  # an empty table says so in a row of its own
            sheet.write_string(HEADER_ROW, 0, text("ex_none", lang), source_format)
        kinds = [column.kind for column in table.columns]
        for number, row in enumerate(table.rows, start=HEADER_ROW):
            for index, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(number, index, _in_a_cell(value))  # text: no style
                elif isinstance(value, bool):
                    sheet.write_boolean(number, index, value)
                elif isinstance(value, int | float | Decimal):
                    value = float(value)  # Excel holds every number as a double
                    sheet.write_number(number, index, value, number_style(kinds[index], value))
                elif isinstance(value, dt.date):  # a datetime is a date too
                    sheet.write_datetime(number, index, value,
                                         number_style(kinds[index], value))
                else:
                    sheet.write_string(number, index, str(value))
    workbook.close()
    return out


def _in_a_cell(value: str) -> str:
    """`value`, or as much of it as an Excel cell holds, ending in CUT (a rejected record as
    delivered can be longer; the CSV export keeps it whole)."""
    if len(value) <= EXCEL_CELL_CHARS:
        return value
    return value[:EXCEL_CELL_CHARS - len(CUT)] + CUT


def _width(table: Table, index: int) -> float:
    """A column as wide as its heading or its longest value (of the first 500 rows), with
    room for a number format's thousands separators and currency sign."""
    column = table.columns[index]
    longest = max(len(column.heading(lang)) for lang in LANGUAGES)
    for row in table.rows[:500]:
        value = row[index]
        if value is None:
            continue
        shown = {EUR: 16, NUMBER: 14, HOURS: 12, INT: 8, LINE: 8}.get(column.kind,
                                                                       len(str(value)))
        longest = max(longest, shown)
    return min(longest + 3, 60)


def csv_text(value, kind: str, lang: str) -> str:
    """One value as written in a CSV file of that language's dialect."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return plain_time(value, lang)
    if isinstance(value, dt.date):
        return plain_day(value, lang)
    if isinstance(value, bool) or kind not in (EUR, HOURS, NUMBER, INT, LINE):
        return str(value)
    # a double as its shortest decimal (0.592518, not 0.59251800000000001…)
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    written = _plain(exact, 2 if kind == EUR else 0)
    return written.replace(".", CSV_DIALECTS[language(lang)]["decimal"])


def _plain(value: Decimal, min_decimals: int) -> str:
    """A decimal without exponent or trailing zeros beyond `min_decimals` places."""
    written = format(value, "f")
    if "." in written:
        whole, fraction = written.split(".")
        fraction = fraction.rstrip("0").ljust(min_decimals, "0")
        return f"{whole}.{fraction}" if fraction else whole
    return f"{written}.{'0' * min_decimals}" if min_decimals else written


def write_csv(export: Export, out_dir: Path) -> list[Path]:
    """The export as one CSV file per table in `out_dir`."""
    lang = language(export.lang)
    dialect = CSV_DIALECTS[lang]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for table in export.tables:
        path = out_dir / f"{table.key}.csv"
        with open(path, "w", encoding=dialect["encoding"], newline="") as handle:
            writer = csv.writer(handle, delimiter=dialect["delimiter"], lineterminator="\r\n")
            writer.writerow([column.heading(lang) for column in table.columns])
            for row in table.rows:
                writer.writerow([csv_text(value, column.kind, lang)
                                 for value, column in zip(row, table.columns, strict=True)])
        written.append(path)
    return written
