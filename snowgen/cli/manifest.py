"""snowgen manifest remove and rewind: changes to the incremental manifest, printed or
run on a database."""

from __future__ import annotations

from pathlib import Path

import click

from snowgen import api
from snowgen.cli.options import one_project_option, parse_timestamp, reports_errors, single_project


@click.group("manifest")
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
