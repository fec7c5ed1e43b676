"""The spec's common pieces: field types, the Spec base every model builds on, settings
read from vars (``"{{ var('name') }}"``), columns, paths inside the project and vars' values.

The models of the YAML files are in snowgen.spec.models (which re-exports these names),
snowgen.spec.sources, snowgen.spec.strategies and snowgen.spec.project.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import PurePosixPath
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    field_validator,
)

from snowgen.names import canonical

# A name snowgen quotes when it emits it. Any non-empty text without NUL or newline is
# allowed: hostile names (quotes, reserved words, dots) are quoted, never spliced. Plain
# names are case-insensitive and stored in lower case (see snowgen.names).
Name = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\x00\r\n]+$"), AfterValidator(canonical)]
# Names that also become file names or Jinja names: a conservative form.
SIMPLE_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
SimpleName = Annotated[str, Field(pattern=SIMPLE_NAME_PATTERN, max_length=120), AfterValidator(canonical)]

# A tag (``tags:`` of a model, ``--select tag:NAME``): exact, no space or comma, which
# separate selectors on the command line.
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,119}$")


def _tag(value: str) -> str:
    if not TAG_PATTERN.match(value):
        raise ValueError(f"'{value}' is not a valid tag: use letters, digits, '_', '-' and '.' (at most 120)")
    return value


# (the pattern shows in the JSON Schema; the validator words the error)
Tag = Annotated[str, Field(json_schema_extra={"pattern": TAG_PATTERN.pattern}), AfterValidator(_tag)]

LOGICAL_TYPE_PATTERN = re.compile(
    r"^(string|string\(\d+\)|int|bigint|decimal\(\d+,\s*\d+\)|double|boolean|date|timestamp|timestamptz|json)$"
)


def any_case(pattern: str) -> str:
    """``pattern`` matching its letters in either case (JSON Schema patterns take no flags)."""
    return re.sub(r"(?<!\\)[A-Za-z]", lambda m: f"[{m[0].lower()}{m[0].upper()}]", pattern)


def type_as_written(pattern: re.Pattern) -> dict[str, str]:
    """The JSON Schema of a column type as written: the loader strips it and reads it in lower case."""
    return {"pattern": r"^\s*" + any_case(pattern.pattern[1:-1]) + r"\s*$"}


LogicalType = Annotated[str, Field(json_schema_extra=type_as_written(LOGICAL_TYPE_PATTERN))]


class Spec(BaseModel):
    # A field's docstring is its description in the JSON Schema (snowgen.spec.schema).
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, use_attribute_docstrings=True)


# -- settings read from vars ---------------------------------------------------------------

# ``"{{ var('name') }}"``: the whole value of a setting is a var's (dbt's spelling).
VAR_SETTING = re.compile(r"""^\{\{\s*var\(\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\1\s*\)\s*\}\}$""")


#: how a setting from a var is written (the JSON Schema of ``"{{ var('name') }}"``)
VarText = Annotated[
    str,
    Field(
        pattern=r"""^\s*\{\{\s*var\(\s*('[A-Za-z_][A-Za-z0-9_]*'|"[A-Za-z_][A-Za-z0-9_]*")\s*\)\s*\}\}\s*$""",
        description="""the value of a var, written "{{ var('name') }}" and nothing else""",
    ),
]


class VarRef(Spec):
    """A setting whose value is the var ``var``, read when the project is planned (so a
    target's vars and ``--vars`` change it): written ``"{{ var('name') }}"`` in YAML.
    snowgen.plan.var_settings replaces every one before anything reads the spec."""

    var: SimpleName

    def __bool__(self) -> bool:
        # A setting read before its var was (a bug) must fail, never count as true.
        raise TypeError(f"the setting from var '{self.var}' is read before the vars are applied")


def var_setting(value: Any) -> Any:
    """Read ``"{{ var('name') }}"`` as a VarRef; other Jinja is not allowed in settings."""
    if isinstance(value, str) and "{{" in value:
        match = VAR_SETTING.match(value.strip())
        if match is None:
            raise ValueError("""a setting taken from a var is written "{{ var('name') }}" and nothing else""")
        return {"var": match.group(2)}
    return value


def _bool_setting(value: Any) -> Any:
    value = var_setting(value)
    if isinstance(value, dict) and set(value) == {"var"}:
        return value
    try:
        return _BOOL.validate_python(value)
    except ValidationError:
        raise ValueError("""input should be true or false, or "{{ var('name') }}" """.strip()) from None


_BOOL = TypeAdapter(bool)

#: a boolean setting, or the var that holds it
VarBool = Annotated[bool | VarRef, BeforeValidator(_bool_setting, json_schema_input_type=bool | VarText)]


# -- shared blocks -----------------------------------------------------------------------


class ColumnSpec(Spec):
    """A column: its logical type (``name: type`` is short for ``name: {type: type}``)."""

    type: LogicalType
    """string, string(n), int, bigint, decimal(p,s), double, boolean, date, timestamp, timestamptz or json"""
    description: str | None = None
    """What the column holds."""

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        value = value.strip().lower()
        if not LOGICAL_TYPE_PATTERN.match(value):
            raise ValueError(
                "unknown type; expected one of string, string(n), int, bigint, decimal(p,s), "
                "double, boolean, date, timestamp, timestamptz, json"
            )
        return value


#: ``columns:`` as written: each column a type, or a mapping with its type and description
ColumnsAsWritten = dict[Name, LogicalType | ColumnSpec]


def columns_from_mapping(value: Any) -> Any:
    """Accept ``{name: type}`` as shorthand for ``{name: {type: type}}``."""
    if isinstance(value, dict):
        return {k: ({"type": v} if isinstance(v, str) else v) for k, v in value.items()}
    return value


def inside_project(value: str, example: str) -> str:
    """``value`` as a path inside the project: relative, without '..' (the compiled output
    must not depend on where the project is checked out)."""
    path = PurePosixPath(value.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not value.strip():
        raise ValueError(f"must be a path inside the project, relative to snowgen.yml (e.g. {example})")
    return path.as_posix()


def sample_path(value: str) -> str:
    """A sample file lives inside the project, like a seed file."""
    return inside_project(value, "samples/events.csv")


# -- vars' values --------------------------------------------------------------------------


def check_var_value(name: str, item: Any) -> None:
    """A var holds text, a finite number, a boolean, a date or NULL (each has a SQL literal),
    a list of those, or settings for Jinja loops: a map of names to such values, or a list of
    maps (Snowplow's conversion definitions, passthroughs). ``--vars`` values follow the
    same rule."""
    try:
        _var_value(item)
    except ValueError as exc:
        raise ValueError(f"var '{name}': {exc}") from None


def _var_value(item: Any) -> Any:
    if isinstance(item, list):
        for element in item:
            _var_map(element) if isinstance(element, dict) else _var_scalar(element, "list items")
    elif isinstance(item, dict):
        _var_map(item)
    else:
        _var_scalar(item, "values")
    return item


def _var_map(item: dict) -> None:
    for key, value in item.items():
        if not isinstance(key, str) or not re.match(SIMPLE_NAME_PATTERN, key):
            raise ValueError(f"the keys of a map are plain names (letters, digits, '_'), not {key!r}")
        for element in value if isinstance(value, list) else [value]:
            _var_scalar(element, f"values of '{key}'")


def _var_scalar(element: Any, what: str) -> None:
    allowed = (str, int, float, bool, dt.date, type(None))
    if isinstance(element, (list, dict)) or not isinstance(element, allowed):
        raise ValueError(f"{what} must be text, numbers, booleans, dates or null, not {type(element).__name__}")
    if isinstance(element, float) and not math.isfinite(element):
        raise ValueError(f"{element} has no SQL literal; use a finite number")


_VAR_SCALAR = {"type": ["string", "number", "boolean", "null"]}
_VAR_MAP = {
    "type": "object",
    "propertyNames": {"pattern": SIMPLE_NAME_PATTERN},
    "additionalProperties": {"anyOf": [_VAR_SCALAR, {"type": "array", "items": _VAR_SCALAR}]},
}
#: the JSON Schema of a var's value (the rule of check_var_value; a date is written as text)
VAR_VALUE_SCHEMA = {"anyOf": [_VAR_SCALAR, _VAR_MAP, {"type": "array", "items": {"anyOf": [_VAR_SCALAR, _VAR_MAP]}}]}
VarValue = Annotated[Any, AfterValidator(_var_value), WithJsonSchema(VAR_VALUE_SCHEMA)]
