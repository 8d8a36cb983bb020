"""The rules a build follows, and their fingerprint.

The marts follow the dbt project (models, macros, seeds, tests, dbt_project.yml) and the dbt
vars in effect: the defaults in dbt_project.yml, overridden by a deployment's `CVM_DBT_VARS`
(YAML, e.g. `{period_grain: quarter}`), overridden by the vars of one run (`cvm load --vars`),
all checked against the vars' schema first (dbt_vars.py). The fingerprint is a sha256 over all
of it, and over whether the marts hold pseudonyms and with which key (a digest of it, never
the key). The catalog and the engine's working database
record the one they were built with; a different one makes the next build a full one.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from orchestration import settings
from orchestration.lib.ingest import personal
from orchestration.lib.warehouse import reference_inputs
from orchestration.lib.warehouse.dbt_vars import BadVars, checked_vars

__all__ = ["BadVars", "effective_vars", "rules_fingerprint", "sources_digest"]

# what the fingerprint covers in the dbt project
RULE_FOLDERS = ("models", "macros", "seeds", "tests", "snapshots")
RULE_FILES = ("dbt_project.yml",)
# raised when the way the orchestration lays out the engine's database changes
LAYOUT_VERSION = "1"
VARS_ENV = "CVM_DBT_VARS"


def effective_vars(run_vars: str | None = None, origin: str = "--vars",
                   landing: Path | None = None) -> dict:
    """The vars that override dbt_project.yml: $CVM_DBT_VARS, then the run's own (named
    `origin` in an error), each checked against the vars' schema (dbt_vars.py): BadVars, one
    line, at the first unknown var or value that is not allowed. With the landing root, also
    the controllers' capacity data and time equations of its folder `reference/`
    (reference_inputs.py: BadReference names the file and the line)."""
    checked = checked_vars([(VARS_ENV, os.environ.get(VARS_ENV)), (origin, run_vars)])
    return {**checked, **reference_inputs.dbt_vars(landing)}


def _add_files(digest, project_dir: Path, paths: list[Path]) -> None:
    """Add each file's path (relative to the project) and bytes to `digest`, in path order."""
    for path in sorted(paths, key=lambda p: p.relative_to(project_dir).as_posix()):
        if path.is_file():
            digest.update(path.relative_to(project_dir).as_posix().encode() + b"\n")
            digest.update(hashlib.sha256(path.read_bytes()).digest())


def rules_fingerprint(project_dir: Path, dbt_vars: dict) -> str:
    """sha256 over the dbt project's rule files (path and bytes) and the vars in effect."""
    project_dir = Path(project_dir)
    digest = hashlib.sha256(f"layout {LAYOUT_VERSION}\n".encode())
    paths = [project_dir / name for name in RULE_FILES]
    for folder in RULE_FOLDERS:
        if (project_dir / folder).is_dir():
            paths += [p for p in (project_dir / folder).rglob("*") if p.is_file()]
    _add_files(digest, project_dir, paths)
    digest.update(("vars " + json.dumps(dbt_vars, sort_keys=True, default=str)).encode())
    key = settings.pseudonym_key()
    if key:  # without pseudonyms, the fingerprint is the one it always was
        digest.update(personal.pseudonym_fingerprint(key).encode())
    return digest.hexdigest()


# what dbt writes into a project folder: no source of its manifest
GENERATED_FOLDERS = ("target", "logs", "dbt_packages")


def sources_digest(project_dir: Path) -> str:
    """sha256 over every file of the dbt project that dbt reads to parse it (all but what dbt
    writes itself): what its manifest was prepared from."""
    project_dir = Path(project_dir)
    paths = [
        p for p in project_dir.rglob("*")
        if p.is_file() and p.relative_to(project_dir).parts[0] not in GENERATED_FOLDERS
        and p.name != ".user.yml"
    ]
    digest = hashlib.sha256()
    _add_files(digest, project_dir, paths)
    return digest.hexdigest()
