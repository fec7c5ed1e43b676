"""Full refresh, built: the statements that drop a plan's incremental state
(snowgen.plan.refresh says when a plan may have them)."""

from __future__ import annotations

from sqlglot import exp

from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import Script
from snowgen.plan.data import Plan, Step


def state_tables(plan: Plan) -> list[exp.Table]:
    """Incremental model tables, their staged tables, and every table the strategy keeps in
    the manifest schema."""
    tables = {m.table.sql(): m.table for m in plan.models.values() if m.materialization == "incremental"}
    tables.update((item.table.sql(), item.table) for item in plan.staged.values())
    manifest_schema = plan.schemas["manifest"]
    for table in plan.strategy.tables.values():
        if table.db == manifest_schema:
            tables.setdefault(table.sql(), table)
    return [tables[key] for key in sorted(tables)]


def build_full_refresh(plan: Plan, step: Step, dialect: Dialect) -> Script:
    drops = [dialect.drop_table(table.copy()) for table in state_tables(plan)]
    return Script(statements=drops)
