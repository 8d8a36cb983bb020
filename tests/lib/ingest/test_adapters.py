"""Source adapters (orchestration/lib/ingest/adapters/): Salesforce and SAP billing native
files in, the extracts' rows out, with the ingest's promises (tests/adapter_fixtures.py).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import duckdb
import pytest

from orchestration.lib.ingest.adapters import load_native, native_files
from orchestration.lib.ingest.adapters.base import Mapping, MappingError, stamp
from orchestration.lib.ingest.adapters.sap import sap_date
from orchestration.lib.landing import Delivery
from tests.adapter_fixtures import D1, D2, EXPECTED, write_generic, write_native
from tests.ingest_fixtures import add_expectation


def _load(con, landing, date, entities=("customers", "orders", "service_activities"), **kw):
    results = {}
    for entity in entities:
        for result in load_native(con, landing, date, entity, **kw):
            results[result.source_file] = result
    return results


def _rejections(con):
    return sorted(con.execute(
        "select source_file, line_number, reason from audit.rejected_rows "
        "where resolved_at is null order by all").fetchall())


@pytest.fixture()
def landing(tmp_path):
    return write_native(tmp_path / "landing")


def test_every_native_row_is_loaded_or_rejected_with_its_file_line_and_reason(con, landing):
    results = _load(con, landing, D1)
    counts = {name.split("/", 1)[1]: (r.rows_read, r.rows_loaded, r.rows_rejected)
              for name, r in results.items()}
    # header files (Order, VBRK) yield no facts of their own
    assert counts == {
        "salesforce/Account.csv": (3, 3, 0),
        "sap/KNA1.csv": (3, 3, 0),
        "salesforce/OrderItem.csv": (6, 4, 2),
        "sap/VBRP.csv": (9, 6, 3),
        "salesforce/Task.csv": (5, 3, 2),
        "salesforce/Event.csv": (2, 2, 0),
    }
    assert _rejections(con) == [
        (f"{D1}/salesforce/OrderItem.csv", 6, "unknown_currency_rate"),
        (f"{D1}/salesforce/OrderItem.csv", 7, "missing_required_field"),
        (f"{D1}/salesforce/Task.csv", 4, "unmapped_service_type"),
        (f"{D1}/salesforce/Task.csv", 5, "unknown_customer"),
        (f"{D1}/sap/VBRP.csv", 8, "unknown_currency_rate"),
        (f"{D1}/sap/VBRP.csv", 9, "unknown_customer"),
        (f"{D1}/sap/VBRP.csv", 10, "missing_required_field"),
    ]
    detail, raw = con.execute(
        "select detail, raw_record from audit.rejected_rows where reason = "
        "'unmapped_service_type'").fetchone()
    assert detail == ("Task Type 'Email', Subject 'Newsletter': no rule of service_types in "
                      "salesforce.yml maps it")
    assert json.loads(json.loads(raw)["native_record"])["Id"] == "00T3"
    detail = con.execute("select detail from audit.rejected_rows where reason = "
                         "'unknown_currency_rate' and source_file like '%VBRP%'").fetchone()[0]
    assert detail == "currency 'JPY': no rate of currency_rates.csv is valid on 2026-11-13"


def test_facts_name_the_native_file_and_line(con, landing):
    _load(con, landing, D1)
    lineage = con.execute(
        "select activity_id, source_file, line_number, duration_minutes, employee_id, "
        "department, status from raw.service_activities order by activity_id").fetchall()
    assert lineage == [
        ("00T1", f"{D1}/salesforce/Task.csv", 2, Decimal("30"), "E-INSIDE-1", "inside_sales",
         "done"),
        ("00T2", f"{D1}/salesforce/Task.csv", 3, Decimal("45"), "E-INSIDE-1", "inside_sales",
         "done"),
        ("00T5", f"{D1}/salesforce/Task.csv", 6, Decimal("20"), "E-INSIDE-1", "inside_sales",
         "cancelled"),
        # minutes as given; and from StartDateTime to EndDateTime (09:00 to 10:30 UTC)
        ("00U1", f"{D1}/salesforce/Event.csv", 2, Decimal("180"), "E-FIELD-1", "field_service",
         "done"),
        ("00U2", f"{D1}/salesforce/Event.csv", 3, Decimal("90"), "E-FIELD-1", "field_service",
         "done"),
    ]
    orders = con.execute(
        "select order_id, line_no, customer_id, order_date, net_revenue_eur, "
        "cost_of_goods_eur, updated_at, source_file, line_number from raw.orders "
        "where source_file like '%sap%' order by line_number").fetchall()
    sap = f"{D1}/sap/VBRP.csv"
    assert orders == [
        ("90000001", 10, "0000100001", dt.date(2026, 11, 3), Decimal("1000"), Decimal("600"),
         dt.datetime(2026, 11, 3, 9, 15), sap, 2),
        ("90000001", 20, "0000100001", dt.date(2026, 11, 3), Decimal("500"), Decimal("200"),
         dt.datetime(2026, 11, 3, 9, 15), sap, 3),
        # 1000 USD at 0.88; its header in its latest version, D2's (AEDAT 20261120)
        ("90000002", 10, "0000100002", dt.date(2026, 11, 5), Decimal("880"), Decimal("440"),
         dt.datetime(2026, 11, 19, 23, 0), sap, 4),
        # cancelled (FKSTO), and its cancellation document's line: the same line at 0
        ("90000003", 10, "0000100001", dt.date(2026, 11, 6), Decimal("0"), Decimal("0"),
         dt.datetime(2026, 11, 9, 23, 0), sap, 5),
        ("90000003", 10, "0000100001", dt.date(2026, 11, 6), Decimal("0"), Decimal("0"),
         dt.datetime(2026, 11, 10, 8, 30), sap, 6),
        # a credit memo counts negative
        ("90000005", 10, "0000100002", dt.date(2026, 11, 12), Decimal("-100"), Decimal("-60"),
         dt.datetime(2026, 11, 12, 9, 15), sap, 7),
    ]
    assert con.execute("select customer_id, status from raw.customers where customer_id in "
                       "('001A3', '0000100003', '001A1') order by 1").fetchall() == [
        ("0000100003", "inactive"), ("001A1", "active"), ("001A3", "inactive")]


def test_a_redelivery_replaces_by_the_systems_change_stamp(con, landing):
    _load(con, landing, D1)
    results = _load(con, landing, D2)
    assert {r.rows_read for r in results.values()} == {1, 2}
    latest = con.execute("""
        select activity_id, duration_minutes, status from raw.service_activities
        qualify row_number() over (partition by activity_id order by updated_at desc) = 1
        order by 1""").fetchall()
    assert latest[:2] == [("00T1", Decimal("40"), "done"), ("00T2", Decimal("45"), "cancelled")]
    # D2's OrderItem.csv comes without Order.csv: its order is D1's
    item = con.execute(
        "select order_id, line_no, net_revenue_eur, updated_at from raw.orders "
        f"where source_file = '{D2}/salesforce/OrderItem.csv'").fetchall()
    assert item == [("00000101", 2, Decimal("0"), dt.datetime(2026, 11, 23, 10, 0))]
    sap = con.execute(
        "select net_revenue_eur, updated_at from raw.orders "
        f"where source_file = '{D2}/sap/VBRP.csv'").fetchall()
    assert sap == [(Decimal("968"), dt.datetime(2026, 11, 19, 23, 0))]  # AEDAT, Berlin time


def test_an_unchanged_native_file_is_skipped_and_a_mapping_change_reloads_it(con, landing,
                                                                              tmp_path):
    _load(con, landing, D1)
    again = _load(con, landing, D1)
    assert all(r.skipped_unchanged for r in again.values())
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    for system in ("salesforce", "sap"):
        text = Mapping(system).path.read_text(encoding="utf-8")
        if system == "salesforce":
            text = text.replace("service_types:\n",
                                "service_types:\n  - {object: Task, field: Type, equals: "
                                "Email, service_type_code: MARKET_INFO}\n")
        (mappings / f"{system}.yml").write_text(text, encoding="utf-8")
    reloaded = _load(con, landing, D1, entities=("service_activities",), mappings=mappings)
    task = reloaded[f"{D1}/salesforce/Task.csv"]
    assert not task.skipped_unchanged
    assert (task.rows_loaded, task.rejected_by_reason) == (4, {"unknown_customer": 1})


def test_the_customer_id_seed_joins_systems_whose_ids_differ(con, landing, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "source_customer_ids.csv").write_text(
        "source_system,source_customer_id,customer_id\nsap,0000100001,001A1\n",
        encoding="utf-8")
    (seeds / "currency_rates.csv").write_text(
        "currency,valid_from,valid_to,eur_per_unit\nUSD,2026-01-01,2026-11-06,0.5\n",
        encoding="utf-8")
    _load(con, landing, D1, entities=("customers", "orders"), seeds=seeds)
    rows = con.execute("select order_id, customer_id, net_revenue_eur from raw.orders "
                       "where order_id in ('90000001', '90000002') order by all").fetchall()
    assert rows == [("90000001", "001A1", Decimal("500")),
                    ("90000001", "001A1", Decimal("1000")),
                    ("90000002", "0000100002", Decimal("500"))]
    # the rate's validity ends before 2026-11-06 (valid_to exclusive): O2 has none
    assert ("salesforce/OrderItem.csv", 4, "unknown_currency_rate") in [
        (f.split("/", 1)[1], line, reason) for f, line, reason in _rejections(con)]


def test_a_delivery_lists_its_native_files_and_fingerprints_them(landing):
    delivery = Delivery(dt.date.fromisoformat(D1), landing / D1)
    assert delivery.strays() == []
    names = sorted(delivery.fingerprint())
    assert names == ["salesforce/Account.csv", "salesforce/Event.csv",
                     "salesforce/OrderItem.csv", "salesforce/Task.csv", "sap/KNA1.csv",
                     "sap/VBRP.csv"]
    before = delivery.fingerprint()["sap/VBRP.csv"]
    (landing / D1 / "sap" / "VBRK.csv").write_text(
        (landing / D1 / "sap" / "VBRK.csv").read_text() + "800;90000009;F2;M;EUR;20261115;"
        "0000100001;1.00;;;20261115;101500;00000000\n")
    assert delivery.fingerprint()["sap/VBRP.csv"] != before  # a header file counts too
    (landing / D1 / "sap" / "MARA.csv").write_text("MATNR\n")
    assert [p.name for p in delivery.strays()] == ["MARA.csv"]
    assert [f.relative for f in native_files(landing / D1, "orders")] == [
        "salesforce/OrderItem.csv", "sap/VBRP.csv"]


def test_a_broken_mapping_is_named(tmp_path):
    (tmp_path / "salesforce.yml").write_text(
        "service_types:\n  - {field: Type, service_type_code: HOTLINE}\n")
    with pytest.raises(MappingError, match="salesforce.yml: service_types rule 1: needs"):
        Mapping("salesforce", tmp_path)


def test_native_values():
    assert stamp("2026-11-20T09:15:00.000+0000") == "2026-11-20T09:15:00+00:00"
    assert stamp("2026-11-20T09:15:00Z") == "2026-11-20T09:15:00+00:00"
    assert sap_date("20261120") == "2026-11-20"
    assert sap_date("20.11.2026") == "2026-11-20"
    assert sap_date("00000000") == ""


# --- through the whole load: the marts ------------------------------------------------------

@pytest.fixture(scope="module")
def two_warehouses(tmp_path_factory):
    """The native deliveries and the same facts as extracts, each loaded by `cvm load`'s
    runner into a warehouse of its own."""
    from orchestration.runner import run_load

    root = tmp_path_factory.mktemp("adapters")
    found = {}
    for kind, write in (("native", write_native), ("generic", write_generic)):
        landing = write(root / kind / "landing")
        warehouse = root / kind / "warehouse.duckdb"
        outcome = run_load(landing, warehouse)
        assert outcome.exit_code == 0, outcome.error
        found[kind] = warehouse
    return found


def _customer_value(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as db:
        return {cid: (float(revenue), float(transfer), segment)
                for cid, revenue, transfer, segment in db.execute(
                    "select customer_id, revenue_eur, value_transfer_eur, segment "
                    "from marts.customer_value where period_start = DATE '2026-01-01'"
                ).fetchall()}


def test_native_marts_are_the_hand_worked_ones_and_the_extracts(two_warehouses):
    native = _customer_value(two_warehouses["native"])
    assert native.keys() == EXPECTED.keys()
    for customer, (revenue, transfer, segment) in EXPECTED.items():
        got = native[customer]
        assert got[0] == pytest.approx(revenue, abs=0.005), customer
        assert got[1] == pytest.approx(transfer, abs=0.01), customer
        assert got[2] == segment, customer
    assert native == _customer_value(two_warehouses["generic"])


def test_the_samples_native_files_load_next_to_its_extracts(con, tmp_path):
    from orchestration.lib.ingest.loader import load_file
    from orchestration.lib.sample.native import write_native

    landing = tmp_path / "landing"
    day = dt.date(2026, 11, 20)
    (landing / D1).mkdir(parents=True)
    (landing / D1 / "customers.csv").write_text(
        "customer_id,customer_name,customer_since\nK000001,A,2020-01-01\nK000002,B,2020-01-01\n")
    assert write_native(landing, day, 2) == {"sap/VBRK.csv": 6, "sap/VBRP.csv": 7,
                                             "salesforce/Task.csv": 4,
                                             "salesforce/Event.csv": 2}
    load_file(con, landing, day, "customers", run_expectations=False)
    results = _load(con, landing, day, entities=("orders", "service_activities"))
    found = {name.split("/", 1)[1]: (r.rows_loaded, r.rejected_by_reason)
             for name, r in results.items()}
    assert found == {
        "sap/VBRP.csv": (6, {"unknown_currency_rate": 1}),
        "salesforce/Task.csv": (3, {"unmapped_service_type": 1}),
        "salesforce/Event.csv": (2, {}),
    }
    # 91000001: 2400 + 850; 91000002: 1300 USD at 0.88 = 1144; 91000003 cancelled (0, twice);
    # 91000005 a credit memo: -600
    total = con.execute("select sum(net_revenue_eur) from raw.orders").fetchone()[0]
    assert total == Decimal("3794.00")


# --- HubSpot --------------------------------------------------------------------------------

def _facts(con, entity):
    from orchestration.lib.ingest.spec import get_spec

    columns = ", ".join(f'"{c}"' for c in get_spec(entity).column_names)
    return sorted(con.execute(f"select {columns} from raw.{entity}").fetchall(),
                  key=lambda row: [str(v) for v in row])


def _same_as_extracts(con, tmp_path, generic: dict[str, str]) -> None:
    """The raw rows of the native load in `con` are those of `generic` loaded as extracts."""
    import duckdb as db

    from orchestration.lib.ingest.loader import load_file
    from orchestration.lib.warehouse.catalog import ensure_meta
    from orchestration.lib.warehouse.store import StoreFiles

    generic_landing = tmp_path / "generic"
    (generic_landing / D1).mkdir(parents=True)
    other = db.connect()
    ensure_meta(other, StoreFiles(tmp_path / "generic_store"))
    try:
        for entity, text in generic.items():
            (generic_landing / D1 / f"{entity}.csv").write_text(text, encoding="utf-8")
            load_file(other, generic_landing, D1, entity, run_expectations=False)
        for entity in generic:
            assert _facts(con, entity) == _facts(other, entity), entity
    finally:
        other.close()


def _write(landing, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = landing / D1 / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_hubspot_native_files_give_the_rows_of_the_extracts(con, tmp_path):
    from tests.adapter_fixtures import HUBSPOT, HUBSPOT_GENERIC

    landing = tmp_path / "landing"
    _write(landing, HUBSPOT)
    results = _load(con, landing, D1)
    counts = {name.split("/", 1)[1]: (r.rows_read, r.rows_loaded, r.rejected_by_reason)
              for name, r in results.items()}
    assert counts == {
        "hubspot/company.csv": (3, 3, {}),
        "hubspot/line_item.csv": (4, 3, {"missing_required_field": 1}),
        "hubspot/engagement.csv": (6, 4, {"unmapped_service_type": 1, "unknown_customer": 1}),
    }
    assert _rejections(con) == [
        (f"{D1}/hubspot/engagement.csv", 4, "unmapped_service_type"),
        (f"{D1}/hubspot/engagement.csv", 7, "unknown_customer"),
        (f"{D1}/hubspot/line_item.csv", 5, "missing_required_field"),
    ]
    _same_as_extracts(con, tmp_path, HUBSPOT_GENERIC)


def test_dynamics_native_files_give_the_rows_of_the_extracts(con, tmp_path):
    from tests.adapter_fixtures import DYNAMICS, DYNAMICS_GENERIC

    landing = tmp_path / "landing"
    _write(landing, DYNAMICS)
    results = _load(con, landing, D1)
    counts = {name.split("/", 1)[1]: (r.rows_read, r.rows_loaded, r.rejected_by_reason)
              for name, r in results.items()}
    assert counts == {
        "dynamics/account.csv": (2, 2, {}),
        "dynamics/invoicedetail.csv": (3, 3, {}),
        "dynamics/activitypointer.csv": (5, 3, {"unmapped_service_type": 1,
                                               "missing_required_field": 1}),
    }
    assert _rejections(con) == [
        (f"{D1}/dynamics/activitypointer.csv", 4, "unmapped_service_type"),
        (f"{D1}/dynamics/activitypointer.csv", 6, "missing_required_field"),
    ]
    _same_as_extracts(con, tmp_path, DYNAMICS_GENERIC)


def test_the_reconciliation_check_covers_the_native_files(con, landing):
    import dagster as dg

    from orchestration.defs.ingest import checks
    from orchestration.lib.audit import Recount, recount

    key = dg.AssetKey(["raw", "orders"])
    results = list(_load(con, landing, D1, entities=("customers", "orders")).values())
    natives = [(r, recount(con, "orders", r.source_file))
               for r in results if "VBRP" in r.source_file or "OrderItem" in r.source_file]
    assert all(c.reconciles for _, c in natives)

    def passed(pairs):
        found = checks.check_results(key, None, 0, natives=pairs)
        return next(c.passed for c in found if c.check_name == checks.RECONCILIATION_CHECK)

    assert passed(natives)
    first, counted = natives[0]
    assert not passed([(first, Recount(counted.rows_read, counted.in_raw - 1,
                                       counted.rejected))])


def test_the_suite_runs_on_native_rows_and_blocks_when_it_fails(con, landing, monkeypatch):
    """The extract's suite runs on the rows a native file gave (4 of Salesforce's order items,
    6 of SAP's billing items: the rows the rules accepted) and is logged; with a suite that
    asks for no revenue above 0 (each file has lines of positive revenue), both files fail
    it, and the blocking check of raw.orders fails with no orders.csv in the delivery, naming
    each native file's failure."""
    import dagster as dg

    from orchestration.defs.ingest import checks
    from orchestration.lib import audit
    from orchestration.lib.audit import recount

    key = dg.AssetKey(["raw", "orders"])
    results = _load(con, landing, D1, entities=("customers", "orders"))
    items = {name.split("/", 1)[1]: r for name, r in results.items()
             if "VBRP" in name or "OrderItem" in name}
    suites = {name: r.expectation_results["orders"] for name, r in items.items()}
    assert {name: (s["success"], s["rows_validated"]) for name, s in suites.items()} == {
        "salesforce/OrderItem.csv": (True, 4), "sap/VBRP.csv": (True, 6)}
    for r in items.values():
        assert audit.logged_load(con, dt.date.fromisoformat(D1),
                                 r.source_file).expectations_passed is True

    def verdict(loaded):
        pairs = [(r, recount(con, "orders", r.source_file)) for r in loaded]
        found = checks.check_results(key, None, 0, natives=pairs)
        return next(c for c in found if c.check_name == checks.EXPECTATIONS_CHECK)

    assert verdict(items.values()).passed

    add_expectation(monkeypatch, {"type": "expect_column_values_to_be_between",
                                  "kwargs": {"column": "net_revenue_eur", "max_value": 0}})
    again = _load(con, landing, D1, entities=("orders",), force=True)
    reloaded = [r for name, r in again.items() if "VBRP" in name or "OrderItem" in name]
    check = verdict(reloaded)
    assert check.passed is False and check.severity == dg.AssetCheckSeverity.ERROR
    named = check.metadata["native_files"].value
    for r in reloaded:
        assert named[r.source_file]["suite_passed"] is False
        (failed,) = named[r.source_file]["unsuccessful_expectations"]
        assert (failed["expectation"], failed["column"]) == (
            "expect_column_values_to_be_between", "net_revenue_eur")
        assert audit.logged_load(con, dt.date.fromisoformat(D1),
                                 r.source_file).expectations_passed is False


def test_a_native_record_with_a_wrong_field_count_is_rejected(con, landing):
    task = landing / D1 / "salesforce" / "Task.csv"
    lines = task.read_text().splitlines()
    lines[1] += ",surplus"
    task.write_text("\n".join(lines) + "\n")
    results = _load(con, landing, D1, entities=("customers", "service_activities"))
    assert results[f"{D1}/salesforce/Task.csv"].rejected_by_reason == {
        "invalid_value": 1, "unmapped_service_type": 1, "unknown_customer": 1}
    assert con.execute("select line_number, detail from audit.rejected_rows "
                       "where reason = 'invalid_value'").fetchall() == [
        (2, "record has 12 fields, the header 11")]


def test_a_native_file_without_a_field_its_adapter_needs_is_refused(con, landing):
    from orchestration.lib.ingest.loader import FileRefused

    vbrk = landing / D1 / "sap" / "VBRK.csv"
    vbrk.write_text(vbrk.read_text().replace(";KUNAG;", ";KUNNR;", 1))
    with pytest.raises(FileRefused) as refused:
        _load(con, landing, D1, entities=("orders",))
    assert str(refused.value) == (
        f"{D1}/sap/VBRK.csv: required field KUNAG missing (header: MANDT, VBELN, FKART, VBTYP, "
        "WAERK, FKDAT, KUNNR, NETWR, FKSTO, SFAKN, ERDAT, ERZET, AEDAT)")
    # nothing of the items is written
    assert con.execute("select count(*) from raw.orders where source_file like '%VBRP%'"
                       ).fetchone()[0] == 0


def test_a_header_changed_later_reaches_the_items_delivered_before(con, tmp_path):
    """HubSpot: line item 8003 of deal 9003, not won in D1 (0); D2 brings the deal won and no
    line item. D1's line_item.csv becomes pending, and loaded again it counts 400."""
    from orchestration.lib.landing import Delivery, sha256_of
    from tests.adapter_fixtures import HUBSPOT

    landing = tmp_path / "landing"
    _write(landing, HUBSPOT)
    _load(con, landing, D1)
    before = Delivery(dt.date.fromisoformat(D1), landing / D1).fingerprint()
    (landing / D2 / "hubspot").mkdir(parents=True)
    (landing / D2 / "hubspot" / "deal.csv").write_text(
        "deal_id,property_dealname,deal_pipeline_stage_id,property_closedate,"
        "property_deal_currency_code,is_deleted,property_hs_lastmodifieddate\n"
        "9003,Consulting,closedwon,2026-11-10,EUR,false,2026-11-25T12:00:00Z\n")
    after = Delivery(dt.date.fromisoformat(D1), landing / D1).fingerprint()
    assert {k for k in before if before[k] != after[k]} == {"hubspot/line_item.csv"}
    assert sha256_of(landing / D1 / "hubspot" / "line_item.csv")  # the file itself unchanged
    again = _load(con, landing, D1, entities=("orders",))[f"{D1}/hubspot/line_item.csv"]
    assert not again.skipped_unchanged
    assert con.execute(
        "select net_revenue_eur, updated_at, source_file, line_number from raw.orders "
        "where order_id = '9003-8003'").fetchall() == [
        (Decimal("400"), dt.datetime(2026, 11, 25, 12, 0), f"{D1}/hubspot/line_item.csv", 4)]


def test_zendesk_native_files_give_the_rows_of_the_extracts(con, tmp_path):
    from tests.adapter_fixtures import ZENDESK, ZENDESK_GENERIC

    landing = tmp_path / "landing"
    _write(landing, ZENDESK)
    results = _load(con, landing, D1)
    counts = {name.split("/", 1)[1]: (r.rows_read, r.rows_loaded, r.rejected_by_reason)
              for name, r in results.items()}
    assert counts == {
        "zendesk/organization.csv": (2, 2, {}),
        "zendesk/ticket.csv": (4, 3, {"unmapped_service_type": 1}),
    }
    assert _rejections(con) == [(f"{D1}/zendesk/ticket.csv", 4, "unmapped_service_type")]
    _same_as_extracts(con, tmp_path, ZENDESK_GENERIC)
