"""The compiled scripts give the same tables whatever the session's time zone.

Databricks' TIMESTAMP is shown and cast in the session's zone: under America/Los_Angeles the
literal of start_date is read as 08:00 UTC, and the day's first hours were never modelled.
Every Databricks script pins UTC (``SET TIME ZONE 'UTC'``), so a run in a Los Angeles session
equals DuckDB's run in UTC (Sail stands for Databricks). On DuckDB and Postgres snowgen's
expressions are zone-free (the clock is ``CURRENT_TIMESTAMP AT TIME ZONE 'UTC'``, timestamps
have no zone): a non-UTC session gives the tables of a UTC one. The run's tables are read in
UTC each time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from support import generator
from support.runs import run_compiled
from test_engines_sessions_emulators import BASE_MODULES, BASE_TABLES, batches, compiled, rows

ZONE = "America/Los_Angeles"


def set_spark_zone(engine, zone: str) -> None:
    engine.spark.conf.set("spark.sql.session.timeZone", zone)


def set_sql_zone(engine, zone: str) -> None:
    engine.execute(f"SET TimeZone = '{zone}'")


SET_ZONE: dict[str, Callable] = {"databricks": set_spark_zone, "duckdb": set_sql_zone, "postgres": set_sql_zone}


def base_runs(engine, zone: str) -> Iterator[dict[str, list[tuple]]]:
    """Each batch loaded (in UTC), the base module run in a session of ``zone``, its tables read in UTC."""
    set_zone = SET_ZONE[engine.name]
    ddl, files = compiled(engine.name, BASE_MODULES)
    for statement in ddl:
        engine.execute(statement)
    for batch in batches():
        generator.load(engine, batch)
        set_zone(engine, zone)
        run_compiled(engine, files)
        set_zone(engine, "UTC")
        yield {name: rows(engine, query) for name, query in BASE_TABLES.items()}


@pytest.fixture(scope="module")
def utc_runs(duckdb_engine):
    engine = duckdb_engine.fresh()
    try:
        return list(base_runs(engine, "UTC"))
    finally:
        engine.close()


def test_the_utc_runs_start_at_midnight_of_start_date(utc_runs):
    """The case the pin is for: the first run's events include the first hours of the day."""
    first_events = utc_runs[0]["events"]
    assert first_events and min(row[2] for row in first_events) < "2024-03-01 08:00"


@pytest.mark.parametrize("engine", ["databricks", "duckdb", "postgres"], indirect=True)
def test_a_run_in_a_los_angeles_session_gives_the_tables_of_utc(engine, utc_runs):
    for number, tables in enumerate(base_runs(engine, ZONE)):
        for name, expected in utc_runs[number].items():
            assert tables[name] == expected, f"run {number + 1}: {name}"
