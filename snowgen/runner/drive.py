"""The one place a ``snowgen run`` is driven: open the database, run the steps, read the run
id, the health checks and the row counts, and tell a :class:`RunOutput` of each event."""

from __future__ import annotations

import time

from snowgen.runner.data_tests import AUDIT_KIND, TestResult, failure_lines, is_test_failure, warning_lines
from snowgen.runner.execute import PlannedStep, StepFailed
from snowgen.runner.output import RunHeader, RunOutput, RunSummary
from snowgen.runner.session import PreparedRun, RunSession, run_session, shown_database, step_connections


def run_plan(
    prepared: PreparedRun, output: RunOutput, target: str | None = None, wait: float = 0.0, threads: int = 1
) -> RunSummary:
    """Run ``prepared``, up to ``threads`` steps at once; the summary says whether a step
    failed (a database that cannot be opened, or fails a query after the steps, raises
    SnowgenError; another run's lock held past ``wait`` seconds, RunLocked)."""
    database = shown_database(prepared.url, prepared.base)
    header = RunHeader(
        prepared.project, prepared.dialect, database, target, prepared.steps, step_connections(prepared, threads)
    )
    summary = RunSummary(header)
    output.started(header)
    started = time.perf_counter()
    with run_session(prepared, wait, output.warning, threads) as session:
        if _run_steps(session, output, summary):
            checks = session.warnings()
            for warning in checks:
                output.warning(warning)
            summary.warnings += checks
            summary.tables = session.row_counts()
    summary.seconds = time.perf_counter() - started
    output.finished(summary)
    return summary


class Progress:
    """Tells ``output`` of the steps starting: of each statement when the steps run one at
    a time, of the steps running now when they run at once."""

    def __init__(self, output: RunOutput, numbers: dict[str, int], concurrent: bool):
        self.output, self.numbers, self.concurrent = output, numbers, concurrent
        self.began = time.perf_counter()  # when the last step started
        self.running: dict[str, int] = {}  # the steps running now (at once), by id: their number
        self.done = 0

    def starting(self, step: PlannedStep, index: int) -> None:
        number = self.numbers[step.id]
        if index == 0:
            self.began = time.perf_counter()
            self.output.step_started(step, number)
        if not self.concurrent:
            self.output.statement_started(step, number, index)
        elif index == 0:
            self.running[step.id] = number
            self.output.steps_running(self.running, self.done)

    def finished(self, step: PlannedStep) -> None:
        self.done += 1
        self.running.pop(step.id, None)
        if self.running:
            self.output.steps_running(self.running, self.done)


def _run_steps(session: RunSession, output: RunOutput, summary: RunSummary) -> bool:
    """Run every step, telling ``output``; False when one failed (``summary`` says which)."""
    numbers = {step.id: number for number, step in enumerate(session.prepared.steps, 1)}
    progress = Progress(output, numbers, session.concurrent)
    try:
        for result in session.steps(progress.starting):
            summary.steps_run += 1
            output.step_finished(result, numbers[result.step.id])
            progress.finished(result.step)
            run_id = session.run_id_after(result.step)
            if run_id is not None:
                summary.run_id = run_id
                output.identified(run_id)
            if result.step.kind == AUDIT_KIND:
                _warn_of_tests(session.test_results(), result.step.model, output, summary)
    except StepFailed as failure:
        if is_test_failure(failure):
            results = session.test_results()
            _warn_of_tests(results, failure.step.model, output, summary)
            failure.tests_failed = failure_lines(results, failure.step.model)
        summary.status, summary.failed = "failed", failure
        seconds = failure.seconds if failure.seconds is not None else time.perf_counter() - progress.began
        output.step_failed(failure, numbers[failure.step.id], seconds)
        return False
    return True


def _warn_of_tests(results: list[TestResult], model: str, output: RunOutput, summary: RunSummary) -> None:
    """A warning for each warn-severity test of ``model`` that found rows."""
    for warning in warning_lines(results, model):
        output.warning(warning)
        summary.warnings.append(warning)
