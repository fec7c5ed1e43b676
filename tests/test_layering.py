"""The stages import one way: spec (load) -> plan -> build -> emit, then the runner and the API.

Every ``import`` in snowgen/ counts, also those inside functions and under TYPE_CHECKING: a
stage that reaches a later one, even lazily, no longer reads on its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import snowgen

PACKAGE = Path(snowgen.__file__).resolve().parent
SHARED = {"snowgen", "snowgen.errors", "snowgen.text", "snowgen.names", "snowgen.folders", "snowgen.masking"}

#: package -> the snowgen modules it may import (a prefix allows the package and below;
#: "snowgen.dialects" exactly is the dialect names, with no dialect class)
ALLOWED: dict[str, set[str]] = {
    "snowgen.spec": {"snowgen.spec"},
    "snowgen.dialects": {"snowgen.dialects"},
    "snowgen.plan": {"snowgen.spec", "snowgen.plan", "=snowgen.dialects"},
    "snowgen.build": {"snowgen.plan", "snowgen.build", "snowgen.dialects", "=snowgen.spec.models"},
    # the build cache fingerprints the plan, whose data includes the spec's documents
    "snowgen.emit": {
        "snowgen.plan",
        "snowgen.build",
        "snowgen.dialects",
        "snowgen.emit",
        "=snowgen.spec.yaml_source",
        "=snowgen.spec.csv_source",
    },
    "snowgen.runner": {"snowgen.runner", "snowgen.dialects", "snowgen.spec"},
    # schedulers over compiled plans: the library surface and the runner's connections
    "snowgen.integrations": {
        "snowgen.integrations",
        "snowgen.api",
        "snowgen.runner",
        "snowgen.dialects",
        "=snowgen.spec.loader",
    },
}


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = PACKAGE.parent / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imported_modules(path: Path) -> set[str]:
    """Every snowgen module ``path`` imports, anywhere in the file (snowgen uses absolute
    imports only: ruff's TID252 would report a relative one)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if _is_module(f"{node.module}.{a.name}")}
    return {name for name in found if name == "snowgen" or name.startswith("snowgen.")}


def allows(rules: set[str], name: str) -> bool:
    if name in SHARED:
        return True
    return any(
        name == rule[1:] if rule.startswith("=") else name == rule or name.startswith(rule + ".") for rule in rules
    )


def violations(package: str, root: Path = PACKAGE) -> list[str]:
    """'file imports module' for each import of ``package`` (a stage) its rules forbid."""
    found = []
    for path in sorted((root / package.split(".")[1]).rglob("*.py")):
        for name in sorted(imported_modules(path)):
            if not allows(ALLOWED[package], name):
                found.append(f"{path.relative_to(root.parent).as_posix()} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_stage_imports_no_later_stage(package):
    assert violations(package) == []


def test_every_module_is_in_a_stage_or_shared():
    top = {module_name(p) for p in PACKAGE.glob("*.py")} | {module_name(p) for p in PACKAGE.glob("*/__init__.py")}
    assert top - SHARED - set(ALLOWED) == {"snowgen.api", "snowgen.cli"}


def test_the_check_sees_a_planted_import(tmp_path):
    planted = tmp_path / "snowgen" / "plan" / "planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from snowgen.emit import render\n"
        "def later():\n    from snowgen.build.steps import BUILDERS\n    import snowgen.runner.session\n",
        encoding="utf-8",
    )
    assert violations("snowgen.plan", tmp_path / "snowgen") == [
        "snowgen/plan/planted.py imports snowgen.build.steps",
        "snowgen/plan/planted.py imports snowgen.emit",
        "snowgen/plan/planted.py imports snowgen.emit.render",
        "snowgen/plan/planted.py imports snowgen.runner.session",
    ]


def test_the_plan_stage_loads_no_dialect_class():
    """The planner checks dialect names only; no dialect module is imported with it."""
    import subprocess
    import sys

    code = "import sys, snowgen.plan.planner; print(sorted(m for m in sys.modules if m.startswith('snowgen.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "snowgen.plan.planner" in loaded
    assert "snowgen.dialects.base" not in loaded and "snowgen.build" not in loaded
