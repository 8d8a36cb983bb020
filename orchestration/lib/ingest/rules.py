"""Row rules as DuckDB SQL, built from the spec: one reason per row, first that applies.

Everything here returns SQL text; nothing touches a connection. The loader runs it
set-based over the whole file (no Python loop per row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from orchestration import settings
from orchestration.lib.ingest import values
from orchestration.lib.ingest.spec import (
    DUPLICATE_KEY,
    EARLIEST_EVENT_DATE,
    INVALID_DATE,
    INVALID_ENCODING,
    INVALID_NUMBER,
    INVALID_VALUE,
    MISSING_REQUIRED_FIELD,
    NEGATIVE_VALUE,
    REASONS,
    RECORD_TOO_LONG,
    UNKNOWN_CURRENCY_RATE,
    UNKNOWN_CUSTOMER,
    UNKNOWN_SERVICE_TYPE,
    UNMAPPED_SERVICE_TYPE,
    Column,
    EntitySpec,
)
from orchestration.lib.sql import quote_ident
from orchestration.lib.sql import sql_literal as quote_literal


@dataclass(frozen=True)
class FileFacts:
    """What the rules know of the file besides its rows."""

    catalogue: frozenset[str]  # the service types
    width: int  # fields of the header
    extract_date: dt.date  # the delivery's
    timezone: str = ""  # the source time zone of naive timestamps; "" = the setting's

    @property
    def zone(self) -> str:
        return self.timezone or settings.source_timezone()




def text_ref(column: Column) -> str:
    """The trimmed raw text of a column in the staging query (NULL when empty)."""
    return quote_ident(f"t_{column.name}")


def _stamp_ref(column: Column, part: str) -> str:
    """A timestamp column's parts in the staging query: `utc` (text with an offset), `local`
    (naive text), `before` / `after` (the zone's offsets around its local date, see
    values.day_offsets_sql), `problem` ('nonexistent' | 'ambiguous' local time)."""
    return quote_ident(f"{part}_{column.name}")


DecimalComma = bool | Callable[[str], bool]  # for every decimal column, or per column name


def typed_sql(column: Column, decimal_comma: DecimalComma, zone: str) -> str:
    """The typed value of a column, computed from its trimmed text (a timestamp from its
    parts and its date's offsets); `decimal_comma` says a decimal column's number format."""
    value = text_ref(column)
    if column.kind == "text":
        if column.case == "lower":
            return f"lower({value})"
        if column.case == "upper":
            return f"upper({value})"
        return value
    if column.kind == "timestamp":
        local = values.local_to_utc_sql(
            _stamp_ref(column, "local"), _stamp_ref(column, "before"),
            _stamp_ref(column, "after"), quote_literal(zone),
        )
        return f"coalesce({_stamp_ref(column, 'utc')}, {local})"
    if callable(decimal_comma):
        decimal_comma = decimal_comma(column.name)
    return values.parse_sql(column.kind, value, decimal_comma)


def _shown(column: Column) -> str:
    """SQL for "<column>: '<value>'" in a detail text."""
    return f"{quote_literal(column.name + ': ')} || '''' || {text_ref(column)} || ''''"


Check = tuple[str, str, str]  # (condition, reason, detail SQL)


def _unread(reason: str):
    """The check of a record that reading.py could not read (its `problem` is `reason`)."""
    def checks(spec: EntitySpec, facts: FileFacts) -> list[Check]:
        return [(f"problem = {quote_literal(reason)}", reason, "problem_detail")]
    return checks


def _missing(spec: EntitySpec, facts: FileFacts) -> list[Check]:
    return [
        (f"{text_ref(c)} is null", MISSING_REQUIRED_FIELD, quote_literal(f"{c.name} is empty"))
        for c in spec.columns if c.required
    ]


def _numbers(spec: EntitySpec, facts: FileFacts) -> list[Check]:
    checks = []
    for c in spec.columns:
        if c.kind in ("int", "decimal"):
            what = "an integer" if c.kind == "int" else "a number"
            checks.append(
                (f"{text_ref(c)} is not null and {quote_ident(c.name)} is null",
                 INVALID_NUMBER, f"{_shown(c)} || {quote_literal(f' is not {what}')}")
            )
    return checks


def _dates(spec: EntitySpec, facts: FileFacts) -> list[Check]:
    """A date or timestamp that does not parse; an event date outside EARLIEST_EVENT_DATE ..
    the extract date; a naive timestamp that does not exist or is ambiguous in the zone."""
    checks = []
    for c in spec.columns:
        if c.kind == "date":
            checks.append((f"{text_ref(c)} is not null and {quote_ident(c.name)} is null",
                           INVALID_DATE, f"{_shown(c)} || ' is not a date'"))
        if c.event_date:
            earliest, extract = EARLIEST_EVENT_DATE.isoformat(), facts.extract_date.isoformat()
            checks += [
                (f"{quote_ident(c.name)} < DATE '{earliest}'", INVALID_DATE,
                 f"{_shown(c)} || ' is before {earliest}'"),
                (f"{quote_ident(c.name)} > DATE '{extract}'", INVALID_DATE,
                 f"{_shown(c)} || ' is after the extract date {extract}'"),
            ]
        if c.kind == "timestamp":
            problem, zone = _stamp_ref(c, "problem"), quote_literal(facts.zone)
            checks += [
                (f"{text_ref(c)} is not null and {_stamp_ref(c, 'utc')} is null and "
                 f"{_stamp_ref(c, 'local')} is null",
                 INVALID_DATE, f"{_shown(c)} || ' is not a timestamp'"),
                (f"{problem} = 'nonexistent'", INVALID_DATE,
                 f"{_shown(c)} || ' does not exist in ' || {zone} "
                 "|| ' (the clocks skip that hour)'"),
                (f"{problem} = 'ambiguous'", INVALID_DATE,
                 f"{_shown(c)} || ' is ambiguous in ' || {zone} "
                 "|| ' (the clocks repeat that hour); give it with its offset'"),
            ]
    return checks


def _values(spec: EntitySpec, facts: FileFacts) -> list[Check]:
    """A record whose field count is not the header's, a value outside its allowed set, a
    value that does not match its pattern."""
    width = facts.width
    checks = [
        # a native record of a source system with a wrong field count (adapters/)
        (f"problem = {quote_literal(INVALID_VALUE)}", INVALID_VALUE, "problem_detail"),
        (f"n_fields <> {width}", INVALID_VALUE,
         f"'record has ' || n_fields || ' fields, the header {width}'"),
    ]
    for c in spec.columns:
        if c.allowed:
            values = ", ".join(quote_literal(v) for v in c.allowed)
            checks.append(
                (f"{text_ref(c)} is not null and lower({text_ref(c)}) not in ({values})",
                 INVALID_VALUE,
                 f"{_shown(c)} || {quote_literal(' is not one of ' + ', '.join(c.allowed))}")
            )
        if c.pattern:
            checks.append(
                (f"{text_ref(c)} is not null and not regexp_full_match({text_ref(c)}, "
                 f"{quote_literal(c.pattern)})",
                 INVALID_VALUE, f"{_shown(c)} || ' is not a valid {c.name}'")
            )
    return checks


def _below_minimum(spec: EntitySpec, facts: FileFacts) -> list[Check]:
    return [
        (f"{quote_ident(c.name)} < {c.min_value}", NEGATIVE_VALUE,
         f"{_shown(c)} || {quote_literal(f' is below {c.min_value}')}")
        for c in spec.columns if c.min_value is not None
    ]


def _service_type(spec: EntitySpec, facts: FileFacts) -> list[Check]:
    if not spec.checks_service_type:
        return []
    c = spec.column("service_type_code")
    codes = ", ".join(quote_literal(code) for code in sorted(facts.catalogue)) or "NULL"
    return [
        (f"{text_ref(c)} not in ({codes})", UNKNOWN_SERVICE_TYPE,
         f"{_shown(c)} || ' is not in the service catalogue'")
    ]


# the checks of one row on its own, by reason; the reasons that compare rows with other rows
# (duplicate_key, unknown_customer) are in `rejections_sql`
ROW_CHECKS = {
    RECORD_TOO_LONG: _unread(RECORD_TOO_LONG),
    INVALID_ENCODING: _unread(INVALID_ENCODING),
    # judged by a source adapter (adapters/), which writes them as the record's problem
    UNMAPPED_SERVICE_TYPE: _unread(UNMAPPED_SERVICE_TYPE),
    UNKNOWN_CURRENCY_RATE: _unread(UNKNOWN_CURRENCY_RATE),
    MISSING_REQUIRED_FIELD: _missing,
    INVALID_NUMBER: _numbers,
    INVALID_DATE: _dates,
    INVALID_VALUE: _values,
    NEGATIVE_VALUE: _below_minimum,
    UNKNOWN_SERVICE_TYPE: _service_type,
}


def row_checks(spec: EntitySpec, facts: FileFacts) -> list[Check]:
    """(condition, reason, detail SQL) in the order of spec.REASONS.

    The conditions read the staging columns t_<col> (trimmed text), <col> (typed value), a
    timestamp's utc_/local_/problem_<col>, n_fields (fields the record really had) and
    problem / problem_detail (a record reading.py could not read).
    """
    return [
        check
        for reason in REASONS if reason in ROW_CHECKS
        for check in ROW_CHECKS[reason](spec, facts)
    ]


def case_sql(checks: list[Check], pick: int) -> str:
    """CASE over the checks returning the reason (pick=1) or the detail (pick=2)."""
    if not checks:
        return "NULL::VARCHAR"
    whens = " ".join(
        f"when {cond} then {quote_literal(reason) if pick == 1 else detail}"
        for cond, reason, detail in checks
    )
    return f"case {whens} end"


def staging_sql(
    spec: EntitySpec,
    positions: dict[str, int],
    decimal_comma: DecimalComma,
    facts: FileFacts,
    source: str = "_src",
) -> str:
    """SELECT over `source` (c0.., reading.RECORD_COLUMNS): line_number, the typed columns and
    reason1/detail1 (the first per-row check that fails).

    Columns absent from the header (optional ones) read as NULL. The raw texts are not kept:
    the few rejected rows get theirs back from `_src` by line_number (`raw_record_sql`).
    A timestamp column is parsed in `stamps` (offset or naive); its naive values get the
    offsets of their local date in `zoned`: looked up in `zone_days` (one row per date from
    EARLIEST_EVENT_DATE to the day after the extract date, values.zone_offsets_sql), computed
    on the row for a date outside those. `zone_days` does not read the rows, so the query
    reads `source` once and streams (were the dates taken from the rows, DuckDB would have to
    keep every row until it knew them all).
    """
    texts = []
    for c in spec.columns:
        if c.name in positions:
            texts.append(f"nullif(trim(c{positions[c.name]}), '') as {text_ref(c)}")
        else:
            texts.append(f"NULL::VARCHAR as {text_ref(c)}")
    stamps = [c for c in spec.columns if c.kind == "timestamp"]
    parts = ["*"] + [
        f"{values.offset_instant_sql(text_ref(c))} as {_stamp_ref(c, 'utc')}, "
        f"{values.timestamp_sql(text_ref(c))} as {_stamp_ref(c, 'local')}"
        for c in stamps
    ]
    zone = quote_literal(facts.zone)
    zones = ""
    if stamps:
        last = facts.extract_date + dt.timedelta(days=1)
        zones = f", zone_days as ({values.zone_offsets_sql(EARLIEST_EVENT_DATE, last, zone)})"
    offsets, joins = ["s.*"], ""
    for c in stamps:
        found = quote_ident(f"zone_{c.name}")
        day = f"cast(s.{_stamp_ref(c, 'local')} as date)"
        before, after = values.day_offsets_sql(day, zone)
        joins += f" left join zone_days as {found} on {found}.day = {day}"
        offsets.append(f"coalesce({found}.before, {before}) as {_stamp_ref(c, 'before')}, "
                       f"coalesce({found}.after, {after}) as {_stamp_ref(c, 'after')}")
    typed = [f"{typed_sql(c, decimal_comma, facts.zone)} as {quote_ident(c.name)}"
             for c in spec.columns]
    typed += [
        values.local_time_problem_sql(
            _stamp_ref(c, "local"), _stamp_ref(c, "before"), _stamp_ref(c, "after"), zone,
        ) + f" as {_stamp_ref(c, 'problem')}"
        for c in stamps
    ]
    checks = row_checks(spec, facts)
    columns = ", ".join(quote_ident(c) for c in spec.column_names)
    return f"""
        with texts as (
            select line_number, n_fields, nullif(problem, '') as problem, problem_detail,
                   {", ".join(texts)}
            from {source}
        ),
        stamps as (
            select {", ".join(parts)} from texts
        ){zones},
        zoned as (
            select {", ".join(offsets)} from stamps as s{joins}
        ),
        typed as (
            select *, {", ".join(typed)} from zoned
        )
        select line_number, {columns},
               {case_sql(checks, 1)} as reason1, {case_sql(checks, 2)} as detail1
        from typed
    """


def rejections_sql(spec: EntitySpec) -> str:
    """SELECT over `_typed` giving the rejected rows only: line_number, reason, detail.

    reason1 (per-row checks) first; then duplicate_key: among rows that passed the per-row
    checks, same key and same updated_at (NULL equals NULL) with more than one distinct
    content -> every copy (identical copies share one content hash and all load); then
    unknown_customer: customer_id in no customers snapshot loaded so far (any folder: a
    reloaded older delivery must not lose rows whose customer arrived later).
    The duplicate groups come from a grouped aggregate (usually empty) joined back, so no
    window has to hold the whole file. That aggregate sees only the rows whose key's hash
    occurs more than once (`repeated`: one number per row to group, where the key and every
    column's hash would make a table as big as the file); a shared hash of different keys
    only adds rows that the aggregate then tells apart.
    """
    keys = [*spec.key, "updated_at"]
    key = ", ".join(quote_ident(k) for k in keys)
    content = ", ".join(quote_ident(c) for c in spec.column_names)
    on = " and ".join(f"t.{quote_ident(k)} is not distinct from d.{quote_ident(k)}" for k in keys)
    key_text = " || ', ' || ".join(
        f"{quote_literal(k + '=')} || coalesce(cast(t.{quote_ident(k)} as varchar), '')"
        for k in spec.key
    )
    if spec.checks_customer:
        unknown = "known.customer_id is null"
        join = """
            left join (
                select distinct customer_id from raw.customers
            ) as known on known.customer_id = t.customer_id"""
    else:
        unknown, join = "false", ""
    return f"""
        with repeated as (
            select hash({key}) as key_hash from _typed where reason1 is null
            group by key_hash having count(*) > 1
        ),
        dups as (
            select {key}, true as is_dup from _typed
            where reason1 is null and hash({key}) in (select key_hash from repeated)
            group by {key} having min(hash({content})) <> max(hash({content}))
        ),
        judged as (
            select t.line_number,
                case when t.reason1 is not null then t.reason1
                     when d.is_dup then {quote_literal(DUPLICATE_KEY)}
                     when {unknown} then {quote_literal(UNKNOWN_CUSTOMER)} end as reason,
                case when t.reason1 is not null then t.detail1
                     when d.is_dup then 'key ' || {key_text}
                          || ' appears with the same updated_at and different content'
                     when {unknown} then 'customer_id: ''' || t.customer_id
                          || ''' is in no customers snapshot loaded so far' end as detail
            from _typed as t
            left join dups as d on t.reason1 is null and {on}
            {join}
        )
        select * from judged where reason is not null
    """


def raw_record_sql(header: list[str], alias: str = "s") -> str:
    """The raw_record JSON text (header name -> raw text) over the c0.. columns of `_src`."""
    pairs = ", ".join(f"{quote_literal(name)}, {alias}.c{i}" for i, name in enumerate(header))
    return f"cast(json_object({pairs}) as varchar)" if pairs else "'{}'"
