"""Asset checks of the raw assets: what Great Expectations and the load log say of each load."""

from __future__ import annotations

import dagster as dg

from orchestration.lib.audit import Recount

EXPECTATIONS_CHECK = "great_expectations"
RECONCILIATION_CHECK = "load_reconciles"
OPEN_REJECTIONS_CHECK = "no_open_rejections"


def check_specs(asset_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            EXPECTATIONS_CHECK,
            asset=asset_key,
            blocking=True,
            description=f"The Great Expectations suite expectations/{asset_key.path[-1]}.json, "
            "run on the rows that landed. Blocking: nothing downstream builds on a failure.",
        ),
        dg.AssetCheckSpec(
            RECONCILIATION_CHECK,
            asset=asset_key,
            blocking=True,
            description="rows_read = rows_loaded + rows_rejected for the file of this delivery.",
        ),
        dg.AssetCheckSpec(
            OPEN_REJECTIONS_CHECK,
            asset=asset_key,
            blocking=False,
            description="Warns while rows of this delivery are rejected and not yet resolved.",
        ),
    ]


def check_results(
    asset_key: dg.AssetKey, result, open_rejections: int, counted: Recount | None = None,
    data_docs: str | None = None, natives: list[tuple] | tuple = (),
    native_docs: dict[str, str] | None = None,
) -> list[dg.AssetCheckResult]:
    """Turn one file's LoadResult (or None when the delivery had no such file), its recount
    and the address of its Great Expectations Data Docs page into check results. `natives`:
    (LoadResult, Recount) of each native file of a source system loaded into the same table;
    the suite and the reconciliation hold only when they hold for each of them too.
    `native_docs`: the Data Docs page of each native file's validation, by its source file."""
    natives_reconcile = all(
        r.rows_read == r.rows_loaded + r.rows_rejected and c is not None and c.reconciles
        for r, c in natives)
    native_meta = {"native_files": dg.MetadataValue.json({
        r.source_file: {"rows_read": r.rows_read, "rows_loaded": r.rows_loaded,
                        "rows_rejected": r.rows_rejected,
                        "recounted_in_raw": c.in_raw if c else -1,
                        "recounted_rejected": c.rejected if c else -1}
        for r, c in natives})} if natives else {}
    # each native file's rows ran the extract's suite too, and one that failed blocks as well;
    # a native file skipped as unchanged passed its suite when it was loaded
    native_verdicts = {
        r.source_file: {"suite_passed": r.skipped_unchanged or bool(_suite(r).get("success")),
                        "rows_validated": _suite(r).get("rows_validated", 0),
                        "unsuccessful_expectations":
                            _suite(r).get("unsuccessful_expectations", [])}
        | ({"data_docs": native_docs[r.source_file]}
           if native_docs and r.source_file in native_docs else {})
        for r, _ in natives}
    natives_pass = all(v["suite_passed"] for v in native_verdicts.values())
    native_gx = {"native_files": dg.MetadataValue.json(native_verdicts)} if natives else {}
    if result is None:
        return [
            dg.AssetCheckResult(check_name=EXPECTATIONS_CHECK, asset_key=asset_key,
                                passed=natives_pass, severity=dg.AssetCheckSeverity.ERROR,
                                metadata={"note": "no file in this delivery"} | native_gx),
            dg.AssetCheckResult(check_name=RECONCILIATION_CHECK, asset_key=asset_key,
                                passed=natives_reconcile,
                                metadata={"note": "no file in this delivery"} | native_meta),
        ] + [_open_rejections(asset_key, open_rejections)]

    # expectation_results maps the suite's entity to its summary (one suite per extract); a
    # file skipped as unchanged passed its suite when it was loaded (else it is loaded again)
    gx = _suite(result)
    gx_passed = (bool(gx.get("success", False)) or result.skipped_unchanged
                 or bool(result.identical_to)) and natives_pass
    gx_meta = {
        "suite": gx.get("suite", ""),
        "evaluated_expectations": gx.get("evaluated_expectations", 0),
        "successful_expectations": gx.get("successful_expectations", 0),
        "rows_validated": gx.get("rows_validated", 0),
        "rows_rejected_by_reason": dg.MetadataValue.json(dict(result.rejected_by_reason)),
        "unsuccessful_expectations": dg.MetadataValue.json(
            gx.get("unsuccessful_expectations", [])
        ),
    }
    gx_meta |= native_gx
    if data_docs:
        gx_meta["data_docs"] = dg.MetadataValue.url(data_docs)
    if result.skipped_unchanged:
        gx_meta["note"] = "file unchanged; its suite passed when it was loaded"
    elif result.identical_to:
        gx_meta["note"] = (f"identical to {result.identical_to}, whose rows it shares; that "
                           "file's suite passed")
    reconciles = result.rows_read == result.rows_loaded + result.rows_rejected and (
        counted is not None and counted.reconciles
    ) and natives_reconcile
    return [
        dg.AssetCheckResult(
            check_name=EXPECTATIONS_CHECK, asset_key=asset_key, passed=gx_passed, metadata=gx_meta,
            severity=dg.AssetCheckSeverity.ERROR,
        ),
        dg.AssetCheckResult(
            check_name=RECONCILIATION_CHECK, asset_key=asset_key, passed=reconciles,
            metadata={
                "rows_read": result.rows_read,
                "rows_loaded": result.rows_loaded,
                "rows_rejected": result.rows_rejected,
                "recounted_in_raw": counted.in_raw if counted else -1,
                "recounted_rejected": counted.rejected if counted else -1,
            } | native_meta,
        ),
        _open_rejections(asset_key, open_rejections),
    ]


def _suite(result) -> dict:
    """The summary of a load's suite (one suite per extract); {} when none ran."""
    suites = list((result.expectation_results or {}).values())
    return suites[0] if suites else {}


def _open_rejections(asset_key: dg.AssetKey, open_rejections: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=OPEN_REJECTIONS_CHECK, asset_key=asset_key, passed=open_rejections == 0,
        severity=dg.AssetCheckSeverity.WARN, metadata={"open_rejections": open_rejections},
    )
