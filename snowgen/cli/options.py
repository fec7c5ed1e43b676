"""What the commands share: how they report errors, and the options and values
several of them take."""

from __future__ import annotations

import datetime
import functools
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from snowgen import api
from snowgen.api import CompileOptions
from snowgen.errors import SnowgenError
from snowgen.runner.output import FORMATS


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


def parse_timestamp(option: str, text: str) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        raise SnowgenError.at("SG403", f"{option}: expected a date YYYY-MM-DD or a timestamp, got '{text}'") from None
