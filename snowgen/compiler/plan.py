"""The plan: a dialect-neutral description of everything a compile will emit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from snowgen.spec.models import AppFilterSpec, BotFilterSpec, ModelSpec, ProjectSpec
from snowgen.spec.yaml_source import YamlDocument

#: the first step of every plan: it creates the schemas every later step writes to
SETUP_STEP = "create_schemas"


@dataclass(frozen=True)
class ModelPlan:
    """One table or view to build, with its body already resolved to qualified tables."""

    name: str
    module: str
    materialization: str  # view | table | incremental
    table: exp.Table
    query: exp.Query | None  # the parsed body; None for generated models (see build_query)
    spec: ModelSpec
    doc: YamlDocument
    depends_on: tuple[str, ...]
    output_columns: tuple[str, ...] | None
    column_types: dict[str, str]
    scratch: bool
    bot_filter: BotFilterSpec | None
    app_filter: AppFilterSpec | None
    upsert_lookback_days: int
    # Generated models (incremental strategies) build their query per dialect.
    build_query: Callable[[Any], exp.Query] | None = None


@dataclass(frozen=True)
class Step:
    """One file of the output: what it does, for which model, after which steps."""

    id: str
    module: str
    kind: str
    spec_file: str  # path of the spec file it comes from, relative to the project
    depends_on: tuple[str, ...] = ()
    model: str | None = None


@dataclass(frozen=True)
class Check:
    """A health check a run ends with: rows of ``table`` whose ``when`` column is above 0
    (``columns`` of them), each a warning (compiler.checks builds the query). The file is
    listed in plan.json under ``checks``, so a scheduler can run it and alert too."""

    id: str
    description: str
    table: exp.Table
    columns: tuple[str, ...]
    when: str
    after: str  # the step whose run the check reads: a plan without it has no such check


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
    selected: frozenset[str] | None = None  # models chosen with --select (None: all)
    strategy: Any = None  # the project's incremental strategy (see compiler.strategies)
    staged: dict[str, Any] = field(default_factory=dict)  # producer model -> compiler.staged.StagedTable
    seeds: dict[str, Any] = field(default_factory=dict)  # seed name -> compiler.seeds.SeedPlan
    checks: tuple[Check, ...] = ()
