"""The run limits as values bound once per script, where the warehouse prunes on them.

The sessions strategy's bodies read the run's time window from a one-row relation they
cross-join (``CROSS JOIN <limits> AS lim``, then ``lim.lower_limit``): plain SQL every
warehouse runs, and on Postgres, Redshift and DuckDB the planner reads the one row first.
BigQuery prunes partitions only on constant expressions, and a value from a join is not
one (https://cloud.google.com/bigquery/docs/querying-partitioned-tables); Snowflake prunes
micro-partitions on a session variable's value, as Databricks skips files on a SQL
variable's. On those warehouses (``Dialect.run_limits_in_variables``) the script binds the
limits first (``Dialect.bind_values``) and the body reads the variables instead of the join.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import Script
from snowgen.plan.sessions import RUN_LIMIT_COLUMNS as COLUMNS

VARIABLE_PREFIX = "snowgen_run"


@dataclass(frozen=True)
class LimitsRelation:
    """Where a body reads the limits: the aliases it joins them under and, when the body
    computes them itself, the CTE that does."""

    source: exp.Expr  # the relation the values are computed over
    values: dict[str, exp.Expr]  # lower_limit / upper_limit -> expression over ``source``
    aliases: tuple[str, ...] = ("lim",)
    cte: str | None = None


@dataclass(frozen=True)
class BoundLimits:
    """The limits bound in the script; ``apply`` makes a body read them."""

    relation: LimitsRelation
    refs: dict[str, exp.Expr]

    def apply(self, query: exp.Query) -> exp.Query:
        """Drop the joins to the limits (an alias of ``aliases`` naming the source table or
        the CTE) and read the bound values where the body read their columns."""
        relation = self.relation
        names = {relation.cte} | ({relation.source.name} if isinstance(relation.source, exp.Table) else set())
        removed = set()
        for join in list(query.find_all(exp.Join)):
            target = join.this
            if isinstance(target, exp.Table) and target.alias_or_name in relation.aliases and target.name in names:
                removed.add(target.alias_or_name)
                join.pop()
        for column in list(query.find_all(exp.Column)):
            if column.table in removed:
                if column.name not in self.refs:  # a compiler bug, not a user error
                    raise AssertionError(f"{column.sql()} reads the limits but is no bound value")
                column.replace(self.refs[column.name].copy())
        if relation.cte is not None:
            _drop_cte(query, relation.cte)
        return query


def bind_limits(dialect: Dialect, script: Script, relation: LimitsRelation | None) -> BoundLimits | None:
    """Bind the limits in ``script`` where the dialect prunes on variables, else None (the
    body keeps its join)."""
    if relation is None or not dialect.run_limits_in_variables:
        return None
    values = {name: ("timestamp", relation.values[name]) for name in COLUMNS}
    refs = dialect.bind_values(script, VARIABLE_PREFIX, values, relation.source)
    return BoundLimits(relation, refs)


def _drop_cte(query: exp.Query, name: str) -> None:
    for cte in list(query.find_all(exp.CTE)):
        if cte.alias_or_name == name:
            with_ = cte.parent
            cte.pop()
            if isinstance(with_, exp.With) and not with_.expressions:
                with_.pop()
