"""What a run built: one row-count query per table the plan's models write, and the tables
whose rows a step's reported rows leave out (the run's own bookkeeping)."""

from __future__ import annotations

from sqlglot import exp

from snowgen.build import audit, run_lock, run_metadata
from snowgen.build.materialize import STAGE_SUFFIX
from snowgen.dialects.base import Dialect
from snowgen.plan.data import Plan, StepKind
from snowgen.plan.references import qualified
from snowgen.plan.watermark import WatermarkPlan

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


def bookkeeping_tables(plan: Plan) -> list[exp.Table]:
    """The tables a step writes for the run's own sake, not as its result: the run metadata
    and the current run's id, the run lock, the staged copy each model and seed builds
    before moving its rows into its table (counting it would count those rows twice), and
    the intervals a watermark model's read records (snowgen.plan.late_data), and the results of
    the data tests (snowgen.build.audit)."""
    tables = [run_metadata.metadata_table(plan), run_metadata.run_table(plan), run_lock.lock_table(plan)]
    tables.append(audit.results_table(plan))
    names = sorted({*plan.models, *plan.seeds})
    tables += [qualified(name + STAGE_SUFFIX, plan.schemas["scratch"], plan.database) for name in names]
    strategy = plan.strategy
    if isinstance(strategy, WatermarkPlan) and strategy.tracks_intervals:  # the intervals a read records
        tables += [strategy.read_table(name) for name in sorted(strategy.reads)]
    return tables
