"""The ``snowgen`` command: thin click commands over :mod:`snowgen.api`."""

from __future__ import annotations

import datetime
import functools
import json
import sys
import time
from pathlib import Path
from typing import Any

import click
import yaml

from snowgen import __version__
from snowgen.api import CompiledProject, check_dialects, compile_loaded
from snowgen.compiler.backfill import Backfill, parse_backfill
from snowgen.compiler.manifest_ops import remove_models, rewind_models
from snowgen.compiler.planner import plan_project
from snowgen.compiler.sources import rendered_source_ddl
from snowgen.dialects import DIALECTS, get_dialect
from snowgen.errors import SnowgenError
from snowgen.runner.connections import dialect_for_url, execute_statements
from snowgen.runner.connectors import display_url
from snowgen.runner.execute import StepFailed
from snowgen.runner.progress import RunProgress
from snowgen.runner.session import RunRequest, execute, prepare_run, warnings_after_run
from snowgen.spec.loader import discover_projects, load_project
from snowgen.spec.schema import json_schema
from snowgen.text import one_line
from snowgen.writer import stale_diff, write


def reports_errors(command):
    """Print a SnowgenError as ``file:line:col: CODE message`` and exit 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except SnowgenError as exc:
            click.echo(exc.format(), err=True)
            sys.exit(2)

    return wrapper


def parse_vars(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SnowgenError.at("SG401", f"--vars is not valid JSON or YAML: {exc}") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise SnowgenError.at("SG401", "--vars must be a mapping such as '{\"start_date\": \"2024-01-01\"}'")
    return value


def check_select(select: tuple[str, ...]) -> list[str]:
    """The --select values; one without a name (``--select ""``) would select everything."""
    for value in select:
        if not value.replace(",", " ").split():
            raise SnowgenError.at("SG402", f"--select '{value}' names no model; give a model name or module:NAME")
    return list(select)


def output_root(out: str) -> Path:
    if not out.strip():  # Path("") is the working directory: never what an empty --out means
        raise SnowgenError.at("SG407", "--out is empty; give the folder to write to (default: generated)")
    return Path(out)


def project_dirs(project: Path | None) -> list[Path]:
    return [project] if project is not None else discover_projects(Path.cwd())


def compile_all(
    project: Path | None,
    dialects: list[str] | None,
    target: str | None,
    vars_text: str | None,
    select: tuple[str, ...],
    backfill: Backfill | None = None,
    full_refresh: bool = False,
    allow_refresh: bool = False,
) -> list[CompiledProject]:
    """Compile every project in memory first: an error anywhere writes nothing."""
    cli_vars = parse_vars(vars_text)
    results: list[CompiledProject] = []
    errors: list = []
    directories = [_single_project(project)] if backfill is not None else project_dirs(project)
    for directory in directories:
        try:
            loaded = load_project(directory)
            names = dialects or _target_dialects(loaded, target)
            results += compile_loaded(
                loaded, names, target=target, cli_vars=cli_vars, select=check_select(select) or None, backfill=backfill,
                full_refresh=full_refresh, allow_refresh=allow_refresh,
            )  # fmt: skip
        except SnowgenError as exc:
            errors += exc.diagnostics
    if errors:
        raise SnowgenError(errors)
    return results


def check_refresh_flags(full_refresh: bool, allow_refresh: bool) -> None:
    if allow_refresh and not full_refresh:
        raise SnowgenError.at("SG403", "--allow-refresh only goes with --full-refresh")


def _target_dialects(loaded, target: str | None) -> list[str]:
    if target is None:
        raise SnowgenError.at("SG403", "choose a dialect: --dialect NAME, --all or --target NAME")
    if target not in loaded.spec.targets:
        from snowgen.compiler.planner import resolve_vars

        resolve_vars(loaded, target, {})  # raises the located SG303
    return [loaded.spec.targets[target].dialect]


@click.group()
@click.version_option(__version__, prog_name="snowgen")
def main() -> None:
    """Compile declarative YAML event-data models into warehouse-specific SQL."""


def backfill_options(command):
    """``--backfill SOURCE --from DATE --to DATE``, parsed into ``backfill`` (a Backfill or
    None). Goes under ``@reports_errors``, which reports the parse errors."""

    @functools.wraps(command)
    def wrapper(*args, backfill_source, backfill_from, backfill_to, **kwargs):
        return command(*args, backfill=parse_backfill(backfill_source, backfill_from, backfill_to), **kwargs)

    wrapper = click.option("--to", "backfill_to", metavar="DATE", help="end of the backfill (excluded)")(wrapper)
    wrapper = click.option("--from", "backfill_from", metavar="DATE", help="start of the backfill (included)")(wrapper)
    help_text = "a plan that replaces one source instance's rows in [--from, --to), e.g. p1 or deals.p1"
    return click.option("--backfill", "backfill_source", metavar="SOURCE", help=help_text)(wrapper)


@main.command("compile")
@click.option("--dialect", "-d", "dialect_names", multiple=True, help=f"one of: {', '.join(DIALECTS)} (repeatable)")
@click.option("--all", "all_dialects", is_flag=True, help="compile for every dialect")
@click.option("--project", type=click.Path(path_type=Path, file_okay=False), help="a project directory (default: ./ or ./model_specs/*)")
@click.option("--out", type=click.Path(), default="generated", show_default=True, help="the folder to write to")
@click.option("--select", multiple=True, help="models to compile (and what they need); 'module:NAME' selects a module")
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@click.option("--target", help="a target of the project file (gives the dialect and vars)")
@click.option("--check", is_flag=True, help="write nothing; exit 1 with a diff if the output on disk is stale")
@click.option("--full-refresh", is_flag=True, help="a plan that drops the incremental state and rebuilds from the start date")
@click.option("--allow-refresh", is_flag=True, help="allow --full-refresh for a target that does not allow refresh")
@reports_errors
@backfill_options
def compile_command(dialect_names, all_dialects, project, out, select, vars_text, target, check, full_refresh, allow_refresh, backfill) -> None:
    """Compile the projects into OUT/<project>/<dialect>/ (a backfill: OUT/<project>/<dialect>-backfill-.../,
    a full refresh: OUT/<project>/<dialect>-full-refresh/)."""
    if dialect_names and all_dialects:
        raise SnowgenError.at("SG403", "--dialect and --all exclude each other")
    check_refresh_flags(full_refresh, allow_refresh)
    dialects = list(DIALECTS) if all_dialects else check_dialects(dialect_names) or None
    out = output_root(out)
    results = compile_all(project, dialects, target, vars_text, select, backfill, full_refresh, allow_refresh)
    if check:
        diff = stale_diff(out, results)
        if diff:
            click.echo(diff, nl=False)
            click.echo(f"snowgen: {out} is stale; run 'snowgen compile' without --check", err=True)
            sys.exit(1)
        click.echo(f"{out} is up to date ({len(results)} project/dialect outputs)")
        return
    for folder in write(out, results):
        click.echo(f"wrote {folder}")


@main.command("validate")
@click.option("--project", type=click.Path(path_type=Path, file_okay=False))
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@click.option("--target", help="a target of the project file")
@reports_errors
def validate_command(project, vars_text, target) -> None:
    """Check the specs for every dialect; print errors only, write nothing."""
    results = compile_all(project, list(DIALECTS), target, vars_text, ())
    projects = sorted({r.project for r in results})
    click.echo(f"ok: {', '.join(projects)} ({len(DIALECTS)} dialects)")


@main.command("schema")
@click.option("--kind", type=click.Choice(["project", "model", "both"]), default="both", show_default=True)
def schema_command(kind: str) -> None:
    """Print the JSON Schema of the spec files (for editors)."""
    click.echo(json.dumps(json_schema(kind), indent=2, sort_keys=True))


@main.command("run")
@click.option("--project", type=click.Path(path_type=Path, file_okay=False), help="the project (default: ./ or the only one under ./model_specs)")
@click.option("--target", help="a target of the project file (its db, dialect and vars)")
@click.option("--db", help="duckdb:///file.duckdb or postgresql://user@host:port/database")
@click.option("--select", multiple=True, help="models to run (and what they need)")
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@click.option("--full-refresh", is_flag=True, help="drop the incremental state and rebuild from the start date")
@click.option("--allow-refresh", is_flag=True, help="allow --full-refresh on a target that does not allow refresh")
@reports_errors
@backfill_options
def run_command(project, target, db, select, vars_text, full_refresh, allow_refresh, backfill) -> None:
    """Compile a project for a database and run the plan, step by step (a backfill plan
    with --backfill SOURCE --from DATE --to DATE)."""
    check_refresh_flags(full_refresh, allow_refresh)
    loaded = load_project(_single_project(project))
    request = RunRequest(loaded, target, db, check_select(select), parse_vars(vars_text), full_refresh, allow_refresh, backfill)
    prepared = prepare_run(request)
    url, steps = prepared.url, prepared.steps
    click.echo(f"running {loaded.spec.project} on {display_url(url)}: {len(steps)} steps", err=True)
    started = time.perf_counter()
    stream = sys.stderr
    progress = RunProgress(steps, stream, live=stream.isatty())
    try:
        for result in execute(url, loaded.root, steps, progress.starting):
            progress.finished(result)
    except StepFailed as failure:
        if progress.live:
            click.echo("", err=True)  # end the live line
        click.echo(_failure_report(failure), err=True)
        sys.exit(1)
    click.echo(f"done: {len(steps)} steps in {time.perf_counter() - started:.2f} s", err=True)
    for warning in warnings_after_run(url, loaded.root, prepared.checks):
        click.echo(f"snowgen: warning: {one_line(warning)}", err=True)


@main.command("sources")
@click.option("--project", type=click.Path(path_type=Path, file_okay=False))
@click.option("--dialect", "-d", "dialect_name", help="the dialect to print the DDL in")
@click.option("--db", help="create the tables on this database instead of printing the DDL")
@reports_errors
def sources_command(project, dialect_name, db) -> None:
    """Create empty tables for the project's declared sources (for local development)."""
    loaded = load_project(_single_project(project))
    dialect = dialect_for_url(db) if db is not None else get_dialect(_one_dialect(loaded, dialect_name, None))
    statements = rendered_source_ddl(loaded, dialect)
    if db is None:
        click.echo(";\n\n".join(statements) + ";")
        return
    execute_statements(db, loaded.root, statements)
    tables = sum(s.startswith("CREATE TABLE") for s in statements)
    click.echo(f"created {tables} source tables on {display_url(db)}", err=True)


@main.group("manifest")
def manifest_group() -> None:
    """Change the incremental manifest: remove or rewind models (prints or runs the SQL)."""


def _manifest_options(command):
    command = click.option("--db", help="run the SQL on this database instead of printing it")(command)
    command = click.option("--target", help="a target of the project file (its dialect)")(command)
    command = click.option("--dialect", "-d", "dialect_name", help="the dialect to print the SQL in")(command)
    command = click.option("--project", type=click.Path(path_type=Path, file_okay=False))(command)
    return command


@manifest_group.command("remove")
@click.argument("models", nargs=-1, required=True)
@_manifest_options
@reports_errors
def manifest_remove(models, project, dialect_name, target, db) -> None:
    """Remove MODELS from the manifest: the next run backfills them from start_date."""
    _manifest_change(project, dialect_name, target, db, lambda plan, d: remove_models(plan, d, list(models)))


@manifest_group.command("rewind")
@click.argument("models", nargs=-1, required=True)
@click.option("--to", "to_date", required=True, help="the date (YYYY-MM-DD[ HH:MM:SS]) to reprocess from")
@_manifest_options
@reports_errors
def manifest_rewind(models, to_date, project, dialect_name, target, db) -> None:
    """Set MODELS back to a date: the next runs reprocess from there."""
    to = parse_timestamp("--to", to_date)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    _manifest_change(project, dialect_name, target, db, lambda plan, d: rewind_models(plan, d, list(models), to, now))


def _manifest_change(project, dialect_name, target, db, change) -> None:
    loaded = load_project(_single_project(project))
    dialect = dialect_for_url(db) if db is not None else get_dialect(_one_dialect(loaded, dialect_name, target))
    result = change(plan_project(loaded, target=target), dialect)
    for warning in result.warnings:
        click.echo(f"snowgen: warning: {warning}", err=True)
    if db is not None:
        execute_statements(db, loaded.root, [dialect.render(s) for s in result.statements])
        click.echo(f"done on {display_url(db)}", err=True)
        return
    click.echo(";\n".join(dialect.render(s) for s in result.statements) + ";")


def _one_dialect(loaded, dialect_name: str | None, target: str | None) -> str:
    if dialect_name:
        return check_dialects([dialect_name])[0]
    return _target_dialects(loaded, target)[0]


def parse_timestamp(option: str, text: str) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        raise SnowgenError.at("SG403", f"{option}: expected a date YYYY-MM-DD or a timestamp, got '{text}'") from None


def _single_project(project: Path | None) -> Path:
    found = project_dirs(project)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise SnowgenError.at("SG403", f"several projects here ({names}); choose one with --project DIR")
    return found[0]


def _failure_report(failure: StepFailed) -> str:
    statement = "\n".join(f"    {line}" for line in failure.statement.splitlines()[:12])
    return (
        f"snowgen: SG408 step {failure.step.id} failed ({failure.step.file}):\n"
        f"  {str(failure.error).strip()}\n  in the statement:\n{statement}\n"
        "Every step is safe to run again: fix the cause and run the plan again to resume."
    )


if __name__ == "__main__":  # pragma: no cover
    main()
