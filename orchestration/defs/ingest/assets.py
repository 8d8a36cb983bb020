"""The three raw assets: one landing file each, partitioned by extract date."""


from datetime import date

import dagster as dg

from orchestration.defs.constants import (
    INGEST_GROUP,
    WAREHOUSE_POOL,
    delivery_partitions,
    raw_asset_key,
    run_vars,
    session_of,
)
from orchestration.defs.ingest import checks
from orchestration.defs.resources import WarehouseResource
from orchestration.lib import audit
from orchestration.lib.ingest.spec import ENTITIES
from orchestration.lib.progress import report


def _load(context: dg.AssetExecutionContext, warehouse: WarehouseResource, entity: str):
    from orchestration.lib.ingest.loader import (
        FileRefused,
        ensure_schemas,
        load_file,
        release_pending,
    )
    from orchestration.lib.landing import Digests

    run_vars(context, warehouse.landing)  # bad dbt vars fail before anything loads
    extract_date = date.fromisoformat(context.partition_key)
    path = warehouse.landing / context.partition_key / f"{entity}.csv"
    key = raw_asset_key(entity)
    with warehouse.writer(session_of(context)) as con:
        ensure_schemas(con)
        if not path.exists():
            released = release_pending(con, extract_date, entity)
            report(f"  {context.partition_key} {entity}: no file in this delivery"
                   + (f", {released:,} held rows released" if released else ""), context)
            result = None
        else:
            try:
                result = load_file(con, warehouse.landing, extract_date, entity,
                                   digests=Digests(warehouse.store.landing_digests))
            except FileRefused as refused:
                # the reason once, on the load's FAILED line (the run's failure below)
                report(f"  {context.partition_key} {entity}: REFUSED", context)
                raise dg.Failure(description=str(refused), allow_retries=False) from refused
        natives = _load_native(context, warehouse, con, extract_date, entity)
        open_rejections = audit.open_rejections(con, extract_date, entity)
        counted = audit.recount(con, entity, result.source_file) if result else None
        recounted = [(r, audit.recount(con, entity, r.source_file)) for r in natives]
    data_docs = _data_docs(warehouse, extract_date, result)
    native_docs = {r.source_file: page for r in natives
                   if (page := _data_docs(warehouse, extract_date, r))}

    metadata: dict = {"extract_date": context.partition_key}
    if result is not None:
        if result.skipped_unchanged:
            report(f"  {context.partition_key} {entity}: unchanged (same sha256), skipped",
                   context)
        elif result.identical_to:
            report(f"  {context.partition_key} {entity}: identical to {result.identical_to}, "
                   "skipped", context)
        else:
            reasons = ", ".join(f"{k} {v:,}"
                                for k, v in sorted(result.rejected_by_reason.items()))
            report(
                f"  {context.partition_key} {entity}: read {result.rows_read:,}, "
                f"loaded {result.rows_loaded:,}, rejected {result.rows_rejected:,}"
                + (f" ({reasons})" if reasons else "")
                + (f"; extra columns ignored: {', '.join(result.extra_columns)}"
                   if result.extra_columns else "")
                + ("" if result.ends_with_line_break else
                   "; WARNING: no line break at the end, its last record may be cut short")
                + (f"; loaded on their own again: {', '.join(result.reloaded_copies)}"
                   if result.reloaded_copies else ""),
                context,
            )
        metadata.update(
            {
                "source_file": result.source_file,
                "sha256": result.sha256,
                "dialect": result.dialect,
                "rows_read": result.rows_read,
                "rows_loaded": result.rows_loaded,
                "rows_rejected": result.rows_rejected,
                "rejected_by_reason": dg.MetadataValue.json(dict(result.rejected_by_reason)),
                "extra_columns": ", ".join(result.extra_columns),
                "skipped_unchanged": result.skipped_unchanged,
                "identical_to": result.identical_to or "",
                "ends_with_line_break": result.ends_with_line_break,
            }
        )
    if natives:
        metadata["native_files"] = dg.MetadataValue.json({
            r.source_file: {"rows_read": r.rows_read, "rows_loaded": r.rows_loaded,
                            "rows_rejected": r.rows_rejected,
                            "rejected_by_reason": dict(r.rejected_by_reason),
                            "skipped_unchanged": r.skipped_unchanged}
            for r in natives
        })
    yield dg.MaterializeResult(
        asset_key=key,
        metadata=metadata,
        check_results=checks.check_results(key, result, open_rejections, counted, data_docs,
                                           recounted, native_docs),
    )


def _load_native(context, warehouse: WarehouseResource, con, extract_date: date,
                 entity: str) -> list:
    """Load the delivery's native files of source systems that yield `entity`
    (ingest/adapters/), after its extract; one progress line each."""
    from orchestration.lib.ingest.adapters import load_native
    from orchestration.lib.ingest.adapters.base import MappingError
    from orchestration.lib.ingest.loader import FileRefused

    try:
        results = load_native(con, warehouse.landing, extract_date, entity)
    except (FileRefused, MappingError) as refused:
        report(f"  {context.partition_key} {entity}: native file REFUSED", context)
        raise dg.Failure(description=str(refused), allow_retries=False) from refused
    for result in results:
        name = result.source_file.split("/", 1)[1]
        if result.skipped_unchanged:
            report(f"  {context.partition_key} {name} -> {entity}: unchanged, skipped", context)
            continue
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(result.rejected_by_reason.items()))
        report(f"  {context.partition_key} {name} -> {entity}: read {result.rows_read:,}, "
               f"loaded {result.rows_loaded:,}, rejected {result.rows_rejected:,}"
               + (f" ({reasons})" if reasons else ""), context)
    return results


def _data_docs(warehouse: WarehouseResource, extract_date: date, result) -> str | None:
    """The Data Docs page of this load's validation (an extract's or a native file's); None
    when no suite ran (no file, or a file unchanged since it passed)."""
    if result is None or not result.expectation_results:
        return None
    from orchestration.lib.ingest.data_docs import context_root, publish_validation

    (summary,) = result.expectation_results.values()
    return publish_validation(context_root(warehouse.published), extract_date,
                              result.source_file, summary)


def _make_raw_asset(entity: str, upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    key = raw_asset_key(entity)

    @dg.asset(
        key=key,
        group_name=INGEST_GROUP,
        partitions_def=delivery_partitions,
        deps=upstream,
        check_specs=checks.check_specs(key),
        pool=WAREHOUSE_POOL,
        kinds={"parquet", "csv"},
        description=f"raw.{entity}: the accepted rows of every delivery's {entity}.csv, typed, "
        "with lineage (extract_date, source_file, line_number, loaded_at), as immutable Parquet "
        "files per delivery. Rejected rows go to audit.rejected_rows with their reason.",
    )
    def _raw(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        # a busy warehouse is retried; a refused file raises Failure(allow_retries=False)
        with warehouse.retry_transient():
            yield from _load(context, warehouse, entity)

    return _raw


# customers before orders and activities, so that a customer's first delivery is known in time
raw_assets = [
    _make_raw_asset(entity, [raw_asset_key("customers")] if entity != "customers" else [])
    for entity in ENTITIES
]
