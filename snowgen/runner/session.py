"""``snowgen run``: execute a compiled plan on one connection, then read its health checks.

The database is ``--db URL``, else the target's (its ``db``, or its connection settings:
snowgen.runner.targets), else a DuckDB file in the project (``<project dir>/snowgen.duckdb``). :func:`snowgen.api.prepare_run` compiles the plan in
memory for that database's dialect, exactly as ``snowgen compile`` would write it; this
module runs it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snowgen.runner.connections import Connection, connected, statement_failed
from snowgen.runner.execute import PlannedCheck, PlannedStep, StepResult, check_warnings, run_steps
from snowgen.runner.targets import target_url
from snowgen.spec.loader import LoadedProject

DEFAULT_DATABASE = "snowgen.duckdb"


def database_url(loaded: LoadedProject, target: str | None, db: str | None) -> str:
    """``db``, else the target's database (snowgen.runner.targets: its ``db``, or
    ``<scheme>://`` and its connection settings), else the project's DuckDB file."""
    if db is not None:  # even empty: an empty --db is refused, not read as "the default"
        return db
    if target is not None:
        url = target_url(loaded, target)
        if url is not None:
            return url
    return DEFAULT_DATABASE


@dataclass(frozen=True)
class RunIdProbe:
    """How the runner learns the id the run's SQL gave the run (the id its run metadata
    rows carry): ``query`` returns it once the step ``after`` has run."""

    after: str
    query: str


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
    project: str = ""
    dialect: str = ""
    #: ``schema.table`` (case-folded) of the run's bookkeeping, left out of a step's rows
    uncounted: frozenset[str] = frozenset()
    run_id: RunIdProbe | None = None  # None: the plan records no run id


class RunSession:
    """One connection for the whole run: the steps, then the health checks."""

    def __init__(self, prepared: PreparedRun, connection: Connection):
        self.prepared, self.connection = prepared, connection

    def steps(self, starting: Callable[[PlannedStep, int], None] | None = None) -> Iterator[StepResult]:
        """Run the steps; yields each finished step (raises StepFailed at the first failure)."""
        connection = self.connection
        prepared = self.prepared
        yield from run_steps(
            prepared.steps, connection.execute, connection.recover, starting, connection.whole_scripts,
            prepared.uncounted,
        )  # fmt: skip

    def run_id_after(self, step: PlannedStep) -> str | None:
        """The run's id if ``step`` is the one that records it (else None)."""
        probe = self.prepared.run_id
        if probe is None or step.id != probe.after:
            return None
        try:
            rows = self.connection.query(probe.query)
        except self.connection.errors as exc:
            raise statement_failed(self.prepared.url, "reading the run id", exc) from None
        return run_id_text(rows[0][0]) if rows else None

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


def run_id_text(value: Any) -> str:
    """A run id as printed: a timestamp as the SQL shows it (``2024-03-01 10:00:00.123456``),
    so a log line can be matched to the run metadata rows."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    return str(value)


@contextmanager
def run_session(prepared: PreparedRun) -> Iterator[RunSession]:
    """Open the database (SnowgenError when it cannot be opened or closed) for one run."""
    with connected(prepared.url, prepared.base, prepared.settings) as connection:
        yield RunSession(prepared, connection)
