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

A backfill (:mod:`snowgen.plan.backfill`) changes the plan: see that module.

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
  :func:`snowgen.build.watermark_sql.bind_since`), so BigQuery, Snowflake and Databricks
  filter the source by a variable they can prune partitions with.
- The health view is a view, not a table written by the run: a run that never comes is
  exactly what it must report.
- No correlated subqueries anywhere (Sail has none, and MERGE ON clauses must not need
  them): the update is a LEFT JOIN, the filter reads one bound value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar

from sqlglot import exp

from snowgen.errors import SnowgenError
from snowgen.plan.backfill import Backfill, backfill_target
from snowgen.plan.dag import downstream
from snowgen.plan.data import SETUP_STEP, Check, ModelPlan, Step, StepKind, StrategyPlan
from snowgen.plan.late_data import (
    INTERVAL_COLUMNS,
    INTERVAL_KEY,
    READ_SUFFIX,
    check_late_data,
    tracks_intervals,
    with_late_rows,
)
from snowgen.plan.references import Relation, instance_name, qualified, tables_by_instance, unknown_name
from snowgen.plan.strategy import StrategyPlanner, generated_model
from snowgen.spec.loader import LoadedModel, LoadedProject
from snowgen.spec.models import SourceSpec, WatermarkStrategySpec

COMPLETE_MODULE = "complete"

#: the placeholder standing for "this model's watermark minus the lookback" in a planned
#: body; the build replaces it by the value the dialect binds (see :func:`bind_since`)
SINCE = "snowgen_watermark_since"
#: the placeholder standing for "now plus the clock skew allowance" (clock.not_after)
NOT_AFTER = "snowgen_watermark_not_after"
MANIFEST_COLUMNS = {"model": "string", "source": "string", "instance": "string", "watermark": "timestamp"}


@dataclass(frozen=True)
class WatermarkRead:
    """One watermark row: a model (one table per instance for ``for_each``) reading a source."""

    model: str  # the model's table name, e.g. stg_deals__p1
    source: str
    instance: str | None  # the source instance it reads; None for a source without instances
    timestamp: str  # the source's timestamp column, which the model outputs too
    logical_type: str  # that column's logical type (timestamp unless declared otherwise)


# -- the filtered source (planned once, dialect-neutral) ---------------------------------------


def filtered_source(table: exp.Table, alias: str, condition: exp.Expr) -> exp.Subquery:
    """``(SELECT * FROM table AS alias WHERE condition)``: the source as a watermark model sees it."""
    select = exp.Select(expressions=[exp.Star()]).from_(exp.alias_(table.copy(), alias, table=True), copy=False)
    return select.where(condition, copy=False).subquery(copy=False)


def newer_than_watermark(timestamp: exp.Column) -> exp.Expr:
    """Rows at or after the watermark minus the lookback; every row while there is no
    watermark. At, not only after: a row with the watermark's very timestamp that lands
    after the run (two deals in one millisecond) is still read, even without a lookback;
    the rows re-read at the boundary are upserted again, which changes nothing. Rows
    stamped after now plus the clock skew allowance wait (clock.not_after)."""
    since = exp.Placeholder(this=SINCE)
    newer = exp.or_(exp.GTE(this=timestamp, expression=since), exp.Is(this=since.copy(), expression=exp.Null()))
    return exp.and_(exp.Paren(this=newer), exp.LTE(this=timestamp.copy(), expression=exp.Placeholder(this=NOT_AFTER)))


def in_range(column: exp.Column, start: dt.datetime, end: dt.datetime, logical_type: str) -> exp.Expr:
    """``start <= column < end``, the bounds typed like the column (a DATE column takes dates)."""
    low = exp.GTE(this=column, expression=_bound(start, logical_type, column.name))
    high = exp.LT(this=column.copy(), expression=_bound(end, logical_type, column.name))
    return exp.and_(low, high)


def _bound(value: dt.datetime, logical_type: str, column: str) -> exp.Expr:
    if logical_type == "date":
        if value.time() != dt.time():
            shown = value.isoformat(sep=" ")
            message = f"--from/--to: column '{column}' is a date, so the range takes dates, got {shown}"
            raise SnowgenError.at("SG406", message)
        return exp.Cast(this=exp.Literal.string(value.date().isoformat()), to=exp.DataType.build("DATE"))
    # A generic TIMESTAMP: each dialect's lowering spells snowgen's timestamp (UTC, no zone).
    return exp.Cast(this=exp.Literal.string(value.isoformat(sep=" ")), to=exp.DataType.build("TIMESTAMP"))


@dataclass(frozen=True, kw_only=True)
class WatermarkPlan(StrategyPlan):
    """The watermark strategy as planned: each watermark model's row, which of them this
    plan advances (``tracked``), and, for a backfill, what it replaces."""

    kind: ClassVar[str] = "watermark"
    config: WatermarkStrategySpec
    names: Mapping[str, str]  # table key -> table name
    schemas: Mapping[str, str]
    database: str | None
    reads: Mapping[str, WatermarkRead] = field(default_factory=dict)  # model table name -> its watermark row
    backfill: Backfill | None = None
    target: tuple[str, str | None] | None = None  # backfill: (source, instance)
    replaced: tuple[str, ...] = ()  # backfill: incremental models replacing the range's rows

    def table(self, key: str) -> exp.Table:
        """A fresh node for the manifest, the intervals or the health view (a sqlglot node has one parent)."""
        return qualified(self.names[key], self.schemas["manifest"], self.database)

    @property
    def tracks_intervals(self) -> bool:
        """Each run records the intervals it read (``late_data`` is not off; never in a backfill)."""
        return tracks_intervals(self.config) and self.backfill is None

    def read_table(self, model: str) -> exp.Table:
        """The scratch table of the intervals a watermark model's run records (snowgen.plan.late_data)."""
        return qualified(f"{model}{READ_SUFFIX}", self.schemas["scratch"], self.database)


class WatermarkPlanner(StrategyPlanner):
    def __init__(self, loaded: LoadedProject, schemas: dict[str, str], backfill: Backfill | None):
        self.loaded = loaded
        config: WatermarkStrategySpec = loaded.spec.incremental
        prefix = config.prefix if config.prefix is not None else f"{loaded.spec.project}_"
        self.prefix = prefix
        self.user_models: dict[str, ModelPlan] = {}
        check_late_data(loaded)
        names = {
            "manifest": f"{prefix}watermarks",
            "health": f"{prefix}watermark_health",
            "update": f"{prefix}watermarks_update",
            "intervals": f"{prefix}watermarks_intervals",
            "intervals_update": f"{prefix}watermarks_intervals_update",
        }
        self.plan = WatermarkPlan(
            config=config, names=names, schemas=dict(schemas), database=loaded.spec.database, backfill=backfill,
            target=backfill_target(loaded, backfill) if backfill else None,
            schema_keys=frozenset({"manifest", "scratch"} if tracks_intervals(config) else {"manifest"}),
            manifest_column="watermark",
        )  # fmt: skip
        self.plan = replace(self.plan, tables=self.tables(), manifest=self.plan.table("manifest"))

    def _state_keys(self) -> tuple[str, ...]:
        """The tables the strategy keeps between runs: the watermarks, and the intervals read."""
        return ("manifest", "intervals") if tracks_intervals(self.plan.config) else ("manifest",)

    def tables(self) -> dict[str, exp.Table]:
        return {self.plan.names[key]: self.plan.table(key) for key in self._state_keys()}

    def nodes(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {self.plan.names[key]: (self.plan.config.module, ()) for key in self._state_keys()}

    def leading_modules(self) -> list[str]:
        return [self.plan.config.module]

    def trailing_modules(self) -> list[str]:
        return [COMPLETE_MODULE]

    def steps_for(self, name: str) -> list[Step]:
        module, _ = self.nodes()[name]
        return [
            Step(
                id=name, module=module, kind=StepKind.WATERMARK_TABLE, spec_file="snowgen.yml", depends_on=(SETUP_STEP,)
            )
        ]

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
        nodes = []
        for instance, table in tables_by_instance(self.loaded.spec, source).items():
            node = filtered_source(table, name, self._condition(name, instance, column.copy(), source))
            if self.plan.config.late_data == "reprocess" and self.plan.backfill is None:
                reads = self.plan.read_table(instance_name(model.spec.name, instance) if instance else model.spec.name)
                node = with_late_rows(node, table, name, source.timestamp, exp.Placeholder(this=SINCE), reads)
            nodes.append(node)
        state = tuple(self.plan.names[key] for key in self._state_keys())
        return {name: Relation(tuple(nodes), state, instances)}

    def models(self, user_models: dict[str, ModelPlan]) -> dict[str, ModelPlan]:
        self.user_models = dict(user_models)  # the planner adds the generated models to its dict
        reads = {name: self._read(plan) for name, plan in user_models.items() if plan.spec.watermark}
        self.plan = replace(self.plan, reads=reads, tracked=tuple(reads))
        if self.plan.backfill is not None:
            self.plan = replace(self.plan, replaced=tuple(self._replacing()))
        generated = [self._health_model()]
        if reads and self.plan.tracks_intervals:
            generated.append(self._intervals_update_model())
        if reads and self.plan.backfill is None:
            generated.append(self._update_model())
        return {m.name: m for m in generated}

    def required_steps(self, selected: set[str]) -> dict[str, str]:
        advanced = self._advanced(selected)
        if not advanced or self.plan.backfill is not None:
            return {}
        why = f"the watermark update advances the watermark of '{advanced[0]}'"
        steps = {self.plan.names["update"]: why}
        if self.plan.tracks_intervals:
            steps[self.plan.names["intervals_update"]] = f"{why} within the intervals it read"
        return steps

    def completion_steps(self) -> set[str]:
        keys = ("intervals_update", "update") if self.plan.tracks_intervals else ("update",)
        return {self.plan.names[key] for key in keys}

    def setup_nodes(self) -> set[str]:
        return {self.plan.names[key] for key in self._state_keys()}

    def finish(self, selected: set[str] | None) -> WatermarkPlan:
        tracked = self._advanced(selected) if selected is not None else self.plan.tracked
        completes = {COMPLETE_MODULE: self.plan.names["update"]} if tracked and self.plan.backfill is None else {}
        return replace(self.plan, tracked=tracked, complete_steps=completes)

    def checks(self) -> list[Check]:
        skew = self.plan.config.clock_skew_minutes
        description = (
            f"source rows stamped more than {skew} minutes after the warehouse's clock were not read; they wait "
            "until their time (a broken server clock? incremental.clock_skew_minutes sets the allowance)"
        )
        columns = ("model", "source", "instance", "future_rows")
        health = self.plan.names["health"]
        return [
            Check(f"{self.prefix}future_rows", description, self.plan.table("health"), columns, "future_rows", health)
        ]

    # -- planning helpers ----------------------------------------------------------------------------
    def _advanced(self, selected: set[str]) -> tuple[str, ...]:
        """With --select, a watermark advances only when the model and every incremental
        model downstream of it run: otherwise rows not yet consumed would be skipped."""
        return tuple(n for n in self.plan.tracked if n in selected and self._consumers({n}) <= selected)

    def _condition(self, source: str, instance: str | None, column: exp.Column, spec: SourceSpec) -> exp.Expr:
        """Which rows of one source instance a watermark model reads in this plan."""
        backfill = self.plan.backfill
        if backfill is None:
            return newer_than_watermark(column)
        if self.plan.target != (source, instance):
            return exp.false()  # a backfill leaves every other source alone
        return in_range(column, backfill.start, backfill.end, timestamp_type(spec))

    def _read(self, plan: ModelPlan) -> WatermarkRead:
        name = plan.spec.watermark
        source = self.loaded.spec.sources[name]
        # A source with instances is read by a for_each model of it (checked): one table each.
        instance = plan.name[len(plan.spec.name) + 2 :] if source.instances else None
        return WatermarkRead(plan.name, name, instance, source.timestamp, timestamp_type(source))

    def _consumers(self, roots: set[str]) -> set[str]:
        """Incremental models downstream of ``roots``: they consume the rows read."""
        return {n for n in _downstream(self.user_models, roots) if self.user_models[n].materialization == "incremental"}

    def _replacing(self) -> list[str]:
        """Backfill: the incremental models downstream of the backfilled instance's watermark
        models that declare how to find its rows (the others upsert what they are given)."""
        target = self.plan.target
        roots = {n for n, read in self.plan.reads.items() if (read.source, read.instance) == target}
        replaced = []
        for name in sorted(self._consumers(roots)):
            plan = self.user_models[name]
            if plan.spec.backfill is None:
                continue
            if target[1] is not None and plan.spec.backfill.instance_column is None:
                source, instance = target
                raise SnowgenError.at(
                    "SG406",
                    f"--backfill {source}.{instance}: model '{plan.spec.name}' cannot tell the rows of instance "
                    f"'{instance}' apart; set backfill.instance_column to the column holding the instance name",
                    plan.doc.location(("backfill",), key=True),
                )
            replaced.append(name)
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
    def _health_model(self) -> ModelPlan:
        """The health view: every watermark, also under --select (built from ``reads``)."""
        plan = self.plan
        return generated_model(
            self.loaded.doc, strategy="watermark", generated="watermark.health", name=plan.names["health"],
            module=plan.config.module, materialization="view", schema_key="manifest", table=plan.table("health"),
            depends_on=(plan.names["manifest"],), columns=(*MANIFEST_COLUMNS, "is_stale", "future_rows"),
            output_types={**MANIFEST_COLUMNS, "is_stale": "boolean", "future_rows": "bigint"},
        )  # fmt: skip

    def _update_model(self) -> ModelPlan:
        """An upsert into the manifest on (model, source), after the watermark models and every
        model downstream of them (a scheduler running steps in parallel waits for all), and
        after the intervals they read are recorded (the watermark never passes their end)."""
        plan, reads = self.plan, set(self.plan.reads)
        depends = (plan.names["manifest"], *plan.reads, *sorted(_downstream(self.user_models, reads)))
        if plan.tracks_intervals:
            depends = (*depends, plan.names["intervals_update"])
        return generated_model(
            self.loaded.doc, strategy="watermark", generated="watermark.update", name=plan.names["update"],
            module=COMPLETE_MODULE, materialization="incremental", schema_key="manifest", table=plan.table("manifest"),
            depends_on=depends, columns=tuple(MANIFEST_COLUMNS), column_types=dict(MANIFEST_COLUMNS),
            spec_extra={"unique_key": ["model", "source"]},
        )  # fmt: skip

    def _intervals_update_model(self) -> ModelPlan:
        """An upsert into the intervals table on (model, source, interval_start) of the
        intervals each watermark model's run read, after every model downstream of them."""
        plan, reads = self.plan, set(self.plan.reads)
        depends = (plan.names["intervals"], *plan.reads, *sorted(_downstream(self.user_models, reads)))
        return generated_model(
            self.loaded.doc, strategy="watermark", generated="watermark.intervals", name=plan.names["intervals_update"],
            module=COMPLETE_MODULE, materialization="incremental", schema_key="manifest", table=plan.table("intervals"),
            depends_on=depends, columns=tuple(INTERVAL_COLUMNS), column_types=dict(INTERVAL_COLUMNS),
            spec_extra={"unique_key": list(INTERVAL_KEY)},
        )  # fmt: skip


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


def timestamp_type(source: SourceSpec) -> str:
    column = source.columns.get(source.timestamp)
    return column.type if column is not None else "timestamp"


def _downstream(models: Mapping[str, ModelPlan], roots: set[str]) -> set[str]:
    """Models that read any of ``roots``, directly or through other models."""
    return {n for n in downstream({name: model.depends_on for name, model in models.items()}, roots) if n in models}
