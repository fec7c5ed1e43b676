"""The library entry points the CLI calls: compile projects in memory, then write or check."""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from snowgen.compiler import refresh, run_metadata
from snowgen.compiler.backfill import Backfill
from snowgen.compiler.build import build_steps
from snowgen.compiler.plan import Plan
from snowgen.compiler.planner import plan_project
from snowgen.dialects import DIALECTS, get_dialect, unknown_dialect_message
from snowgen.emit import emit
from snowgen.errors import SnowgenError
from snowgen.spec.loader import LoadedProject, load_project

#: below this many steps x dialects, starting worker processes costs more than it saves
PARALLEL_THRESHOLD = 600


@dataclass(frozen=True)
class CompiledProject:
    project: str
    dialect: str
    files: dict[str, str]  # relative path -> text
    variant: str | None = None  # a plan other than the regular one (e.g. "full-refresh")

    @property
    def folder(self) -> str:
        """Where it is written under <out>/<project>/: the regular plan in <dialect>/."""
        return f"{self.dialect}-{self.variant}" if self.variant else self.dialect


def check_dialects(names: Iterable[str]) -> list[str]:
    names = list(names)
    for name in names:
        if name not in DIALECTS:
            raise SnowgenError.at("SG302", unknown_dialect_message(name))
    return names


def compile_plan(plan: Plan, dialect_name: str) -> CompiledProject:
    """Build and render one dialect, one step at a time."""
    dialect = get_dialect(dialect_name)
    return CompiledProject(plan.project, dialect_name, emit(plan, dialect, build_steps(plan, dialect)))


def compile_loaded(
    loaded: LoadedProject,
    dialects: Iterable[str],
    *,
    target: str | None = None,
    cli_vars: dict[str, Any] | None = None,
    select: list[str] | None = None,
    jobs: int | None = None,
    full_refresh: bool = False,
    allow_refresh: bool = False,
    backfill: Backfill | None = None,
) -> list[CompiledProject]:
    """Plan once, then compile each dialect (in parallel processes for big plans).

    ``jobs``: worker processes; None chooses by the plan's size and the machine's cores.
    ``full_refresh``: drop the incremental state first (see compiler.refresh).
    ``backfill``: a selective backfill plan (see compiler.backfill), written beside the
    regular plan in ``<dialect>-backfill-<source>-<from>-<to>/``."""
    plan = plan_loaded(
        loaded, target=target, cli_vars=cli_vars, select=select,
        full_refresh=full_refresh, allow_refresh=allow_refresh, backfill=backfill,
    )  # fmt: skip
    compiled = compile_planned(plan, check_dialects(dialects), jobs=jobs)
    variant = "full-refresh" if full_refresh else backfill.variant if backfill is not None else None
    return [replace(c, variant=variant) for c in compiled] if variant else compiled


def plan_loaded(
    loaded: LoadedProject,
    *,
    target: str | None = None,
    cli_vars: dict[str, Any] | None = None,
    select: list[str] | None = None,
    full_refresh: bool = False,
    allow_refresh: bool = False,
    backfill: Backfill | None = None,
) -> Plan:
    """The plan every dialect compiles: the project's, with the full-refresh and run-metadata
    steps when they apply."""
    if full_refresh and backfill is not None:
        raise SnowgenError.at("SG403", "--full-refresh and --backfill exclude each other")
    plan = plan_project(loaded, target=target, cli_vars=cli_vars, select=select, backfill=backfill)  # located errors first
    if full_refresh:
        refresh.check_refresh_allowed(loaded, target, allow_refresh)
        plan = refresh.with_full_refresh(plan)
    if loaded.spec.run_metadata:
        plan = run_metadata.with_run_metadata(plan)
    return plan


def compile_planned(plan: Plan, names: list[str], *, jobs: int | None = None) -> list[CompiledProject]:
    """Build and render ``plan`` for each dialect; the results follow the order of ``names``."""
    with _quiet_collector():
        workers = _workers(jobs, len(names), len(plan.steps))
        if workers <= 1:
            return [compile_plan(plan, name) for name in names]
        return list(_compile_in_workers(plan, names, workers))


def compile_project(path: Path, dialects: Iterable[str], **options: Any) -> list[CompiledProject]:
    return compile_loaded(load_project(path), dialects, **options)


# -- speed ---------------------------------------------------------------------------------------


@contextmanager
def _quiet_collector() -> Iterator[None]:
    """sqlglot trees link children to parents, so only the cycle collector frees them, and
    every full collection would rescan the whole plan. Freezing what exists once the plan
    is made keeps those scans short; the objects go back to the collector afterwards."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _workers(jobs: int | None, dialects: int, steps: int) -> int:
    if jobs is not None:
        return max(1, min(jobs, dialects))
    if steps * dialects < PARALLEL_THRESHOLD or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(os.cpu_count() or 1, dialects))


_PLAN_FOR_WORKERS: Plan | None = None


def _compile_forked(dialect_name: str) -> CompiledProject:
    assert _PLAN_FOR_WORKERS is not None
    return compile_plan(_PLAN_FOR_WORKERS, dialect_name)


def _compile_in_workers(plan: Plan, names: list[str], workers: int) -> Iterator[CompiledProject]:
    """Forked workers inherit the plan (nothing to pickle but the results); the results
    come back in the order of ``names``, so output does not depend on scheduling."""
    global _PLAN_FOR_WORKERS
    _PLAN_FOR_WORKERS = plan
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            yield from pool.map(_compile_forked, names)
    finally:
        _PLAN_FOR_WORKERS = None
