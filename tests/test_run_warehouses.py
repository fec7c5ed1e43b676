"""``snowgen run`` on BigQuery and Databricks through their own clients (google-cloud-bigquery
over REST to bqemulator, pyspark-client over Spark Connect to Sail): the shipped snowplow_web
plan, three runs with new events between, must give DuckDB's tables; and the connectors'
errors (a missing client, a server out of reach, a failing step). The emulator bridges are
named in tests/support/warehouse_runs.py."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from engines.duckdb_engine import DuckDBEngine
from support import generator
from support.generator import GeneratorConfig
from support.warehouse_runs import bigquery_url, bridge_bigquery, bridge_sail, spark_url
from test_engines_sessions_emulators import rows

from snowgen import api
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.spec.loader import load_project

PROJECT = generator.SHIPPED_PROJECT
VARS = {"start_date": "2024-03-01", "backfill_limit_days": 1, "lookback_window_hours": 6}
# The derived tables, by columns that exercise each part of the model (engaged time, scroll
# depth, indexes, first page, seeds, stitching), and the manifest the runs advance
TABLES = {
    "page_views": "SELECT page_view_id, domain_sessionid, page_view_in_session_index, engaged_time_in_s, "
                  "vertical_percentage_scrolled, default_channel_group FROM derived.snowplow_web_page_views",
    "sessions": "SELECT domain_sessionid, page_views, engaged_time_in_s, first_page_url, geo_country_name, "
                "br_lang_name, default_channel_group, stitched_user_id FROM derived.snowplow_web_sessions",
    "users": "SELECT domain_userid, sessions, page_views, engaged_time_in_s, first_page_url FROM derived.snowplow_web_users",
    "lifecycle": "SELECT session_identifier, user_identifier, start_tstamp, end_tstamp "
                 "FROM snowplow_manifest.snowplow_web_base_sessions_lifecycle_manifest",
}  # fmt: skip


@cache
def batches() -> list[list[generator.Event]]:
    return generator.generate(GeneratorConfig(seed=7, days=3, users=4)).batches()


def prepared(url: str) -> api.PreparedRun:
    return api.prepare_run(load_project(PROJECT), api.RunOptions(api.CompileOptions(vars=VARS), url))


def run(url: str) -> tuple[int, list[api.StepResult], list[tuple[str, int]]]:
    """One ``snowgen run`` of the plan through the API: the plan's steps, the finished ones,
    the row counts."""
    plan = prepared(url)
    with api.run_session(plan) as session:
        return len(plan.steps), list(session.steps()), session.row_counts()


def create_sources(engine) -> None:
    loaded = load_project(PROJECT)
    dialect = get_dialect(engine.name)
    for statement in source_ddl(loaded.spec, dialect):
        engine.execute(dialect.render(statement))


def three_runs(engine, url: str) -> list[dict[str, list[tuple]]]:
    """Load each batch into ``engine``'s namespace, run the plan on ``url``; the tables after each run."""
    create_sources(engine)
    results = []
    for batch in batches():
        generator.load(engine, batch)
        planned, finished, counts = run(url)
        assert len(finished) == planned and counts
        results.append({name: rows(engine, query) for name, query in TABLES.items()})
    return results


@pytest.fixture(scope="module")
def duckdb_tables(tmp_path_factory) -> list[dict[str, list[tuple]]]:
    """The same three runs through snowgen run on a DuckDB file (the harness loads the
    events, and lets the file go before each run)."""
    path = tmp_path_factory.mktemp("reference") / "web.duckdb"
    create_sources_and_close(path)
    results = []
    for batch in batches():
        with DuckDBEngine(str(path)) as engine:
            generator.load(engine, batch)
        run(f"duckdb:///{path}")
        with DuckDBEngine(str(path)) as engine:
            results.append({name: rows(engine, query) for name, query in TABLES.items()})
    assert all(results[-1][name] for name in TABLES), "the reference tables are empty"
    return results


def create_sources_and_close(path: Path) -> None:
    with DuckDBEngine(str(path)) as engine:
        create_sources(engine)


def test_bigquery_runs_the_plan_as_script_jobs_and_gives_duckdbs_tables(bigquery_db, duckdb_tables, monkeypatch):
    bridge_bigquery(monkeypatch)
    for number, tables in enumerate(three_runs(bigquery_db, bigquery_url(bigquery_db))):
        for name, expected in duckdb_tables[number].items():
            assert tables[name] == expected, f"run {number + 1}: {name}"


def test_databricks_runs_the_plan_over_spark_connect_and_gives_duckdbs_tables(
    databricks_db, duckdb_tables, monkeypatch
):
    bridge_sail(monkeypatch)
    for number, tables in enumerate(three_runs(databricks_db, spark_url(databricks_db))):
        for name, expected in duckdb_tables[number].items():
            assert tables[name] == expected, f"run {number + 1}: {name}"
