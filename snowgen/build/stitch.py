"""Stitching, built: the statement that re-sets a model's column from its mapping after the
model's own statements (snowgen.plan.stitch checks the option and orders the steps)."""

from __future__ import annotations

from sqlglot import exp

from snowgen.dialects.base import Dialect
from snowgen.plan.data import ModelPlan, Plan

MAPPING_ALIAS = "mapping"
TARGET_ALIAS = "target"  # MERGE only: an UPDATE names its target by the table's own name


def stitch_statements(plan: Plan, model: ModelPlan, dialect: Dialect) -> list[exp.Expr]:
    """The statement that stitches ``model``'s table (none without ``stitch``)."""
    stitch = model.spec.stitch
    if stitch is None:
        return []
    mapping = plan.models[stitch.mapping]
    [mapping_key] = mapping.unique_key
    value: exp.Expr = exp.column(stitch.value, table=MAPPING_ALIAS)
    if stitch.column in model.column_types:  # the mapping's column may be typed differently
        value = dialect.cast(value, model.column_types[stitch.column])
    source = exp.alias_(mapping.table.copy(), MAPPING_ALIAS, table=True)
    target = model.table.name if dialect.update_from else TARGET_ALIAS
    match = _match(target, mapping_key, stitch.key, stitch.column, value)
    if dialect.update_from:
        return [update_from(model.table, source, match, stitch.column, value)]
    return [merge_matched(model.table, source, match, stitch.column, value)]


def _match(target: str, mapping_key: str, key: str, column: str, value: exp.Expr) -> exp.Expr:
    """The target row's key has a mapping whose value differs from the row's (NULL-safe:
    a NULL column takes a mapped value; a row already holding it is not written again)."""
    same_key = exp.EQ(this=exp.column(key, table=target), expression=exp.column(mapping_key, table=MAPPING_ALIAS))
    changes = exp.NullSafeNEQ(this=exp.column(column, table=target), expression=value.copy())
    return exp.and_(same_key, changes)


def update_from(target: exp.Table, source: exp.Expr, match: exp.Expr, column: str, value: exp.Expr) -> exp.Update:
    """``UPDATE target SET column = value FROM source WHERE match``. The target has no alias:
    Redshift's UPDATE documents none for it (https://docs.aws.amazon.com/redshift/latest/dg/r_UPDATE.html),
    so conditions name it by its table name, which Postgres, Snowflake, BigQuery and DuckDB
    accept as well. The SET target stays unqualified, as Postgres and Redshift require."""
    return exp.Update(
        this=target.copy(),
        expressions=[exp.EQ(this=exp.column(column), expression=value.copy())],
        from_=exp.From(this=source),
        where=exp.Where(this=match),
    )


def merge_matched(target: exp.Table, source: exp.Expr, match: exp.Expr, column: str, value: exp.Expr) -> exp.Merge:
    """``MERGE INTO target USING source ON match WHEN MATCHED THEN UPDATE SET column = value``.
    The whole condition is in ON, so rows that keep their value are never matched (Delta
    rewrites only the files holding matched rows)."""
    update = exp.Update(expressions=[exp.EQ(this=exp.column(column), expression=value.copy())])
    return exp.Merge(
        this=exp.alias_(target.copy(), TARGET_ALIAS, table=True),
        using=source,
        on=match,
        whens=exp.Whens(expressions=[exp.When(matched=True, source=False, then=update)]),
    )
