"""What a compiled plan says about itself: column lineage, the docs site, and the
privileges the role that runs the project needs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from snowgen.api.compiling import compile_planned, plan_loaded, target_of
from snowgen.api.options import CompileOptions
from snowgen.build.privileges import DatabaseNeeded, runner_privileges
from snowgen.build.steps import build_steps
from snowgen.dialects import NAMES
from snowgen.dialects.base import Dialect
from snowgen.dialects.grants import GranteeError
from snowgen.emit.docs_html import site_files
from snowgen.emit.lineage_text import lineage_lines, parse_column_name
from snowgen.emit.writer import write_folder
from snowgen.errors import SnowgenError
from snowgen.plan.data import Plan
from snowgen.plan.lineage import ProjectLineage, project_lineage
from snowgen.spec.loader import LoadedProject
from snowgen.text import one_line


def lineage(loaded: LoadedProject, options: CompileOptions | None = None) -> tuple[Plan, ProjectLineage]:
    """The plan a compile with ``options`` makes (the project's default target unless one
    is named), and the column-level lineage of its models (snowgen.plan.lineage)."""
    options = options or CompileOptions()
    plan = plan_loaded(loaded, replace(options, target=target_of(loaded, options.target)))
    return plan, project_lineage(plan)


def column_lineage(loaded: LoadedProject, name: str, options: CompileOptions | None = None) -> list[str]:
    """``snowgen lineage MODEL.COLUMN``: the column's lineage as lines of an indented tree."""
    plan, found = lineage(loaded, options)
    model, column = parse_column_name(name, found)
    return lineage_lines(plan, found, model, column)


def docs_site(loaded: LoadedProject, options: CompileOptions | None = None) -> dict[str, str]:
    """``snowgen docs``: the static site's files (file name -> text), every dialect compiled
    as ``snowgen compile --all`` compiles it."""
    plan, found = lineage(loaded, options)
    return site_files(plan, found, compile_planned(plan, list(NAMES), jobs=(options or CompileOptions()).jobs))


def write_docs(out: Path, files: dict[str, str]) -> Path:
    """Write the site into the folder ``out``, replacing what it held."""
    return write_folder(out, files)


def privileges(
    loaded: LoadedProject,
    dialect: Dialect,
    role: str,
    database: str | None = None,
    options: CompileOptions | None = None,
) -> list[str]:
    """The GRANT statements (and, as ``--`` comments first, what no GRANT gives) the role
    that runs the project needs on ``dialect`` (snowgen.build.privileges)."""
    plan = plan_loaded(loaded, options)
    try:
        needed = runner_privileges(plan, dialect, build_steps(plan, dialect), role, database)
    except (GranteeError, DatabaseNeeded) as exc:
        raise SnowgenError.at("SG272", f"{dialect.name}: {exc}") from None
    notes = [one_line(f"-- {note}") for note in needed.notes]
    return notes + [dialect.render(dialect.lower(s)) + ";" for s in needed.statements]
