"""snowgen run, sources, sample-data, health and test: the commands that work on a
database (or print the statements they would run on one)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from snowgen import api
from snowgen.api import RunOptions
from snowgen.cli.options import (
    backfill_options,
    compile_options,
    one_project_option,
    reports_errors,
    reports_run_errors,
    selection_options,
    single_project,
)
from snowgen.errors import SnowgenError
from snowgen.runner.data_tests import report_lines as test_report_lines
from snowgen.runner.health_output import report_json, report_lines
from snowgen.runner.output import FORMATS, table_lines


@click.command("run")
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


@click.command("sources")
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


@click.command("sample-data")
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


@click.command("health")
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


@click.command("test")
@one_project_option
@click.option("--target", help="a target of the project file (its db, dialect and vars)")
@click.option("--db", help="the database URL, as for snowgen run")
@selection_options
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@click.option(
    "--this-run",
    is_flag=True,
    help="test an incremental model's rows of the last run only, as the run's audit step does (default: whole tables)",
)
@reports_errors
def test_command(project, target, db, select, exclude, vars_text, this_run) -> None:
    """Run the models' data tests on the tables as they are (no run). Exit 0: no
    error-severity test failed; 1: one failed; 2: the tests could not run."""
    loaded = api.load_project(single_project(project))
    options = RunOptions(compile_options(target, vars_text, select, exclude=exclude), db)
    report = api.data_tests(loaded, options, this_run_only=this_run)
    click.echo("\n".join(test_report_lines(report)))
    sys.exit(report.exit_code)
