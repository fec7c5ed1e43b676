"""The upsert window of reference §3.2, run on every engine: the batch after run 1 has
keys whose dates moved, and the target already holds a duplicate key inside the window.

Upstream, delete+insert ends with 6 rows and MERGE with 7 (both old copies of id 2 are
updated). snowgen's MERGE first deletes keys the target holds twice in the window, so
every strategy ends with the same 6 rows: one per key inside the window, and the stale
copy of id 1 outside it (01-01 is before min(batch) - 30 days)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlglot
from support.data import insert_rows
from support.projects import compile_files, write_project
from support.runs import run_compiled

from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.spec.loader import load_project

SOURCE = {"schema": "raw", "table": "src", "columns": {"id": "int", "d": "timestamp", "v": "string"}}
ENGINES = ["postgres", "duckdb", "snowflake", "bigquery", "databricks"]


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2021-{text} 00:00:00")


def project(tmp_path, upsert: str | None, engine_name: str):
    model = {
        "name": "t", "materialization": "incremental", "unique_key": "id", "upsert_date_key": "d",
        "upsert_lookback_days": 30, "columns": {"id": "int", "d": "timestamp", "v": "string"},
        "sql": "select id, d, v from src",
    }  # fmt: skip
    if upsert:
        model["upsert"] = upsert
    if engine_name == "databricks":  # Sail has no liquid clustering (see tests/support/runs.py)
        model["layout"] = {"dialects": {"databricks": {"clustering": "partition"}}}
    return write_project(tmp_path / "p", [model], sources={"src": SOURCE})


def replace_source(engine, rows: list[tuple]) -> None:
    engine.execute(get_dialect(engine.name).render(sqlglot.parse_one("DELETE FROM raw.src WHERE 1 = 1")))
    records = [{"id": i, "d": day(d), "v": v} for i, d, v in rows]
    for statement in insert_rows(engine.name, "raw", "src", records):
        engine.execute(statement)


def final_rows(engine) -> list[tuple]:
    d = get_dialect(engine.name)
    query = sqlglot.parse_one("SELECT id, CAST(d AS DATE), v FROM derived.t ORDER BY 1, 2", read="postgres")
    rows = engine.query(d.render(query))
    return [(row[0], str(row[1]), row[2]) for row in rows]


# Each engine's default strategy, and MERGE where delete+insert is the default.
CASES = [(e, None) for e in ENGINES] + [("postgres", "merge"), ("duckdb", "merge")]


@pytest.mark.parametrize("engine,upsert", CASES, indirect=["engine"], ids=[f"{e}-{u or 'default'}" for e, u in CASES])
def test_upsert_leaves_one_row_per_key_inside_the_window(engine, tmp_path, upsert):
    root = project(tmp_path, upsert, engine.name)
    dialect = get_dialect(engine.name)
    for statement in source_ddl(load_project(root).spec, dialect):
        engine.execute(dialect.render(statement))
    files = compile_files(root, engine.name)
    replace_source(engine, [(1, "01-01", "a"), (2, "03-01", "b"), (3, "03-03", "c"), (4, "03-04", "d")])
    run_compiled(engine, files)
    for statement in insert_rows(engine.name, "derived", "t", [{"id": 2, "d": day("03-03"), "v": "b-copy"}]):
        engine.execute(statement)  # a duplicate key the target already holds
    replace_source(engine, [(1, "03-05", "a2"), (2, "03-02", "b2"), (3, "03-07", "c2"), (5, "03-08", "e")])
    run_compiled(engine, files)
    assert final_rows(engine) == [
        (1, "2021-01-01", "a"),
        (1, "2021-03-05", "a2"),
        (2, "2021-03-02", "b2"),
        (3, "2021-03-07", "c2"),
        (4, "2021-03-04", "d"),
        (5, "2021-03-08", "e"),
    ]
