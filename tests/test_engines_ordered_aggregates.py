"""Ordered aggregates of a SQL body, written in Postgres' spelling and lowered per warehouse
(snowgen/dialects/shared.py): the ordered list of a group's non-NULL values,
``array_remove(array_agg(v ORDER BY ...), NULL)``, and the JSON object of a group's pairs,
``json_object_agg(k, v ORDER BY k)``. Run on Postgres, DuckDB and the three emulators over the
same rows; Redshift's spelling is checked as text and with sqlfluff's grammar.

Emulator gap, named: *fakesnow-array-agg-keeps-nulls*. Snowflake's ARRAY_AGG leaves NULL
values out (https://docs.snowflake.com/en/sql-reference/functions/array_agg); fakesnow keeps
them, so on fakesnow only groups without a NULL value are compared.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlglot
from sqlglot import exp
from support.data import value

from snowgen.dialects import get_dialect
from snowgen.dialects.shapes import Layout, TableShape

ENGINES = ["postgres", "duckdb", "snowflake", "bigquery", "databricks"]
COLUMNS = {"s": "int", "a": "int", "b": "int", "v": "string", "n": "decimal(10,2)"}
ROWS = [
    # group 1: the order is a, then b; the NULL a sorts last (Postgres' ascending order);
    # v NULL is left out of the list, n NULL too
    dict(s=1, a=3, b=1, v="c", n=Decimal("1.50")),
    dict(s=1, a=1, b=2, v="a", n=None),
    dict(s=1, a=1, b=1, v="b", n=Decimal("2.25")),
    dict(s=1, a=2, b=1, v=None, n=Decimal("4.00")),
    dict(s=1, a=None, b=1, v="z", n=Decimal("9.00")),
    # group 2: no value at all: an empty list
    dict(s=2, a=1, b=1, v=None, n=None),
    # group 3: no NULL value (what fakesnow computes right)
    dict(s=3, a=2, b=1, v="y", n=Decimal("1.00")),
    dict(s=3, a=1, b=1, v="x", n=Decimal("0.50")),
]
#: one list per query: Sail names two such aggregates of one SELECT alike and refuses them
#: (*sail-duplicate-aggregate-names*; Spark and Databricks name them apart)
LISTS = "select s, array_remove(array_agg({} order by a, b), null) as l from agg.t group by s"
EXPECTED_LISTS = {
    1: (["b", "a", "c", "z"], [Decimal("2.25"), Decimal("4.00"), Decimal("1.50"), Decimal("9.00")]),
    2: ([], []),
    3: (["x", "y"], [Decimal("0.50"), Decimal("1.00")]),
}
COUNTS = (
    "select s, json_object_agg(v, c order by v) as counts "
    "from (select s, v, count(*) as c from agg.t where v is not null group by s, v) as x group by s"
)
EXPECTED_COUNTS = {1: {"a": 1, "b": 1, "c": 1, "z": 1}, 3: {"x": 1, "y": 1}}


@pytest.fixture
def table(engine):
    d = get_dialect(engine.name)
    engine.execute(d.render(exp.Create(this=exp.to_table("agg"), kind="SCHEMA", exists=True)))
    columns = [exp.ColumnDef(this=exp.to_identifier(c), kind=d.data_type(t)) for c, t in COLUMNS.items()]
    shape = TableShape(table=exp.to_table("agg.t"), layout=Layout())
    properties = exp.Properties(expressions=d.table_properties(shape, scratch=True))  # USING DELTA on Databricks
    target = exp.Schema(this=exp.to_table("agg.t"), expressions=columns)
    engine.execute(d.render(exp.Create(this=target, kind="TABLE", properties=properties)))
    # every column, in order, without a column list (Sail's INSERT takes full rows only)
    values = exp.Values(expressions=[exp.Tuple(expressions=[value(r[c], engine.name) for c in COLUMNS]) for r in ROWS])
    engine.execute(d.render(exp.Insert(this=exp.to_table("agg.t"), expression=values)))
    return engine


def query(engine, body: str) -> dict:
    d = get_dialect(engine.name)
    rows = engine.query(d.render(d.lower(sqlglot.parse_one(body, read="postgres"))))
    return {row[0]: tuple(_plain(v) for v in row[1:]) for row in rows}


def _plain(value):
    """A list or an object as Python values (Snowflake's and DuckDB's come as JSON text)."""
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, list):
        return [Decimal(str(v)) if isinstance(v, (float, int)) else _number(v) for v in value]
    return dict(value) if value is not None else None


def _number(value):
    try:
        return Decimal(value) if isinstance(value, str) and value.replace(".", "").isdigit() else value
    except ArithmeticError:  # pragma: no cover
        return value


def compared(engine, expected: dict) -> dict:
    if engine.name == "snowflake":  # fakesnow-array-agg-keeps-nulls (see the module's docstring)
        return {s: v for s, v in expected.items() if s == 3}
    return expected


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_ordered_list_of_non_null_values(table):
    values, numbers = query(table, LISTS.format("v")), query(table, LISTS.format("n"))
    wanted = compared(table, EXPECTED_LISTS)
    assert {s: (values[s][0], numbers[s][0]) for s in wanted} == wanted


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_json_object_of_pairs(table):
    got = query(table, COUNTS)
    assert {s: got[s][0] for s in EXPECTED_COUNTS} == EXPECTED_COUNTS


def _redshift(body: str) -> str:
    d = get_dialect("redshift")
    return d.render(d.lower(sqlglot.parse_one(body, read="postgres")))


def test_redshift_lists_are_split_from_an_ordered_listagg():
    # Snowplow's Redshift spelling: text values in a SUPER array; empty, not NULL, when none
    text = " ".join(_redshift(LISTS.format("v")).split())
    assert (
        "COALESCE( SPLIT_TO_ARRAY(LISTAGG(CAST(\"v\" AS VARCHAR(MAX)), ',') WITHIN GROUP (ORDER BY \"a\", \"b\"), ','), JSON_PARSE('[]') )"
        in text
    )


def test_redshift_objects_are_parsed_from_their_text():
    text = _redshift(COUNTS)
    assert "JSON_PARSE(" in text and "WITHIN GROUP" not in text
    assert "REPLACE(REPLACE(CAST(\"v\" AS VARCHAR(MAX)), '\\\\', '\\\\\\\\'), '\"', '\\\\\"')" in text


@pytest.mark.parametrize("body", [LISTS.format("v"), COUNTS])
def test_redshift_spelling_parses_with_sqlfluff(body):
    from test_sqlfluff_grammar import linter, sqlfluff_text

    parsed = linter("redshift").parse_string(sqlfluff_text("redshift", _redshift(body)))
    assert [str(v) for v in parsed.violations] == []


@pytest.mark.parametrize("dialect", ["redshift", "databricks"])
def test_an_array_aggregate_that_cannot_be_printed_is_refused(dialect):
    from snowgen.dialects.shapes import Unsupported

    d = get_dialect(dialect)
    body = {
        "redshift": "select array_agg(v order by a) from t",
        "databricks": "select array_agg(v order by a desc) from t",
    }
    with pytest.raises(Unsupported):
        d.lower(sqlglot.parse_one(body[dialect], read="postgres"))


@pytest.mark.parametrize(
    ("dialect", "message"),
    [
        ("databricks", "SG301 databricks cannot print a descending ORDER BY in an ARRAY_AGG"),
        ("redshift", "SG301 redshift has no array aggregate; write array_remove(array_agg(v ORDER BY ...), NULL)"),
    ],
)
def test_a_body_with_an_array_aggregate_the_warehouse_cannot_print_is_a_located_error(tmp_path, dialect, message):
    from support.projects import compile_files, write_project

    from snowgen.errors import SnowgenError

    body = "select e.app_id, array_agg(e.id order by e.ts desc) as ids from events as e group by e.app_id"
    root = write_project(tmp_path / "p", [{"name": "m", "materialization": "table", "sql": body}])
    with pytest.raises(SnowgenError) as error:
        compile_files(root, dialect)
    assert f"models/m.yml:3:1: {message}" in str(error.value)
