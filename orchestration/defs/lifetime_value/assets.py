"""What a customer will be worth: the purchase model, fitted once per load between the two
parts of the dbt build (lib/clv/build.py), and the value of the customer base after the
second. The fit's check that every model converged blocks the rest of the load.

The purchase model's modules (lib/clv/: numpy, pandas, scipy) are imported where the assets
run, not with the definitions (`orchestration.lib.clv.import_in_background`)."""

import time

import dagster as dg

from orchestration.defs.constants import WAREHOUSE_POOL, session_of
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.progress import report
from orchestration.lib.warehouse import build_state, catalog
from orchestration.lib.warehouse.spark_engine import FORECAST

FIT_KEYS = [dg.AssetKey(["marts", "customer_lifetime_value"]),
            dg.AssetKey(["marts", "clv_model"]),
            dg.AssetKey(FORECAST.split("."))]
EQUITY_KEY = dg.AssetKey(["marts", "customer_equity"])
CLV_KEYS = [*FIT_KEYS[:2], EQUITY_KEY]  # the marts the purchase model writes
MODEL_KEY = dg.AssetKey(["marts", "clv_model"])
FIT_CHECK = "fit_converged"
FIT_INPUTS = [dg.AssetKey(["marts", "customer_purchase_summary"])]
EQUITY_INPUTS = [dg.AssetKey(["marts", "customer_value"]), FIT_KEYS[0]]

_DESCRIPTIONS = {
    "customer_lifetime_value": "One row per customer with a purchase day: p_alive, the "
    "expected purchases, revenue and margin over the horizon, and clv_eur (BG/NBD and "
    "Gamma-Gamma, fitted by each load).",
    "clv_model": "One row per model (bg_nbd, gamma_gamma_margin, gamma_gamma_revenue) and "
    "parameter, with its log-likelihood and the customers it was fitted on.",
    "annual_forecast": "One row per forecast customer: the revenue and margin the model "
    "expects in the 12 months after the data's end; the potential where sales gave none "
    "(read by the second part of the dbt build).",
    "customer_equity": "One row per load's as-of date and segment: customers, the sum of "
    "clv_eur and of the expected margin, the mean p_alive; appended per load (earlier dates "
    "kept), every delivery's date computed again by a rebuild.",
}


def _spec(key: dg.AssetKey, deps: list[dg.AssetKey]) -> dg.AssetSpec:
    return dg.AssetSpec(key, deps=deps, group_name="marts", kinds={"python", "scipy"},
                        description=_DESCRIPTIONS[key.path[-1]])


@dg.multi_asset(
    specs=[_spec(key, FIT_INPUTS) for key in FIT_KEYS],
    check_specs=[dg.AssetCheckSpec(
        FIT_CHECK, asset=MODEL_KEY, blocking=True,
        description="Every model the load fitted converged to a usable result "
        "(Gamma-Gamma: q > 1); a model with too few customers is not fitted.")],
    pool=WAREHOUSE_POOL,
    name="customer_lifetime_value_fit",
)
def customer_lifetime_value_fit(context: dg.AssetExecutionContext,
                                warehouse: WarehouseResource):
    from orchestration.lib.clv import build

    with warehouse.retry_transient(), warehouse.exclusive() as store:
        started = time.perf_counter()
        outcome = build.run(store)
        seconds = time.perf_counter() - started
    fitted = {name: {**{k: round(v, 6) for k, v in fit.parameters.items()},
                     "log_likelihood": round(fit.log_likelihood, 3),
                     "customers": fit.customers, "converged": fit.converged}
              for name, fit in outcome.fits.items()}
    report(f"  purchase model fitted on {outcome.customers:,} customers in {seconds:.2f} s: "
           + ("; ".join(
        f"{name} " + ", ".join(f"{k} {v:.4g}" for k, v in fit.parameters.items())
        for name, fit in outcome.fits.items()) or "not fitted (too few customers)"),
        context)
    for key in FIT_KEYS:
        yield dg.MaterializeResult(asset_key=key, metadata={
            "as_of_date": str(outcome.as_of_date), "customers": outcome.customers})
    failures = outcome.failures
    yield dg.AssetCheckResult(
        check_name=FIT_CHECK, asset_key=MODEL_KEY, passed=not failures,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(failures) or "every fitted model converged",
        metadata={"fits": dg.MetadataValue.json(fitted),
                  "not_fitted": dg.MetadataValue.json(outcome.not_fitted)},
    )


@dg.asset(key=EQUITY_KEY, deps=EQUITY_INPUTS, group_name="marts", kinds={"python"},
          description=_DESCRIPTIONS["customer_equity"], pool=WAREHOUSE_POOL)
def customer_equity(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from orchestration.lib.clv import build

    with warehouse.retry_transient(), warehouse.exclusive() as store:
        # a full build (a rebuild) computes every earlier as-of date again
        state = build_state.read_state(store.engine_database)
        rebuild = state is not None and state.is_full and not state.is_finished
        computed = build.run_equity(store.engine_database,
                                    catalog.open_next(store, session_of(context)), rebuild,
                                    echo=lambda line: report(line, context))
    return dg.MaterializeResult(metadata={"rebuild": rebuild,
                                          "earlier_dates_computed": len(computed)})


lifetime_value_assets = [customer_lifetime_value_fit, customer_equity]
