"""What a customer will be worth: the purchase model (model.py), its fit and the value of the
customer base (build.py), and the return on value transfer (payback.py).

Their libraries (numpy, pandas, scipy: about 1.3 s of imports on a quiet machine) come with
build.py and payback.py, which the load's assets import when they run, not with the
definitions. `import_in_background` starts that import while the first part of the dbt build
runs, when the load's process mostly waits for dbt, which runs in a process of its own."""

from __future__ import annotations

import importlib
import threading

# what the fit, customer_equity and segment_payback import when they run
MODULES = ("orchestration.lib.clv.build", "orchestration.lib.clv.payback")


def import_in_background() -> None:
    """Import MODULES in a daemon thread. An asset that needs them and runs before the
    import ends waits for it (Python's lock of a module being imported); an import that fails
    here fails again, with its traceback, where the asset imports the module."""
    def run() -> None:
        for name in MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - raised again where the asset imports it
                return

    threading.Thread(target=run, name="cvm-import-purchase-model", daemon=True).start()
