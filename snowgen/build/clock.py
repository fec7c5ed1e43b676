"""Times relative to the warehouse's clock, for rows stamped ahead of it.

Both strategies read no row stamped more than ``clock_skew_minutes`` after the warehouse's
clock (a broken collector or server clock would otherwise move their manifest or watermark
past every real row still to come), and both count the rows that wait.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.dialects.base import Dialect


def now(d: Dialect, logical_type: str = "timestamp") -> exp.Expr:
    """Now, typed like a timestamp column: a date, a timestamp with time zone (compared as an
    instant, whatever the session's zone), else the UTC wall clock."""
    return _typed(d, _clock(d, logical_type), logical_type)


def not_after(d: Dialect, skew_minutes: int, logical_type: str = "timestamp") -> exp.Expr:
    """The latest time a run reads, typed like the timestamp column: now plus the allowance."""
    latest = d.add_interval(_clock(d, logical_type), exp.Literal.number(skew_minutes), "MINUTE")
    return _typed(d, latest, logical_type)


def _clock(d: Dialect, logical_type: str) -> exp.Expr:
    return exp.CurrentTimestamp() if logical_type == "timestamptz" else d.now_utc()


def _typed(d: Dialect, value: exp.Expr, logical_type: str) -> exp.Expr:
    return d.cast(value, "date") if logical_type == "date" else value


def rows_after(table: exp.Table, timestamp: str, bound: exp.Expr) -> exp.Subquery:
    """``(SELECT COUNT(*) FROM table WHERE timestamp > bound)``: the rows that wait (where the
    table is partitioned or clustered by the timestamp, only its newest partitions are read)."""
    column = exp.column(timestamp, table="s")
    return (
        exp.Select(expressions=[exp.Count(this=exp.Star())])
        .from_(exp.alias_(table, "s", table=True), copy=False)
        .where(exp.GT(this=column, expression=bound), copy=False)
        .subquery(copy=False)
    )


def at_most(value: exp.Expr, cap: exp.Expr) -> exp.Expr:
    """``value``, but ``cap`` where it is larger; NULL stays NULL. (LEAST skips NULLs on
    Postgres, Redshift and Snowflake and returns NULL on BigQuery: a CASE means the same
    everywhere.)"""
    return exp.Case(ifs=[exp.If(this=exp.GT(this=value.copy(), expression=cap), true=cap.copy())], default=value)
