"""The controllers' export of one period: what the service investment cost, row by row.

Tables (each one sheet of the workbook, or one CSV file):

- `period`: the period, and how far its data reach;
- `reconciliation`: every total of the tables below beside the same figure read from the
  marts;
- `service_cost`: customer x service type x rate version x transfer kind: activities, hours,
  participants, standard cost, billed, value transfer;
- `ledger`: the value-transfer ledger of the period, every row with its rate and the file and
  line it was delivered in;
- `rates`: the rate versions used in the period, typed or derived from a department's
  capacity, their validity, what each one priced;
- `capacity`: per department with capacity data, the capacity supplied, used and unused, and
  the reconciliation of its cost (assigned + unused + the rate's rounding);
- `unpriced`: activities without a valid rate on their date, with the reason;
- `load_log` and `rejected_rows`: every file loaded, and every rejected row, open or resolved;
- `clv` and `clv_model`: what each customer will be worth as the purchase model forecasts it
  as of the data's end (`marts.customer_lifetime_value`, not a figure of the period), and the
  model's parameters (`marts.clv_model`).

Everything is read with plain SQL from marts.*, audit.* and reference.* over a read-only
connection. Amounts stay decimals: the writers (`lib/reports/sheets.py`) keep them numbers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from orchestration.lib.reports.periods import Period, choose_period, period_label
from orchestration.lib.reports.translations import TEXTS, day, in_language, reject_detail, text
from orchestration.lib.reports.warehouse import Warehouse

# the kinds of value a column holds; the writers format by kind
TEXT, INT, LINE, EUR, HOURS, NUMBER, DATE, TIMESTAMP = (
    "text", "int", "line", "eur", "hours", "number", "date", "timestamp")
ANY = "any"  # text, a date or a timestamp, formatted by the type of each value


class Column(NamedTuple):
    key: str
    kind: str
    words: str  # the heading's key in translations.TEXTS

    def heading(self, lang: str) -> str:
        return text(self.words, lang)


class Table(NamedTuple):
    key: str  # file name of the CSV variant
    words: str  # the sheet name's key in translations.TEXTS
    source: str  # where the rows come from, for the reader
    columns: tuple[Column, ...]
    rows: list[tuple]

    def title(self, lang: str) -> str:
        return text(self.words, lang)

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


def C(key: str, kind: str, words: str) -> Column:  # noqa: N802 - reads like a table row
    return Column(key, kind, words)


CUSTOMER = (C("customer_id", TEXT, "ex_col_customer"),
            C("customer_name", TEXT, "ex_col_customer_name"))
SERVICE = (C("service_type_code", TEXT, "ex_col_service_type"),
           C("service_name", TEXT, "ex_col_service"))

SERVICE_COST = (
    C("period", TEXT, "ex_col_period"), *CUSTOMER, *SERVICE,
    C("rate_id", TEXT, "ex_col_rate_version"),
    C("transfer_kind", TEXT, "ex_col_transfer_kind"),
    C("activities", INT, "ex_col_activities"),
    C("minutes", NUMBER, "ex_col_minutes"),
    C("hours", HOURS, "ex_col_hours"),
    C("participants", INT, "ex_col_participants"),
    C("standard_cost_eur", EUR, "ex_col_standard_cost"),
    C("billed_amount_eur", EUR, "ex_col_billed"),
    C("value_transfer_eur", EUR, "ex_col_value_transfer"),
)

LEDGER = (
    C("activity_date", DATE, "ex_col_date"),
    C("activity_id", TEXT, "ex_col_activity"), *CUSTOMER, *SERVICE,
    C("rate_id", TEXT, "ex_col_rate_version"),
    C("transfer_kind", TEXT, "ex_col_transfer_kind"),
    C("employee_id", TEXT, "ex_col_employee"),
    C("duration_minutes", NUMBER, "ex_col_minutes"),
    C("participants", INT, "ex_col_participants"),
    C("standard_cost_eur", EUR, "ex_col_standard_cost"),
    C("billed_amount_eur", EUR, "ex_col_billed"),
    C("value_transfer_eur", EUR, "ex_col_value_transfer"),
    C("source_file", TEXT, "ex_col_source_file"),
    C("line_number", LINE, "ex_col_line"),
)

RATES = (
    C("rate_id", TEXT, "ex_col_rate_version"),
    C("rate_source", TEXT, "ex_col_rate_source"),
    C("department", TEXT, "ex_col_department"), *SERVICE,
    C("valid_from", DATE, "ex_col_valid_from"),
    C("valid_to", DATE, "ex_col_valid_to_exclusive"),
    C("hourly_rate_eur", EUR, "ex_col_hourly_rate"),
    C("cost_per_event_eur", EUR, "ex_col_per_event"),
    C("cost_per_participant_eur", EUR, "ex_col_per_participant"),
    C("activities", INT, "ex_col_activities_priced"),
    C("hours", HOURS, "ex_col_hours"),
    C("standard_cost_eur", EUR, "ex_col_standard_cost"),
    C("value_transfer_eur", EUR, "ex_col_value_transfer"),
)

CAPACITY = (
    C("department", TEXT, "ex_col_department"),
    C("capacity_cost_eur", EUR, "ex_col_capacity_cost"),
    C("practical_minutes", NUMBER, "ex_col_practical_minutes"),
    C("used_minutes", NUMBER, "ex_col_used_minutes"),
    C("unused_minutes", NUMBER, "ex_col_unused_minutes"),
    C("assigned_cost_eur", EUR, "ex_col_assigned_cost"),
    C("value_transfer_cost_eur", EUR, "ex_col_assigned_value_transfer"),
    C("unused_capacity_cost_eur", EUR, "ex_col_unused_capacity_cost"),
    C("rate_rounding_eur", EUR, "ex_col_rate_rounding"),
    C("non_practical_cost_eur", EUR, "ex_col_non_practical_cost"),
)

UNPRICED = (
    C("activity_date", DATE, "ex_col_date"),
    C("activity_id", TEXT, "ex_col_activity"), *CUSTOMER, *SERVICE,
    C("duration_minutes", NUMBER, "ex_col_minutes"),
    C("participants", INT, "ex_col_participants"),
    C("billed_amount_eur", EUR, "ex_col_billed"),
    C("reason", TEXT, "ex_col_reason"),
)

LOAD_LOG = (
    C("extract_date", DATE, "ex_col_delivery"),
    C("source_file", TEXT, "ex_col_file"),
    C("entity", TEXT, "ex_col_extract"),
    C("rows_read", INT, "ex_col_rows_read"),
    C("rows_loaded", INT, "ex_col_loaded"),
    C("rows_rejected", INT, "ex_col_rejected"),
    C("open_rejections", INT, "ex_col_of_which_open"),
    C("dialect", TEXT, "ex_col_format"),
    C("expectations_passed", TEXT, "ex_col_gx_suite_passed"),
    C("identical_to", TEXT, "ex_col_identical_to"),
    C("loaded_at", TIMESTAMP, "ex_col_loaded_at"),
    C("sha256", TEXT, "ex_col_sha_256"),
)

REJECTED = (
    C("extract_date", DATE, "ex_col_delivery"),
    C("source_file", TEXT, "ex_col_file"),
    C("line_number", LINE, "ex_col_line"),
    C("entity", TEXT, "ex_col_extract"),
    C("reason", TEXT, "ex_col_reason"),
    C("reason_code", TEXT, "ex_col_code"),
    C("detail", TEXT, "ex_col_detail"),
    C("state", TEXT, "ex_col_state"),
    C("resolved_extract_date", DATE, "ex_col_resolved_by_delivery"),
    C("raw_record", TEXT, "ex_col_record_as_delivered"),
)

CLV = (
    C("as_of_date", DATE, "ex_col_as_of"), *CUSTOMER,
    C("purchases", INT, "ex_col_purchase_days"),
    C("frequency", INT, "ex_col_repeat_purchase_days"),
    C("recency_days", INT, "ex_col_recency_days"),
    C("t_days", INT, "ex_col_t_days"),
    C("avg_margin_per_purchase_eur", EUR, "ex_col_margin_per_purchase"),
    C("p_alive", NUMBER, "ex_col_p_alive"),
    C("expected_purchases", NUMBER, "ex_col_expected_purchases"),
    C("expected_revenue_eur", EUR, "ex_col_expected_revenue"),
    C("expected_margin_eur", EUR, "ex_col_expected_margin"),
    C("clv_eur", EUR, "ex_col_clv"),
    C("horizon_months", INT, "ex_col_horizon_months"),
)

CLV_MODEL = (
    C("as_of_date", DATE, "ex_col_as_of"),
    C("model", TEXT, "ex_col_model"),
    C("parameter", TEXT, "ex_col_parameter"),
    C("value", NUMBER, "ex_col_value"),
    C("log_likelihood", NUMBER, "ex_col_log_likelihood"),
    C("customers", INT, "ex_col_customers_fitted"),
    C("time_unit", TEXT, "ex_col_time_unit"),
)

PERIOD = (
    C("item", TEXT, "ex_col_item_period"),
    C("value", ANY, "ex_col_value"),
)

RECONCILIATION = (
    C("item", TEXT, "ex_col_item_check"),
    C("unit", TEXT, "ex_col_unit"),
    C("in_export", NUMBER, "ex_col_in_the_export"),
    C("in_marts", NUMBER, "ex_col_in_the_marts"),
    C("difference", NUMBER, "ex_col_difference"),
    C("source", TEXT, "ex_col_source_in_the_marts"),
)


def _service_name(lang: str) -> str:
    """The catalogue's column of the service's name in the reader's language."""
    return in_language(lang, de="s.name_de", en="s.name_en")


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
    rows = con.execute(
        f"""
        select r.rate_id, r.rate_source, r.department, r.service_type_code,
               {_service_name(lang)}, r.valid_from,
               r.valid_to, r.hourly_rate_eur, r.cost_per_event_eur,
               r.cost_per_participant_eur, count(*),
               cast(sum(a.costed_minutes) / 60 as decimal(18, 4)),
               sum(a.standard_cost_eur), sum(a.value_transfer_eur)
        from marts.fct_service_activities as a
        inner join marts.capacity_cost_rates as r on a.rate_id = r.rate_id
        inner join marts.dim_service_types as s on r.service_type_code = s.service_type_code
        where a.period_start = ?
        group by all
        order by r.service_type_code, r.valid_from, r.department nulls first
        """,
        [period.start],
    ).fetchall()
    return [(row[0], text(f"ex_rate_{row[1]}", lang), *row[2:]) for row in rows]


def _capacity(con, period: Period, lang: str) -> list[tuple]:
    return con.execute(
        """
        select department, capacity_cost_eur, practical_minutes, used_minutes,
               unused_minutes, assigned_cost_eur, value_transfer_cost_eur,
               unused_capacity_cost_eur, rate_rounding_eur, non_practical_cost_eur
        from marts.department_capacity
        where period_start = ?
        order by department
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
    reason = text("ex_unpriced_reason", lang, service_type=service_type, day=day(on_day, lang))
    if next_valid_from:
        reason += " " + text("ex_unpriced_next_rate", lang, day=day(next_valid_from, lang))
    return reason


def _load_log(con, period: Period, lang: str) -> list[tuple]:
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
        [text("ex_yes", lang), text("ex_no", lang)],
    ).fetchall()


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
        # open: waits for a snapshot that brings its customer; resolved: taken in since;
        # final: only a corrected re-delivery replaces it
        [text(f"ex_state_{state}", lang) for state in ("open", "resolved", "final")],
    ).fetchall()
    return [(*row[:4], text(f"reason_{row[4]}", lang) if f"reason_{row[4]}" in TEXTS else row[4],
             row[5], reject_detail(row[6], lang), *row[7:]) for row in rows]


def _clv(con, period: Period, lang: str) -> list[tuple]:
    """Every customer's forecast as of the data's end, whatever the period: the purchase
    model has one as-of date. Empty figures where the model was not fitted."""
    return con.execute(
        """
        select l.as_of_date, l.customer_id, c.customer_name, l.purchases, l.frequency,
               l.recency_days, l.t_days, l.avg_margin_per_purchase_eur, l.p_alive,
               l.expected_purchases, l.expected_revenue_eur, l.expected_margin_eur,
               l.clv_eur, l.horizon_months
        from marts.customer_lifetime_value as l
        left join marts.dim_customers as c on l.customer_id = c.customer_id
        order by l.customer_id
        """
    ).fetchall()


def _clv_model(con, period: Period, lang: str) -> list[tuple]:
    """The fitted models' parameters (BG/NBD per week); no rows when none was fitted."""
    return con.execute(
        """
        select as_of_date, model, parameter, value, log_likelihood, customers, time_unit
        from marts.clv_model
        order by model, parameter
        """
    ).fetchall()


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
    capacity = con.execute(
        "select sum(capacity_cost_eur) from marts.department_capacity where period_start = ?",
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
        "capacity_cost": capacity[0],
    }
    return {key: Decimal(figure or 0) for key, figure in figures.items()}


# the item's words (translations.TEXTS), its unit, the export's figure, the marts' figure,
# where that comes from
_CHECKS = (
    ("ex_check_value_transfer_service_cost_by_customer",
     "eur", lambda t: t["service_cost"].total("value_transfer_eur"), "value_transfer",
     "marts.customer_value.value_transfer_eur"),
    ("ex_check_value_transfer_ledger",
     "eur", lambda t: t["ledger"].total("value_transfer_eur"), "segment_value_transfer",
     "marts.segment_summary.value_transfer_eur"),
    ("ex_check_value_transfer_rate_versions",
     "eur", lambda t: t["rates"].total("value_transfer_eur"), "value_transfer",
     "marts.customer_value.value_transfer_eur"),
    ("ex_check_standard_cost_service_cost_by_customer",
     "eur", lambda t: t["service_cost"].total("standard_cost_eur"), "standard_cost",
     "marts.fct_service_activities.standard_cost_eur"),
    ("ex_check_standard_cost_rate_versions",
     "eur", lambda t: t["rates"].total("standard_cost_eur"), "standard_cost",
     "marts.fct_service_activities.standard_cost_eur"),
    ("ex_check_billed_service_cost_by_customer",
     "eur", lambda t: t["service_cost"].total("billed_amount_eur"), "billed",
     "marts.fct_service_activities.billed_amount_eur"),
    ("ex_check_minutes_service_cost_by_customer",
     "minutes", lambda t: t["service_cost"].total("minutes"), "minutes",
     "marts.customer_value.service_minutes"),
    ("ex_check_activities_service_cost_by_customer",
     "count", lambda t: t["service_cost"].total("activities"), "activities",
     "marts.customer_value.service_activities"),
    ("ex_check_activities_priced_rate_versions_unpriced",
     "count", lambda t: t["rates"].total("activities") + len(t["unpriced"].rows), "activities",
     "marts.customer_value.service_activities"),
    ("ex_check_unpriced_activities",
     "count", lambda t: len(t["unpriced"].rows), "unpriced",
     "marts.customer_value.unpriced_activities"),
    ("ex_check_capacity_cost",
     "eur", lambda t: (t["capacity"].total("assigned_cost_eur")
                       + t["capacity"].total("unused_capacity_cost_eur")
                       + t["capacity"].total("rate_rounding_eur")), "capacity_cost",
     "marts.department_capacity.capacity_cost_eur"),
    ("ex_check_rejected_rows",
     "count", lambda t: len(t["rejected_rows"].rows), "rejected",
     "audit.load_log.rows_rejected"),
    ("ex_check_rejected_rows_open_load_log",
     "count", lambda t: t["load_log"].total("open_rejections"), "open",
     "audit.rejected_rows.is_open"),
)


def _reconciliation(tables: dict[str, Table], marts: dict[str, Decimal], lang: str):
    """Each total of the export beside the same figure read from the marts."""
    rows = []
    for item, unit, in_export, figure, source in _CHECKS:
        mine = Decimal(in_export(tables))
        rows.append((text(item, lang), text(f"ex_unit_{unit}", lang), mine, marts[figure],
                     mine - marts[figure], source))
    return rows


def _period_rows(period: Period, warehouse: Path, created_at: dt.datetime, lang: str):
    items = (
        ("ex_item_period", period_label(period, lang)),
        ("ex_item_start", period.start),
        ("ex_item_end", period.end),
        ("ex_item_data_through", period.data_through),
        ("ex_item_complete", text("ex_yes" if period.is_complete else "ex_no", lang)),
        ("ex_item_warehouse", str(warehouse)),
        ("ex_item_created_at", created_at),
    )
    return [(text(item, lang), value) for item, value in items]


TABLES = (
    # key, the sheet name's words (translations.TEXTS), source, columns, reader
    ("service_cost", "ex_table_service_cost_by_customer",
     "marts.fct_service_activities", SERVICE_COST, _service_cost),
    ("ledger", "ex_table_value_transfer_ledger",
     "marts.fct_value_transfers", LEDGER, _ledger),
    ("rates", "ex_table_rate_versions",
     "marts.capacity_cost_rates, marts.fct_service_activities", RATES, _rates),
    ("capacity", "ex_table_capacity",
     "marts.department_capacity", CAPACITY, _capacity),
    ("unpriced", "ex_table_unpriced_activities",
     "marts.fct_service_activities (is_priced = false)", UNPRICED, _unpriced),
    ("load_log", "ex_table_load_log", "audit.load_log", LOAD_LOG, _load_log),
    ("rejected_rows", "ex_table_rejected_rows", "audit.rejected_rows", REJECTED,
     _rejected_rows),
    ("clv", "ex_table_clv", "marts.customer_lifetime_value", CLV, _clv),
    ("clv_model", "ex_table_clv_model", "marts.clv_model", CLV_MODEL, _clv_model),
)


def build_export(warehouse: Path, period: str | None = None, lang: str = "de") -> Export:
    """Every table of the export of `period` (default: the latest), read from `warehouse`
    over one read-only connection."""
    with Warehouse(warehouse).reader() as con:
        chosen = choose_period(con, period)
        tables = {
            key: Table(key, words, source, columns, reader(con, chosen, lang))
            for key, words, source, columns, reader in TABLES
        }
        marts = _marts_totals(con, chosen)
    created_at = dt.datetime.now().replace(microsecond=0)
    overview = Table("period", "ex_table_period", "marts.customer_value", PERIOD,
                     _period_rows(chosen, warehouse, created_at, lang))
    reconciliation = Table(
        "reconciliation", "ex_table_reconciliation", "marts.*, audit.*",
        RECONCILIATION, _reconciliation(tables, marts, lang),
    )
    return Export(chosen, lang, warehouse, created_at,
                  (overview, reconciliation, *tables.values()))
