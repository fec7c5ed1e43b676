"""Run a compiled plan, step by step, on a connection (thin by design).

A run stops at the first failing statement and says which step, file and statement
failed and what the database said. Every step is safe to run again (idempotent DDL,
upserts, state in the warehouse), so running the plan again after a failure resumes it:
the steps that had finished redo the same work and the run continues where it stopped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from snowgen.dialects import get_dialect
from snowgen.masking import mask
from snowgen.runner.statements import read_statements, split_statements


@dataclass(frozen=True)
class PlannedStep:
    id: str
    file: str
    statements: list[str]
    text: str = ""  # the whole file, for a database that takes a step as one script
    #: per statement, the ``schema.table`` it writes rows into (snowgen.runner.statements)
    writes: tuple[str | None, ...] = ()
    kind: str = ""  # plan.json's kind (the runner treats the run lock's steps apart)
    #: plan.json's depends_on: the steps that must have finished before this one starts
    depends_on: tuple[str, ...] = ()
    model: str = ""  # plan.json's model (the model an audit step tests)

    def units(self, whole_scripts: bool) -> list[str]:
        """What goes to the database one call at a time: the statements, or the whole file."""
        return [self.text] if whole_scripts and self.text else self.statements

    def counted(self, whole_scripts: bool, uncounted: frozenset[str]) -> list[bool]:
        """Per unit, whether its reported rows count as rows the step wrote: a statement
        writing rows into a table that is not the run's bookkeeping (``uncounted``). A whole
        script mixes both, so nothing in it counts."""
        if whole_scripts and self.text:
            return [False]
        writes = self.writes or (None,) * len(self.statements)
        return [table is not None and table not in uncounted for table in writes]


@dataclass(frozen=True)
class StepResult:
    step: PlannedStep
    seconds: float
    rows: int | None = None  # rows written, where the engine reports them


@dataclass(frozen=True)
class PlannedCheck:
    """A query whose rows are warnings after a run (plan.json's ``checks``)."""

    id: str
    description: str
    statement: str


def read_compiled(files: dict[str, str] | Path, dialect: str) -> tuple[list[PlannedStep], list[PlannedCheck]]:
    """The steps and the health checks of a compiled plan, from an output folder or compiled
    files in memory (each check file is one SELECT)."""
    files = _files(files)
    plan = json.loads(files["plan.json"])
    sqlglot_dialect = get_dialect(dialect).sqlglot_dialect
    steps = [_planned_step(s, files[s["file"]], sqlglot_dialect) for s in plan["steps"]]
    checks = []
    for check in plan.get("checks", []):
        [statement] = split_statements(files[check["file"]], sqlglot_dialect)
        checks.append(PlannedCheck(check["id"], check["description"], statement))
    return steps, checks


def _planned_step(entry: dict, text: str, sqlglot_dialect: str) -> PlannedStep:
    """A step of plan.json (its ``entry``) and its file's ``text``."""
    statements = read_statements(text, sqlglot_dialect)
    writes = tuple(s.writes for s in statements)
    depends_on = tuple(entry.get("depends_on", ()))
    return PlannedStep(
        entry["id"], entry["file"], [s.text for s in statements], text, writes, entry.get("kind", ""), depends_on,
        entry.get("model", ""),
    )  # fmt: skip


def read_plan(files: dict[str, str] | Path, dialect: str) -> list[PlannedStep]:
    """The steps of a compiled plan."""
    return read_compiled(files, dialect)[0]


def _files(files: dict[str, str] | Path) -> dict[str, str]:
    if not isinstance(files, Path):
        return files
    return {p.relative_to(files).as_posix(): p.read_text(encoding="utf-8") for p in files.rglob("*") if p.is_file()}


def check_warnings(checks: list[PlannedCheck], query: Callable[[str], list[tuple]]) -> list[str]:
    """One warning per check that returns rows: what it means, and the rows (at most five)."""
    warnings = []
    for check in checks:
        rows = query(check.statement)
        if rows:
            shown = "; ".join(", ".join(str(v) for v in row) for row in rows[:5])
            more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
            warnings.append(f"{check.id}: {check.description} [{shown}{more}]")
    return warnings


class StepFailed(Exception):
    def __init__(self, step: PlannedStep, statement: str, error: Exception):
        message = mask(str(error).strip() or type(error).__name__)
        super().__init__(f"step {step.id} ({step.file}) failed: {message}")
        self.step, self.statement, self.error = step, statement, error
        #: an audit step's failure: the SG460 lines of the tests that failed (snowgen.runner.data_tests)
        self.tests_failed: list[str] = []
        #: seconds from the step's start to the failure, where the step ran on a worker
        #: connection of its own (snowgen.runner.parallel); None: the caller timed it
        self.seconds: float | None = None


def run_steps(
    steps: list[PlannedStep],
    execute: Callable[[str], int | None],
    recover: Callable[[], None] | None = None,
    starting: Callable[[PlannedStep, int], None] | None = None,
    whole_scripts: bool = False,
    uncounted: frozenset[str] = frozenset(),
) -> Iterator[StepResult]:
    """Execute every statement in order (or each step's file as one script); yield each
    finished step with the rows it wrote (:func:`rows_written`); stop at the first failure
    (after ``recover``, which ends a transaction the failed script had opened).
    ``starting(step, index)`` hears of each statement before it runs (a progress display)."""
    for step in steps:
        started = time.perf_counter()
        reported: list[int | None] = []
        counted = step.counted(whole_scripts, uncounted)
        for index, statement in enumerate(step.units(whole_scripts)):
            if starting is not None:
                starting(step, index)
            try:
                written = execute(statement)
            except Exception as exc:
                if recover is not None:
                    recover()
                raise StepFailed(step, statement, exc) from exc
            if counted[index]:
                reported.append(written if isinstance(written, int) and written >= 0 else None)
        yield StepResult(step, time.perf_counter() - started, rows_written(reported))


def rows_written(reported: list[int | None]) -> int | None:
    """The sum of the rows the counted statements reported; None (unknown) when the step
    has none, or when the engine did not report one of them (a partial sum would mislead)."""
    if not reported or None in reported:
        return None
    return sum(r for r in reported if r is not None)
