"""``snowgen run``: execute a compiled plan on one connection, then read its health checks.

The database is ``--db URL``, else the target's (its ``db``, or its connection settings:
snowgen.runner.targets), else a DuckDB file in the project (``<project dir>/snowgen.duckdb``);
:func:`choose_database` says which, and what a relative DuckDB path is relative to.
:func:`snowgen.api.prepare_run` compiles the plan in
memory for that database's dialect, exactly as ``snowgen compile`` would write it; this
module runs it, inside the plan's run lock (snowgen.runner.run_lock).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snowgen.errors import RunLocked, SnowgenError
from snowgen.runner.connections import Connection, connect, dialect_for_url, statement_failed
from snowgen.runner.connectors import display_url, duckdb_path
from snowgen.runner.data_tests import TestResult, read_results
from snowgen.runner.execute import PlannedCheck, PlannedStep, StepFailed, StepResult, check_warnings, run_steps
from snowgen.runner.parallel import Schedule, close_workers, open_workers, run_concurrently
from snowgen.runner.run_lock import (
    ACQUIRE_KIND,
    RELEASE_KIND,
    Deadline,
    LockRow,
    held_by_another,
    lock_held_message,
    lost_lock_warning,
)
from snowgen.runner.targets import target_url
from snowgen.spec.loader import LoadedProject

DEFAULT_DATABASE = "snowgen.duckdb"
#: where a run's warnings go as they happen (the command prints them)
Warn = Callable[[str], None]
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
    directory, as any path typed on a command line), else the target's database
    (snowgen.runner.targets: its ``db``, written in the project file and so relative to the
    project folder, or ``<scheme>://`` and its connection settings), else
    ``<project>/snowgen.duckdb``."""
    if db is not None:  # even empty: an empty --db is refused, not read as "the default"
        return Database(db, Path.cwd())
    if target is not None:
        url = target_url(loaded, target)
        if url is not None:
            return Database(url, loaded.root)
    return Database(DEFAULT_DATABASE, loaded.root)


@dataclass(frozen=True)
class RunIdProbe:
    """How the runner learns the id the run's SQL gave the run (the id its run metadata
    rows carry): ``query`` returns it once the step ``after`` has run."""

    after: str
    query: str


@dataclass(frozen=True)
class PreparedRun:
    url: str
    base: Path  # a relative DuckDB path is relative to it (choose_database)
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
    #: the query reading the run lock's row (None: the plan has no run lock)
    lock_status: str | None = None
    #: the query reading each model's latest data test results (None: the plan has no tests)
    test_results: str | None = None


class RunSession:
    """One connection for the whole run: the steps (inside the run lock), then the health
    checks; with ``threads`` above 1, the steps between the lock's acquire and release run
    at once where their dependencies allow, on that many connections more."""

    def __init__(self, prepared: PreparedRun, connection: Connection, deadline: Deadline, warn: Warn, threads: int = 1):
        self.prepared, self.connection = prepared, connection
        self.deadline, self.warn = deadline, warn
        #: the lock row as this run took it (None until the acquire step ran)
        self.lock: LockRow | None = None
        self.held = False  # the lock is taken and not yet given back
        self.threads = step_connections(prepared, threads)
        refusal = connection.dialect.concurrent_steps
        if threads > 1 and refusal:
            warn(f"--threads {threads}: {connection.dialect.name} runs the steps one at a time: {refusal}")

    @property
    def run_id(self) -> object:
        """This run's id (the lock's), once the lock is held."""
        return self.lock.run_id if self.lock is not None else None

    @property
    def concurrent(self) -> bool:
        """Whether steps run at once (then ``starting`` hears only of each step's start)."""
        return self.threads > 1

    def steps(self, starting: Callable[[PlannedStep, int], None] | None = None) -> Iterator[StepResult]:
        """Run the steps; yields each finished step (raises StepFailed at the first failure,
        RunLocked when another run holds the lock). A run that stops after taking the lock
        releases it first. ``starting(step, index)`` hears of each statement before it runs,
        or, when steps run at once, of each step as it starts (index 0)."""
        self.held = False
        try:
            if self.concurrent:
                yield from self._steps_at_once(starting)
            else:
                for step in self.prepared.steps:
                    yield self._step(step, starting)
        except BaseException:
            if self.held:
                self._release_quietly()
            raise

    def _step(self, step: PlannedStep, starting) -> StepResult:
        """One step on the run's own connection (the lock's steps with their checks)."""
        if step.kind == ACQUIRE_KIND:
            result = self._acquire(step, starting)
            self.held = True
            return result
        if step.kind == RELEASE_KIND:
            self.held = False
            return self._release(step, starting)
        return self._run(step, starting)

    def _steps_at_once(self, starting) -> Iterator[StepResult]:
        """The lock's acquire on the run's connection, the steps between it and the release
        on worker connections (snowgen.runner.parallel), then the release."""
        before, between, after = lock_around(self.prepared.steps)
        schedule = Schedule(between)  # a plan it cannot order fails before anything runs
        for step in before:
            yield self._step(step, starting)
        workers = open_workers(min(self.threads, len(between)), self._open_worker) if between else []
        try:
            announce = (lambda step: starting(step, 0)) if starting is not None else (lambda step: None)
            yield from run_concurrently(schedule, workers, self._run_on, announce, self.warn)
        finally:
            close_workers(workers)
        for step in after:
            yield self._step(step, starting)

    def _open_worker(self) -> Connection:
        prepared = self.prepared
        worker = connect(prepared.url, prepared.base, prepared.settings)
        worker.driver.same_run_as(self.connection.driver)
        return worker

    def _run(self, step: PlannedStep, starting) -> StepResult:
        return self._run_on(step, self.connection, starting)

    def _run_on(self, step: PlannedStep, connection: Connection, starting=None) -> StepResult:
        prepared = self.prepared

        def announce(step: PlannedStep, index: int) -> None:
            if index == 0:
                connection.driver.starting_step(prepared.project, step.id)
            if starting is not None:
                starting(step, index)

        [result] = run_steps(
            [step], connection.execute, connection.recover, announce, connection.whole_scripts, prepared.uncounted
        )
        return result

    def _acquire(self, step: PlannedStep, starting) -> StepResult:
        """The acquire step, tried again while ``--wait`` lasts; then the lock row is read."""
        while True:
            try:
                result = self._run(step, starting)
                break
            except StepFailed as failure:
                detail = held_by_another(failure.error, self.connection.dialect.lock_conflict_errors)
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

    def test_results(self) -> list[TestResult]:
        """Each tested model's latest data test results (snowgen.runner.data_tests)."""
        if self.prepared.test_results is None:
            return []
        try:
            return read_results(self.connection.query(self.prepared.test_results))
        except self.connection.errors as exc:
            raise statement_failed(self.prepared.url, "reading the data test results", exc) from None

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


def lock_around(steps: list[PlannedStep]) -> tuple[list[PlannedStep], list[PlannedStep], list[PlannedStep]]:
    """The steps up to the run lock's acquire, those between it and the release, and the
    release on (a plan without the lock: all of them between)."""
    kinds = [step.kind for step in steps]
    start = kinds.index(ACQUIRE_KIND) + 1 if ACQUIRE_KIND in kinds else 0
    end = kinds.index(RELEASE_KIND) if RELEASE_KIND in kinds else len(steps)
    return steps[:start], steps[start:end], steps[end:]


def step_connections(prepared: PreparedRun, threads: int) -> int:
    """How many connections run the steps at once: ``threads``, or one where the warehouse
    runs its steps one at a time (``Dialect.concurrent_steps``)."""
    return 1 if threads > 1 and dialect_for_url(prepared.url).concurrent_steps else threads


def run_id_text(value: Any) -> str:
    """A run id as printed: a timestamp as the SQL shows it (``2024-03-01 10:00:00.123456``),
    so a log line can be matched to the run metadata rows."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    return str(value)


@contextmanager
def run_session(
    prepared: PreparedRun, wait: float = 0.0, warn: Warn | None = None, threads: int = 1
) -> Iterator[RunSession]:
    """Open the database (SnowgenError when it cannot be opened or closed) for one run.
    ``wait``: seconds to wait for the run lock, or for a DuckDB file another process holds;
    ``threads``: how many steps may run at once (RunSession)."""
    deadline = Deadline.after(wait)
    connection = _open(prepared, deadline)
    try:
        yield RunSession(prepared, connection, deadline, warn or (lambda text: None), threads)
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
