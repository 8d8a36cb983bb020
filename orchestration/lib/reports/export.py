"""The controllers' export of one period: what the service investment cost, row by row.

Tables (each one sheet of the workbook, or one CSV file):

- `period`: the period, and how far its data reach;
- `reconciliation`: every total of the tables below beside the same figure read from the
  marts;
- `service_cost`: customer x service type x rate version x transfer kind: activities, hours,
  participants, standard cost, billed, value transfer;
- `ledger`: the value-transfer ledger of the period, every row with its rate and the file and
  line it was delivered in;
- `rates`: the rate versions used in the period, their validity, what each one priced;
- `unpriced`: activities without a valid rate on their date, with the reason;
- `load_log` and `rejected_rows`: every file loaded, and every rejected row, open or resolved.

Everything is read with plain SQL from marts.*, audit.* and reference.* over a read-only
connection. Amounts stay decimals: the writers (`lib/reports/sheets.py`) keep them numbers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from orchestration.lib.reports.periods import Period, choose_period, period_label
from orchestration.lib.reports.translations import TEXTS, day, reject_detail, text
from orchestration.lib.reports.warehouse import Warehouse

# the kinds of value a column holds; the writers format by kind
TEXT, INT, LINE, EUR, HOURS, NUMBER, DATE, TIMESTAMP = (
    "text", "int", "line", "eur", "hours", "number", "date", "timestamp")
ANY = "any"  # text, a date or a timestamp, formatted by the type of each value


class Column(NamedTuple):
    key: str
    kind: str
    de: str
    en: str

    def heading(self, lang: str) -> str:
        return self.de if lang == "de" else self.en


class Table(NamedTuple):
    key: str  # file name of the CSV variant
    de: str  # sheet name
    en: str
    source: str  # where the rows come from, for the reader
    columns: tuple[Column, ...]
    rows: list[tuple]

    def title(self, lang: str) -> str:
        return self.de if lang == "de" else self.en

    def total(self, key: str):
        """The sum of column `key` over the rows (empty cells count 0)."""
        index = [c.key for c in self.columns].index(key)
        return sum((row[index] or 0 for row in self.rows), Decimal(0))


class Export(NamedTuple):
    period: Period
    lang: str
    warehouse: Path
    created_at: dt.datetime
    tables: tuple[Table, ...]

    @property
    def label(self) -> str:
        return period_label(self.period, self.lang)

    def table(self, key: str) -> Table:
        return next(table for table in self.tables if table.key == key)


def C(key: str, kind: str, de: str, en: str) -> Column:  # noqa: N802 - reads like a table row
    return Column(key, kind, de, en)


CUSTOMER = (C("customer_id", TEXT, "Kunde", "Customer"),
            C("customer_name", TEXT, "Kundenname", "Customer name"))
SERVICE = (C("service_type_code", TEXT, "Leistungsart", "Service type"),
           C("service_name", TEXT, "Leistung", "Service"))

SERVICE_COST = (
    C("period", TEXT, "Zeitraum", "Period"), *CUSTOMER, *SERVICE,
    C("rate_id", TEXT, "Kostensatz", "Rate version"),
    C("transfer_kind", TEXT, "Transferart", "Transfer kind"),
    C("activities", INT, "Leistungen", "Activities"),
    C("minutes", NUMBER, "Minuten", "Minutes"),
    C("hours", HOURS, "Stunden", "Hours"),
    C("participants", INT, "Teilnehmer", "Participants"),
    C("standard_cost_eur", EUR, "Standardkosten", "Standard cost"),
    C("billed_amount_eur", EUR, "Berechnet", "Billed"),
    C("value_transfer_eur", EUR, "Wertetransfer", "Value transfer"),
)

LEDGER = (
    C("activity_date", DATE, "Datum", "Date"),
    C("activity_id", TEXT, "Leistung-ID", "Activity"), *CUSTOMER, *SERVICE,
    C("rate_id", TEXT, "Kostensatz", "Rate version"),
    C("transfer_kind", TEXT, "Transferart", "Transfer kind"),
    C("employee_id", TEXT, "Mitarbeiter", "Employee"),
    C("duration_minutes", NUMBER, "Minuten", "Minutes"),
    C("participants", INT, "Teilnehmer", "Participants"),
    C("standard_cost_eur", EUR, "Standardkosten", "Standard cost"),
    C("billed_amount_eur", EUR, "Berechnet", "Billed"),
    C("value_transfer_eur", EUR, "Wertetransfer", "Value transfer"),
    C("source_file", TEXT, "Quelldatei", "Source file"),
    C("line_number", LINE, "Zeile", "Line"),
)

RATES = (
    C("rate_id", TEXT, "Kostensatz", "Rate version"), *SERVICE,
    C("valid_from", DATE, "Gültig ab", "Valid from"),
    C("valid_to", DATE, "Gültig bis (ausschließlich)", "Valid to (exclusive)"),
    C("hourly_rate_eur", EUR, "Stundensatz", "Hourly rate"),
    C("cost_per_event_eur", EUR, "Je Einsatz", "Per event"),
    C("cost_per_participant_eur", EUR, "Je Teilnehmer", "Per participant"),
    C("activities", INT, "Bewertete Leistungen", "Activities priced"),
    C("hours", HOURS, "Stunden", "Hours"),
    C("standard_cost_eur", EUR, "Standardkosten", "Standard cost"),
    C("value_transfer_eur", EUR, "Wertetransfer", "Value transfer"),
)

UNPRICED = (
    C("activity_date", DATE, "Datum", "Date"),
    C("activity_id", TEXT, "Leistung-ID", "Activity"), *CUSTOMER, *SERVICE,
    C("duration_minutes", NUMBER, "Minuten", "Minutes"),
    C("participants", INT, "Teilnehmer", "Participants"),
    C("billed_amount_eur", EUR, "Berechnet", "Billed"),
    C("reason", TEXT, "Grund", "Reason"),
)

LOAD_LOG = (
    C("extract_date", DATE, "Lieferung", "Delivery"),
    C("source_file", TEXT, "Datei", "File"),
    C("entity", TEXT, "Extrakt", "Extract"),
    C("rows_read", INT, "Zeilen gelesen", "Rows read"),
    C("rows_loaded", INT, "Geladen", "Loaded"),
    C("rows_rejected", INT, "Abgelehnt", "Rejected"),
    C("open_rejections", INT, "Davon offen", "Of which open"),
    C("dialect", TEXT, "Format", "Format"),
    C("expectations_passed", TEXT, "GX-Prüfung bestanden", "GX suite passed"),
    C("identical_to", TEXT, "Gleich wie", "Identical to"),
    C("loaded_at", TIMESTAMP, "Geladen am", "Loaded at"),
    C("sha256", TEXT, "SHA-256", "SHA-256"),
)

REJECTED = (
    C("extract_date", DATE, "Lieferung", "Delivery"),
    C("source_file", TEXT, "Datei", "File"),
    C("line_number", LINE, "Zeile", "Line"),
    C("entity", TEXT, "Extrakt", "Extract"),
    C("reason", TEXT, "Grund", "Reason"),
    C("reason_code", TEXT, "Code", "Code"),
    C("detail", TEXT, "Detail", "Detail"),
    C("state", TEXT, "Stand", "State"),
    C("resolved_extract_date", DATE, "Aufgelöst mit Lieferung", "Resolved by delivery"),
    C("raw_record", TEXT, "Zeile wie geliefert", "Record as delivered"),
)

PERIOD = (
    C("item", TEXT, "Angabe", "Item"),
    C("value", ANY, "Wert", "Value"),
)

RECONCILIATION = (
    C("item", TEXT, "Position", "Item"),
    C("unit", TEXT, "Einheit", "Unit"),
    C("in_export", NUMBER, "Im Export", "In the export"),
    C("in_marts", NUMBER, "Laut Marts", "In the marts"),
    C("difference", NUMBER, "Differenz", "Difference"),
    C("source", TEXT, "Quelle in den Marts", "Source in the marts"),
)


def _service_name(lang: str) -> str:
    return "s.name_de" if lang == "de" else "s.name_en"


def _service_cost(con, period: Period, lang: str) -> list[tuple]:
    rows = con.execute(
        f"""
        select ? as period, a.customer_id, c.customer_name, a.service_type_code,
               {_service_name(lang)}, a.rate_id, a.transfer_kind,
               count(*), sum(a.duration_minutes),
               cast(sum(a.duration_minutes) / 60 as decimal(18, 4)), sum(a.participants),
               sum(a.standard_cost_eur), sum(a.billed_amount_eur), sum(a.value_transfer_eur)
        from marts.fct_service_activities as a
        inner join marts.dim_customers as c on a.customer_id = c.customer_id
        inner join marts.dim_service_types as s on a.service_type_code = s.service_type_code
        where a.period_start = ?
        group by all
        order by a.customer_id, a.service_type_code, a.rate_id nulls last, a.transfer_kind
        """,
        [period.key, period.start],
    ).fetchall()
    return [_with_kind(row, 6, lang) for row in rows]


def _ledger(con, period: Period, lang: str) -> list[tuple]:
    rows = con.execute(
        f"""
        select v.activity_date, v.activity_id, v.customer_id, c.customer_name,
               v.service_type_code, {_service_name(lang)}, v.rate_id, v.transfer_kind,
               v.employee_id, v.duration_minutes, v.participants, v.standard_cost_eur,
               v.billed_amount_eur, v.value_transfer_eur, v.source_file, v.line_number
        from marts.fct_value_transfers as v
        inner join marts.dim_customers as c on v.customer_id = c.customer_id
        inner join marts.dim_service_types as s on v.service_type_code = s.service_type_code
        where v.period_start = ?
        order by v.activity_date, v.activity_id
        """,
        [period.start],
    ).fetchall()
    return [_with_kind(row, 7, lang) for row in rows]


def _with_kind(row: tuple, index: int, lang: str) -> tuple:
    """The row with its transfer kind in the reader's words (`free` -> `kostenlos`), as the
    cockpit names it; an unpriced activity has none."""
    kind = text(f"kind_{row[index] or 'unpriced'}", lang)
    return (*row[:index], kind, *row[index + 1:])


def _rates(con, period: Period, lang: str) -> list[tuple]:
    return con.execute(
        f"""
        select r.rate_id, r.service_type_code, {_service_name(lang)}, r.valid_from,
               r.valid_to, r.hourly_rate_eur, r.cost_per_event_eur,
               r.cost_per_participant_eur, count(*),
               cast(sum(a.duration_minutes) / 60 as decimal(18, 4)),
               sum(a.standard_cost_eur), sum(a.value_transfer_eur)
        from marts.fct_service_activities as a
        inner join reference.standard_cost_rates as r on a.rate_id = r.rate_id
        inner join marts.dim_service_types as s on r.service_type_code = s.service_type_code
        where a.period_start = ?
        group by all
        order by r.service_type_code, r.valid_from
        """,
        [period.start],
    ).fetchall()


def _unpriced(con, period: Period, lang: str) -> list[tuple]:
    rows = con.execute(
        f"""
        select a.activity_date, a.activity_id, a.customer_id, c.customer_name,
               a.service_type_code, {_service_name(lang)}, a.duration_minutes,
               a.participants, a.billed_amount_eur,
               (select min(r.valid_from) from reference.standard_cost_rates as r
                where r.service_type_code = a.service_type_code
                  and r.valid_from > a.activity_date) as next_valid_from
        from marts.fct_service_activities as a
        inner join marts.dim_customers as c on a.customer_id = c.customer_id
        inner join marts.dim_service_types as s on a.service_type_code = s.service_type_code
        where a.period_start = ? and not a.is_priced
        order by a.activity_date, a.activity_id
        """,
        [period.start],
    ).fetchall()
    return [(*row[:-1], _unpriced_reason(row[4], row[0], row[-1], lang)) for row in rows]


def _unpriced_reason(service_type: str, on_day: dt.date, next_valid_from, lang: str) -> str:
    on = day(on_day, lang)
    if lang == "de":
        reason = f"kein gültiger Kostensatz für {service_type} am {on}"
        if next_valid_from:
            reason += f" (erster gültig ab {day(next_valid_from, lang)})"
        return reason
    reason = f"no valid rate for {service_type} on {on}"
    if next_valid_from:
        reason += f" (the next one is valid from {day(next_valid_from, lang)})"
    return reason


def _load_log(con, period: Period, lang: str) -> list[tuple]:
    yes, no = ("ja", "nein") if lang == "de" else ("yes", "no")
    return con.execute(
        """
        select l.extract_date, l.source_file, l.entity, l.rows_read, l.rows_loaded,
               l.rows_rejected,
               (select count(*) from audit.rejected_rows as r
                where r.extract_date = l.extract_date and r.source_file = l.source_file
                  and r.is_open),
               l.dialect,
               case when l.expectations_passed then ? when not l.expectations_passed then ?
               end,
               l.identical_to, l.loaded_at, l.sha256
        from audit.load_log as l
        order by l.extract_date, l.source_file
        """,
        [yes, no],
    ).fetchall()


_STATES = {
    # open: waits for a snapshot that brings its customer; resolved: taken in since; final:
    # only a corrected re-delivery replaces it
    "de": ("offen: wartet auf den Kunden", "aufgelöst", "endgültig abgelehnt"),
    "en": ("open: waiting for its customer", "resolved", "final"),
}


def _rejected_rows(con, period: Period, lang: str) -> list[tuple]:
    """Every rejected row, its reason in the reader's words beside the reason code."""
    rows = con.execute(
        """
        select extract_date, source_file, line_number, entity, reason, reason, detail,
               case when is_open then ? when resolved_extract_date is not null then ?
                    else ? end,
               resolved_extract_date, raw_record
        from audit.rejected_rows
        order by extract_date, source_file, line_number
        """,
        list(_STATES[lang]),
    ).fetchall()
    return [(*row[:4], text(f"reason_{row[4]}", lang) if f"reason_{row[4]}" in TEXTS else row[4],
             row[5], reject_detail(row[6], lang), *row[7:]) for row in rows]


def _marts_totals(con, period: Period) -> dict[str, Decimal]:
    """The period's figures as the marts hold them, each read from its own mart."""
    value = con.execute(
        "select sum(value_transfer_eur), sum(service_activities), sum(service_minutes), "
        "sum(unpriced_activities) from marts.customer_value where period_start = ?",
        [period.start],
    ).fetchone()
    summary = con.execute(
        "select sum(value_transfer_eur) from marts.segment_summary where period_start = ?",
        [period.start],
    ).fetchone()
    facts = con.execute(
        "select sum(standard_cost_eur), sum(billed_amount_eur) "
        "from marts.fct_service_activities where period_start = ?",
        [period.start],
    ).fetchone()
    audit = con.execute(
        "select (select sum(rows_rejected) from audit.load_log), "
        "(select count(*) from audit.rejected_rows where is_open)"
    ).fetchone()
    figures = {
        "value_transfer": value[0], "activities": value[1], "minutes": value[2],
        "unpriced": value[3], "segment_value_transfer": summary[0], "standard_cost": facts[0],
        "billed": facts[1], "rejected": audit[0], "open": audit[1],
    }
    return {key: Decimal(figure or 0) for key, figure in figures.items()}


# item (de, en), unit (de, en), the export's figure, the marts' figure, where that comes from
_CHECKS = (
    (("Wertetransfer: Leistungskosten je Kunde", "Value transfer: service cost by customer"),
     "eur", lambda t: t["service_cost"].total("value_transfer_eur"), "value_transfer",
     "marts.customer_value.value_transfer_eur"),
    (("Wertetransfer: Journal", "Value transfer: ledger"),
     "eur", lambda t: t["ledger"].total("value_transfer_eur"), "segment_value_transfer",
     "marts.segment_summary.value_transfer_eur"),
    (("Wertetransfer: Kostensätze", "Value transfer: rate versions"),
     "eur", lambda t: t["rates"].total("value_transfer_eur"), "value_transfer",
     "marts.customer_value.value_transfer_eur"),
    (("Standardkosten: Leistungskosten je Kunde", "Standard cost: service cost by customer"),
     "eur", lambda t: t["service_cost"].total("standard_cost_eur"), "standard_cost",
     "marts.fct_service_activities.standard_cost_eur"),
    (("Standardkosten: Kostensätze", "Standard cost: rate versions"),
     "eur", lambda t: t["rates"].total("standard_cost_eur"), "standard_cost",
     "marts.fct_service_activities.standard_cost_eur"),
    (("Berechnet: Leistungskosten je Kunde", "Billed: service cost by customer"),
     "eur", lambda t: t["service_cost"].total("billed_amount_eur"), "billed",
     "marts.fct_service_activities.billed_amount_eur"),
    (("Minuten: Leistungskosten je Kunde", "Minutes: service cost by customer"),
     "minutes", lambda t: t["service_cost"].total("minutes"), "minutes",
     "marts.customer_value.service_minutes"),
    (("Leistungen: Leistungskosten je Kunde", "Activities: service cost by customer"),
     "count", lambda t: t["service_cost"].total("activities"), "activities",
     "marts.customer_value.service_activities"),
    (("Leistungen: bewertet (Kostensätze) + nicht bewertet",
      "Activities: priced (rate versions) + unpriced"),
     "count", lambda t: t["rates"].total("activities") + len(t["unpriced"].rows), "activities",
     "marts.customer_value.service_activities"),
    (("Nicht bewertete Leistungen", "Unpriced activities"),
     "count", lambda t: len(t["unpriced"].rows), "unpriced",
     "marts.customer_value.unpriced_activities"),
    (("Abgelehnte Zeilen", "Rejected rows"),
     "count", lambda t: len(t["rejected_rows"].rows), "rejected",
     "audit.load_log.rows_rejected"),
    (("Abgelehnte Zeilen, offen: Ladeprotokoll", "Rejected rows, open: load log"),
     "count", lambda t: t["load_log"].total("open_rejections"), "open",
     "audit.rejected_rows.is_open"),
)
_UNITS = {"eur": ("€", "€"), "minutes": ("Minuten", "minutes"), "count": ("Anzahl", "count")}


def _reconciliation(tables: dict[str, Table], marts: dict[str, Decimal], lang: str):
    """Each total of the export beside the same figure read from the marts."""
    at = 0 if lang == "de" else 1
    rows = []
    for item, unit, in_export, figure, source in _CHECKS:
        mine = Decimal(in_export(tables))
        rows.append((item[at], _UNITS[unit][at], mine, marts[figure], mine - marts[figure],
                     source))
    return rows


def _period_rows(period: Period, warehouse: Path, created_at: dt.datetime, lang: str):
    de = lang == "de"
    yes, no = ("ja", "nein") if de else ("yes", "no")
    items = (
        (("Zeitraum", "Period"), period_label(period, lang)),
        (("Beginn", "Start"), period.start),
        (("Ende", "End"), period.end),
        (("Daten bis (letzte geladene Lieferung)", "Data through (latest delivery loaded)"),
         period.data_through),
        (("Zeitraum vollständig", "Period complete"), yes if period.is_complete else no),
        (("Warehouse", "Warehouse"), str(warehouse)),
        (("Erstellt am", "Created at"), created_at),
    )
    return [(item[0 if de else 1], value) for item, value in items]


TABLES = (
    # key, German and English sheet name, source, columns, reader
    ("service_cost", "Leistungskosten je Kunde", "Service cost by customer",
     "marts.fct_service_activities", SERVICE_COST, _service_cost),
    ("ledger", "Wertetransfer-Journal", "Value-transfer ledger",
     "marts.fct_value_transfers", LEDGER, _ledger),
    ("rates", "Kostensätze", "Rate versions",
     "reference.standard_cost_rates, marts.fct_service_activities", RATES, _rates),
    ("unpriced", "Nicht bewertet", "Unpriced activities",
     "marts.fct_service_activities (is_priced = false)", UNPRICED, _unpriced),
    ("load_log", "Ladeprotokoll", "Load log", "audit.load_log", LOAD_LOG, _load_log),
    ("rejected_rows", "Abgelehnte Zeilen", "Rejected rows", "audit.rejected_rows", REJECTED,
     _rejected_rows),
)


def build_export(warehouse: Path, period: str | None = None, lang: str = "de") -> Export:
    """Every table of the export of `period` (default: the latest), read from `warehouse`
    over one read-only connection."""
    with Warehouse(warehouse).reader() as con:
        chosen = choose_period(con, period)
        tables = {
            key: Table(key, de, en, source, columns, reader(con, chosen, lang))
            for key, de, en, source, columns, reader in TABLES
        }
        marts = _marts_totals(con, chosen)
    created_at = dt.datetime.now().replace(microsecond=0)
    overview = Table("period", "Zeitraum", "Period", "marts.customer_value", PERIOD,
                     _period_rows(chosen, warehouse, created_at, lang))
    reconciliation = Table(
        "reconciliation", "Abstimmung", "Reconciliation", "marts.*, audit.*",
        RECONCILIATION, _reconciliation(tables, marts, lang),
    )
    return Export(chosen, lang, warehouse, created_at,
                  (overview, reconciliation, *tables.values()))
