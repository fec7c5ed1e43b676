"""The one place a ``snowgen run`` is driven: open the database, run the steps, read the run
id, the health checks and the row counts, and tell a :class:`RunOutput` of each event."""

from __future__ import annotations

import time

from snowgen.runner.execute import PlannedStep, StepFailed
from snowgen.runner.output import RunHeader, RunOutput, RunSummary
from snowgen.runner.session import PreparedRun, RunSession, run_session, shown_database


def run_plan(prepared: PreparedRun, output: RunOutput, target: str | None = None, wait: float = 0.0) -> RunSummary:
    """Run ``prepared``; the summary says whether a step failed (a database that cannot be
    opened, or fails a query after the steps, raises SnowgenError; another run's lock held
    past ``wait`` seconds, RunLocked)."""
    header = RunHeader(
        prepared.project, prepared.dialect, shown_database(prepared.url, prepared.base), target, prepared.steps
    )
    summary = RunSummary(header)
    output.started(header)
    started = time.perf_counter()
    with run_session(prepared, wait, output.warning) as session:
        if _run_steps(session, output, summary, started):
            summary.warnings = session.warnings()
            for warning in summary.warnings:
                output.warning(warning)
            summary.tables = session.row_counts()
    summary.seconds = time.perf_counter() - started
    output.finished(summary)
    return summary


def _run_steps(session: RunSession, output: RunOutput, summary: RunSummary, started: float) -> bool:
    """Run every step, telling ``output``; False when one failed (``summary`` says which)."""
    numbers = {step.id: number for number, step in enumerate(session.prepared.steps, 1)}
    step_began = started

    def starting(step: PlannedStep, index: int) -> None:
        nonlocal step_began
        if index == 0:
            step_began = time.perf_counter()
            output.step_started(step, numbers[step.id])
        output.statement_started(step, numbers[step.id], index)

    try:
        for result in session.steps(starting):
            summary.steps_run += 1
            output.step_finished(result, numbers[result.step.id])
            run_id = session.run_id_after(result.step)
            if run_id is not None:
                summary.run_id = run_id
                output.identified(run_id)
    except StepFailed as failure:
        summary.status, summary.failed = "failed", failure
        output.step_failed(failure, numbers[failure.step.id], time.perf_counter() - step_began)
        return False
    return True
