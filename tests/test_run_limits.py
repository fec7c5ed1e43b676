"""snowgen.build.run_limits: the limits join is replaced by bound values only where it is the
limits relation; anything else under the same alias stays as written."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from snowgen.build.run_limits import BoundLimits, LimitsRelation

LIMITS = exp.to_table("scratch.limits")
REFS = {"lower_limit": exp.var("v_lower"), "upper_limit": exp.var("v_upper")}


def bound(cte: str | None = None) -> BoundLimits:
    values = {name: exp.column(name) for name in REFS}
    return BoundLimits(LimitsRelation(LIMITS, values, cte=cte), REFS)


def test_the_join_to_the_limits_table_becomes_the_bound_values():
    query = sqlglot.parse_one(
        "select e.id from events as e cross join scratch.limits as lim "
        "where e.ts between lim.lower_limit and lim.upper_limit"
    )
    assert bound().apply(query).sql() == "SELECT e.id FROM events AS e WHERE e.ts BETWEEN v_lower AND v_upper"


def test_a_cte_of_limits_goes_with_its_join():
    query = sqlglot.parse_one(
        "with span as (select min(a) as lower_limit, max(b) as upper_limit from s) "
        "select e.id from events as e cross join span as lim where e.ts > lim.lower_limit"
    )
    assert bound(cte="span").apply(query).sql() == "SELECT e.id FROM events AS e WHERE e.ts > v_lower"


def test_another_table_under_the_same_alias_is_left_alone():
    text = "select e.id from events as e cross join other as lim where e.ts > lim.lower_limit"
    assert bound().apply(sqlglot.parse_one(text)).sql() == sqlglot.parse_one(text).sql()


def test_a_limits_column_that_is_not_bound_is_a_compiler_error():
    query = sqlglot.parse_one("select lim.other from events as e cross join scratch.limits as lim")
    with pytest.raises(AssertionError, match=r"lim\.other"):
        bound().apply(query)
