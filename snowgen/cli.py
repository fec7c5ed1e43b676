"""The ``snowgen`` command: thin click commands over :mod:`snowgen.api`."""

from __future__ import annotations

import datetime
import functools
import gc
import json
import os
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from snowgen import __version__, api
from snowgen.api import CompileOptions, RunOptions
from snowgen.dialects import NAMES
from snowgen.errors import SnowgenError
from snowgen.masking import masked_streams
from snowgen.runner.data_tests import report_lines as test_report_lines
from snowgen.runner.health_output import report_json, report_lines
from snowgen.runner.output import FORMATS, table_lines


def reports_errors(command):
    """Print a SnowgenError as ``file:line:col: CODE message`` and exit 2 (3 when another
    run holds the run lock)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except SnowgenError as exc:
            click.echo(exc.format(), err=True)  # format() masks every registered secret
            sys.exit(exc.exit_code)

    return wrapper


def parse_vars(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SnowgenError.at("SG401", f"--vars is not valid JSON or YAML: {exc}") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise SnowgenError.at("SG401", '--vars must be a mapping such as \'{"start_date": "2024-01-01"}\'')
    return value


def output_root(out: str, default: str = "generated") -> Path:
    if not out.strip():  # Path("") is the working directory: never what an empty --out means
        raise SnowgenError.at("SG407", f"--out is empty; give the folder to write to (default: {default})")
    return Path(out)


def compile_options(
    target, vars_text, select, backfill=None, full_refresh=False, allow_refresh=False, cache=False, exclude=()
) -> CompileOptions:
    return CompileOptions(
        target=target, vars=parse_vars(vars_text), select=tuple(select), exclude=tuple(exclude),
        full_refresh=full_refresh, allow_refresh=allow_refresh, backfill=backfill, cache=cache,
    )  # fmt: skip


def selection_options(command):
    """``--select`` and ``--exclude`` (repeatable), dbt's selector grammar (README, "Selecting models")."""
    command = click.option(
        "--exclude", multiple=True, metavar="SELECTOR", help="leave these out (same grammar as --select)"
    )(command)
    help_text = (
        "the models: NAME, +NAME (and what it reads), NAME+ (and what reads it), @NAME, "
        "tag:T, path:P, module:M; several: a union, a,b: both (repeatable)"
    )
    return click.option("--select", "-s", multiple=True, metavar="SELECTOR", help=help_text)(command)


def single_project(project: Path | None) -> Path:
    return api.find_projects(project, single=True)[0]


#: ``--project DIR`` of a command that works on one project
one_project_option = click.option(
    "--project",
    type=click.Path(path_type=Path, file_okay=False),
    help="the project (default: ./ or the only one under ./model_specs)",
)


@click.group()
@click.version_option(__version__, prog_name="snowgen")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Compile declarative YAML event-data models into warehouse-specific SQL."""
    # everything a command prints passes one place that masks secrets (snowgen.masking)
    ctx.with_resource(masked_streams())


def backfill_options(command):
    """``--backfill SOURCE --from DATE --to DATE``, parsed into ``backfill`` (a Backfill or
    None). Goes under ``@reports_errors``, which reports the parse errors."""

    @functools.wraps(command)
    def wrapper(*args, backfill_source, backfill_from, backfill_to, **kwargs):
        return command(*args, backfill=api.parse_backfill(backfill_source, backfill_from, backfill_to), **kwargs)

    wrapper = click.option("--to", "backfill_to", metavar="DATE", help="end of the backfill (excluded)")(wrapper)
    wrapper = click.option("--from", "backfill_from", metavar="DATE", help="start of the backfill (included)")(wrapper)
    help_text = "a plan that replaces one source instance's rows in [--from, --to), e.g. p1 or deals.p1"
    return click.option("--backfill", "backfill_source", metavar="SOURCE", help=help_text)(wrapper)


@main.command("compile")
@click.option("--dialect", "-d", "dialect_names", multiple=True, help=f"one of: {', '.join(NAMES)} (repeatable)")
@click.option("--all", "all_dialects", is_flag=True, help="compile for every dialect")
@click.option(
    "--project",
    type=click.Path(path_type=Path, file_okay=False),
    help="a project directory (default: ./ or ./model_specs/*)",
)
@click.option("--out", type=click.Path(), default="generated", show_default=True, help="the folder to write to")
@selection_options
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@click.option("--target", help="a target of the project file (gives the dialect and vars)")
@click.option("--check", is_flag=True, help="write nothing; exit 1 with a diff if the output on disk is stale")
@click.option(
    "--full-refresh", is_flag=True, help="a plan that drops the incremental state and rebuilds from the start date"
)
@click.option("--allow-refresh", is_flag=True, help="allow --full-refresh for a target that does not allow refresh")
@click.option(
    "--no-cache",
    is_flag=True,
    help=f"build every step again instead of reusing unchanged ones from <project>/{api.CACHE_FOLDER}/",
)
@reports_errors
@backfill_options
def compile_command(
    dialect_names,
    all_dialects,
    project,
    out,
    select,
    exclude,
    vars_text,
    target,
    check,
    full_refresh,
    allow_refresh,
    no_cache,
    backfill,
) -> None:
    """Compile the projects into OUT/<project>/<dialect>/ (a backfill: OUT/<project>/<dialect>-backfill-.../,
    a full refresh: OUT/<project>/<dialect>-full-refresh/, a selection: OUT/<project>/<dialect>-select-.../)."""
    if dialect_names and all_dialects:
        raise SnowgenError.at("SG403", "--dialect and --all exclude each other")
    options = compile_options(target, vars_text, select, backfill, full_refresh, allow_refresh, not no_cache, exclude)
    _short_lived_collector()
    dialects = list(NAMES) if all_dialects else api.check_dialects(dialect_names) or None
    out = output_root(out)
    directories = [single_project(project)] if backfill is not None else api.find_projects(project)
    results = api.compile_projects(directories, dialects, options)
    _print_warnings(results)
    if check:
        diff = api.check_output(out, results)
        if diff:
            click.echo(diff, nl=False)
            click.echo(f"snowgen: {out} is stale; run 'snowgen compile' without --check", err=True)
            sys.exit(1)
        click.echo(f"{out} is up to date ({len(results)} project/dialect outputs)")
        _end_process(0)
        return
    for folder in api.write_output(out, results):
        click.echo(f"wrote {folder}")
    _end_process(0)


def _print_warnings(results) -> None:
    """Each warning of a compile once on stderr (every dialect of a project has the same)."""
    for warning in dict.fromkeys(w for result in results for w in result.warnings):
        click.echo(f"snowgen: warning: {warning.headline()}", err=True)


@main.command("validate")
@click.option("--project", type=click.Path(path_type=Path, file_okay=False))
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@click.option("--target", help="a target of the project file")
@reports_errors
def validate_command(project, vars_text, target) -> None:
    """Check the specs for every dialect; print errors only, write nothing."""
    results = api.compile_projects(api.find_projects(project), list(NAMES), compile_options(target, vars_text, ()))
    _print_warnings(results)
    projects = sorted({r.project for r in results})
    click.echo(f"ok: {', '.join(projects)} ({len(NAMES)} dialects)")


@main.command("schema")
@click.option(
    "--kind",
    type=click.Choice(api.SCHEMA_KINDS),
    default="both",
    show_default=True,
    help="project: snowgen.yml; model: a model file; both: either, told apart by a 'project' key",
)
def schema_command(kind: str) -> None:
    """Print the JSON Schema (draft-07) of the spec files, for editors (docs/spec.md, "Editor set-up")."""
    click.echo(api.schema_text(kind), nl=False)


def reports_run_errors(command):
    """``--log-format`` and ``--quiet``: the command gets the run's output (``output``), which
    also reports a SnowgenError (as text or as a JSON event), then exits 2."""

    @functools.wraps(command)
    def wrapper(*args, log_format, quiet, **kwargs):
        output = api.make_output(log_format, quiet, sys.stdout, sys.stderr)
        try:
            return command(*args, output=output, **kwargs)
        except SnowgenError as exc:
            output.error(exc)
            sys.exit(exc.exit_code)

    wrapper = click.option(
        "--log-format", type=click.Choice(FORMATS), default="text", show_default=True,
        help="text for people, or json: one JSON object per event on stderr, the summary as JSON on stdout",
    )(wrapper)  # fmt: skip
    help_text = "no progress: only warnings and errors on stderr (the summary still goes to stdout)"
    return click.option("--quiet", "-q", is_flag=True, help=help_text)(wrapper)


@main.command("run")
@one_project_option
@click.option("--target", help="a target of the project file (its db, dialect and vars)")
@click.option(
    "--db",
    help="duckdb:///file.duckdb, postgresql://, snowflake:// or redshift:// URL (query parameters: client settings)",
)
@selection_options
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@click.option("--full-refresh", is_flag=True, help="drop the incremental state and rebuild from the start date")
@click.option("--allow-refresh", is_flag=True, help="allow --full-refresh on a target that does not allow refresh")
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    metavar="SECONDS",
    help="wait up to SECONDS for another run's lock (default: stop at once, exit 3)",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="N",
    help="run up to N steps at once whose dependencies are done, each on a connection of its own",
)
@click.option(
    "--revoke-unlisted",
    is_flag=True,
    help="after the run, revoke read access to the models' tables from grantees the spec's grants do not list",
)
@reports_run_errors
@backfill_options
def run_command(
    project, target, db, select, exclude, vars_text, full_refresh, allow_refresh, wait, threads, revoke_unlisted,
    backfill, output,
) -> None:  # fmt: skip
    """Compile a project for a database and run the plan, step by step (a backfill plan
    with --backfill SOURCE --from DATE --to DATE). Progress goes to stderr, the summary to
    stdout. Exit 1: a step failed; 2: an error before the run; 3: another run holds the run
    lock."""
    options = RunOptions(
        compile_options(target, vars_text, select, backfill, full_refresh, allow_refresh, exclude=exclude), db
    )
    loaded = api.load_project(single_project(project))
    summary = api.run_plan(api.prepare_run(loaded, options), output, api.target_of(loaded, target, db), wait, threads)
    if summary.failed is not None:
        sys.exit(1)
    if revoke_unlisted:
        for statement in api.revoke_unlisted(loaded, options):
            output.warning(f"revoked what the spec's grants do not list: {statement}")


@main.command("sources")
@one_project_option
@click.option("--dialect", "-d", "dialect_name", help="the dialect to print the DDL in")
@click.option("--db", help="create the tables on this database instead of printing the DDL")
@reports_errors
def sources_command(project, dialect_name, db) -> None:
    """Create empty tables for the project's declared sources (for local development)."""
    loaded = api.load_project(single_project(project))
    statements = api.source_ddl(loaded, api.dialect_for(loaded, dialect=dialect_name, db=db))
    if db is None:
        click.echo(";\n\n".join(statements) + ";")
        return
    api.execute_sql(db, Path.cwd(), statements)
    tables = sum(s.startswith("CREATE TABLE") for s in statements)
    click.echo(f"created {tables} source tables on {api.shown_database(db, Path.cwd())}", err=True)


@main.command("lineage")
@click.argument("column", metavar="MODEL.COLUMN")
@one_project_option
@click.option("--target", help="a target of the project file (its vars); default: the project's target")
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@reports_errors
def lineage_command(column, project, target, vars_text) -> None:
    """Print which columns of upstream models, seeds and sources feed a model's column."""
    loaded = api.load_project(single_project(project))
    click.echo("\n".join(api.column_lineage(loaded, column, compile_options(target, vars_text, ()))))


#: where ``snowgen docs`` writes the site unless told
DOCS_FOLDER = "snowgen-docs"


@main.command("docs")
@one_project_option
@click.option(
    "--out", type=click.Path(), default=DOCS_FOLDER, show_default=True, help="the folder to write the site to"
)
@click.option("--target", help="a target of the project file (its vars); default: the project's target")
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@reports_errors
def docs_command(project, out, target, vars_text) -> None:
    """Write a static site (DAG, models, columns, lineage, layout and SQL per dialect) to open from disk."""
    root = output_root(out, DOCS_FOLDER)
    loaded = api.load_project(single_project(project))
    folder = api.write_docs(root, api.docs_site(loaded, compile_options(target, vars_text, ())))
    click.echo(f"wrote {folder / 'index.html'}")


@main.command("privileges")
@one_project_option
@click.option("--dialect", "-d", "dialect_name", required=True, help="the warehouse to print the grants for")
@click.option("--role", required=True, help="the role (user, IAM principal) that runs snowgen")
@click.option("--database", help="the database (catalog) the schemas are created in (default: the project's database)")
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@click.option("--target", help="a target of the project file (its vars)")
@reports_errors
def privileges_command(project, dialect_name, role, database, vars_text, target) -> None:
    """Print the GRANT statements the role that runs the project needs: read the sources,
    create the derived, scratch and manifest schemas (and so own what it makes in them)."""
    loaded = api.load_project(single_project(project))
    dialect = api.dialect_for(loaded, dialect=dialect_name)
    options = compile_options(target, vars_text, ())
    click.echo("\n".join(api.privileges(loaded, dialect, role, database, options)))


@main.command("sample-data")
@one_project_option
@click.option("--target", help="a target of the project file (its db); default: the project's target")
@click.option("--db", help="duckdb:///file.duckdb or postgresql://user@host:port/database")
@click.option("--dialect", "-d", "dialect_name", help="print the statements in this dialect instead of loading them")
@reports_errors
def sample_data_command(project, target, db, dialect_name) -> None:
    """Create the source tables and load the project's sample rows into them (refused where
    a table already holds rows)."""
    if dialect_name and (db or target):
        raise SnowgenError.at("SG403", "--dialect prints the statements; it goes without --db and --target")
    loaded = api.load_project(single_project(project))
    if dialect_name:
        load = api.sample_data(loaded, api.dialect_for(loaded, dialect=dialect_name))
        click.echo(";\n\n".join([*load.setup, *load.inserts]) + ";")
        return
    database = api.database_for(loaded, api.target_of(loaded, target, db), db)
    load = api.sample_data(loaded, api.dialect_for(loaded, db=database.url))
    shown = api.shown_database(database.url, database.base)
    click.echo(f"loading the samples of {loaded.spec.project} into {shown}", err=True)
    api.load_sample(database.url, database.base, load)
    for line in table_lines([(table.name, table.rows) for table in load.tables]):
        click.echo(line)


@main.command("health")
@one_project_option
@click.option("--target", help="a target of the project file (its db and dialect)")
@click.option("--db", help="the database URL, as for snowgen run")
@click.option(
    "--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
    help="text for people, or json: one object with stable keys (docs/health.md)",
)  # fmt: skip
@reports_errors
def health_command(project, target, db, output_format) -> None:
    """Check the project's sources on a database: stale sources, lagging models, late rows.
    Exit 0: healthy; 1: a problem found; 2: the check could not run."""
    loaded = api.load_project(single_project(project))
    report = api.health(loaded, api.target_of(loaded, target, db), db)
    if output_format == "json":
        click.echo(json.dumps(report_json(report), indent=2))
    else:
        click.echo("\n".join(report_lines(report)))
    sys.exit(report.exit_code)


@main.command("test")
@one_project_option
@click.option("--target", help="a target of the project file (its db, dialect and vars)")
@click.option("--db", help="the database URL, as for snowgen run")
@selection_options
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@reports_errors
def test_command(project, target, db, select, exclude, vars_text) -> None:
    """Run the models' data tests on the tables as they are (no run). Exit 0: no
    error-severity test failed; 1: one failed; 2: the tests could not run."""
    loaded = api.load_project(single_project(project))
    options = RunOptions(compile_options(target, vars_text, select, exclude=exclude), db)
    report = api.data_tests(loaded, options)
    click.echo("\n".join(test_report_lines(report)))
    sys.exit(report.exit_code)


@main.group("manifest")
def manifest_group() -> None:
    """Change the incremental manifest: remove or rewind models (prints or runs the SQL)."""


def _manifest_options(command):
    command = click.option("--db", help="run the SQL on this database instead of printing it")(command)
    command = click.option("--target", help="a target of the project file (its dialect)")(command)
    command = click.option("--dialect", "-d", "dialect_name", help="the dialect to print the SQL in")(command)
    return one_project_option(command)


@manifest_group.command("remove")
@click.argument("models", nargs=-1, required=True)
@_manifest_options
@reports_errors
def manifest_remove(models, project, dialect_name, target, db) -> None:
    """Remove MODELS from the manifest: the next run backfills them from start_date."""
    _manifest_change(
        project, dialect_name, target, db, lambda loaded, d, t: api.manifest_remove(loaded, d, list(models), t)
    )


@manifest_group.command("rewind")
@click.argument("models", nargs=-1, required=True)
@click.option("--to", "to_date", required=True, help="the date (YYYY-MM-DD[ HH:MM:SS]) to reprocess from")
@_manifest_options
@reports_errors
def manifest_rewind(models, to_date, project, dialect_name, target, db) -> None:
    """Set MODELS back to a date: the next runs reprocess from there (with --db: after
    reading the manifest, a warning when catching up takes several runs)."""
    to = parse_timestamp("--to", to_date)
    _manifest_change(
        project, dialect_name, target, db,
        lambda loaded, d, t: api.manifest_rewind(loaded, d, list(models), to, t, db=db, base=Path.cwd()),
    )  # fmt: skip


def _manifest_change(project, dialect_name, target, db, change) -> None:
    loaded = api.load_project(single_project(project))
    dialect = api.dialect_for(loaded, dialect=dialect_name, target=target, db=db)
    result = change(loaded, dialect, api.target_of(loaded, target, db))
    for warning in result.warnings:
        click.echo(f"snowgen: warning: {warning}", err=True)
    if db is not None:
        api.execute_sql(db, Path.cwd(), result.statements)
        click.echo(f"done on {api.display_url(db)}", err=True)
        return
    click.echo(";\n".join(result.statements) + ";")


def parse_timestamp(option: str, text: str) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        raise SnowgenError.at("SG403", f"{option}: expected a date YYYY-MM-DD or a timestamp, got '{text}'") from None


# -- the console script ------------------------------------------------------------------------

#: set by :func:`entry` (the ``snowgen`` console script): this process ends with the command,
#: so a command may change process-wide settings and skip the interpreter's teardown. Never
#: set when ``main`` runs inside another program (tests call it through click's CliRunner).
_ENDS_PROCESS = False

#: objects allocated between two young-generation collections in a compile (Python's default
#: is 700): dead sqlglot trees wait longer to be freed, and the collector stops rescanning
#: the survivors again and again (about a fifth of all CPU at 1,000 models). Measured at
#: 1,000 models x 3 dialects in one process: 11.5 s CPU at 1M (328 MB), 9.8 s at 3M (534 MB),
#: 8.8 s at 8M (879 MB).
COMPILE_GC_THRESHOLD = 3_000_000


def entry() -> None:
    """The ``snowgen`` console script: ``main`` in a process of its own."""
    global _ENDS_PROCESS
    _ENDS_PROCESS = True
    main()


def _short_lived_collector() -> None:
    """A compile makes millions of sqlglot nodes linked to their parents, which only the
    cycle collector frees. In a process that ends with the command, what exists now
    (modules, specs) is frozen out of every scan and the collector runs rarely (forked
    workers inherit the setting)."""
    if not _ENDS_PROCESS:
        return
    gc.freeze()
    gc.set_threshold(COMPILE_GC_THRESHOLD, 1000, 1000)


def _end_process(code: int) -> None:
    """After a command's output is written and flushed: end the process now, skipping the
    teardown that frees every object one by one (all files are closed by then; the worker
    processes were joined when their pool closed)."""
    if not _ENDS_PROCESS:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
