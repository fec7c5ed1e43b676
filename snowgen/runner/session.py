"""``snowgen run``: execute a compiled plan on one connection, then read its health checks.

The database is ``--db URL``, else the target's ``db``, else a DuckDB file in the project
(``<project dir>/snowgen.duckdb``). :func:`snowgen.api.prepare_run` compiles the plan in
memory for that database's dialect, exactly as ``snowgen compile`` would write it; this
module runs it, inside the plan's run lock (snowgen.runner.run_lock).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snowgen.errors import RunLocked, SnowgenError
from snowgen.runner.connections import Connection, connect, statement_failed
from snowgen.runner.execute import PlannedCheck, PlannedStep, StepFailed, StepResult, check_warnings, run_steps
from snowgen.runner.run_lock import (
    ACQUIRE_KIND,
    RELEASE_KIND,
    Deadline,
    LockRow,
    held_by_another,
    lock_held_message,
    lost_lock_warning,
)
from snowgen.spec.loader import LoadedProject

DEFAULT_DATABASE = "snowgen.duckdb"

#: where a run's warnings go as they happen (the command prints them)
Warn = Callable[[str], None]


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
    #: the query reading the run lock's row (None: the plan has no run lock)
    lock_status: str | None = None


class RunSession:
    """One connection for the whole run: the steps (inside the run lock), then the health checks."""

    def __init__(self, prepared: PreparedRun, connection: Connection, deadline: Deadline, warn: Warn):
        self.prepared, self.connection = prepared, connection
        self.deadline, self.warn = deadline, warn
        #: the lock row as this run took it (None until the acquire step ran)
        self.lock: LockRow | None = None

    @property
    def run_id(self) -> object:
        """This run's id (the lock's), once the lock is held."""
        return self.lock.run_id if self.lock is not None else None

    def steps(self, starting: Callable[[PlannedStep, int], None] | None = None) -> Iterator[StepResult]:
        """Run the steps; yields each finished step (raises StepFailed at the first failure,
        RunLocked when another run holds the lock). A run that stops after taking the lock
        releases it first."""
        held = False
        try:
            for step in self.prepared.steps:
                if step.kind == ACQUIRE_KIND:
                    result = self._acquire(step, starting)
                    held = True
                elif step.kind == RELEASE_KIND:
                    held = False
                    result = self._release(step, starting)
                else:
                    result = self._run(step, starting)
                yield result
        except BaseException:
            if held:
                self._release_quietly()
            raise

    def _run(self, step: PlannedStep, starting) -> StepResult:
        connection = self.connection
        [result] = run_steps([step], connection.execute, connection.recover, starting, connection.whole_scripts)
        return result

    def _acquire(self, step: PlannedStep, starting) -> StepResult:
        """The acquire step, tried again while ``--wait`` lasts; then the lock row is read."""
        while True:
            try:
                result = self._run(step, starting)
                break
            except StepFailed as failure:
                detail = held_by_another(failure.error)
                if self.deadline.wait_a_little():
                    continue
                if detail is None:
                    raise
                raise RunLocked(lock_held_message(detail, self.deadline)) from None
        self.lock = self._lock_row()
        warning = self.lock.takeover_warning() if self.lock is not None else None
        if warning:
            self.warn(warning)
        return result

    def _release(self, step: PlannedStep, starting) -> StepResult:
        """The release step, unless the lock is no longer this run's (then a warning)."""
        if self._still_held():
            return self._run(step, starting)
        return StepResult(step, 0.0)

    def _release_quietly(self) -> None:
        """After a failure: give the lock back if it is still this run's; errors stay quiet
        (the first error is the one to report; the lock would expire anyway)."""
        release = [s for s in self.prepared.steps if s.kind == RELEASE_KIND]
        with suppress(Exception):
            self.connection.recover()
            if release and self._still_held():
                for statement in release[0].units(self.connection.whole_scripts):
                    self.connection.execute(statement)

    def _still_held(self) -> bool:
        if self.lock is None:
            return True  # a plan without the status query: nothing to compare
        now = self._lock_row()
        if now is not None and now.run_id == self.lock.run_id:
            return True
        self.warn(lost_lock_warning(self.lock, now))
        return False

    def _lock_row(self) -> LockRow | None:
        if self.prepared.lock_status is None:
            return None
        try:
            rows = self.connection.query(self.prepared.lock_status)
        except self.connection.errors as exc:
            raise statement_failed(self.prepared.url, "reading the run lock", exc) from None
        return LockRow(*rows[0]) if rows else None

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
def run_session(prepared: PreparedRun, wait: float = 0.0, warn: Warn | None = None) -> Iterator[RunSession]:
    """Open the database (SnowgenError when it cannot be opened or closed) for one run.
    ``wait``: seconds to wait for the run lock, or for a DuckDB file another process holds."""
    deadline = Deadline.after(wait)
    connection = _open(prepared, deadline)
    try:
        yield RunSession(prepared, connection, deadline, warn or (lambda text: None))
    except BaseException:
        with suppress(SnowgenError):
            connection.close()
        raise
    connection.close()


def _open(prepared: PreparedRun, deadline: Deadline) -> Connection:
    while True:
        try:
            return connect(prepared.url, prepared.base, prepared.settings)
        except RunLocked as locked:
            if not deadline.wait_a_little():
                message = locked.diagnostics[0].message
                raise RunLocked(f"{message}; {deadline.advice()}") from None
