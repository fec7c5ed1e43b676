"""One run of a DAG file with Airflow's own ``dag.test()``, in the Airflow venv (.venv-airflow,
scripts/setup-engines); started as a process by tests/test_integrations_airflow.py, which sets
the environment (AIRFLOW_HOME, the dags folder, the connection, SNOWGEN_PLAN) and reads the
JSON this writes to ``--result``: the DAG run's state and each task's state and tries.

Test set-up only, named here: every task's ``retry_delay`` is set to zero (the example DAG waits
five minutes between tries); ``--fail-once TASK`` makes one task fail on its first try with a
real database error: its ``on_execute_callback`` runs ``--fault-sql`` on the task's connection
before the first try, its ``on_retry_callback`` runs ``--restore-sql`` before the second
(a table taken away and put back, as a permission revoked and granted again would be);
``--no-retries`` sets every task's retries to zero.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path


def main() -> None:
    args = _arguments()
    _migrate()
    dag = _load_dag(Path(args.dag_file))
    for task in dag.tasks:
        task.retry_delay = dt.timedelta(0)
        if args.no_retries:
            task.retries = 0
    if args.fail_once:
        _fail_once(dag.get_task(args.fail_once), args.fault_sql, args.restore_sql)
    run = dag.test()
    tasks = {ti.task_id: {"state": str(ti.state), "tries": ti.try_number} for ti in run.get_task_instances()}
    Path(args.result).write_text(json.dumps({"state": str(run.state), "tasks": tasks}), encoding="utf-8")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dag-file", required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--fail-once")
    parser.add_argument("--fault-sql")
    parser.add_argument("--restore-sql")
    parser.add_argument("--no-retries", action="store_true")
    return parser.parse_args()


def _migrate() -> None:
    """The metadata database (SQLite under AIRFLOW_HOME), made once per home."""
    if not (Path(os.environ["AIRFLOW_HOME"]) / "airflow.db").exists():
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)


def _load_dag(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def _fail_once(task, fault_sql: str, restore_sql: str | None) -> None:
    from airflow.sdk import BaseHook

    def run(sql: str) -> None:
        BaseHook.get_hook(task.conn_id).run(sql, autocommit=True)

    def before_first_try(context) -> None:
        if context["ti"].try_number == 1:
            run(fault_sql)

    task.on_execute_callback = [before_first_try]  # a list: set after the task was made
    if restore_sql:
        task.on_retry_callback = [lambda context: run(restore_sql)]


if __name__ == "__main__":
    main()
