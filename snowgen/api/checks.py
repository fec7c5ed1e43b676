"""Checks of a project's database: snowgen health (the sources and the incremental
state) and snowgen test (the data tests of the plan's audit steps)."""

from __future__ import annotations

from dataclasses import replace

from snowgen.api.compiling import plan_loaded, target_of
from snowgen.api.databases import database_for
from snowgen.api.options import RunOptions
from snowgen.build.audit import latest_results_query
from snowgen.build.health import health_queries
from snowgen.build.steps import build_step
from snowgen.dialects.base import Dialect
from snowgen.emit.render import render_step
from snowgen.errors import SnowgenError
from snowgen.plan.data import Plan, Step, StepKind
from snowgen.plan.data_tests import testing_whole_tables
from snowgen.plan.health import health_plan
from snowgen.plan.planner import plan_project
from snowgen.runner.connections import dialect_for_url
from snowgen.runner.data_tests import TestReport, run_tests
from snowgen.runner.execute import PlannedStep
from snowgen.runner.health import HealthReport, HealthRun, run_health
from snowgen.runner.session import shown_database
from snowgen.runner.statements import read_statements
from snowgen.runner.targets import target_settings
from snowgen.spec.loader import LoadedProject


def health(loaded: LoadedProject, target: str | None, db: str | None = None) -> HealthReport:
    """``snowgen health``: the project's sources checked on the database a command given
    ``target`` (resolved: :func:`target_of`) and ``db`` works on (:func:`database_for`)."""
    database = database_for(loaded, target, db)
    settings = target_settings(loaded, target)
    run = health_checks(loaded, dialect_for_url(database.url), target)
    return run_health(database.url, database.base, settings, run, shown_database(database.url, database.base))


def health_checks(loaded: LoadedProject, dialect: Dialect, target: str | None = None) -> HealthRun:
    """The health queries of the project's strategy, rendered for ``dialect``
    (snowgen.runner.health.check_health runs them with any query function)."""
    checks = health_plan(plan_project(loaded, target=target))
    queries = {name: dialect.render(dialect.lower(q)) for name, q in health_queries(checks, dialect).items()}
    events = (checks.sessions.source, _dotted(checks.sessions.events)) if checks.sessions is not None else None
    return HealthRun(checks.project, checks.strategy, checks.settings, queries, events)


def data_tests(loaded: LoadedProject, options: RunOptions | None = None, this_run_only: bool = False) -> TestReport:
    """``snowgen test``: the audit steps of the plan ``options`` choose (their tests only, on
    the tables as they are: no run lock, no run metadata), on the database a run would use.
    Each test reads its model's whole table, or with ``this_run_only`` what an audit step of
    a run reads (an incremental model's rows of the last run)."""
    options = options or RunOptions()
    target = target_of(loaded, options.compile.target, options.db)
    database = database_for(loaded, target, options.db)
    settings = target_settings(loaded, target)
    dialect = dialect_for_url(database.url)
    plan = plan_loaded(loaded, replace(options.compile, target=target))
    plan = plan if this_run_only else testing_whole_tables(plan)
    audits = [step for step in plan.steps if step.kind == StepKind.AUDIT]
    if not audits:
        raise SnowgenError.at("SG462", "no data tests to run: no model of the plan declares 'tests'")
    steps = [_audit_step(plan, dialect, step) for step in audits]
    query = test_results_query(plan, dialect)
    return run_tests(database.url, database.base, settings, steps, query, shown_database(database.url, database.base))


def _audit_step(plan: Plan, dialect: Dialect, step: Step) -> PlannedStep:
    text = render_step(plan, dialect, build_step(plan, step, dialect, recorded=False))
    statements = [s.text for s in read_statements(text, dialect.sqlglot_dialect)]
    return PlannedStep(step.id, f"{step.id}.sql", statements, text, kind=step.kind, model=step.model or "")


def test_results_query(plan: Plan, dialect: Dialect) -> str | None:
    if not any(step.kind == StepKind.AUDIT for step in plan.steps):
        return None
    return dialect.render(dialect.lower(latest_results_query(plan)))


def _dotted(table) -> str:
    return ".".join(part for part in (table.catalog, table.db, table.name) if part)
