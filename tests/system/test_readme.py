"""The README's example queries run on a published warehouse as written."""

from __future__ import annotations

import re

import duckdb
import pytest

from orchestration.settings import PROJECT_DIR

pytestmark = pytest.mark.slow


def _queries() -> list[str]:
    text = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    return [query.strip() for block in blocks for query in block.split(";") if query.strip()]


def test_the_readme_queries_run_on_the_published_warehouse(reports_warehouse):
    queries = _queries()
    assert len(queries) >= 2
    with duckdb.connect(str(reports_warehouse), read_only=True) as con:
        for query in queries:
            relation = con.sql(query)
            rows = relation.fetchall()
            assert rows, query  # the reports' warehouse has customers in 2026
    assert "customer_value" in queries[0] and "period_start" in queries[0]
