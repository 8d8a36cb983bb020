"""The write-back after publishing: the import files of the configured CRMs (lib/writeback.py),
written into a folder. Off unless $CVM_WRITEBACK_TARGETS names at least one system; then it is
part of every load, after the publish."""

import dagster as dg

from orchestration import settings
from orchestration.defs.constants import PUBLISHED_KEY, WAREHOUSE_POOL
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.progress import report
from orchestration.lib.writeback import write_back

WRITEBACK_KEY = dg.AssetKey(["crm_writeback"])


def build_writeback_asset(targets: tuple[str, ...]) -> dg.AssetsDefinition:
    """The asset that writes the files of `targets` after each publish."""

    @dg.asset(
        key=WRITEBACK_KEY,
        deps=[PUBLISHED_KEY],
        group_name="publish",
        pool=WAREHOUSE_POOL,
        kinds={"csv"},
        description="The import files of the CRMs named in $CVM_WRITEBACK_TARGETS ("
        + ", ".join(targets) + "): the latest period's segment, strategy and values of the "
        "customers whose values changed since the last write-back to that system, written into "
        "$CVM_WRITEBACK_DIR (default: writeback/ in the store); recorded in "
        "audit.writeback_ledger of <store>/writeback.duckdb.",
    )
    def crm_writeback(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        folder = settings.writeback_dir(warehouse.published)
        files = {}
        with warehouse.retry_transient(), warehouse.exclusive():
            for target in targets:
                done = write_back(warehouse.published, target, folder=folder,
                                  what="the write-back of a Dagster run")
                files[target] = {"path": str(done.path), "customers": done.customers,
                                 "of": done.of, "period": done.period.key}
                report(f"  write-back {target}: {done.customers} of {done.of} customers "
                       f"changed -> {done.path}", context)
        return dg.MaterializeResult(metadata={"files": dg.MetadataValue.json(files)})

    return crm_writeback
