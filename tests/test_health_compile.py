"""The queries of `snowgen health`, as built for every dialect (both shipped projects): each
parses back with sqlglot in its own dialect and with sqlfluff's grammar of the warehouses
without an engine here; what each strategy checks; the errors of the planning. Execution:
test_health.py (Postgres, DuckDB), test_engines_late_data.py (also the emulators)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from test_sqlfluff_grammar import SQLFLUFF_DIALECTS, linter, sqlfluff_text

from snowgen.api import health_checks
from snowgen.dialects import DIALECTS, get_dialect
from snowgen.runner.health import HealthRun
from snowgen.spec.loader import load_project

SPECS = Path(__file__).resolve().parents[1] / "model_specs"
PROJECTS = ("multi_source_deals", "snowplow_web")


@cache
def checks(project: str, dialect: str) -> HealthRun:
    return health_checks(load_project(SPECS / project), get_dialect(dialect))


QUERIES = [
    pytest.param(project, dialect, name, id=f"{project}-{dialect}-{name}")
    for project in PROJECTS
    for dialect in DIALECTS
    for name in checks(project, dialect).queries
]


@pytest.mark.parametrize(("project", "dialect", "name"), QUERIES)
def test_each_health_query_parses_back_in_its_dialect(project, dialect, name):
    text = checks(project, dialect).queries[name]
    tree = sqlglot.parse_one(text, read=get_dialect(dialect).sqlglot_dialect)
    assert not isinstance(tree, exp.Command) and tree.find(exp.Command) is None


@pytest.mark.parametrize(("project", "dialect", "name"), [q for q in QUERIES if q.values[1] in SQLFLUFF_DIALECTS])
def test_each_health_query_parses_with_sqlfluff(project, dialect, name):
    parsed = linter(dialect).parse_string(sqlfluff_text(dialect, checks(project, dialect).queries[name]) + ";\n")
    assert [str(v) for v in parsed.violations] == []


def test_each_strategy_runs_its_own_checks():
    assert list(checks("multi_source_deals", "postgres").queries) == ["clock", "watermarks", "late_rows"]
    assert list(checks("snowplow_web", "postgres").queries) == ["clock", "events", "models"]


#: the events table is scanned from now minus stale_after_hours only (its newest partitions)
EVENTS_SINCE = {
    "redshift": "\"s\".\"collector_tstamp\" > (\n    GETDATE() + INTERVAL '-24 HOUR'\n  )",
    "postgres": "\"s\".\"collector_tstamp\" > (\n    CURRENT_TIMESTAMP AT TIME ZONE 'UTC' + INTERVAL '-24 HOUR'\n  )",
    "duckdb": "\"s\".\"collector_tstamp\" > (\n    CURRENT_TIMESTAMP AT TIME ZONE 'UTC' + INTERVAL (-24) HOUR\n  )",
    "bigquery": "`s`.`collector_tstamp` > TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL -24 HOUR)",
    "snowflake": "\"S\".\"COLLECTOR_TSTAMP\" > TIMESTAMPADD(HOUR, -24, CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP_NTZ))",
    "databricks": "`s`.`collector_tstamp` > TIMESTAMPADD(HOUR, -24, CURRENT_TIMESTAMP())",
}  # fmt: skip


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_events_check_reads_only_the_newest_events(dialect):
    assert set(EVENTS_SINCE) == set(DIALECTS)
    assert EVENTS_SINCE[dialect] in checks("snowplow_web", dialect).queries["events"]


def test_the_late_rows_check_counts_only_intervals_within_the_horizon():
    late = checks("multi_source_deals", "postgres").queries["late_rows"]
    assert late.count("INTERVAL '-72 HOUR'") == 6  # interval start and source rows, for p1, p2 and p3
    assert "'stg_deals__p3' AS \"model\"" in late
