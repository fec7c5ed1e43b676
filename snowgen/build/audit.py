"""The audit step's SQL: a model's data tests (snowgen.plan.data_tests), each a query of its
failing rows, counted into ``<manifest>.<project>_test_results``; then a statement that fails,
through the dialect's failure mechanism (Dialect.fail_with, as the run lock's check does),
when an error-severity test found failing rows. Its message starts with
``snowgen_test_failed`` and names the test and the model, so a scheduler running the files
stops there too, before the step that advances the manifest.

Which rows a test reads:

- a view or table: all of them;
- an incremental model: the rows this run wrote, i.e. the rows whose unique key is in the
  model's stage table (``<model>__snowgen_stage``, the run's rows before the upsert, kept
  until the next run). ``unique`` reads every row of the table whose tested columns equal
  those of such a row, so a duplicate of an old key fails it. ``row_count``, ``freshness``
  and ``sql`` tests read what they read in full.

The results are recorded by one INSERT, committed before the failing check runs: a failed
test's counts stay for ``snowgen test`` and for whoever looks.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from snowgen.build import clock, ddl, run_lock
from snowgen.build.materialize import STAGE_SUFFIX
from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import Layout, Script, TableShape
from snowgen.plan.data import ModelPlan, Plan, Step
from snowgen.plan.data_tests import DataTest
from snowgen.plan.references import qualified

#: the results table's columns and their logical types
RESULT_COLUMNS = {
    "run_id": "timestamp",  # the run's (its run lock's) id; NULL when ``snowgen test`` ran the test
    "tested_at": "timestamp",
    "model": "string",
    "test_name": "string",
    "test_kind": "string",
    "severity": "string",
    "failing_rows": "bigint",
}
#: how an error-severity failure's message starts (snowgen run looks for it)
FAILED_MARKER = "snowgen_test_failed"
#: kinds that read only an incremental model's rows of this run
WINDOWED = ("unique", "unique_combination", "not_null", "accepted_values", "relationships")

ROWS, TABLE, STAGE, PARENT = "snowgen_rows", "snowgen_table", "snowgen_stage", "snowgen_parent"


def results_table(plan: Plan) -> exp.Table:
    return qualified(f"{plan.project}_test_results", plan.schemas["manifest"], plan.database)


def build_audit(plan: Plan, step: Step, d: Dialect) -> Script:
    model = plan.models[step.model]
    for test in model.tests:
        if test.query is not None:  # a custom test's SQL, written by the user like a body
            d.refuse_unsupported(test.query)
    counts = [_count(plan, model, test, d) for test in model.tests]
    union = counts[0]
    for query in counts[1:]:
        union = exp.Union(this=union, expression=query, distinct=False)
    run = exp.Select(expressions=[exp.alias_(exp.Max(this=exp.column("run_id")), "run_id")])
    run = run.from_(run_lock.lock_table(plan), copy=False).where(run_lock.held_by_this_project(plan), copy=False)
    values = [exp.column("run_id", table="snowgen_run"), exp.alias_(d.cast(d.now_utc(), "timestamp"), "tested_at")]
    values += [exp.column(c, table="snowgen_counts") for c in list(RESULT_COLUMNS)[2:]]
    select = (
        exp.Select(expressions=values)
        .from_(union.subquery("snowgen_counts", copy=False), copy=False)
        .join(run.subquery("snowgen_run", copy=False), join_type="CROSS", copy=False)
    )
    target = exp.Schema(this=results_table(plan), expressions=[exp.to_identifier(c) for c in RESULT_COLUMNS])
    # (the manifest schema is the plan's setup step's: the run lock's table lives there too)
    statements = [create_results_table(plan, d), exp.Insert(this=target, expression=select)]
    if any(test.severity == "error" for test in model.tests):
        statements.append(_check(plan, model, d))
    return Script(statements=statements)


def create_results_table(plan: Plan, d: Dialect) -> exp.Create:
    columns = [(name, d.data_type(logical)) for name, logical in RESULT_COLUMNS.items()]
    properties = d.table_properties(TableShape(results_table(plan), Layout()), scratch=False)
    return ddl.create_table_columns(results_table(plan), columns, properties)


def _count(plan: Plan, model: ModelPlan, test: DataTest, d: Dialect) -> exp.Select:
    """One row: the test's name, kind and severity, and how many rows its failing query returns."""
    failing = FAILING[test.kind](plan, model, test, d)
    labels = {"model": model.name, "test_name": test.name, "test_kind": test.kind, "severity": test.severity}
    items: list[exp.Expr] = [exp.alias_(exp.Literal.string(v), k) for k, v in labels.items()]
    items.append(exp.alias_(d.cast(exp.Count(this=exp.Star()), "bigint"), "failing_rows"))
    return exp.Select(expressions=items).from_(failing.subquery("snowgen_failing", copy=False), copy=False)


def _check(plan: Plan, model: ModelPlan, d: Dialect) -> exp.Select:
    """Fails with ``snowgen_test_failed: test T of model M failed: N failing rows`` when an
    error-severity test of the model's latest results found rows. Never a constant: Postgres
    and Snowflake may evaluate a constant failing branch of a CASE while planning
    (https://www.postgresql.org/docs/15/functions-conditional.html#FUNCTIONS-CASE)."""
    r = "snowgen_result"
    pieces = [
        exp.Literal.string(f"{FAILED_MARKER}: test "), exp.column("test_name", table=r),
        exp.Literal.string(f" of model {model.name} failed: "),
        d.cast(exp.column("failing_rows", table=r), "string"), exp.Literal.string(" failing rows"),
    ]  # fmt: skip
    message = run_lock.message_of(pieces)
    failed = exp.GT(this=exp.column("failing_rows", table=r), expression=exp.Literal.number(0))
    latest = (
        exp.Select(expressions=[exp.Max(this=exp.column("tested_at"))])
        .from_(results_table(plan), copy=False)
        .where(_is(exp.column("model"), model.name), copy=False)
    )
    condition = exp.and_(
        _is(exp.column("model", table=r), model.name),
        _is(exp.column("severity", table=r), "error"),
        exp.EQ(this=exp.column("tested_at", table=r), expression=latest.subquery(copy=False)),
    )
    check = exp.Case(ifs=[exp.If(this=failed, true=d.fail_with(message))])
    return (
        exp.Select(expressions=[exp.alias_(check, "test_check")])
        .from_(exp.alias_(results_table(plan), r, table=True), copy=False)
        .where(condition, copy=False)
    )


def _is(column: exp.Column, text: str) -> exp.Expr:
    return exp.EQ(this=column, expression=exp.Literal.string(text))


# -- the rows a test reads ------------------------------------------------------------------------------


def _stage(plan: Plan, model: ModelPlan) -> exp.Table:
    return qualified(model.name + STAGE_SUFFIX, plan.schemas["scratch"], plan.database)


def _matching(columns: tuple[str, ...], left: str, right: str) -> exp.Expr:
    return exp.and_(*(exp.EQ(this=exp.column(c, table=left), expression=exp.column(c, table=right)) for c in columns))


def _written_this_run(plan: Plan, model: ModelPlan, columns: tuple[str, ...]) -> exp.Expr:
    """The table's rows (alias TABLE) whose ``columns`` equal those of a row of the stage."""
    stage = exp.alias_(_stage(plan, model), STAGE, table=True)
    inner = exp.Select(expressions=[exp.Literal.number(1)]).from_(stage, copy=False)
    return exp.Exists(this=inner.where(_matching(columns, STAGE, TABLE), copy=False))


def _rows(plan: Plan, model: ModelPlan, test: DataTest, windowed_by: tuple[str, ...] | None = None) -> exp.Subquery:
    """The rows the test reads, as ``ROWS``: the table's, those this run wrote where the test
    reads only them (matched on ``windowed_by``, by default the unique key), then the filter."""
    query = exp.Select(expressions=[exp.Star()]).from_(exp.alias_(model.table.copy(), TABLE, table=True), copy=False)
    if model.materialization == "incremental" and test.kind in WINDOWED and test.this_run_only:
        query = query.where(_written_this_run(plan, model, windowed_by or model.unique_key), copy=False)
    if test.condition is not None:
        query = exp.Select(expressions=[exp.Star()]).from_(query.subquery("snowgen_tested", copy=False), copy=False)
        query = query.where(test.condition.copy(), copy=False)
    return query.subquery(ROWS, copy=False)


def _columns(test: DataTest, table: str | None = ROWS) -> list[exp.Column]:
    return [exp.column(c, table=table) for c in test.columns]


def _unique(plan: Plan, model: ModelPlan, test: DataTest, d: Dialect) -> exp.Select:
    """Values of the columns held by more than one row (dbt's unique skips NULLs; the
    combination of columns does not)."""
    query = exp.Select(expressions=_columns(test)).from_(_rows(plan, model, test, test.columns), copy=False)
    if test.kind == "unique":
        query = query.where(exp.and_(*(exp.Not(this=exp.Is(this=c, expression=exp.Null())) for c in _columns(test))))
    count = exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1))
    return query.group_by(*_columns(test), copy=False).having(count, copy=False)


def _not_null(plan: Plan, model: ModelPlan, test: DataTest, d: Dialect) -> exp.Select:
    nulls = exp.or_(*(exp.Is(this=c, expression=exp.Null()) for c in _columns(test)))
    return exp.Select(expressions=_columns(test)).from_(_rows(plan, model, test), copy=False).where(nulls, copy=False)


def _accepted_values(plan: Plan, model: ModelPlan, test: DataTest, d: Dialect) -> exp.Select:
    [column] = _columns(test)
    allowed = [_literal(value) for value in test.values]
    outside = exp.and_(
        exp.Not(this=exp.Is(this=column.copy(), expression=exp.Null())), exp.Not(this=column.copy().isin(*allowed))
    )
    return exp.Select(expressions=[column]).from_(_rows(plan, model, test), copy=False).where(outside, copy=False)


def _literal(value: object) -> exp.Expr:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def _relationships(plan: Plan, model: ModelPlan, test: DataTest, d: Dialect) -> exp.Select:
    """Values with no row of the parent holding them in ``field`` (NULLs pass, as in dbt)."""
    [column] = _columns(test)
    parent = exp.alias_(test.parent.copy(), PARENT, table=True)
    found = exp.EQ(this=exp.column(test.field, table=PARENT), expression=column.copy())
    exists = exp.Exists(this=exp.Select(expressions=[exp.Literal.number(1)]).from_(parent, copy=False).where(found))
    orphan = exp.and_(exp.Not(this=exp.Is(this=column.copy(), expression=exp.Null())), exp.Not(this=exists))
    return exp.Select(expressions=[column]).from_(_rows(plan, model, test), copy=False).where(orphan, copy=False)


def _row_count(plan: Plan, model: ModelPlan, test: DataTest, d: Dialect) -> exp.Select:
    """One row, the count, when it is outside [min, max]."""
    counted = exp.Select(expressions=[exp.alias_(exp.Count(this=exp.Star()), "row_count")])
    counted = counted.from_(_rows(plan, model, test), copy=False)
    rows = exp.column("row_count", table="snowgen_counted")
    outside = []
    if test.min_rows is not None:
        outside.append(exp.LT(this=rows.copy(), expression=exp.Literal.number(test.min_rows)))
    if test.max_rows is not None:
        outside.append(exp.GT(this=rows.copy(), expression=exp.Literal.number(test.max_rows)))
    return (
        exp.Select(expressions=[rows])
        .from_(counted.subquery("snowgen_counted", copy=False), copy=False)
        .where(exp.or_(*outside), copy=False)
    )


def _freshness(plan: Plan, model: ModelPlan, test: DataTest, d: Dialect) -> exp.Select:
    """One row, the newest value, when it is older than ``max_age_hours`` (or there is none)."""
    [column] = _columns(test)
    logical = model.column_types.get(column.name, "timestamp")
    newest = exp.Select(expressions=[exp.alias_(exp.Max(this=column), "newest")]).from_(
        _rows(plan, model, test), copy=False
    )
    latest = exp.column("newest", table="snowgen_newest")
    oldest_fresh = d.add_interval(clock.now(d, logical), exp.Literal.number(-test.max_age_hours), "HOUR", logical)
    stale = exp.or_(
        exp.Is(this=latest.copy(), expression=exp.Null()), exp.LT(this=latest.copy(), expression=oldest_fresh)
    )
    return (
        exp.Select(expressions=[latest]).from_(newest.subquery("snowgen_newest", copy=False), copy=False).where(stale)
    )


def _custom(plan: Plan, model: ModelPlan, test: DataTest, d: Dialect) -> exp.Select:
    query = exp.Select(expressions=[exp.Star()]).from_(test.query.copy().subquery(ROWS, copy=False), copy=False)
    return query.where(test.condition.copy(), copy=False) if test.condition is not None else query


#: each kind's query of failing rows
FAILING: dict[str, Callable[[Plan, ModelPlan, DataTest, Dialect], exp.Select]] = {
    "unique": _unique,
    "unique_combination": _unique,
    "not_null": _not_null,
    "accepted_values": _accepted_values,
    "relationships": _relationships,
    "row_count": _row_count,
    "freshness": _freshness,
    "sql": _custom,
}


def latest_results_query(plan: Plan) -> exp.Select:
    """Each model's latest results (those of its last audit): model, test, kind, severity,
    failing rows, ordered by model and test; what ``snowgen run`` and ``snowgen test`` report."""
    r, latest = "snowgen_result", "snowgen_latest"
    newest = (
        exp.Select(expressions=[exp.column("model"), exp.alias_(exp.Max(this=exp.column("tested_at")), "tested_at")])
        .from_(results_table(plan), copy=False)
        .group_by(exp.column("model"), copy=False)
    )
    shown = ("model", "test_name", "test_kind", "severity", "failing_rows")
    return (
        exp.Select(expressions=[exp.column(c, table=r) for c in shown])
        .from_(exp.alias_(results_table(plan), r, table=True), copy=False)
        .join(newest.subquery(latest, copy=False), on=_matching(("model", "tested_at"), r, latest), copy=False)
        .order_by(exp.column("model", table=r), exp.column("test_name", table=r), copy=False)
    )
