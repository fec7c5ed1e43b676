"""``snowgen run``: execute a compiled plan on one connection, then read its health checks.

The database is ``--db URL``, else the target's ``db``, else a DuckDB file in the project
(``<project dir>/snowgen.duckdb``); :func:`choose_database` says which, and what a relative
DuckDB path is relative to. :func:`snowgen.api.prepare_run` compiles the plan in
memory for that database's dialect, exactly as ``snowgen compile`` would write it; this
module runs it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from snowgen.errors import SnowgenError
from snowgen.runner.connections import Connection, connected, dialect_for_url, statement_failed
from snowgen.runner.connectors import display_url, duckdb_path
from snowgen.runner.execute import PlannedCheck, PlannedStep, StepResult, check_warnings, run_steps
from snowgen.spec.loader import LoadedProject

DEFAULT_DATABASE = "snowgen.duckdb"
#: connectors whose database is a local file: how to find the file of a URL
FILE_CONNECTORS: dict[str, Callable[[str, Path], Path]] = {"duckdb_file": duckdb_path}


@dataclass(frozen=True)
class Database:
    url: str
    base: Path  # what a relative DuckDB path in ``url`` is relative to


def shown_database(url: str, base: Path) -> str:
    """A database as the user is told of it: a file by its path from the working directory
    (where it really is, whichever rule placed it), a server by its URL without the password."""
    path_of = FILE_CONNECTORS.get(dialect_for_url(url).connector or "")
    return os.path.relpath(path_of(url, base)) if path_of else display_url(url)


def choose_database(loaded: LoadedProject, target: str | None, db: str | None) -> Database:
    """``db`` (the command line's ``--db``: a relative DuckDB path is relative to the working
    directory, as any path typed on a command line), else the target's ``db`` (written in the
    project file: relative to the project folder), else ``<project>/snowgen.duckdb``."""
    if db is not None:  # even empty: an empty --db is refused, not read as "the default"
        return Database(db, Path.cwd())
    if target is not None:
        spec = loaded.spec.targets.get(target)
        if spec is None:
            raise SnowgenError.at("SG303", f"unknown target '{target}'", loaded.doc.location(("targets",), key=True))
        if spec.db:
            return Database(spec.db, loaded.root)
    return Database(DEFAULT_DATABASE, loaded.root)


@dataclass(frozen=True)
class PreparedRun:
    url: str
    base: Path  # a relative DuckDB path is relative to it (choose_database)
    steps: list[PlannedStep]
    checks: list[PlannedCheck]  # read after the last step: each row is a warning
    #: (table, its row-count query) for each table the plan's models write, for the summary
    tables: list[tuple[str, str]] = field(default_factory=list)


class RunSession:
    """One connection for the whole run: the steps, then the health checks."""

    def __init__(self, prepared: PreparedRun, connection: Connection):
        self.prepared, self.connection = prepared, connection

    def steps(self, starting: Callable[[PlannedStep, int], None] | None = None) -> Iterator[StepResult]:
        """Run the steps; yields each finished step (raises StepFailed at the first failure)."""
        yield from run_steps(self.prepared.steps, self.connection.execute, self.connection.recover, starting)

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
    with connected(prepared.url, prepared.base) as connection:
        yield RunSession(prepared, connection)
