"""The return on value transfer per period and segment (lib/clv/payback.py): computed once per
load on the dbt marts, before publishing. Its check that the summary reconciles with
marts.value_transfer_payback blocks publishing."""

import dagster as dg

from orchestration.defs.constants import WAREHOUSE_POOL
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.progress import report

PAYBACK_KEY = dg.AssetKey(["marts", "segment_payback"])
PAYBACK_CHECK = "reconciles_with_value_transfer_payback"


def build_payback_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """marts.segment_payback, after `upstream` (the dbt marts)."""

    @dg.asset(
        key=PAYBACK_KEY,
        deps=upstream,
        group_name="marts",
        kinds={"python", "numpy"},
        pool=WAREHOUSE_POOL,
        description="One row per period t (with a following period) and segment: the sums "
        "of value transfer in t and of the margin change to t + 1, their ratio, and within "
        "the classic-value band the high- minus the low-value-transfer customers' mean "
        "change with a bootstrap interval (fixed seed). An association over the data, not "
        "proof of cause.",
        check_specs=[dg.AssetCheckSpec(
            PAYBACK_CHECK, asset=PAYBACK_KEY, blocking=True,
            description="Per period and segment, the customers, the value transfer and the "
            "margin change add up to marts.value_transfer_payback's; no interval is "
            "inverted.")],
    )
    def segment_payback(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        from orchestration.lib.clv import payback  # numpy, pandas: lib/clv/__init__.py

        with warehouse.retry_transient(), warehouse.exclusive() as store:
            outcome = payback.run(store.engine_database)
        periods = f"{outcome.periods} period" + ("" if outcome.periods == 1 else "s")
        report(f"  return on value transfer: {outcome.rows} rows of period and segment "
               f"({periods} with a following period)", context)
        yield dg.MaterializeResult(metadata={"periods": outcome.periods,
                                             "rows": outcome.rows})
        yield dg.AssetCheckResult(
            check_name=PAYBACK_CHECK, asset_key=PAYBACK_KEY, passed=not outcome.failures,
            severity=dg.AssetCheckSeverity.ERROR,
            description="; ".join(outcome.failures[:5]) or "every segment reconciles",
            metadata={"failures": len(outcome.failures)},
        )

    return segment_payback
