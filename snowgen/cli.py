"""The ``snowgen`` command: thin click commands over :mod:`snowgen.api`."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from snowgen import __version__
from snowgen.api import CompiledProject, check_dialects, compile_loaded
from snowgen.dialects import DIALECTS
from snowgen.errors import SnowgenError
from snowgen.spec.loader import discover_projects, load_project
from snowgen.spec.schema import json_schema
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


def project_dirs(project: Path | None) -> list[Path]:
    return [project] if project is not None else discover_projects(Path.cwd())


def compile_all(
    project: Path | None, dialects: list[str] | None, target: str | None, vars_text: str | None, select: tuple[str, ...]
) -> list[CompiledProject]:
    """Compile every project in memory first: an error anywhere writes nothing."""
    cli_vars = parse_vars(vars_text)
    results: list[CompiledProject] = []
    errors: list = []
    for directory in project_dirs(project):
        try:
            loaded = load_project(directory)
            names = dialects or _target_dialects(loaded, target)
            results += compile_loaded(loaded, names, target=target, cli_vars=cli_vars, select=list(select) or None)
        except SnowgenError as exc:
            errors += exc.diagnostics
    if errors:
        raise SnowgenError(errors)
    return results


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


@main.command("compile")
@click.option("--dialect", "-d", "dialect_names", multiple=True, help=f"one of: {', '.join(DIALECTS)} (repeatable)")
@click.option("--all", "all_dialects", is_flag=True, help="compile for every dialect")
@click.option("--project", type=click.Path(path_type=Path, file_okay=False), help="a project directory (default: ./ or ./model_specs/*)")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("generated"), show_default=True)
@click.option("--select", multiple=True, help="models to compile (and what they need); 'module:NAME' selects a module")
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@click.option("--target", help="a target of the project file (gives the dialect and vars)")
@click.option("--check", is_flag=True, help="write nothing; exit 1 with a diff if the output on disk is stale")
@reports_errors
def compile_command(dialect_names, all_dialects, project, out, select, vars_text, target, check) -> None:
    """Compile the projects into OUT/<project>/<dialect>/."""
    if dialect_names and all_dialects:
        raise SnowgenError.at("SG403", "--dialect and --all exclude each other")
    dialects = list(DIALECTS) if all_dialects else check_dialects(dialect_names) or None
    results = compile_all(project, dialects, target, vars_text, select)
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


if __name__ == "__main__":  # pragma: no cover
    main()
