"""``snowgen run``: compile a project for the database it runs on, then execute the plan.

The database is ``--db URL``, else the target's ``db``, else a DuckDB file in the project
(``<project dir>/snowgen.duckdb``). The plan is compiled in memory for that database's
dialect, exactly as ``snowgen compile`` would write it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snowgen.api import compile_loaded
from snowgen.compiler.backfill import Backfill
from snowgen.errors import SnowgenError
from snowgen.runner.connections import connected, dialect_for_url, statement_failed
from snowgen.runner.execute import (
    PlannedCheck,
    PlannedStep,
    StepResult,
    check_warnings,
    read_checks,
    read_plan,
    run_steps,
)
from snowgen.spec.loader import LoadedProject

DEFAULT_DATABASE = "snowgen.duckdb"


@dataclass(frozen=True)
class RunRequest:
    loaded: LoadedProject
    target: str | None = None
    db: str | None = None
    select: list[str] = field(default_factory=list)
    cli_vars: dict[str, Any] = field(default_factory=dict)
    full_refresh: bool = False
    allow_refresh: bool = False
    backfill: Backfill | None = None


def database_url(loaded: LoadedProject, target: str | None, db: str | None) -> str:
    if db is not None:  # even empty: an empty --db is refused, not read as "the default"
        return db
    if target is not None:
        spec = loaded.spec.targets.get(target)
        if spec is None:
            raise SnowgenError.at("SG303", f"unknown target '{target}'", loaded.doc.location(("targets",), key=True))
        if spec.db:
            return spec.db
    return DEFAULT_DATABASE


@dataclass(frozen=True)
class PreparedRun:
    url: str
    steps: list[PlannedStep]
    checks: list[PlannedCheck]  # read after the last step: each row is a warning


def prepare_run(request: RunRequest) -> PreparedRun:
    """The database URL, and the compiled steps and health checks for its dialect."""
    url, files, dialect = _compile_for_database(request)
    return PreparedRun(url, read_plan(files, dialect), read_checks(files, dialect))


def prepare(request: RunRequest) -> tuple[str, list[PlannedStep]]:
    """The database URL and the compiled steps for its dialect."""
    run = prepare_run(request)
    return run.url, run.steps


def _compile_for_database(request: RunRequest) -> tuple[str, dict[str, str], str]:
    loaded = request.loaded
    url = database_url(loaded, request.target, request.db)
    dialect = dialect_for_url(url)
    if request.target is not None and loaded.spec.targets[request.target].dialect != dialect.name:
        declared = loaded.spec.targets[request.target].dialect
        raise SnowgenError.at(
            "SG403",
            f"target '{request.target}' is {declared} but {url} is a {dialect.name} database",
            loaded.doc.location(("targets", request.target, "dialect")),
        )
    [compiled] = compile_loaded(
        loaded,
        [dialect.name],
        target=request.target,
        cli_vars=request.cli_vars,
        select=request.select or None,
        full_refresh=request.full_refresh,
        allow_refresh=request.allow_refresh,
        backfill=request.backfill,
    )
    return url, compiled.files, dialect.name


def execute(
    url: str, base: Path, steps: list[PlannedStep], starting: Callable[[PlannedStep, int], None] | None = None
) -> Iterator[StepResult]:
    """Run the steps on ``url``; yields each finished step (raises StepFailed, or
    SnowgenError when the database cannot be opened or closed)."""
    with connected(url, base) as connection:
        yield from run_steps(steps, connection.execute, connection.recover, starting)


def warnings_after_run(url: str, base: Path, checks: list[PlannedCheck]) -> list[str]:
    """What the plan's health checks report after a run (compiler.checks)."""
    if not checks:
        return []
    with connected(url, base) as connection:
        try:
            return check_warnings(checks, connection.query)
        except connection.errors as exc:
            raise statement_failed(url, "a health check", exc) from None


