"""Compile a project in a forked worker process with a time limit, so that a hang (or a memory
blow-up) fails one case instead of blocking the suite. The worker answers with plain data:

- ``{"kind": "ok"}``
- ``{"kind": "error", "diagnostics": [{"code", "file", "line", "col", "text"}]}`` (SnowgenError)
- ``{"kind": "crash", "error": traceback}`` (any other exception, including one raised
  while formatting a diagnostic the way the CLI prints it)
- ``{"kind": "timeout"}`` or ``{"kind": "died"}`` (killed, or the worker exited)
"""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
import time
import traceback
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

#: address space of a worker: an alias bomb must end in MemoryError, not take the machine down
WORKER_MEMORY_BYTES = 3 * 1024**3


def compile_outcome(root: Path, dialect: str) -> dict[str, Any]:
    """Compile ``root`` for ``dialect`` in this process and classify what happened."""
    from snowgen.api import CompileOptions, compile_project
    from snowgen.errors import SnowgenError

    try:
        compile_project(root, [dialect], CompileOptions(jobs=1))
    except SnowgenError as exc:
        try:
            return {"kind": "error", "diagnostics": [_diagnostic(d) for d in exc.diagnostics]}
        except Exception:  # formatting must not fail either: the CLI prints the same text
            return {"kind": "crash", "error": traceback.format_exc()}
    except BaseException:  # anything else is a bug; RecursionError and MemoryError included
        return {"kind": "crash", "error": traceback.format_exc()}
    return {"kind": "ok"}


def _diagnostic(diagnostic) -> dict[str, Any]:
    location = diagnostic.location
    return {
        "code": diagnostic.code,
        "file": str(location.file) if location else None,
        "line": location.line if location else None,
        "col": location.col if location else None,
        "text": diagnostic.format(),
    }


def _serve(connection) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    while True:
        request = connection.recv()
        if request is None:
            return
        root, dialect = request
        connection.send(compile_outcome(Path(root), dialect))


class CompileWorker:
    """One forked process that compiles one project at a time; restarted after a timeout."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("fork")  # inherits the imported snowgen: no start-up cost
        self._start()

    def _start(self) -> None:
        self.connection, child = self._context.Pipe()
        self._process = self._context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        child.close()

    def send(self, root: Path, dialect: str) -> None:
        self.connection.send((str(root), dialect))

    def receive(self) -> dict[str, Any]:
        try:
            return self.connection.recv()
        except (EOFError, OSError):
            self.restart()
            return {"kind": "died"}

    def restart(self) -> None:
        self._process.kill()
        self._process.join()
        self.connection.close()
        self._start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.send(None)
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self.connection.close()


def compile_all(jobs: list[tuple[Path, str]], workers: int, timeout: float) -> list[dict[str, Any]]:
    """The outcome of every (project root, dialect) job, in order, on ``workers`` processes;
    a job still running after ``timeout`` seconds is a timeout and its worker is restarted.
    One thread drives all workers (no forking from threads)."""
    pool = [CompileWorker() for _ in range(max(1, workers))]
    waiting = list(reversed(list(enumerate(jobs))))
    running: dict[CompileWorker, tuple[int, float]] = {}
    outcomes: list[dict[str, Any]] = [{}] * len(jobs)
    try:
        while waiting or running:
            for worker in pool:
                if worker not in running and waiting:
                    index, (root, dialect) = waiting.pop()
                    worker.send(root, dialect)
                    running[worker] = (index, time.monotonic() + timeout)
            first_deadline = min(deadline for _, deadline in running.values())
            ready = wait([w.connection for w in running], timeout=max(0.0, first_deadline - time.monotonic()))
            for worker, (index, deadline) in list(running.items()):
                if worker.connection in ready:
                    outcomes[index] = worker.receive()
                elif time.monotonic() >= deadline:
                    outcomes[index] = {"kind": "timeout"}
                    worker.restart()
                else:
                    continue
                del running[worker]
    finally:
        for worker in pool:
            worker.close()
    return outcomes
