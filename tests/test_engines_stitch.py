"""The ``stitch`` model option on every engine: a tiny project where ``visits`` is stitched from
``cookie_logins`` (cookie -> the login of its latest identified event, one row per cookie).

Run 2 reads only a visit dated 40 days after run 1's visits, so run 1's visits are neither in
its batch nor in its upsert window ([min - 30 days, max]); their cookies' mappings change or
appear in run 2, and the stitch must re-set them anyway (reference §7.2). Each step's file runs
as one script, as a scheduler would send it (emulator gaps: tests/support/runs.py)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlglot
from support.data import insert_rows
from support.projects import compile_files, step_statements, write_project
from support.runs import run_compiled

from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.dialects.redshift import null_safe_comparison
from snowgen.spec.loader import load_project

ENGINES = ["postgres", "duckdb", "snowflake", "bigquery", "databricks"]
VISIT_COLUMNS = {"visit_id": "int", "ts": "timestamp", "cookie": "string"}
LOGIN_COLUMNS = {"cookie": "string", "login": "string", "ts": "timestamp"}
SOURCES = {
    "visit_events": {"schema": "raw", "table": "visits", "columns": VISIT_COLUMNS},
    "login_events": {"schema": "raw", "table": "logins", "columns": LOGIN_COLUMNS},
}
MAPPING = {
    "name": "cookie_logins", "module": "mapping", "materialization": "incremental", "unique_key": "cookie",
    "dedupe_order_by": [{"column": "ts", "descending": True}], "sql": "select cookie, login, ts from login_events",
}  # fmt: skip
VISITS = {
    "name": "visits", "module": "visits", "materialization": "incremental", "unique_key": "visit_id",
    "upsert_date_key": "ts", "upsert_lookback_days": 30,
    "stitch": {"column": "login", "key": "cookie", "mapping": "cookie_logins", "value": "login"},
    # NULL until stitched: a plain <> would never set it (NULL <> 'x' is not true)
    "sql": "select visit_id, ts, cookie, cast(null as text) as login from visit_events",
}  # fmt: skip


def day(number: int) -> dt.datetime:
    return dt.datetime(2024, 1, 1, 12) + dt.timedelta(days=number - 1)


def project(tmp_path, engine_name: str):
    models = [dict(MAPPING), dict(VISITS)]
    if engine_name == "databricks":  # Sail has no liquid clustering (see tests/support/runs.py)
        for model in models:
            model["layout"] = {"dialects": {"databricks": {"clustering": "partition"}}}
    return write_project(tmp_path / "p", models, sources=SOURCES, modules=["mapping", "visits"], run_metadata=False)


def replace_source(engine, table: str, rows: list[dict]) -> None:
    engine.execute(get_dialect(engine.name).render(sqlglot.parse_one(f"DELETE FROM raw.{table} WHERE 1 = 1")))
    for statement in insert_rows(engine.name, "raw", table, rows):
        engine.execute(statement)


def visits(engine) -> list[tuple]:
    query = sqlglot.parse_one("SELECT visit_id, cookie, login FROM derived.visits ORDER BY 1", read="postgres")
    return [tuple(row) for row in engine.query(get_dialect(engine.name).render(query))]


@pytest.fixture
def stitched(engine, tmp_path):
    """(engine, run): the project's sources created, ``run(visits, logins)`` loads the run's
    source rows and runs the compiled plan."""
    root = project(tmp_path, engine.name)
    dialect = get_dialect(engine.name)
    for statement in source_ddl(load_project(root).spec, dialect):
        engine.execute(dialect.render(statement))
    files = compile_files(root, engine.name)

    def run(visit_rows: list[tuple], login_rows: list[tuple], select: list[str] | None = None) -> None:
        replace_source(engine, "visits", [{"visit_id": v, "ts": day(d), "cookie": c} for v, d, c in visit_rows])
        replace_source(engine, "logins", [{"cookie": c, "login": u, "ts": day(d)} for c, u, d in login_rows])
        run_compiled(engine, compile_files(root, engine.name, select=select) if select else files)

    engine.files = files
    return engine, run


RUN1 = ([(1, 1, "c1"), (2, 1, "c2"), (3, 2, "c3")], [("c1", "alice", 1)])
RUN2 = ([(4, 41, "c3")], [("c1", "alice@new", 41), ("c2", "bob", 41)])


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_first_run_stitches_the_rows_its_mapping_knows(stitched):
    engine, run = stitched
    run(*RUN1)
    assert visits(engine) == [(1, "c1", "alice"), (2, "c2", None), (3, "c3", None)]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_changed_mapping_restitches_rows_outside_the_run_window(stitched):
    engine, run = stitched
    run(*RUN1)
    run(*RUN2)  # visits 1-3 are 40 days older than the batch: no upsert touches them
    assert visits(engine) == [(1, "c1", "alice@new"), (2, "c2", "bob"), (3, "c3", None), (4, "c3", None)]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_rerun_changes_nothing(stitched):
    engine, run = stitched
    run(*RUN1)
    run(*RUN2)
    before = visits(engine)
    run(*RUN2)
    assert visits(engine) == before


@pytest.mark.parametrize("engine", ["postgres", "duckdb"], indirect=True)
def test_a_mapping_run_on_its_own_schedule_reaches_the_table_on_the_models_next_run(stitched):
    engine, run = stitched
    run(*RUN1)
    run([], RUN2[1], select=["cookie_logins"])  # the mapping's own schedule: the table keeps its ids
    assert visits(engine) == [(1, "c1", "alice"), (2, "c2", None), (3, "c3", None)]
    run([], [], select=["visits"])  # the model's schedule: the stitch reads the mapping as its own run left it
    assert visits(engine) == [(1, "c1", "alice@new"), (2, "c2", "bob"), (3, "c3", None)]


# -- only changed rows are written -----------------------------------------------------------------------
def stitch_statement(engine) -> str:
    """The stitch, as compiled: the last statement of the visits step (no run metadata)."""
    return step_statements(engine.files, "visits", engine.name)[-1]


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_stitching_again_writes_no_row_on_postgres(stitched):
    # xmin is the transaction that wrote a row version: an UPDATE that writes a row changes it.
    engine, run = stitched
    run(*RUN1)
    run(*RUN2)
    versions = 'SELECT "visit_id", CAST("xmin" AS TEXT) FROM "derived"."visits" ORDER BY 1'
    before = engine.query(versions)
    engine.execute(stitch_statement(engine))
    assert engine.query(versions) == before


@pytest.mark.parametrize("engine", ["duckdb"], indirect=True)
def test_stitching_again_writes_no_row_on_duckdb(stitched):
    engine, run = stitched
    run(*RUN1)
    run(*RUN2)
    assert engine.query(stitch_statement(engine)) == [(0,)]  # DuckDB returns the updated row count


# -- Redshift's spelling of IS DISTINCT FROM, evaluated on Postgres --------------------------------------
PAIRS = [(None, None), (1, None), (None, 1), (1, 1), (1, 2)]


@pytest.mark.parametrize("operator", [sqlglot.exp.NullSafeNEQ, sqlglot.exp.NullSafeEQ])
def test_redshift_null_safe_comparison_agrees_with_postgres(postgres_engine, operator):
    # Redshift has no IS [NOT] DISTINCT FROM; its rewrite uses only operators Postgres shares.
    a, b = sqlglot.exp.column("a", table="p"), sqlglot.exp.column("b", table="p")
    rows = ", ".join(f"({'NULL' if x is None else x}::int, {'NULL' if y is None else y}::int)" for x, y in PAIRS)
    rewritten = null_safe_comparison(operator(this=a, expression=b)).sql("postgres")
    native = operator(this=a.copy(), expression=b.copy()).sql("postgres")
    result = postgres_engine.query(f"SELECT {rewritten}, {native} FROM (VALUES {rows}) AS p(a, b)")
    assert len(result) == len(PAIRS) and all(mine is theirs for mine, theirs in result)
