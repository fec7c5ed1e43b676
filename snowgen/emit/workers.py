"""Step texts built in parallel: forked worker processes that inherit the plan.

The steps to build are cut into tasks (a dialect and a run of its steps, in plan order), a
few per worker, so that the workers finish together however the dialects differ in cost.
Each worker builds its tasks' texts and sends back only text; the results come back in the
order of the tasks, so the output never depends on scheduling.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from snowgen.dialects import get_dialect
from snowgen.dialects.base import Dialect
from snowgen.plan.data import Plan, Step

#: below this many steps to build, starting worker processes costs more than it saves
PARALLEL_THRESHOLD = 600
#: tasks per worker: enough that the last tasks are short, few enough that each is worth sending
TASKS_PER_WORKER = 4

#: builds the texts of some steps of one dialect: (plan, dialect, steps) -> results, in step order
Build = Callable[[Plan, Dialect, Sequence[Step]], list]


@dataclass(frozen=True)
class Task:
    dialect: str
    steps: tuple[Step, ...]


def worker_count(jobs: int | None, steps: int) -> int:
    """``jobs`` if given, else the cores when there is enough to build (and fork exists)."""
    if jobs is not None:
        return max(1, jobs)
    if steps < PARALLEL_THRESHOLD or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, os.cpu_count() or 1)


def build_all(plan: Plan, steps: Mapping[str, Sequence[Step]], build: Build, jobs: int | None) -> dict[str, list]:
    """``build`` over each dialect's ``steps``: dialect -> its results, in step order."""
    workers = worker_count(jobs, sum(len(s) for s in steps.values()))
    if workers <= 1:
        return {name: build(plan, get_dialect(name), list(todo)) for name, todo in steps.items()}
    tasks = _tasks(steps, workers)
    results: dict[str, list] = {name: [] for name in steps}
    for task, built in zip(tasks, _in_workers(plan, build, tasks, workers), strict=True):
        results[task.dialect].extend(built)
    return results


def _tasks(steps: Mapping[str, Sequence[Step]], workers: int) -> list[Task]:
    total = sum(len(s) for s in steps.values())
    size = max(1, math.ceil(total / (workers * TASKS_PER_WORKER)))
    return [
        Task(name, tuple(todo[start : start + size]))
        for name, todo in steps.items()
        for start in range(0, len(todo), size)
    ]


_INHERITED: tuple[Plan, Build] | None = None


def _in_workers(plan: Plan, build: Build, tasks: list[Task], workers: int) -> list[list]:
    global _INHERITED
    _INHERITED = (plan, build)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
            return list(pool.map(_run, tasks))
    finally:
        _INHERITED = None


def _run(task: Task) -> list:
    assert _INHERITED is not None
    plan, build = _INHERITED
    return build(plan, get_dialect(task.dialect), task.steps)
