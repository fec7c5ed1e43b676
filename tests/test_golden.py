"""generated/ is the committed compile output of model_specs/: it must be current,
byte for byte, and every statement in it must parse back in its own dialect."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from support.commands import documented_command

from snowgen.api import compile_project
from snowgen.dialects import DIALECTS, get_dialect
from snowgen.runner.statements import split_statements
from snowgen.spec.loader import discover_projects

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "generated"
PROJECTS = discover_projects(ROOT)
OUTPUTS = sorted(p.parent for p in GENERATED.glob("*/*/plan.json"))


def on_disk(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in folder.rglob("*") if p.is_file()}


def test_every_project_and_dialect_has_golden_output():
    expected = {(p.name, d) for p in PROJECTS for d in DIALECTS}
    assert {(o.parent.name, o.name) for o in OUTPUTS} == expected


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_generated_matches_a_fresh_compile(project, dialect):
    [compiled] = compile_project(project, [dialect])
    assert compiled.files == on_disk(GENERATED / project.name / dialect)


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_compiling_twice_gives_identical_text(project):
    first = {c.dialect: c.files for c in compile_project(project, list(DIALECTS))}
    second = {c.dialect: c.files for c in compile_project(project, list(DIALECTS))}
    assert first == second


def golden_statements():
    for folder in OUTPUTS:
        dialect = folder.name
        for path in sorted(folder.rglob("*.sql")):
            for index, text in enumerate(
                split_statements(path.read_text(encoding="utf-8"), get_dialect(dialect).sqlglot_dialect)
            ):
                yield pytest.param(dialect, text, id=f"{path.relative_to(GENERATED)}#{index + 1}")


@pytest.mark.parametrize("dialect,statement", list(golden_statements()))
def test_statement_parses_back_in_its_dialect(dialect, statement):
    parsed = sqlglot.parse(statement, read=get_dialect(dialect).sqlglot_dialect)
    assert len(parsed) == 1 and parsed[0] is not None
    if documented_command(dialect, statement):
        return
    assert not isinstance(parsed[0], exp.Command) and parsed[0].find(exp.Command) is None
