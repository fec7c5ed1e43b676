"""The plan: a dialect-neutral description of everything a compile will emit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot import exp

from snowgen.spec.models import AppFilterSpec, BotFilterSpec, ModelSpec, ProjectSpec
from snowgen.spec.yaml_source import YamlDocument

if TYPE_CHECKING:
    from snowgen.plan.data_tests import DataTest
    from snowgen.plan.references import Relation
    from snowgen.plan.sqlbody import BodyContext
    from snowgen.spec.loader import LoadedSeed

#: the first step of every plan: it creates the schemas every later step writes to
SETUP_STEP = "create_schemas"


class StepKind(StrEnum):
    """What a step does; snowgen.build.steps.BUILDERS has one builder for each."""

    ACQUIRE_LOCK = "acquire_lock"  # takes the project's run lock, or fails (snowgen.plan.run_lock)
    SCHEMAS = "schemas"  # the schemas every later step writes to
    FULL_REFRESH = "full_refresh"  # drops the incremental state (snowgen.plan.refresh)
    START_RUN = "start_run"  # the run's id for run metadata (snowgen.plan.run_metadata)
    VIEW = "view"  # a model, by its materialization
    TABLE = "table"
    INCREMENTAL = "incremental"
    CONSUME_STAGED = "consume_staged"  # empties a staged table its readers have read
    SEED = "seed"  # loads a seed's rows
    MANIFEST_TABLE = "manifest_table"  # the sessions strategy's manifest and quarantine tables
    QUARANTINE = "quarantine"  # sessions that reached max_session_days join the quarantine
    WATERMARK_TABLE = "watermark_table"  # the watermark strategy's manifest table
    GRANT = "grant"  # privileges on a model or on the project's schemas (snowgen.plan.grants)
    AUDIT = "audit"  # runs a model's data tests, fails on an error-severity failure (snowgen.plan.data_tests)
    RELEASE_LOCK = "release_lock"  # gives the run lock back (the plan's last step)


class BodyNotParsed(BaseException):  # not an Exception: no `except Exception` may hide it
    """A model's SQL body was read before it was parsed (snowgen.plan.bodies.with_bodies)."""


def refusing(error: type[BaseException], reason: str) -> Any:
    """An object any use of which raises ``error``: an attribute, an isinstance test (which
    reads ``__class__``), a truth test, a comparison, iterating, printing. Only ``is``
    passes. It stands for a value a reader must not see (``reason`` says which)."""

    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise error(reason)

    def attribute(self: Any, name: str) -> Any:
        raise error(f"{reason}: .{name}")

    uses = ("__bool__", "__eq__", "__ne__", "__lt__", "__gt__", "__hash__", "__iter__", "__len__",
            "__contains__", "__getitem__", "__repr__", "__str__", "__call__")  # fmt: skip
    kind = type(
        f"Refusing{error.__name__}", (), {"__slots__": (), "__getattribute__": attribute, **dict.fromkeys(uses, refuse)}
    )
    return kind()


#: a user model's ``query`` until its body is parsed (remembered facts stood in for it)
UNPARSED: Any = refusing(BodyNotParsed, "a body planned from remembered facts was read before it was parsed")


@dataclass(frozen=True)
class BodyInputs:
    """What a model's body is parsed with, kept so that a body planned from remembered facts
    can be parsed when a step needs it."""

    context: BodyContext
    relations: Mapping[str, Relation]  # what the body's table names resolve to
    model: str  # the model (instance) it belongs to
    instance: str | None
    for_each: str | None
    memo_key: str | None = None  # its key in the memo of body facts (None: no memo)


@dataclass(frozen=True)
class BodyFacts:
    """What planning learns from a parsed body, with what it looked up to learn it: a body
    whose text and lookups are unchanged has the same facts (snowgen.plan.facts)."""

    depends_on: tuple[str, ...]
    tables: frozenset[tuple[str, str]]  # (schema, table), lower case, of every table it reads
    output: tuple[str, ...] | None  # its output columns, stars expanded (None: not all named)
    relations: Mapping[str, str]  # table name -> digest of what it resolved to
    #: table -> the columns known for it when a star over it was expanded or its columns were
    #: checked (None: unknown)
    known: Mapping[tuple[str, str], tuple[str, ...] | None]
    #: the logical type of each output column (snowgen.plan.column_check; None: not all named)
    output_types: tuple[str, ...] | None = None
    #: table -> the column types known for it when the body's columns were checked and typed
    known_types: Mapping[tuple[str, str], Mapping[str, str] | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Grantee:
    """One grantee as written (snowgen.plan.grants): ``dialect`` None means every warehouse."""

    name: str
    dialect: str | None
    in_project: bool  # written in the project file (else in the model's own file)
    path: tuple  # its YAML path in that file


@dataclass(frozen=True)
class SchemaGrant:
    schema_key: str  # derived | scratch | manifest
    privilege: str  # usage | select
    grantees: tuple[Grantee, ...]


@dataclass(frozen=True)
class ModelPlan:
    """One table or view to build, with its body already resolved to qualified tables."""

    name: str
    module: str
    materialization: str  # view | table | incremental
    table: exp.Table
    query: exp.Query | None  # the parsed body (UNPARSED until needed, see ``facts``); None for generated models
    spec: ModelSpec
    doc: YamlDocument
    depends_on: tuple[str, ...]
    output_columns: tuple[str, ...] | None
    column_types: dict[str, str]  # declared column types (the spec's, or a generated model's)
    scratch: bool
    bot_filter: BotFilterSpec | None
    app_filter: AppFilterSpec | None
    upsert_lookback_days: int
    schema_key: str  # the key of the project's ``schemas`` its table lives in
    unique_key: tuple[str, ...]  # its unique key's columns (none for a view or a table)
    #: a generated model's query (incremental strategies): the key of its builder in
    #: snowgen.build.strategies.GENERATED_QUERIES, which builds it per dialect
    generated: str | None = None
    #: a user model's body: how to parse it, and what planning learned from it
    body: BodyInputs | None = None
    facts: BodyFacts | None = None
    #: who may read its table or view (snowgen.plan.grants; a grant step follows its step)
    grantees: tuple[Grantee, ...] = ()
    #: its data tests (snowgen.plan.data_tests), run by its audit step
    tests: tuple[DataTest, ...] = ()
    #: the logical type of each output column, parallel to ``output_columns``: declared types
    #: win, else what snowgen.plan.column_check inferred ('unknown' where it cannot tell)
    output_types: tuple[str, ...] | None = None

    @property
    def typed_columns(self) -> dict[str, str]:
        """Each output column with its logical type (empty when the columns are not known)."""
        if self.output_columns is None:
            return {}
        types = self.output_types or ("unknown",) * len(self.output_columns)
        return dict(zip(self.output_columns, types, strict=True))


@dataclass(frozen=True)
class Step:
    """One file of the output: what it does, for which model, after which steps."""

    id: str
    module: str
    kind: StepKind
    spec_file: str  # path of the spec file it comes from, relative to the project
    depends_on: tuple[str, ...] = ()
    model: str | None = None


@dataclass(frozen=True)
class Check:
    """A health check a run ends with: rows of ``table`` whose ``when`` column is above 0
    (``columns`` of them), each a warning (snowgen.build.checks builds the query). The file is
    listed in plan.json under ``checks``, so a scheduler can run it and alert too."""

    id: str
    description: str
    table: exp.Table
    columns: tuple[str, ...]
    when: str
    after: str  # the step whose run the check reads: a plan without it has no such check


@dataclass(frozen=True)
class SeedRow:
    line: int  # where the record starts in the CSV
    cols: tuple[int, ...]  # the CSV column of each value
    values: tuple[Any, ...]  # in the seed's column order; None is NULL


@dataclass(frozen=True)
class SeedPlan:
    """A seed's rows, converted to their logical types (snowgen.plan.seeds)."""

    name: str
    table: exp.Table
    schema_key: str  # derived | scratch | manifest
    columns: tuple[tuple[str, str], ...]  # (column, logical type), in the table's order
    rows: tuple[SeedRow, ...]
    spec_file: str  # the CSV, relative to the project
    seed: LoadedSeed


@dataclass(frozen=True)
class StagedTable:
    producer: str  # the model that fills it
    table: exp.Table
    readers: tuple[str, ...]  # the models that read it, all of one module
    module: str  # the readers' module, whose last step empties it

    @property
    def consume_step(self) -> str:
        return f"{self.table.name}_consumed"


@dataclass(frozen=True)
class StrategyPlan:
    """A project's incremental strategy, as decided in planning: what it generated and which
    models it tracks (after ``--select``). This base is a project without one; each strategy
    subclasses it with its own fields, and snowgen.build.strategies holds its SQL."""

    kind: ClassVar[str] = "none"
    #: tables the strategy generates, by name
    tables: Mapping[str, exp.Table] = field(default_factory=dict)
    #: module -> the step that completes it (advances its models' incremental state)
    complete_steps: Mapping[str, str] = field(default_factory=dict)
    #: schema keys its tables live in (they must exist before it runs)
    schema_keys: frozenset[str] = frozenset()
    #: models whose incremental state this plan advances
    tracked: tuple[str, ...] = ()
    #: the manifest's table and time column, for ``snowgen manifest`` (None: no manifest)
    manifest: exp.Table | None = None
    manifest_column: str = "last_success"


@dataclass(frozen=True)
class Plan:
    project: str
    root: Path
    spec: ProjectSpec
    doc: YamlDocument
    vars: dict[str, Any]
    schemas: dict[str, str]  # key (derived/scratch/manifest) -> schema name
    database: str | None
    modules: tuple[str, ...]
    steps: tuple[Step, ...]
    models: dict[str, ModelPlan] = field(default_factory=dict)
    selected: frozenset[str] | None = None  # a subset run's nodes (snowgen.plan.subset; None: all)
    strategy: StrategyPlan = field(default_factory=StrategyPlan)
    staged: dict[str, StagedTable] = field(default_factory=dict)  # by producer model
    seeds: dict[str, SeedPlan] = field(default_factory=dict)  # by seed name
    checks: tuple[Check, ...] = ()
    #: the project's grants on its schemas (snowgen.plan.grants)
    schema_grants: tuple[SchemaGrant, ...] = ()
    #: the project whose run lock the plan takes: its own, or the one it extends (whose
    #: incremental state it shares; snowgen.spec.loader.LoadedProject.lock_project)
    lock_project: str = ""

    @property
    def run_lock_name(self) -> str:
        return self.lock_project or self.project
