"""Each dialect's lowerings (``Dialect.lowerings``): complete on nested nodes, and done once.

A lowering that copies its operands must copy them already lowered: an outer ``split_part``
rewritten before the inner one left the inner one in BigQuery's output, a function BigQuery
does not have. Lowering the lowered statements of the shipped projects again changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from snowgen.api import plan_loaded
from snowgen.build.steps import build_steps
from snowgen.dialects import DIALECTS, get_dialect
from snowgen.spec.loader import discover_projects, load_project

REPO = Path(__file__).resolve().parents[1]

#: Postgres bodies that nest a construct some warehouse lowers, and the node types that
#: must not survive lowering there (None: the warehouse prints the construct as it is)
NESTED = {
    "split_part": (
        "select split_part(split_part(split_part(x, '&', 1), '#', 1), '?', 2) from t",
        {"bigquery": exp.SplitPart},
    ),
    "distinct": (
        "select (a is distinct from b) is not distinct from (c is distinct from d) from t",
        {"redshift": (exp.NullSafeEQ, exp.NullSafeNEQ)},
    ),
    "ilike_regex": (
        "select (x ~* 'a') and (y ~* (case when x ~* 'b' then 'c' else 'd' end)) from t",
        {"bigquery": exp.RegexpILike, "databricks": exp.RegexpILike, "snowflake": (exp.RegexpILike, exp.RegexpLike)},
    ),
    "epoch": (
        "select extract(epoch from to_timestamp(extract(epoch from ts))) from t",
        {"bigquery": exp.Extract, "databricks": exp.Extract},
    ),
    "ordered_aggregates": (
        "select array_remove(array_agg(array_length(array_remove(array_agg(v order by a), null), 1) order by b), null), "
        "json_object_agg(k, v order by k) from t group by s",
        {
            "bigquery": (exp.ArrayRemove, exp.JSONObjectAgg),
            "snowflake": (exp.ArrayRemove, exp.JSONObjectAgg),
            "databricks": (exp.ArrayRemove, exp.JSONObjectAgg),
            "duckdb": (exp.ArrayRemove, exp.JSONObjectAgg),
            "redshift": (exp.ArrayRemove, exp.ArrayAgg, exp.JSONObjectAgg),
        },
    ),
}


@pytest.mark.parametrize("dialect", list(DIALECTS))
@pytest.mark.parametrize("case", list(NESTED))
def test_nested_constructs_are_lowered_at_every_depth(dialect, case):
    body, survivors = NESTED[case]
    d = get_dialect(dialect)
    statement = d.lower(sqlglot.parse_one(body, read="postgres"))
    banned = survivors.get(dialect)
    if banned is not None:
        assert list(statement.find_all(*banned if isinstance(banned, tuple) else (banned,))) == []
    d.render(statement)  # prints without an unsupported construct


def test_the_nested_split_part_keeps_its_meaning_in_bigquery():
    """Each level's value is the level below, lowered: no SPLIT_PART anywhere in the text."""
    d = get_dialect("bigquery")
    text = d.render(d.lower(sqlglot.parse_one(NESTED["split_part"][0], read="postgres")))
    assert "SPLIT_PART" not in text.upper()
    assert text.count("SAFE_ORDINAL(1)") >= 2 and "SAFE_ORDINAL(2)" in text


def _shipped_statements(dialect: str):
    d = get_dialect(dialect)
    for root in discover_projects(REPO):
        plan = plan_loaded(load_project(root))
        for built in build_steps(plan, d):
            yield from built.statements


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_lowering_the_shipped_plans_again_changes_nothing(dialect):
    d = get_dialect(dialect)
    statements = list(_shipped_statements(dialect))
    assert statements
    text = d.sqlglot_dialect
    changed = [s.sql(text) for s in statements if d.lower(s.copy()).sql(text) != s.sql(text)]
    assert changed == []
