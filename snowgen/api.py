"""snowgen as a library: the one surface the command line, tests, benchmarks and schedulers use.

The stages, each a package: :mod:`snowgen.spec` (load) -> :mod:`snowgen.plan` (spec -> frozen
plan) -> :mod:`snowgen.build` (plan x dialect -> sqlglot trees) -> :mod:`snowgen.emit` (text,
plan.json, the writer); :mod:`snowgen.runner` executes compiled files. Options are frozen
values (:class:`CompileOptions`, :class:`RunOptions`) checked when made, so a caller gets the
same coded errors as the command line.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from snowgen.build import manifest_ops
from snowgen.build.audit import latest_results_query
from snowgen.build.grants import CatalogNotRead, reader_checks, revokes
from snowgen.build.health import health_queries
from snowgen.build.privileges import DatabaseNeeded, runner_privileges
from snowgen.build.run_lock import lock_status
from snowgen.build.run_metadata import is_recorded, run_id_query
from snowgen.build.sample_load import sample_inserts, sample_tables
from snowgen.build.sources import source_ddl as _source_statements
from snowgen.build.steps import build_step, build_steps
from snowgen.build.summary import bookkeeping_tables, counted_tables, row_count
from snowgen.dialects import NAMES, get_dialect, unknown_dialect_message
from snowgen.dialects.base import Dialect
from snowgen.dialects.grants import GranteeError
from snowgen.dialects.shapes import NameTooLong
from snowgen.emit.cache import (
    build_missing,
    cached_check_files,
    code_fingerprint,
    look_up,
    ordered_outputs,
    plan_keys,
)
from snowgen.emit.docs_html import site_files
from snowgen.emit.lineage_text import lineage_lines, parse_column_name
from snowgen.emit.render import CompiledProject, StepFile, emit, files_of, render_step, step_ids, step_outputs
from snowgen.emit.store import CACHE_FOLDER, StepStore, cache_path
from snowgen.emit.workers import build_all
from snowgen.emit.writer import stale_diff, write, write_folder
from snowgen.errors import SnowgenError
from snowgen.plan import refresh, run_lock, run_metadata
from snowgen.plan.backfill import Backfill, parse_backfill
from snowgen.plan.bodies import with_bodies
from snowgen.plan.column_check import unchecked_sources
from snowgen.plan.data import BodyNotParsed, Plan, Step, StepKind
from snowgen.plan.facts import BodyMemo
from snowgen.plan.health import health_plan
from snowgen.plan.lineage import ProjectLineage, project_lineage
from snowgen.plan.planner import check_default_target, plan_project, resolve_vars
from snowgen.plan.samples import plan_samples
from snowgen.plan.selection import parse_selection, selection_variant
from snowgen.runner.connections import dialect_for_url, execute_statements, query_rows
from snowgen.runner.connectors import display_url
from snowgen.runner.data_tests import TestReport, run_tests
from snowgen.runner.drive import run_plan
from snowgen.runner.execute import PlannedStep, StepFailed, StepResult, read_compiled
from snowgen.runner.health import HealthReport, HealthRun, run_health
from snowgen.runner.output import RunOutput, RunSummary, make_output
from snowgen.runner.samples import FilledTable, SampleLoad, load_sample
from snowgen.runner.session import (
    Database,
    PreparedRun,
    RunIdProbe,
    RunSession,
    choose_database,
    run_session,
    shown_database,
)
from snowgen.runner.statements import read_statements
from snowgen.runner.targets import target_settings
from snowgen.spec.loader import LoadedProject, discover_projects, load_project
from snowgen.spec.samples import load_samples
from snowgen.spec.schema import KINDS as SCHEMA_KINDS
from snowgen.spec.schema import json_schema, schema_text
from snowgen.text import one_line

__all__ = [
    "CACHE_FOLDER",
    "SCHEMA_KINDS",
    "Backfill",
    "CompileOptions",
    "CompiledProject",
    "Database",
    "HealthReport",
    "LoadedProject",
    "ManifestChange",
    "Plan",
    "PlannedStep",
    "PreparedRun",
    "ProjectLineage",
    "RunOptions",
    "RunOutput",
    "RunSession",
    "RunSummary",
    "SampleLoad",
    "SnowgenError",
    "StepFailed",
    "StepResult",
    "check_dialects",
    "check_output",
    "column_lineage",
    "compile_loaded",
    "compile_plan",
    "compile_project",
    "compile_projects",
    "data_tests",
    "database_for",
    "dialect_for",
    "discover_projects",
    "display_url",
    "docs_site",
    "execute_sql",
    "find_projects",
    "health",
    "health_checks",
    "json_schema",
    "lineage",
    "load_project",
    "load_sample",
    "make_output",
    "manifest_remove",
    "manifest_rewind",
    "parse_backfill",
    "plan_loaded",
    "prepare_run",
    "privileges",
    "revoke_unlisted",
    "run_plan",
    "run_session",
    "sample_data",
    "schema_text",
    "shown_database",
    "source_ddl",
    "target_of",
    "write_docs",
    "write_output",
]

# -- options ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompileOptions:
    """What to compile: the target (its vars and dialect), var overrides, a ``--select`` /
    ``--exclude`` choice (dbt's selector grammar: snowgen.plan.selection; what a subset run
    adds: snowgen.plan.subset), and a full-refresh or backfill plan instead of the regular one.

    ``jobs``: worker processes for several dialects; None chooses by the plan's size and
    the machine's cores (output never depends on it). ``cache``: reuse the step files of
    earlier compiles of the project whose inputs are unchanged (snowgen.emit.cache; output
    never depends on it either)."""

    target: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    full_refresh: bool = False
    allow_refresh: bool = False
    backfill: Backfill | None = None
    jobs: int | None = None
    cache: bool = False

    def __post_init__(self) -> None:
        parse_selection(self.select, "--select")  # the grammar's errors now, before any project is read
        parse_selection(self.exclude, "--exclude")
        if self.allow_refresh and not self.full_refresh:
            raise SnowgenError.at("SG403", "--allow-refresh only goes with --full-refresh")
        if self.full_refresh and self.backfill is not None:
            raise SnowgenError.at("SG403", "--full-refresh and --backfill exclude each other")

    @property
    def variant(self) -> str | None:
        """The output folder's suffix for a plan other than the regular one: a full refresh,
        a backfill, a selection, or a selection of one of those."""
        kind = "full-refresh" if self.full_refresh else self.backfill.variant if self.backfill is not None else None
        chosen = selection_variant(self.select, self.exclude)
        return "-".join(part for part in (kind, chosen) if part) or None


@dataclass(frozen=True)
class RunOptions:
    """What to run, and where: ``db`` (a URL) else the target's database (its ``db``, or
    its connection settings) else a DuckDB file in the project
    (snowgen.runner.session.choose_database)."""

    compile: CompileOptions = field(default_factory=CompileOptions)
    db: str | None = None


# -- finding and compiling projects --------------------------------------------------------------------


def find_projects(project: Path | None, *, single: bool = False) -> list[Path]:
    """``project``, else the project in the working directory or those under ./model_specs."""
    found = [project] if project is not None else discover_projects(Path.cwd())
    if single and len(found) > 1:
        paths = ", ".join(_as_typed(p) for p in found)
        raise SnowgenError.at(
            "SG403",
            f"several projects here and this command works on one: pass --project with one of {paths}",
        )
    return found


def _as_typed(path: Path) -> str:
    """``path`` as the user would type it from the working directory."""
    return path.relative_to(Path.cwd()).as_posix() if path.is_relative_to(Path.cwd()) else str(path)


def target_of(loaded: LoadedProject, target: str | None, db: str | None = None) -> str | None:
    """The target a command uses: the one named (``--target``), else, when no database is
    named either (``--db``), the project's default target (``target:`` in snowgen.yml)."""
    if target is not None or db is not None:
        return target
    check_default_target(loaded)
    return loaded.spec.target


def check_dialects(names: Iterable[str]) -> list[str]:
    names = list(names)
    for name in names:
        if name not in NAMES:
            raise SnowgenError.at("SG302", unknown_dialect_message(name))
    return names


def target_dialects(loaded: LoadedProject, target: str | None) -> list[str]:
    """The target's dialect: what a command compiles for when no dialect is named."""
    if target is None:
        raise SnowgenError.at("SG403", "choose a dialect: --dialect NAME, --all or --target NAME")
    if target not in loaded.spec.targets:
        resolve_vars(loaded, target, {})  # raises the located SG303
    return [loaded.spec.targets[target].dialect]


def plan_loaded(loaded: LoadedProject, options: CompileOptions | None = None, *, memo: BodyMemo | None = None) -> Plan:
    """The plan every dialect compiles: the project's, with the full-refresh and run-metadata
    steps when they apply, between the steps that take and release the run lock. ``memo``: body facts from earlier compiles (snowgen.plan.facts)."""
    options = options or CompileOptions()
    plan = plan_project(
        loaded,
        target=options.target,
        cli_vars=dict(options.vars),
        select=options.select or None,
        exclude=options.exclude or None,
        backfill=options.backfill,
        memo=memo,
    )  # located errors first
    if options.full_refresh:
        refresh.check_refresh_allowed(loaded, options.target, options.allow_refresh)
        plan = refresh.with_full_refresh(plan)
    if loaded.spec.run_metadata:
        plan = run_metadata.with_run_metadata(plan)
    return run_lock.with_run_lock(plan)


def compile_loaded(
    loaded: LoadedProject, dialects: Iterable[str], options: CompileOptions | None = None
) -> list[CompiledProject]:
    """Plan once, then compile each dialect (in parallel processes for big plans); a
    backfill or full-refresh plan is written beside the regular one (``CompiledProject.folder``)."""
    options = options or CompileOptions()
    return _compile(loaded, check_dialects(dialects), options, _store(loaded.root, options))


def compile_project(
    path: Path, dialects: Iterable[str], options: CompileOptions | None = None
) -> list[CompiledProject]:
    options = options or CompileOptions()
    store = _store(path, options)
    return _compile(load_project(path, memo=store), check_dialects(dialects), options, store)


def compile_projects(
    directories: Iterable[Path], dialects: list[str] | None, options: CompileOptions | None = None
) -> list[CompiledProject]:
    """Every project compiled in memory first, its errors gathered: an error anywhere writes
    nothing. ``dialects`` None: each project's target dialect."""
    options = options or CompileOptions()
    results: list[CompiledProject] = []
    errors: list = []
    for directory in directories:
        try:
            store = _store(directory, options)
            loaded = load_project(directory, memo=store)
            names = check_dialects(dialects or target_dialects(loaded, target_of(loaded, options.target)))
            results += _compile(loaded, names, options, store)
        except SnowgenError as exc:
            errors += exc.diagnostics
    if errors:
        raise SnowgenError(errors)
    return results


def _store(root: Path, options: CompileOptions) -> StepStore | None:
    """The build cache of the project at ``root``, when ``options`` use it."""
    return StepStore(cache_path(root), code_fingerprint()) if options.cache else None


def _compile(
    loaded: LoadedProject, names: list[str], options: CompileOptions, store: StepStore | None
) -> list[CompiledProject]:
    options = replace(options, target=target_of(loaded, options.target))
    plan = plan_loaded(loaded, options, memo=store)
    if store is not None:
        compiled = _compile_cached(plan, names, options.jobs, store)
    else:
        compiled = compile_planned(plan, names, jobs=options.jobs)
    warnings = unchecked_sources(plan)
    return [replace(c, variant=options.variant or c.variant, warnings=warnings) for c in compiled]


def write_output(out: Path, results: list[CompiledProject]) -> list[Path]:
    """Write each project/dialect folder under ``out``, replacing what was there."""
    return write(out, results)


def check_output(out: Path, results: list[CompiledProject]) -> str:
    """A unified diff between ``results`` and the files under ``out`` ('' when up to date)."""
    return stale_diff(out, results)


def compile_plan(plan: Plan, dialect_name: str) -> CompiledProject:
    """Build and render one dialect, one step at a time."""
    dialect = get_dialect(dialect_name)
    return CompiledProject(plan.project, dialect_name, emit(plan, dialect, build_steps(plan, dialect)))


def compile_planned(plan: Plan, names: list[str], *, jobs: int | None = None) -> list[CompiledProject]:
    """Build and render ``plan`` for each dialect (in worker processes for big plans); the
    results follow the order of ``names``."""
    with _quiet_collector():
        outputs = build_all(plan, {name: plan.steps for name in names}, step_outputs, jobs)
        return [_assembled(plan, name, dict(zip(step_ids(plan), outputs[name], strict=True))) for name in names]


def _assembled(
    plan: Plan, name: str, outputs: dict[str, StepFile], checks: dict[str, str] | None = None
) -> CompiledProject:
    return CompiledProject(plan.project, name, files_of(plan, get_dialect(name), outputs, checks))


def _compile_cached(plan: Plan, names: list[str], jobs: int | None, store: StepStore) -> list[CompiledProject]:
    """Each dialect's step texts from the store where their keys match, the rest built (in
    workers when there are many) from bodies parsed for them, then the store updated: only
    once every dialect compiled."""
    with _quiet_collector():
        keys = plan_keys(plan)
        try:
            work = [look_up(plan, keys, name, store) for name in names]
            checks = {name: cached_check_files(plan, keys, get_dialect(name), store) for name in names}
        finally:
            store.close()  # before any worker is forked
        missing = {item.dialect: item.missing for item in work}
        build = functools.partial(build_missing, keys=keys)
        try:
            built = build_all(with_bodies(plan, _models_of(missing)), missing, build, jobs)
        except BodyNotParsed:  # a step read another model's body: parse them all
            built = build_all(with_bodies(plan, plan.models), missing, build, jobs)
        results = []
        for item in work:
            for made in built[item.dialect]:
                made.store_in(store)
            outputs = ordered_outputs(plan, item.outputs, built[item.dialect])
            results.append(_assembled(plan, item.dialect, outputs, checks[item.dialect]))
        store.save()
        return results


def _models_of(missing: dict[str, list[Step]]) -> list[str]:
    """The models whose steps are to be built, in any dialect."""
    return [step.model for steps in missing.values() for step in steps if step.model]


# -- lineage and docs -----------------------------------------------------------------------------------


def lineage(loaded: LoadedProject, options: CompileOptions | None = None) -> tuple[Plan, ProjectLineage]:
    """The plan a compile with ``options`` makes (the project's default target unless one
    is named), and the column-level lineage of its models (snowgen.plan.lineage)."""
    options = options or CompileOptions()
    plan = plan_loaded(loaded, replace(options, target=target_of(loaded, options.target)))
    return plan, project_lineage(plan)


def column_lineage(loaded: LoadedProject, name: str, options: CompileOptions | None = None) -> list[str]:
    """``snowgen lineage MODEL.COLUMN``: the column's lineage as lines of an indented tree."""
    plan, found = lineage(loaded, options)
    model, column = parse_column_name(name, found)
    return lineage_lines(plan, found, model, column)


def docs_site(loaded: LoadedProject, options: CompileOptions | None = None) -> dict[str, str]:
    """``snowgen docs``: the static site's files (file name -> text), every dialect compiled
    as ``snowgen compile --all`` compiles it."""
    plan, found = lineage(loaded, options)
    return site_files(plan, found, compile_planned(plan, list(NAMES), jobs=(options or CompileOptions()).jobs))


def write_docs(out: Path, files: dict[str, str]) -> Path:
    """Write the site into the folder ``out``, replacing what it held."""
    return write_folder(out, files)


# -- sources and the manifest ---------------------------------------------------------------------------


def dialect_for(
    loaded: LoadedProject, *, dialect: str | None = None, target: str | None = None, db: str | None = None
) -> Dialect:
    """The dialect a command speaks: the database's, else the one named, else the target's."""
    if db is not None:
        return dialect_for_url(db)
    if dialect:
        return get_dialect(check_dialects([dialect])[0])
    return get_dialect(target_dialects(loaded, target_of(loaded, target))[0])


def source_ddl(loaded: LoadedProject, dialect: Dialect) -> list[str]:
    """CREATE statements for the project's declared sources, as text; a name over the
    warehouse's limit is SG105 at the sources."""
    try:
        return [dialect.render(dialect.lower(s)) for s in _source_statements(loaded.spec, dialect)]
    except NameTooLong as exc:
        raise SnowgenError.at("SG105", str(exc), loaded.doc.location(("sources",), key=True)) from None


def database_for(loaded: LoadedProject, target: str | None, db: str | None) -> Database:
    """The database a command given ``target`` (already resolved: :func:`target_of`) and
    ``db`` works on (snowgen.runner.session.choose_database); a target of another dialect
    than the database's is SG403."""
    database = choose_database(loaded, target, db)
    dialect = dialect_for_url(database.url)
    if target is not None and loaded.spec.targets[target].dialect != dialect.name:
        declared = loaded.spec.targets[target].dialect
        raise SnowgenError.at(
            "SG403",
            f"target '{target}' is {declared} but {shown_database(database.url, database.base)} is a {dialect.name} database",
            loaded.doc.location(("targets", target, "dialect")),
        )
    return database


def sample_data(loaded: LoadedProject, dialect: Dialect) -> SampleLoad:
    """The statements that create the project's source tables and load its samples
    (``sources.<name>.sample``) into them, rendered for ``dialect``; run them with
    :func:`load_sample`, which refuses to load into a table that holds rows."""
    samples = plan_samples(loaded, load_samples(loaded))
    inserts = [dialect.render(dialect.lower(s)) for s in sample_inserts(samples, dialect)]
    tables = [
        FilledTable(f"{filled.table.db}.{filled.table.name}", row_count(filled.table, dialect), len(filled.rows))
        for filled in sample_tables(samples, dialect)
    ]
    return SampleLoad(source_ddl(loaded, dialect), tables, inserts)


@dataclass(frozen=True)
class ManifestChange:
    statements: list[str]  # rendered for the dialect, to print or run
    warnings: list[str]


def manifest_remove(
    loaded: LoadedProject, dialect: Dialect, models: list[str], target: str | None = None
) -> ManifestChange:
    """Remove ``models`` from the manifest: the next run backfills them from start_date."""
    change = manifest_ops.remove_models(plan_project(loaded, target=target), dialect, models)
    return ManifestChange([dialect.render(s) for s in change.statements], change.warnings)


def manifest_rewind(
    loaded: LoadedProject,
    dialect: Dialect,
    models: list[str],
    to: dt.datetime,
    target: str | None = None,
    db: str | None = None,
    base: Path | None = None,
) -> ManifestChange:
    """Set ``models`` back to ``to``: the next runs reprocess from there. With ``db`` (a
    relative DuckDB path is relative to ``base``, default the working directory), the
    manifest is read first to warn how many runs the catch-up takes."""
    plan = plan_project(loaded, target=target)
    reached = _most_advanced(plan, dialect, db, base or Path.cwd()) if db is not None else None
    change = manifest_ops.rewind_models(plan, dialect, models, to, reached)
    return ManifestChange([dialect.render(s) for s in change.statements], change.warnings)


def privileges(
    loaded: LoadedProject,
    dialect: Dialect,
    role: str,
    database: str | None = None,
    options: CompileOptions | None = None,
) -> list[str]:
    """The GRANT statements (and, as ``--`` comments first, what no GRANT gives) the role
    that runs the project needs on ``dialect`` (snowgen.build.privileges)."""
    plan = plan_loaded(loaded, options)
    try:
        needed = runner_privileges(plan, dialect, build_steps(plan, dialect), role, database)
    except (GranteeError, DatabaseNeeded) as exc:
        raise SnowgenError.at("SG272", f"{dialect.name}: {exc}") from None
    notes = [one_line(f"-- {note}") for note in needed.notes]
    return notes + [dialect.render(dialect.lower(s)) + ";" for s in needed.statements]


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


def data_tests(loaded: LoadedProject, options: RunOptions | None = None) -> TestReport:
    """``snowgen test``: the audit steps of the plan ``options`` choose (their tests only, on
    the tables as they are: no run lock, no run metadata), on the database a run would use."""
    options = options or RunOptions()
    target = target_of(loaded, options.compile.target, options.db)
    database = database_for(loaded, target, options.db)
    settings = target_settings(loaded, target)
    dialect = dialect_for_url(database.url)
    plan = plan_loaded(loaded, replace(options.compile, target=target))
    audits = [step for step in plan.steps if step.kind == StepKind.AUDIT]
    if not audits:
        raise SnowgenError.at("SG462", "no data tests to run: no model of the plan declares 'tests'")
    steps = [_audit_step(plan, dialect, step) for step in audits]
    query = _test_results_query(plan, dialect)
    return run_tests(database.url, database.base, settings, steps, query, shown_database(database.url, database.base))


def _audit_step(plan: Plan, dialect: Dialect, step: Step) -> PlannedStep:
    text = render_step(plan, dialect, build_step(plan, step, dialect, recorded=False))
    statements = [s.text for s in read_statements(text, dialect.sqlglot_dialect)]
    return PlannedStep(step.id, f"{step.id}.sql", statements, text, kind=step.kind, model=step.model or "")


def _test_results_query(plan: Plan, dialect: Dialect) -> str | None:
    if not any(step.kind == StepKind.AUDIT for step in plan.steps):
        return None
    return dialect.render(dialect.lower(latest_results_query(plan)))


def _dotted(table) -> str:
    return ".".join(part for part in (table.catalog, table.db, table.name) if part)


def _most_advanced(plan: Plan, dialect: Dialect, db: str, base: Path) -> dt.datetime | None:
    """The last_success of the most advanced model on ``db`` (None: none, or no window to count)."""
    if not manifest_ops.counts_catch_up(plan):
        return None
    [(value,)] = query_rows(db, base, dialect.render(dialect.lower(manifest_ops.reached_query(plan))))
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def execute_sql(url: str, base: Path, statements: list[str]) -> None:
    """Run ``statements`` in order on ``url`` (the first the database refuses is SG408)."""
    execute_statements(url, base, statements)


# -- runs -----------------------------------------------------------------------------------------------


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
        test_results=_test_results_query(plan, dialect),
    )  # fmt: skip


def _run_id_probe(plan: Plan, dialect: Dialect) -> RunIdProbe | None:
    """Where the runner reads the id the SQL gave the run (None: the plan records no run)."""
    if not is_recorded(plan):
        return None
    return RunIdProbe(run_metadata.START_STEP, dialect.render(dialect.lower(run_id_query(plan))))


# -- speed -----------------------------------------------------------------------------------------------


@contextmanager
def _quiet_collector() -> Iterator[None]:
    """sqlglot trees link children to parents, so only the cycle collector frees them, and
    every full collection would rescan the whole plan. Freezing what exists once the plan
    is made keeps those scans short; the objects go back to the collector afterwards.
    (No collection before freezing: it would scan the whole plan once more, and the little
    garbage left from planning is collected after the unfreeze like any other.)"""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
