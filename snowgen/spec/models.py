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


class Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# -- settings read from vars ---------------------------------------------------------------

# ``"{{ var('name') }}"``: the whole value of a setting is a var's (dbt's spelling).
VAR_SETTING = re.compile(r"""^\{\{\s*var\(\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\1\s*\)\s*\}\}$""")


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
VarBool = Annotated[bool | VarRef, BeforeValidator(_bool_setting)]


# -- shared blocks -----------------------------------------------------------------------


class ColumnSpec(Spec):
    type: str
    description: str | None = None

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


def _columns_from_mapping(value: Any) -> Any:
    """Accept ``{name: type}`` as shorthand for ``{name: {type: type}}``."""
    if isinstance(value, dict):
        return {k: ({"type": v} if isinstance(v, str) else v) for k, v in value.items()}
    return value


class BotFilterSpec(Spec):
    """Drop events whose user agent contains any pattern (case-insensitive substring)."""

    enabled: VarBool = True
    column: Name = "useragent"
    # ``snowplow`` is Snowplow's list; otherwise literal substrings (not regular expressions).
    patterns: Literal["snowplow"] | list[Annotated[str, Field(min_length=1, max_length=200)]] = "snowplow"

    @field_validator("patterns")
    @classmethod
    def _non_empty(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise ValueError("at least one pattern is required; use 'enabled: false' to switch the filter off")
        return value


class AppFilterSpec(Spec):
    """Keep only events whose app id is in ``allow`` (an empty list keeps every event)."""

    enabled: VarBool = True
    column: Name = "app_id"
    allow: Annotated[list[Annotated[str, Field(max_length=255)]] | VarRef, BeforeValidator(_var_setting)] = []


class PartitionSpec(Spec):
    column: Name
    by: Literal["day", "hour", "month"] = "day"


class LayoutOverride(Spec):
    """Per-dialect replacement of any part of the logical layout; ``null`` removes it."""

    partition: PartitionSpec | None = None
    cluster: list[Name] | None = None
    sort: list[Name] | None = None
    dist: Name | None = None
    indexes: list[list[Name]] | None = None
    # Databricks: partition by a date column (default) or liquid clustering.
    clustering: Literal["partition", "liquid"] | None = None


class LayoutSpec(LayoutOverride):
    """One logical physical layout; each dialect renders its native form."""

    dialects: dict[str, LayoutOverride] = {}


# -- sources ------------------------------------------------------------------------------


def _sample_path(value: str) -> str:
    """A sample file lives inside the project, like a seed file."""
    return _inside_project(value, "samples/events.csv")


class SourceInstance(Spec):
    schema_: Name | None = Field(default=None, alias="schema")
    table: Name | None = None
    database: Name | None = None


class SourceSpec(Spec):
    schema_: Name = Field(alias="schema")
    table: Name
    database: Name | None = None
    timestamp: Name | None = None
    columns: dict[Name, ColumnSpec] = {}
    # A source that exists once per instance (one table per server, shard or region).
    instances: dict[SimpleName, SourceInstance] = {}
    description: str | None = None
    # A CSV of example rows that ``snowgen sample-data`` loads into the source's tables.
    sample: Annotated[str, AfterValidator(_sample_path)] | None = None

    _normalise_columns = field_validator("columns", mode="before")(_columns_from_mapping)


# -- incremental strategies ------------------------------------------------------------------


# Prefix of the tables a strategy generates.
TablePrefix = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]*$"), AfterValidator(str.lower)]


# The types a context's field may have: JSON's scalars (a schema's string, boolean, integer
# and number), which every loader stores as the warehouse's own type of that name; and, for a
# self-describing event, an array of strings, read as its items joined by ', '.
ContextFieldType = Literal["string", "boolean", "int", "bigint", "double", "array"]


class SessionContextSpec(Spec):
    name: SimpleName
    enabled: VarBool = True  # false: the events of the run do not carry this context
    # entity: a context (an array of entities attached to the event; the first is read);
    # event: the self-describing event itself (one record per event: unstruct_event_...).
    kind: Literal["entity", "event"] = "entity"
    schema_: Annotated[str, Field(pattern=r"^iglu:[A-Za-z0-9_.\-]+/[A-Za-z0-9_\-]+/jsonschema/\d+-\d+-\d+$")] = Field(
        alias="schema"
    )
    # context field (as the schema spells it, e.g. spiderOrRobot; each dialect reads it under
    # the name its loader gives it) -> output column. snowgen reads the first entity of the
    # context (Snowplow's single-entity contexts).
    fields: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], Name]
    # The type of each field that is not a string (the schema's boolean, integer and number
    # fields); every other field is a string.
    types: dict[str, ContextFieldType] = {}
    # Where contexts are nested columns of the events table (BigQuery, Snowflake,
    # Databricks): the columns holding this context, each field read from the first column
    # in this order that has it (e.g. a major-version column, then an older full-version one).
    # Default: the loaders' major-version column, contexts_<vendor>_<name>_<major>.
    columns: Annotated[list[Name], Field(min_length=1, max_length=20)] | None = None

    @field_validator("columns")
    @classmethod
    def _distinct_columns(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("a column is listed twice")
        return value

    # A CSV of example entities (root_id, root_tstamp and the fields) for ``snowgen sample-data``.
    sample: Annotated[str, AfterValidator(_sample_path)] | None = None

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
    field: Annotated[str, Field(pattern=SIMPLE_NAME_PATTERN, max_length=255)]
    # Snowplow's column prefix for Redshift and Postgres; snowgen reads each entity in a
    # subquery of its own, so it is accepted (a Snowplow value works as it is) and not needed.
    prefix: str | None = None


#: Snowplow's identifier list, or the var that holds it
VarIdentifiers = Annotated[list[IdentifierSpec] | VarRef | None, BeforeValidator(_var_setting)]
#: a SQL expression as text, or the var that holds it
VarSql = Annotated[str | VarRef | None, BeforeValidator(_var_setting)]


class SessionsStrategySpec(Spec):
    """Snowplow's sessionised incremental logic (manifest, lifecycle, quarantine)."""

    strategy: Literal["sessions"]
    source: SimpleName = "events"
    module: SimpleName = "base"
    # Prefix of the generated base tables (default: '<project>_').
    prefix: TablePrefix | None = None
    session_id: Name | list[Name] = "domain_sessionid"
    user_id: Name | list[Name] = "domain_userid"
    # Where the identifiers are read from (Snowplow's session_identifiers / session_sql and
    # user_identifiers / user_sql; snowgen.plan.identifiers): a list coalesced in order, or
    # a SQL expression over the events, which wins. Unset (or empty): session_id / user_id,
    # which also name the columns of the events of the run that carry the identifiers.
    session_identifiers: VarIdentifiers = None
    session_sql: VarSql = None
    user_identifiers: VarIdentifiers = None
    user_sql: VarSql = None
    session_timestamp: Name = "collector_tstamp"
    event_id: Name = "event_id"
    contexts: list[SessionContextSpec] = []
    # ``snowgen health``: the events table is stale when it holds no event stamped in the
    # last this many hours, and a manifest model lags when its last_success is this many
    # hours behind the most advanced model's.
    stale_after_hours: int = Field(default=24, ge=1, le=87600)
    lag_after_hours: int = Field(default=24, ge=1, le=87600)


def _off_when_false(value: Any) -> Any:
    """YAML 1.1 reads an unquoted ``off`` (and ``no``) as false: that is ``off``."""
    return "off" if value is False else value


class WatermarkStrategySpec(Spec):
    """One watermark per (model, source): each model that names a source in ``watermark``
    reads only that source's rows from its own watermark minus ``lookback_hours`` on."""

    strategy: Literal["watermark"]
    # Rows arriving up to this many hours behind the watermark are still read (re-read
    # rows are upserted again, so they change nothing).
    lookback_hours: int = Field(default=0, ge=0, le=87600)
    # The health view flags a watermark older than this many hours (a dormant source).
    stale_after_hours: int = Field(default=24, ge=1, le=87600)
    # Rows stamped more than this many minutes after the warehouse's clock wait until then
    # (a broken clock must not move a watermark past the rows still to come).
    clock_skew_minutes: int = Field(default=60, ge=0, le=525600)
    # Rows stamped below a watermark that land after it moved (late rows): each run records
    # the intervals of timestamps it read and how many rows each held; a recorded interval
    # holding more rows now than then has late rows. reprocess: the next run reads those
    # intervals again; report: ``snowgen health`` reports them; off: nothing is recorded.
    late_data: Annotated[Literal["reprocess", "report", "off"], BeforeValidator(_off_when_false)] = "reprocess"
    # Only intervals ending less than this many hours before the watermark are checked.
    late_data_horizon_hours: int = Field(default=72, ge=1, le=87600)
    module: SimpleName = "watermarks"
    # Prefix of the generated tables (default: '<project>_').
    prefix: TablePrefix | None = None


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


VarValue = Annotated[Any, AfterValidator(_var_value)]


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


class SeedSpec(Spec):
    """A lookup table shipped with the project as a CSV file (a header row, then one row per
    line), (re)loaded by every run into ``<schema>.<seed name>``."""

    file: Annotated[str, AfterValidator(_project_relative)]
    description: str | None = None
    # One of the project's schema keys (default scratch: reloaded by every run, like the
    # scratch tables).
    schema_: Literal["derived", "scratch", "manifest"] = Field(default="scratch", alias="schema")
    columns: Annotated[dict[Name, ColumnSpec], Field(min_length=1)]

    _normalise_columns = field_validator("columns", mode="before")(_columns_from_mapping)

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
    dialect: str
    db: DatabaseUrl | None = None
    allow_refresh: bool = False
    vars: dict[SimpleName, VarValue] = {}
    connection: dict[SettingKey, SettingValue] = {}


class ProfileTargetSpec(Spec):
    """A target in the profiles file (outside the repository): where and how to connect.
    Over a target of the project it replaces ``dialect`` and ``db`` and adds or replaces
    connection settings one by one; what a target compiles (``vars``) and may drop
    (``allow_refresh``) stay in the project."""

    dialect: str | None = None
    db: DatabaseUrl | None = None
    connection: dict[SettingKey, SettingValue] = {}


class ProfileSpec(Spec):
    """One project's entry of the profiles file."""

    targets: dict[SimpleName, ProfileTargetSpec] = {}


class SchemasSpec(Spec):
    derived: Name = "derived"
    scratch: Name = "scratch"
    manifest: Name = "snowgen_manifest"


class DialectSettings(Spec):
    """Project-wide per-dialect choices."""

    upsert: Literal["merge", "delete_insert"] | None = None


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
    # The extended project's modules that run (default: all); its strategy's module always
    # runs. A var may hold the list, so a target or --vars chooses.
    modules: Annotated[list[SimpleName] | VarRef | None, BeforeValidator(_modules_setting)] = None


class ProjectSpec(Spec):
    project: SimpleName
    # The project this one is built on (None: none).
    extends: ExtendsSpec | None = None
    description: str | None = None
    sql_dialect: str = "postgres"
    models_path: Annotated[str, AfterValidator(_project_folder)] = "models"
    modules: list[SimpleName] = []
    schemas: SchemasSpec = SchemasSpec()
    database: Name | None = None
    sources: dict[SimpleName, SourceSpec] = {}
    seeds: dict[SimpleName, SeedSpec] = {}
    vars: dict[SimpleName, VarValue] = {}
    bot_filter: BotFilterSpec = BotFilterSpec()
    app_filter: AppFilterSpec = AppFilterSpec()
    incremental: IncrementalSpec | None = None
    targets: dict[SimpleName, TargetSpec] = {}
    # The target of a command given neither --target nor --db (the planner checks it exists).
    target: SimpleName | None = None
    dialects: dict[str, DialectSettings] = {}
    # Record every step of every run (start, end, rows) in <project>_run_metadata.
    run_metadata: bool = True


# -- models -------------------------------------------------------------------------------------


class BackfillSpec(Spec):
    """How a backfill of one source instance finds this incremental model's rows: those whose
    ``instance_column`` holds the instance name and whose ``upsert_date_key`` is in range."""

    instance_column: Name | None = None


class StitchSpec(Spec):
    """After every upsert or rebuild, set ``column`` of each row of the whole table to the
    ``value`` of the ``mapping`` model's row whose unique key equals the row's ``key``
    (Snowplow's user stitching); rows without a mapping keep what they hold."""

    column: Name  # column of this model that is set
    key: Name  # column of this model matched to the mapping's single-column unique_key
    mapping: SimpleName  # a model of the project: one row per key
    value: Name  # the mapping's column copied into ``column``
    enabled: VarBool = True  # false: the model is not stitched (e.g. from a var)


class DedupeOrder(Spec):
    column: Name
    descending: bool = False


def _order_items(value: Any) -> Any:
    """Accept a bare column name for ``{column: name}``."""
    if isinstance(value, list):
        return [{"column": item} if isinstance(item, str) else item for item in value]
    return value


class ModelColumnSpec(ColumnSpec):
    """A model's column: its type, and the data tests of its values."""

    tests: ColumnTests = []


class ModelSpec(Spec):
    name: SimpleName
    description: str | None = None
    module: SimpleName = "main"
    enabled: VarBool = True
    tags: list[Tag] = []  # for --select tag:NAME
    materialization: Literal["view", "table", "incremental"] = "table"
    schema_: SimpleName | None = Field(default=None, alias="schema")
    unique_key: Name | list[Name] | None = None
    upsert_date_key: Name | None = None
    upsert_lookback_days: int | None = Field(default=None, ge=0, le=36500)
    disable_upsert_lookback: bool = False
    upsert: Literal["merge", "delete_insert"] | None = None
    dedupe_order_by: list[DedupeOrder] = []
    columns: dict[Name, ModelColumnSpec] = {}
    # data tests of the model's rows (snowgen.spec.data_tests)
    tests: ModelTests = []
    layout: LayoutSpec = LayoutSpec()
    bot_filter: bool | BotFilterSpec | None = None
    app_filter: bool | AppFilterSpec | None = None
    for_each: SimpleName | None = None
    # strategy: watermark. The source this model reads incrementally: in its body that
    # source is only its rows from this model's watermark (minus the lookback) on.
    watermark: SimpleName | None = None
    # strategy: watermark. How a backfill (``--backfill``) replaces this model's rows.
    backfill: BackfillSpec | None = None
    # incremental: also keep every run's rows in <name>_staged (scratch schema) until the
    # one module that reads that table has run (v1 ``_staged`` tables).
    staged: bool = False
    # Re-stitch the whole table from a mapping model after each upsert or rebuild.
    stitch: StitchSpec | None = None
    sql_dialect: str | None = None
    sql: Annotated[str, Field(min_length=1)]

    _normalise_columns = field_validator("columns", mode="before")(_columns_from_mapping)
    _normalise_order = field_validator("dedupe_order_by", mode="before")(_order_items)
    _normalise_tags = field_validator("tags", mode="before")(_tags_from_text)

    @property
    def unique_key_columns(self) -> tuple[str, ...]:
        if self.unique_key is None:
            return ()
        return (self.unique_key,) if isinstance(self.unique_key, str) else tuple(self.unique_key)


# The data tests' spec builds on the names above (and this module's fields name it).
from snowgen.spec.data_tests import ColumnTests, ModelTests  # noqa: E402

ModelColumnSpec.model_rebuild()
ModelSpec.model_rebuild()
