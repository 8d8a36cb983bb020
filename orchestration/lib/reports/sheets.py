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
from copy import copy
from decimal import Decimal
from pathlib import Path

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


def _cell_value(value):
    # Excel holds every number as a double
    return float(value) if isinstance(value, Decimal) else value


def write_xlsx(export: Export, out: Path) -> Path:
    """The export as one workbook at `out` (written row by row, in openpyxl's write-only
    mode: a ledger of many thousand rows takes seconds)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    lang = language(export.lang)
    workbook = Workbook(write_only=True)
    workbook.properties.title = f"{export.tables[0].title(lang)} {export.label}"
    created = minute(export.created_at, lang)
    title_font, source_font = Font(bold=True, size=13), Font(italic=True, color="666666")
    heading_font, heading_fill = Font(bold=True), PatternFill("solid", fgColor="DDE4EE")
    heading_alignment = Alignment(wrap_text=True, vertical="top")
    # one style per number format, registered in the workbook once and copied to its cells:
    # setting the format cell by cell looks it up in the workbook every time
    styles: dict[str, object] = {}
    for table in export.tables:
        sheet = workbook.create_sheet(title=table.title(lang)[:31])
        last = get_column_letter(len(table.columns))
        # everything about the sheet first: a write-only sheet takes its rows last
        sheet.freeze_panes = f"A{HEADER_ROW + 1}"
        sheet.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + max(len(table.rows), 1)}"
        for index in range(len(table.columns)):
            sheet.column_dimensions[get_column_letter(index + 1)].width = _width(table, index)
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"

        def cell(value, font=None, fill=None, alignment=None, number_format=None):
            written = WriteOnlyCell(sheet, value=value)  # noqa: B023 - used at once
            if font is not None:
                written.font = font
            if fill is not None:
                written.fill = fill
            if alignment is not None:
                written.alignment = alignment
            if number_format is not None:
                written.number_format = number_format
            return written

        sheet.append([cell(f"{table.title(lang)} – {export.label}", font=title_font)])
        sheet.append([cell(text("ex_sheet_source", lang, source=table.source, created=created),
                           font=source_font)])
        sheet.append([])
        sheet.append([cell(column.heading(lang), heading_font, heading_fill, heading_alignment)
                      for column in table.columns])

        def formatted(kind: str, value):
            value = _cell_value(value)
            if isinstance(value, str):
                return value  # text: a plain value, no style
            fmt = number_format(kind, lang, value)
            if fmt is None:
                return value
            style = styles.get(fmt)
            if style is None:
                style = styles[fmt] = cell(None, number_format=fmt)._style
            written = WriteOnlyCell(sheet, value=value)  # noqa: B023 - used at once
            written._style = copy(style)
            return written

        if not table.rows:  # an empty table says so in a row of its own
            sheet.append([cell(text("ex_none", lang), font=source_font)])
        kinds = [column.kind for column in table.columns]
        for row in table.rows:
            sheet.append([None if value is None else formatted(kinds[index], value)
                          for index, value in enumerate(row)])
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(out)
    return out


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
