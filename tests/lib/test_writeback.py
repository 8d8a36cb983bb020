"""`cvm writeback`: the CRMs' import files, read back as a CRM's importer reads them, and checked
against the marts and the hand-worked values of tests/reports_fixture.py (period 2026):

  classic value        K1 50000, K2 8000, K3 2000, K4 0, K5 -500, K6 30000 (new: potential)
  value transfer       K1 385.37, K2 42.99, K3 1275.29, K4 41.79, K5 0, K6 85.97
  profit after service K1 19614.63, K2 2957.01, K3 -775.29, K4 -41.79, K5 -500.00, K6 314.03
  data through         2026-11-22 (the running period's last delivery)

The ledger: a second write-back without a change writes only the header; a load that changes
a customer's values brings that customer (and only the changed ones) into the next file.
"""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration import settings
from orchestration.cli import main
from orchestration.lib import writeback
from orchestration.lib.warehouse.store import Store

HAND = {  # customer: (classic value, value transfer, profit after service), 2026
    "K1": ("50000.00", "385.37", "19614.63"),
    "K2": ("8000.00", "42.99", "2957.01"),
    "K3": ("2000.00", "1275.29", "-775.29"),
    "K4": ("0.00", "41.79", "-41.79"),
    "K5": ("-500.00", "0.00", "-500.00"),
    "K6": ("30000.00", "85.97", "314.03"),
}
SALESFORCE = ["Id", "CVM_Segment__c", "CVM_Strategy__c", "CVM_Classic_Value__c",
              "CVM_Value_Transfer__c", "CVM_Profit_After_Service__c", "CVM_Data_Through__c"]


@pytest.fixture()
def warehouse(reports_warehouse, tmp_path, monkeypatch):
    """A copy of the reports' warehouse of its own (the ledger goes into its store), without
    the purchase model's mart, as a warehouse published before the model existed: the CLV
    column is then left out (test_clv_where_the_warehouse_has_it adds the mart)."""
    monkeypatch.delenv("CVM_WRITEBACK_CONFIG", raising=False)
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(reports_warehouse, copy)
    con = duckdb.connect(str(copy))
    try:
        kind = con.execute(
            "select table_type from information_schema.tables where table_schema = 'marts' "
            "and table_name = 'customer_lifetime_value'").fetchone()
        if kind:
            relation = "view" if kind[0] == "VIEW" else "table"
            con.execute(f"drop {relation} marts.customer_lifetime_value")
    finally:
        con.close()
    return copy


def _read(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, encoding="utf-8", newline="") as handle:
        assert not handle.read(1) == "\ufeff"  # no BOM: the importers read the header as is
        handle.seek(0)
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _marts(path: Path, period_start: str = "2026-01-01") -> dict[str, tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0]: r[1:] for r in con.execute(
            "select cv.customer_id, cv.segment, cv.strategy_de, cv.strategy, "
            "cv.classic_value_eur, cv.value_transfer_eur, cp.profit_after_service_eur, "
            "cv.data_through from marts.customer_value cv join marts.customer_profitability cp "
            "using (customer_id, period_start) where cv.period_start = ?",
            [period_start]).fetchall()}
    finally:
        con.close()


def _cents(value) -> str:
    return f"{Decimal(value).quantize(Decimal('0.01')):f}"


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main(["writeback", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_salesforce_file_holds_the_marts_values(warehouse, tmp_path, capsys):
    out = tmp_path / "accounts.csv"
    code, said, _ = _run(capsys, "--target", "salesforce", "--warehouse", str(warehouse),
                         "--out", str(out))
    assert code == 0
    assert said.strip() == (f"salesforce write-back of 2026, data through 2026-11-22 written "
                            f"to {out}: 6 of 6 customers (changed since the last write-back)")
    header, rows = _read(out)
    # no CLV column: this warehouse has no marts.customer_lifetime_value
    assert header == SALESFORCE
    marts = _marts(warehouse)
    assert {row["Id"] for row in rows} == set(marts) == set(HAND)
    for row in rows:
        segment, strategy_de, _, classic, transfer, profit, through = marts[row["Id"]]
        assert (row["CVM_Classic_Value__c"], row["CVM_Value_Transfer__c"],
                row["CVM_Profit_After_Service__c"]) == HAND[row["Id"]]
        assert row["CVM_Classic_Value__c"] == _cents(classic)
        assert row["CVM_Value_Transfer__c"] == _cents(transfer)
        assert row["CVM_Profit_After_Service__c"] == _cents(profit)
        assert row["CVM_Segment__c"] == segment
        assert row["CVM_Strategy__c"] == strategy_de  # German by default
        assert row["CVM_Data_Through__c"] == through.isoformat() == "2026-11-22"


def test_second_write_back_without_changes_writes_only_the_header(warehouse, tmp_path, capsys):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    assert _run(capsys, "--target", "hubspot", "--warehouse", str(warehouse),
                "--out", str(first))[0] == 0
    code, said, _ = _run(capsys, "--target", "hubspot", "--warehouse", str(warehouse),
                         "--out", str(second))
    assert code == 0 and "0 of 6 customers" in said and "only the header" in said
    assert second.read_text(encoding="utf-8") == (
        "Record ID,cvm_segment,cvm_strategy,cvm_classic_value,cvm_value_transfer,"
        "cvm_profit_after_service,cvm_data_through\n")
    # another target has its own ledger: everything is new to it
    header, rows = _read(first)
    assert len(rows) == 6
    code, said, _ = _run(capsys, "--target", "zendesk", "--warehouse", str(warehouse),
                         "--out", str(tmp_path / "orgs.csv"))
    assert "6 of 6 customers" in said
    # --all writes every customer again
    code, said, _ = _run(capsys, "--target", "hubspot", "--warehouse", str(warehouse),
                         "--out", str(tmp_path / "all.csv"), "--all")
    assert code == 0 and len(_read(tmp_path / "all.csv")[1]) == 6
    ledger = duckdb.connect(str(writeback.ledger_path(warehouse)), read_only=True)
    try:
        counts = dict(ledger.execute("select target, count(*) from audit.writeback_ledger "
                                     "group by target").fetchall())
        written = ledger.execute(
            "select classic_value_eur, file from audit.writeback_ledger where target = "
            "'hubspot' and customer_id = 'K6' order by written_at").fetchall()
    finally:
        ledger.close()
    assert counts == {"hubspot": 12, "zendesk": 6}
    assert written == [(Decimal("30000.00"), str(first)), (Decimal("30000.00"),
                                                           str(tmp_path / "all.csv"))]


def test_key_is_the_systems_own_id_where_the_seed_maps_it(warehouse, tmp_path, capsys):
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("insert into reference.source_customer_ids values "
                    "('dynamics', '5f1c0d3e-0000-4000-8000-00000000000b', 'K2')")
    finally:
        con.close()
    for target in ("dynamics", "salesforce"):
        assert _run(capsys, "--target", target, "--warehouse", str(warehouse),
                    "--out", str(tmp_path / f"{target}.csv"))[0] == 0
    header, rows = _read(tmp_path / "dynamics.csv")
    assert header[0] == "accountid"
    keys = {row["accountid"]: row["cvm_classic_value"] for row in rows}
    assert keys == {"K1": "50000.00", "5f1c0d3e-0000-4000-8000-00000000000b": "8000.00",
                    "K3": "2000.00", "K4": "0.00", "K5": "-500.00", "K6": "30000.00"}
    # a mapping of one system is not another's
    assert {row["Id"] for row in _read(tmp_path / "salesforce.csv")[1]} == set(HAND)


def test_clv_where_the_warehouse_has_it(warehouse, tmp_path, capsys):
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create table marts.customer_lifetime_value (customer_id varchar, "
                    "clv_eur decimal(18, 4))")
        con.execute("insert into marts.customer_lifetime_value values ('K1', 12345.6789), "
                    "('K2', null)")
    finally:
        con.close()
    out = tmp_path / "accounts.csv"
    assert _run(capsys, "--target", "salesforce", "--warehouse", str(warehouse),
                "--out", str(out))[0] == 0
    header, rows = _read(out)
    assert header == [*SALESFORCE, "CVM_CLV__c"]
    clv = {row["Id"]: row["CVM_CLV__c"] for row in rows}
    assert clv == {"K1": "12345.68", "K2": "", "K3": "", "K4": "", "K5": "", "K6": ""}


def test_field_names_from_the_settings_file(warehouse, tmp_path, capsys, monkeypatch):
    config = tmp_path / "writeback.yml"
    config.write_text(
        "salesforce:\n"
        "  key: Customer_Number__c\n"
        "  language: en\n"
        "  fields:\n"
        "    segment: Value_Segment__c\n"
        "    profit_after_service: null\n", encoding="utf-8")
    monkeypatch.setenv("CVM_WRITEBACK_CONFIG", str(config))
    out = tmp_path / "accounts.csv"
    assert _run(capsys, "--target", "salesforce", "--warehouse", str(warehouse),
                "--out", str(out))[0] == 0
    header, rows = _read(out)
    assert header == ["Customer_Number__c", "Value_Segment__c", "CVM_Strategy__c",
                      "CVM_Classic_Value__c", "CVM_Value_Transfer__c", "CVM_Data_Through__c"]
    marts = _marts(warehouse)
    assert {r["Customer_Number__c"]: (r["Value_Segment__c"], r["CVM_Strategy__c"])
            for r in rows} == {k: (v[0], v[2]) for k, v in marts.items()}
    # a setting that names an unknown field: one line naming the file, nothing written
    config.write_text("salesforce:\n  fields:\n    margin: CVM_Margin__c\n", encoding="utf-8")
    code, _, err = _run(capsys, "--target", "salesforce", "--warehouse", str(warehouse),
                        "--out", str(tmp_path / "bad.csv"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"{config}: salesforce.fields: unknown field 'margin'" in err
    assert not (tmp_path / "bad.csv").exists()


def test_defaults_name_each_field_in_each_target():
    for target in writeback.TARGETS:
        config = writeback.target_config(target, config_file=None)
        assert list(config.columns) == list(writeback.FIELDS)
        for name, column in config.columns.items():
            assert name in column.lower(), (target, name, column)
    assert writeback.target_config("salesforce").columns["segment"] == "CVM_Segment__c"
    assert [writeback.target_config(t).key for t in writeback.TARGETS] == [
        "Id", "Record ID", "accountid", "id"]


def test_targets_setting(monkeypatch):
    monkeypatch.setenv("CVM_WRITEBACK_TARGETS", " Salesforce, zendesk ,salesforce")
    assert settings.writeback_targets() == ("salesforce", "zendesk")
    monkeypatch.setenv("CVM_WRITEBACK_TARGETS", "salesforce,sap")
    with pytest.raises(ValueError, match="'sap' is no target"):
        settings.writeback_targets()
    monkeypatch.delenv("CVM_WRITEBACK_TARGETS")
    assert settings.writeback_targets() == ()


@pytest.mark.parametrize("args, message", [
    (["--target", "sap"], "cvm writeback: unknown target 'sap'; choose one of salesforce, "
                          "hubspot, dynamics, zendesk"),
    (["--target", "hubspot", "--period", "1999"], "no period '1999' in the warehouse "
                                                  "(periods: 2024, 2025, 2026)"),
])
def test_bad_target_or_period_is_one_line(warehouse, tmp_path, capsys, args, message):
    code, out, err = _run(capsys, *args, "--warehouse", str(warehouse),
                          "--out", str(tmp_path / "x.csv"))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err
    assert not (tmp_path / "x.csv").exists()


def test_file_that_cannot_be_written_records_nothing(warehouse, tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    out = blocker / "accounts.csv"
    code, _, err = _run(capsys, "--target", "salesforce", "--warehouse", str(warehouse),
                        "--out", str(out))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"{out}: cannot be written" in err and "nothing recorded" in err
    # the ledger holds nothing: the next write-back writes every customer
    again = tmp_path / "accounts.csv"
    code, said, _ = _run(capsys, "--target", "salesforce", "--warehouse", str(warehouse),
                         "--out", str(again))
    assert code == 0 and "6 of 6 customers" in said


def test_ledger_survives_a_load_and_a_change_appears(e2e_duckdb, tmp_path, monkeypatch):
    """On the end-to-end deliveries (tests/e2e_deliveries.py): a write-back, then a load of a
    fourth delivery with a new 2026 order of C3, then a write-back of only the changed. The
    load runs the write-back asset for HubSpot after its publish."""
    from orchestration.runner import run_load

    fixture_root = e2e_duckdb[0]
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    shutil.copytree(fixture_root / "landing", landing)
    shutil.copytree(Store(fixture_root / "warehouse.duckdb", "duckdb").root,
                    Store(warehouse, "duckdb").root)
    shutil.copyfile(fixture_root / "warehouse.duckdb", warehouse)

    first = writeback.write_back(warehouse, "salesforce", tmp_path / "first.csv")
    header, rows = _read(first.path)
    before = _marts(warehouse)
    # C3 in 2026 (tests/test_end_to_end.py): value transfer A7 218.51 + A8 594.02 = 812.53;
    # five customers: too few for the purchase model, so the CLV column is there, empty
    assert header == [*SALESFORCE, "CVM_CLV__c"]
    by_id = {row["Id"]: row for row in rows}
    assert set(by_id) == set(before) and by_id["C3"]["CVM_Value_Transfer__c"] == "812.53"
    assert {row["CVM_CLV__c"] for row in rows} == {""}
    for customer, row in by_id.items():
        segment, strategy_de, _, classic, transfer, profit, through = before[customer]
        assert (row["CVM_Segment__c"], row["CVM_Strategy__c"], row["CVM_Classic_Value__c"],
                row["CVM_Value_Transfer__c"], row["CVM_Profit_After_Service__c"],
                row["CVM_Data_Through__c"]) == (
            segment, strategy_de, _cents(classic), _cents(transfer), _cents(profit),
            "2026-11-22")

    folder = landing / "2026-11-23"
    folder.mkdir()
    (folder / "orders.csv").write_text(
        "order_id,line_no,customer_id,order_date,product_group,net_revenue_eur,"
        "cost_of_goods_eur,updated_at\n"
        "O12,1,C3,2026-11-22,pumps,7000.00,4000.00,2026-11-22T10:00:00\n", encoding="utf-8")
    monkeypatch.setenv("CVM_WRITEBACK_TARGETS", "hubspot")
    monkeypatch.setenv("CVM_WRITEBACK_DIR", str(tmp_path / "crm"))
    outcome = run_load(landing, warehouse, engine_kind="duckdb", echo=lambda line: None)
    assert outcome.exit_code == 0 and outcome.loaded == ["2026-11-23"], outcome.error

    second = writeback.write_back(warehouse, "salesforce", tmp_path / "second.csv")
    after = _marts(warehouse)
    assert {v[-1].isoformat() for v in after.values()} == {"2026-11-23"}
    # changed: every customer whose values (the date aside) moved, C3 with its new order
    moved = {c for c in after if after[c][:-1] != before.get(c, (None,) * 8)[:-1]}
    assert "C3" in moved and moved != set(after)
    _, rows = _read(second.path)
    assert {row["Id"] for row in rows} == moved
    c3 = next(row for row in rows if row["Id"] == "C3")
    assert c3["CVM_Classic_Value__c"] == _cents(after["C3"][3])
    assert c3["CVM_Data_Through__c"] == "2026-11-23"
    # the ledger kept the first write-back through the publish
    ledger = duckdb.connect(str(writeback.ledger_path(warehouse)), read_only=True)
    try:
        files = ledger.execute("select file, count(*) from audit.writeback_ledger "
                               "group by file order by 1").fetchall()
    finally:
        ledger.close()
    # the asset after the publish: HubSpot's first file, every customer of the new state
    (asset_file,) = (tmp_path / "crm").iterdir()
    assert asset_file.name.startswith("hubspot-2026-")
    assert sorted(files) == sorted([(str(first.path), 5), (str(second.path), len(moved)),
                                    (str(asset_file), 5)])
    header, rows = _read(asset_file)
    assert header[0] == "Record ID"
    assert {row["Record ID"]: (row["cvm_classic_value"], row["cvm_data_through"])
            for row in rows} == {c: (_cents(v[3]), "2026-11-23") for c, v in after.items()}


def test_waits_for_a_load_and_gives_up_in_one_line(warehouse, tmp_path, capsys, monkeypatch,
                                                  lock_holder):
    lock_holder(warehouse, 4)  # another process holds the writer's lock, as a load does
    monkeypatch.setenv("CVM_WRITER_WAIT", "1s")
    out = tmp_path / "accounts.csv"
    code, said, err = _run(capsys, "--target", "salesforce", "--warehouse", str(warehouse),
                           "--out", str(out))
    assert code == 75 and said == ""
    lines = err.strip().splitlines()
    assert lines[0].startswith("waiting for the warehouse's writer:")
    assert len(lines) == 2 and lines[1].startswith("cvm writeback: ")
    assert lines[1].endswith("gave up after 1 s (CVM_WRITER_WAIT); nothing written")
    assert not out.exists() and not writeback.ledger_path(warehouse).exists()


def test_a_change_is_a_key_or_a_value_not_the_date_alone():
    values = {"segment": "invest", "strategy": "s", "classic_value": "10.00",
              "value_transfer": "1.00", "profit_after_service": "9.00",
              "data_through": "2026-11-22", "clv": ""}
    before = writeback.Row("C1", "001A", values)
    fields = list(writeback.FIELDS)
    later = writeback.Row("C1", "001A", values | {"data_through": "2026-11-23"})
    assert not writeback.changed(later, before, fields)
    assert writeback.changed(writeback.Row("C1", "001B", values), before, fields)
    assert writeback.changed(writeback.Row("C1", "001A", values | {"clv": "5.00"}), before,
                             fields)
    # a field the file does not hold is no change either
    assert not writeback.changed(writeback.Row("C1", "001A", values | {"clv": "5.00"}),
                                 before, [f for f in fields if f != "clv"])
    assert writeback.changed(later, None, fields)


def test_no_warehouse_is_one_line_and_leaves_no_store(tmp_path, capsys):
    missing = tmp_path / "typo.duckdb"
    code, said, err = _run(capsys, "--target", "zendesk", "--warehouse", str(missing),
                           "--out", str(tmp_path / "orgs.csv"))
    assert code == 2 and said == ""
    assert err.strip() == (f"cvm writeback: {missing}: no published warehouse (run `cvm load` "
                           "first)")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
