"""The incremental strategies' SQL, by :attr:`snowgen.plan.data.StrategyPlan.kind`, and the
builders of the models they generate, by :attr:`snowgen.plan.data.ModelPlan.generated`."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from snowgen.build import sessions, watermark
from snowgen.build.strategy import StrategySql
from snowgen.dialects.base import Dialect
from snowgen.plan.data import ModelPlan, Plan

#: StrategyPlan.kind -> what the strategy adds to the SQL of its models
STRATEGY_SQL: dict[str, StrategySql] = {
    "none": StrategySql(),
    "sessions": sessions.SessionsSql(),
    "watermark": watermark.WatermarkSql(),
}

GeneratedQuery = Callable[[Plan, ModelPlan, Dialect], exp.Query]

#: ModelPlan.generated -> the builder of that generated model's query, per dialect
GENERATED_QUERIES: dict[str, GeneratedQuery] = {
    "sessions.limits": sessions.limits_query,
    "sessions.lifecycle": sessions.lifecycle_query,
    "sessions.sessions": sessions.sessions_query,
    "sessions.events": sessions.events_query,
    "sessions.complete": sessions.complete_query,
    "watermark.health": watermark.health_view_query,
    "watermark.update": watermark.update_manifest_query,
    "watermark.intervals": watermark.intervals_query,
}


def strategy_sql(plan: Plan) -> StrategySql:
    return STRATEGY_SQL[plan.strategy.kind]
