"""What a customer will be worth: the purchase model, fitted once per load on the dbt marts,
before publishing (lib/clv/build.py). Its check that every fit converged blocks publishing."""

import dagster as dg

from orchestration.defs.constants import WAREHOUSE_POOL, session_of
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.clv import build
from orchestration.lib.progress import report
from orchestration.lib.warehouse import catalog

CLV_KEYS = [dg.AssetKey(["marts", name]) for name in build.TABLES]
MODEL_KEY = dg.AssetKey(["marts", "clv_model"])
FIT_CHECK = "fit_converged"
INPUTS = [dg.AssetKey(["marts", "customer_purchase_summary"]),
          dg.AssetKey(["marts", "customer_value"])]

_DESCRIPTIONS = {
    "customer_lifetime_value": "One row per customer with a purchase day: p_alive, the "
    "expected purchases, revenue and margin over the horizon, and clv_eur (BG/NBD and "
    "Gamma-Gamma, fitted by each load).",
    "clv_model": "One row per model (bg_nbd, gamma_gamma_margin, gamma_gamma_revenue) and "
    "parameter, with its log-likelihood and the customers it was fitted on.",
    "customer_equity": "One row per load's as-of date and segment: customers, the sum of "
    "clv_eur and of the expected margin, the mean p_alive; appended per load.",
}


def build_lifetime_value_assets(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """The fit's three marts, after `upstream` (the dbt marts)."""

    @dg.multi_asset(
        specs=[dg.AssetSpec(key, deps=upstream, group_name="marts", kinds={"python", "scipy"},
                            description=_DESCRIPTIONS[key.path[-1]]) for key in CLV_KEYS],
        check_specs=[dg.AssetCheckSpec(
            FIT_CHECK, asset=MODEL_KEY, blocking=True,
            description="Every model the load fitted converged to a usable result "
            "(Gamma-Gamma: q > 1); a model with too few customers is not fitted.")],
        pool=WAREHOUSE_POOL,
        name="customer_lifetime_value_fit",
    )
    def customer_lifetime_value_fit(context: dg.AssetExecutionContext,
                                    warehouse: WarehouseResource):
        with warehouse.retry_transient(), warehouse.exclusive() as store:
            next_catalog = catalog.open_next(store, session_of(context))
            outcome = build.run(store.engine_database, next_catalog)
        fitted = {name: {**{k: round(v, 6) for k, v in fit.parameters.items()},
                         "log_likelihood": round(fit.log_likelihood, 3),
                         "customers": fit.customers, "converged": fit.converged}
                  for name, fit in outcome.fits.items()}
        report("  purchase model: " + ("; ".join(
            f"{name} " + ", ".join(f"{k} {v:.4g}" for k, v in fit.parameters.items())
            for name, fit in outcome.fits.items()) or "not fitted (too few customers)"),
            context)
        for key in CLV_KEYS:
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

    return customer_lifetime_value_fit
