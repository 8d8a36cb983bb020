"""Personal data in the extracts' text columns: the class of each column, what counts as an
e-mail address (obfuscated forms included), the warning about addresses in codes, and the
keyed pseudonym of a person's identifier.

The pattern is run here on DuckDB (RE2), as staging runs it; the dbt unit tests of
dbt_project/models/staging/_staging__unit_tests.yml run it through the staging models.
"""

from __future__ import annotations

import duckdb
import pytest

from orchestration.lib.ingest import personal
from orchestration.lib.ingest.spec import CODE, FREE_TEXT, PERSON, SPECS
from orchestration.lib.warehouse import marts


def _mask(text: str) -> str:
    with duckdb.connect() as con:
        return con.execute("select regexp_replace(?, ?, '[E-Mail]', 'g')",
                           [text, personal.EMAIL_PATTERN]).fetchone()[0]


# --- the classes, by hand -------------------------------------------------------------------

def test_each_text_column_has_the_class_the_rules_give_it():
    classes = {(s.name, c.name): c.personal for s in SPECS.values() for c in s.columns
               if c.kind == "text"}
    assert classes == {
        ("customers", "customer_id"): CODE,
        ("customers", "customer_name"): FREE_TEXT,
        ("customers", "industry"): CODE,
        ("customers", "region"): CODE,
        ("customers", "account_manager"): PERSON,
        ("customers", "country_code"): CODE,
        ("customers", "status"): CODE,
        ("orders", "order_id"): CODE,
        ("orders", "customer_id"): CODE,
        ("orders", "product_group"): CODE,
        ("service_activities", "activity_id"): CODE,
        ("service_activities", "customer_id"): CODE,
        ("service_activities", "service_type_code"): CODE,
        ("service_activities", "employee_id"): PERSON,
        ("service_activities", "department"): CODE,
        ("service_activities", "channel"): CODE,
        ("service_activities", "description"): FREE_TEXT,
        ("service_activities", "status"): CODE,
    }


def test_masked_codes_leave_out_keys_customer_and_checked_values():
    """Keys, customer_id and service_type_code identify rows or what they refer to; status
    and country_code reject any address."""
    assert personal.masked_codes(SPECS["customers"]) == ["industry", "region"]
    assert personal.masked_codes(SPECS["orders"]) == ["product_group"]
    assert personal.masked_codes(SPECS["service_activities"]) == ["department", "channel"]
    assert personal.person_columns() == {"account_manager", "employee_id"}


# --- e-mail addresses -----------------------------------------------------------------------

@pytest.mark.parametrize("text, masked", [
    ("j.mueller@beta-kg.de", "[E-Mail]"),
    ("Jan.Meier(at)alpha.de", "[E-Mail]"),
    ("Kontakt Jan.Meier (at) alpha.de, danke", "Kontakt [E-Mail], danke"),
    ("jan.meier[at]alpha.de", "[E-Mail]"),
    ("jan.meier {at} alpha.de", "[E-Mail]"),
    ("JAN.MEIER(AT)ALPHA.DE", "[E-Mail]"),
    ("Rückfrage an jan.meier at alpha.de bitte", "Rückfrage an [E-Mail] bitte"),
    ("jan(dot)meier(at)alpha(dot)de", "[E-Mail]"),
    ("jan at alpha dot de", "[E-Mail]"),
    ("jan.meier[at]vertrieb[dot]alpha.co.uk.", "[E-Mail]."),
])
def test_addresses_and_their_obfuscated_forms_are_masked(text, masked):
    assert _mask(text) == masked


@pytest.mark.parametrize("text", [
    "meet at 10",
    "Wartung at site",
    "Treffen at 10.30 Uhr",
    "Kunde at Standort Nord, Halle 3",
    "Rabatt (at) 5 %",
    "Ventil 0815 at 30 bar",
    "ab 1.3. at Werk2",
    "mail@localhost",
])
def test_ordinary_words_stay(text):
    assert _mask(text) == text


# --- the warning: addresses in codes of the deliveries loaded -------------------------------

def test_addresses_in_codes_are_counted_per_column_for_the_deliveries_loaded():
    """Three addresses in codes of 2026-03-03: customers.industry (an obfuscated one),
    orders.product_group, and service_activities.customer_id (a key column, counted as well).
    Not counted: the address in a description (free text), the one in employee_id (a person's
    identifier), and an address in a delivery not loaded in this run (2026-03-02)."""
    with duckdb.connect() as con:
        con.execute("create schema raw")
        for spec in SPECS.values():
            con.execute(f"create table raw.{spec.name} ({spec.table_ddl})")
        con.execute("insert into raw.customers (customer_id, customer_name, industry, "
                    "extract_date) values ('C1', 'Alpha', 'jan.meier(at)alpha.de', "
                    "'2026-03-03'), ('C2', 'Beta', 'Maschinenbau', '2026-03-03'), "
                    "('C3', 'Gamma', 'x@gamma.de', '2026-03-02')")
        con.execute("insert into raw.orders (order_id, line_no, customer_id, product_group, "
                    "extract_date) values ('O1', 1, 'C1', 'einkauf@alpha.de', '2026-03-03'), "
                    "('O1', 2, 'C1', 'Pumpen', '2026-03-03')")
        con.execute("insert into raw.service_activities (activity_id, customer_id, "
                    "employee_id, description, extract_date) values "
                    "('A1', 'kunde@beta.de', 'E1', 'Rückruf an jan@alpha.de', '2026-03-03'), "
                    "('A2', 'C1', 'jan@alpha.de', 'ok', '2026-03-03')")
        assert personal.emails_in_codes(con, ["2026-03-03"]) == [
            ("customers", "industry", 1),
            ("orders", "product_group", 1),
            ("service_activities", "customer_id", 1),
        ]
        assert personal.emails_in_codes(con, ["2026-03-02", "2026-03-03"])[0] == (
            "customers", "industry", 2)
        assert personal.emails_in_codes(con, []) == []


# --- the keyed pseudonym --------------------------------------------------------------------

def test_pseudonym_is_hmac_sha256_of_the_value():
    """RFC 4231, test case 2: HMAC-SHA256 with the key "Jefe" of "what do ya want for
    nothing?" is 5bdcc146bf60754e6a042426089575c7...; the pseudonym is `p-` and its first 16
    hex digits."""
    assert personal.pseudonym(b"Jefe", "what do ya want for nothing?") == "p-5bdcc146bf60754e"
    assert personal.pseudonym(b"Jefe", None) is None
    # another key, another pseudonym; the same key, the same one
    assert personal.pseudonym(b"jefe", "what do ya want for nothing?") != "p-5bdcc146bf60754e"
    assert personal.pseudonym_fingerprint(b"Jefe") != personal.pseudonym_fingerprint(b"jefe")
    assert "Jefe" not in personal.pseudonym_fingerprint(b"Jefe")


def test_marts_are_written_with_pseudonyms_only_when_a_key_is_set(monkeypatch):
    columns = [("customer_id", "VARCHAR"), ("account_manager", "VARCHAR"),
               ("employee_id", "VARCHAR"), ("revenue_eur", "DECIMAL(18,4)")]
    monkeypatch.delenv("CVM_PSEUDONYM_KEY", raising=False)
    assert marts._select_published(columns) == (
        '"customer_id", "account_manager", "employee_id", "revenue_eur"')
    monkeypatch.setenv("CVM_PSEUDONYM_KEY", "Jefe")
    select = marts._select_published(columns)
    assert select == ('"customer_id", cvm_pseudonym("account_manager") as "account_manager", '
                      'cvm_pseudonym("employee_id") as "employee_id", "revenue_eur"')
    with duckdb.connect() as con:
        personal.register_pseudonym(con, b"Jefe")
        con.execute("create table m as select * from (values "
                    "('C1', 'what do ya want for nothing?', null, 1.5)) "
                    "as t(customer_id, account_manager, employee_id, revenue_eur)")
        assert con.execute(f"select {select} from m").fetchall() == [
            ("C1", "p-5bdcc146bf60754e", None, 1.5)]


def test_every_mart_column_named_after_a_person_s_identifier_is_pseudonymised(monkeypatch):
    """The marts carry identifiers also under derived names, e.g. the account manager valid in
    a period: each column of the marts' docs that starts with a person's identifier is one."""
    import yaml

    from orchestration.settings import DBT_PROJECT_DIR

    named = set()
    for path in (DBT_PROJECT_DIR / "models" / "marts").glob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            named |= {c["name"] for c in model.get("columns", [])}
    people = sorted(n for n in named if n.startswith(("account_manager", "employee_id")))
    assert "account_manager_in_period" in people  # the customer history's in-period column
    monkeypatch.setenv("CVM_PSEUDONYM_KEY", "Jefe")
    select = marts._select_published([(n, "VARCHAR") for n in people])
    assert select == ", ".join(f'cvm_pseudonym("{n}") as "{n}"' for n in people)
