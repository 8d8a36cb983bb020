"""Paths and environment: the one place that knows where things live."""

from __future__ import annotations

import os
import warnings
import zoneinfo
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
EXPECTATIONS_DIR = PROJECT_DIR / "expectations"
SERVICE_CATALOGUE_CSV = SEEDS_DIR / "service_catalogue.csv"
STANDARD_COST_RATES_CSV = SEEDS_DIR / "standard_cost_rates.csv"

TELEMETRY_OFF = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
}


def telemetry_off() -> None:
    """Telemetry off for dbt, GX and the rest (there is no network for it), unless the
    environment says otherwise. Done when this module is imported; callers that import GX or
    dbt call it again only to say why it must hold there."""
    for name, value in TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)


telemetry_off()

# Great Expectations imports pyspark when it is installed (the engine `spark`), and pyspark
# warns that it does not support this pandas yet: the project uses neither together.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                        category=FutureWarning)


# Without settings of one's own, every command works on the demo's paths (what `make demo`
# writes): the landing root data/demo/landing and the warehouse data/demo/warehouse.duckdb.
# One rule for both, and for every command: the option, else the environment, else the demo's.
DEMO_DIR = PROJECT_DIR / "data" / "demo"
DEMO_LANDING = DEMO_DIR / "landing"
DEMO_WAREHOUSE = DEMO_DIR / "warehouse.duckdb"


def landing_dir(override: str | os.PathLike | None = None) -> Path:
    """The landing root: option, else $CVM_LANDING_DIR, else the demo's, data/demo/landing."""
    value = override or os.environ.get("CVM_LANDING_DIR") or DEMO_LANDING
    return Path(value).resolve()


def warehouse_path(override: str | os.PathLike | None = None) -> Path:
    """The published warehouse: option, else $CVM_WAREHOUSE, else the demo's,
    data/demo/warehouse.duckdb."""
    value = override or os.environ.get("CVM_WAREHOUSE") or DEMO_WAREHOUSE
    return Path(value).resolve()


ENGINE_KINDS = ("duckdb", "spark")


def engine_kind(override: str | None = None) -> str:
    """The kind of engine dbt builds on: option (--engine), else $CVM_ENGINE, else duckdb
    (embedded). `spark` runs the same dbt project on Apache Spark (the `spark` target of
    dbt_project/profiles.yml). An unknown name is an error that names the choices."""
    name = (override or os.environ.get("CVM_ENGINE", "").strip() or "duckdb").lower()
    if name not in ENGINE_KINDS:
        raise ValueError(f"engine {name!r} (option --engine or CVM_ENGINE) is unknown; "
                         f"choose one of {', '.join(ENGINE_KINDS)}")
    return name


DEFAULT_SOURCE_TIMEZONE = "Europe/Berlin"


def source_timezone() -> str:
    """The time zone of naive timestamps in the extracts: $CVM_SOURCE_TIMEZONE, else
    Europe/Berlin. An unknown name is an error that names the setting."""
    name = os.environ.get("CVM_SOURCE_TIMEZONE", "").strip() or DEFAULT_SOURCE_TIMEZONE
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"CVM_SOURCE_TIMEZONE={name!r} is no time zone; give an IANA name such as "
            f"{DEFAULT_SOURCE_TIMEZONE}"
        ) from None
    return name



DEFAULT_WRITER_WAIT_S = 2 * 3600.0
_WAIT_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600}


def writer_wait(override: str | float | None = None) -> float:
    """How long a load waits for another load that writes the same warehouse, in seconds:
    option, else $CVM_WRITER_WAIT, else 2 hours. A number of seconds, or with a unit: `90s`,
    `30m`, `2h`. A value that is none of these is an error that names the setting."""
    value = override if override is not None else os.environ.get("CVM_WRITER_WAIT", "")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        if not text:
            return DEFAULT_WRITER_WAIT_S
        number = text.rstrip("abcdefghijklmnopqrstuvwxyz ")
        unit = text[len(number):].strip()
        try:
            seconds = float(number) * _WAIT_UNITS[unit]
        except (KeyError, ValueError):
            seconds = -1.0
    if not seconds >= 0:
        raise ValueError(f"CVM_WRITER_WAIT={value!r} is no duration; give seconds or a number "
                         "with s, m or h, e.g. 2h")
    return seconds

def pseudonym_key() -> bytes | None:
    """$CVM_PSEUDONYM_KEY: when set, the published marts hold a keyed pseudonym (HMAC-SHA256)
    of each person's identifier (`employee_id`, `account_manager`) instead of the identifier;
    unset or empty: the identifiers as delivered. Keep the key secret and unchanged: another
    key gives other pseudonyms (and makes the next build a full one)."""
    value = os.environ.get("CVM_PSEUDONYM_KEY", "")
    return value.encode("utf-8") if value.strip() else None

NUMBER_FORMATS = {"point": False, "comma": True}  # name -> decimal comma


def number_format(entity: str) -> str | None:
    """The number format stated for an extract: $CVM_NUMBER_FORMAT_<ENTITY> (for example
    CVM_NUMBER_FORMAT_ORDERS), else $CVM_NUMBER_FORMAT (every extract): `point` (1234.56) or
    `comma` (1.234,56). None (unset, or `auto`): the format is decided from the file's values
    (ingest/dialect.py). An unknown value is an error that names the setting."""
    for name in (f"CVM_NUMBER_FORMAT_{entity.upper()}", "CVM_NUMBER_FORMAT"):
        value = os.environ.get(name, "").strip().lower()
        if value in ("", "auto"):
            continue
        if value not in NUMBER_FORMATS:
            raise ValueError(f"{name}={value!r} is no number format; give point (1234.56), "
                             "comma (1.234,56) or auto")
        return value
    return None


DEFAULT_MAX_REJECTED_SHARE = 20.0  # percent of a file's rows


def max_rejected_share() -> float:
    """The share of a file's rows (in percent) that may be rejected before the file is refused
    (a file of at least loader.MIN_ROWS_FOR_SHARE rows): $CVM_MAX_REJECTED_SHARE, else 20. 100
    never refuses. Rows waiting for their customer do not count (they are held, not lost)."""
    text = os.environ.get("CVM_MAX_REJECTED_SHARE", "").strip().rstrip("%").strip()
    if not text:
        return DEFAULT_MAX_REJECTED_SHARE
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 100:
        raise ValueError(f"CVM_MAX_REJECTED_SHARE={text!r} is no percentage; give a number "
                         "from 0 to 100 (100 never refuses a file)")
    return share


LINE_BREAK_CHOICES = ("refuse", "warn")


def missing_final_line_break() -> str:
    """What happens to a file that does not end with a line break (its last record may be cut
    short): $CVM_MISSING_FINAL_LINE_BREAK, `refuse` (the default) or `warn` (load it, and name
    it among the load's warnings)."""
    value = os.environ.get("CVM_MISSING_FINAL_LINE_BREAK", "").strip().lower() or "refuse"
    if value not in LINE_BREAK_CHOICES:
        raise ValueError(f"CVM_MISSING_FINAL_LINE_BREAK={value!r} is unknown; give "
                         f"{' or '.join(LINE_BREAK_CHOICES)}")
    return value


def writeback_config() -> Path | None:
    """$CVM_WRITEBACK_CONFIG: a YAML file with the write-back's column names per target (see
    lib/writeback.py); unset: the documented defaults."""
    value = os.environ.get("CVM_WRITEBACK_CONFIG", "").strip()
    return Path(value) if value else None


def writeback_targets() -> tuple[str, ...]:
    """$CVM_WRITEBACK_TARGETS: the systems (comma-separated: salesforce, hubspot, dynamics,
    zendesk) whose import files the Dagster asset `crm_writeback` writes after each publish;
    unset or empty: the asset is off (not defined)."""
    from orchestration.lib.writeback import TARGETS

    names = [n.strip().lower() for n in os.environ.get("CVM_WRITEBACK_TARGETS", "").split(",")]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        raise ValueError(f"CVM_WRITEBACK_TARGETS: {unknown[0]!r} is no target; give some of "
                         f"{', '.join(TARGETS)}, comma-separated")
    return tuple(dict.fromkeys(names))


def writeback_dir(published: Path) -> Path:
    """$CVM_WRITEBACK_DIR: the folder of the files the Dagster asset writes; unset: the folder
    `writeback/` in the store of the warehouse `published`."""
    value = os.environ.get("CVM_WRITEBACK_DIR", "").strip()
    if value:
        return Path(value)
    return Path(published).parent / f"{Path(published).stem}.store" / "writeback"

# --------------------------------------------------------------------------- the cockpit server
# How `cvm serve` signs people in, stated here once: $CVM_AUTH, `users` (a users file with
# password hashes, the default), `oidc` (the company's OpenID Connect provider) or `none`
# (nobody signs in; bound to 127.0.0.1 only). The option --auth (or --no-auth) overrides it.
AUTH_MODES = ("users", "oidc", "none")


def auth_mode(override: str | None = None) -> str:
    name = (override or os.environ.get("CVM_AUTH", "").strip() or "users").lower()
    if name not in AUTH_MODES:
        raise ValueError(f"CVM_AUTH={name!r} is unknown; give one of {', '.join(AUTH_MODES)}")
    return name


def users_file(override: str | os.PathLike | None = None) -> Path:
    """The cockpit's users file: option (--users), else $CVM_USERS_FILE, else
    data/cockpit-users.json. It holds names, roles and argon2 hashes, never a password."""
    value = (override or os.environ.get("CVM_USERS_FILE")
             or PROJECT_DIR / "data" / "cockpit-users.json")
    return Path(value).resolve()


def env_text(name: str, default: str = "") -> str:
    """A plain text setting from the environment, stripped."""
    return os.environ.get(name, "").strip() or default


def env_number(name: str, default: float, minimum: float = 0) -> float:
    """A number setting from the environment; anything else is an error naming it."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ValueError(f"{name}={text!r} is no number of at least {minimum:g}")
    return value


def audit_dir(warehouse: Path) -> Path:
    """Where the cockpit's audit trail goes: $CVM_AUDIT_DIR, else `cockpit-audit/` beside the
    warehouse file (outside the published warehouse and its store: a publish never touches it)."""
    value = os.environ.get("CVM_AUDIT_DIR", "").strip()
    return Path(value).resolve() if value else warehouse.parent / "cockpit-audit"
