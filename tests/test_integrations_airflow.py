"""The Airflow DAG factory, run by Airflow itself: the shipped example DAG
(examples/airflow/snowplow_web.py), copied into a dags folder as a user does, runs the
snowplow_web plan with Airflow's own ``dag.test()`` (a scheduler loop in one process, each
task through SQLExecuteQueryOperator and the providers' hooks) on the PostgreSQL server and
on a DuckDB file, run after run with new events between, and must leave every table as
``snowgen run`` leaves it on a fresh database from the same events. Airflow lives in its own
venv (.venv-airflow, scripts/setup-engines); the DAG runs there in a process of its own
(tests/support/airflow_dag_run.py) and this test reads back what it did."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg.conninfo
import pytest
from engines.base import REPO_ROOT
from engines.duckdb_engine import DuckDBEngine
from support import generator
from support.faults import FAULTY_STEP, PUT_BACK, TAKE_AWAY
from support.schedulers import (
    LOCK_ROWS,
    assert_same_files,
    assert_same_tables,
    batches,
    compile_plan,
    create_sources,
    load_events,
    postgres_url,
    readme_snippet,
    scheduler_venv,
    snowgen_run,
    snowgen_run_meeting_the_fault,
)

from snowgen.integrations.plan import load_plan

pytestmark = pytest.mark.integrations

EXAMPLE_DAG = REPO_ROOT / "examples" / "airflow" / "snowplow_web.py"
CONN_ID = "snowgen_warehouse"


class AirflowHome:
    """An Airflow home (SQLite metadata, a dags folder holding the example DAG) whose DAG runs
    the plan at ``plan`` on the Airflow connection ``connection``."""

    def __init__(self, root: Path, plan: Path, connection: dict):
        self.venv = scheduler_venv(".venv-airflow", "airflow.providers.common.sql.operators.sql")
        self.root = root
        dags = root / "dags"
        dags.mkdir(parents=True)
        self.dag_file = Path(shutil.copy(EXAMPLE_DAG, dags / EXAMPLE_DAG.name))
        self.env = {
            "AIRFLOW_HOME": str(root),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps(connection),
            "SNOWGEN_PLAN": str(plan),
            "SNOWGEN_CONN_ID": CONN_ID,
            "SNOWGEN_TEST_RESULT": str(root / "result.json"),
        }

    def run(self, *, fail_once: bool = False, fail: bool = False) -> dict:
        """One DAG run; ``fail_once``: the sessions step fails on its first try (put right
        before its retry); ``fail``: it fails with no retry."""
        args = ["--dag-file", str(self.dag_file)]
        if fail_once or fail:
            args += ["--fail-once", FAULTY_STEP, "--fault-sql", TAKE_AWAY]
            args += ["--no-retries"] if fail else ["--restore-sql", PUT_BACK]
        return self.venv.run("airflow_dag_run.py", args, self.env)


def postgres_connection(engine) -> dict:
    info = psycopg.conninfo.conninfo_to_dict(engine.conninfo)
    return {"conn_type": "postgres", "host": info["host"], "port": int(info["port"]), "login": info["user"],
            "schema": info["dbname"]}  # fmt: skip


def succeeded(result: dict) -> bool:
    return result["state"] == "success" and all(t["state"] == "success" for t in result["tasks"].values())


def test_the_example_dag_runs_the_plan_on_postgres_as_snowgen_run_does_and_a_retry_resumes(
    postgres_db, postgres_engine, tmp_path
):
    airflow = AirflowHome(tmp_path / "airflow", compile_plan(tmp_path / "generated", "postgres"),
                          postgres_connection(postgres_db))  # fmt: skip
    reference = postgres_engine.fresh()
    try:
        for engine in (postgres_db, reference):
            create_sources(engine)
        for number, batch in enumerate(batches()[:2]):
            for engine in (postgres_db, reference):
                generator.load(engine, batch)
            result = airflow.run(fail_once=number == 1)
            assert succeeded(result), result
            assert len(result["tasks"]) == len(load_plan(airflow.env["SNOWGEN_PLAN"]).steps)
            if number == 1:  # the fault hit, Airflow tried the task again, which resumed the run
                assert result["tasks"][FAULTY_STEP]["tries"] == 2
            assert postgres_db.query(LOCK_ROWS) == [(0,)]
            snowgen_run(postgres_url(reference))
            assert_same_tables(postgres_db, reference)
    finally:
        reference.close()


def test_after_a_failed_task_the_lock_is_released_and_the_next_dag_run_resumes_as_snowgen_run_does_on_duckdb(tmp_path):
    database, reference_file = tmp_path / "airflow.duckdb", tmp_path / "reference.duckdb"
    reference_url = f"duckdb:///{reference_file}"
    airflow = AirflowHome(tmp_path / "airflow", compile_plan(tmp_path / "generated", "duckdb"),
                          {"conn_type": "duckdb", "host": str(database)})  # fmt: skip
    load_events([database, reference_file], batches()[0], sources=True)

    failed = airflow.run(fail=True)
    assert failed["state"] == "failed"
    assert failed["tasks"][FAULTY_STEP]["state"] == "failed"
    assert failed["tasks"]["release_lock"]["state"] == "success"  # the teardown ran after the failure
    snowgen_run_meeting_the_fault(reference_url)  # snowgen run fails at the same step
    for path in (database, reference_file):
        with DuckDBEngine(str(path)) as engine:
            assert engine.query(LOCK_ROWS) == [(0,)]
            engine.execute(PUT_BACK)  # the fault put right, as a person would

    assert succeeded(airflow.run())  # the next DAG run finishes the failed one,
    snowgen_run(reference_url)  # as the next snowgen run does
    assert_same_files(database, reference_file)


def test_the_factory_makes_a_task_per_step_around_the_run_lock(tmp_path):
    """The DAGs as built (not run): a compiled folder with one connection id, a project
    compiled when the DAG file is parsed with a connection id per target."""
    venv = scheduler_venv(".venv-airflow", "airflow.providers.common.sql.operators.sql")
    folder = REPO_ROOT / "generated" / "snowplow_web" / "postgres"
    cases = {
        "folder": {"plan": str(folder), "conn_id": "warehouse"},
        "project": {"plan": str(REPO_ROOT / "model_specs" / "snowplow_web"), "conn_id": {"dev": "local", "prod": "wh"}},
    }
    args = [arg for name, case in cases.items() for arg in ("--case", f"{name}={json.dumps(case)}")]
    env = {"AIRFLOW_HOME": str(tmp_path), "SNOWGEN_TEST_RESULT": str(tmp_path / "shape.json")}
    shapes = venv.run("airflow_dag_shape.py", args, env)

    plan, dag = load_plan(folder), shapes["folder"]
    tasks = dag["tasks"]
    assert (dag["dag_id"], dag["max_active_runs"], dag["catchup"]) == ("snowgen_snowplow_web", 1, False)
    assert list(tasks) == [step.id for step in plan.steps]
    for step in plan.steps:
        task = tasks[step.id]
        assert task["operator"] == "SQLExecuteQueryOperator"
        assert (task["conn_id"], task["autocommit"], task["xcom"]) == ("warehouse", True, False)
        assert task["sql"] == list(step.statements)
        assert set(step.depends_on) <= set(task["upstream"])
        if step.id != "acquire_lock":
            assert reaches(tasks, step.id, "acquire_lock"), step.id
    setups = [name for name, task in tasks.items() if task["setup"]]
    assert setups == ["acquire_lock", "start_run"]
    release = tasks["release_lock"]
    assert release["teardown"] and release["trigger_rule"] == "all_done_setup_success"
    leaves = {name for name in tasks if not any(name in t["upstream"] for t in tasks.values())}
    assert leaves == {"release_lock"}  # the release waits for every task
    assert dag["max_active_tasks"] > 1  # Postgres runs tasks side by side

    project = shapes["project"]  # the default target, dev: a DuckDB file, one task at a time
    assert {task["conn_id"] for task in project["tasks"].values()} == {"local"}
    assert project["max_active_tasks"] == 1


def reaches(tasks: dict, start: str, goal: str) -> bool:
    """``goal`` is upstream of ``start``."""
    waiting, seen = [start], set()
    while waiting:
        name = waiting.pop()
        if name == goal:
            return True
        if name not in seen:
            seen.add(name)
            waiting.extend(tasks[name]["upstream"])
    return False


def test_the_readmes_airflow_snippet_makes_the_dag(tmp_path):
    venv = scheduler_venv(".venv-airflow", "airflow.providers.common.sql.operators.sql")
    code = readme_snippet("### Airflow") + "\nprint(dag.dag_id, len(dag.tasks))"
    shown = venv.run_code(code, {"AIRFLOW_HOME": str(tmp_path)})
    assert (
        shown == f"snowgen_snowplow_web {len(load_plan(REPO_ROOT / 'generated' / 'snowplow_web' / 'postgres').steps)}"
    )
