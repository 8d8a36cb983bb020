"""The landing scan, the run key and the new-delivery sensor."""

from __future__ import annotations

import json
import os
from datetime import date

import dagster as dg
import duckdb

from orchestration.defs.automation.schedules import nightly_schedule
from orchestration.defs.automation.sensors import new_delivery_sensor
from orchestration.defs.resources import WarehouseResource
from orchestration.lib import landing
from tests.ingest_fixtures import extract, record


def _customers(name: str) -> str:
    return extract("customers", record("customers", customer_id="C1", customer_name=name,
                                       customer_since="2020-01-01"))


ALPHA = _customers("Alpha")


def _deliver(root, folder, text=ALPHA):
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    (path / "customers.csv").write_text(text, encoding="utf-8")
    return path


def _evaluate(tmp_path, cursor=None):
    resource = WarehouseResource(
        landing_dir=str(tmp_path / "landing"), warehouse_path=str(tmp_path / "wh.duckdb")
    )
    context = dg.build_sensor_context(cursor=cursor, resources={"warehouse": resource})
    result = new_delivery_sensor(context)
    if isinstance(result, dg.SkipReason):
        return [], context.cursor
    # the folders become delivery partitions as they are requested
    (added,) = result.dynamic_partitions_requests
    assert added.partitions_def_name == "deliveries"
    assert added.partition_keys == [r.partition_key for r in result.run_requests]
    return list(result.run_requests), result.cursor


def test_scan_orders_by_date_and_ignores_non_dates(tmp_path):
    root = tmp_path / "landing"
    for name in ("2026-11-22", "2026-11-21", "not-a-date", "20261123", "2026-02-30"):
        (root / name).mkdir(parents=True)
    warnings = []
    deliveries = landing.scan(root, warn=warnings.append)
    assert [d.partition_key for d in deliveries] == ["2026-11-21", "2026-11-22"]
    assert sorted(warnings) == [f"{root / name}: not a date (YYYY-MM-DD), ignored"
                                for name in ("2026-02-30", "20261123", "not-a-date")]


def test_pending_compares_sha256_per_file(tmp_path):
    root = tmp_path / "landing"
    _deliver(root, "2026-11-21")
    deliveries = landing.scan(root)
    digest = landing.sha256_of(root / "2026-11-21" / "customers.csv")
    assert landing.pending(deliveries, {}) == deliveries
    assert landing.pending(deliveries, {"2026-11-21/customers.csv": digest}) == []
    assert landing.pending(deliveries, {"2026-11-21/customers.csv": "0" * 64}) == deliveries


def test_digests_are_remembered_until_the_file_changes(tmp_path, monkeypatch):
    """A file is hashed once; a second scan, also from a new process's cache file, reads it
    no more; a file written again (another mtime) is hashed again, and a corrected file
    makes its delivery pending, as without the cache."""
    root, cache = tmp_path / "landing", tmp_path / "store" / "landing-digests.json"
    cache.parent.mkdir()
    path = _deliver(root, "2026-11-21") / "customers.csv"
    hashed = []
    real = landing.sha256_of
    monkeypatch.setattr(landing, "sha256_of", lambda p: hashed.append(p) or real(p))

    first = landing.Digests(cache)
    (delivery,) = landing.scan(root, digests=first)
    loaded = {"2026-11-21/customers.csv": real(path)}
    assert landing.pending([delivery], loaded) == []
    first.save()
    assert hashed == [path]
    # a new process: the cache file answers
    (delivery,) = landing.scan(root, digests=landing.Digests(cache))
    assert landing.pending([delivery], loaded) == [] and hashed == [path]
    # corrected bytes of the same size, a new mtime: hashed again, pending
    path.write_text(ALPHA.replace("Alpha", "Alpho"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    (delivery,) = landing.scan(root, digests=landing.Digests(cache))
    assert landing.pending([delivery], loaded) == [delivery] and hashed == [path, path]


def test_a_broken_digest_cache_is_hashed_again(tmp_path):
    root, cache = tmp_path / "landing", tmp_path / "landing-digests.json"
    path = _deliver(root, "2026-11-21") / "customers.csv"
    cache.write_text("{not json", encoding="utf-8")
    (delivery,) = landing.scan(root, digests=landing.Digests(cache))
    assert delivery.fingerprint() == {"customers.csv": landing.sha256_of(path)}


def test_sensor_new_folder_then_redelivery_then_correction(tmp_path):
    root = tmp_path / "landing"
    _deliver(root, "2026-11-21")

    # a new folder: one run, keyed by folder and the files' sha256
    requests, cursor = _evaluate(tmp_path)
    assert len(requests) == 1
    first_key = requests[0].run_key
    assert requests[0].partition_key == "2026-11-21"
    assert first_key.startswith("2026-11-21:")
    assert json.loads(cursor) == {"2026-11-21": [first_key, 1]}

    # the same bytes delivered again: no new run, and the run key would be the same
    _deliver(root, "2026-11-21")
    requests, cursor_again = _evaluate(tmp_path, cursor)
    assert requests == []
    assert landing.scan(root)[0].run_key() == first_key

    # a corrected re-delivery: a new run with a new key
    _deliver(root, "2026-11-21", _customers("Alpha GmbH"))
    requests, cursor_corrected = _evaluate(tmp_path, cursor_again)
    assert len(requests) == 1
    assert requests[0].run_key != first_key
    assert requests[0].partition_key == "2026-11-21"

    # changed back to the first bytes: run again, under a key not used before
    _deliver(root, "2026-11-21")
    requests, _ = _evaluate(tmp_path, cursor_corrected)
    assert len(requests) == 1
    assert requests[0].run_key == f"{first_key}:r3"


def _published_with_log(path, rows):
    con = duckdb.connect(str(path))
    con.execute("create schema audit")
    con.execute("create table audit.load_log (source_file varchar, sha256 varchar, "
                "loaded_at timestamp, expectations_passed boolean)")
    for source_file, digest, passed in rows:
        con.execute("insert into audit.load_log values (?, ?, now(), ?)",
                    [source_file, digest, passed])
    con.close()


def test_schedule_requests_every_delivery_the_published_warehouse_lacks(tmp_path):
    root = tmp_path / "landing"
    for folder in ("2026-11-21", "2026-11-22", "2026-11-23"):
        _deliver(root, folder)
    published = tmp_path / "w.duckdb"
    digest = landing.sha256_of(root / "2026-11-21" / "customers.csv")
    digest_22 = landing.sha256_of(root / "2026-11-22" / "customers.csv")
    _published_with_log(published, [("2026-11-21/customers.csv", digest, True),
                                    # loaded, but its suite failed: still to be loaded
                                    ("2026-11-22/customers.csv", digest_22, False)])
    resource = WarehouseResource(landing_dir=str(root), warehouse_path=str(published))
    with (dg.instance_for_test() as instance,
          dg.build_schedule_context(resources={"warehouse": resource},
                                    instance=instance) as context):
        requests = nightly_schedule(context)
        # the deliveries it requests are partitions now
        assert instance.get_dynamic_partitions("deliveries") == ["2026-11-22", "2026-11-23"]
    # a missed night (11-22) is loaded too, before the newest delivery, in date order
    assert [r.partition_key for r in requests] == ["2026-11-22", "2026-11-23"]
    assert nightly_schedule.cron_schedule == "0 2 * * *"
    assert nightly_schedule.execution_timezone == "Europe/Berlin"
    assert date.fromisoformat(requests[-1].partition_key) == date(2026, 11, 23)
