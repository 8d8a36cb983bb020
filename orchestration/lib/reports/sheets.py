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

from orchestration.lib.reports.export import (
    DATE,
    EUR,
    HOURS,
    INT,
    NUMBER,
    TIMESTAMP,
    Export,
    Table,
)
from orchestration.lib.reports.texts import check_language

HEADER_ROW = 4  # the row of the column headings in every sheet; the data follow

_EUR = {"de": '#,##0.00 "€";[Red]-#,##0.00 "€"', "en": '"€"#,##0.00;[Red]-"€"#,##0.00'}
_DATE = {"de": "DD.MM.YYYY", "en": "YYYY-MM-DD"}
_TIMESTAMP = {"de": "DD.MM.YYYY HH:MM:SS", "en": "YYYY-MM-DD HH:MM:SS"}
_SOURCE = {"de": "Quelle: {source} · erstellt {created}",
           "en": "Source: {source} · created {created}"}


def number_format(kind: str, lang: str, value=None) -> str | None:
    """The Excel number format of a cell of `kind`; None for text."""
    if kind == EUR:
        return _EUR[lang]
    if kind == HOURS:
        return "#,##0.00"
    if kind == INT:
        return "#,##0"
    if kind == NUMBER:  # a count or an amount: whole numbers without decimals
        return "#,##0" if value is not None and value == int(value) else "#,##0.00##"
    if kind == DATE:
        return _DATE[lang]
    if kind == TIMESTAMP:
        return _TIMESTAMP[lang]
    return None


def _cell_value(value):
    # Excel holds every number as a double
    return float(value) if isinstance(value, Decimal) else value


def write_xlsx(export: Export, out: Path) -> Path:
    """The export as one workbook at `out`."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    lang = check_language(export.lang)
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = f"{export.tables[0].title(lang)} {export.label}"
    created = export.created_at.strftime("%d.%m.%Y %H:%M" if lang == "de" else "%Y-%m-%d %H:%M")
    heading_fill = PatternFill("solid", fgColor="DDE4EE")
    for table in export.tables:
        sheet = workbook.create_sheet(title=table.title(lang)[:31])
        sheet.append([f"{table.title(lang)} – {export.label}"])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([_SOURCE[lang].format(source=table.source, created=created)])
        sheet["A2"].font = Font(italic=True, color="666666")
        sheet.append([])
        sheet.append([column.heading(lang) for column in table.columns])
        for cell in sheet[HEADER_ROW]:
            cell.font = Font(bold=True)
            cell.fill = heading_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row_index, row in enumerate(table.rows, start=HEADER_ROW + 1):
            for column_index, (column, value) in enumerate(zip(table.columns, row, strict=True),
                                                           start=1):
                if value is None:
                    continue
                cell = sheet.cell(row=row_index, column=column_index, value=_cell_value(value))
                fmt = number_format(column.kind, lang, value)
                if fmt is not None:
                    cell.number_format = fmt
        last = get_column_letter(len(table.columns))
        sheet.freeze_panes = f"A{HEADER_ROW + 1}"
        sheet.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + max(len(table.rows), 1)}"
        for index in range(len(table.columns)):
            sheet.column_dimensions[get_column_letter(index + 1)].width = _width(table, index)
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(out)
    return out


def _width(table: Table, index: int) -> float:
    """A column as wide as its heading or its longest value (of the first 500 rows)."""
    column = table.columns[index]
    longest = max(len(column.de), len(column.en)) + 1
    for row in table.rows[:500]:
        value = row[index]
        if value is None:
            continue
        shown = 14 if column.kind in (EUR, NUMBER, HOURS) else len(str(value))
        longest = max(longest, shown)
    return min(max(longest + 2, 8), 60)


def csv_text(value, kind: str, lang: str) -> str:
    """One value as written in a CSV file of that language's dialect."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y %H:%M:%S") if lang == "de" else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y") if lang == "de" else value.isoformat()
    if isinstance(value, bool) or kind not in (EUR, HOURS, NUMBER, INT):
        return str(value)
    written = _plain(Decimal(value), 2 if kind == EUR else 0)
    return written.replace(".", ",") if lang == "de" else written


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
    lang = check_language(export.lang)
    german = lang == "de"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for table in export.tables:
        path = out_dir / f"{table.key}.csv"
        with open(path, "w", encoding="utf-8-sig" if german else "utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";" if german else ",", lineterminator="\r\n")
            writer.writerow([column.heading(lang) for column in table.columns])
            for row in table.rows:
                writer.writerow([csv_text(value, column.kind, lang)
                                 for value, column in zip(row, table.columns, strict=True)])
        written.append(path)
    return written
