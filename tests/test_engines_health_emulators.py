"""`snowgen health`'s checks of the sessions strategy on the Snowflake, BigQuery and Databricks
emulators and on DuckDB: the shipped snowplow_web project after one run over a day of
synthetic events (March 2024, so the events table is stale). The watermark strategy's checks
run on the emulators in test_engines_late_data.py.

Bridged here: fakesnow (0.12) returns a NULL TIMESTAMP_NTZ to the Python connector as
1970-01-01 00:00:00 (``SELECT CAST(NULL AS TIMESTAMP_NTZ)`` does it); Snowflake returns None.
The rows read on the Snowflake emulator have that value put back to None."""

from __future__ import annotations

import datetime as dt

import pytest
from support import generator
from support.runs import run_compiled
from test_engines_sessions_emulators import PROJECT, batches, compiled

from snowgen.api import health_checks
from snowgen.dialects import get_dialect
from snowgen.runner.health import HealthReport, check_health
from snowgen.spec.loader import load_project


def health_after_one_run(engine) -> HealthReport:
    ddl, files = compiled(engine.name)
    for statement in ddl:
        engine.execute(statement)
    generator.load(engine, batches()[0])
    run_compiled(engine, files)
    run = health_checks(load_project(PROJECT), get_dialect(engine.name))
    bridge = null_timestamp if engine.name == "snowflake" else (lambda value: value)
    return check_health(run, lambda sql: [tuple(map(bridge, row)) for row in engine.query(sql)], engine.name)


FAKESNOW_NULL_TIMESTAMP = dt.datetime(1970, 1, 1)


def null_timestamp(value):
    return None if value == FAKESNOW_NULL_TIMESTAMP else value


@pytest.mark.parametrize("engine", ["duckdb", "snowflake", "bigquery", "databricks"], indirect=True)
def test_health_reads_the_events_and_the_manifest(engine):
    report = health_after_one_run(engine)
    assert (report.events.stale, report.events.latest_event, report.events.future_events) == (True, None, 0)
    successes = {m.last_success for m in report.models}
    assert len(report.models) == 4 and len(successes) == 1 and None not in successes
    assert not any(m.lagging for m in report.models) and report.problems == ("stale",)
