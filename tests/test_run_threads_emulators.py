"""``snowgen run --threads 2`` through the warehouses' own clients on the emulators: the shipped
snowplow_web plan, three runs with new events between, on fakesnow (snowflake-connector-python,
one connection per worker, each a Snowflake session with its own session variables) and on
bqemulator (google-cloud-bigquery, one client per worker, each step one script job), each
giving DuckDB's tables. The emulator bridges are the ones the one-connection runs use, named in
tests/support/fakesnow_bridge.py and tests/support/warehouse_runs.py; with them the workers'
steps meet as on the warehouse: fakesnow-merge-table-lock makes a second writer wait for a
transaction as Snowflake's table lock does, and bqemulator runs one job at a time, where
BigQuery runs them at once."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from support import fakesnow_bridge, generator
from support.warehouse_runs import bigquery_url, bridge_bigquery
from test_engines_sessions_emulators import DERIVED_TABLES, PROJECT, VARS, batches, rows, runs

from snowgen import api
from snowgen.api import CompileOptions, RunOptions
from snowgen.dialects import get_dialect
from snowgen.runner.connections import connected

THREADS = 2
pytestmark = pytest.mark.emulator_concurrency


@pytest.fixture(scope="module")
def duckdb_tables(duckdb_engine) -> list[dict[str, list[tuple]]]:
    """The same three runs on DuckDB, its compiled files run in plan order."""
    engine = duckdb_engine.fresh()
    try:
        return list(runs(engine, None, DERIVED_TABLES))
    finally:
        engine.close()


def run_with_threads(url: str) -> str:
    """One ``snowgen run --threads 2`` of the plan through the API; what it printed on stderr."""
    prepared = api.prepare_run(api.load_project(PROJECT), RunOptions(CompileOptions(vars=VARS), db=url))
    err = io.StringIO()
    summary = api.run_plan(prepared, api.make_output("text", False, io.StringIO(), err), None, 0.0, THREADS)
    assert summary.failed is None, err.getvalue()
    assert f"up to {THREADS} at once" in err.getvalue().splitlines()[0]
    return err.getvalue()


def test_snowflake_with_two_threads_gives_duckdbs_tables(snowflake_engine, duckdb_tables, monkeypatch, tmp_path):
    (tmp_path / "profiles.yml").write_text("{}\n")
    monkeypatch.setenv("SNOWGEN_PROFILES_DIR", str(tmp_path))
    fakesnow_bridge.bridge(monkeypatch)
    database = fakesnow_bridge.database_name("SNOWGEN_THREADS")
    url = fakesnow_bridge.snowflake_url(snowflake_engine.port, database, password="fakesnow-pw")
    api.execute_sql(url, PROJECT, api.source_ddl(api.load_project(PROJECT), get_dialect("snowflake")))
    for number, batch in enumerate(batches()):
        with connected(url, PROJECT) as loader:
            generator.load(SimpleNamespace(name="snowflake", execute=loader.execute), batch)
        run_with_threads(url)
        with connected(url, PROJECT) as reader:
            tables = {name: rows(reader_engine(reader), query) for name, query in DERIVED_TABLES.items()}
        for name, expected in duckdb_tables[number].items():
            assert tables[name] == expected, f"run {number + 1}: {name}"
    assert all(tables.values()), "the last run left a derived table empty"


def reader_engine(connection) -> SimpleNamespace:
    return SimpleNamespace(name="snowflake", query=connection.query)


def test_bigquery_with_two_threads_gives_duckdbs_tables(bigquery_db, duckdb_tables, monkeypatch):
    bridge_bigquery(monkeypatch)
    dialect = get_dialect("bigquery")
    for statement in api.source_ddl(api.load_project(PROJECT), dialect):
        bigquery_db.execute(statement)
    for number, batch in enumerate(batches()):
        generator.load(bigquery_db, batch)
        run_with_threads(bigquery_url(bigquery_db))
        tables = {name: rows(bigquery_db, query) for name, query in DERIVED_TABLES.items()}
        for name, expected in duckdb_tables[number].items():
            assert tables[name] == expected, f"run {number + 1}: {name}"
    assert all(tables.values()), "the last run left a derived table empty"
