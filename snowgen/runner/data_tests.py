"""What ``snowgen run`` and ``snowgen test`` say of data tests (their SQL is compiled with
the plan: snowgen.build.audit).

An audit step records each test's failing rows in the project's test results table, then
fails when an error-severity test found some (a message starting ``snowgen_test_failed``).
The runner reads the latest results back: a failure is reported as SG460 naming the test,
the model and the rows; a warn-severity test that found rows, as a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snowgen.errors import SnowgenError
from snowgen.masking import mask
from snowgen.runner.connections import connect
from snowgen.runner.execute import PlannedStep, StepFailed, run_steps

#: plan.json's kind of an audit step (snowgen.plan.data.StepKind.AUDIT)
AUDIT_KIND = "audit"
#: how an audit's failure starts when an error-severity test found rows
FAILED_MARKER = "snowgen_test_failed"


@dataclass(frozen=True)
class TestResult:
    """One test's latest result, as the results query reads it."""

    __test__ = False  # not a pytest test class

    model: str
    test: str
    kind: str
    severity: str
    failing_rows: int

    @property
    def failed(self) -> bool:
        return self.failing_rows > 0

    def line(self) -> str:
        rows = "row" if self.failing_rows == 1 else "rows"
        return f"test '{self.test}' of model '{self.model}' failed: {self.failing_rows} failing {rows}"


def read_results(rows: Iterable[tuple]) -> list[TestResult]:
    return [TestResult(str(m), str(t), str(k), str(s), int(n or 0)) for m, t, k, s, n in rows]


def is_test_failure(failure: StepFailed) -> bool:
    """Did an audit step fail because an error-severity test found rows?"""
    return failure.step.kind == AUDIT_KIND and FAILED_MARKER in str(failure.error)


def failure_lines(results: list[TestResult], model: str) -> list[str]:
    """SG460 lines for the error-severity tests of ``model`` that found rows."""
    return [f"SG460 {r.line()}" for r in results if r.model == model and r.severity == "error" and r.failed]


def warning_lines(results: list[TestResult], model: str) -> list[str]:
    """Warnings for the warn-severity tests of ``model`` that found rows."""
    return [f"{r.line()} (severity warn)" for r in results if r.model == model and r.severity == "warn" and r.failed]


@dataclass(frozen=True)
class TestReport:
    """``snowgen test``: every test's latest result; exit 1 when an error-severity test failed."""

    __test__ = False

    database: str
    results: list[TestResult]

    @property
    def exit_code(self) -> int:
        return 1 if any(r.failed and r.severity == "error" for r in self.results) else 0


def run_tests(
    url: str, base: Path, settings: Mapping[str, Any], steps: list[PlannedStep], results_query: str, shown: str
) -> TestReport:
    """Run the audit ``steps`` one after another (a step failing for a test goes on to the
    next; failing otherwise, SG461), then read the latest results of their models."""
    connection = connect(url, base, settings)
    try:
        for step in steps:
            _run_audit(step, connection.execute, connection.recover, connection.whole_scripts)
        try:
            rows = connection.query(results_query)
        except connection.errors as exc:
            raise SnowgenError.at("SG461", f"reading the test results failed: {_first_line(exc)}") from None
    finally:
        connection.close()
    tested = {step.model for step in steps}
    return TestReport(shown, [r for r in read_results(rows) if r.model in tested])


def _run_audit(
    step: PlannedStep, execute: Callable[[str], object], recover: Callable[[], None], whole_scripts: bool
) -> None:
    try:
        list(run_steps([step], execute, recover, whole_scripts=whole_scripts))
    except StepFailed as failure:
        if not is_test_failure(failure):
            message = f"the tests of model '{step.model}' could not run (step {step.id}): {_first_line(failure.error)}"
            raise SnowgenError.at("SG461", message) from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return mask(text.splitlines()[0])


def report_lines(report: TestReport) -> list[str]:
    """A table of the results, then a count: ``3 tests: 2 passed, 1 failed, 0 warned``."""
    header = ("model", "test", "severity", "failing rows", "result")
    rows = [(r.model, r.test, r.severity, str(r.failing_rows), _verdict(r)) for r in report.results]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.rjust(w) if i == 3 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in [header, *rows]
    ]
    verdicts = [_verdict(r) for r in report.results]
    counts = ", ".join(f"{verdicts.count(v)} {v}" for v in ("passed", "failed", "warned"))
    lines.append(f"{len(rows)} {'test' if len(rows) == 1 else 'tests'} on {report.database}: {counts}")
    return lines


def _verdict(result: TestResult) -> str:
    if not result.failed:
        return "passed"
    return "failed" if result.severity == "error" else "warned"
