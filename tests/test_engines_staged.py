"""Staged tables (``staged: true``): a producer module that runs often fills
``<model>_staged``; the module reading it takes every row staged since it last ran, then
empties it. Run on every engine, with the producer selected alone between full runs."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from support.data import insert_rows
from support.projects import compile_files, write_project
from support.runs import run_compiled

from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.spec.loader import load_project

# The producer reads only events newer than what it holds (a hand-written high-water mark),
# so each run stages only the new rows.
ORDERS = {
    "name": "orders", "module": "ingest", "materialization": "incremental", "unique_key": "id", "staged": True,
    "columns": {"id": "bigint", "ts": "timestamp", "amount": "decimal(18,2)"},
    "sql": "select id, ts, amount from events "
           "where ts > (select coalesce(max(ts), cast('1900-01-01' as timestamp)) from derived.orders)",
}  # fmt: skip
DOUBLED = {
    "name": "doubled", "module": "rollup", "materialization": "incremental", "unique_key": "id",
    "sql": "select id, amount * 2 as doubled from orders_staged",
}  # fmt: skip
ENGINES = ["postgres", "duckdb", "snowflake", "bigquery", "databricks"]


class StagedProject:
    def __init__(self, engine, root):
        self.engine, self.root = engine, root
        dialect = get_dialect(engine.name)
        for statement in source_ddl(load_project(root).spec, dialect):
            engine.execute(dialect.render(statement))

    def add(self, *ids: int) -> None:
        # every column: Sail inserts only whole rows
        rows = [
            {"id": i, "ts": dt.datetime(2024, 1, 1, 10, i), "useragent": None, "app_id": None, "amount": i} for i in ids
        ]
        for statement in insert_rows(self.engine.name, "raw", "events", rows):
            self.engine.execute(statement)

    def run(self, *select: str, **options) -> dict:
        files = compile_files(self.root, self.engine.name, select=select, **options)
        run_compiled(self.engine, files)
        return json.loads(files["plan.json"])

    def ids(self, table: str) -> list[int]:
        return sorted(int(row[0]) for row in self.engine.query(f"SELECT id FROM {table}"))


@pytest.fixture
def project(engine, tmp_path):
    return StagedProject(engine, write_project(tmp_path / "p", [ORDERS, DOUBLED], modules=["ingest", "rollup"]))


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_the_reader_gets_every_row_staged_since_it_last_ran(project):
    project.add(1, 2)
    project.run()
    assert project.ids("derived.doubled") == [1, 2]
    assert project.ids("scratch.orders_staged") == []  # read, then emptied
    project.add(3)
    project.run("module:ingest")  # the producer alone, twice: the rows accumulate
    project.add(4)
    project.run("module:ingest")
    assert project.ids("scratch.orders_staged") == [3, 4]
    assert project.ids("derived.doubled") == [1, 2]
    project.run()
    assert project.ids("derived.doubled") == [1, 2, 3, 4]
    assert project.ids("scratch.orders_staged") == []
    doubled = project.engine.query("SELECT doubled FROM derived.doubled WHERE id = 4")
    assert [float(value) for (value,) in doubled] == [8.0]


@pytest.mark.parametrize("engine", ["duckdb"], indirect=True)
def test_plan_json_says_which_step_empties_the_staged_table(project):
    plan = project.run()
    steps = [s["id"] for s in plan["steps"]]
    assert steps.index("doubled") < steps.index("orders_staged_consumed")
    [ingest] = [m for m in plan["modules"] if m["name"] == "ingest"]
    assert ingest["staged"] == [
        {
            "table": "scratch.orders_staged",
            "filled_by": "orders",
            "read_by": ["doubled"],
            "emptied_by": "orders_staged_consumed",
        }
    ]
    [rollup] = [m for m in plan["modules"] if m["name"] == "rollup"]
    assert rollup["steps"] == ["doubled", "orders_staged_consumed"]
    selected = project.run("module:ingest")
    [ingest] = [m for m in selected["modules"] if m["name"] == "ingest"]
    assert ingest["staged"] == [{"table": "scratch.orders_staged", "filled_by": "orders", "read_by": []}]


@pytest.mark.parametrize("engine", ["postgres", "duckdb"], indirect=True)
def test_a_full_refresh_drops_the_staged_rows_with_the_state(project):
    project.add(1)
    project.run()
    project.add(2)
    project.run("module:ingest")
    assert project.ids("scratch.orders_staged") == [2]
    project.engine.execute("DELETE FROM raw.events WHERE id = 2")  # the source drops an event
    project.run(full_refresh=True, allow_refresh=True)
    assert project.ids("derived.doubled") == [1]  # rebuilt from the events, not from what was staged
    assert project.ids("scratch.orders_staged") == []


@pytest.mark.parametrize("dialect", ["redshift", "bigquery", "snowflake", "databricks"])
def test_the_staged_steps_parse_with_the_warehouse_grammar(dialect, tmp_path):
    """Redshift has no engine here; the others' emulators are lenient: sqlfluff's grammar too."""
    from test_sqlfluff_grammar import linter

    files = compile_files(write_project(tmp_path / "p", [ORDERS, DOUBLED], modules=["ingest", "rollup"]), dialect)
    staged_files = [name for name in files if name.endswith(("_orders.sql", "_orders_staged_consumed.sql"))]
    assert len(staged_files) == 2
    for name in staged_files:
        parsed = linter(dialect).parse_string(files[name])
        assert [str(v) for v in parsed.violations] == [], name
