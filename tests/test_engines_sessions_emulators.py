"""The shipped snowplow_web project on the Snowflake, BigQuery and Databricks emulators,
against DuckDB on the same synthetic events, run after run.

On those three warehouses the run limits travel in variables (Snowflake session variables,
BigQuery script variables, Databricks SQL variables: snowgen.build.run_limits), on DuckDB in a
join to the limits table, and the web_page context is a nested column (VARIANT, ARRAY of
STRUCT) rather than a table of its own: agreement here is agreement of the two forms. The
whole plan runs here with the IAB, UA parser and YAUAA enrichments on, over events that carry
them (three more nested contexts, a boolean field, Snowflake's camelCase keys); with every
option off it runs on these emulators through the warehouses' clients (test_run_warehouses.py,
test_run_snowflake.py, which reuse this module's helpers with their defaults).
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
from support.runs import run_compiled

from snowgen.api import CompileOptions, compile_loaded
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.spec.loader import load_project

PROJECT = generator.SHIPPED_PROJECT
ENGINES = ["duckdb", "snowflake", "bigquery", "databricks"]
BASE_MODULES = ("setup", "base", "finish")  # finish: the run lock's release
VARS = {"start_date": "2024-03-01", "backfill_limit_days": 1, "lookback_window_hours": 6}
ENRICHMENTS = {"enable_iab": True, "enable_ua": True, "enable_yauaa": True}

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
# With the enrichments on: the derived tables above and the enrichment columns, of each context
# and type (IAB's boolean, the UA parser's os_family, YAUAA's device class and category).
ENRICHED_TABLES = {
    **DERIVED_TABLES,
    "page_view_enrichments": "SELECT page_view_id, spider_or_robot, category, useragent_family, os_family, "
                             "os_patch_minor, device_class, device_category, agent_name_version_major "
                             "FROM derived.snowplow_web_page_views",
    "session_enrichments": "SELECT domain_sessionid, spider_or_robot, useragent_version, device_category, "
                           "device_version FROM derived.snowplow_web_sessions",
}  # fmt: skip


@cache
def batches(enriched: bool = False) -> list[list[generator.Event]]:
    return generator.generate(GeneratorConfig(seed=7, days=3, users=4, enrichments=enriched)).batches()


@cache
def compiled(
    dialect: str, modules: tuple[str, ...] | None = None, enriched: bool = False
) -> tuple[list[str], dict[str, str]]:
    """(source DDL, files of the plan) for one dialect; only the steps of ``modules`` if given;
    ``enriched``: with the enrichment options on."""
    loaded = load_project(PROJECT)
    d = get_dialect(dialect)
    options = ENRICHMENTS if enriched else {}
    [project] = compile_loaded(loaded, [dialect], CompileOptions(vars={**VARS, **options}))
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
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, (float, Decimal)):
        return round(float(value), 6)
    return value


def runs(
    engine, modules: tuple[str, ...] | None, tables: dict[str, str], enriched: bool = False
) -> Iterator[dict[str, list[tuple]]]:
    """Load each batch and run the plan (or its ``modules``); yields ``tables`` after each run.
    ``enriched``: events with the enrichment contexts, the plan with the options on."""
    ddl, files = compiled(engine.name, modules, enriched)
    for statement in ddl:
        engine.execute(statement)
    for batch in batches(enriched):
        generator.load(engine, batch)
        run_compiled(engine, files)
        yield {name: rows(engine, query) for name, query in tables.items()}


@pytest.fixture(scope="module")
def duckdb_runs(duckdb_engine):
    """DuckDB's tables after each run: the base module alone, then the whole plan (enriched)."""
    results = {}
    for kind, modules, tables in (("base", BASE_MODULES, BASE_TABLES), ("all", None, ENRICHED_TABLES)):
        engine = duckdb_engine.fresh()
        results[kind] = list(runs(engine, modules, tables, enriched=modules is None))
        engine.close()
    return results


@pytest.mark.parametrize("engine", ENGINES[1:], indirect=True)
def test_base_module_agrees_with_duckdb_run_after_run(engine, duckdb_runs):
    for number, tables in enumerate(runs(engine, BASE_MODULES, BASE_TABLES)):
        for name, expected in duckdb_runs["base"][number].items():
            assert tables[name] == expected, f"run {number + 1}: {name}"


@pytest.mark.parametrize("engine", ENGINES[1:], indirect=True)
def test_derived_tables_agree_with_duckdb_run_after_run(engine, duckdb_runs):
    for number, tables in enumerate(runs(engine, None, ENRICHED_TABLES, enriched=True)):
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
    assert all(last[name] for name in ENRICHED_TABLES)
    assert any(row[3] for row in last["page_views"]), "no engaged time: the context did not join"
    enriched = last["page_view_enrichments"]
    assert {row[7] for row in enriched} == {"Desktop", "Mobile", "Tablet", "Other"}, "YAUAA did not join"
    assert {False, None} <= {row[1] for row in enriched}, "IAB did not join"


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "databricks"])
def test_the_emulated_scripts_read_the_limits_from_variables(dialect):
    """What the comparison above covers: on these dialects no base step joins the limits."""
    _, files = compiled(dialect, BASE_MODULES)
    base = "\n".join(text for name, text in files.items() if "/" in name and "02_base" in name)
    assert "snowgen_run_lower_limit" in base
    assert " AS `lim`" not in base and ' AS "LIM"' not in base and " AS lim" not in base
