"""The library entry points the CLI calls: compile projects in memory, then write or check."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snowgen.compiler.build import build_plan
from snowgen.compiler.planner import plan_project
from snowgen.dialects import DIALECTS, get_dialect, unknown_dialect_message
from snowgen.emit import emit
from snowgen.errors import SnowgenError
from snowgen.spec.loader import LoadedProject, load_project


@dataclass(frozen=True)
class CompiledProject:
    project: str
    dialect: str
    files: dict[str, str]  # relative path -> text


def check_dialects(names: Iterable[str]) -> list[str]:
    names = list(names)
    for name in names:
        if name not in DIALECTS:
            raise SnowgenError.at("SG302", unknown_dialect_message(name))
    return names


def compile_loaded(
    loaded: LoadedProject,
    dialects: Iterable[str],
    *,
    target: str | None = None,
    cli_vars: dict[str, Any] | None = None,
    select: list[str] | None = None,
) -> list[CompiledProject]:
    plan = plan_project(loaded, target=target, cli_vars=cli_vars, select=select)
    results = []
    for name in check_dialects(dialects):
        dialect = get_dialect(name)
        results.append(CompiledProject(plan.project, name, emit(plan, dialect, build_plan(plan, dialect))))
    return results


def compile_project(path: Path, dialects: Iterable[str], **options: Any) -> list[CompiledProject]:
    return compile_loaded(load_project(path), dialects, **options)


def target_dialect(loaded: LoadedProject, target: str) -> str:
    spec = loaded.spec
    if target not in spec.targets:
        from snowgen.compiler.planner import _unknown

        raise SnowgenError.at("SG303", _unknown("target", target, spec.targets))
    return spec.targets[target].dialect
