"""The spec language: pydantic models that mirror the YAML files one to one.

These models check *shape* only (types, allowed keys, simple formats). Everything that
needs the whole project (references, dialect defaults, cycles) is the planner's job.
Field names equal the YAML keys, so a validation error's ``loc`` is a YAML path.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from snowgen.names import canonical
from snowgen.spec.env_vars import check_value

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


def _type_as_written(pattern: re.Pattern) -> dict[str, str]:
    """The JSON Schema of a column type as written: the loader strips it and reads it in lower case."""
    return {"pattern": r"^\s*" + any_case(pattern.pattern[1:-1]) + r"\s*$"}


LogicalType = Annotated[str, Field(json_schema_extra=_type_as_written(LOGICAL_TYPE_PATTERN))]


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


def _var_setting(value: Any) -> Any:
    """Read ``"{{ var('name') }}"`` as a VarRef; other Jinja is not allowed in settings."""
    if isinstance(value, str) and "{{" in value:
        match = VAR_SETTING.match(value.strip())
        if match is None:
            raise ValueError("""a setting taken from a var is written "{{ var('name') }}" and nothing else""")
        return {"var": match.group(2)}
    return value


def _bool_setting(value: Any) -> Any:
    value = _var_setting(value)
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


def _tags_from_text(value: Any) -> Any:
    """Accept ``tags: nightly`` as shorthand for ``tags: [nightly]`` (as dbt does)."""
    return [value] if isinstance(value, str) else value


#: ``columns:`` as written: each column a type, or a mapping with its type and description
ColumnsAsWritten = dict[Name, LogicalType | ColumnSpec]


def _columns_from_mapping(value: Any) -> Any:
    """Accept ``{name: type}`` as shorthand for ``{name: {type: type}}``."""
    if isinstance(value, dict):
        return {k: ({"type": v} if isinstance(v, str) else v) for k, v in value.items()}
    return value


class BotFilterSpec(Spec):
    """Drop events whose user agent contains any pattern (case-insensitive substring)."""

    enabled: VarBool = True
    """false: the filter is off (keeps every event)."""
    column: Name = "useragent"
    """The column of the events holding the user agent."""
    patterns: (
        Literal["snowplow"]
        | Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(json_schema_extra={"minItems": 1})]
    ) = "snowplow"
    """``snowplow`` (Snowplow's list of bot user agents), or literal substrings (not regular expressions)."""

    @field_validator("patterns")
    @classmethod
    def _non_empty(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise ValueError("at least one pattern is required; use 'enabled: false' to switch the filter off")
        return value


AppId = Annotated[str, Field(max_length=255)]


class AppFilterSpec(Spec):
    """Keep only events whose app id is in ``allow`` (an empty list keeps every event)."""

    enabled: VarBool = True
    """false: the filter is off (keeps every event)."""
    column: Name = "app_id"
    """The column of the events holding the app id."""
    allow: Annotated[
        list[AppId] | VarRef, BeforeValidator(_var_setting, json_schema_input_type=list[AppId] | VarText)
    ] = []
    """The app ids kept (an empty list keeps every event), or the var holding them."""


class PartitionSpec(Spec):
    """Partition the table by a date or timestamp column."""

    column: Name
    """The date or timestamp column."""
    by: Literal["day", "hour", "month"] = "day"
    """The partition's grain."""


class LayoutOverride(Spec):
    """Per-dialect replacement of any part of the logical layout; ``null`` removes it."""

    partition: PartitionSpec | None = None
    """Partition by a date or timestamp column (BigQuery, Databricks; a cluster key elsewhere)."""
    cluster: list[Name] | None = None
    """Cluster (Snowflake, BigQuery, Databricks) or sort (Redshift) by these columns."""
    sort: list[Name] | None = None
    """Redshift: the sort key's columns."""
    dist: Name | None = None
    """Redshift: the distribution key's column."""
    indexes: list[list[Name]] | None = None
    """Postgres and DuckDB: an index on each list of columns."""
    clustering: Literal["partition", "liquid"] | None = None
    """Databricks: partition by a date column (default) or liquid clustering."""


class LayoutSpec(LayoutOverride):
    """One logical physical layout; each dialect renders its native form."""

    dialects: dict[str, LayoutOverride] = {}
    """Per dialect (its name), parts of the layout that replace the logical ones."""


# -- sources ------------------------------------------------------------------------------


def _sample_path(value: str) -> str:
    """A sample file lives inside the project, like a seed file."""
    return _inside_project(value, "samples/events.csv")


class SourceInstance(Spec):
    """One instance of a source: where its table differs from the source's."""

    schema_: Name | None = Field(default=None, alias="schema")
    """The instance's schema (default: the source's)."""
    table: Name | None = None
    """The instance's table (default: the source's)."""
    database: Name | None = None
    """The instance's database or catalog (default: the source's)."""


class SourceSpec(Spec):
    """A table the models read, named by its key in their bodies."""

    schema_: Name = Field(alias="schema")
    """The source table's schema."""
    table: Name
    """The source table."""
    database: Name | None = None
    """The source table's database or catalog (default: the connection's)."""
    timestamp: Name | None = None
    """The event timestamp column (what a watermark advances on)."""
    columns: dict[Name, ColumnSpec] = {}
    """The source's columns: ``name: type`` or ``name: {type, description}``."""
    instances: dict[SimpleName, SourceInstance] = {}
    """A source that exists once per instance (one table per server, shard or region)."""
    description: str | None = None
    """What the source holds."""
    sample: Annotated[str, AfterValidator(_sample_path)] | None = None
    """A CSV of example rows that ``snowgen sample-data`` loads into the source's tables."""

    _normalise_columns = field_validator("columns", mode="before", json_schema_input_type=ColumnsAsWritten)(
        _columns_from_mapping
    )


# -- incremental strategies ------------------------------------------------------------------


# Prefix of the tables a strategy generates.
TablePrefix = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]*$"), AfterValidator(str.lower)]


# The types a context's field may have: JSON's scalars (a schema's string, boolean, integer
# and number), which every loader stores as the warehouse's own type of that name; and, for a
# self-describing event, an array of strings, read as its items joined by ', '.
ContextFieldType = Literal["string", "boolean", "int", "bigint", "double", "array"]


class SessionContextSpec(Spec):
    """A context (entity) or self-describing event whose fields the events of the run carry."""

    name: SimpleName
    """The context's name in the spec."""
    enabled: VarBool = True
    """false: the events of the run do not carry this context."""
    kind: Literal["entity", "event"] = "entity"
    """entity: a context (an array of entities attached to the event; the first is read);
    event: the self-describing event itself (one record per event: unstruct_event_...)."""
    schema_: Annotated[str, Field(pattern=r"^iglu:[A-Za-z0-9_.\-]+/[A-Za-z0-9_\-]+/jsonschema/\d+-\d+-\d+$")] = Field(
        alias="schema"
    )
    """The context's Iglu URI (iglu:vendor/name/jsonschema/1-0-0)."""
    fields: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], Name]
    """Context field (as the schema spells it, e.g. spiderOrRobot; each dialect reads it under
    the name its loader gives it) -> output column. The first entity of the context is read
    (Snowplow's single-entity contexts)."""
    types: dict[str, ContextFieldType] = {}
    """The type of each field that is not a string (the schema's boolean, integer and number
    fields); every other field is a string."""
    columns: Annotated[list[Name], Field(min_length=1, max_length=20)] | None = None
    """Where contexts are nested columns of the events table (BigQuery, Snowflake, Databricks):
    the columns holding this context, each field read from the first column in this order that
    has it. Default: the loaders' major-version column, contexts_<vendor>_<name>_<major>."""

    @field_validator("columns")
    @classmethod
    def _distinct_columns(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("a column is listed twice")
        return value

    sample: Annotated[str, AfterValidator(_sample_path)] | None = None
    """A CSV of example entities (root_id, root_tstamp and the fields) for ``snowgen sample-data``."""

    @field_validator("types")
    @classmethod
    def _types_of_fields(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        unknown = sorted(set(value) - set(info.data.get("fields", {})))
        if unknown:
            raise ValueError(f"types names fields the context does not read: {', '.join(unknown)}")
        return value

    @model_validator(mode="after")
    def _events_fields(self) -> SessionContextSpec:
        if self.kind == "entity" and "array" in self.types.values():
            raise ValueError("an array field is read from a self-describing event only (kind: event)")
        if self.kind == "event" and self.sample is not None:
            raise ValueError("a sample fills a context's entities; a self-describing event takes none")
        return self

    def field_type(self, field: str) -> str:
        """The logical type of ``field`` (a key of ``fields``)."""
        return self.types.get(field, "string")


class IdentifierSpec(Spec):
    """One place a session or user identifier is read from, in the form of Snowplow's
    ``session_identifiers``: ``schema: atomic`` and a column of the events table, or an
    entity (context: its Iglu URI, or its table or column as the loader names it) and its
    field as the schema spells it (each dialect reads it under its loader's name)."""

    schema_: Annotated[str, Field(min_length=1, max_length=255)] = Field(alias="schema")
    """``atomic`` (a column of the events table), or the entity: its Iglu URI, or its table or
    column as the loader names it."""
    field: Annotated[str, Field(pattern=SIMPLE_NAME_PATTERN, max_length=255)]
    """The column, or the entity's field as its schema spells it."""
    prefix: str | None = None
    """Snowplow's column prefix for Redshift and Postgres: accepted (a Snowplow value works as it
    is) and not needed, since each entity is read in a subquery of its own."""


#: Snowplow's identifier list, or the var that holds it
VarIdentifiers = Annotated[
    list[IdentifierSpec] | VarRef | None,
    BeforeValidator(_var_setting, json_schema_input_type=list[IdentifierSpec] | VarText | None),
]
#: SQL text holding no Jinja (a setting's value is either SQL or a var, never a mix)
SqlText = Annotated[str, Field(pattern=r"^(?![\s\S]*\{\{)")]
#: a SQL expression as text, or the var that holds it
VarSql = Annotated[str | VarRef | None, BeforeValidator(_var_setting, json_schema_input_type=SqlText | VarText | None)]


class SessionsStrategySpec(Spec):
    """Snowplow's sessionised incremental logic (manifest, lifecycle, quarantine)."""

    strategy: Literal["sessions"]
    """sessions: Snowplow's sessionised incremental logic."""
    source: SimpleName = "events"
    """The events source."""
    module: SimpleName = "base"
    """The module of the generated base tables."""
    prefix: TablePrefix | None = None
    """Prefix of the generated base tables (default: '<project>_')."""
    session_id: Name | list[Name] = "domain_sessionid"
    """The column (or columns) of the events of the run that carry the session identifier."""
    user_id: Name | list[Name] = "domain_userid"
    """The column (or columns) of the events of the run that carry the user identifier."""
    # Where the identifiers are read from (Snowplow's session_identifiers / session_sql and
    # user_identifiers / user_sql; snowgen.plan.identifiers): a list coalesced in order, or
    # a SQL expression over the events, which wins. Unset (or empty): session_id / user_id.
    session_identifiers: VarIdentifiers = None
    """Where the session identifier is read from: a list coalesced in order (default: session_id)."""
    session_sql: VarSql = None
    """A SQL expression over the events giving the session identifier (wins over session_identifiers)."""
    user_identifiers: VarIdentifiers = None
    """Where the user identifier is read from: a list coalesced in order (default: user_id)."""
    user_sql: VarSql = None
    """A SQL expression over the events giving the user identifier (wins over user_identifiers)."""
    session_timestamp: Name = "collector_tstamp"
    """The timestamp a session's lifecycle is tracked on."""
    event_id: Name = "event_id"
    """The column identifying an event (duplicates are removed on it)."""
    contexts: list[SessionContextSpec] = []
    """Contexts and self-describing events whose fields become columns of the events of the run."""
    stale_after_hours: int = Field(default=24, ge=1, le=87600)
    """``snowgen health``: the events table is stale when it holds no event stamped in the last
    this many hours."""
    lag_after_hours: int = Field(default=24, ge=1, le=87600)
    """``snowgen health``: a manifest model lags when its last_success is this many hours behind
    the most advanced model's."""


def _off_when_false(value: Any) -> Any:
    """YAML 1.1 reads an unquoted ``off`` (and ``no``) as false: that is ``off``."""
    return "off" if value is False else value


class WatermarkStrategySpec(Spec):
    """One watermark per (model, source): each model that names a source in ``watermark``
    reads only that source's rows from its own watermark minus ``lookback_hours`` on."""

    strategy: Literal["watermark"]
    """watermark: one watermark per model and source."""
    lookback_hours: int = Field(default=0, ge=0, le=87600)
    """Rows arriving up to this many hours behind the watermark are still read (re-read rows are
    upserted again, so they change nothing)."""
    stale_after_hours: int = Field(default=24, ge=1, le=87600)
    """The health view flags a watermark older than this many hours (a dormant source)."""
    clock_skew_minutes: int = Field(default=60, ge=0, le=525600)
    """Rows stamped more than this many minutes after the warehouse's clock wait until then (a
    broken clock must not move a watermark past the rows still to come)."""
    late_data: Annotated[
        Literal["reprocess", "report", "off"],
        BeforeValidator(_off_when_false, json_schema_input_type=Literal["reprocess", "report", "off", False]),
    ] = "reprocess"
    """Rows stamped below a watermark that land after it moved (late rows): each run records the
    intervals of timestamps it read and how many rows each held. reprocess: the next run reads
    intervals that hold more rows now again; report: ``snowgen health`` reports them; off:
    nothing is recorded."""
    late_data_horizon_hours: int = Field(default=72, ge=1, le=87600)
    """Only intervals ending less than this many hours before the watermark are checked."""
    module: SimpleName = "watermarks"
    """The module of the generated watermark tables."""
    prefix: TablePrefix | None = None
    """Prefix of the generated tables (default: '<project>_')."""


# Project strategies, told apart by their ``strategy`` key.
IncrementalSpec = Annotated[SessionsStrategySpec | WatermarkStrategySpec, Field(discriminator="strategy")]


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


# -- seeds ---------------------------------------------------------------------------------------

# Logical types a seed column may have: each has a literal every warehouse reads the same way.
SEED_TYPE_PATTERN = re.compile(
    r"^(string|string\(\d+\)|int|bigint|decimal\(\d+,\s*\d+\)|double|boolean|date|timestamp)$"
)


def _project_relative(value: str) -> str:
    """A seed file lives inside the project: a relative path without '..' (the compiled
    output embeds its rows, so it must not depend on where the project is checked out)."""
    return _inside_project(value, "seeds/countries.csv")


def _project_folder(value: str) -> str:
    """The models folder lives inside the project: every YAML file under it is read, and
    from '/' that would be the whole disk."""
    return _inside_project(value, "models")


def _inside_project(value: str, example: str) -> str:
    path = PurePosixPath(value.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not value.strip():
        raise ValueError(f"must be a path inside the project, relative to snowgen.yml (e.g. {example})")
    return path.as_posix()


SeedType = Annotated[str, Field(json_schema_extra=_type_as_written(SEED_TYPE_PATTERN))]


class SeedColumnSpec(ColumnSpec):
    """A seed column: its type has a literal every warehouse reads the same way."""

    type: SeedType
    """string, string(n), int, bigint, decimal(p,s), double, boolean, date or timestamp"""


class SeedSpec(Spec):
    """A lookup table shipped with the project as a CSV file (a header row, then one row per
    line), (re)loaded by every run into ``<schema>.<seed name>``."""

    file: Annotated[str, AfterValidator(_project_relative)]
    """The CSV file, relative to snowgen.yml (e.g. seeds/countries.csv)."""
    description: str | None = None
    """What the seed holds."""
    schema_: Literal["derived", "scratch", "manifest"] = Field(default="scratch", alias="schema")
    """One of the project's schema keys (default scratch: reloaded by every run, like the scratch tables)."""
    columns: Annotated[dict[Name, SeedColumnSpec], Field(min_length=1)]
    """The CSV's columns in order: ``name: type`` or ``name: {type, description}``."""

    _normalise_columns = field_validator(
        "columns",
        mode="before",
        json_schema_input_type=Annotated[dict[Name, SeedType | SeedColumnSpec], Field(min_length=1)],
    )(_columns_from_mapping)

    @field_validator("columns")
    @classmethod
    def _loadable_types(cls, value: dict[str, ColumnSpec]) -> dict[str, ColumnSpec]:
        for name, column in value.items():
            if not SEED_TYPE_PATTERN.match(column.type):
                raise ValueError(
                    f"column '{name}' is {column.type}; a seed column is string, string(n), int, bigint, "
                    "decimal(p,s), double, boolean, date or timestamp"
                )
        return value


# -- grants ------------------------------------------------------------------------------------

# A grantee exactly as the warehouse spells it: a role (Postgres, Redshift, Snowflake), a user,
# ``group NAME`` (Redshift), a principal or group (Databricks), an IAM principal such as
# ``group:analysts@example.com`` (BigQuery). The dialect quotes it; it is never spliced.
Grantee = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\x00\r\n]+$")]
# One list for every warehouse, or a list per warehouse (a warehouse not named gets none), or
# "{{ var('name') }}" naming a var that holds either.
Grantees = Annotated[
    list[Grantee] | dict[str, list[Grantee]] | VarRef,
    BeforeValidator(_var_setting, json_schema_input_type=list[Grantee] | dict[str, list[Grantee]] | VarText),
]


class ModelGrantsSpec(Spec):
    """Privileges on a model's table or view, granted after every run of its step."""

    select: Grantees = Field(
        default=[], description="who may read the model: a list, or a list per warehouse (dialect name -> list)"
    )
    # true: the project's ``grants.select`` too; false: these replace it (dbt's default)
    inherit: bool = Field(default=False, description="also grant the project's grants.select (else these replace it)")


class SchemaGrantsSpec(Spec):
    """Privileges on one of the project's schemas, granted once per run after the schemas
    are created: ``usage`` of the schema, ``select`` on the tables it will hold (Snowflake's
    FUTURE grants, Postgres' and Redshift's default privileges, BigQuery's and Databricks'
    grants on the dataset or schema, which cover its tables)."""

    usage: Grantees = Field(default=[], description="who may use the schema (USAGE; Databricks USE SCHEMA)")
    select: Grantees = Field(default=[], description="who may read the tables and views the schema will hold")


class ProjectGrantsSpec(Spec):
    """``grants:`` of the project: ``select`` is the default of every model in the derived
    schema; ``schemas`` grants on the project's schemas by key."""

    select: Grantees = Field(
        default=[], description="who may read each model of the derived schema (a model's grants replace it)"
    )
    schemas: dict[Literal["derived", "scratch", "manifest"], SchemaGrantsSpec] = Field(
        default={}, description="grants on the project's schemas, by key"
    )
    # false: no grant of the project or its models is compiled (e.g. from a var, so a target
    # whose warehouse has the roles switches them on)
    enabled: VarBool = Field(default=True, description="false: compile no grant of the project or its models")


# -- project -----------------------------------------------------------------------------------


# A connection setting: the database client's own keyword argument (``account``, ``warehouse``,
# ``private_key_file``, ...; case kept) and its value, in which ``{{ env_var('NAME') }}`` is
# read from the environment when snowgen connects (snowgen.spec.env_vars).
SettingKey = Annotated[str, Field(pattern=SIMPLE_NAME_PATTERN, max_length=120)]
SettingText = Annotated[StrictStr, Field(max_length=10_000), AfterValidator(check_value)]
SettingScalar = SettingText | StrictBool | StrictInt | StrictFloat
# a mapping for the settings that take one (Snowflake's session_parameters, BigQuery's labels)
SettingValue = SettingScalar | dict[SettingKey, SettingScalar]
DatabaseUrl = Annotated[StrictStr, AfterValidator(check_value)]


class TargetSpec(Spec):
    """Where a command compiles for and runs: a dialect, a database, vars."""

    dialect: str
    """The warehouse: bigquery, databricks, duckdb, postgres, redshift or snowflake."""
    db: DatabaseUrl | None = None
    """The database ``snowgen run`` uses: a URL, or a DuckDB file relative to the project folder."""
    allow_refresh: bool = False
    """true: ``--full-refresh`` may drop this target's incremental state."""
    vars: dict[SimpleName, VarValue] = {}
    """Vars over the project's."""
    connection: dict[SettingKey, SettingValue] = {}
    """The database client's own connection settings; ``{{ env_var('NAME') }}`` in a value is
    read from the environment when snowgen connects."""


class ProfileTargetSpec(Spec):
    """A target in the profiles file (outside the repository): where and how to connect.
    Over a target of the project it replaces ``dialect`` and ``db`` and adds or replaces
    connection settings one by one; what a target compiles (``vars``) and may drop
    (``allow_refresh``) stay in the project."""

    dialect: str | None = None
    """The warehouse (replaces the project target's)."""
    db: DatabaseUrl | None = None
    """The database URL or DuckDB file (replaces the project target's)."""
    connection: dict[SettingKey, SettingValue] = {}
    """Connection settings added to or replacing the project target's, one by one."""


class ProfileSpec(Spec):
    """One project's entry of the profiles file."""

    targets: dict[SimpleName, ProfileTargetSpec] = {}
    """The project's targets, by name."""


class SchemasSpec(Spec):
    """The three schemas models and generated tables live in."""

    derived: Name = "derived"
    """Final tables (the default schema of models)."""
    scratch: Name = "scratch"
    """Per-run tables and upsert stages."""
    manifest: Name = "snowgen_manifest"
    """Incremental state (manifests, watermarks, run metadata)."""


class DialectSettings(Spec):
    """Project-wide per-dialect choices."""

    upsert: Literal["merge", "delete_insert"] | None = None
    """How incremental models are upserted on this dialect (default: the dialect's own)."""


def _modules_setting(value: Any) -> Any:
    """A list of module names, or ``"{{ var('name') }}"`` naming a var that holds one."""
    value = _var_setting(value)
    if isinstance(value, (list, dict)):
        return value
    raise ValueError("""expected a list of module names, or "{{ var('name') }}" naming a var that holds one""")


def _relative_folder(value: str) -> str:
    """The extended project's folder: relative to snowgen.yml ('..' allowed), so that the
    compiled output does not depend on where the projects are checked out."""
    path = PurePosixPath(value.replace("\\", "/"))
    if path.is_absolute() or not value.strip():
        raise ValueError("must be a folder relative to snowgen.yml (e.g. ../snowplow_web)")
    return path.as_posix()


class ExtendsSpec(Spec):
    """Another project this one is built on: its sources, seeds, vars, incremental block and
    models come first, this project's are added (docs/spec.md, "Extending a project")."""

    project: Annotated[str, AfterValidator(_relative_folder)]
    """The extended project's folder, relative to snowgen.yml (e.g. ../snowplow_web)."""
    modules: Annotated[
        list[SimpleName] | VarRef | None,
        BeforeValidator(_modules_setting, json_schema_input_type=list[SimpleName] | VarText),
    ] = None
    """The extended project's modules that run (default: all; its strategy's module always runs),
    or the var holding the list, so a target or --vars chooses."""


class ProjectSpec(Spec):
    """A snowgen project file (snowgen.yml): sources, schemas, vars, strategy and targets."""

    project: SimpleName
    """The project's name (prefix of its generated tables and folder of its output)."""
    extends: ExtendsSpec | None = None
    """Another project this one is built on."""
    description: str | None = None
    """What the project builds."""
    sql_dialect: str = "postgres"
    """The dialect the SQL bodies are written in (a sqlglot dialect name)."""
    models_path: Annotated[str, AfterValidator(_project_folder)] = "models"
    """Where the model files live, inside the project."""
    modules: list[SimpleName] = []
    """Module order (default: derived from the dependencies)."""
    schemas: SchemasSpec = SchemasSpec()
    """The names of the derived, scratch and manifest schemas."""
    database: Name | None = None
    """A catalog, project or database qualifier for every table."""
    sources: dict[SimpleName, SourceSpec] = {}
    """The tables the models read, by the name their bodies use."""
    seeds: dict[SimpleName, SeedSpec] = {}
    """Lookup tables shipped as CSV files."""
    vars: dict[SimpleName, VarValue] = {}
    """Values the SQL bodies read through Jinja (``{{ var('name') }}``) and settings may take."""
    bot_filter: BotFilterSpec = BotFilterSpec()
    """Drop events of bots by their user agent."""
    app_filter: AppFilterSpec = AppFilterSpec()
    """Keep only the events of some app ids."""
    incremental: IncrementalSpec | None = None
    """The project's incremental strategy: sessions or watermark."""
    targets: dict[SimpleName, TargetSpec] = {}
    """Where commands compile for and run, by name."""
    target: SimpleName | None = None
    """The target of a command given neither --target nor --db (one of targets)."""
    dialects: dict[str, DialectSettings] = {}
    """Project-wide per-dialect choices, by dialect name."""
    run_metadata: bool = True
    """Record every step of every run (start, end, rows) in <project>_run_metadata."""
    grants: ProjectGrantsSpec = ProjectGrantsSpec()
    """Privileges granted on the models and schemas (docs/spec.md, "Grants")."""


# -- models -------------------------------------------------------------------------------------


class BackfillSpec(Spec):
    """How a backfill of one source instance finds this incremental model's rows: those whose
    ``instance_column`` holds the instance name and whose ``upsert_date_key`` is in range."""

    instance_column: Name | None = None
    """The model's column holding the source instance's name."""


class StitchSpec(Spec):
    """After every upsert or rebuild, set ``column`` of each row of the whole table to the
    ``value`` of the ``mapping`` model's row whose unique key equals the row's ``key``
    (Snowplow's user stitching); rows without a mapping keep what they hold."""

    column: Name
    """The column of this model that is set."""
    key: Name
    """The column of this model matched to the mapping's single-column unique_key."""
    mapping: SimpleName
    """A model of the project: one row per key."""
    value: Name
    """The mapping's column copied into ``column``."""
    enabled: VarBool = True
    """false: the model is not stitched (e.g. from a var)."""


class DedupeOrder(Spec):
    """A column ordering the rows of one key; the first row wins."""

    column: Name
    """The column ordered by."""
    descending: bool = False
    """true: the largest value wins."""


def _order_items(value: Any) -> Any:
    """Accept a bare column name for ``{column: name}``."""
    if isinstance(value, list):
        return [{"column": item} if isinstance(item, str) else item for item in value]
    return value


class ModelColumnSpec(ColumnSpec):
    """A model's column: its type, and the data tests of its values."""

    tests: ColumnTests = []
    """Data tests of the column's values (docs/spec.md, "Data tests")."""


class ModelSpec(Spec):
    """A snowgen model file (models/*.yml): one table or view and the SQL body that fills it."""

    name: SimpleName
    """Unique in the project; the table or view name."""
    description: str | None = None
    """What the model holds."""
    module: SimpleName = "main"
    """The module the model runs in (modules are ordered; one output folder each)."""
    enabled: VarBool = True
    """false: the model is left out (e.g. from a var)."""
    tags: list[Tag] = []
    """Labels for ``--select tag:NAME`` (a single tag may be written without brackets)."""
    materialization: Literal["view", "table", "incremental"] = "table"
    """view, table (rebuilt by every run) or incremental (upserted)."""
    schema_: SimpleName | None = Field(default=None, alias="schema")
    """The project's schema key the model lives in: derived, scratch or manifest (default derived)."""
    unique_key: Name | list[Name] | None = None
    """One column or a list (a composite key) identifying a row: what the upsert matches on."""
    upsert_date_key: Name | None = None
    """Limits the upsert to [min(batch) - upsert_lookback_days, max(batch)] of this column."""
    upsert_lookback_days: int | None = Field(default=None, ge=0, le=36500)
    """Days the upsert looks back (default: var upsert_lookback_days, 30)."""
    disable_upsert_lookback: bool = False
    """true: the upsert window is [min(batch), max(batch)]."""
    upsert: Literal["merge", "delete_insert"] | None = None
    """How this model is upserted (default: the project's choice for the dialect, else the dialect's)."""
    dedupe_order_by: list[DedupeOrder] = []
    """Which of several rows with one key wins: columns (or ``{column, descending}``) in order."""
    columns: dict[Name, ModelColumnSpec] = {}
    """Typed columns (explicit DDL, casts in the stage): ``name: type`` or ``name: {type, description}``."""
    tests: ModelTests = []
    """Data tests of the model's rows (docs/spec.md, "Data tests"), run by its audit step."""
    layout: LayoutSpec = LayoutSpec()
    """The physical layout: partition, cluster, sort, dist, indexes, per-dialect overrides."""
    bot_filter: bool | BotFilterSpec | None = None
    """false: no bot filter for this model; a block overrides the project's filter."""
    app_filter: bool | AppFilterSpec | None = None
    """false: no app filter for this model; a block overrides the project's filter."""
    for_each: SimpleName | None = None
    """A source with instances: the model is compiled once per instance."""
    watermark: SimpleName | None = None
    """strategy: watermark. The source this model reads incrementally: in its body that source is
    only its rows from this model's watermark (minus the lookback) on."""
    backfill: BackfillSpec | None = None
    """strategy: watermark. How a backfill (``--backfill``) replaces this model's rows."""
    staged: bool = False
    """incremental: also keep every run's rows in <name>_staged (scratch schema) until the one
    module that reads that table has run."""
    stitch: StitchSpec | None = None
    """Re-stitch the whole table from a mapping model after each upsert or rebuild."""
    grants: ModelGrantsSpec | None = None
    """Privileges on the model's table or view (none: the project's default, for a model of the
    derived schema)."""
    sql_dialect: str | None = None
    """The dialect of this body (default: the project's sql_dialect)."""
    sql: Annotated[str, Field(min_length=1)]
    """The SELECT that fills the model (Jinja allowed); it reads sources, seeds and models by name."""

    _normalise_columns = field_validator(
        "columns", mode="before", json_schema_input_type=dict[Name, LogicalType | ModelColumnSpec]
    )(_columns_from_mapping)
    _normalise_order = field_validator(
        "dedupe_order_by", mode="before", json_schema_input_type=list[Name | DedupeOrder]
    )(_order_items)
    _normalise_tags = field_validator("tags", mode="before", json_schema_input_type=list[Tag] | Tag)(_tags_from_text)

    @property
    def unique_key_columns(self) -> tuple[str, ...]:
        if self.unique_key is None:
            return ()
        return (self.unique_key,) if isinstance(self.unique_key, str) else tuple(self.unique_key)


# The data tests' spec builds on the names above (and this module's fields name it).
from snowgen.spec.data_tests import ColumnTests, ModelTests  # noqa: E402

ModelColumnSpec.model_rebuild()
ModelSpec.model_rebuild()
