"""Run metadata, written by the SQL itself: when each step of each run started and ended,
and how many rows it wrote.

The step after the schemas records the run: a one-row table holding the run id (the UTC
time the run took the run lock, read from the lock row: snowgen.build.run_lock). Every later step appends a ``start`` row when it begins and an ``end``
row, with a row count, when it ends; a view pairs them per run and step. Appends only (no
UPDATE with subqueries, which Delta and some engines limit), so any warehouse runs it.

A plan made with ``--select`` keeps its run id in a table of its own, so a module that
runs on its own schedule (page views hourly, users daily) never overwrites another
plan's run id while both run.
"""

from __future__ import annotations

import hashlib

from sqlglot import exp

from snowgen.build import ddl, run_lock
from snowgen.build.materialize import STAGE_SUFFIX
from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import Layout, Script, TableShape
from snowgen.plan.data import Plan, Step, StepKind
from snowgen.plan.references import qualified

COLUMNS = {
    "run_id": "timestamp",
    "module": "string",
    "step": "string",
    "event": "string",
    "at": "timestamp",
    "row_count": "bigint",
}


def is_recorded(plan: Plan) -> bool:
    """Does every step of ``plan`` record its start and end (the plan starts a run)?"""
    return any(step.kind == StepKind.START_RUN for step in plan.steps)


def metadata_table(plan: Plan) -> exp.Table:
    return qualified(f"{plan.project}_run_metadata", plan.schemas["manifest"], plan.database)


def run_table(plan: Plan) -> exp.Table:
    name = f"{plan.project}_current_run"
    if plan.selected is not None:
        digest = hashlib.sha1(",".join(sorted(plan.selected)).encode()).hexdigest()[:10]
        name = f"{name}__{digest}"
    return qualified(name, plan.schemas["scratch"], plan.database)


def steps_view(plan: Plan) -> exp.Table:
    return qualified(f"{plan.project}_run_steps", plan.schemas["manifest"], plan.database)


def run_id_query(plan: Plan) -> exp.Select:
    """The id of the run under way (readable once the start_run step has run)."""
    return exp.Select(expressions=[exp.column("run_id")]).from_(run_table(plan), copy=False)


def build_start_run(plan: Plan, step: Step, d: Dialect) -> Script:
    """The metadata table and its view (if missing), then this run's id."""
    columns = [(name, d.data_type(logical)) for name, logical in COLUMNS.items()]
    table = ddl.create_table_columns(
        metadata_table(plan), columns, d.table_properties(_plain(metadata_table(plan)), scratch=False)
    )
    run = run_lock.run_id_query(plan)  # every plan that starts a run takes the run lock first
    run_props = d.table_properties(_plain(run_table(plan)), scratch=True)
    statements = [table, _steps_view(plan), *ddl.replace_table(run_table(plan), run, run_props, d)]
    return Script(statements=statements)


#: steps that record no start and end: they run before the run table is made, or are no work
#: on the data (grants)
UNRECORDED = (StepKind.ACQUIRE_LOCK, StepKind.SCHEMAS, StepKind.START_RUN, StepKind.GRANT, StepKind.RELEASE_LOCK)


def wrapped(plan: Plan, step: Step, statements: list[exp.Expr], d: Dialect) -> list[exp.Expr]:
    """The step's statements between its start and end rows (declarations stay first)."""
    if step.kind in UNRECORDED:
        return statements
    leading = [s for s in statements if isinstance(s, exp.Declare)]
    body = [s for s in statements if not isinstance(s, exp.Declare)]
    return [*leading, _event(plan, step, "start", None, d), *body, _event(plan, step, "end", _row_count(plan, step), d)]


def _event(plan: Plan, step: Step, event: str, rows: exp.Expr | None, d: Dialect) -> exp.Insert:
    values = [
        exp.column("run_id", table="r"),
        exp.Literal.string(step.module),
        exp.Literal.string(step.id),
        exp.Literal.string(event),
        d.cast(d.now_utc(), "timestamp"),
        d.cast(rows if rows is not None else exp.Null(), "bigint"),
    ]
    select = exp.Select(expressions=values).from_(exp.alias_(run_table(plan), "r", table=True), copy=False)
    target = exp.Schema(this=metadata_table(plan), expressions=[exp.to_identifier(c) for c in COLUMNS])
    return exp.Insert(this=target, expression=select)


def _row_count(plan: Plan, step: Step) -> exp.Expr | None:
    """Rows the step wrote: a table's or a seed's rows, or the rows an upsert staged; none for views."""
    if step.id in plan.seeds:
        table = plan.seeds[step.id].table.copy()
        return exp.Select(expressions=[exp.Count(this=exp.Star())]).from_(table, copy=False).subquery(copy=False)
    model = plan.models.get(step.model) if step.model else None
    if model is None or model.materialization == "view" or step.kind == StepKind.AUDIT:
        return None  # (an audit writes only the test results)
    table = model.table.copy()  # rendering quotes the nodes it holds: never the plan's own
    if model.materialization == "incremental":
        table = qualified(model.name + STAGE_SUFFIX, plan.schemas["scratch"], plan.database)
    return exp.Select(expressions=[exp.Count(this=exp.Star())]).from_(table, copy=False).subquery(copy=False)


def _steps_view(plan: Plan) -> exp.Create:
    """One row per run and step: its start, end and rows (end is NULL while it runs, or if
    it failed)."""
    t = "m"

    def at_of(event: str) -> exp.Expr:  # CASE, not IF: Spark's IF wants all three arguments
        is_event = exp.EQ(this=exp.column("event", table=t), expression=exp.Literal.string(event))
        return exp.Max(this=exp.Case(ifs=[exp.If(this=is_event, true=exp.column("at", table=t))]))

    started, ended = at_of("start"), at_of("end")
    query = (
        exp.Select(
            expressions=[
                exp.column("run_id", table=t),
                exp.column("module", table=t),
                exp.column("step", table=t),
                exp.alias_(started, "started_at"),
                exp.alias_(ended, "finished_at"),
                exp.alias_(exp.Max(this=exp.column("row_count", table=t)), "row_count"),
            ]
        )
        .from_(exp.alias_(metadata_table(plan), t, table=True), copy=False)
        .group_by(exp.column("run_id", table=t), exp.column("module", table=t), exp.column("step", table=t), copy=False)
    )
    return exp.Create(kind="VIEW", replace=True, this=steps_view(plan), expression=query)


def _plain(table: exp.Table) -> TableShape:
    return TableShape(table, Layout())
