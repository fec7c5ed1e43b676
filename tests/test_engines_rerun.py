"""Every step is safe to re-run: a plan with a table, a view on it and an incremental
model runs twice on the real engines and ends in the same state."""

from __future__ import annotations

import pytest
from support.data import insert_rows
from support.projects import compile_files, write_project

from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.runner.execute import read_plan, run_steps
from snowgen.spec.loader import load_project

MODELS = [
    {"name": "daily", "sql": "select cast(ts as date) as day, count(*) as events from events group by 1"},
    {"name": "daily_view", "materialization": "view", "sql": "select day, events from daily where events > 0"},
    {
        "name": "amounts", "materialization": "incremental", "unique_key": "id", "upsert_date_key": "ts",
        "sql": "select id, ts, amount from events",
    },
]  # fmt: skip


@pytest.mark.parametrize("engine", ["postgres", "duckdb"], indirect=True)
def test_a_table_with_a_view_on_it_rebuilds_on_the_second_run(engine, tmp_path):
    import datetime as dt

    root = write_project(tmp_path / "p", MODELS)
    dialect = get_dialect(engine.name)
    for statement in source_ddl(load_project(root).spec, dialect):
        engine.execute(dialect.render(statement))
    rows = [{"id": i, "ts": dt.datetime(2024, 1, 1 + i % 2, 10), "amount": i} for i in range(4)]
    for statement in insert_rows(engine.name, "raw", "events", rows):
        engine.execute(statement)
    steps = read_plan(compile_files(root, engine.name), engine.name)
    for _ in range(2):
        for _step in run_steps(steps, engine.execute):
            pass
    assert engine.query('SELECT CAST("day" AS VARCHAR), "events" FROM "derived"."daily_view" ORDER BY 1') == [
        ("2024-01-01", 2),
        ("2024-01-02", 2),
    ]
    assert engine.query('SELECT COUNT(*) FROM "derived"."amounts"') == [(4,)]
