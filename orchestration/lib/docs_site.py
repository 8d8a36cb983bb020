"""The dbt docs site of the published warehouse, built from a read-only snapshot.

dbt opens its warehouse for writing. Run against the published file, it would wait for (or
break) analysts' read-only connections, and it must never write there. So the site is built
against a snapshot: the published file is attached read-only (as an analyst would open it)
and copied into a private DuckDB file, dbt generates the docs and the catalog of that copy,
and the copy is deleted. The site is one static page (`index.html`) with the project's own
overview (`dbt_project/models/overview.md`), served locally by `serve`.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

from orchestration import settings

SITE_PAGE = "index.html"


class DocsError(RuntimeError):
    pass


def snapshot(published: Path, copy: Path) -> Path:
    """Copy every schema of `published` into the new DuckDB file `copy`, reading it through
    a read-only attachment only."""
    if not published.is_file():
        raise DocsError(f"no warehouse at {published}: run `cvm load` first")
    con = duckdb.connect()
    try:
        con.execute("attach ? as published (read_only)", [str(published)])
        con.execute("attach ? as snapshot", [str(copy)])
        con.execute("copy from database published to snapshot")
    finally:
        con.close()
    return copy


def build_docs(published: Path, out: Path, project_dir: Path = settings.DBT_PROJECT_DIR) -> Path:
    """Generate the dbt docs site of `published` into `out`; returns its page."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cvm-docs-") as work:
        work_dir = Path(work)
        # the copy keeps the published file's name: the catalog names relations after it
        copy = snapshot(published, work_dir / published.name)
        env = {**os.environ, "CVM_WAREHOUSE": str(copy),
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
        command = [
            str(Path(sys.executable).with_name("dbt")), "docs", "generate", "--static",
            "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
            "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"),
        ]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            raise DocsError(f"dbt docs generate failed for {published}:\n"
                            f"{result.stdout[-4000:]}{result.stderr[-2000:]}")
        page = out / SITE_PAGE
        shutil.copyfile(work_dir / "target" / "static_index.html", page)
        for name in ("manifest.json", "catalog.json"):
            shutil.copyfile(work_dir / "target" / name, out / name)
    return page


def serve(site: Path, port: int = 8080, host: str = "127.0.0.1") -> http.server.HTTPServer:
    """An HTTP server of the site's folder on `host`:`port` (0 = a free port); the caller
    runs `serve_forever()` and closes it."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    return http.server.ThreadingHTTPServer((host, port), handler)
