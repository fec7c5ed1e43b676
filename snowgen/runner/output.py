"""What ``snowgen run`` prints: progress and problems on stderr, the summary on stdout, as
text for people (colours only on a terminal) or JSON Lines for machines
(``--log-format json``). docs/run-output.md describes both formats and their fields.

Every character goes through one :class:`Writer`, the single place a filter (such as a
secret mask) can see all of it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from snowgen.errors import SnowgenError
from snowgen.masking import mask
from snowgen.runner.execute import PlannedStep, StepFailed, StepResult
from snowgen.text import one_line

FORMATS = ("text", "json")

#: lines of a failing statement the text report shows (the JSON event carries it whole)
STATEMENT_LINES = 12

BAR_WIDTH = 20

#: the rows of a step the engine does not report (an en dash; "-" where the stream cannot show it)
UNKNOWN = "\u2013"

#: ANSI SGR colours of the text format (https://no-color.org: none when NO_COLOR is set)
COLOURS = {"ok": "32", "failed": "31", "warning": "33"}


class Writer:
    """The two streams of a run; every line ``snowgen run`` prints passes through here,
    every registered secret masked (snowgen.masking)."""

    def __init__(self, out: TextIO, err: TextIO):
        self.out_stream, self.err_stream = out, err

    def out(self, text: str) -> None:
        self.out_stream.write(mask(text) + "\n")
        self.out_stream.flush()

    def err(self, text: str, end: str = "\n") -> None:
        self.err_stream.write(mask(text) + end)
        self.err_stream.flush()


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def wants_colour(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Colours on a terminal, unless NO_COLOR is set to anything but the empty string."""
    return is_terminal(stream) and not environ.get("NO_COLOR")


@dataclass(frozen=True)
class RunHeader:
    """What a run is about to do (the ``run_started`` event)."""

    project: str
    dialect: str
    database: str  # as it may be printed: the password masked
    target: str | None
    steps: list[PlannedStep]
    threads: int = 1  # how many steps may run at once (--threads, where the warehouse allows)


@dataclass
class RunSummary:
    """How a run ended (the summary on stdout and the ``run_finished`` event)."""

    header: RunHeader
    run_id: str | None = None
    status: str = "ok"  # or "failed"
    steps_run: int = 0  # steps that finished
    seconds: float = 0.0
    tables: list[tuple[str, int]] = field(default_factory=list)  # rows per derived table
    warnings: list[str] = field(default_factory=list)
    failed: StepFailed | None = None


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class RunOutput:
    """The events of a run; each format prints them its own way."""

    def __init__(self, writer: Writer, quiet: bool = False):
        self.writer, self.quiet = writer, quiet
        self.run_id: str | None = None
        self.total = 0

    def started(self, header: RunHeader) -> None:
        self.total = len(header.steps)

    def identified(self, run_id: str) -> None:
        self.run_id = run_id

    def step_started(self, step: PlannedStep, number: int) -> None:
        """Before a step's first statement (``number`` counts from 1)."""

    def statement_started(self, step: PlannedStep, number: int, index: int) -> None:
        """Before each statement (``index`` counts from 0), when the steps run one at a time."""

    def steps_running(self, running: dict[str, int], done: int) -> None:
        """When the steps run at once: the ids and numbers of those running now, after a
        step started or finished (``done``: how many have finished)."""

    def step_finished(self, result: StepResult, number: int) -> None:
        raise NotImplementedError

    def warning(self, message: str) -> None:
        raise NotImplementedError

    def step_failed(self, failure: StepFailed, number: int, seconds: float) -> None:
        raise NotImplementedError

    def finished(self, summary: RunSummary) -> None:
        raise NotImplementedError

    def error(self, error: SnowgenError) -> None:
        raise NotImplementedError


def make_output(log_format: str, quiet: bool, out: TextIO, err: TextIO) -> RunOutput:
    writer = Writer(out, err)
    if log_format == "json":
        return JsonOutput(writer, quiet)
    return TextOutput(writer, quiet, live=is_terminal(err) and not quiet, colour=wants_colour(err))


# -- text -----------------------------------------------------------------------------------------------


class TextOutput(RunOutput):
    """One line per step on stderr, a live line naming the running statement on a terminal,
    the summary and the rows of each derived table on stdout."""

    def __init__(self, writer: Writer, quiet: bool, live: bool, colour: bool):
        super().__init__(writer, quiet)
        self.live, self.colour = live, colour
        self.showing_live = False  # a live line is on screen, not ended by a newline
        self.name_width = 0
        self.unknown = UNKNOWN if _can_encode(writer.err_stream, UNKNOWN) else "-"

    def started(self, header: RunHeader) -> None:
        super().started(header)
        self.name_width = max((len(step.id) for step in header.steps), default=0)
        where = f"{header.database} ({header.dialect}{f', target {header.target}' if header.target else ''})"
        when = now()
        at_once = f", up to {header.threads} at once" if header.threads > 1 else ""
        self._progress(f"running {header.project} on {where}: {self.total} steps{at_once}, {when:%Y-%m-%d} UTC", when)

    def identified(self, run_id: str) -> None:
        super().identified(run_id)
        self._progress(f"run id {run_id}")

    def statement_started(self, step: PlannedStep, number: int, index: int) -> None:
        if self.live:
            detail = f"statement {index + 1}/{len(step.statements)}"
            self.writer.err(f"\r{self._bar(number, number - 1)} {step.id} ({detail})\x1b[K", end="")
            self.showing_live = True

    def steps_running(self, running: dict[str, int], done: int) -> None:
        if self.live:
            self.writer.err(f"\r{self._bar(done, done)} {', '.join(running)}\x1b[K", end="")
            self.showing_live = True

    def step_finished(self, result: StepResult, number: int) -> None:
        status = self._status("ok", result.seconds)
        self._progress(f"{self._step(result.step, number)}  {status}  {rows_text(result.rows, self.unknown)}")

    def step_failed(self, failure: StepFailed, number: int, seconds: float) -> None:
        self._progress(f"{self._step(failure.step, number)}  {self._status('failed', seconds)}")
        self._end_live()
        self.writer.err(failure_report(failure))

    def warning(self, message: str) -> None:
        self._end_live()
        self.writer.err(f"snowgen: {self._paint('warning', 'warning')}: {one_line(message)}")

    def finished(self, summary: RunSummary) -> None:
        self.writer.out(summary_line(summary))
        for line in table_lines(summary.tables):
            self.writer.out(line)

    def error(self, error: SnowgenError) -> None:
        self._end_live()
        self.writer.err(error.format())

    def _step(self, step: PlannedStep, number: int) -> str:
        return f"[{number:>{len(str(self.total))}}/{self.total}] {step.id:<{self.name_width}}"

    def _status(self, kind: str, seconds: float) -> str:
        word = "ok" if kind == "ok" else "FAILED"
        return f"{self._paint(kind, word)}{' ' * (6 - len(word))} {seconds:7.2f} s"

    def _progress(self, text: str, when: dt.datetime | None = None) -> None:
        """A progress line, stamped with the UTC time (none with --quiet)."""
        if self.quiet:
            return
        stamp = f"{when or now():%H:%M:%S}"
        if self.showing_live:
            self.writer.err(f"\r{stamp}  {text}\x1b[K")
            self.showing_live = False
        else:
            self.writer.err(f"{stamp}  {text}")

    def _end_live(self) -> None:
        if self.showing_live:
            self.writer.err("\r\x1b[K", end="")
            self.showing_live = False

    def _bar(self, number: int, done: int) -> str:
        """``[number/total]`` and a bar filled in proportion to the steps done."""
        filled = BAR_WIDTH * done // self.total if self.total else BAR_WIDTH
        return f"[{number:>{len(str(self.total))}}/{self.total}] |{'#' * filled}{'-' * (BAR_WIDTH - filled)}|"

    def _paint(self, kind: str, text: str) -> str:
        return f"\x1b[{COLOURS[kind]}m{text}\x1b[0m" if self.colour else text


def _can_encode(stream: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def rows_text(rows: int | None, unknown: str) -> str:
    if rows is None:
        return f"{unknown:>9}"
    return f"{rows:>9,} {'row' if rows == 1 else 'rows'}"


def table_lines(counts: list[tuple[str, int]]) -> list[str]:
    """``derived.page_views        74 rows``: one line per table, names aligned."""
    width = max((len(table) for table, _ in counts), default=0)
    return [f"{table:<{width}}  {rows:>12,} {'row' if rows == 1 else 'rows'}" for table, rows in counts]


def summary_line(summary: RunSummary) -> str:
    """``ok: 9 steps in 0.41 s, run id ..., 1 warning`` (or where the run failed)."""
    total = len(summary.header.steps)
    run = f", run id {summary.run_id}" if summary.run_id else ""
    warnings = len(summary.warnings)
    noted = f", {warnings} {'warning' if warnings == 1 else 'warnings'}"
    if summary.failed is not None:
        step = summary.failed.step.id
        number = [s.id for s in summary.header.steps].index(step) + 1
        return f"failed: step {number}/{total} {step} after {summary.seconds:.2f} s{run}"
    return f"ok: {total} steps in {summary.seconds:.2f} s{run}{noted}"


def failure_report(failure: StepFailed) -> str:
    """Which step failed, what the database said, and the statement (its first lines); for
    data tests that failed, which (SG460)."""
    if failure.tests_failed:
        lines = [f"snowgen: {line}" for line in failure.tests_failed]
        return "\n".join(lines) + (
            f"\nThe run stopped at step {failure.step.id} ({failure.step.file}), before the incremental state "
            "advances over these rows: fix the data or the test, then run again."
        )
    statement = "\n".join(f"    {line}" for line in failure.statement.splitlines()[:STATEMENT_LINES])
    return (
        f"snowgen: SG408 step {failure.step.id} failed ({failure.step.file}):\n"
        f"  {str(failure.error).strip()}\n  in the statement:\n{statement}\n"
        "Every step is safe to run again: fix the cause and run the plan again to resume."
    )


# -- JSON Lines -----------------------------------------------------------------------------------------


class JsonOutput(RunOutput):
    """One JSON object per line on stderr for every event; the summary as one JSON object on
    stdout. With ``quiet``, only the events that need attention (warnings and failures)."""

    #: the events --quiet keeps
    ATTENTION = frozenset({"warning", "step_failed", "error"})

    def started(self, header: RunHeader) -> None:
        super().started(header)
        fields = {"project": header.project, "dialect": header.dialect, "database": header.database}
        self._event("run_started", **fields, target=header.target, steps=self.total)

    def identified(self, run_id: str) -> None:
        super().identified(run_id)
        self._event("run_identified")

    def step_started(self, step: PlannedStep, number: int) -> None:
        self._event("step_started", **self._step(step, number))

    def step_finished(self, result: StepResult, number: int) -> None:
        seconds = round(result.seconds, 3)
        self._event("step_finished", **self._step(result.step, number), seconds=seconds, rows=result.rows)

    def step_failed(self, failure: StepFailed, number: int, seconds: float) -> None:
        fields = self._step(failure.step, number)
        error = str(failure.error).strip() or type(failure.error).__name__
        code = "SG460" if failure.tests_failed else "SG408"
        if failure.tests_failed:
            error = "; ".join(line.removeprefix("SG460 ") for line in failure.tests_failed)
        self._event("step_failed", **fields, seconds=round(seconds, 3), code=code, error=error,
                    statement=failure.statement)  # fmt: skip

    def warning(self, message: str) -> None:
        self._event("warning", message=message)

    def finished(self, summary: RunSummary) -> None:
        document = summary_document(summary)
        self._event("run_finished", **{k: v for k, v in document.items() if k in RUN_FINISHED_FIELDS})
        self.writer.out(json.dumps(document, ensure_ascii=False))

    def error(self, error: SnowgenError) -> None:
        for diagnostic in error.diagnostics:
            place = diagnostic.location
            where = {"file": place.display_file(), "line": place.line, "col": place.col} if place else {}
            self._event("error", code=diagnostic.code, message=diagnostic.message, **where)

    def _step(self, step: PlannedStep, number: int) -> dict[str, Any]:
        return {"step": step.id, "index": number, "total": self.total, "file": step.file}

    def _event(self, name: str, **fields: Any) -> None:
        if self.quiet and name not in self.ATTENTION:
            return
        stamp = now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
        event = {"event": name, "time": stamp, "run_id": self.run_id, **fields}
        self.writer.err(json.dumps(event, ensure_ascii=False))


#: the summary's fields that the ``run_finished`` event repeats (not the tables and warnings)
RUN_FINISHED_FIELDS = ("status", "steps", "steps_run", "seconds")


def summary_document(summary: RunSummary) -> dict[str, Any]:
    """The summary on stdout in JSON (docs/run-output.md)."""
    header, failed = summary.header, summary.failed
    return {
        "run_id": summary.run_id,
        "project": header.project,
        "dialect": header.dialect,
        "database": header.database,
        "target": header.target,
        "status": summary.status,
        "steps": len(header.steps),
        "steps_run": summary.steps_run,
        "seconds": round(summary.seconds, 3),
        "tables": [{"table": table, "rows": rows} for table, rows in summary.tables],
        "warnings": summary.warnings,
        "failed_step": None if failed is None else {"step": failed.step.id, "file": failed.step.file},
    }
