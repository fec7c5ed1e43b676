"""A compiled plan as a scheduler reads it, with no scheduler imported: plan.json's steps, each
with the statements a task sends, the run lock's two steps, the steps that build a model's
table, and the dependencies between those models.

A plan comes from a compiled folder (``generated/<project>/<dialect>/``, with its plan.json),
read as written, or from a project folder (its ``snowgen.yml``), compiled in memory through
:mod:`snowgen.api` for a target or a dialect exactly as ``snowgen compile`` would write it.
Each step's file is split into statements here, with the runner's own splitter
(:func:`snowgen.runner.statements.split_statements`, which knows the dialect's strings,
comments and quoted names); a dialect whose step is one script (``Dialect.step_is_one_script``,
BigQuery) keeps the file whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from snowgen import api
from snowgen.dialects import get_dialect
from snowgen.errors import SnowgenError
from snowgen.runner.data_tests import AUDIT_KIND
from snowgen.runner.run_lock import ACQUIRE_KIND, RELEASE_KIND
from snowgen.runner.statements import split_statements
from snowgen.spec.loader import PROJECT_FILE

PLAN_FILE = "plan.json"
#: the newest plan.json format read here (docs/plan-json.md); a plan without
#: ``format_version`` is version 1, whose ``depends_on`` are incomplete
FORMAT_VERSION = 2
#: a scheduler's connection for a plan: one id, or one per target of the project
ConnIds = str | Mapping[str, str]


@dataclass(frozen=True)
class SchedulerStep:
    """One step of plan.json, with what a task sends to the database."""

    id: str
    kind: str
    module: str
    file: str
    depends_on: tuple[str, ...]
    #: the model whose table the step builds (plan.json's ``model``), else None
    model: str | None
    #: the file's statements in order (one, the whole file, where a step is one script)
    statements: tuple[str, ...]
    #: the module's complete step: it moves the module's models forward in the manifest
    completes_module: bool = False
    #: running the step again after it failed part way leaves the same data (plan.json's
    #: ``retry_safe``; a plan of format 1, which does not say, was so throughout)
    retry_safe: bool = True

    @property
    def builds_table(self) -> bool:
        """The step builds a model's table: an asset of its own for a scheduler that has them
        (a model's audit step names the model too, but builds nothing)."""
        return self.model is not None and not self.completes_module and self.kind != AUDIT_KIND


@dataclass(frozen=True)
class SchedulerPlan:
    project: str
    dialect: str
    steps: tuple[SchedulerStep, ...]
    #: the target the plan was compiled for (None: a compiled folder, which does not say)
    target: str | None = None
    #: the compiled files (relative path -> text), plan.json included
    files: Mapping[str, str] | None = None

    def step(self, step_id: str) -> SchedulerStep:
        return next(s for s in self.steps if s.id == step_id)

    def of_kind(self, kind: str) -> SchedulerStep | None:
        return next((s for s in self.steps if s.kind == kind), None)

    @property
    def acquire_lock(self) -> SchedulerStep | None:
        return self.of_kind(ACQUIRE_KIND)

    @property
    def release_lock(self) -> SchedulerStep | None:
        return self.of_kind(RELEASE_KIND)

    @property
    def table_steps(self) -> list[SchedulerStep]:
        """The steps that build a model's table, in plan order."""
        return [s for s in self.steps if s.builds_table]

    def upstream_tables(self, step_id: str) -> list[str]:
        """The table steps ``step_id`` waits for, directly or through steps that build no
        table (the schemas, the run's start, a manifest table, a quarantine, a seed), in plan
        order: the edges of a graph of tables only."""
        by_id = {s.id: s for s in self.steps}
        found: set[str] = set()
        seen: set[str] = set()
        waiting = list(by_id[step_id].depends_on)
        while waiting:
            upstream = by_id[waiting.pop()]
            if upstream.id in seen:
                continue
            seen.add(upstream.id)
            if upstream.builds_table:
                found.add(upstream.id)
            else:
                waiting.extend(upstream.depends_on)
        return [s.id for s in self.steps if s.id in found]


def load_plan(
    plan: str | Path,
    *,
    target: str | None = None,
    dialect: str | None = None,
    options: api.CompileOptions | None = None,
) -> SchedulerPlan:
    """The plan of ``plan``: a compiled folder (holding plan.json), or a project folder
    (holding snowgen.yml) compiled now for ``dialect``, else for ``target``'s dialect, else for
    the project's default target; ``options`` are ``snowgen compile``'s (vars, select, ...)."""
    folder = Path(plan)
    if (folder / PLAN_FILE).is_file():
        if dialect is not None or options is not None:
            raise SnowgenError.at(
                "SG430",
                f"{folder} is a compiled plan: its dialect and options are fixed; pass a project folder "
                f"({PROJECT_FILE}) to compile one with a dialect or options",
            )
        return read_compiled_folder(folder, target)
    if (folder / PROJECT_FILE).is_file():
        return compile_project_plan(folder, target=target, dialect=dialect, options=options)
    raise SnowgenError.at(
        "SG430", f"{folder} is neither a compiled plan (no {PLAN_FILE}) nor a project (no {PROJECT_FILE})"
    )


def read_compiled_folder(folder: Path, target: str | None = None) -> SchedulerPlan:
    """The plan of a folder ``snowgen compile`` wrote: plan.json and the files it names."""
    files = {PLAN_FILE: _read(folder / PLAN_FILE)}
    document = _plan_document(files, str(folder))
    for entry in [*document["steps"], *document.get("checks", [])]:
        path = folder / entry["file"]
        if path.is_file():  # a missing one is reported by plan_of_files
            files[entry["file"]] = _read(path)
    return plan_of_files(files, target, where=str(folder))


def compile_project_plan(
    project: Path,
    *,
    target: str | None = None,
    dialect: str | None = None,
    options: api.CompileOptions | None = None,
) -> SchedulerPlan:
    options = options or api.CompileOptions()
    loaded = api.load_project(project)
    target = api.target_of(loaded, target or options.target, None)
    chosen = api.dialect_for(loaded, dialect=dialect, target=target)
    [compiled] = api.compile_loaded(loaded, [chosen.name], replace(options, target=target))
    return plan_of_files(compiled.files, target, where=str(project))


def plan_of_files(files: Mapping[str, str], target: str | None = None, where: str = "the plan") -> SchedulerPlan:
    """The plan of compiled files (plan.json and the step files it names)."""
    document = _plan_document(files, where)
    dialect = get_dialect(api.check_dialects([document["dialect"]])[0])
    complete = {module["complete"] for module in document.get("modules", []) if module.get("complete")}
    steps = []
    for raw in document["steps"]:
        text = files.get(raw["file"])
        if text is None:
            raise SnowgenError.at("SG430", f"{where}: plan.json names {raw['file']}, which is missing")
        statements = [text] if dialect.step_is_one_script else split_statements(text, dialect.sqlglot_dialect)
        steps.append(_step(raw, statements, raw["id"] in complete))
    known = {step.id for step in steps}
    for step in steps:
        unknown = [name for name in step.depends_on if name not in known]
        if unknown:
            raise SnowgenError.at(
                "SG430", f"{where}: step {step.id} depends on {', '.join(unknown)}, not a step of the plan"
            )
    return SchedulerPlan(document["project"], dialect.name, tuple(steps), target, dict(files))


def _step(raw: Mapping[str, Any], statements: list[str], completes_module: bool) -> SchedulerStep:
    return SchedulerStep(
        id=raw["id"],
        kind=raw.get("kind", ""),
        module=raw.get("module", ""),
        file=raw["file"],
        depends_on=tuple(raw.get("depends_on", ())),
        model=raw.get("model"),
        statements=tuple(statements),
        completes_module=completes_module,
        retry_safe=raw.get("retry_safe", True),
    )


def _plan_document(files: Mapping[str, str], where: str) -> dict[str, Any]:
    try:
        document = json.loads(files[PLAN_FILE])
    except KeyError:
        raise SnowgenError.at("SG430", f"{where} has no {PLAN_FILE}") from None
    except json.JSONDecodeError as exc:
        raise SnowgenError.at("SG430", f"{where}/{PLAN_FILE} is not JSON: {exc}") from None
    missing = [key for key in ("project", "dialect", "steps") if key not in document]
    if missing:
        raise SnowgenError.at("SG430", f"{where}/{PLAN_FILE} is not a snowgen plan: no {', '.join(missing)}")
    version = document.get("format_version", 1)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise SnowgenError.at(
            "SG430",
            f"{where}/{PLAN_FILE} has format_version {version}; this snowgen reads up to {FORMAT_VERSION}: "
            "upgrade snowgen where the scheduler runs, or compile with the snowgen it has",
        )
    return document


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SnowgenError.at("SG430", f"cannot read {path}: {exc}") from None


def connection_id(conn_id: ConnIds, plan: SchedulerPlan) -> str:
    """The Airflow connection id of ``plan``'s target: ``conn_id`` itself, or its entry for
    the target (SG431 when it has none, or when the plan says no target)."""
    if isinstance(conn_id, str):
        return conn_id
    if plan.target is None:
        raise SnowgenError.at(
            "SG431",
            f"the plan of {plan.project} names no target (a compiled folder): pass target= to choose one of "
            f"the connection ids' targets ({', '.join(sorted(conn_id))}), or one connection id",
        )
    if plan.target not in conn_id:
        known = ", ".join(sorted(conn_id)) or "none"
        raise SnowgenError.at(
            "SG431", f"no connection id for target '{plan.target}' (connection ids are given for: {known})"
        )
    return conn_id[plan.target]
