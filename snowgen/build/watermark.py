"""The watermark strategy's SQL, built from the frozen
:class:`~snowgen.plan.watermark.WatermarkPlan`: each watermark model's bound watermark, a
backfill's replaced rows, the manifest table, the update and the health view.
:mod:`snowgen.build.watermark_sql` holds the queries.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.build import ddl
from snowgen.build.clock import not_after
from snowgen.build.late_data import intervals_update_query, late_since_value, read_intervals_query
from snowgen.build.strategy import StrategySql
from snowgen.build.watermark_sql import bind_since, health_query, update_query
from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import Layout, Script, TableShape
from snowgen.plan.data import ModelPlan, Plan, Step
from snowgen.plan.late_data import INTERVAL_COLUMNS, INTERVAL_KEY, LATE_SINCE
from snowgen.plan.references import tables_by_instance
from snowgen.plan.watermark import MANIFEST_COLUMNS, NOT_AFTER, SINCE, WatermarkPlan, WatermarkRead, in_range


class WatermarkSql(StrategySql):
    def inputs(self, plan: Plan, model: ModelPlan, dialect: Dialect, script: Script) -> dict[str, exp.Expr]:
        """A watermark model's watermark (minus the lookback), bound the dialect's way, and
        the latest time it reads (now plus the clock skew allowance)."""
        strategy = _strategy(plan)
        read = strategy.reads.get(model.name)
        if read is None or strategy.backfill is not None:
            return {}
        config = strategy.config
        since = bind_since(dialect, script, strategy.table("manifest"), read, config.lookback_hours)
        values = {SINCE: since, NOT_AFTER: not_after(dialect, config.clock_skew_minutes, read.logical_type)}
        if strategy.tracks_intervals:
            values.update(_record_intervals(plan, read, dialect, script, since))
        return values

    def replace_where(self, plan: Plan, model: ModelPlan) -> exp.Expr | None:
        """Backfill: the model's rows of the backfilled instance in [from, to)."""
        strategy = _strategy(plan)
        if model.name not in strategy.replaced:
            return None
        key = model.spec.upsert_date_key
        logical = model.column_types.get(key, "timestamp")
        condition = in_range(exp.column(key), strategy.backfill.start, strategy.backfill.end, logical)
        instance = strategy.target[1]
        if instance is None:
            return condition
        column = exp.column(model.spec.backfill.instance_column)
        return exp.and_(exp.EQ(this=column, expression=exp.Literal.string(instance)), *condition.flatten())


def _record_intervals(
    plan: Plan, read: WatermarkRead, d: Dialect, script: Script, since: exp.Expr
) -> dict[str, exp.Expr]:
    """Before the model reads: its scratch table of the intervals this run records (and
    reads again, with late_data: reprocess), and the earliest of those it reads again."""
    strategy = _strategy(plan)
    config, table = strategy.config, strategy.read_table(read.model)
    query = read_intervals_query(
        d, read, _source_tables(plan)[read.model], strategy.table("intervals"), since,
        lookback_hours=config.lookback_hours, horizon_hours=config.late_data_horizon_hours,
        skew_minutes=config.clock_skew_minutes, reprocess=config.late_data == "reprocess",
    )  # fmt: skip
    statements = ddl.replace_table(table, query, d.table_properties(TableShape(table, Layout(), None), scratch=True), d)
    script.add(*(statements if d.create_or_replace_table else d.in_transaction(statements)))
    if config.late_data != "reprocess":
        return {}
    earliest = d.bind_values(script, "snowgen_late", {"since": late_since_value()}, table.copy())
    return {LATE_SINCE: earliest["since"]}


def _strategy(plan: Plan) -> WatermarkPlan:
    assert isinstance(plan.strategy, WatermarkPlan)
    return plan.strategy


# -- the generated models' queries (snowgen.build.strategies.GENERATED_QUERIES) ----------------------
def health_view_query(plan: Plan, model: ModelPlan, d: Dialect) -> exp.Query:
    """Every watermark of the project, also under --select."""
    s = _strategy(plan)
    reads = list(s.reads.values())
    return health_query(
        d, reads, s.table("manifest"), s.config.stale_after_hours, _source_tables(plan), s.config.clock_skew_minutes
    )


def update_manifest_query(plan: Plan, model: ModelPlan, d: Dialect) -> exp.Query:
    """The watermarks this plan advances (``tracked``), within the recorded intervals."""
    s = _strategy(plan)
    tables = {name: plan.models[name].table for name in s.tracked}
    intervals = s.table("intervals") if s.tracks_intervals else None
    return update_query(
        d, [s.reads[n] for n in s.tracked], tables, s.table("manifest"), intervals, s.config.lookback_hours
    )


def intervals_query(plan: Plan, model: ModelPlan, d: Dialect) -> exp.Query:
    """The intervals the tracked watermark models' runs recorded."""
    s = _strategy(plan)
    return intervals_update_query(d, [s.reads[n] for n in s.tracked], {n: s.read_table(n) for n in s.tracked})


def _source_tables(plan: Plan) -> dict[str, exp.Table]:
    """The source table each watermark model reads (its instance's, for a for_each model)."""
    tables = {}
    for name, read in _strategy(plan).reads.items():
        tables[name] = tables_by_instance(plan.spec, plan.spec.sources[read.source])[read.instance]
    return tables


# -- steps that are not models (snowgen.build.steps.BUILDERS) ----------------------------------------
def build_manifest_table(plan: Plan, step: Step, d: Dialect) -> Script:
    """The manifest or the intervals table, created if missing."""
    strategy = _strategy(plan)
    key = "intervals" if step.id == strategy.names["intervals"] else "manifest"
    return Script(statements=state_table(strategy, key, d))


def state_table(strategy: WatermarkPlan, key: str, d: Dialect) -> list[exp.Expr]:
    """The manifest (``key`` manifest) or the intervals table, keyed like the update steps
    upsert them (a Postgres index on the key)."""
    if key == "intervals":
        table, logical_columns, unique = strategy.table("intervals"), INTERVAL_COLUMNS, INTERVAL_KEY
    else:
        table, logical_columns, unique = strategy.table("manifest"), MANIFEST_COLUMNS, ("model", "source")
    columns = [(name, d.data_type(logical)) for name, logical in logical_columns.items()]
    shape = TableShape(table, Layout(unique_key=unique))
    create = ddl.create_table_columns(table, columns, d.table_properties(shape, scratch=False))
    return [create, *d.after_create(shape)]
