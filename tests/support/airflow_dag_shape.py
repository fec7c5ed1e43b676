"""The DAGs the factory builds, described as JSON, in the Airflow venv (.venv-airflow); started as
a process by tests/test_integrations_airflow.py. Each ``--case NAME=JSON`` builds
``plan_dag(**JSON)`` (its ``plan`` a path; ``conn_id`` a string or a mapping); the result maps
each case to the DAG's settings and each task's upstream tasks, setup/teardown role, trigger
rule, connection, statements and operator settings."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from snowgen.integrations.airflow import plan_dag


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", action="append", default=[])
    parser.add_argument("--result", required=True)
    args = parser.parse_args()
    cases = dict(case.split("=", 1) for case in args.case)
    shapes = {name: describe(plan_dag(**json.loads(arguments))) for name, arguments in cases.items()}
    Path(args.result).write_text(json.dumps(shapes), encoding="utf-8")


def describe(dag) -> dict:
    return {
        "dag_id": dag.dag_id,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "catchup": dag.catchup,
        "tasks": {task.task_id: describe_task(task) for task in dag.tasks},
    }


def describe_task(task) -> dict:
    return {
        "operator": type(task).__name__,
        "upstream": sorted(task.upstream_task_ids),
        "setup": task.is_setup,
        "teardown": task.is_teardown,
        "trigger_rule": str(task.trigger_rule.value),
        "conn_id": task.conn_id,
        "sql": task.sql.resolve({}),  # the literal's value, as the task renders it
        "autocommit": task.autocommit,
        "xcom": task.do_xcom_push,
    }


if __name__ == "__main__":
    main()
