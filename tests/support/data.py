"""Test data as INSERT statements built with sqlglot (each engine gets its own escaping)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlglot import exp

from snowgen.dialects import get_dialect


def value(item: Any, dialect: str) -> exp.Expr:
    d = get_dialect(dialect)
    if isinstance(item, exp.Expr):  # already a SQL value (e.g. a nested context)
        return item
    if item is None:
        return exp.Null()
    if isinstance(item, bool):
        return exp.Boolean(this=item)
    if isinstance(item, (int, float, Decimal)):
        return exp.Literal.number(str(item))
    if isinstance(item, dt.datetime):
        return d.timestamp_literal(item.isoformat(sep=" "))
    if isinstance(item, dt.date):
        return exp.Cast(this=exp.Literal.string(item.isoformat()), to=exp.DataType.build("DATE"))
    return exp.Literal.string(str(item))


def insert_rows(dialect: str, schema: str, table: str, rows: list[dict[str, Any]]) -> list[str]:
    """One INSERT per distinct column set (rows may name different columns)."""
    d = get_dialect(dialect)
    target = exp.Table(this=exp.to_identifier(table), db=exp.to_identifier(schema))
    statements = []
    groups: dict[tuple[str, ...], list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for columns, group in groups.items():
        values = exp.Values(expressions=[exp.Tuple(expressions=[value(r[c], dialect) for c in columns]) for r in group])
        insert = exp.Insert(
            this=exp.Schema(this=target.copy(), expressions=[exp.to_identifier(c) for c in columns]), expression=values
        )
        statements.append(d.render(insert))
    return statements
