"""Inferred and declared column types against the engine: the typed project's tables built by
the compiled plan on Postgres and DuckDB, each column's type as the engine's catalog gives it
is of the family of the type snowgen put in the plan (the engines widen integers and sums
differently: Postgres' sum of an int is a bigint, DuckDB's an int128)."""

from __future__ import annotations

import json

import pytest
from support.runs import run_compiled
from support.typed_project import write_typed_project

from snowgen.api import compile_project, load_project, source_ddl
from snowgen.dialects import get_dialect

#: logical type -> what the engines' information_schema calls its family (lower case, no size)
FAMILIES = {
    "int": {"integer", "bigint", "smallint", "hugeint"},
    "bigint": {"integer", "bigint", "hugeint"},
    "double": {"double", "double precision", "real", "float"},
    "string": {"text", "character varying", "varchar"},
    "boolean": {"boolean"},
    "date": {"date"},
    "timestamp": {"timestamp", "timestamp without time zone"},
}


def family(logical: str) -> set[str]:
    if logical.startswith("decimal("):
        return {"numeric", "decimal"}
    return FAMILIES[logical.split("(")[0]]


@pytest.mark.parametrize("engine", ["postgres", "duckdb"], indirect=True)
def test_plan_types_match_the_engines_tables(engine, tmp_path):
    root = write_typed_project(tmp_path / "typed")
    [compiled] = compile_project(root, [engine.name])
    for statement in source_ddl(load_project(root), get_dialect(engine.name)):
        engine.execute(statement)
    run_compiled(engine, compiled.files)
    planned = {s["model"]: s["columns"] for s in json.loads(compiled.files["plan.json"])["steps"] if "columns" in s}
    for model in ("typed", "declared"):
        query = (
            "select column_name, data_type from information_schema.columns "
            f"where table_schema = 'derived' and table_name = '{model}' order by ordinal_position"
        )
        found = {name: kind.lower().split("(")[0] for name, kind in engine.query(query)}
        assert list(found) == list(planned[model])
        wrong = {c: (t, found[c]) for c, t in planned[model].items() if found[c] not in family(t)}
        assert wrong == {}, f"{model}: planned type vs engine type"
