"""``{{ sql(text) }}``: a SQL expression configured in a var, parsed on its own and put on the
tree, run on real engines (Postgres, DuckDB), compiled for every dialect, and refused with a
located error when it is not exactly one expression."""

from __future__ import annotations

import pytest
import sqlglot
from support.projects import compile_files, step_statements, write_project
from support.runs import run_compiled

from snowgen.dialects import NAMES, get_dialect
from snowgen.errors import SnowgenError

#: a passthrough list as Snowplow's vars write it: a column name or {sql, alias}
PASSTHROUGHS = [{"sql": "amount * 2 + 1", "alias": "doubled"}, {"sql": "upper(app_id)", "alias": "app"}]
BODY = """
select
  e.id,
  {{ sql(var('weight')) }} * 10 as weighted
  {%- for p in var('passthroughs') %},
  {{ sql(p.sql) }} as {{ ident(p.alias) }}
  {%- endfor %}
from events as e
where {{ sql(var('condition')) }}
"""
VARS = {"weight": "e.amount + 1", "condition": "e.app_id <> 'skip' or e.app_id is null", "passthroughs": PASSTHROUGHS}
ROWS = [(1, "site", "2.50"), (2, "skip", "1.00"), (3, None, None)]


def project(tmp_path, body: str = BODY, **variables):
    model = {"name": "scored", "materialization": "table", "sql": body}
    return write_project(tmp_path / "p", [model], vars={**VARS, **variables})


@pytest.mark.parametrize("engine", ["postgres", "duckdb"], indirect=True)
def test_expressions_from_vars_run_with_their_own_precedence(engine, tmp_path):
    engine.execute("create schema raw")
    engine.execute(
        "create table raw.events (id bigint, ts timestamp, useragent varchar, app_id varchar, amount decimal(18,2))"
    )
    for id_, app, amount in ROWS:
        app_sql = "null" if app is None else f"'{app}'"
        amount_sql = "null" if amount is None else amount
        engine.execute(
            f"insert into raw.events values ({id_}, timestamp '2024-03-01 10:00:00', 'ua', {app_sql}, {amount_sql})"
        )
    run_compiled(engine, compile_files(project(tmp_path), engine.name))
    rows = engine.query("select id, weighted, doubled, app from derived.scored order by id")
    # (amount + 1) * 10, not amount + 1 * 10; the skipped app is filtered; NULLs stay NULL
    assert [(r[0], float(r[1]) if r[1] is not None else None, r[2] is None or float(r[2]), r[3]) for r in rows] == [
        (1, 35.0, 6.0, "SITE"),
        (3, None, True, None),
    ]


@pytest.mark.parametrize("dialect", NAMES)
def test_every_dialect_prints_the_expressions_it_parsed(dialect, tmp_path):
    files = compile_files(project(tmp_path), dialect)
    [create] = [s for s in step_statements(files, "scored", dialect) if "weighted" in s.lower()]
    tree = sqlglot.parse_one(create, read=sqlglot.Dialect.get_or_raise(dialect_name(dialect)))
    printed = tree.sql(dialect_name(dialect)).lower()
    assert "* 10" in printed and "doubled" in printed and "upper(" in printed
    assert "'skip'" in printed


def dialect_name(dialect: str) -> str:
    return get_dialect(dialect).sqlglot_dialect


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1); drop table raw.events; --", "is not"),
        ("select 1", "not exactly one SQL expression"),
        ("a; b", "not exactly one SQL expression"),
        ("amount +", "is not a SQL expression"),
        ("x as y", "not exactly one SQL expression"),
    ],
)
def test_what_is_not_one_expression_is_a_located_error(tmp_path, text, problem):
    root = project(tmp_path, weight=text)
    with pytest.raises(SnowgenError) as caught:
        compile_files(root, "duckdb")
    message = str(caught.value)
    assert "SG241" in message and problem in message
    assert message.startswith("models/scored.yml:") or "scored.yml:" in message.split(" ")[0]


def test_sql_needs_text(tmp_path):
    with pytest.raises(SnowgenError) as caught:
        compile_files(project(tmp_path, weight=""), "duckdb")
    assert "SG205" in str(caught.value) and "sql() needs a SQL expression" in str(caught.value)


def test_sql_inside_a_string_literal_is_refused(tmp_path):
    body = "select 'x {{ sql(var(\"weight\")) }}' as t from events as e"
    with pytest.raises(SnowgenError) as caught:
        compile_files(project(tmp_path, body), "duckdb")
    assert "SG209" in str(caught.value)
