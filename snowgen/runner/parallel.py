"""``snowgen run --threads N``: the steps of a plan run at once where plan.json's
``depends_on`` allows, each on one of N connections of its own (snowgen.runner.session runs
the run lock's steps around them, on the run's own connection).

The main thread schedules and the worker threads only execute: a worker runs one step's
statements on its connection and reports back; the main thread starts every step whose
dependencies have all finished (in plan order when more are ready than workers are idle),
hands each finished step to its caller in the order they finish, and is the only thread
that talks to the caller (its output). After a failed step no new step starts: the steps
already running finish, then the failure is raised. Interrupted (Ctrl-C), or stopped by its
caller, it asks each busy connection to cancel its statement (where the driver can:
:meth:`snowgen.runner.driver.Driver.cancel`), waits for the workers, and lets the
interruption go on.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass

from snowgen.runner.connections import Connection
from snowgen.runner.driver import first_line
from snowgen.runner.execute import PlannedStep, StepFailed, StepResult

#: runs one step on a worker's connection (raises StepFailed)
RunOne = Callable[[PlannedStep, Connection], StepResult]


class Schedule:
    """Which steps may start: those whose dependencies among the scheduled steps have all
    finished, in plan order. A dependency on a step that is not scheduled here (the run
    lock's acquire, which ran first; a step a selection left out) is no wait. The plan lists
    a step after every step it depends on (the planner's order), so the first step waiting
    can always start once the running ones finish."""

    def __init__(self, steps: list[PlannedStep]):
        place = {step.id: number for number, step in enumerate(steps)}
        self.waiting = list(steps)
        self.needs = {step.id: {d for d in step.depends_on if d in place} for step in steps}
        self.finished: set[str] = set()
        for step in steps:
            later = sorted(d for d in self.needs[step.id] if place[d] >= place[step.id])
            if later:  # never from the planner; checked before anything runs
                raise RuntimeError(f"plan.json lists step {step.id} before {', '.join(later)}, which it depends on")

    def ready(self) -> list[PlannedStep]:
        return [step for step in self.waiting if self.needs[step.id] <= self.finished]

    def started(self, step: PlannedStep) -> None:
        self.waiting.remove(step)

    def done(self, step: PlannedStep) -> None:
        self.finished.add(step.id)


@dataclass(frozen=True)
class Finished:
    """What a worker reports: the step's result, or the error it stopped with."""

    worker: int
    step: PlannedStep
    result: StepResult | None = None
    error: BaseException | None = None
    seconds: float = 0.0


class Worker:
    """A thread with a connection of its own, running the steps it is given one at a time."""

    def __init__(self, number: int, connection: Connection, run_one: RunOne, finished: queue.SimpleQueue):
        self.number, self.connection = number, connection
        self.tasks: queue.SimpleQueue[PlannedStep | None] = queue.SimpleQueue()
        # a daemon: a second Ctrl-C ends the process without waiting for a statement
        self.thread = threading.Thread(
            target=self._work, args=(run_one, finished), name=f"snowgen-worker-{number}", daemon=True
        )
        self.thread.start()

    def run(self, step: PlannedStep) -> None:
        self.tasks.put(step)

    def stop(self) -> None:
        self.tasks.put(None)

    def _work(self, run_one: RunOne, finished: queue.SimpleQueue) -> None:
        while (step := self.tasks.get()) is not None:
            began = time.perf_counter()
            try:
                finished.put(Finished(self.number, step, result=run_one(step, self.connection)))
            except BaseException as exc:  # the main thread decides what it means
                finished.put(Finished(self.number, step, error=exc, seconds=time.perf_counter() - began))


def run_concurrently(
    schedule: Schedule,
    connections: list[Connection],
    run_one: RunOne,
    starting: Callable[[PlannedStep], None],
    warn: Callable[[str], None],
) -> Iterator[StepResult]:
    """Run the steps of ``schedule`` on ``connections``, one worker each; yield each step as
    it finishes. ``starting(step)`` hears of each step as it starts (on this thread). Raises
    the first failure once the running steps have finished (a later one is a warning)."""
    finished: queue.SimpleQueue[Finished] = queue.SimpleQueue()
    workers = [Worker(number, connection, run_one, finished) for number, connection in enumerate(connections)]
    idle, running = list(workers), {}
    failure: Finished | None = None
    try:
        while True:
            for step in schedule.ready()[: len(idle)] if failure is None else []:
                worker = idle.pop(0)
                schedule.started(step)
                worker.run(step)
                running[worker.number] = step
                starting(step)
            if not running:
                break
            done = finished.get()
            del running[done.worker]
            idle = sorted([*idle, workers[done.worker]], key=lambda w: w.number)
            if done.error is None:
                schedule.done(done.step)
                yield done.result
            elif failure is None:
                failure = done
            else:
                warn(f"another step failed too: {first_line(done.error)}")
    except BaseException:
        _cancel_and_wait(workers, running, finished)
        raise
    finally:
        for worker in workers:
            worker.stop()
    if failure is not None:
        raise _failure(failure)


def _failure(failed: Finished) -> BaseException:
    if isinstance(failed.error, StepFailed):
        failed.error.seconds = failed.seconds
    return failed.error


def _cancel_and_wait(workers: list[Worker], running: dict[int, PlannedStep], finished: queue.SimpleQueue) -> None:
    """Ask every busy connection to stop its statement, then wait until each worker has
    reported (the statements a driver cannot cancel run to their end)."""
    for number in running:
        with suppress(Exception):
            workers[number].connection.driver.cancel()
    for _ in range(len(running)):
        finished.get()
    running.clear()


def open_workers(count: int, open_one: Callable[[], Connection]) -> list[Connection]:
    """``count`` connections, opened at once (a warehouse's login takes a while); if one
    cannot be opened, the others are closed and its error raised."""
    with ThreadPoolExecutor(count, thread_name_prefix="snowgen-connect") as pool:
        futures = [pool.submit(open_one) for _ in range(count)]
    opened = [future.result() for future in futures if future.exception() is None]
    errors = [future.exception() for future in futures if future.exception() is not None]
    if errors:
        close_workers(opened)
        raise errors[0]
    return opened


def close_workers(connections: list[Connection]) -> None:
    """Close each connection; a failing close stays quiet (nothing of the run depends on it)."""
    for connection in connections:
        with suppress(Exception):
            connection.close()
