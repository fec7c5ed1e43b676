"""The spec of the project's incremental strategies (``incremental:``): Snowplow's sessions,
with their contexts and identifiers, or one watermark per model and source."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from snowgen.spec.fields import (
    SIMPLE_NAME_PATTERN,
    Name,
    SimpleName,
    Spec,
    VarBool,
    VarRef,
    VarText,
    sample_path,
    var_setting,
)

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

    sample: Annotated[str, AfterValidator(sample_path)] | None = None
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
    BeforeValidator(var_setting, json_schema_input_type=list[IdentifierSpec] | VarText | None),
]
#: SQL text holding no Jinja (a setting's value is either SQL or a var, never a mix)
SqlText = Annotated[str, Field(pattern=r"^(?![\s\S]*\{\{)")]
#: a SQL expression as text, or the var that holds it
VarSql = Annotated[str | VarRef | None, BeforeValidator(var_setting, json_schema_input_type=SqlText | VarText | None)]


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
