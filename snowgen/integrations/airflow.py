"""Airflow: a compiled plan as a DAG, one task per step (``pip install 'snowgen[airflow]'``).

::

    from snowgen.integrations.airflow import plan_dag

    dag = plan_dag("generated/snowplow_web/postgres", conn_id="warehouse", schedule="@hourly")

What the DAG is:

- One task per step of plan.json, its ``task_id`` the step's id, waiting for the steps of its
  ``depends_on``. Each task is Airflow's common SQL operator (``SQLExecuteQueryOperator``,
  apache-airflow-providers-common-sql) on the connection id of the plan's target (one id, or
  a mapping target -> id), in autocommit mode, so the files' own ``BEGIN``/``COMMIT`` make
  the transactions. The statements are split when the DAG is built, by snowgen's own
  splitter (:mod:`snowgen.integrations.plan`), and handed to the operator as a list, marked
  literal so that Airflow's Jinja never reads them; a BigQuery step goes whole (its script
  variables live for one script). Nothing is pushed to XCom.
- The run lock: ``acquire_lock`` (and ``start_run``, which gives the run its id) are Airflow
  setup tasks and ``release_lock`` their teardown (Airflow's setup/teardown, 2.7 and later).
  The release waits for every other task (it is made downstream of every task without
  another downstream) and runs once they are done, failed or not, as ``snowgen run``
  releases the lock after a failed step; it is skipped when ``acquire_lock`` did not
  succeed, so a run that found the lock held never deletes the other run's row. Every task
  is downstream of ``acquire_lock``. Clearing a task in the UI clears its setups and its
  teardown too: the lock is taken again, a new run started, the task run, the lock released.
- Retries are Airflow's (``retries`` in ``default_args``). The warehouse is the only state
  and every step is safe to run again (plan.json's ``retry_safe``; a step that were not would
  get ``retries=0``), so a retried task resumes the run as ``snowgen run`` does: a retried
  ``acquire_lock`` is ``snowgen run --wait``, a retried model step redoes that step inside
  the lock its run still holds. After a failed task Airflow still runs the tasks that do not
  wait for it, where ``snowgen run`` stops; every step being safe to run again, the next run
  resumes from either state (tested).

What it is not: a failed ``release_lock`` leaves the DAG run green (Airflow leaves teardowns
out of a run's state; ``on_failure_fail_dagrun`` would also let the teardown's success hide a
failed model step), so the lock stays until ``lock_timeout_minutes``; and the release deletes
the lock row whoever holds it (``snowgen run`` checks first), as any scheduler that runs the
files does. The plan's health checks are not tasks. The DAG allows one run at a time
(``max_active_runs=1``: a second would only wait for the lock), and one task at a time on a
DuckDB file, which one process writes at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from snowgen import api
from snowgen.dialects import get_dialect
from snowgen.integrations.plan import ConnIds, SchedulerPlan, SchedulerStep, connection_id, load_plan
from snowgen.runner.session import FILE_CONNECTORS

try:  # Airflow 3
    from airflow.sdk import DAG, literal
except ImportError:  # Airflow 2.10
    from airflow import DAG
    from airflow.utils.template import literal
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

__all__ = ["connection_id", "plan_dag", "plan_tasks"]

#: plan.json's kind of the step that starts a run (its id, in the run metadata)
START_RUN_KIND = "start_run"


def plan_dag(
    plan: str | Path | SchedulerPlan,
    conn_id: ConnIds,
    *,
    dag_id: str | None = None,
    schedule: Any = None,
    start_date: dt.datetime | None = None,
    default_args: Mapping[str, Any] | None = None,
    tags: list[str] | None = None,
    target: str | None = None,
    dialect: str | None = None,
    options: api.CompileOptions | None = None,
) -> DAG:
    """A DAG running ``plan``: a compiled folder (``generated/<project>/<dialect>``), a project
    folder compiled now (for ``dialect``, else ``target``'s dialect, else the project's default
    target; ``options`` as ``snowgen compile``'s), or a plan already loaded. ``dag_id``
    defaults to ``snowgen_<project>``; ``catchup`` is off (the warehouse, not the logical
    date, says what a run reads), so ``start_date`` may be any past date (Airflow 2 needs one
    for a schedule). Other DAG settings: build the DAG yourself and call :func:`plan_tasks`
    inside it."""
    loaded = _loaded(plan, target, dialect, options)
    with DAG(
        dag_id or f"snowgen_{loaded.project}",
        schedule=schedule,
        start_date=start_date,
        default_args=dict(default_args or {}),
        catchup=False,
        max_active_runs=1,
        **({"max_active_tasks": 1} if writes_one_at_a_time(loaded) else {}),
        tags=list(tags) if tags is not None else ["snowgen", loaded.project],
        doc_md=f"snowgen plan of **{loaded.project}** ({loaded.dialect}): one task per step of plan.json.",
    ) as dag:
        plan_tasks(loaded, conn_id)
    return dag


def plan_tasks(
    plan: str | Path | SchedulerPlan,
    conn_id: ConnIds,
    *,
    target: str | None = None,
    dialect: str | None = None,
    options: api.CompileOptions | None = None,
) -> dict[str, SQLExecuteQueryOperator]:
    """The plan's tasks, made in the DAG being defined (``with DAG(...):``), wired by
    ``depends_on`` and around the run lock (module docstring); by step id."""
    loaded = _loaded(plan, target, dialect, options)
    conn = connection_id(conn_id, loaded)
    tasks = {step.id: step_task(step, conn) for step in loaded.steps}
    for step in loaded.steps:
        for upstream in step.depends_on:
            tasks[upstream] >> tasks[step.id]
    _around_the_lock(loaded, tasks)
    return tasks


def _loaded(
    plan: str | Path | SchedulerPlan, target: str | None, dialect: str | None, options: api.CompileOptions | None
) -> SchedulerPlan:
    return plan if isinstance(plan, SchedulerPlan) else load_plan(plan, target=target, dialect=dialect, options=options)


def step_task(step: SchedulerStep, conn_id: str) -> SQLExecuteQueryOperator:
    """The task of one step: its statements in order, on one connection, autocommit; never
    retried when plan.json says the step is not safe to retry."""
    never_retried = {} if step.retry_safe else {"retries": 0}
    return SQLExecuteQueryOperator(
        task_id=step.id,
        conn_id=conn_id,
        sql=literal(list(step.statements)),
        autocommit=True,
        do_xcom_push=False,
        doc_md=f"step `{step.id}` ({step.kind}) of module `{step.module}`: `{step.file}`",
        **never_retried,
    )


def _around_the_lock(plan: SchedulerPlan, tasks: dict[str, SQLExecuteQueryOperator]) -> None:
    """Every task after the acquire; the release after every task, as the teardown of the
    acquire and of the run's start (module docstring)."""
    acquire, release = plan.acquire_lock, plan.release_lock
    if acquire is None or release is None:
        return
    for step in plan.steps:
        task = tasks[step.id]
        if step.id != acquire.id and not task.upstream_list:
            tasks[acquire.id] >> task
        if step.id != release.id and not task.downstream_list:
            task >> tasks[release.id]
    setups = [tasks[acquire.id]]
    start = plan.of_kind(START_RUN_KIND)
    if start is not None:
        setups.append(tasks[start.id])
    for setup in setups:
        setup.as_setup()
    tasks[release.id].as_teardown(setups=setups)


def writes_one_at_a_time(plan: SchedulerPlan) -> bool:
    """The plan's database is a local file one process writes at a time (DuckDB)."""
    return get_dialect(plan.dialect).connector in FILE_CONNECTORS
