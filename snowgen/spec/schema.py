"""JSON Schema of the two spec files, for editors (yaml-language-server and the like)."""

from __future__ import annotations

from typing import Any

from snowgen.spec.models import ModelSpec, ProjectSpec


def json_schema(kind: str = "both") -> dict[str, Any]:
    schemas = {
        "project": _with_title(ProjectSpec.model_json_schema(by_alias=True), "snowgen project file (snowgen.yml)"),
        "model": _with_title(ModelSpec.model_json_schema(by_alias=True), "snowgen model file (models/*.yml)"),
    }
    return schemas if kind == "both" else schemas[kind]


def _with_title(schema: dict[str, Any], title: str) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": title}
