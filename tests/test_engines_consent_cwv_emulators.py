"""The consent and Core Web Vitals modules on the Snowflake, BigQuery and Databricks emulators,
against DuckDB on the same generated events, run after run.

There the events are records in the events table's unstruct_event_ columns (a VARIANT object
with the schema's field names; a STRUCT of snake_case fields), on DuckDB rows of their own
tables: agreement here is agreement of the two forms, and of each warehouse's spelling of the
modules' SQL (array joins, window percentiles, date formats, split_part). The base module runs
with them; the web model's other modules are left out (test_engines_sessions_emulators.py).
"""

from __future__ import annotations

from functools import cache

import pytest
from support import generator
from support.fakesnow_bridge import EPOCH
from support.generator import GeneratorConfig
from support.runs import run_compiled
from test_engines_sessions_emulators import _plain as rows_text
from test_engines_sessions_emulators import rows

from snowgen.api import CompileOptions, compile_loaded
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.spec.loader import load_project

EMULATORS = ["snowflake", "bigquery", "databricks"]
SELECT = ("module:consent", "module:cwv")
VARS = {"start_date": "2024-03-01", "backfill_limit_days": 2, "enable_consent": True, "enable_cwv": True}
TABLES = {
    "consent_log": "SELECT event_id, event_name, event_type, consent_version, consent_scopes, domains_applied, "
                   "gdpr_applies, cmp_load_time FROM derived.snowplow_web_consent_log",
    "cmp_stats": "SELECT event_id, first_consent_event_type, first_consent_event_tstamp, cmp_interaction_time "
                 "FROM derived.snowplow_web_consent_cmp_stats",
    "versions": "SELECT consent_version, version_start_tstamp, consent_scopes, is_latest_version "
                "FROM derived.snowplow_web_consent_versions",
    "users": "SELECT domain_userid, cmp_events, consent_events, last_consent_event_type, last_consent_scopes, "
             "is_latest_version FROM derived.snowplow_web_consent_users",
    "totals": "SELECT consent_version, total_visitors, allow_all, denied, withdrawn, expires_in_six_months "
              "FROM derived.snowplow_web_consent_totals",
    "scopes": "SELECT scope, total_consent FROM derived.snowplow_web_consent_scope_status",
    "vitals": "SELECT page_view_id, event_id, lcp, fid, inp, lcp_result, fid_result, cls_result, inp_result "
              "FROM derived.snowplow_web_vitals",
    "measurements": "SELECT compound_key, time_period, country, page_view_count, lcp_75p, fid_75p, cls_75p, ttfb_75p, "
                    "inp_75p, lcp_result, inp_result, passed FROM derived.snowplow_web_vital_measurements",
}  # fmt: skip


@cache
def batches() -> list[list[generator.Event]]:
    return generator.generate(GeneratorConfig(seed=7, days=3, users=4, consent_and_vitals=True)).batches()


@cache
def compiled(dialect: str) -> tuple[list[str], dict[str, str]]:
    """(source DDL, files of the plan of the two modules: --select module:consent module:cwv,
    which brings the base module, its run limits counting the two modules' models only)."""
    loaded = load_project(generator.SHIPPED_PROJECT)
    d = get_dialect(dialect)
    [project] = compile_loaded(loaded, [dialect], CompileOptions(vars=VARS, select=SELECT))
    return [d.render(s) for s in source_ddl(loaded.spec, d)], project.files


def runs(engine) -> list[dict[str, list[tuple]]]:
    """Load each batch and run the plan; the tables after each run."""
    ddl, files = compiled(engine.name)
    for statement in ddl:
        engine.execute(statement)
    results = []
    for batch in batches():
        generator.load(engine, batch)
        run_compiled(engine, files)
        results.append({name: _read_back(engine, rows(engine, query)) for name, query in TABLES.items()})
    return results


def _read_back(engine, found: list[tuple]) -> list[tuple]:
    """fakesnow-null-timestamp (support/fakesnow_bridge.py): fakesnow's server sends a NULL
    TIMESTAMP_NTZ as 1970-01-01 00:00:00, read back here as the NULL it was."""
    if engine.name != "snowflake":
        return found
    epoch = rows_text(EPOCH)
    return sorted((tuple(None if v == epoch else v for v in row) for row in found), key=repr)


@pytest.fixture(scope="module")
def duckdb_runs(duckdb_engine):
    engine = duckdb_engine.fresh()
    try:
        return runs(engine)
    finally:
        engine.close()


def test_the_reference_runs_fill_every_table(duckdb_runs):
    assert all(duckdb_runs[-1][name] for name in TABLES)
    assert len({tuple(r["consent_log"]) for r in duckdb_runs[:3]}) == 3  # each day's run adds events


@pytest.mark.parametrize("engine", EMULATORS, indirect=True)
def test_the_modules_agree_with_duckdb_run_after_run(engine, duckdb_runs):
    for number, tables in enumerate(runs(engine)):
        for name, expected in duckdb_runs[number].items():
            assert tables[name] == expected, f"run {number + 1}: {name}"
