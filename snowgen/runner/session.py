"""``snowgen run``: execute a compiled plan on one connection, then read its health checks.

The database is ``--db URL``, else the target's ``db``, else a DuckDB file in the project
(``<project dir>/snowgen.duckdb``). :func:`snowgen.api.prepare_run` compiles the plan in
memory for that database's dialect, exactly as ``snowgen compile`` would write it; this
module runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snowgen.errors import SnowgenError
from snowgen.runner.connections import Connection, connected, statement_failed
from snowgen.runner.execute import PlannedCheck, PlannedStep, StepResult, check_warnings, run_steps
from snowgen.spec.loader import LoadedProject

DEFAULT_DATABASE = "snowgen.duckdb"


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
    base: Path  # a relative DuckDB path is relative to it (the project)
    steps: list[PlannedStep]
    checks: list[PlannedCheck]  # read after the last step: each row is a warning
    #: (table, its row-count query) for each table the plan's models write, for the summary
    tables: list[tuple[str, str]] = field(default_factory=list)
    #: the target's connection settings for the connector (host, account, ...; resolved)
    settings: Mapping[str, Any] = field(default_factory=dict)
    project: str = ""  # the project's name (a warehouse may label its jobs with it)


class RunSession:
    """One connection for the whole run: the steps, then the health checks."""

    def __init__(self, prepared: PreparedRun, connection: Connection):
        self.prepared, self.connection = prepared, connection

    def steps(self, starting: Callable[[PlannedStep, int], None] | None = None) -> Iterator[StepResult]:
        """Run the steps; yields each finished step (raises StepFailed at the first failure)."""
        connection = self.connection

        def announce(step: PlannedStep, index: int) -> None:
            if index == 0:
                connection.driver.starting_step(self.prepared.project, step.id)
            if starting is not None:
                starting(step, index)

        yield from run_steps(
            self.prepared.steps, connection.execute, connection.recover, announce, connection.whole_scripts
        )

    def row_counts(self) -> list[tuple[str, int]]:
        """How many rows each table the plan's models write holds now."""
        counts = []
        for table, query in self.prepared.tables:
            try:
                [(count,)] = self.connection.query(query)
            except self.connection.errors as exc:
                raise statement_failed(self.prepared.url, f"counting the rows of {table}", exc) from None
            counts.append((table, int(count)))
        return counts

    def warnings(self) -> list[str]:
        """What the plan's health checks report (snowgen.build.checks)."""
        if not self.prepared.checks:
            return []
        try:
            return check_warnings(self.prepared.checks, self.connection.query)
        except self.connection.errors as exc:
            raise statement_failed(self.prepared.url, "a health check", exc) from None


@contextmanager
def run_session(prepared: PreparedRun) -> Iterator[RunSession]:
    """Open the database (SnowgenError when it cannot be opened or closed) for one run."""
    with connected(prepared.url, prepared.base, prepared.settings) as connection:
        yield RunSession(prepared, connection)
