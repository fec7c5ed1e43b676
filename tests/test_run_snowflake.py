"""The shipped snowplow_web plan through `snowgen run`'s Snowflake connector: the real
snowflake-connector-python against fakesnow's server, one connection per run (the run limits
travel in session variables), three runs with new events between, each giving DuckDB's
tables (DuckDB runs the compiled files as tests/test_engines_sessions_emulators.py does).
fakesnow's gap is bridged in tests/support/fakesnow_bridge.py, named there."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from support import fakesnow_bridge, generator
from test_engines_sessions_emulators import DERIVED_TABLES, PROJECT, VARS, batches, rows, runs

from snowgen import api
from snowgen.api import CompileOptions, RunOptions
from snowgen.dialects import get_dialect
from snowgen.runner.connections import connected


@pytest.fixture(scope="module")
def duckdb_tables(duckdb_engine) -> list[dict[str, list[tuple]]]:
    engine = duckdb_engine.fresh()
    try:
        return list(runs(engine, None, DERIVED_TABLES))
    finally:
        engine.close()


@pytest.fixture
def web_database(snowflake_engine, monkeypatch, tmp_path) -> str:
    """A database of its own on fakesnow's server, its source tables created through
    snowgen's connector, and the bridge in place."""
    (tmp_path / "profiles.yml").write_text("{}\n")
    monkeypatch.setenv("SNOWGEN_PROFILES_DIR", str(tmp_path))
    fakesnow_bridge.bridge(monkeypatch)
    url = fakesnow_bridge.snowflake_url(
        snowflake_engine.port, fakesnow_bridge.database_name("SNOWGEN_WEB"), password="fakesnow-pw"
    )
    loaded = api.load_project(PROJECT)
    api.execute_sql(url, PROJECT, api.source_ddl(loaded, get_dialect("snowflake")))
    return url


def test_three_runs_of_the_web_plan_agree_with_duckdb(web_database, duckdb_tables):
    prepared = api.prepare_run(api.load_project(PROJECT), RunOptions(CompileOptions(vars=VARS), db=web_database))
    assert len(duckdb_tables) == len(batches()) >= 3
    for number, batch in enumerate(batches()):
        with connected(web_database, PROJECT) as loader:
            generator.load(SimpleNamespace(name="snowflake", execute=loader.execute), batch)
        with api.run_session(prepared) as session:
            results = list(session.steps())
            counts = dict(session.row_counts())
            reader = SimpleNamespace(name="snowflake", query=session.connection.query)
            tables = {name: rows(reader, query) for name, query in DERIVED_TABLES.items()}
        for name, expected in duckdb_tables[number].items():
            assert tables[name] == expected, f"run {number + 1}: {name}"
        assert counts["derived.snowplow_web_page_views"] == len(tables["page_views"])
        assert any(result.rows for result in results), "no step reported the rows it wrote"
    assert all(tables.values()), "the last run left a derived table empty"


def test_rows_written_are_what_the_dml_reports(web_database):
    with connected(web_database, PROJECT) as connection:
        assert connection.execute("CREATE SCHEMA IF NOT EXISTS counted") is None
        assert connection.execute("CREATE TABLE counted.t (a INT)") is None
        assert connection.execute("INSERT INTO counted.t VALUES (1), (2), (3)") == 3
        assert connection.execute("UPDATE counted.t SET a = 0 WHERE a > 1") == 2
        assert connection.execute("DELETE FROM counted.t WHERE a = 0") == 2
        assert connection.execute("SET v = (SELECT COUNT(*) FROM counted.t)") is None
        assert connection.query("SELECT $v") == [(1,)]  # a session variable lives for the connection
