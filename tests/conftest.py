"""Shared fixtures: the engines the dbt project runs on.

`engine` is parametrised over DuckDB and Spark; the Spark case carries the `spark` marker
(`make test-fast` leaves it out). One local Spark session serves the whole test run.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

ENGINES = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("spark", id="spark", marks=pytest.mark.spark),
]


@pytest.fixture(scope="session")
def spark_folder(tmp_path_factory) -> Path:
    """Warehouse, metastore and Derby log of the test run's Spark session."""
    return tmp_path_factory.mktemp("spark")


@pytest.fixture(scope="session")
def spark(spark_folder):
    if shutil.which("java") is None:
        pytest.fail("the Spark tests need Java 17 (Debian: openjdk-17-jre-headless)")
    from dbt_engines import spark_session

    session = spark_session(spark_folder)
    yield session
    session.stop()
