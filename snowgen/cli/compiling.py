"""snowgen compile, validate and schema: the compiler's commands, which write files or
print and connect to no database."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from snowgen import api
from snowgen.cli.options import (
    backfill_options,
    compile_options,
    output_root,
    reports_errors,
    selection_options,
    single_project,
)
from snowgen.cli.process import end_process, short_lived_collector
from snowgen.dialects import NAMES
from snowgen.errors import SnowgenError


@click.command("compile")
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
    short_lived_collector()
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
        end_process(0)
        return
    for folder in api.write_output(out, results):
        click.echo(f"wrote {folder}")
    end_process(0)


def _print_warnings(results) -> None:
    """Each warning of a compile once on stderr (every dialect of a project has the same)."""
    for warning in dict.fromkeys(w for result in results for w in result.warnings):
        click.echo(f"snowgen: warning: {warning.headline()}", err=True)


@click.command("validate")
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


@click.command("schema")
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
