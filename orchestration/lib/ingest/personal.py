"""Personal data in the extracts' text columns: what counts as an e-mail address, and the
keyed pseudonym of a person's identifier.

Every text column of the spec has a class (spec.py, `Column.personal`):
- FREE_TEXT (`customer_name`, `description`): e-mail addresses and phone numbers in it are
  masked in staging (macro `mask_personal_data`);
- PERSON (`account_manager`, `employee_id`): kept as delivered, since access rules need them;
  with a pseudonym key set (settings.pseudonym_key), the published marts hold a keyed
  pseudonym instead (`pseudonym`, applied by marts.py when it writes the marts' files);
- CODE (all others): an e-mail address in it is masked in staging (macro `mask_email`), and
  the load's summary counts such values among its warnings. A key column (the extract's key,
  `customer_id`, `service_type_code`) is the identity of a row or of what it refers to: it
  stays as delivered, and is counted as well.

The raw tables keep what was delivered; the dbt var `mask_personal_data` switches the masking
off.

EMAIL_PATTERN is written for RE2 (DuckDB) and Java (Spark) alike: character classes only, no
backslashes, quotes or `$`. The dbt project reads it from a generated macro file,
dbt_project/macros/personal_data_patterns.sql, written by

    .venv/bin/python -m orchestration.lib.ingest.personal

and a test fails when the stored file and this module disagree.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import sys
from pathlib import Path

from orchestration import settings
from orchestration.lib.ingest.spec import CODE, PERSON, SPECS, EntitySpec

LETTER = "0-9A-Za-zÀ-ÿ"
# An opening bracket: `(`, `{`, or `[` (which a Java character class cannot name without a
# backslash: the class of what is neither ` `..`Z` nor `^`..`~` holds `[`, `\` and `]`, and
# also characters outside printable ASCII, such as `«`). A closing one: `]`, `)`, `}`.
_OPEN = "([({]|[^ -Z^-~])"
_CLOSE = "[])}]"


def _word(letters: str) -> str:
    return "".join(f"[{c.upper()}{c}]" for c in letters)


def _obfuscated(letters: str) -> str:
    """`(at)`, `[at]`, `{at}` in any case, with or without a blank on either side."""
    return f"[ ]?{_OPEN}{_word(letters)}{_CLOSE}[ ]?"


_AT = f"(@|{_obfuscated('at')}|[ ]+{_word('at')}[ ]+)"
_LOCAL_DOT = f"([.]|{_obfuscated('dot')})"
_DOMAIN_DOT = f"([.]|{_obfuscated('dot')}|[ ]+{_word('dot')}[ ]+)"

# An e-mail address: a local part, an at sign, and a domain that ends in a dot and a top-level
# domain of at least two letters. The at sign and the dots may be written out: `(at)`,
# `[at]`, `{at}`, ` at ` (a word between blanks: only before a domain, so "meet at 10" and
# "at site" are no address), `(dot)`, `[dot]`, `{dot}`, and ` dot ` within the domain.
EMAIL_PATTERN = (
    f"[{LETTER}._%+-]+({_LOCAL_DOT}[{LETTER}_%+-]+)*"
    f"{_AT}"
    f"[{LETTER}-]+({_DOMAIN_DOT}[{LETTER}-]+)*{_DOMAIN_DOT}[A-Za-z]{{2,}}"
)
EMAIL_MASK = "[E-Mail]"

PATTERNS_MACRO_FILE = settings.DBT_PROJECT_DIR / "macros" / "personal_data_patterns.sql"


def macro_text() -> str:
    """The generated macro file that hands EMAIL_PATTERN to the dbt project."""
    for forbidden in ("'", "\\", "$", "{{", "{%", "{#"):
        assert forbidden not in EMAIL_PATTERN, forbidden
    width = 80  # the pattern in pieces, so that no line is too long
    pieces = "\n        ~ ".join(
        f"'{EMAIL_PATTERN[i:i + width]}'" for i in range(0, len(EMAIL_PATTERN), width))
    return (
        "{#\n"
        "    Generated from orchestration/lib/ingest/personal.py; do not edit. To change it,\n"
        "    edit that module and run: .venv/bin/python -m orchestration.lib.ingest.personal\n"
        "    What counts as an e-mail address, obfuscated forms such as (at), [at], {at}, a\n"
        "    blank-separated at before a domain and (dot) included.\n"
        "#}\n"
        "{% macro email_pattern() -%}\n"
        "    {{ return(\n"
        f"        {pieces}\n"
        "    ) }}\n"
        "{%- endmacro %}\n"
    )


def write_macro(path: Path = PATTERNS_MACRO_FILE) -> Path:
    path.write_text(macro_text(), encoding="utf-8")
    return path


# --- the classes ----------------------------------------------------------------------------

def is_identity(spec: EntitySpec, column: str) -> bool:
    """A code that identifies a row, or what it refers to (its customer, its service type):
    kept as delivered, never masked, since masking would merge keys and break joins."""
    return (column in spec.key or column == "customer_id"
            or (column == "service_type_code" and spec.checks_service_type))


def code_columns(spec: EntitySpec) -> list[str]:
    """The codes that may hold an e-mail address: all but those whose allowed values or
    pattern already reject any address (`status`, `country_code`)."""
    return [c.name for c in spec.columns
            if c.personal == CODE and not c.allowed and not c.pattern]


def masked_codes(spec: EntitySpec) -> list[str]:
    """The codes whose e-mail addresses staging masks: those of code_columns that are no
    identity."""
    return [name for name in code_columns(spec) if not is_identity(spec, name)]


def person_columns() -> set[str]:
    """The names of the columns that hold a person's identifier, over all extracts."""
    return {c.name for s in SPECS.values() for c in s.columns if c.personal == PERSON}


def is_person_column(name: str) -> bool:
    """Whether a mart's column holds a person's identifier: one of `person_columns`, or one
    named after it (`account_manager_in_period`: the identifier valid in a period)."""
    return any(name == person or name.startswith(f"{person}_") for person in person_columns())


# --- e-mail addresses in codes: the load's warning -----------------------------------------

def emails_in_codes(con, extract_dates: list[str]) -> list[tuple[str, str, int]]:
    """(entity, column, rows) of the code columns whose raw values of the deliveries
    `extract_dates` hold an e-mail address, in spec order; columns without one are left out.
    `con` reads the published catalog (its `raw.*` views)."""
    if not extract_dates:
        return []
    pattern = EMAIL_PATTERN.replace("'", "''")
    found = []
    for spec in SPECS.values():
        columns = code_columns(spec)
        counts = ", ".join(
            f"count(*) filter (where regexp_matches(\"{c}\", '{pattern}'))" for c in columns)
        dates = ", ".join("?" for _ in extract_dates)
        row = con.execute(
            f"select {counts} from raw.{spec.name} where extract_date in ({dates})",
            list(extract_dates),
        ).fetchone()
        found += [(spec.name, c, int(n)) for c, n in zip(columns, row, strict=True) if n]
    return found


# --- the keyed pseudonym --------------------------------------------------------------------

PSEUDONYM_PREFIX = "p-"
PSEUDONYM_HEX_DIGITS = 16  # 64 bits: no two of a few million identifiers meet by chance


def pseudonym(key: bytes, value: str | None) -> str | None:
    """`p-` and the first 16 hex digits of HMAC-SHA256(key, value as UTF-8): the same value
    and key give the same pseudonym in every load and every mart; without the key it cannot be
    reversed or recomputed. NULL stays NULL."""
    if value is None:
        return None
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_DIGITS]


def pseudonym_fingerprint(key: bytes | None) -> str:
    """What the rules' fingerprint records of the pseudonyms: off, or a digest that tells keys
    apart without revealing them. Another key makes the next build a full one, so that no mart
    mixes pseudonyms of two keys."""
    if not key:
        return "pseudonyms off"
    return "pseudonyms " + hmac.new(key, b"cvm pseudonym key", hashlib.sha256).hexdigest()


PSEUDONYM_FUNCTION = "cvm_pseudonym"


def register_pseudonym(con, key: bytes) -> None:
    """The SQL function cvm_pseudonym(VARCHAR) on a DuckDB connection."""
    cached = functools.lru_cache(maxsize=100_000)(functools.partial(pseudonym, key))
    con.create_function(PSEUDONYM_FUNCTION, cached, ["VARCHAR"], "VARCHAR", side_effects=False)


if __name__ == "__main__":
    print(f"wrote {write_macro(Path(sys.argv[1]) if len(sys.argv) > 1 else PATTERNS_MACRO_FILE)}")
