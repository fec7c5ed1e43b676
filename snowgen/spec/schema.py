"""JSON Schema of the two spec files, for editors (yaml-language-server and the like).

The schemas come from the spec models (snowgen.spec.models), so a key added there appears
here with no other change. They describe the YAML as it is written: where a model reads a
shorthand before validating (``deal: bigint`` for a column, ``"{{ var('x') }}"`` for a setting,
a single tag without brackets), the schema gives the shapes the shorthand accepts
(``json_schema_input_type`` of the model's "before" validators), not the model's own.

Draft-07, the newest draft yaml-language-server (the VS Code YAML extension) validates
(https://github.com/redhat-developer/vscode-yaml#associating-schemas); definitions live
under ``definitions``. snowgen/schemas/ ships the output (scripts/make-schemas writes it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from snowgen.spec.models import ModelSpec, ProjectSpec

SchemaKind = Literal["project", "model", "both"]
KINDS: tuple[SchemaKind, ...] = ("project", "model", "both")
DRAFT = "http://json-schema.org/draft-07/schema#"
DEFINITIONS = "definitions"
#: the spec model and title of each file's schema
FILES: dict[str, tuple[type[BaseModel], str]] = {
    "project": (ProjectSpec, "snowgen project file (snowgen.yml)"),
    "model": (ModelSpec, "snowgen model file (models/*.yml)"),
}
#: the schemas shipped in the package, one per file kind (kept equal to json_schema by a test)
SHIPPED = {kind: Path(__file__).resolve().parents[1] / "schemas" / f"{kind}.schema.json" for kind in FILES}
BOTH_TITLE = "snowgen spec file: a project file (snowgen.yml, with a 'project' key) or a model file (models/*.yml)"


class SpecJsonSchema(GenerateJsonSchema):
    """pydantic's generator, with a mapping whose keys have a pattern closed to other keys:
    pydantic writes ``patternProperties``, which lets any key that does not match through."""

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        result = super().dict_schema(schema)
        patterns = result.pop("patternProperties", None)
        if patterns:
            ((pattern, values),) = patterns.items()
            result["propertyNames"] = {**result.get("propertyNames", {}), "pattern": pattern}
            result["additionalProperties"] = values
        return result


def json_schema(kind: SchemaKind = "both") -> dict[str, Any]:
    """The schema of one file kind; ``both``: one schema for either file, chosen by its keys
    (a file with a ``project`` key is a project file, any other a model file)."""
    if kind == "both":
        return _either_file()
    model, title = FILES[kind]
    schema = model.model_json_schema(
        by_alias=True, ref_template=f"#/{DEFINITIONS}/{{model}}", schema_generator=SpecJsonSchema
    )
    return _with_header(_definitions_renamed(schema), title)


def schema_text(kind: SchemaKind = "both") -> str:
    """The schema as ``snowgen schema`` prints it and snowgen/schemas/ holds it."""
    return json.dumps(json_schema(kind), indent=2, sort_keys=True) + "\n"


def _either_file() -> dict[str, Any]:
    models = [(model, "validation") for model, _ in FILES.values()]
    refs, schema = models_json_schema(
        models, by_alias=True, ref_template=f"#/{DEFINITIONS}/{{model}}", schema_generator=SpecJsonSchema
    )
    project, model = (refs[(cls, "validation")] for cls, _ in models)
    choice = {"if": {"type": "object", "required": ["project"]}, "then": project, "else": model}
    return _with_header(_definitions_renamed({**schema, **choice}), BOTH_TITLE)


def _definitions_renamed(schema: dict[str, Any]) -> dict[str, Any]:
    """pydantic writes draft 2020-12's ``$defs``; draft-07 names them ``definitions``. Only
    the definitions the schema refers to are kept (a model read from a shorthand, such as
    VarRef from ``"{{ var('x') }}"``, is described by the shorthand alone)."""
    schema = dict(schema)
    definitions = schema.pop("$defs", {})
    used = _referenced(schema, definitions, set())
    if used:
        schema[DEFINITIONS] = {name: definitions[name] for name in sorted(used)}
    return schema


def _referenced(node: Any, definitions: dict[str, Any], found: set[str]) -> set[str]:
    """The names of the definitions ``node`` refers to, directly or through other definitions."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        name = ref.rsplit("/", 1)[-1]
        if ref.startswith(f"#/{DEFINITIONS}/") and name not in found:
            found.add(name)
            _referenced(definitions[name], definitions, found)
        for key, value in node.items():
            if key != "discriminator":
                _referenced(value, definitions, found)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, definitions, found)
    return found


def _with_header(schema: dict[str, Any], title: str) -> dict[str, Any]:
    return {"$schema": DRAFT, **schema, "title": title}
