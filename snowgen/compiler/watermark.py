"""The per-source watermark strategy, generated from the project's
``incremental: {strategy: watermark}`` block.

A model opts in with ``watermark: SOURCE``: in its body, ``SOURCE`` is only the rows whose
timestamp is at or after the model's watermark minus ``lookback_hours`` (every row while it
has no watermark yet). Such a model is a ``table`` (typically in scratch) holding "this run's
new rows"; incremental models downstream upsert from it. A source listed once with
``instances`` is read by a ``for_each`` model, one table per instance, each with its own
watermark, so a source that stops producing never holds the others back.

State lives in one manifest table, ``<prefix>watermarks(model, source, instance,
watermark)``, one row per (model, source): reading it costs one row, never a ``max()`` over
a target. Steps, all plain SQL:

1. the manifest table (created if missing) and the health view ``<prefix>watermark_health``
   (model, source, instance, watermark, is_stale), for a scheduler to alert on;
2. the models; each watermark model first binds its watermark (minus the lookback) the
   dialect's way (inline subquery, script or session variable);
3. after every model downstream: ``<prefix>watermarks_update`` upserts, for each watermark
   model, greatest(old watermark, max(timestamp) of its table). It never moves backwards
   and leaves the row alone when the model read nothing. It runs last, so a failed run
   leaves the watermarks where they were and the next run reads the same rows again
   (upserts make that harmless).

A backfill (:mod:`snowgen.compiler.backfill`) changes the plan: see that module.

Choices:

- A watermark model must be a ``table``: the update reads this run's rows from it. A view
  would be read again at update time and count rows that arrived after the models ran
  (skipped forever); an incremental model would need a ``max()`` over its whole target.
- The manifest key is (model, source), where the model is the table name of one instance
  (``stg_deals__p1``); ``instance`` is there for people and alerts. A model reading a
  source with instances must be ``for_each`` of it, because the update can only tell which
  instance a row came from by the table it is in.
- The body is planned once, dialect-neutral: the filter holds a placeholder for the
  watermark, which each dialect fills at build time with the value it bound (see
  :func:`snowgen.compiler.watermark_sql.bind_since`), so BigQuery, Snowflake and Databricks
  filter the source by a variable they can prune partitions with.
- The health view is a view, not a table written by the run: a run that never comes is
  exactly what it must report.
- No correlated subqueries anywhere (Sail has none, and MERGE ON clauses must not need
  them): the update is a LEFT JOIN, the filter reads one bound value.
"""

from __future__ import annotations

import difflib
from dataclasses import replace

from sqlglot import exp

from snowgen.compiler import ddl
from snowgen.compiler.backfill import Backfill
from snowgen.compiler.clock import not_after
from snowgen.compiler.dag import downstream
from snowgen.compiler.plan import SETUP_STEP, Check, ModelPlan, Plan, Step
from snowgen.compiler.references import Relation, qualified, source_tables, unknown_name
from snowgen.compiler.strategies import NoStrategy
from snowgen.compiler.watermark_sql import (
    MANIFEST_COLUMNS,
    NOT_AFTER,
    SINCE,
    WatermarkRead,
    bind_since,
    filtered_source,
    health_query,
    in_range,
    newer_than_watermark,
    update_query,
)
from snowgen.dialects.base import Dialect, Layout, Script, TableShape
from snowgen.errors import SnowgenError
from snowgen.spec.loader import LoadedModel, LoadedProject
from snowgen.spec.models import ModelSpec, SourceSpec, WatermarkStrategySpec

COMPLETE_MODULE = "complete"
TABLE_STEP = "watermark_table"


class WatermarkStrategy(NoStrategy):
    #: the manifest's time column (``snowgen manifest rewind`` sets it back)
    manifest_column = "watermark"

    def __init__(self, loaded: LoadedProject, schemas: dict[str, str], backfill: Backfill | None):
        self.loaded = loaded
        self.config: WatermarkStrategySpec = loaded.spec.incremental
        self.schemas = schemas
        prefix = self.config.prefix if self.config.prefix is not None else f"{loaded.spec.project}_"
        self.names = {
            "manifest": f"{prefix}watermarks",
            "health": f"{prefix}watermark_health",
            "update": f"{prefix}watermarks_update",
        }
        self.prefix = prefix
        self.backfill = backfill
        self.target = _backfill_target(loaded, backfill) if backfill else None  # (source, instance)
        self.reads: dict[str, WatermarkRead] = {}  # model table name -> its watermark row
        self.tracked: tuple[str, ...] = ()  # models whose watermark this plan advances
        self.user_models: dict[str, ModelPlan] = {}
        self.replaced: dict[str, ModelPlan] = {}  # backfill: incremental models replacing rows

    # -- what the planner asks -------------------------------------------------------------------
    def table(self, key: str) -> exp.Table:
        return qualified(self.names[key], self.schemas["manifest"], self.loaded.spec.database)

    def tables(self) -> dict[str, exp.Table]:
        return {self.names["manifest"]: self.table("manifest")}

    def nodes(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {self.names["manifest"]: (self.config.module, ())}

    def leading_modules(self) -> list[str]:
        return [self.config.module]

    def trailing_modules(self) -> list[str]:
        return [COMPLETE_MODULE]

    def schema_keys(self) -> set[str]:
        return {"manifest"}

    def complete_steps(self) -> dict[str, str]:
        return {COMPLETE_MODULE: self.names["update"]} if self.tracked and self.backfill is None else {}

    def steps_for(self, name: str, selected: set[str] | None) -> list[Step]:
        module, _ = self.nodes()[name]
        return [Step(id=name, module=module, kind=TABLE_STEP, spec_file="snowgen.yml", depends_on=(SETUP_STEP,))]

    def builders(self) -> dict:
        return {TABLE_STEP: self._build_manifest_table}

    def relations_for(self, model: LoadedModel) -> dict[str, Relation]:
        """In a watermark model's body, its source is the filtered source (one subquery per
        instance), and reading it depends on the manifest table."""
        if model.spec.backfill is not None:
            _check_backfill_keys(model)
        name = model.spec.watermark
        if name is None:
            return {}
        source = self._checked_source(model)
        instances = tuple(source.instances)
        column = exp.column(source.timestamp, table=name)
        nodes = tuple(
            filtered_source(table, name, self._condition(name, instance, column.copy(), source))
            for table, instance in zip(source_tables(self.loaded.spec, source), instances or (None,))
        )
        return {name: Relation(nodes, (self.names["manifest"],), instances)}

    def models(self, user_models: dict[str, ModelPlan]) -> dict[str, ModelPlan]:
        self.user_models = dict(user_models)  # the planner adds the generated models to its dict
        self.reads = {name: self._read(plan) for name, plan in user_models.items() if plan.spec.watermark}
        self.tracked = tuple(self.reads)
        if self.backfill is not None:
            self.replaced = self._replacing()
        generated = [self._health_model()]
        if self.reads and self.backfill is None:
            generated.append(self._update_model())
        return {m.name: m for m in generated}

    def select(self, selected: set[str]) -> set[str]:
        """With --select, a watermark advances only when the model and every incremental
        model downstream of it run: otherwise rows not yet consumed would be skipped."""
        self.tracked = tuple(n for n in self.tracked if n in selected and self._consumers({n}) <= selected)
        return {self.names["update"]} if self.tracked and self.backfill is None else set()

    # -- what the builders ask --------------------------------------------------------------------
    def inputs(self, model: ModelPlan, dialect: Dialect, script: Script) -> dict[str, exp.Expr]:
        read = self.reads.get(model.name)
        if read is None or self.backfill is not None:
            return {}
        since = bind_since(dialect, script, self.table("manifest"), read, self.config.lookback_hours)
        return {SINCE: since, NOT_AFTER: not_after(dialect, self.config.clock_skew_minutes, read.logical_type)}

    def replace_where(self, model: ModelPlan, dialect: Dialect) -> exp.Expr | None:
        """Backfill: the model's rows of the backfilled instance in [from, to)."""
        if model.name not in self.replaced:
            return None
        key = model.spec.upsert_date_key
        logical = model.column_types.get(key, "timestamp")
        condition = in_range(exp.column(key), self.backfill.start, self.backfill.end, logical)
        instance = self.target[1]
        if instance is None:
            return condition
        column = exp.column(model.spec.backfill.instance_column)
        return exp.and_(exp.EQ(this=column, expression=exp.Literal.string(instance)), *condition.flatten())

    # -- planning helpers ----------------------------------------------------------------------------
    def _condition(self, source: str, instance: str | None, column: exp.Column, spec: SourceSpec) -> exp.Expr:
        """Which rows of one source instance a watermark model reads in this plan."""
        if self.backfill is None:
            return newer_than_watermark(column)
        if self.target != (source, instance):
            return exp.false()  # a backfill leaves every other source alone
        return in_range(column, self.backfill.start, self.backfill.end, _timestamp_type(spec))

    def _read(self, plan: ModelPlan) -> WatermarkRead:
        name = plan.spec.watermark
        source = self.loaded.spec.sources[name]
        # A source with instances is read by a for_each model of it (checked): one table each.
        instance = plan.name[len(plan.spec.name) + 2 :] if source.instances else None
        return WatermarkRead(plan.name, name, instance, source.timestamp, _timestamp_type(source))

    def _consumers(self, roots: set[str]) -> set[str]:
        """Incremental models downstream of ``roots``: they consume the rows read."""
        return {n for n in _downstream(self.user_models, roots) if self.user_models[n].materialization == "incremental"}

    def _replacing(self) -> dict[str, ModelPlan]:
        """Backfill: the incremental models downstream of the backfilled instance's watermark
        models that declare how to find its rows (the others upsert what they are given)."""
        roots = {n for n, read in self.reads.items() if (read.source, read.instance) == self.target}
        replaced = {}
        for name in sorted(self._consumers(roots)):
            plan = self.user_models[name]
            if plan.spec.backfill is None:
                continue
            if self.target[1] is not None and plan.spec.backfill.instance_column is None:
                source, instance = self.target
                raise SnowgenError.at(
                    "SG406",
                    f"--backfill {source}.{instance}: model '{plan.spec.name}' cannot tell the rows of instance "
                    f"'{instance}' apart; set backfill.instance_column to the column holding the instance name",
                    plan.doc.location(("backfill",), key=True),
                )
            replaced[name] = plan
        return replaced

    def _checked_source(self, model: LoadedModel) -> SourceSpec:
        spec, sources = model.spec, self.loaded.spec.sources
        source = sources.get(spec.watermark)
        if source is None:
            message = f"watermark: {unknown_name('source', spec.watermark, sources)}"
            raise SnowgenError.at("SG201", message, model.doc.location(("watermark",)))
        if source.timestamp is None:
            raise SnowgenError.at(
                "SG103",
                f"source '{spec.watermark}' needs 'timestamp': model '{spec.name}' reads it with a watermark",
                self.loaded.doc.location(("sources", spec.watermark), key=True),
            )
        if spec.materialization != "table":
            raise SnowgenError.at(
                "SG102",
                "a watermark model must be materialization: table (this run's new rows of its source, "
                "from which its watermark advances)",
                model.doc.location(("materialization",)),
            )
        if source.instances and spec.for_each != spec.watermark:
            raise SnowgenError.at(
                "SG102",
                f"source '{spec.watermark}' has instances ({', '.join(source.instances)}): a model reading it with a "
                f"watermark needs 'for_each: {spec.watermark}', so that each instance keeps its own watermark",
                model.doc.location(("watermark",), key=True),
            )
        return source

    # -- generated models ----------------------------------------------------------------------------
    def _generated(
        self, key: str, materialization: str, build, depends: tuple[str, ...], module: str, spec_extra=None
    ) -> ModelPlan:
        spec = ModelSpec.model_validate(
            {"name": self.names[key], "module": module, "materialization": materialization, "schema": "manifest",
             "sql": "generated by the watermark strategy", **(spec_extra or {})}
        )  # fmt: skip
        return ModelPlan(
            name=spec.name,
            module=module,
            materialization=materialization,
            table=self.table("manifest" if key == "update" else key),
            query=None,
            spec=spec,
            doc=self.loaded.doc,
            depends_on=depends,
            output_columns=tuple(MANIFEST_COLUMNS) + (("is_stale",) if key == "health" else ()),
            column_types=dict(MANIFEST_COLUMNS) if key == "update" else {},
            scratch=False,
            bot_filter=None,
            app_filter=None,
            upsert_lookback_days=0,
            build_query=build,
        )

    def _health_model(self) -> ModelPlan:
        reads = list(self.reads.values())  # every watermark, also under --select
        config = self.config

        def build(d: Dialect) -> exp.Query:
            return health_query(d, reads, self.table("manifest"), config.stale_after_hours, self._source_tables(), config.clock_skew_minutes)

        model = self._generated("health", "view", build, (self.names["manifest"],), self.config.module)
        return replace(model, output_columns=(*model.output_columns, "future_rows"))

    def checks(self) -> list[Check]:
        skew = self.config.clock_skew_minutes
        description = (
            f"source rows stamped more than {skew} minutes after the warehouse's clock were not read; they wait "
            "until their time (a broken server clock? incremental.clock_skew_minutes sets the allowance)"
        )
        columns = ("model", "source", "instance", "future_rows")
        health = self.names["health"]
        return [Check(f"{self.prefix}future_rows", description, self.table("health"), columns, "future_rows", health)]

    def _source_tables(self) -> dict[str, exp.Table]:
        """The source table each watermark model reads (its instance's, for a for_each model)."""
        tables = {}
        for name, read in self.reads.items():
            source = self.loaded.spec.sources[read.source]
            by_instance = dict(zip(source.instances or (None,), source_tables(self.loaded.spec, source)))
            tables[name] = by_instance[read.instance]
        return tables

    def _update_model(self) -> ModelPlan:
        """An upsert into the manifest on (model, source), after the watermark models and every
        model downstream of them (a scheduler running steps in parallel waits for all)."""
        depends = (self.names["manifest"], *self.reads, *sorted(_downstream(self.user_models, set(self.reads))))
        return self._generated(
            "update", "incremental", self._update_query, depends, COMPLETE_MODULE, {"unique_key": ["model", "source"]}
        )

    def _update_query(self, d: Dialect) -> exp.Query:
        # Built when the plan is built: ``select`` may narrow ``tracked`` after ``models``.
        tables = {name: self.user_models[name].table for name in self.tracked}
        return update_query(d, [self.reads[n] for n in self.tracked], tables, self.table("manifest"))

    def _build_manifest_table(self, plan: Plan, step: Step, d: Dialect) -> Script:
        """The manifest, keyed like the update step upserts it (a Postgres index on the key)."""
        table = self.table("manifest")
        columns = [(name, d.data_type(logical)) for name, logical in MANIFEST_COLUMNS.items()]
        shape = TableShape(table, Layout(unique_key=("model", "source")))
        create = ddl.create_table_columns(table, columns, d.table_properties(shape, scratch=False))
        return Script(statements=[create, *d.after_create(shape)])


# -- helpers --------------------------------------------------------------------------------------


def _check_backfill_keys(model: LoadedModel) -> None:
    spec = model.spec
    if spec.materialization != "incremental":
        message = "'backfill' only applies to materialization: incremental"
        raise SnowgenError.at("SG102", message, model.doc.location(("backfill",), key=True))
    if spec.upsert_date_key is None:
        raise SnowgenError.at(
            "SG103",
            "'backfill' needs 'upsert_date_key': the column whose [from, to) range a backfill replaces",
            model.doc.location(("backfill",), key=True),
        )


def _timestamp_type(source: SourceSpec) -> str:
    column = source.columns.get(source.timestamp)
    return column.type if column is not None else "timestamp"


def _downstream(models: dict[str, ModelPlan], roots: set[str]) -> set[str]:
    """Models that read any of ``roots``, directly or through other models."""
    return {n for n in downstream({name: model.depends_on for name, model in models.items()}, roots) if n in models}


def _backfill_target(loaded: LoadedProject, backfill: Backfill) -> tuple[str, str | None]:
    """(source, instance) that ``--backfill`` names: ``p1``, ``deals.p1`` or a source
    without instances, among the sources some enabled model reads with a watermark."""
    sources = loaded.spec.sources
    read = sorted({m.spec.watermark for m in loaded.models if m.spec.enabled and m.spec.watermark in sources})
    choices = {s: (s, None) for s in read if not sources[s].instances}
    for s in read:
        choices.update({f"{s}.{i}": (s, i) for i in sources[s].instances})
    matches = {name: target for name, target in choices.items() if backfill.source in (name, name.split(".")[-1])}
    if len(matches) == 1:
        return next(iter(matches.values()))
    if len(matches) > 1:
        names = ", ".join(sorted(matches))
        raise SnowgenError.at("SG406", f"--backfill {backfill.source} is ambiguous: name one of {names}")
    if backfill.source in read:
        known = ", ".join(f"{backfill.source}.{i}" for i in sources[backfill.source].instances)
        message = f"--backfill {backfill.source}: the source has instances; name one of {known}"
        raise SnowgenError.at("SG406", message)
    hint = difflib.get_close_matches(backfill.source, [*choices, *(n.split(".")[-1] for n in choices)], n=1)
    message = f"--backfill: no model reads '{backfill.source}' with a watermark"
    if hint:
        message += f" (did you mean '{hint[0]}'?)"
    elif choices:
        message += f"; choose one of {', '.join(sorted(choices))}"
    raise SnowgenError.at("SG406", message)
