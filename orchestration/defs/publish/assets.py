"""Publishing: the work copy replaces the analysts' file once every blocking check passed."""


import dagster as dg

from orchestration.defs.constants import WAREHOUSE_POOL
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.progress import report
from orchestration.lib.warehouse import storage as wh

PUBLISHED_KEY = dg.AssetKey(["published_warehouse"])


def build_publish_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED_KEY,
        deps=upstream,
        group_name="publish",
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        description="The published warehouse ($CVM_WAREHOUSE) that analysts open read-only. "
        "Replaced by an atomic rename of a checkpointed copy of the work copy, and only when "
        "everything upstream, blocking checks included, has passed.",
    )
    def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        with warehouse.retry_transient(), warehouse.exclusive():
            digest = wh.publish(warehouse.published)
        report(f"  published {warehouse.published} (sha256 {digest[:12]}…)", context)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(warehouse.published)),
                "sha256": digest,
                "size_bytes": warehouse.published.stat().st_size,
            }
        )

    return published_warehouse
