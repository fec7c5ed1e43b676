"""Shared fixtures. The engine harness (tests/engines/) provides real engines for generated SQL:
session-scoped ``<name>_engine`` and per-test isolated ``<name>_db`` / indirect ``engine``,
for name in postgres, duckdb, snowflake, bigquery, databricks (see tests/engines/fixtures.py)."""

import sys
from pathlib import Path

import pytest

from snowgen import masking

# The harness package is imported as ``engines`` (tests/ has no __init__.py, so that is the name
# pytest gives tests/engines/ too); make it importable under any --import-mode.
_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from engines.fixtures import (  # noqa: F401  (re-exported for pytest)
    bigquery_db,
    bigquery_engine,
    databricks_db,
    databricks_engine,
    duckdb_db,
    duckdb_engine,
    engine,
    postgres_db,
    postgres_engine,
    pytest_terminal_summary,
    snowflake_db,
    snowflake_engine,
)


@pytest.fixture(autouse=True)
def forgotten_secrets():
    """Secrets a test registers (a target's settings read through the API) are masked for
    that test only, as they are for one command of the CLI."""
    with masking.secrets_scope():
        yield
