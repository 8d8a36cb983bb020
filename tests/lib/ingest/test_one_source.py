"""Every copy of a rule agrees with its one source: the extracts' spec, and the seeds.

The GX suites, the reference's column tables and reason codes, the README's reason codes, the
dbt YAML's allowed values and the extracts' keys of the dbt macro entity_key are held to
`lib/ingest/spec.py`; the reference's segment table and the dbt YAML's segment values to the
seed `segments`.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from orchestration.lib.ingest import personal, rules, suites
from orchestration.lib.ingest.spec import (
    CODE,
    EARLIEST_EVENT_DATE,
    ENTITIES,
    FREE_TEXT,
    PERSONAL_CLASSES,
    REASONS,
    SPECS,
    Column,
)
from orchestration.settings import DBT_PROJECT_DIR, EXPECTATIONS_DIR, PROJECT_DIR
from tests.seed_fixtures import seed_segments

REFERENCE = PROJECT_DIR / "docs" / "reference.md"


# --- Great Expectations suites --------------------------------------------------------------

@pytest.mark.parametrize("entity", ENTITIES)
def test_stored_suite_is_the_one_generated_from_the_spec(entity):
    """To accept a change of the spec: .venv/bin/python -m orchestration.lib.ingest.suites"""
    stored = (EXPECTATIONS_DIR / f"{entity}.json").read_text(encoding="utf-8")
    assert stored == suites.suite_text(SPECS[entity])


def test_a_spec_change_shows_in_the_suite():
    """participants made required: one more column_to_exist and one more not_null."""
    spec = SPECS["service_activities"]
    columns = tuple(
        dataclasses.replace(c, required=True) if c.name == "participants" else c
        for c in spec.columns
    )
    changed = suites.build_suite(dataclasses.replace(spec, columns=columns))
    stored = json.loads((EXPECTATIONS_DIR / "service_activities.json").read_text())
    assert len(changed["expectations"]) == len(stored["expectations"]) + 2
    assert {"type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "participants"}} in changed["expectations"]


def test_suite_of_customers_by_hand():
    """customers: 3 required columns (exist + not null), 1 lower bound, 1 allowed set, 1 pattern."""
    suite = suites.build_suite(SPECS["customers"])
    assert [(e["type"].removeprefix("expect_"), e["kwargs"]["column"])
            for e in suite["expectations"]] == [
        ("column_to_exist", "customer_id"), ("column_to_exist", "customer_name"),
        ("column_to_exist", "customer_since"),
        ("column_values_to_not_be_null", "customer_id"),
        ("column_values_to_not_be_null", "customer_name"),
        ("column_values_to_not_be_null", "customer_since"),
        ("column_values_to_be_between", "annual_potential_eur"),
        ("column_values_to_be_in_set", "status"),
        ("column_values_to_match_regex", "country_code"),
    ]


# --- reason codes ---------------------------------------------------------------------------

def test_row_checks_follow_the_order_of_the_reason_codes():
    for spec in SPECS.values():
        facts = rules.FileFacts(frozenset({"X"}), 3, date(2025, 3, 31), "Europe/Berlin")
        reasons = [reason for _, reason, _ in rules.row_checks(spec, facts)]
        order = [REASONS.index(reason) for reason in reasons]
        assert order == sorted(order), spec.name
    # the two reasons that compare rows come last, duplicate_key first
    sql = rules.rejections_sql(SPECS["orders"])
    assert sql.index("'duplicate_key'") < sql.index("'unknown_customer'")
    assert REASONS[-2:] == ("duplicate_key", "unknown_customer")


def _markdown_table(text: str, heading: str) -> list[list[str]]:
    """The rows of the first table after `heading`, cells stripped, header row included."""
    section = text[text.index(heading):]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif rows:
            break
    return rows


def test_reference_lists_the_reason_codes_in_their_order():
    rows = _markdown_table(REFERENCE.read_text(encoding="utf-8"), "## 2. Rejected rows")
    assert [row[0].strip("`") for row in rows[1:]] == list(REASONS)


def test_readme_lists_the_reason_codes_in_their_order():
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    sentence = readme[readme.index("A bad row is rejected with a reason code"):]
    listed = re.findall(r"`([a-z_]+)`", sentence[: sentence.index(")")])
    assert listed == list(REASONS)


# --- the reference's column tables ----------------------------------------------------------

def _checked(column, spec) -> str:
    """What the reference's `checked` cell must say of a column, worked out from the spec."""
    parts = []
    if column.name in spec.key:
        parts.append("key")
    if column.name == "customer_id" and spec.checks_customer:
        parts.append("a customer of some snapshot")
    if column.name == "service_type_code" and spec.checks_service_type:
        parts.append("in the service catalogue")
    if column.min_value is not None:
        parts.append(f"≥ {column.min_value}")
    if column.allowed:
        parts.append("one of " + ", ".join(f"`{v}`" for v in column.allowed))
    if column.pattern:
        parts.append(f"matches `{column.pattern}`")
    if column.case:
        parts.append(f"stored {column.case}-case")
    if column.event_date:
        parts.append(f"from {EARLIEST_EVENT_DATE.isoformat()} to the extract date")
    if column.kind == "timestamp":
        parts.append("an instant, stored as UTC")
    return "; ".join(parts)


@pytest.mark.parametrize("entity", ENTITIES)
def test_reference_column_table_is_the_spec(entity):
    spec = SPECS[entity]
    rows = _markdown_table(REFERENCE.read_text(encoding="utf-8"), f"### `{entity}.csv`")
    assert rows[0] == ["column", "type", "required", "checked"]
    documented = [(r[0].strip("`"), r[1], r[2], r[3]) for r in rows[1:]]
    assert documented == [
        (c.name, c.kind, "yes" if c.required else "no", _checked(c, spec)) for c in spec.columns
    ]


# --- dbt YAML -------------------------------------------------------------------------------

def _accepted_values() -> list[tuple[str, str, list[str]]]:
    """(model, column, values) of every accepted_values rule in the dbt models' YAML (a
    relation's column_rules test)."""
    found = []
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            for test in model.get("data_tests", []):
                if isinstance(test, dict) and "column_rules" in test:
                    rules = test["column_rules"]["arguments"].get("accepted_values", {})
                    found += [(model["name"], column, values)
                              for column, values in rules.items()]
    return found


def test_dbt_status_values_are_the_spec_s():
    """A model named after an extract (stg_crm__customers, dim_customers,
    dim_customers_history, ...) accepts the spec's status values of that extract."""
    checked = 0
    for model, column, values in _accepted_values():
        if column != "status":
            continue
        entity = next(e for e in ENTITIES if e in model)
        assert values == list(SPECS[entity].column("status").allowed), model
        checked += 1
    # stg_crm__customers, dim_customers, dim_customers_history, stg_service_log__...activities
    assert checked == 4


def test_dbt_segment_values_are_the_seed_s():
    seed = {s.segment for s in seed_segments()}
    checked = [values for _, column, values in _accepted_values()
               if column in ("segment", "previous_segment")]
    assert checked and all(set(values) == seed for values in checked)


ENTITY_KEY_MACRO = DBT_PROJECT_DIR / "macros" / "entity_key.sql"


def _macro_keys(text: str) -> dict[str, list[str]]:
    """The keys the macro entity_key states: the dict literal of its `set keys = {...}`."""
    found = re.search(r"set keys = (\{.*?\})\s*-?%\}", text, re.DOTALL)
    assert found, f"{ENTITY_KEY_MACRO}: no `set keys = {{...}}`"
    return ast.literal_eval(found.group(1))


def test_dbt_entity_keys_are_the_spec_s():
    keys = _macro_keys(ENTITY_KEY_MACRO.read_text(encoding="utf-8"))
    assert keys == {entity: list(SPECS[entity].key) for entity in ENTITIES}
    # stated by hand: orders are keyed by order and line
    assert keys["orders"] == ["order_id", "line_no"]
    # a key that drifts from the spec is caught
    drifted = ENTITY_KEY_MACRO.read_text(encoding="utf-8").replace("'line_no'", "'line_id'")
    assert _macro_keys(drifted)["orders"] != list(SPECS["orders"].key)


def _yaml_combinations() -> list[tuple[str, list[str]]]:
    """(model, columns) of every key of several columns in the dbt models' YAML: a
    unique_combinations rule of a column_rules test, or a unique_combination_of_columns test."""
    found = []
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            for test in model.get("data_tests", []):
                if isinstance(test, dict) and "column_rules" in test:
                    for columns in test["column_rules"]["arguments"].get(
                            "unique_combinations", []):
                        found.append((model["name"], columns))
                if isinstance(test, dict) and "unique_combination_of_columns" in test:
                    arguments = test["unique_combination_of_columns"]["arguments"]
                    found.append((model["name"], arguments["combination_of_columns"]))
    return found


def test_dbt_yaml_key_tests_are_the_spec_s():
    """A unique test over a key of several columns (the order lines') names the spec's key."""
    key = list(SPECS["orders"].key)
    stated = [(model, columns) for model, columns in _yaml_combinations() if key[0] in columns]
    assert stated == [("fct_order_lines", key), ("stg_crm__orders", key)]


def _spelled_keys(text: str) -> list[str]:
    """The list literals of a dbt file that are an extract's key, e.g. ['order_id', 'line_no']."""
    keys = [list(SPECS[entity].key) for entity in ENTITIES]
    return [literal for literal in re.findall(r"\[[^\[\]]*\]", text)
            if _literal_list(literal) in keys]


def _literal_list(literal: str):
    try:
        return list(ast.literal_eval(literal))
    except (ValueError, SyntaxError):
        return None


def test_dbt_sql_spells_no_key_but_in_entity_key():
    spelled = {
        str(path.relative_to(DBT_PROJECT_DIR)): _spelled_keys(path.read_text(encoding="utf-8"))
        for folder in ("models", "macros", "tests", "analyses", "snapshots")
        for path in sorted((DBT_PROJECT_DIR / folder).rglob("*.sql"))
        if path != ENTITY_KEY_MACRO
    }
    assert {path: found for path, found in spelled.items() if found} == {}
    assert _spelled_keys("where {{ is_touched('orders', ['order_id', 'line_no'], 'x') }}") == [
        "['order_id', 'line_no']"]


# --- personal data -------------------------------------------------------------------------

def _unclassed(spec) -> list[str]:
    """Text columns without a class of personal data, and other columns with one."""
    return [c.name for c in spec.columns
            if (c.kind == "text") != (c.personal in PERSONAL_CLASSES)]


def test_every_text_column_of_every_extract_has_a_class_of_personal_data():
    for spec in SPECS.values():
        assert _unclassed(spec) == [], spec.name
    # a new text column without a class is caught
    added = dataclasses.replace(SPECS["orders"],
                                columns=SPECS["orders"].columns + (Column("sales_rep"),))
    assert _unclassed(added) == ["sales_rep"]


STAGING = {
    "customers": "crm/stg_crm__customers.sql",
    "orders": "crm/stg_crm__orders.sql",
    "service_activities": "service_log/stg_service_log__service_activities.sql",
}


def _staging_expression(entity: str, column: str) -> str:
    """The macro around a column's cast in its staging model: mask_personal_data, mask_email,
    or '' (a plain cast)."""
    sql = (DBT_PROJECT_DIR / "models" / "staging" / STAGING[entity]).read_text(encoding="utf-8")
    found = re.findall(rf"(\w*)\(?'?cast\({column} as", sql)
    assert len(found) == 1, (entity, column, found)
    return found[0]


@pytest.mark.parametrize("entity", ENTITIES)
def test_staging_treats_each_text_column_by_its_class(entity):
    spec = SPECS[entity]
    expected = {
        c.name: "mask_personal_data" if c.personal == FREE_TEXT
        else "mask_email" if c.name in personal.masked_codes(spec)
        else "" for c in spec.columns if c.kind == "text" and c.name != "status"
    }
    assert {name: _staging_expression(entity, name) for name in expected} == expected
    assert all(c.personal == CODE for c in spec.columns if c.name == "status")


def test_stored_email_pattern_macro_is_the_one_generated():
    """To accept a change of the pattern: .venv/bin/python -m orchestration.lib.ingest.personal"""
    stored = personal.PATTERNS_MACRO_FILE.read_text(encoding="utf-8")
    assert stored == personal.macro_text()


def test_reference_personal_data_table_is_the_spec():
    rows = _markdown_table(REFERENCE.read_text(encoding="utf-8"),
                           "### Classes of personal data")
    assert rows[0] == ["extract", "column", "class"]
    assert [tuple(r) for r in rows[1:]] == [
        (f"`{s.name}`", f"`{c.name}`", c.personal.replace("_", " "))
        for s in SPECS.values() for c in s.columns if c.personal]


# --- the segments seed ----------------------------------------------------------------------

def test_reference_segment_table_is_the_seed():
    rows = _markdown_table(REFERENCE.read_text(encoding="utf-8"), "### Segments")
    assert rows[0] == ["segment", "classic value", "value transfer", "label (de)", "strategy"]
    assert [tuple(r) for r in rows[1:]] == [
        (f"`{s.segment}`", s.classic_value_level, s.value_transfer_level, s.label_de, s.strategy)
        for s in seed_segments()
    ]


def test_segments_in_display_order_with_their_labels():
    """The seed's rows, read by hand: invest 1, develop 2, renegotiate 3, opportunistic 4."""
    segments = seed_segments(Path(DBT_PROJECT_DIR / "seeds" / "segments.csv"))
    assert [(s.segment, s.display_order, s.label_en) for s in segments] == [
        ("invest", 1, "Investment customers"),
        ("develop", 2, "Check win-win potential"),
        ("renegotiate", 3, "Problem group: renegotiate"),
        ("opportunistic", 4, "Serve opportunistically"),
    ]
