"""The shipped snowplow_web project on the Snowflake, BigQuery and Databricks emulators,
against DuckDB on the same synthetic events, run after run.

On those three warehouses the run limits travel in variables (Snowflake session variables,
BigQuery script variables, Databricks SQL variables: snowgen.build.run_limits), on DuckDB in a
join to the limits table, and the web_page context is a nested column (VARIANT, ARRAY of
STRUCT) rather than a table of its own: agreement here is agreement of the two forms. With
every option of the project on, one run over the same events gives DuckDB's conversions,
event counts, passthroughs, stitching and enrichment columns too (lists, objects and maps as
each warehouse keeps them; the IAB, UA parser and YAUAA contexts as three more nested columns,
a boolean field and Snowflake's camelCase keys among them; two gaps of fakesnow bridged where
the values are compared, one of Sail in tests/support/runs.py, each named).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from functools import cache

import pytest
import sqlglot
from support import generator
from support.generator import GeneratorConfig
from support.generator_conversions import CONDITION
from support.runs import run_compiled

from snowgen.api import CompileOptions, compile_loaded
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.spec.loader import load_project

PROJECT = generator.SHIPPED_PROJECT
ENGINES = ["duckdb", "snowflake", "bigquery", "databricks"]
BASE_MODULES = ("setup", "base", "finish")  # finish: the run lock's release
VARS = {"start_date": "2024-03-01", "backfill_limit_days": 1, "lookback_window_hours": 6}

LIFECYCLE = "SELECT session_identifier, user_identifier, start_tstamp, end_tstamp FROM snowplow_manifest.snowplow_web_base_sessions_lifecycle_manifest"
SESSIONS = "SELECT session_identifier, start_tstamp, end_tstamp FROM scratch.snowplow_web_base_sessions_this_run"
EVENTS = "SELECT event_id, domain_sessionid, collector_tstamp FROM scratch.snowplow_web_base_events_this_run"
LIMITS = "SELECT lower_limit, upper_limit FROM scratch.snowplow_web_base_new_event_limits"
BASE_TABLES = {"limits": LIMITS, "lifecycle": LIFECYCLE, "sessions": SESSIONS, "events": EVENTS}
# The derived tables, by columns that exercise each part of the model: engaged time from
# pings, scroll depth, indexes, first page, seeds (country, language, channel), stitching.
DERIVED_TABLES = {
    "page_views": "SELECT page_view_id, domain_sessionid, page_view_in_session_index, engaged_time_in_s, "
                  "vertical_percentage_scrolled, default_channel_group FROM derived.snowplow_web_page_views",
    "sessions": "SELECT domain_sessionid, page_views, engaged_time_in_s, first_page_url, geo_country_name, "
                "br_lang_name, default_channel_group, stitched_user_id FROM derived.snowplow_web_sessions",
    "users": "SELECT domain_userid, sessions, page_views, engaged_time_in_s, first_page_url FROM derived.snowplow_web_users",
}  # fmt: skip


@cache
def batches() -> list[list[generator.Event]]:
    return generator.generate(GeneratorConfig(seed=7, days=3, users=4)).batches()


@cache
def compiled(
    dialect: str, modules: tuple[str, ...] | None = None, cli_vars: str = json.dumps(VARS)
) -> tuple[list[str], dict[str, str]]:
    """(source DDL, files of the plan) for one dialect; only the steps of ``modules`` if given."""
    loaded = load_project(PROJECT)
    d = get_dialect(dialect)
    [project] = compile_loaded(loaded, [dialect], CompileOptions(vars=json.loads(cli_vars)))
    plan = json.loads(project.files["plan.json"])
    plan["steps"] = [step for step in plan["steps"] if modules is None or step["module"] in modules]
    files = {step["file"]: project.files[step["file"]] for step in plan["steps"]}
    return [d.render(s) for s in source_ddl(loaded.spec, d)], {**files, "plan.json": json.dumps(plan)}


def rows(engine, query: str) -> list[tuple]:
    """The query's rows, timestamps as naive UTC text to the millisecond (the generator's
    precision), floats rounded, sorted."""
    text = get_dialect(engine.name).render(sqlglot.parse_one(query, read="postgres"))
    return sorted((tuple(_plain(v) for v in row) for row in engine.query(text)), key=repr)


def _plain(value):
    if isinstance(value, str) and value[:1] in "[{":  # a list or an object as JSON text
        value = json.loads(value)
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _plain(v)) for k, v in value.items()))
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, (float, Decimal)):
        return round(float(value), 6)
    return value


def runs(engine, modules: tuple[str, ...] | None, tables: dict[str, str]) -> Iterator[dict[str, list[tuple]]]:
    """Load each batch and run the plan (or its ``modules``); yields ``tables`` after each run."""
    ddl, files = compiled(engine.name, modules)
    for statement in ddl:
        engine.execute(statement)
    for batch in batches():
        generator.load(engine, batch)
        run_compiled(engine, files)
        yield {name: rows(engine, query) for name, query in tables.items()}


@pytest.fixture(scope="module")
def duckdb_runs(duckdb_engine):
    """DuckDB's tables after each run: the base module alone, then the whole plan."""
    results = {}
    for kind, modules, tables in (("base", BASE_MODULES, BASE_TABLES), ("all", None, DERIVED_TABLES)):
        engine = duckdb_engine.fresh()
        results[kind] = list(runs(engine, modules, tables))
        engine.close()
    return results


@pytest.mark.parametrize("engine", ENGINES[1:], indirect=True)
def test_base_module_agrees_with_duckdb_run_after_run(engine, duckdb_runs):
    for number, tables in enumerate(runs(engine, BASE_MODULES, BASE_TABLES)):
        for name, expected in duckdb_runs["base"][number].items():
            assert tables[name] == expected, f"run {number + 1}: {name}"


@pytest.mark.parametrize("engine", ENGINES[1:], indirect=True)
def test_derived_tables_agree_with_duckdb_run_after_run(engine, duckdb_runs):
    for number, tables in enumerate(runs(engine, None, DERIVED_TABLES)):
        for name, expected in duckdb_runs["all"][number].items():
            assert tables[name] == expected, f"run {number + 1}: {name}"


def test_the_reference_runs_process_every_batch(duckdb_runs):
    """The comparison is not of empty tables: every run has sessions and events."""
    assert len(duckdb_runs["base"]) == len(duckdb_runs["all"]) == len(batches()) >= 3
    for run in duckdb_runs["base"]:
        assert run["sessions"] and run["events"]
        [(lower, upper)] = run["limits"]
        assert lower < upper
    last = duckdb_runs["all"][-1]
    assert all(last[name] for name in DERIVED_TABLES)
    assert any(row[3] for row in last["page_views"]), "no engaged time: the context did not join"


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "databricks"])
def test_the_emulated_scripts_read_the_limits_from_variables(dialect):
    """What the comparison above covers: on these dialects no base step joins the limits."""
    _, files = compiled(dialect, BASE_MODULES)
    base = "\n".join(text for name, text in files.items() if "/" in name and "02_base" in name)
    assert "snowgen_run_lower_limit" in base
    assert " AS `lim`" not in base and ' AS "LIM"' not in base and " AS lim" not in base


# -- the project's options on --------------------------------------------------------------------
#: every option of the project (docs/spec.md, "The shipped snowplow_web project's options"), one
#: run over all the generated days
OPTIONS = {
    **VARS,
    "backfill_limit_days": 5,
    "conversion_events": [
        {"name": "purchase", "condition": CONDITION, "value": "se_value", "default_value": 1, "list_events": True},
        {"name": "checkout", "condition": "page_urlpath = '/checkout'"},
    ],
    "total_all_conversions": True,
    "list_event_counts": True,
    "page_view_passthroughs": ["v_collector", {"sql": "page_urlpath || '!'", "alias": "path_mark"}],
    "session_passthroughs": ["event_id", {"sql": "page_urlpath || '?' || app_id", "alias": "landing"}],
    "user_first_passthroughs": ["event_id", {"sql": "landing || '-first'", "alias": "first_landing"}],
    "user_last_passthroughs": ["landing"],
    "page_view_stitching": True,
    "engaged_session_sql": "page_views >= 2 and engaged_time_in_s >= 10",
    "content_group_sql": "case when page_urlpath like '/product%' then 'product' else page_urlpath end",
    "enable_iab": True,
    "enable_ua": True,
    "enable_yauaa": True,
}
OPTIONS_TABLES = {
    "conversions": "SELECT domain_sessionid, cv_purchase_volume, cv_purchase_events, cv_purchase_values, "
                   "cv_purchase_total, cv_purchase_first_conversion, cv_purchase_converted, cv_checkout_volume, "
                   "cv_checkout_converted, cv__all_volume, cv__all_total, is_engaged FROM derived.snowplow_web_sessions",
    "sessions": "SELECT domain_sessionid, event_counts, event_id, landing, stitched_user_id FROM derived.snowplow_web_sessions",
    "page_views": "SELECT page_view_id, content_group, v_collector, path_mark, stitched_user_id FROM derived.snowplow_web_page_views",
    "users": "SELECT domain_userid, first_event_id, first_landing, last_landing FROM derived.snowplow_web_users",
    "page_view_enrichments": "SELECT page_view_id, spider_or_robot, category, useragent_family, os_family, "
                             "os_patch_minor, device_class, device_category, agent_name_version_major "
                             "FROM derived.snowplow_web_page_views",
    "session_enrichments": "SELECT domain_sessionid, spider_or_robot, useragent_version, device_category, "
                           "device_version FROM derived.snowplow_web_sessions",
}  # fmt: skip


def options_run(engine) -> dict[str, list[tuple]]:
    ddl, files = compiled(engine.name, None, json.dumps(OPTIONS))
    for statement in ddl:
        engine.execute(statement)
    data = GeneratorConfig(seed=7, days=3, users=4, purchases=6, enrichments=True)
    generator.load(engine, generator.generate(data).events)
    run_compiled(engine, files)
    return {name: rows(engine, query) for name, query in OPTIONS_TABLES.items()}


@pytest.fixture(scope="module")
def duckdb_options(duckdb_engine):
    engine = duckdb_engine.fresh()
    try:
        yield options_run(engine)
    finally:
        engine.close()


def fakesnow_bridged(rows: list[tuple]) -> list[tuple]:
    """fakesnow's gaps in the values it returns, named: *fakesnow-array-agg-keeps-nulls*
    (Snowflake's ARRAY_AGG leaves NULL values out:
    https://docs.snowflake.com/en/sql-reference/functions/array_agg; fakesnow keeps them), and
    *fakesnow-null-timestamp* (a NULL TIMESTAMP_NTZ comes back as 1970-01-01)."""

    def bridged(value):
        if isinstance(value, tuple) and not (value and isinstance(value[0], tuple)):  # a list, not an object
            return tuple(v for v in value if v is not None)
        return None if value == "1970-01-01 00:00:00.000" else value

    return sorted((tuple(bridged(v) for v in row) for row in rows), key=repr)


@pytest.mark.parametrize("engine", ENGINES[1:], indirect=True)
def test_the_options_agree_with_duckdb(engine, duckdb_options):
    tables = options_run(engine)
    for name, expected in duckdb_options.items():
        got = fakesnow_bridged(tables[name]) if engine.name == "snowflake" else tables[name]
        assert got == expected, name
    assert any(row[2] for row in duckdb_options["conversions"]), "no purchase was listed"
    enriched = duckdb_options["page_view_enrichments"]
    assert {row[7] for row in enriched} == {"Desktop", "Mobile", "Tablet", "Other"}, "YAUAA did not join"
    assert {False, None} <= {row[1] for row in enriched}, "IAB did not join"
