"""Names longer than a warehouse allows are SG105 at the spec key they come from, never
truncated into one another (Postgres cuts names at 63 bytes with only a NOTICE). Each
dialect's limits (Dialect.name_limits) are tested at the limit and one unit over, with
multi-byte characters where the limit counts bytes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from snowgen.api import compile_project
from snowgen.dialects import DIALECTS, get_dialect
from snowgen.errors import SnowgenError

ROOT = Path(__file__).resolve().parents[2]
#: a spec name has at most 255 characters (SG102): longer limits cannot be reached from a spec
SPEC_NAME_LIMIT = 255
LIMITED = [
    (name, kind)
    for name, cls in DIALECTS.items()
    for kind in ("schema", "column")
    if kind in cls.name_limits and cls.name_limits[kind][0] < SPEC_NAME_LIMIT
]


def name_of(size: int, unit: str) -> str:
    """A name exactly ``size`` long in ``unit``, of two-byte characters where it can be."""
    if unit == "characters":
        return "é" * size
    return "é" * (size // 2) + "a" * (size % 2)


def project(tmp_path: Path, *, schema: str = "derived", column: str = "x", model: str = "m") -> Path:
    (tmp_path / "models").mkdir(parents=True, exist_ok=True)
    spec = {"project": "demo", "schemas": {"derived": schema}}
    (tmp_path / "snowgen.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    quoted = '"' + column + '"'
    body = {
        "name": model,
        "materialization": "table",
        "columns": {column: "string"},
        "sql": f"select 'v' as {quoted}\n",
    }
    (tmp_path / "models" / "m.yml").write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return tmp_path


def compile_error(root: Path, dialect: str) -> SnowgenError:
    with pytest.raises(SnowgenError) as info:
        compile_project(root, [dialect])
    return info.value


@pytest.mark.parametrize(("dialect", "kind"), LIMITED)
def test_a_name_at_the_limit_compiles_and_one_unit_over_is_sg105(tmp_path, dialect, kind):
    size, unit = get_dialect(dialect).name_limits[kind]
    at_limit, over = name_of(size, unit), name_of(size + 1, unit)
    compile_project(project(tmp_path / "ok", **{kind: at_limit}), [dialect])
    error = compile_error(project(tmp_path / "over", **{kind: over}), dialect)
    [diagnostic] = error.diagnostics
    assert diagnostic.code == "SG105" and f"{size + 1} {unit} long; {dialect} allows {size}" in diagnostic.message
    expected = ("snowgen.yml", "  derived:") if kind == "schema" else ("m.yml", "  " + over[:10])
    assert (diagnostic.location.file.name, diagnostic.location.source_line()[: len(expected[1])]) == expected


def test_duckdb_has_no_documented_limit(tmp_path):
    compile_project(project(tmp_path, column=name_of(SPEC_NAME_LIMIT, "characters")), ["duckdb"])


def test_a_model_name_whose_table_is_over_the_limit_points_at_the_name(tmp_path):
    error = compile_error(project(tmp_path, model="a" * 64), "postgres")
    [diagnostic] = error.diagnostics
    assert diagnostic.code == "SG105" and diagnostic.location.source_line() == "name: " + "a" * 64


def test_for_each_instance_tables_over_the_limit_are_refused_not_merged(tmp_path):
    # The probe: a 63-character for_each model whose __p1/__p2/__p3 tables Postgres truncated
    # into one table, losing p1's and p2's rows and moving their watermarks to p3's.
    deals = Path(shutil.copytree(ROOT / "model_specs" / "multi_source_deals", tmp_path / "deals"))
    long_name = "s" * 63
    for path in (deals / "models").glob("*.yml"):
        path.write_text(path.read_text(encoding="utf-8").replace("stg_deals", long_name), encoding="utf-8")
    [diagnostic] = compile_error(deals, "postgres").diagnostics
    assert diagnostic.code == "SG105" and f"model '{long_name}'" in diagnostic.message
    assert diagnostic.location.file.name == "stg_deals.yml"
    compile_project(deals, ["duckdb", "snowflake"])  # the same names fit there


def test_a_column_name_of_63_bytes_runs_on_postgres_untruncated(tmp_path, postgres_db):
    column = name_of(63, "bytes")
    [compiled] = compile_project(project(tmp_path, column=column, schema="s" * 63), ["postgres"])
    for path in sorted(p for p in compiled.files if p.endswith(".sql")):
        postgres_db.execute_script(compiled.files[path])
    query = "select column_name from information_schema.columns where table_name = 'm'"
    assert postgres_db.query(query) == [(column,)]


def test_snowgen_sources_refuses_a_source_table_name_over_the_limit(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from snowgen.cli import main

    root = project(tmp_path)
    spec = yaml.safe_load((root / "snowgen.yml").read_text(encoding="utf-8"))
    spec["sources"] = {"events": {"schema": "atomic", "table": "e" * 64, "columns": {"id": "int"}}}
    (root / "snowgen.yml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["sources", "--dialect", "postgres"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert (
        "SG105 postgres: table name 'eeee" in result.stderr and "is 64 bytes long; postgres allows 63" in result.stderr
    )


@pytest.mark.parametrize(
    "dialect", [n for n, cls in DIALECTS.items() if all(s >= SPEC_NAME_LIMIT for s, _ in cls.name_limits.values())]
)
def test_where_every_limit_is_beyond_the_specs_own_a_spec_name_at_255_compiles(tmp_path, dialect):
    # Snowflake, BigQuery and Databricks (and DuckDB, without limits): no spec name reaches them
    compile_project(project(tmp_path, column=name_of(SPEC_NAME_LIMIT, "characters"), schema="s" * 255), [dialect])


def test_a_model_name_at_the_table_limit_compiles_as_a_table(tmp_path):
    compile_project(project(tmp_path, model="a" * 63), ["postgres"])


def test_a_long_name_a_body_gives_points_at_the_sql(tmp_path):
    root = project(tmp_path)
    model = yaml.safe_load((root / "models" / "m.yml").read_text(encoding="utf-8"))
    del model["columns"]
    model["sql"] = f"select 1 as {'c' * 64}\n"
    (root / "models" / "m.yml").write_text(yaml.safe_dump(model), encoding="utf-8")
    [diagnostic] = compile_error(root, "postgres").diagnostics
    assert diagnostic.code == "SG105" and diagnostic.location.source_line().startswith("sql:")


def test_a_seed_column_over_the_limit_points_at_the_seed_column(tmp_path):
    root = project(tmp_path)
    spec = yaml.safe_load((root / "snowgen.yml").read_text(encoding="utf-8"))
    column = "k" * 64
    spec["seeds"] = {"lookup": {"file": "seeds/lookup.csv", "columns": {column: "string"}}}
    (root / "snowgen.yml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    (root / "seeds").mkdir()
    (root / "seeds" / "lookup.csv").write_text(f"{column}\nv\n", encoding="utf-8")
    [diagnostic] = compile_error(root, "postgres").diagnostics
    assert diagnostic.code == "SG105" and diagnostic.location.source_line().strip().startswith(column)
