"""Hostile names (reserved words, spaces, quotes, dots, unicode, mixed case) for columns,
source schemas and tables, snowgen's own schemas and models: every dialect's output parses
back, and the incremental model runs (twice) on DuckDB and Postgres with the right rows."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from .conftest import compile_specs, examples, fresh_duckdb, ordered_sql, parse_back, quote, run_all

RESERVED = [
    "select",
    "order",
    "from",
    "group",
    "table",
    "user",
    "end",
    "limit",
    "where",
    "default",
    "case",
    "column",
    "all",
    "primary",
    "window",
    "qualify",
    "merge",
    "using",
    "natural",
    "interval",
]
TRICKY = [
    "order by",
    "a b",
    'a"b',
    "a'b",
    "a.b",
    "a..b",
    "x`y",
    "[x]",
    "$1",
    "%s",
    "{x}",
    "{%",
    "{{x}}",
    "{#",
    "--x",
    "/*x*/",
    "é",
    "Ünïcödé",
    "中文",
    "🙂",
    "a\\b",
    "Mixed Case",
    "UPPER CASE",
    " lead",
    "trail ",
    "a;b",
    "1st",
]
NAME_CHARS = st.characters(exclude_characters="\x00\r\n", exclude_categories=("Cs",))
NAMES = st.one_of(st.sampled_from(RESERVED + TRICKY), st.text(NAME_CHARS, min_size=1, max_size=12))
# Model names are identifiers (SG104); reserved words and case still have to be handled.
MODEL_NAMES = st.sampled_from(["select", "order", "Order", "from", "user", "Group_By", "_", "page_views"])
ENGINE_SCHEMAS = {"main", "temp", "system", "information_schema", "pg_catalog", "pg_toast", "memory"}


def yaml_name(name: str) -> str:
    """A name as the spec writes it: a plain name with capitals goes in double quotes, as in
    SQL, to keep its case (snowgen.names); any other name is exact as it is."""
    plain_with_capitals = not exp.to_identifier(name).quoted and name != name.lower()
    return f'"{name}"' if plain_with_capitals else name


def usable(names: list[str]) -> bool:
    return all(
        not (n.startswith('"') and n.endswith('"'))  # would read as the quoted spec form
        and len(n.encode("utf-8")) <= 40  # Postgres truncates identifiers at 63 bytes (stage/index names add more)
        and not n.lower().startswith(("snowgen_", "pg_"))  # snowgen's own aliases; Postgres' reserved prefix
        and n.lower() not in ENGINE_SCHEMAS
        and "endraw" not in n  # would end the raw block a Jinja delimiter in a name is written in
        for n in names
    )


def in_body(name: str) -> str:
    """A quoted name as a body writes it: a body is a Jinja template, so a name holding a
    Jinja delimiter is written as raw text, as a user would."""
    quoted = quote(name)
    return f"{{% raw %}}{quoted}{{% endraw %}}" if any(d in quoted for d in ("{{", "{%", "{#")) else quoted


def spec(column: str, key: str, ts: str, source_schema: str, table: str, derived: str, scratch: str, model: str):
    body = f"select {in_body(column)}, {in_body(key)}, {in_body(ts)}\nfrom events\n"
    column, key, ts, source_schema, table, derived, scratch = map(
        yaml_name, (column, key, ts, source_schema, table, derived, scratch)
    )
    project = {
        "project": "demo",
        "schemas": {"derived": derived, "scratch": scratch},
        "sources": {"events": {"schema": source_schema, "table": table}},
    }
    model_spec = {
        "name": model,
        "materialization": "incremental",
        "unique_key": key,
        "upsert_date_key": ts,
        "columns": {column: "string", key: "int", ts: "timestamp"},
        "layout": {"partition": {"column": ts}, "cluster": [column]},
        "sql": body,
    }
    return project, [model_spec]


SEVEN_NAMES = st.lists(NAMES, min_size=7, max_size=7, unique_by=lambda n: n.casefold()).filter(usable)
SETTINGS = settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROWS = [("v1", 1), ("v'2", 2)]


def load_source(execute, column, key, ts, source_schema, table) -> None:
    target = f"{quote(source_schema)}.{quote(table)}"
    execute(f"create schema if not exists {quote(source_schema)}")
    execute(f"create table {target} ({quote(column)} varchar, {quote(key)} integer, {quote(ts)} timestamp)")
    day = "timestamp '2024-05-01 10:00:00'"
    execute(f"insert into {target} values ('v1', 1, {day}), ('v''2', 2, {day}), ('v''2', 2, {day})")


def result(fetch, column, key, derived, model) -> list[tuple]:
    # Model names are identifiers: folded to lower case like any unquoted name.
    return fetch(f"select {quote(column)}, {quote(key)} from {quote(derived)}.{quote(model.lower())} order by 2")


@SETTINGS
@given(names=SEVEN_NAMES, model=MODEL_NAMES)
@example(names=["select", "order by", "end", 'a"b.c', "Ünïcödé", "a'b", "user"], model="Order")
def test_hostile_names_parse_back_in_every_dialect(names, model):
    for dialect, compiled in compile_specs(*spec(*names, model)).items():
        for _, text in ordered_sql(compiled):
            parse_back(text, dialect)


@SETTINGS
@given(names=SEVEN_NAMES, model=MODEL_NAMES)
@example(names=["select", "order by", "end", 'a"b.c', "Ünïcödé", "a'b", "user"], model="Order")
def test_hostile_names_run_on_duckdb(names, model):
    con = fresh_duckdb()
    load_source(con.execute, *names[:5])
    compiled = compile_specs(*spec(*names, model), dialects=["duckdb"])["duckdb"]
    run_all(con.execute, compiled)
    run_all(con.execute, compiled)  # the second run upserts into the existing table
    assert result(lambda q: con.execute(q).fetchall(), names[0], names[1], names[5], model) == ROWS


@SETTINGS
@given(names=SEVEN_NAMES, model=MODEL_NAMES)
@example(names=["select", "order by", "end", 'a"b.c', "Ünïcödé", "a'b", "user"], model="Order")
def test_hostile_names_run_on_postgres(pg_scratch_db, names, model):
    db = pg_scratch_db
    try:
        load_source(db.execute, *names[:5])
        compiled = compile_specs(*spec(*names, model), dialects=["postgres"])["postgres"]
        run_all(db.execute, compiled)
        run_all(db.execute, compiled)
        assert result(lambda q: db.execute(q).fetchall(), names[0], names[1], names[5], model) == ROWS
    finally:
        for schema in (names[3], names[5], names[6]):
            db.execute(f"drop schema if exists {quote(schema)} cascade")


def test_mixed_case_column_name_runs_on_postgres(pg_scratch_db):
    db = pg_scratch_db
    names = ["MixedCase", "Key", "ts", "src", "events", "derived_mc", "scratch_mc"]
    try:
        load_source(db.execute, *names[:5])
        run_all(db.execute, compile_specs(*spec(*names, "m"), dialects=["postgres"])["postgres"])
        assert result(lambda q: db.execute(q).fetchall(), names[0], names[1], names[5], "m") == ROWS
    finally:
        for schema in (names[3], names[5], names[6]):
            db.execute(f"drop schema if exists {quote(schema)} cascade")
