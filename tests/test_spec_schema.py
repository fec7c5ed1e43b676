"""The editors' JSON Schemas of the spec files (snowgen.spec.schema, snowgen/schemas/): every
shipped spec validates as an editor reads it, each held mistake is refused by the schema and
by the loader alike, each shorthand the loader reads is accepted by both, the shipped files
equal the generated schemas, and every key carries a description for the editor to show."""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from snowgen.cli import main
from snowgen.spec.schema import FILES, KINDS, SHIPPED, json_schema, schema_text

REPO = Path(__file__).resolve().parents[1]
#: every spec file shipped (a project adding one is covered with no change here)
SPEC_FILES = sorted(p for p in (REPO / "model_specs").rglob("*") if p.suffix in (".yml", ".yaml"))
SCHEMAS = {kind: json_schema(kind) for kind in KINDS}
#: one validator per kind for the whole module (each compiles its schema once)
VALIDATORS = {kind: jsonschema.Draft7Validator(schema) for kind, schema in SCHEMAS.items()}
HEADER = "# yaml-language-server: $schema="


def kind_of(path: Path) -> str:
    return "project" if path.name == "snowgen.yml" else "model"


def as_an_editor_reads(value: Any) -> Any:
    """YAML as an editor gives it to the schema: an unquoted date (``2020-01-01``), which
    PyYAML reads as a date, is text (yaml-language-server reads YAML 1.2's core schema)."""
    if isinstance(value, dict):
        return {key: as_an_editor_reads(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_an_editor_reads(item) for item in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def schema_errors(kind: str, document: Any) -> list[str]:
    errors = VALIDATORS[kind].iter_errors(document)
    return [f"{'.'.join(map(str, e.absolute_path)) or '(file)'}: {e.message}" for e in errors]


def loader_accepts(kind: str, document: Any) -> bool:
    """Whether the spec model reads ``document`` (``both``: chosen as the schema chooses)."""
    if kind == "both":
        kind = "project" if isinstance(document, dict) and "project" in document else "model"
    try:
        FILES[kind][0].model_validate(document)
    except ValidationError:
        return False
    return True


def relative(path: Path) -> str:
    return path.relative_to(REPO / "model_specs").as_posix()


def test_the_schemas_are_draft_7_schemas():
    for schema in SCHEMAS.values():
        jsonschema.Draft7Validator.check_schema(schema)


@pytest.mark.parametrize("path", SPEC_FILES, ids=relative)
def test_every_shipped_spec_validates_against_its_schema_and_the_default(path):
    document = as_an_editor_reads(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert schema_errors(kind_of(path), document) + schema_errors("both", document) == []


@pytest.mark.parametrize("path", SPEC_FILES, ids=relative)
def test_every_shipped_spec_names_the_shipped_schema_of_its_kind(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(HEADER), first
    named = Path(os.path.normpath(path.parent / first[len(HEADER) :]))
    assert named == SHIPPED[kind_of(path)]


@pytest.mark.parametrize("kind", sorted(SHIPPED))
def test_the_shipped_schema_equals_the_generated_one(kind):
    # a difference: run scripts/make-schemas
    assert SHIPPED[kind].read_text(encoding="utf-8") == schema_text(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_snowgen_schema_prints_the_schema_of_a_kind(kind):
    result = CliRunner().invoke(main, ["schema", "--kind", kind])
    assert result.exit_code == 0 and result.stdout == schema_text(kind)


MODEL = {"name": "m", "sql": "select 1"}
PROJECT = {"project": "p"}
SOURCE = {"schema": "atomic", "table": "events"}
SESSIONS = {"strategy": "sessions"}

# (what is wrong, schema kind, document): refused by the schema and by the loader
MISTAKES = [
    ("a file of neither kind", "both", {"projekt": 42}),
    ("a file that is no mapping", "both", 42),
    ("unknown top-level key", "project", {**PROJECT, "sourcs": {}}),
    ("unknown nested key", "project", {**PROJECT, "sources": {"e": {**SOURCE, "colums": {}}}}),
    ("unknown key deep in a model", "model", {**MODEL, "layout": {"partition": {"column": "a", "bi": "day"}}}),
    ("unknown key in a model file of the default", "both", {**MODEL, "materialisation": "table"}),
    ("missing required key", "model", {"name": "m"}),
    ("wrong type: number for a key", "model", {**MODEL, "unique_key": 5}),
    ("wrong type: text for a boolean", "project", {**PROJECT, "run_metadata": "sometimes"}),
    ("wrong type: mapping for a list", "project", {**PROJECT, "modules": {"base": 1}}),
    ("bad enum value", "model", {**MODEL, "materialization": "tabel"}),
    ("bad strategy", "project", {**PROJECT, "incremental": {"strategy": "session"}}),
    ("bad column type in the shorthand", "model", {**MODEL, "columns": {"a": "bigintt"}}),
    ("a seed column of a type seeds refuse", "project", {**PROJECT, "seeds": {"s": {"file": "s.csv", "columns": {"a": "json"}}}}),
    ("a seed without columns", "project", {**PROJECT, "seeds": {"s": {"file": "s.csv", "columns": {}}}}),
    ("a var setting of another form", "model", {**MODEL, "enabled": "{{ var(on) }}"}),
    ("Jinja mixed into a SQL setting", "project", {**PROJECT, "incremental": {**SESSIONS, "session_sql": "{{ x }} || y"}}),
    ("a var holding nested maps", "project", {**PROJECT, "vars": {"x": {"a": {"b": 1}}}}),
    ("a name of the wrong form", "model", {**MODEL, "name": "1st"}),
    ("a bad tag", "model", {**MODEL, "tags": "two words"}),
    ("a late_data of another word", "project", {**PROJECT, "incremental": {"strategy": "watermark", "late_data": "drop"}}),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "document"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_a_held_mistake_is_refused_by_the_schema_and_the_loader(kind, document):
    assert schema_errors(kind, document) != []
    assert not loader_accepts(kind, document)


# (what is written, schema kind, document): the shapes users write, read by both
WRITTEN = [
    ("column shorthand, any case", "model", {**MODEL, "columns": {"a": " BIGINT ", "b": {"type": "decimal(18, 2)"}}}),
    ("a single tag", "model", {**MODEL, "tags": "nightly"}),
    ("order by bare columns and blocks", "model", {**MODEL, "dedupe_order_by": ["a", {"column": "b", "descending": True}]}),
    ("a boolean from a var", "model", {**MODEL, "enabled": "{{ var('on') }}", "bot_filter": False}),
    ("a list from a var", "project", {**PROJECT, "app_filter": {"allow": '{{ var("apps") }}'}}),
    ("modules from a var", "project", {**PROJECT, "extends": {"project": "../web", "modules": "{{ var('m') }}"}}),
    ("SQL or a var for identifiers", "project", {**PROJECT, "incremental": {**SESSIONS, "session_sql": "a || b", "user_sql": "{{ var('u') }}"}}),
    ("YAML 1.1's off for late_data", "project", {**PROJECT, "incremental": {"strategy": "watermark", "late_data": False}}),
    ("vars of every allowed shape", "project", {**PROJECT, "vars": {"d": "2020-01-01", "l": [1, None], "m": {"k": [True]}, "lm": [{"k": "v"}]}}),
    ("seed columns shorthand", "project", {**PROJECT, "seeds": {"s": {"file": "s.csv", "columns": {"a": "string(2)"}}}}),
    ("a model file under the default", "both", MODEL),
    ("a project file under the default", "both", {**PROJECT, "sources": {"events": SOURCE}}),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "document"), [w[1:] for w in WRITTEN], ids=[w[0] for w in WRITTEN])
def test_a_written_shape_is_accepted_by_the_schema_and_the_loader(kind, document):
    assert schema_errors(kind, document) == []
    assert loader_accepts(kind, document)


def test_every_key_has_a_description_for_the_editor():
    schema = SCHEMAS["both"]
    missing = [
        f"{name}.{key}"
        for name, definition in schema["definitions"].items()
        for key, prop in definition.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert missing == []


def test_every_block_is_closed_to_unknown_keys():
    # the spec models forbid extra keys (extra="forbid"); so does each definition
    open_blocks = [
        name for name, d in SCHEMAS["both"]["definitions"].items() if d.get("additionalProperties") is not False
    ]
    assert open_blocks == []


def test_the_package_data_holds_the_shipped_schemas():
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    globs = package_data["package-data"]["snowgen"]
    package = REPO / "snowgen"
    assert {p for g in globs for p in package.glob(g)} == set(SHIPPED.values())
