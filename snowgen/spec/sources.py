"""The spec of a project's sources (the tables its models read) and of its event filters."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator

from snowgen.spec.fields import (
    ColumnsAsWritten,
    ColumnSpec,
    Name,
    SimpleName,
    Spec,
    VarBool,
    VarRef,
    VarText,
    columns_from_mapping,
    sample_path,
    var_setting,
)


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
        list[AppId] | VarRef, BeforeValidator(var_setting, json_schema_input_type=list[AppId] | VarText)
    ] = []
    """The app ids kept (an empty list keeps every event), or the var holding them."""


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
    sample: Annotated[str, AfterValidator(sample_path)] | None = None
    """A CSV of example rows that ``snowgen sample-data`` loads into the source's tables."""

    _normalise_columns = field_validator("columns", mode="before", json_schema_input_type=ColumnsAsWritten)(
        columns_from_mapping
    )
