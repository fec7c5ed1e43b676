"""Materializations: view, table and incremental (upsert), one builder each.

The builders decide *what* happens; every warehouse difference comes from the dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

from snowgen.build import ddl
from snowgen.build.filters import expand_macros
from snowgen.build.row_order import whole_row_order
from snowgen.build.run_limits import BoundLimits
from snowgen.build.staged import staged_target
from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import Layout, Script, TableShape, Unsupported
from snowgen.plan.data import ModelPlan

STAGE_SUFFIX = "__snowgen_stage"


@dataclass(frozen=True)
class ModelContext:
    """A model as one dialect sees it: its body with macros expanded, its layout, its gate."""

    model: ModelPlan
    dialect: Dialect
    layout: Layout
    gate: exp.Expr | None = None  # rows are written only when this is true (incremental strategies)
    # A generated model's query for this dialect (snowgen.build.strategies.GENERATED_QUERIES).
    generated: exp.Query | None = None
    # Run-time values the body reads: placeholder name -> expression (StrategySql.inputs).
    inputs: dict[str, exp.Expr] = field(default_factory=dict)
    # Incremental: replace exactly the target rows matching this (a backfill), no upsert.
    replace_where: exp.Expr | None = None
    # Incremental: also upsert the run's rows into this staged table (snowgen.plan.staged).
    staged: exp.Table | None = None
    # The run limits, bound as variables the body reads instead of its join (snowgen.build.run_limits).
    limits: BoundLimits | None = None

    @property
    def shape(self) -> TableShape:
        columns = self.model.output_columns
        if columns is not None:
            columns = (*columns, *(name for name, _, _ in self.layout_columns()))
        return TableShape(self.model.table, self.layout, columns, self.model.column_types)

    def layout_columns(self) -> list[tuple[str, exp.Expr, str]]:
        base = TableShape(self.model.table, self.layout, self.model.output_columns, self.model.column_types)
        return self.dialect.layout_columns(base)

    def query(self) -> exp.Query:
        """The body for this dialect, cast to the declared column types, plus the columns
        the layout needs."""
        model = self.model
        if self.generated is not None:
            query = self.generated
            if self.limits is not None:
                query = self.limits.apply(query)
        else:
            query = expand_macros(model.query.copy(), model.bot_filter, model.app_filter, self.dialect)
            query = fill_inputs(query, self.inputs)
        if model.column_types:
            casts = [
                exp.alias_(self.dialect.cast(exp.column(c, table="snowgen_body"), model.column_types[c]), c, copy=False)
                for c in model.output_columns
            ]
            query = exp.Select(expressions=casts).from_(query.subquery("snowgen_body", copy=False), copy=False)
        extra = self.layout_columns()
        if extra:
            query = exp.Select(
                expressions=[exp.Star(), *(exp.alias_(value, name, copy=False) for name, value, _ in extra)]
            ).from_(query.subquery("snowgen_body", copy=False), copy=False)
        return query


def fill_inputs(query: exp.Query, inputs: dict[str, exp.Expr]) -> exp.Query:
    """Put each run-time value in place of its placeholder (a fresh copy each time)."""
    if inputs:
        for node in list(query.find_all(exp.Placeholder)):
            if node.name in inputs:
                node.replace(inputs[node.name].copy())
    return query


def build_view(ctx: ModelContext) -> Script:
    create = exp.Create(kind="VIEW", replace=True, this=ctx.model.table.copy(), expression=ctx.query())
    return Script(statements=[create])


def build_table(ctx: ModelContext) -> Script:
    dialect, shape = ctx.dialect, ctx.shape
    ddl.check_layout_columns(shape)
    props = dialect.table_properties(shape, scratch=ctx.model.scratch)
    statements = ddl.replace_table(ctx.model.table, ctx.query(), props, dialect) + dialect.after_create(shape)
    if not dialect.create_or_replace_table:
        statements = dialect.in_transaction(statements)
    return Script(statements=statements)


def choose_upsert(ctx: ModelContext, project_choice: str | None) -> str:
    """The strategy asked for (model, then project setting), else the dialect's default."""
    dialect = ctx.dialect
    asked = ctx.model.spec.upsert or project_choice
    strategy = asked or dialect.default_upsert
    refusal = dialect.upsert_strategies.get(strategy)
    if refusal:
        raise Unsupported(f"cannot run upsert: {strategy}: {refusal}", ("upsert",))
    return strategy


def build_incremental(ctx: ModelContext, project_choice: str | None, scratch_schema: str) -> Script:
    model, dialect = ctx.model, ctx.dialect
    strategy = choose_upsert(ctx, project_choice)
    shape = ctx.shape
    ddl.check_layout_columns(shape)
    columns = list(shape.columns)
    stage = exp.Table(
        this=exp.to_identifier(model.name + STAGE_SUFFIX),
        db=exp.to_identifier(scratch_schema),
        catalog=_copy(model.table.args.get("catalog")),
    )
    script = Script()
    stage_props = dialect.table_properties(TableShape(stage, Layout(), None), scratch=True)
    build_stage = ddl.replace_table(stage, staged_source(ctx, columns), stage_props, dialect)
    if model.column_types:
        # Declared columns: create the target first, so the body may read its own table.
        script.add(*create_target(ctx, stage, columns), *build_stage)
    else:
        script.add(*build_stage, *create_target(ctx, stage, columns))
    if ctx.replace_where is not None:
        script.add(*dialect.replace_rows(model.table, stage, columns, ctx.replace_where))
    else:
        script.add(*upsert(ctx, strategy, stage, columns, upsert_window(ctx, script, stage)))
    if dialect.indexes_after_first_fill:
        script.add(*dialect.after_create(shape))
    if ctx.staged is not None:
        staged_ctx, create = staged_target(ctx, stage, ctx.staged)
        script.add(create, *upsert(staged_ctx, strategy, stage, list(model.output_columns), None))
    return script


def upsert(
    ctx: ModelContext, strategy: str, stage: exp.Table, columns: list[str], window: UpsertWindow | None
) -> list[exp.Expr]:
    """The stage into the model's table, as one transaction, the way ``strategy`` does it."""
    return ctx.dialect.in_transaction(UPSERTS[strategy](ctx, stage, columns, window))


def _merge_upsert(
    ctx: ModelContext, stage: exp.Table, columns: list[str], window: UpsertWindow | None
) -> list[exp.Expr]:
    """MERGE on the unique key, after a MERGE that leaves one row per key in the window."""
    table, keys = ctx.model.table, ctx.model.spec.unique_key_columns
    return [merge_away_duplicates(table, stage, keys, window), merge(table, stage, columns, keys, window)]


def _delete_insert_upsert(
    ctx: ModelContext, stage: exp.Table, columns: list[str], window: UpsertWindow | None
) -> list[exp.Expr]:
    return delete_insert(ctx, stage, columns, window)


#: upsert strategy -> the statements it runs (in one transaction where the warehouse has
#: them); which a dialect runs is its ``upsert_strategies`` table. A test checks both list the
#: same strategies as the spec's ``upsert`` key.
UPSERTS: dict[str, Callable[[ModelContext, exp.Table, list[str], UpsertWindow | None], list[exp.Expr]]] = {
    "merge": _merge_upsert,
    "delete_insert": _delete_insert_upsert,
}


def _copy(node: exp.Expr | None) -> exp.Expr | None:
    return node.copy() if node is not None else None


def staged_source(ctx: ModelContext, columns: list[str]) -> exp.Query:
    """The body (typed, with its layout columns), gated, with one row per unique key."""
    model, dialect = ctx.model, ctx.dialect
    query = ctx.query()
    if ctx.gate is not None:
        query = (
            exp.Select(expressions=[exp.column(c, table="snowgen_body") for c in columns])
            .from_(query.subquery("snowgen_body", copy=False), copy=False)
            .where(ctx.gate, copy=False)
        )
    key_names = model.spec.unique_key_columns
    keys = [exp.column(k, table="snowgen_src") for k in key_names]
    types = {**model.column_types, **{name: logical for name, _, logical in ctx.layout_columns()}}
    order = whole_row_order(dialect, dedupe_order(model), {c: types.get(c) for c in columns}, "snowgen_src", key_names)
    return dialect.keep_first_row(query, keys, order, columns)


def dedupe_order(model: ModelPlan) -> list[exp.Ordered]:
    """Which row wins among source rows with one key: the spec's order, else the latest
    ``upsert_date_key``, else the key itself; the rest of the row breaks ties
    (snowgen.build.row_order)."""
    spec = model.spec
    order = [
        exp.Ordered(this=exp.column(item.column, table="snowgen_src"), desc=item.descending)
        for item in spec.dedupe_order_by
    ]
    if not order and spec.upsert_date_key:
        order.append(exp.Ordered(this=exp.column(spec.upsert_date_key, table="snowgen_src"), desc=True))
    if not order:
        order = [exp.Ordered(this=exp.column(k, table="snowgen_src")) for k in spec.unique_key_columns]
    return order


def create_target(ctx: ModelContext, stage: exp.Table, columns: list[str]) -> list[exp.Expr]:
    """CREATE TABLE IF NOT EXISTS the target, and its indexes unless the dialect builds them
    after the upsert (``indexes_after_first_fill``)."""
    model, dialect, shape = ctx.model, ctx.dialect, ctx.shape
    props = dialect.table_properties(shape, scratch=model.scratch)
    if model.column_types:
        typed = [(c, dialect.data_type(model.column_types[c])) for c in model.output_columns]
        typed += [(name, dialect.data_type(logical)) for name, _, logical in ctx.layout_columns()]
        create = ddl.create_table_columns(model.table, typed, props)
    else:
        create = dialect.create_table_like(model.table, stage, columns, props)
    return [create] if dialect.indexes_after_first_fill else [create, *dialect.after_create(shape)]


@dataclass(frozen=True)
class UpsertWindow:
    """The target rows an upsert may match: ``key BETWEEN lower AND upper``, with bounds
    computed from the stage as ``[min - upsert_lookback_days, max]`` (reference §3.2)."""

    key: str
    lower: exp.Expr
    upper: exp.Expr

    def on(self, table: str) -> exp.Expr:
        """The window as a condition on ``table`` (an alias or the target's own name)."""
        return exp.Between(this=exp.column(self.key, table=table), low=self.lower.copy(), high=self.upper.copy())


def upsert_window(ctx: ModelContext, script: Script, stage: exp.Table) -> UpsertWindow | None:
    """The upsert window, its bounds computed once in SQL (how they travel between the
    statements of the script is the dialect's choice: subqueries, script or session variables)."""
    model, dialect = ctx.model, ctx.dialect
    key = model.spec.upsert_date_key
    if not key:
        return None
    logical = model.column_types.get(key, "timestamp")
    lowest: exp.Expr = exp.Min(this=exp.column(key))
    if model.upsert_lookback_days:
        lowest = dialect.add_interval(lowest, exp.Literal.number(-model.upsert_lookback_days), "DAY", logical)
    bounds = dialect.bind_values(
        script, "snowgen_upsert", {"lower": (logical, lowest), "upper": (logical, exp.Max(this=exp.column(key)))}, stage
    )
    return UpsertWindow(key, bounds["lower"], bounds["upper"])


def merge(
    target: exp.Table, stage: exp.Table, columns: list[str], keys: tuple[str, ...], window: UpsertWindow | None
) -> exp.Merge:
    on = [exp.EQ(this=exp.column(k, table="target"), expression=exp.column(k, table="source")) for k in keys]
    if window is not None:
        on.append(window.on("target"))
    whens = []
    updates = [c for c in columns if c not in keys]
    if updates:
        # SET targets stay unqualified: DuckDB and Postgres reject `SET target.col`.
        assignments = [exp.EQ(this=exp.column(c), expression=exp.column(c, table="source")) for c in updates]
        whens.append(exp.When(matched=True, source=False, then=exp.Update(expressions=assignments)))
    insert = exp.Insert(
        this=exp.Tuple(expressions=[exp.column(c) for c in columns]),
        expression=exp.Tuple(expressions=[exp.column(c, table="source") for c in columns]),
    )
    whens.append(exp.When(matched=False, source=False, then=insert))
    return exp.Merge(
        this=exp.alias_(target.copy(), "target", table=True, copy=False),
        using=exp.alias_(stage.copy(), "source", table=True, copy=False),
        on=exp.and_(*on, copy=False),
        whens=exp.Whens(expressions=whens),
    )


def merge_away_duplicates(
    target: exp.Table, stage: exp.Table, keys: tuple[str, ...], window: UpsertWindow | None
) -> exp.Merge:
    """Delete every copy of a staged key that the target holds more than once in the window.

    A MERGE updates each target row its key matches, so duplicates the target already holds
    (a key whose date moved between runs, reference §3.2) would all survive; delete+insert
    removes them. Deleting them first (the MERGE that follows inserts the key afresh) gives
    MERGE the same result: one row per key inside the window. A MERGE, not a DELETE with a
    correlated subquery: Delta, BigQuery and Snowflake all run it as one atomic statement."""
    copies = exp.alias_(target.copy(), "copies", table=True, copy=False)
    on_key = [exp.EQ(this=exp.column(k, table="copies"), expression=exp.column(k, table="staged")) for k in keys]
    # a Join node built here: Select.join(..., join_type="INNER") would parse "INNER" on every call
    staged = exp.alias_(stage.copy(), "staged", table=True, copy=False)
    join = exp.Join(this=staged, on=exp.and_(*on_key, copy=False), kind="INNER")
    duplicated = (
        exp.Select(expressions=[exp.column(k, table="copies") for k in keys])
        .from_(copies, copy=False)
        .join(join, copy=False)
        .group_by(*[exp.column(k, table="copies") for k in keys], copy=False)
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)), copy=False)
    )
    if window is not None:
        duplicated = duplicated.where(window.on("copies"), copy=False)
    on = [exp.EQ(this=exp.column(k, table="target"), expression=exp.column(k, table="source")) for k in keys]
    if window is not None:
        on.append(window.on("target"))
    return exp.Merge(
        this=exp.alias_(target.copy(), "target", table=True, copy=False),
        using=duplicated.subquery("source", copy=False),
        on=exp.and_(*on, copy=False),
        whens=exp.Whens(expressions=[exp.When(matched=True, source=False, then=exp.var("DELETE"))]),
    )


def delete_insert(
    ctx: ModelContext, stage: exp.Table, columns: list[str], window: UpsertWindow | None
) -> list[exp.Expr]:
    """Delete the target rows whose key is staged (inside the window), then insert the stage.

    The key match is a per-column equality on both sides, so composite keys are unambiguous."""
    model, dialect = ctx.model, ctx.dialect
    keys = model.spec.unique_key_columns
    if dialect.delete_using:
        # DELETE ... USING: the target cannot be aliased; columns are qualified by table name.
        target_name, stage_name = model.table.name, stage.name
        match = [
            exp.EQ(this=exp.column(k, table=target_name), expression=exp.column(k, table=stage_name)) for k in keys
        ]
        in_window = [window.on(target_name)] if window is not None else []
        delete = exp.Delete(
            this=model.table.copy(),
            using=[stage.copy()],
            where=exp.Where(this=exp.and_(*match, *in_window, copy=False)),
        )
    else:
        match = [exp.EQ(this=exp.column(k, table="source"), expression=exp.column(k, table="target")) for k in keys]
        exists = exp.Exists(
            this=exp.Select(expressions=[exp.Literal.number(1)])
            .from_(exp.alias_(stage.copy(), "source", table=True, copy=False), copy=False)
            .where(exp.and_(*match, copy=False), copy=False)
        )
        condition = exp.and_(exists, *([window.on("target")] if window is not None else []), copy=False)
        delete = exp.Delete(
            this=exp.alias_(model.table.copy(), "target", table=True, copy=False), where=exp.Where(this=condition)
        )
    insert = exp.Insert(
        this=exp.Schema(this=model.table.copy(), expressions=[exp.to_identifier(c) for c in columns]),
        expression=exp.Select(expressions=[exp.column(c) for c in columns]).from_(stage.copy(), copy=False),
    )
    return [delete, insert]
