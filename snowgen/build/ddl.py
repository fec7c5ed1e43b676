"""Small statement builders shared by every materialization (no dialect decisions here)."""

from __future__ import annotations

from sqlglot import exp

from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import LAYOUT_KEYS, Layout, Partition, TableShape, Unsupported
from snowgen.spec.models import ModelSpec


def create_schema(name: str, database: str | None) -> exp.Create:
    table = exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(database) if database else None)
    return exp.Create(kind="SCHEMA", exists=True, this=table)


def create_table_as(
    table: exp.Table,
    query: exp.Query,
    properties: list[exp.Expr],
    *,
    replace: bool = False,
    if_not_exists: bool = False,
) -> exp.Create:
    return exp.Create(
        kind="TABLE",
        this=table.copy(),
        expression=query,
        replace=replace,
        exists=if_not_exists,
        properties=exp.Properties(expressions=properties) if properties else None,
    )


def create_table_columns(
    table: exp.Table, columns: list[tuple[str, exp.DataType]], properties: list[exp.Expr]
) -> exp.Create:
    schema = exp.Schema(
        this=table.copy(),
        expressions=[exp.ColumnDef(this=exp.to_identifier(name), kind=kind) for name, kind in columns],
    )
    return exp.Create(
        kind="TABLE",
        this=schema,
        exists=True,
        properties=exp.Properties(expressions=properties) if properties else None,
    )


def replace_table(table: exp.Table, query: exp.Query, properties: list[exp.Expr], dialect: Dialect) -> list[exp.Expr]:
    """Statements that (re)build ``table`` from ``query``; the caller decides on atomicity.

    Without CREATE OR REPLACE TABLE (Postgres, Redshift) the old table is dropped with
    CASCADE: a view that reads it would otherwise refuse the drop on the second run. The
    plan's own views come later in the plan and are created again, as dbt does."""
    if dialect.create_or_replace_table:
        statements = [create_table_as(table, query, properties, replace=True)]
    else:
        statements = [dialect.drop_table(table), create_table_as(table, query, properties)]
    if dialect.analyzes_new_tables:
        statements.append(exp.Analyze(tables=[table.copy()]))
    return statements


def resolve_layout(spec: ModelSpec, dialect: Dialect) -> Layout:
    """The model's logical layout with the dialect's override applied."""
    values = {key: getattr(spec.layout, key) for key in LAYOUT_KEYS}
    override = spec.layout.dialects.get(dialect.name)
    if override is not None:
        for key in override.model_fields_set:
            values[key] = getattr(override, key)
    partition = values["partition"]
    layout = Layout(
        partition=Partition(partition.column, partition.by) if partition else None,
        cluster=tuple(values["cluster"] or ()),
        sort=tuple(values["sort"] or ()),
        dist=values["dist"],
        indexes=tuple(tuple(i) for i in values["indexes"]) if values["indexes"] is not None else None,
        clustering=values["clustering"],
        unique_key=spec.unique_key_columns,
    )
    dialect.check_layout(layout)
    return layout


def layout_path(spec: ModelSpec, dialect: Dialect, path: tuple) -> tuple:
    """Blame the dialect override when it sets the offending key, else the logical layout."""
    override = spec.layout.dialects.get(dialect.name)
    if override is not None and len(path) > 1 and path[0] == "layout" and path[1] in override.model_fields_set:
        return ("layout", "dialects", dialect.name, *path[1:])
    return path


class UnknownLayoutColumn(Unsupported):
    """A layout names a column the table does not have (reported as SG207)."""


def check_layout_columns(shape: TableShape) -> None:
    """Every layout column must be a column of the table (when its columns are known)."""
    if shape.columns is None:
        return
    known = set(shape.columns)  # names compare as snowgen stores them (snowgen.names)
    for path, column in shape.layout.named_columns():
        if column not in known:
            raise UnknownLayoutColumn(f"layout column '{column}' is not a column of {shape.table.name}", path)
