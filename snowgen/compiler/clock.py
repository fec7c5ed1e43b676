"""Times relative to the warehouse's clock, for rows stamped ahead of it."""

from __future__ import annotations

from sqlglot import exp


def at_most(value: exp.Expr, cap: exp.Expr) -> exp.Expr:
    """``value``, but ``cap`` where it is larger; NULL stays NULL. (LEAST skips NULLs on
    Postgres, Redshift and Snowflake and returns NULL on BigQuery: a CASE means the same
    everywhere.)"""
    return exp.Case(ifs=[exp.If(this=exp.GT(this=value.copy(), expression=cap), true=cap.copy())], default=value)
