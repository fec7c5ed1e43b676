"""The shipped multi_source_deals project on the Snowflake, BigQuery and Databricks
emulators: the generated DDL, stage, variables and MERGE run for real, twice.

Each step's file runs as one script, as a scheduler would send it (BigQuery's variables
live for one script; see tests/support/runs.py for Sail's missing session variables).
Sail (the Databricks engine here) also rejects CLUSTER BY in CREATE TABLE, which real
Databricks accepts, so on Sail the project runs with the other Databricks layout snowgen
supports: a date partition column (clustering: partition).
"""

from __future__ import annotations

import pytest
import sqlglot
from support.data import insert_rows
from support.deals import deal, project_for
from support.runs import run_compiled

from snowgen.api import compile_loaded
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.spec.loader import load_project

EMULATORS = ["snowflake", "bigquery", "databricks"]


@pytest.fixture
def deals_run(engine, tmp_path):
    loaded = load_project(project_for(engine.name, tmp_path))
    dialect = get_dialect(engine.name)
    for statement in source_ddl(loaded.spec, dialect):
        engine.execute(dialect.render(statement))
    [compiled] = compile_loaded(loaded, [engine.name])

    return engine, lambda: run_compiled(engine, compiled.files)


def load(engine, server: str, rows: list[dict]) -> None:
    for statement in insert_rows(engine.name, f"mt5_{server}", "deals", rows):
        engine.execute(statement)


def table(engine) -> list[tuple]:
    d = get_dialect(engine.name)
    query = sqlglot.parse_one(
        "SELECT server_source, deal, comment FROM deals.inter_deals ORDER BY 1, 2", read="postgres"
    )
    rows = engine.query(d.render(query))
    return [tuple(row) for row in rows]


@pytest.mark.parametrize("engine", EMULATORS, indirect=True)
def test_deals_upsert_runs_on_the_emulator(deals_run):
    engine, run = deals_run
    load(engine, "p1", [deal(1, "2024-03-01 10:00:00", "a"), deal(2, "2024-03-02 10:00:00", "b")])
    load(engine, "p2", [deal(1, "2024-03-01 11:00:00", "c")])
    run()
    assert table(engine) == [("p1", 1, "a"), ("p1", 2, "b"), ("p2", 1, "c")]


@pytest.mark.parametrize("engine", EMULATORS, indirect=True)
def test_deals_second_run_updates_and_inserts_without_duplicates(deals_run):
    engine, run = deals_run
    load(engine, "p1", [deal(1, "2024-03-01 10:00:00", "a")])
    run()
    load(engine, "p1", [deal(1, "2024-03-01 10:00:05", "a2"), deal(3, "2024-03-03 10:00:00", "new")])
    run()
    assert table(engine) == [("p1", 1, "a2"), ("p1", 3, "new")]
