"""Preparing a run: the database, the target's settings and the compiled steps; and
the grants a run revokes (--revoke-unlisted) on the run's database."""

from __future__ import annotations

from dataclasses import replace

from snowgen.api.checks import test_results_query
from snowgen.api.compiling import compile_planned, plan_loaded, target_of
from snowgen.api.databases import database_for
from snowgen.api.options import RunOptions
from snowgen.build.grants import CatalogNotRead, reader_checks, revokes
from snowgen.build.run_lock import lock_status
from snowgen.build.run_metadata import is_recorded, run_id_query
from snowgen.build.summary import bookkeeping_tables, counted_tables, row_count
from snowgen.dialects.base import Dialect
from snowgen.errors import SnowgenError
from snowgen.plan import run_lock, run_metadata
from snowgen.plan.data import Plan
from snowgen.runner.connections import dialect_for_url, execute_statements, query_rows
from snowgen.runner.execute import read_compiled
from snowgen.runner.session import PreparedRun, RunIdProbe
from snowgen.runner.targets import target_settings
from snowgen.spec.loader import LoadedProject


def prepare_run(loaded: LoadedProject, options: RunOptions | None = None) -> PreparedRun:
    """The database URL and the target's connection settings (environment variables read
    now), and the compiled steps and health checks for the database's dialect."""
    options = options or RunOptions()
    target = target_of(loaded, options.compile.target, options.db)
    options = replace(options, compile=replace(options.compile, target=target))
    database = database_for(loaded, target, options.db)
    settings = target_settings(loaded, target)  # a variable that is not set stops the run before it compiles
    dialect = dialect_for_url(database.url)
    plan = plan_loaded(loaded, options.compile)
    [compiled] = compile_planned(plan, [dialect.name], jobs=options.compile.jobs)
    steps, checks = read_compiled(compiled.files, dialect.name)
    tables = [(f"{t.db}.{t.name}", row_count(t, dialect)) for t in counted_tables(plan)]
    uncounted = frozenset(f"{t.db}.{t.name}".casefold() for t in bookkeeping_tables(plan))
    return PreparedRun(
        database.url, database.base, steps, checks, tables, settings, project=plan.project, dialect=dialect.name, uncounted=uncounted,
        run_id=_run_id_probe(plan, dialect), lock_status=lock_status(plan, dialect) if run_lock.has_run_lock(plan) else None,
        test_results=test_results_query(plan, dialect),
    )  # fmt: skip


def _run_id_probe(plan: Plan, dialect: Dialect) -> RunIdProbe | None:
    """Where the runner reads the id the SQL gave the run (None: the plan records no run)."""
    if not is_recorded(plan):
        return None
    return RunIdProbe(run_metadata.START_STEP, dialect.render(dialect.lower(run_id_query(plan))))


def revoke_unlisted(loaded: LoadedProject, options: RunOptions | None = None) -> list[str]:
    """Revoke read access to each model's table from whoever has it and the spec does not
    list (``snowgen run --revoke-unlisted``): the warehouse's catalog says who has it now, so
    this runs after the plan, on the run's database. The running role keeps its own."""
    options = options or RunOptions()
    target = target_of(loaded, options.compile.target, options.db)
    database = database_for(loaded, target, options.db)
    dialect = dialect_for_url(database.url)
    plan = plan_loaded(loaded, replace(options.compile, target=target))
    statements: list[str] = []
    try:
        for check in reader_checks(plan, dialect):
            rendered = dialect.render(dialect.lower(check.query))
            readers = [str(row[0]) for row in query_rows(database.url, database.base, rendered)]
            statements += [dialect.render(dialect.lower(s)) for s in revokes(dialect, check, readers)]
    except CatalogNotRead as exc:
        raise SnowgenError.at("SG470", f"--revoke-unlisted: {exc}") from None
    execute_statements(database.url, database.base, statements)
    return statements
