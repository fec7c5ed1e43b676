"""Health checks: queries a run ends with, whose rows are warnings.

A check reads a table or view the run wrote (the sessions strategy's run limits, the
watermark health view) and returns the rows that need a person's attention. ``snowgen run``
prints them after the last step; plan.json lists each check's file under ``checks``, so a
scheduler can run the same query after the plan and alert on any row.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.plan.data import Check


def check_query(check: Check) -> exp.Select:
    """The check's columns of the rows whose ``when`` column is above 0."""
    t = "c"
    when = exp.GT(this=exp.column(check.when, table=t), expression=exp.Literal.number(0))
    return (
        exp.Select(expressions=[exp.column(c, table=t) for c in check.columns])
        .from_(exp.alias_(check.table.copy(), t, table=True), copy=False)
        .where(when, copy=False)
    )
