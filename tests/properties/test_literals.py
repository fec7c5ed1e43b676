"""A var value printed with ``{{ var('x') }}`` becomes one SQL string literal equal to the value:
in the text of every dialect (parsed back with sqlglot) and in what DuckDB and Postgres return."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from snowgen.dialects import DIALECTS

from .conftest import (
    PgSchemas,
    compile_specs,
    examples,
    fresh_duckdb,
    ordered_sql,
    parse_back,
    quote,
    run_all,
    string_literals,
)

PLACEHOLDER = re.compile(r"__sg[vi]\d+__")

# Any text except NUL (Postgres text cannot hold it) and lone surrogates (not UTF-8).
TEXT = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))
HOSTILE = st.sampled_from(
    [
        "O'Brien",
        "''",
        "\\",
        "\\'",
        "'; drop table x; --",
        "%_%",
        "a\nb",
        "a\r\nb",
        "\t",
        "$$",
        "$1",
        "{{ x }}",
        "{% raw %}",
        "é✓中文🙂",
        "\\n",
        '"',
        "`",
        "?",
        ":x",
        "--",
        "/*",
        "*/",
        "${x}",
        "\\\\'",
        " ",
    ]
)
VALUES = st.one_of(HOSTILE, st.text(TEXT, max_size=30), st.lists(HOSTILE, min_size=1, max_size=4).map("".join))


def spec(value: str, schemas: dict[str, str] | None = None) -> tuple[dict, list[dict]]:
    schemas = schemas or {"source": "atomic", "derived": "derived", "scratch": "scratch"}
    project = {
        "project": "demo",
        "vars": {"x": value},
        "schemas": {"derived": schemas["derived"], "scratch": schemas["scratch"]},
        "sources": {"events": {"schema": schemas["source"], "table": "events"}},
    }
    model = {"name": "m", "sql": "select {{ var('x') }} as c, id\nfrom events\n"}
    return project, [model]


def model_sql(compiled) -> str:
    [text] = [text for file, text in ordered_sql(compiled) if file.endswith("_m.sql")]
    return text


SETTINGS = settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(value=VALUES)
@example(value='O\'Brien \\ %_ "q"\nline two é')
def test_var_value_is_one_literal_in_every_dialect(value):
    assume(not PLACEHOLDER.search(value))  # see test_var_value_that_looks_like_a_placeholder
    outputs = compile_specs(*spec(value))
    for dialect, compiled in outputs.items():
        for _, text in ordered_sql(compiled):
            parse_back(text, dialect)
        assert value in string_literals(parse_back(model_sql(compiled), dialect)), dialect


def _duckdb_value(value: str) -> str:
    con = fresh_duckdb()
    con.execute("create schema atomic; create table atomic.events as select 1 as id")
    run_all(con.execute, compile_specs(*spec(value), dialects=["duckdb"])["duckdb"])
    [(got,)] = con.execute('select c from "derived"."m"').fetchall()
    return got


@SETTINGS
@given(value=VALUES)
def test_var_value_round_trips_through_duckdb(value):
    assume(not PLACEHOLDER.search(value))
    assert _duckdb_value(value) == value


@SETTINGS
@given(value=VALUES)
def test_var_value_round_trips_through_postgres(pg, value):
    assume(not PLACEHOLDER.search(value))
    schemas = PgSchemas(pg)
    names = {key: schemas.name(key) for key in ("source", "derived", "scratch")}
    try:
        source = quote(names["source"])
        pg.execute(f"create schema {source}; create table {source}.events as select 1 as id")
        run_all(pg.execute, compile_specs(*spec(value, names), dialects=["postgres"])["postgres"])
        [(got,)] = pg.execute(f"select c from {quote(names['derived'])}.m").fetchall()
    finally:
        schemas.drop()
    assert got == value


@pytest.mark.parametrize("value", ["__sgv0__", "x __sgi3__ y"])
def test_var_value_that_looks_like_a_placeholder(value):
    outputs = compile_specs(*spec(value), dialects=list(DIALECTS))
    for dialect, compiled in outputs.items():
        assert value in string_literals(parse_back(model_sql(compiled), dialect))
