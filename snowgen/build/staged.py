"""Staged tables, built: the step that empties one, and the model as the target of its
staged copy (snowgen.plan.staged says which tables exist and who reads them)."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from snowgen.build.strategies import strategy_sql
from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import Layout, Script, TableShape
from snowgen.plan.data import Plan, StagedTable, Step


def consumed_by(plan: Plan, step: Step) -> StagedTable:
    return next(item for item in plan.staged.values() if item.consume_step == step.id)


def build_consume(plan: Plan, step: Step, dialect: Dialect) -> Script:
    """Empty the staged table, unless one of its readers skipped this run (its gate)."""
    item = consumed_by(plan, step)
    gates = [strategy_sql(plan).gate(plan, plan.models[r]) for r in item.readers]
    condition = exp.and_(*[g for g in gates if g is not None]) if any(g is not None for g in gates) else exp.true()
    return Script(statements=[exp.Delete(this=item.table.copy(), where=exp.Where(this=condition))])


def staged_target(ctx, stage: exp.Table, table: exp.Table):
    """The model as the target of its staged copy, and the CREATE that makes the staged
    table on first use (the model's columns, none of its layout: it is scratch)."""
    model, dialect = ctx.model, ctx.dialect
    props = dialect.table_properties(TableShape(table, Layout(), None), scratch=True)
    create = dialect.create_table_like(table, stage, list(model.output_columns), props)
    return replace(ctx, model=replace(model, table=table.copy())), create
