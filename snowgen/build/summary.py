"""What a run built: one row-count query per table the plan's models write."""

from __future__ import annotations

from sqlglot import exp

from snowgen.dialects.base import Dialect
from snowgen.plan.data import Plan, StepKind

#: the steps whose model's table a run summary counts (a view would run its query)
COUNTED_KINDS = frozenset({StepKind.TABLE, StepKind.INCREMENTAL})


def counted_tables(plan: Plan) -> list[exp.Table]:
    """The derived tables the plan's table and incremental model steps write, in plan order
    (scratch and manifest tables are the run's own bookkeeping)."""
    found: dict[tuple[str, str], exp.Table] = {}
    for step in plan.steps:
        if step.kind in COUNTED_KINDS and step.model:
            table = plan.models[step.model].table
            if table.db == plan.schemas["derived"]:
                found.setdefault((table.db, table.name), table)
    return list(found.values())


def row_count(table: exp.Table, dialect: Dialect) -> str:
    """``SELECT COUNT(*) FROM table``, printed for ``dialect``."""
    query = exp.Select(expressions=[exp.Count(this=exp.Star())]).from_(table.copy(), copy=False)
    return dialect.render(dialect.lower(query))
