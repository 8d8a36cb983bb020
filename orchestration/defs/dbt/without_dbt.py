"""dagster-dbt in a process that does not import dbt-core.

A load runs dbt in processes of its own (lib/dbt_child.py, lib/dbt_server.py). Its own process
needs dagster-dbt for the assets' definitions and to start and follow dbt, but not dbt itself.
Yet dagster-dbt imports dbt-core whenever it is installed: 1.1 s of every load's start on the
machine of docs/benchmarks.md, 2 s on a slower one. It does so for two things this process
does not use: a dbt adapter of its own (CvmDbtCliResource leaves it out) and dbt's node
selection, which the definitions ask for once per part of the build.

dagster-dbt also runs where dbt-core is not installed (with dbt Fusion): then it uses stand-ins
for dbt's enums of a node's status. So `import_dagster_dbt` imports it with dbt hidden, and the
selections of the build's parts (dbt_build.PARTS) are made here from the manifest's child map
(`part_selection`); tests/defs/test_without_dbt.py compares them with dbt's own selection. Any
other selection is dbt's, which is then imported (`select_unique_ids`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any

_HIDDEN = "dbt.version"  # what dagster-dbt imports to learn whether dbt-core is installed
_UNSET = object()
# the forms of selection the build's parts use: every node, or a source and what follows it
_EVERYTHING = "fqn:*"
_SOURCE_AND_AFTER = re.compile(r"source:(\w+)(?:\.(\w+))?\+")


def import_dagster_dbt() -> None:
    """Import dagster-dbt as if dbt-core were not installed (once per process: when dagster-dbt
    is imported already, it stays as it is), and make it select the build's parts here."""
    if "dagster_dbt" not in sys.modules:
        saved = sys.modules.get(_HIDDEN, _UNSET)
        sys.modules[_HIDDEN] = None  # type: ignore[assignment]  # import raises ImportError
        try:
            import dagster_dbt  # noqa: F401
        finally:
            if saved is _UNSET:
                del sys.modules[_HIDDEN]
            else:
                sys.modules[_HIDDEN] = saved  # type: ignore[assignment]
    from dagster_dbt import asset_utils

    asset_utils.select_unique_ids = select_unique_ids  # what dbt_assets' specs are made from


def select_unique_ids(select: str, exclude: str, selector: str, project: Any,
                      manifest_json: Mapping[str, Any]) -> set[str]:
    """dagster-dbt's `select_unique_ids`: the unique ids that a dbt selection selects in the
    manifest; a part's selection from the manifest alone, any other by dbt."""
    selected = part_selection(select, exclude, selector, manifest_json)
    if selected is not None:
        return selected
    import dbt.version
    from dagster_dbt import utils
    from packaging import version

    # dagster-dbt's selection reads the unit tests only when it knows dbt-core's version
    stand_in = utils.DBT_PYTHON_VERSION
    utils.DBT_PYTHON_VERSION = version.parse(dbt.version.__version__)
    try:
        return set(utils._select_unique_ids_from_manifest(select, exclude, selector,
                                                          manifest_json, project))
    finally:
        utils.DBT_PYTHON_VERSION = stand_in


def part_selection(select: str, exclude: str | None, selector: str | None,
                   manifest_json: Mapping[str, Any]) -> set[str] | None:
    """What dbt selects for `--select select [--exclude exclude]` where each is `fqn:*` (every
    node but the sources) or `source:NAME+` (the source and every node downstream of it, which
    includes the tests of any of them, as dbt's eager indirect selection does); None for any
    other selection."""
    if selector:
        return None
    chosen = _nodes(select, manifest_json)
    if chosen is None:
        return None
    if exclude:
        left_out = _nodes(exclude, manifest_json)
        if left_out is None:
            return None
        chosen -= left_out
    return chosen


def _nodes(selection: str, manifest_json: Mapping[str, Any]) -> set[str] | None:
    children: Mapping[str, list[str]] = manifest_json["child_map"]
    if selection == _EVERYTHING:
        return {unique_id for unique_id in children if not unique_id.startswith("source.")}
    match = _SOURCE_AND_AFTER.fullmatch(selection)
    if match is None:
        return None
    source_name, table = match.groups()
    sources = [unique_id for unique_id, source in manifest_json["sources"].items()
               if source["source_name"] == source_name and table in (None, source["name"])]
    found: set[str] = set()
    queue = list(sources)
    while queue:
        unique_id = queue.pop()
        if unique_id not in found:
            found.add(unique_id)
            queue.extend(children.get(unique_id, []))
    return found
