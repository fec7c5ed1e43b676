"""Finding projects, choosing their targets and dialects, planning and compiling them
(with the build cache when asked), and writing or checking the output."""

from __future__ import annotations

import functools
import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from snowgen.api.options import CompileOptions
from snowgen.build.steps import build_steps
from snowgen.dialects import NAMES, get_dialect, unknown_dialect_message
from snowgen.emit.cache import build_missing, cached_check_files, code_fingerprint, look_up, ordered_outputs, plan_keys
from snowgen.emit.render import CompiledProject, StepFile, emit, files_of, step_ids, step_outputs
from snowgen.emit.store import StepStore, cache_path
from snowgen.emit.workers import build_all
from snowgen.emit.writer import stale_diff, write
from snowgen.errors import SnowgenError
from snowgen.plan import refresh, run_lock, run_metadata
from snowgen.plan.bodies import with_bodies
from snowgen.plan.column_check import unchecked_sources
from snowgen.plan.data import BodyNotParsed, Plan, Step
from snowgen.plan.facts import BodyMemo
from snowgen.plan.planner import check_default_target, plan_project, resolve_vars
from snowgen.spec.loader import LoadedProject, discover_projects, load_project

# -- finding and compiling projects --------------------------------------------------------------------


def find_projects(project: Path | None, *, single: bool = False) -> list[Path]:
    """``project``, else the project in the working directory or those under ./model_specs."""
    found = [project] if project is not None else discover_projects(Path.cwd())
    if single and len(found) > 1:
        paths = ", ".join(_as_typed(p) for p in found)
        raise SnowgenError.at(
            "SG403", f"several projects here and this command works on one: pass --project with one of {paths}"
        )
    return found


def _as_typed(path: Path) -> str:
    """``path`` as the user would type it from the working directory."""
    return path.relative_to(Path.cwd()).as_posix() if path.is_relative_to(Path.cwd()) else str(path)


def target_of(loaded: LoadedProject, target: str | None, db: str | None = None) -> str | None:
    """The target a command uses: the one named (``--target``), else, when no database is
    named either (``--db``), the project's default target (``target:`` in snowgen.yml)."""
    if target is not None or db is not None:
        return target
    check_default_target(loaded)
    return loaded.spec.target


def check_dialects(names: Iterable[str]) -> list[str]:
    names = list(names)
    for name in names:
        if name not in NAMES:
            raise SnowgenError.at("SG302", unknown_dialect_message(name))
    return names


def target_dialects(loaded: LoadedProject, target: str | None) -> list[str]:
    """The target's dialect: what a command compiles for when no dialect is named."""
    if target is None:
        raise SnowgenError.at("SG403", "choose a dialect: --dialect NAME, --all or --target NAME")
    if target not in loaded.spec.targets:
        resolve_vars(loaded, target, {})  # raises the located SG303
    return [loaded.spec.targets[target].dialect]


def plan_loaded(loaded: LoadedProject, options: CompileOptions | None = None, *, memo: BodyMemo | None = None) -> Plan:
    """The plan every dialect compiles: the project's, with the full-refresh and run-metadata
    steps when they apply, between the steps that take and release the run lock. ``memo``: body facts from earlier compiles (snowgen.plan.facts)."""
    options = options or CompileOptions()
    plan = plan_project(
        loaded,
        target=options.target,
        cli_vars=dict(options.vars),
        select=options.select or None,
        exclude=options.exclude or None,
        backfill=options.backfill,
        memo=memo,
    )  # located errors first
    if options.full_refresh:
        refresh.check_refresh_allowed(loaded, options.target, options.allow_refresh)
        plan = refresh.with_full_refresh(plan)
    if loaded.spec.run_metadata:
        plan = run_metadata.with_run_metadata(plan)
    return run_lock.with_run_lock(plan)


def compile_loaded(
    loaded: LoadedProject, dialects: Iterable[str], options: CompileOptions | None = None
) -> list[CompiledProject]:
    """Plan once, then compile each dialect (in parallel processes for big plans); a
    backfill or full-refresh plan is written beside the regular one (``CompiledProject.folder``)."""
    options = options or CompileOptions()
    return _compile(loaded, check_dialects(dialects), options, _store(loaded.root, options))


def compile_project(
    path: Path, dialects: Iterable[str], options: CompileOptions | None = None
) -> list[CompiledProject]:
    options = options or CompileOptions()
    store = _store(path, options)
    return _compile(load_project(path, memo=store), check_dialects(dialects), options, store)


def compile_projects(
    directories: Iterable[Path], dialects: list[str] | None, options: CompileOptions | None = None
) -> list[CompiledProject]:
    """Every project compiled in memory first, its errors gathered: an error anywhere writes
    nothing. ``dialects`` None: each project's target dialect."""
    options = options or CompileOptions()
    results: list[CompiledProject] = []
    errors: list = []
    for directory in directories:
        try:
            store = _store(directory, options)
            loaded = load_project(directory, memo=store)
            names = check_dialects(dialects or target_dialects(loaded, target_of(loaded, options.target)))
            results += _compile(loaded, names, options, store)
        except SnowgenError as exc:
            errors += exc.diagnostics
    if errors:
        raise SnowgenError(errors)
    return results


def _store(root: Path, options: CompileOptions) -> StepStore | None:
    """The build cache of the project at ``root``, when ``options`` use it."""
    return StepStore(cache_path(root), code_fingerprint()) if options.cache else None


def _compile(
    loaded: LoadedProject, names: list[str], options: CompileOptions, store: StepStore | None
) -> list[CompiledProject]:
    options = replace(options, target=target_of(loaded, options.target))
    plan = plan_loaded(loaded, options, memo=store)
    if store is not None:
        compiled = _compile_cached(plan, names, options.jobs, store)
    else:
        compiled = compile_planned(plan, names, jobs=options.jobs)
    warnings = unchecked_sources(plan)
    return [replace(c, variant=options.variant or c.variant, warnings=warnings) for c in compiled]


def write_output(out: Path, results: list[CompiledProject]) -> list[Path]:
    """Write each project/dialect folder under ``out``, replacing what was there."""
    return write(out, results)


def check_output(out: Path, results: list[CompiledProject]) -> str:
    """A unified diff between ``results`` and the files under ``out`` ('' when up to date)."""
    return stale_diff(out, results)


def compile_plan(plan: Plan, dialect_name: str) -> CompiledProject:
    """Build and render one dialect, one step at a time."""
    dialect = get_dialect(dialect_name)
    return CompiledProject(plan.project, dialect_name, emit(plan, dialect, build_steps(plan, dialect)))


def compile_planned(plan: Plan, names: list[str], *, jobs: int | None = None) -> list[CompiledProject]:
    """Build and render ``plan`` for each dialect (in worker processes for big plans); the
    results follow the order of ``names``."""
    with _quiet_collector():
        outputs = build_all(plan, {name: plan.steps for name in names}, step_outputs, jobs)
        return [_assembled(plan, name, dict(zip(step_ids(plan), outputs[name], strict=True))) for name in names]


def _assembled(
    plan: Plan, name: str, outputs: dict[str, StepFile], checks: dict[str, str] | None = None
) -> CompiledProject:
    return CompiledProject(plan.project, name, files_of(plan, get_dialect(name), outputs, checks))


def _compile_cached(plan: Plan, names: list[str], jobs: int | None, store: StepStore) -> list[CompiledProject]:
    """Each dialect's step texts from the store where their keys match, the rest built (in
    workers when there are many) from bodies parsed for them, then the store updated: only
    once every dialect compiled."""
    with _quiet_collector():
        keys = plan_keys(plan)
        try:
            work = [look_up(plan, keys, name, store) for name in names]
            checks = {name: cached_check_files(plan, keys, get_dialect(name), store) for name in names}
        finally:
            store.close()  # before any worker is forked
        missing = {item.dialect: item.missing for item in work}
        build = functools.partial(build_missing, keys=keys)
        try:
            built = build_all(with_bodies(plan, _models_of(missing)), missing, build, jobs)
        except BodyNotParsed:  # a step read another model's body: parse them all
            built = build_all(with_bodies(plan, plan.models), missing, build, jobs)
        results = []
        for item in work:
            for made in built[item.dialect]:
                made.store_in(store)
            outputs = ordered_outputs(plan, item.outputs, built[item.dialect])
            results.append(_assembled(plan, item.dialect, outputs, checks[item.dialect]))
        store.save()
        return results


def _models_of(missing: dict[str, list[Step]]) -> list[str]:
    """The models whose steps are to be built, in any dialect."""
    return [step.model for steps in missing.values() for step in steps if step.model]


# -- speed -----------------------------------------------------------------------------------------------


@contextmanager
def _quiet_collector() -> Iterator[None]:
    """sqlglot trees link children to parents, so only the cycle collector frees them, and
    every full collection would rescan the whole plan. Freezing what exists once the plan
    is made keeps those scans short; the objects go back to the collector afterwards.
    (No collection before freezing: it would scan the whole plan once more, and the little
    garbage left from planning is collected after the unfreeze like any other.)"""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
