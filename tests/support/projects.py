"""Tiny projects on disk for tests: write the YAML, compile, read statements back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from snowgen.api import CompileOptions, compile_project
from snowgen.dialects import get_dialect
from snowgen.runner.statements import split_statements

BASE_PROJECT: dict[str, Any] = {
    "project": "demo",
    "sql_dialect": "postgres",
    "schemas": {"derived": "derived", "scratch": "scratch", "manifest": "manifest"},
    "sources": {
        "events": {
            "schema": "raw",
            "table": "events",
            "timestamp": "ts",
            "columns": {
                "id": "bigint",
                "ts": "timestamp",
                "useragent": "string",
                "app_id": "string",
                "amount": "decimal(18,2)",
            },
        }
    },
}


def write_project(root: Path, models: list[dict[str, Any]], **project: Any) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    spec = {**BASE_PROJECT, **project}
    (root / "snowgen.yml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    models_dir = root / "models"
    models_dir.mkdir(exist_ok=True)
    for model in models:
        (models_dir / f"{model['name']}.yml").write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    return root


def compile_files(root: Path, dialect: str, **options: Any) -> dict[str, str]:
    """``options``: those of :class:`snowgen.api.CompileOptions`."""
    [compiled] = compile_project(root, [dialect], CompileOptions(**options))
    return compiled.files


def step_statements(files: dict[str, str], step_id: str, dialect: str) -> list[str]:
    """The statements of one step's file."""
    import json

    plan = json.loads(files["plan.json"])
    [step] = [s for s in plan["steps"] if s["id"] == step_id]
    return split_statements(files[step["file"]], get_dialect(dialect).sqlglot_dialect)
