"""Seeds on real engines: a CSV of hostile text and of every seed type is loaded by the
compiled plan and read back exactly, twice (the second run replaces the first's rows), on
every engine that runs here."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
import sqlglot
import yaml
from support.runs import run_compiled

from snowgen.api import compile_project
from snowgen.build import seed_load
from snowgen.build.materialize import STAGE_SUFFIX
from snowgen.dialects import get_dialect

ENGINES = ["postgres", "duckdb", "snowflake", "bigquery", "databricks"]
SNOWPLOW_WEB = Path(__file__).resolve().parents[1] / "model_specs" / "snowplow_web"

#: text that breaks naive quoting, escaping, parameter markers, templating or CSV parsing
HOSTILE = [
    "O'Brien", "''", "back\\slash", "\\'", "ends with \\", "$$dollar$$", "$1", "100%", "%s", "%(x)s", "line\nbreak",
    "crlf\r\nline", "tab\there", '"quoted"', 'a ""b""', "semi;colon -- not a comment", "/* not a comment */",
    "{{ var('x') }}", "é✓中文🙂", "NA", "null", "NULL", " ", " padded ", "`tick`", "?", ":x", ",", "\\n",
]  # fmt: skip

TYPED_COLUMNS = {
    "id": "int", "big": "bigint", "amount": "decimal(12,2)", "ratio": "double", "flag": "boolean",
    "day": "date", "at": "timestamp", "code": "string(2)",
}  # fmt: skip
TYPED_ROWS = [
    ["1", "9007199254740993", "1234567890.25", "0.125", "true", "2024-02-29", "2024-03-01 10:00:00.250", "NA"],
    ["2", "-5", "-0.50", "-1e-3", "FALSE", "1999-12-31", "2024-03-01T23:59:59", "GB"],
    ["3", "", "", "", "", "", "", ""],  # empty cells load as NULL
]
TYPED_EXPECTED = [
    (1, 9007199254740993, Decimal("1234567890.25"), 0.125, True, dt.date(2024, 2, 29), dt.datetime(2024, 3, 1, 10, 0, 0, 250000), "NA"),
    (2, -5, Decimal("-0.50"), -0.001, False, dt.date(1999, 12, 31), dt.datetime(2024, 3, 1, 23, 59, 59), "GB"),
]  # fmt: skip


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write_seed_project(root: Path) -> Path:
    spec = {
        "project": "seeded",
        "schemas": {"derived": "derived", "scratch": "scratch", "manifest": "manifest"},
        "seeds": {
            "hostile": {"file": "seeds/hostile.csv", "columns": {"id": "int", "value": "string"}},
            "typed": {"file": "seeds/typed.csv", "schema": "derived", "columns": TYPED_COLUMNS},
        },
    }
    (root / "seeds").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "snowgen.yml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    hostile = [[str(i), value] for i, value in enumerate(HOSTILE)]
    (root / "seeds/hostile.csv").write_bytes(csv_text(["id", "value"], hostile).encode("utf-8"))
    (root / "seeds/typed.csv").write_bytes(csv_text(list(TYPED_COLUMNS), TYPED_ROWS).encode("utf-8"))
    model = {
        "name": "hostile_copy",
        "sql": "select h.id, h.value, t.code from hostile as h left join typed as t on h.id = t.id",
    }
    (root / "models/hostile_copy.yml").write_text(yaml.safe_dump(model), encoding="utf-8")
    return root


def rows(engine, sql: str) -> list[tuple]:
    d = get_dialect(engine.name)
    return [tuple(row) for row in engine.query(d.render(sqlglot.parse_one(sql, read="postgres")))]


@pytest.fixture
def seeded(engine, tmp_path):
    [compiled] = compile_project(write_seed_project(tmp_path / "seeded"), [engine.name])
    run_compiled(engine, compiled.files)
    return engine, compiled.files


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_hostile_text_round_trips_exactly(seeded):
    engine, _ = seeded
    got = rows(engine, "select id, value from scratch.hostile order by id")
    assert got == list(enumerate(HOSTILE))
    # and through a model that reads the seed by its name
    assert rows(engine, "select id, value from derived.hostile_copy order by id") == list(enumerate(HOSTILE))


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_every_seed_type_loads_its_value_and_empty_cells_are_null(seeded):
    engine, _ = seeded
    got = rows(engine, f"select {', '.join(TYPED_COLUMNS)} from derived.typed where id < 3 order by id")
    assert [tuple(_plain(v) for v in row) for row in got] == [
        tuple(_plain(v) for v in row) for row in TYPED_EXPECTED[:2]
    ]
    # Row 3 is asked with IS NULL: the Snowflake connector reads a NULL TIMESTAMP_NTZ from
    # fakesnow as 1970-01-01, though the table holds NULL.
    nulls = ", ".join(f"case when {c} is null then 1 else 0 end" for c in TYPED_COLUMNS if c != "id")
    assert rows(engine, f"select {nulls} from derived.typed where id = 3") == [(1,) * (len(TYPED_COLUMNS) - 1)]
    assert rows(engine, "select code from derived.hostile_copy where id = 1") == [("NA",)]  # Namibia is no NULL


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_second_run_replaces_the_rows_and_leaves_no_stage(seeded):
    engine, files = seeded
    run_compiled(engine, files)
    assert rows(engine, "select count(*) from scratch.hostile") == [(len(HOSTILE),)]
    assert rows(engine, "select count(*) from derived.typed") == [(len(TYPED_ROWS),)]
    tables = {name.lower() for (name,) in _tables(engine, "scratch")}
    assert "hostile" in tables and not any(name.endswith(STAGE_SUFFIX) for name in tables)


@pytest.mark.parametrize("engine", ["postgres", "duckdb"], indirect=True)
def test_seeds_larger_than_one_batch_load_every_row(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(seed_load, "BATCH_ROWS", 7)
    root = write_seed_project(tmp_path / "seeded")
    [compiled] = compile_project(root, [engine.name])
    inserts = [f for f in compiled.files.values() if f.count('INSERT INTO "scratch"."hostile__snowgen_stage"') > 1]
    assert len(inserts) == 1  # the hostile seed's file holds several INSERTs
    run_compiled(engine, compiled.files)
    assert rows(engine, "select id, value from scratch.hostile order by id") == list(enumerate(HOSTILE))


def _tables(engine, schema: str) -> list[tuple]:
    if engine.name == "databricks":
        return [(row[1],) for row in engine.query(f"SHOW TABLES IN {schema}")]
    if engine.name == "bigquery":
        return engine.query(f"SELECT table_name FROM `{schema}`.INFORMATION_SCHEMA.TABLES")
    schema = schema.upper() if engine.name == "snowflake" else schema
    return engine.query(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'")


def _plain(value):
    """Values as Python compares them across drivers (Decimal('1.50') == 1.5, naive UTC)."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, Decimal):
        return round(float(value), 9)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def test_snowgen_run_loads_the_seeds_and_a_full_refresh_reloads_them(tmp_path, monkeypatch):
    # The CLI path (snowgen run on the project's DuckDB file): its own statement splitter, and a
    # full refresh, which drops incremental state only; the seeds load again either way.
    import duckdb
    from click.testing import CliRunner

    from snowgen.cli import main

    root = write_seed_project(tmp_path / "seeded")
    monkeypatch.chdir(root)
    for args in (["run"], ["run", "--full-refresh", "--allow-refresh"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        with duckdb.connect(str(root / "snowgen.duckdb")) as con:
            got = con.execute('select id, value from "scratch"."hostile" order by id').fetchall()
        assert got == list(enumerate(HOSTILE))


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_the_shipped_snowplow_seeds_load(engine):
    # The snowplow_web project's setup module alone: its four seeds (names with curly and
    # straight apostrophes, "NA" for Namibia, Antarctica without a region).
    [compiled] = compile_project(SNOWPLOW_WEB, [engine.name])
    plan = json.loads(compiled.files["plan.json"])
    setup = [s for s in plan["steps"] if s["module"] == "setup"]
    run_compiled(engine, {**compiled.files, "plan.json": json.dumps({**plan, "steps": setup})})
    for geo, gb in (("geo_country_mapping", "United Kingdom of Great Britain and Northern Ireland"),
                    ("geo_country_mapping_cldr", "United Kingdom")):  # fmt: skip
        geo = f"scratch.snowplow_web_dim_{geo}"
        assert rows(engine, f"select count(*) from {geo}") == [(249,)]
        assert rows(engine, f"select name, region from {geo} where alpha_2 in ('NA', 'AQ', 'GB') order by alpha_2") == [
            ("Antarctica", None),
            (gb, "Europe"),
            ("Namibia", "Africa"),
        ]
    iso = "scratch.snowplow_web_dim_geo_country_mapping"
    assert rows(engine, f"select name from {iso} where alpha_2 = 'KP'") == [
        ("Korea (Democratic People's Republic of)",)
    ]
    languages = "scratch.snowplow_web_dim_rfc_5646_language_mapping"
    assert rows(engine, f"select name from {languages} where lang_tag = 'mic'") == [("Mi'kmaw",)]
    assert rows(engine, f"select count(*) from {languages}") == [(1141,)]
    sources = "scratch.snowplow_web_dim_ga4_source_categories"
    assert (
        rows(engine, f"select source_category from {sources} where source in ('google', 'rakuten')")
        == [("SOURCE_CATEGORY_SEARCH",)] * 2
    )
    assert rows(engine, f"select count(*) from {sources}") == [(819,)]
