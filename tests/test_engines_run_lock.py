"""The run lock's compiled statements on every engine (Postgres, DuckDB, and the Snowflake,
BigQuery and Databricks emulators), run file by file as a scheduler would: a second acquire
fails with the recognisable message naming the holder, a release frees the lock, an expired
lock is taken over and remembers whom it was taken from."""

from __future__ import annotations

import json

import pytest
from support.projects import write_project
from support.runs import run_file

from snowgen.api import CompileOptions, compile_project, plan_loaded
from snowgen.build.steps import BUILDERS
from snowgen.dialects import get_dialect
from snowgen.dialects.postgres import Postgres
from snowgen.runner.statements import split_statements
from snowgen.spec.loader import load_project

ENGINES = ["postgres", "duckdb", "snowflake", "bigquery", "databricks"]
#: a project of one view (the lock's steps are the same for every project)
MODELS = [{"name": "totals", "materialization": "view", "sql": "select count(*) as n from events"}]


def lock_files(tmp_path, dialect: str, timeout_minutes: int) -> dict[str, str]:
    """The acquire and release steps' files, by step id."""
    root = write_project(tmp_path / "demo", MODELS)
    [compiled] = compile_project(root, [dialect], CompileOptions(vars={"lock_timeout_minutes": timeout_minutes}))
    steps = json.loads(compiled.files["plan.json"])["steps"]
    return {s["kind"]: compiled.files[s["file"]] for s in steps if s["kind"] in ("acquire_lock", "release_lock")}


def end_failed_transaction(engine) -> None:
    """What a scheduler's session (or snowgen run) does after a failed script."""
    if engine.name in ("postgres", "duckdb"):
        engine.execute("ROLLBACK")


def lock_rows(engine) -> list[tuple]:
    table = get_dialect(engine.name).render(_lock_table())
    # previous_run_id's NULL is asked as a boolean: fakesnow's server sends a NULL TIMESTAMP_NTZ as 1970-01-01
    columns = "run_id, holder, acquired_at, expires_at, previous_run_id IS NULL, previous_run_id"
    return [(*row[:4], None if row[4] else row[5]) for row in engine.query(f"SELECT {columns} FROM {table}")]


def _lock_table():
    from sqlglot import exp

    return exp.Table(this=exp.to_identifier("demo_run_lock"), db=exp.to_identifier("manifest"))


def test_the_runner_knows_the_lock_steps_and_message_by_the_names_the_build_gives_them():
    from snowgen.build import run_lock as built
    from snowgen.plan.data import StepKind
    from snowgen.runner import run_lock as runner

    assert (runner.ACQUIRE_KIND, runner.RELEASE_KIND) == (StepKind.ACQUIRE_LOCK, StepKind.RELEASE_LOCK)
    assert runner.HELD_MARKER == built.HELD_MARKER


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_second_acquire_fails_naming_the_holder_until_the_lock_is_released(engine, tmp_path):
    files = lock_files(tmp_path, engine.name, 720)
    run_file(engine, files["acquire_lock"])
    [(run_id, holder, acquired_at, expires_at, previous)] = lock_rows(engine)
    assert run_id == acquired_at and expires_at - acquired_at == __import__("datetime").timedelta(minutes=720)
    assert holder is not None and previous is None  # (Sail's CURRENT_USER() is empty)
    with pytest.raises(Exception, match=r"snowgen_run_lock_held: run \S+ \S+ of .* holds the run lock of demo since"):
        run_file(engine, files["acquire_lock"])
    end_failed_transaction(engine)
    assert lock_rows(engine) == [(run_id, holder, acquired_at, expires_at, None)]  # untouched
    run_file(engine, files["release_lock"])
    assert lock_rows(engine) == []
    run_file(engine, files["acquire_lock"])
    [(again, *_)] = lock_rows(engine)
    assert again > run_id


@pytest.mark.parametrize("engine", ["postgres", "duckdb", "snowflake"], indirect=True)
def test_a_lock_released_between_the_upsert_and_the_check_is_not_taken(engine, tmp_path):
    """The holder's release deletes the row after another acquire's upsert found it live and
    left it, before that acquire's check: the check fails (the lock was not taken) instead
    of letting a run go on without a lock row (engines whose session keeps a transaction
    open between two calls: the release runs inside the acquire here)."""
    files = lock_files(tmp_path, engine.name, 720)
    run_file(engine, files["acquire_lock"])  # another run holds it
    [(holder_run, *_)] = lock_rows(engine)
    statements = split_statements(files["acquire_lock"], engine.name)
    check = next(i for i, statement in enumerate(statements) if "lock_check" in statement.lower())
    run_file(engine, ";\n".join(statements[:check]))
    run_file(engine, files["release_lock"])
    released = "snowgen_run_lock_held: the run lock of demo was released by the run holding it while this run took it"
    with pytest.raises(Exception, match=released + "; lock rows now: 0"):
        run_file(engine, statements[check])
    end_failed_transaction(engine)
    assert [row[0] for row in lock_rows(engine)] in ([], [holder_run])  # never this run's


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_an_expired_lock_is_taken_over_and_remembers_its_holder(engine, tmp_path):
    files = lock_files(tmp_path, engine.name, 0)  # expires as soon as it is taken
    run_file(engine, files["acquire_lock"])
    [(first, *_)] = lock_rows(engine)
    run_file(engine, files["acquire_lock"])  # a run that died held it: taken over
    [(second, _, _, _, previous)] = lock_rows(engine)
    assert second > first and previous == first


class InsertThenDelete(Postgres):
    """Redshift's way to take the lock (no ON CONFLICT, no conditional MERGE), run on Postgres,
    the engine here closest to it (Redshift itself runs nowhere here)."""

    lock_upsert = "insert_then_delete"
    lock_ddl_in_transaction = False


def redshift_shape(tmp_path, timeout_minutes: int) -> dict[str, list[str]]:
    root = write_project(tmp_path / "demo", MODELS)
    plan = plan_loaded(load_project(root), CompileOptions(vars={"lock_timeout_minutes": timeout_minutes}))
    dialect = InsertThenDelete()
    steps = {s.kind.value: s for s in plan.steps}
    return {
        kind: [dialect.render(dialect.lower(s)) for s in BUILDERS[steps[kind].kind](plan, steps[kind], dialect).all()]
        for kind in ("acquire_lock", "release_lock")
    }


def test_the_insert_then_delete_shape_takes_holds_and_takes_over_the_lock_on_postgres(postgres_db, tmp_path):
    def acquire(statements):
        for statement in statements["acquire_lock"]:
            postgres_db.execute(statement)

    held = redshift_shape(tmp_path / "held", 720)
    acquire(held)
    [(first, *_)] = lock_rows(postgres_db)
    with pytest.raises(Exception, match="snowgen_run_lock_held: run "):
        acquire(held)
    end_failed_transaction(postgres_db)
    assert [row[0] for row in lock_rows(postgres_db)] == [first]
    for statement in held["release_lock"]:
        postgres_db.execute(statement)
    expiring = redshift_shape(tmp_path / "expiring", 0)
    acquire(expiring)
    acquire(expiring)  # the first expired at once: taken over
    [(second, _, _, _, previous)] = lock_rows(postgres_db)
    assert second > first and previous is not None and previous > first
