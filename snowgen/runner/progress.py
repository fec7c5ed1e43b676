"""The progress display of ``snowgen run``: one line per finished step, with a bar of the
whole plan; on a terminal, a live line names the statement that is running."""

from __future__ import annotations

from typing import TextIO

from snowgen.runner.execute import PlannedStep, StepResult

BAR_WIDTH = 20


class RunProgress:
    def __init__(self, steps: list[PlannedStep], stream: TextIO, live: bool):
        self.total = len(steps)
        self.stream = stream
        self.live = live
        self.done = 0
        self.name_width = max((len(step.id) for step in steps), default=0)

    def starting(self, step: PlannedStep, index: int) -> None:
        """Before each statement: rewrite the live line (terminals only)."""
        if self.live:
            detail = f"statement {index + 1}/{len(step.statements)}"
            self._write(f"\r{self._prefix(self.done + 1, self.done)} {step.id} ({detail})\x1b[K")

    def finished(self, result: StepResult) -> None:
        self.done += 1
        line = f"{self._prefix(self.done, self.done)} {result.step.id:<{self.name_width}} {result.seconds:7.2f} s"
        self._write(("\r" if self.live else "") + line + ("\x1b[K" if self.live else "") + "\n")

    def _prefix(self, number: int, done: int) -> str:
        """``[number/total]`` and a bar filled in proportion to the steps done."""
        filled = BAR_WIDTH * done // self.total if self.total else BAR_WIDTH
        return f"  [{number:>{len(str(self.total))}}/{self.total}] |{'#' * filled}{'-' * (BAR_WIDTH - filled)}|"

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
