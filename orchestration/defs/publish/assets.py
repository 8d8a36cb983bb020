"""Publishing: the next catalog replaces the analysts' file once every blocking check passed."""


import dagster as dg

from orchestration.defs.constants import PUBLISHED_KEY, WAREHOUSE_POOL
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.progress import report
from orchestration.lib.warehouse import publish


def build_publish_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED_KEY,
        deps=upstream,
        group_name="publish",
        pool=WAREHOUSE_POOL,
        kinds={"duckdb", "parquet"},
        description="The published warehouse ($CVM_WAREHOUSE) that analysts open read-only: a "
        "small catalog with views over the immutable mart and raw files. Replaced by an atomic "
        "rename of the next catalog, and only when everything upstream, blocking checks "
        "included, has passed.",
    )
    def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        with warehouse.retry_transient(), warehouse.exclusive() as store:
            done = publish.publish(store)
        rewritten = ", ".join(
            f"{e.table} {len(e.partitions)} months" for e in done.exported
            if e.partitions is not None
        )
        report(f"  published {warehouse.published} version {done.version} "
               f"(sha256 {done.digest[:12]}…; {'all marts' if done.full else rewritten})",
               context)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(warehouse.published)),
                "sha256": done.digest,
                "version": done.version,
                "full_build": done.full,
                "size_bytes": warehouse.published.stat().st_size,
                "mart_files_written": sum(e.files for e in done.exported),
                "files_deleted": done.deleted_files,
            }
        )

    return published_warehouse
