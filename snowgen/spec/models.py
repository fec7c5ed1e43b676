"""The spec language: pydantic models that mirror the YAML files one to one.

These models check *shape* only (types, allowed keys, simple formats). Everything that
needs the whole project (references, dialect defaults, cycles) is the planner's job.
Field names equal the YAML keys, so a validation error's ``loc`` is a YAML path.

This module holds the model file's spec and re-exports the names of the others:
snowgen.spec.fields (field types, the Spec base, var settings), snowgen.spec.sources,
snowgen.spec.strategies and snowgen.spec.project.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from snowgen.spec.fields import (
    LOGICAL_TYPE_PATTERN,
    SIMPLE_NAME_PATTERN,
    TAG_PATTERN,
    VAR_SETTING,
    VAR_VALUE_SCHEMA,
    ColumnsAsWritten,
    ColumnSpec,
    LogicalType,
    Name,
    SimpleName,
    Spec,
    Tag,
    VarBool,
    VarRef,
    VarText,
    VarValue,
    any_case,
    check_var_value,
    columns_from_mapping,
)
from snowgen.spec.project import (
    SEED_TYPE_PATTERN,
    DatabaseUrl,
    DialectSettings,
    ExtendsSpec,
    Grantee,
    Grantees,
    ModelGrantsSpec,
    ProfileSpec,
    ProfileTargetSpec,
    ProjectGrantsSpec,
    ProjectSpec,
    SchemaGrantsSpec,
    SchemasSpec,
    SeedColumnSpec,
    SeedSpec,
    SeedType,
    SettingKey,
    SettingScalar,
    SettingText,
    SettingValue,
    TargetSpec,
)
from snowgen.spec.sources import (
    AppFilterSpec,
    AppId,
    BotFilterSpec,
    SourceInstance,
    SourceSpec,
)
from snowgen.spec.strategies import (
    ContextFieldType,
    IdentifierSpec,
    IncrementalSpec,
    SessionContextSpec,
    SessionsStrategySpec,
    SqlText,
    TablePrefix,
    VarIdentifiers,
    VarSql,
    WatermarkStrategySpec,
)

# Every name of the spec, importable from here as before the spec was split by subject.
__all__ = [
    "LOGICAL_TYPE_PATTERN",
    "SEED_TYPE_PATTERN",
    "SIMPLE_NAME_PATTERN",
    "TAG_PATTERN",
    "VAR_SETTING",
    "VAR_VALUE_SCHEMA",
    "AppFilterSpec",
    "AppId",
    "BackfillSpec",
    "BotFilterSpec",
    "ColumnSpec",
    "ColumnsAsWritten",
    "ContextFieldType",
    "DatabaseUrl",
    "DedupeOrder",
    "DialectSettings",
    "ExtendsSpec",
    "Grantee",
    "Grantees",
    "IdentifierSpec",
    "IncrementalSpec",
    "LayoutOverride",
    "LayoutSpec",
    "LogicalType",
    "ModelColumnSpec",
    "ModelGrantsSpec",
    "ModelSpec",
    "Name",
    "PartitionSpec",
    "ProfileSpec",
    "ProfileTargetSpec",
    "ProjectGrantsSpec",
    "ProjectSpec",
    "SchemaGrantsSpec",
    "SchemasSpec",
    "SeedColumnSpec",
    "SeedSpec",
    "SeedType",
    "SessionContextSpec",
    "SessionsStrategySpec",
    "SettingKey",
    "SettingScalar",
    "SettingText",
    "SettingValue",
    "SimpleName",
    "SourceInstance",
    "SourceSpec",
    "Spec",
    "SqlText",
    "StitchSpec",
    "TablePrefix",
    "Tag",
    "TargetSpec",
    "VarBool",
    "VarIdentifiers",
    "VarRef",
    "VarSql",
    "VarText",
    "VarValue",
    "WatermarkStrategySpec",
    "any_case",
    "check_var_value",
]


def _tags_from_text(value: Any) -> Any:
    """Accept ``tags: nightly`` as shorthand for ``tags: [nightly]`` (as dbt does)."""
    return [value] if isinstance(value, str) else value


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
    )(columns_from_mapping)
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
