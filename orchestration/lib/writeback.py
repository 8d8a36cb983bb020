"""The write-back: a period's results per customer, as the import file a CRM's own bulk tool
takes, with only the customers whose values changed since the last write-back to that system.

Targets and their files (UTF-8 without BOM, comma, LF, a header line, dates YYYY-MM-DD, amounts
in EUR with a decimal point and two places):

- `salesforce`: an upsert CSV for Bulk API 2.0 or Data Loader on Account, keyed by `Id` (or an
  external id field named in the settings), custom fields `CVM_…__c`;
- `hubspot`: a company import keyed by `Record ID`, properties by internal name `cvm_…`;
- `dynamics`: an account import keyed by `accountid`, columns by logical name `cvm_…`;
- `zendesk`: an organization import keyed by `id`, organization fields as `custom_fields.<key>`.

The fields (FIELDS): segment, strategy, classic value, value transfer, profit after service,
data through, and the CLV where the warehouse has `marts.customer_lifetime_value`. Their column
names, the key column and the strategy's language are settings: defaults here (DEFAULTS), a
YAML file ($CVM_WRITEBACK_CONFIG) overrides them per target; a field named `null` there is
left out of that target's file.

The key is the system's own id of the customer: the one `reference.source_customer_ids` holds
for that system, else the warehouse's `customer_id`.

The ledger (`audit.writeback_ledger`) lives in its own DuckDB file in the store,
`<store>/writeback.duckdb`: publishing replaces the published catalog, never this file. The
marts are read and the ledger written under the writer's lock, so a write-back never runs
beside a load. A customer goes into the next file when its key or any value
but `data_through` differs from what was last written to that target (the date alone moves with
every load and is not a change). The file is written first (a temporary file, then renamed into
place) inside the ledger's transaction: a file that could not be written records nothing; a
ledger that could not be committed after the file was written leaves those customers to be
written again next time (an upsert of the same values is harmless).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import yaml

from orchestration.lib.reports.errors import ReportError
from orchestration.lib.reports.periods import Period, choose_period
from orchestration.lib.reports.warehouse import Warehouse
from orchestration.lib.sql import has_table
from orchestration.lib.warehouse.lock import write_lock
from orchestration.lib.warehouse.store import Store, fsync_dir, store_root

TARGETS = ("salesforce", "hubspot", "dynamics", "zendesk")
# the fields, in the file's column order; `data_through` is written but is no change
FIELDS = ("segment", "strategy", "classic_value", "value_transfer", "profit_after_service",
          "data_through", "clv")
CHANGE_FIELDS = tuple(name for name in FIELDS if name != "data_through")
LANGUAGES = ("de", "en")
LEDGER_FILE = "writeback.duckdb"


def _names(style) -> dict[str, str]:
    return {name: style(name) for name in FIELDS}


DEFAULTS: dict[str, dict] = {
    "salesforce": {
        "key": "Id",
        "fields": _names(lambda n: "CVM_" + "_".join(
            "CLV" if w == "clv" else w.capitalize() for w in n.split("_")) + "__c"),
    },
    "hubspot": {"key": "Record ID", "fields": _names(lambda n: f"cvm_{n}")},
    "dynamics": {"key": "accountid", "fields": _names(lambda n: f"cvm_{n}")},
    "zendesk": {"key": "id", "fields": _names(lambda n: f"custom_fields.cvm_{n}")},
}
DEFAULT_LANGUAGE = "de"

LEDGER_DDL = (
    "create schema if not exists audit",
    """create table if not exists audit.writeback_ledger (
        target VARCHAR, customer_id VARCHAR, record_id VARCHAR, period_key VARCHAR,
        segment VARCHAR, strategy VARCHAR, classic_value_eur DECIMAL(18, 2),
        value_transfer_eur DECIMAL(18, 2), profit_after_service_eur DECIMAL(18, 2),
        data_through DATE, clv_eur DECIMAL(18, 2), written_at TIMESTAMP, file VARCHAR)""",
)
# ledger column of each field
LEDGER_COLUMNS = {"segment": "segment", "strategy": "strategy",
                  "classic_value": "classic_value_eur", "value_transfer": "value_transfer_eur",
                  "profit_after_service": "profit_after_service_eur",
                  "data_through": "data_through", "clv": "clv_eur"}


class WritebackError(ReportError):
    """A write-back that cannot be made: an unknown target, bad settings, a file that cannot
    be written. The message is the line to show."""


@dataclass(frozen=True)
class TargetConfig:
    """What one target's file looks like: its key column, the column of each field it holds
    (in FIELDS order), and the language of the strategy."""

    target: str
    key: str
    columns: dict[str, str]
    language: str = DEFAULT_LANGUAGE


def target_config(target: str, config_file: Path | None = None) -> TargetConfig:
    """The settings of `target`: the defaults, overridden by the YAML `config_file` (the
    setting $CVM_WRITEBACK_CONFIG when None and set)."""
    if target not in TARGETS:
        raise WritebackError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    if config_file is None:
        from orchestration import settings

        config_file = settings.writeback_config()
    key, columns = DEFAULTS[target]["key"], dict(DEFAULTS[target]["fields"])
    language = DEFAULT_LANGUAGE
    if config_file is not None:
        found = _read_config(Path(config_file)).get(target) or {}
        where = f"{config_file}: {target}"
        if not isinstance(found, dict):
            raise WritebackError(f"{where}: expected a mapping of key, fields, language")
        unknown = set(found) - {"key", "fields", "language"}
        if unknown:
            raise WritebackError(f"{where}: unknown setting {sorted(unknown)[0]!r} "
                                 "(settings: key, fields, language)")
        key = _name(found.get("key", key), f"{where}.key")
        language = found.get("language", language)
        if language not in LANGUAGES:
            raise WritebackError(f"{where}.language: {language!r} is no language; give "
                                 f"{' or '.join(LANGUAGES)}")
        fields = found.get("fields") or {}
        if not isinstance(fields, dict):
            raise WritebackError(f"{where}.fields: expected a mapping of field to column")
        for name, column in fields.items():
            if name not in FIELDS:
                raise WritebackError(f"{where}.fields: unknown field {name!r} (fields: "
                                     f"{', '.join(FIELDS)})")
            if column is None:
                columns.pop(name)
            else:
                columns[name] = _name(column, f"{where}.fields.{name}")
    names = [key, *columns.values()]
    if len(set(names)) != len(names):
        raise WritebackError(f"{config_file}: {target}: two columns have the same name")
    return TargetConfig(target, key, columns, language)


def _name(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise WritebackError(f"{where}: {value!r} is no column name")
    return value.strip()


def _read_config(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise WritebackError(f"{path}: cannot be read: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" line {mark.line + 1}:" if mark is not None else ""
        problem = getattr(error, "problem", None) or "no YAML"
        raise WritebackError(f"{path}:{line} {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise WritebackError(f"{path}: expected a mapping of target to its settings")
    unknown = set(data) - set(TARGETS)
    if unknown:
        raise WritebackError(f"{path}: unknown target {sorted(unknown)[0]!r} (targets: "
                             f"{', '.join(TARGETS)})")
    return data


# --- the values -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One customer's values as the file writes them (text; '' for no value)."""

    customer_id: str
    record_id: str
    values: dict[str, str]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | float | int):
        return f"{Decimal(str(value)).quantize(Decimal('0.01'), rounding='ROUND_HALF_UP'):f}"
    return str(value)


def read_rows(con, period: Period, target: str, language: str) -> tuple[list[Row], bool]:
    """Every customer of `period` in marts.customer_value with its values and the key of
    `target`, by customer_id; and whether the warehouse has the CLV."""
    has_clv = has_table(con, "marts", "customer_lifetime_value")
    has_ids = has_table(con, "reference", "source_customer_ids")
    strategy = "cv.strategy_de" if language == "de" else "cv.strategy"
    clv = "lv.clv_eur" if has_clv else "null"
    sql = f"""
        select cv.customer_id, {'ids.source_customer_id' if has_ids else 'null'}, cv.segment,
               {strategy}, cv.classic_value_eur, cv.value_transfer_eur,
               cp.profit_after_service_eur, cv.data_through, {clv}
        from marts.customer_value as cv
        left join marts.customer_profitability as cp
          on cp.customer_id = cv.customer_id and cp.period_start = cv.period_start
        {'left join marts.customer_lifetime_value as lv on lv.customer_id = cv.customer_id'
         if has_clv else ''}
        {'left join reference.source_customer_ids as ids on ids.customer_id = cv.customer_id '
         'and ids.source_system = $target' if has_ids else ''}
        where cv.period_start = $start
        order by cv.customer_id"""
    params = {"start": period.start} | ({"target": target} if has_ids else {})
    rows = []
    for customer_id, native, *values in con.execute(sql, params).fetchall():
        rows.append(Row(customer_id, native or customer_id,
                        {name: _text(v) for name, v in zip(FIELDS, values, strict=True)}))
    return rows, has_clv


# --- the ledger -------------------------------------------------------------------------------

def ledger_path(published: Path) -> Path:
    """The write-back ledger of the warehouse `published`: `<store>/writeback.duckdb`."""
    return store_root(Path(published)) / LEDGER_FILE


def last_written(con, target: str) -> dict[str, Row]:
    """customer_id -> what was last written to `target` (as the file wrote it)."""
    columns = ", ".join(LEDGER_COLUMNS[name] for name in FIELDS)
    found = {}
    for customer_id, record_id, *values in con.execute(
        f"select customer_id, record_id, {columns} from audit.writeback_ledger "
        "where target = ? qualify row_number() over (partition by customer_id "
        "order by written_at desc) = 1", [target],
    ).fetchall():
        found[customer_id] = Row(customer_id, record_id,
                                 {name: _text(v) for name, v in zip(FIELDS, values, strict=True)})
    return found


def changed(row: Row, before: Row | None, fields) -> bool:
    """Whether `row` differs from what was last written: its key or a field's value
    (data_through alone is no change)."""
    if before is None or row.record_id != before.record_id:
        return True
    return any(row.values[name] != before.values[name] for name in fields
               if name in CHANGE_FIELDS)


# --- the file ---------------------------------------------------------------------------------

@dataclass
class Written:
    """One write-back: its file, period, target and the customers it holds."""

    path: Path
    target: str
    period: Period
    customers: int
    of: int  # customers of the period
    has_clv: bool
    columns: list[str] = field(default_factory=list)


def file_text(config: TargetConfig, rows: list[Row], fields: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([config.key, *(config.columns[name] for name in fields)])
    for row in rows:
        writer.writerow([row.record_id, *(row.values[name] for name in fields)])
    return out.getvalue()


def default_out(target: str, period: Period, now: dt.datetime | None = None) -> Path:
    """reports/writeback/<target>-<period>-<YYYYmmdd-HHMMSS>.csv: each file is a change set,
    so none overwrites another that may not be imported yet."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path("reports") / "writeback" / f"{target}-{period.key}-{stamp}.csv"


def write_back(published: Path, target: str, out: Path | None = None,
               period: str | None = None, *, everyone: bool = False,
               config_file: Path | None = None, folder: Path | None = None,
               what: str = "cvm writeback", on_wait=None) -> Written:
    """Write the import file of `target` for `period` (default: the latest) of the warehouse
    `published` to `out` (default: `default_out`, in `folder` when given), and record it in
    the ledger. `everyone` writes every customer of the period, changed or not."""
    config = target_config(target, config_file)
    warehouse = Warehouse(published)
    with warehouse.reader() as con:  # a missing warehouse or period: refused before the lock
        choose_period(con, period)
    ledger = ledger_path(published)
    with write_lock(Store(published, "duckdb"), what=what, on_wait=on_wait):
        # read under the lock: what a load that held it has just published
        with warehouse.reader() as con:
            chosen = choose_period(con, period)
            rows, has_clv = read_rows(con, chosen, target, config.language)
        fields = [name for name in FIELDS
                  if name in config.columns and (has_clv or name != "clv")]
        if out is None:
            out = default_out(target, chosen)
            if folder is not None:
                out = Path(folder) / out.name
        out = Path(out)
        con = _open_ledger(ledger)
        try:
            before = last_written(con, target)
            todo = [row for row in rows
                    if everyone or changed(row, before.get(row.customer_id), fields)]
            _write_and_record(con, out, file_text(config, todo, fields), target, chosen, todo,
                              fields)
        finally:
            con.close()
    return Written(out, target, chosen, len(todo), len(rows), has_clv,
                   [config.key, *(config.columns[name] for name in fields)])


def _open_ledger(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path))
    except (OSError, duckdb.Error) as error:
        raise WritebackError(f"{path}: the write-back ledger cannot be opened: "
                             f"{str(error).splitlines()[0]}; nothing written") from None
    for statement in LEDGER_DDL:
        con.execute(statement)
    return con


def _write_and_record(con, out: Path, text: str, target: str, period: Period,
                      rows: list[Row], fields: list[str]) -> None:
    """Write `text` to `out` and record `rows` in the ledger: both or, when the file cannot be
    written, neither (see the module docstring)."""
    temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    written_at = dt.datetime.now()
    con.execute("begin transaction")
    try:
        columns = ["target", "customer_id", "record_id", "period_key",
                   *(LEDGER_COLUMNS[name] for name in FIELDS), "written_at", "file"]
        records = [[target, row.customer_id, row.record_id, period.key,
                    *((row.values[name] or None) if name in fields else None
                      for name in FIELDS),
                    written_at, str(out.resolve())] for row in rows]
        if records:  # a file of only the header records nothing
            con.executemany(
                f"insert into audit.writeback_ledger ({', '.join(columns)}) values "
                f"({', '.join('?' for _ in columns)})", records)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            with open(temporary, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, out)
            fsync_dir(out.parent)
        except OSError as error:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise WritebackError(f"{out}: cannot be written: {error.strerror or error}; "
                                 "nothing recorded in the write-back ledger") from None
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
