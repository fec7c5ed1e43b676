"""The spec of the project file (snowgen.yml) and of the profiles file: seeds, grants,
targets and connection settings, schemas, an extended project, and the project itself."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
)

from snowgen.spec.env_vars import check_value
from snowgen.spec.fields import (
    SIMPLE_NAME_PATTERN,
    ColumnSpec,
    Name,
    SimpleName,
    Spec,
    VarBool,
    VarRef,
    VarText,
    VarValue,
    columns_from_mapping,
    inside_project,
    type_as_written,
    var_setting,
)
from snowgen.spec.sources import AppFilterSpec, BotFilterSpec, SourceSpec
from snowgen.spec.strategies import IncrementalSpec

# -- seeds ---------------------------------------------------------------------------------------

# Logical types a seed column may have: each has a literal every warehouse reads the same way.
SEED_TYPE_PATTERN = re.compile(
    r"^(string|string\(\d+\)|int|bigint|decimal\(\d+,\s*\d+\)|double|boolean|date|timestamp)$"
)


def _project_relative(value: str) -> str:
    """A seed file lives inside the project: a relative path without '..' (the compiled
    output embeds its rows, so it must not depend on where the project is checked out)."""
    return inside_project(value, "seeds/countries.csv")


def _project_folder(value: str) -> str:
    """The models folder lives inside the project: every YAML file under it is read, and
    from '/' that would be the whole disk."""
    return inside_project(value, "models")


SeedType = Annotated[str, Field(json_schema_extra=type_as_written(SEED_TYPE_PATTERN))]


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
    )(columns_from_mapping)

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
    BeforeValidator(var_setting, json_schema_input_type=list[Grantee] | dict[str, list[Grantee]] | VarText),
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
    value = var_setting(value)
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
