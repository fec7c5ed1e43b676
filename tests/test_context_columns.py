"""Which columns of the events table a Snowplow context is read from.

Where contexts are nested columns of the events table (BigQuery, Snowflake, Databricks), the
current loaders name the column after the schema's major version
(``contexts_com_snowplowanalytics_snowplow_web_page_1``; BigQuery Loader 1.x wrote
``..._1_0_0``). A context's ``columns`` lists the columns to read, coalesced in order, for a
table that holds several versions (a BigQuery table migrated from Loader 1.x to 2.x).
Checked as compiled text for every dialect, and run on bqemulator against DuckDB.
"""

from __future__ import annotations

import json
import re
import shutil
from functools import cache
from pathlib import Path

import pytest
from support import generator
from support.data import insert_rows
from support.generator import GeneratorConfig
from support.runs import run_compiled
from test_dialect_features import covers_every_dialect

from snowgen.api import CompileOptions, compile_project
from snowgen.build.sources import source_ddl
from snowgen.dialects import DIALECTS, get_dialect
from snowgen.errors import SnowgenError
from snowgen.spec.loader import load_project

MAJOR = "contexts_com_snowplowanalytics_snowplow_web_page_1"  # Loader 2.x (BigQuery), Snowflake, Databricks
FULL = "contexts_com_snowplowanalytics_snowplow_web_page_1_0_0"  # BigQuery Loader 1.x
SHIPPED_FIELDS = "      fields: {id: page_view_id}\n"
VARS = {"start_date": "2024-03-01", "backfill_limit_days": 3, "lookback_window_hours": 6}
MODULES = ("setup", "base", "page_views")
PAGE_VIEWS = "SELECT page_view_id FROM derived.snowplow_web_page_views"


def project_listing(tmp_path: Path, columns: list[str] | None) -> Path:
    """A copy of the shipped snowplow_web project whose web_page context lists ``columns``."""
    root = tmp_path / "snowplow_web"
    shutil.copytree(generator.SHIPPED_PROJECT, root, ignore=shutil.ignore_patterns(".snowgen-cache", "*.duckdb"))
    if columns is not None:
        spec = root / "snowgen.yml"
        text = spec.read_text(encoding="utf-8")
        assert SHIPPED_FIELDS in text
        spec.write_text(text.replace(SHIPPED_FIELDS, SHIPPED_FIELDS + f"      columns: {json.dumps(columns)}\n"))
    return root


def events_this_run(root: Path, dialect: str) -> str:
    """The step's text on one line (pretty-printing breaks long calls over several)."""
    [compiled] = compile_project(root, [dialect], CompileOptions(vars=VARS))
    [step] = [s for s in json.loads(compiled.files["plan.json"])["steps"] if s["id"].endswith("base_events_this_run")]
    flat = re.sub(r"\s+", " ", compiled.files[step["file"]])
    return flat.replace("( ", "(").replace(" )", ")")


DEFAULT_CONTEXT = covers_every_dialect({
    "redshift": '"atomic"."com_snowplowanalytics_snowplow_web_page_1" AS "c"',
    "bigquery": f"`e`.`{MAJOR}`[SAFE_OFFSET(0)].`id` AS `page_view_id`",
    "snowflake": f'CAST(GET_PATH("E"."{MAJOR.upper()}"[0], \'id\') AS VARCHAR) AS "PAGE_VIEW_ID"',
    "databricks": f"TRY_ELEMENT_AT(`e`.`{MAJOR}`, 1).`id` AS `page_view_id`",
    "postgres": '"atomic"."com_snowplowanalytics_snowplow_web_page_1" AS "c"',
    "duckdb": '"atomic"."com_snowplowanalytics_snowplow_web_page_1" AS "c"',
})  # fmt: skip

LISTED_CONTEXT = covers_every_dialect({
    # contexts in tables of their own: the columns of the events table are not read
    "redshift": '"atomic"."com_snowplowanalytics_snowplow_web_page_1" AS "c"',
    "bigquery": f"COALESCE(`e`.`{MAJOR}`[SAFE_OFFSET(0)].`id`, `e`.`{FULL}`[SAFE_OFFSET(0)].`id`) AS `page_view_id`",
    "snowflake": f"COALESCE(CAST(GET_PATH(\"E\".\"{MAJOR.upper()}\"[0], 'id') AS VARCHAR), "
                 f"CAST(GET_PATH(\"E\".\"{FULL.upper()}\"[0], 'id') AS VARCHAR)) AS \"PAGE_VIEW_ID\"",
    "databricks": f"COALESCE(TRY_ELEMENT_AT(`e`.`{MAJOR}`, 1).`id`, TRY_ELEMENT_AT(`e`.`{FULL}`, 1).`id`) AS `page_view_id`",
    "postgres": '"atomic"."com_snowplowanalytics_snowplow_web_page_1" AS "c"',
    "duckdb": '"atomic"."com_snowplowanalytics_snowplow_web_page_1" AS "c"',
})  # fmt: skip


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_default_context_column_is_the_loaders_major_version_column(dialect, tmp_path):
    assert DEFAULT_CONTEXT[dialect] in events_this_run(project_listing(tmp_path, None), dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_listed_context_columns_are_coalesced_in_order(dialect, tmp_path):
    text = events_this_run(project_listing(tmp_path, [MAJOR, FULL]), dialect)
    assert LISTED_CONTEXT[dialect] in text
    if get_dialect(dialect).context_storage == "column":
        assert FULL in text or FULL.upper() in text


@pytest.mark.parametrize("dialect", ["bigquery", "snowflake", "databricks"])
def test_the_source_ddl_creates_every_listed_column(dialect, tmp_path):
    d = get_dialect(dialect)
    spec = load_project(project_listing(tmp_path, [MAJOR, FULL])).spec
    text = "\n".join(d.render(s) for s in source_ddl(spec, d))
    for column in (MAJOR, FULL):
        assert (column.upper() if d.folds_to_upper_case else column) in text


def test_a_column_listed_twice_is_a_located_error(tmp_path):
    with pytest.raises(SnowgenError) as caught:
        load_project(project_listing(tmp_path, [MAJOR, MAJOR]))
    assert "snowgen.yml:" in str(caught.value) and "a column is listed twice" in str(caught.value)


# -- on bqemulator, against DuckDB ---------------------------------------------------------------


@cache
def events() -> list[generator.Event]:
    return [e for batch in generator.generate(GeneratorConfig(seed=11, days=2, users=4)).batches() for e in batch]


def page_view_ids(engine, root: Path) -> set[str]:
    [compiled] = compile_project(root, [engine.name], CompileOptions(vars=VARS))
    plan = json.loads(compiled.files["plan.json"])
    plan["steps"] = [s for s in plan["steps"] if s["module"] in MODULES]
    run_compiled(engine, {**compiled.files, "plan.json": json.dumps(plan)})
    return {row[0] for row in engine.query(get_dialect(engine.name).render(_parse(PAGE_VIEWS)))}


def _parse(query: str):
    import sqlglot

    return sqlglot.parse_one(query, read="postgres")


def load_as_the_loader_does(engine, columns_of: dict[str, str]) -> None:
    """atomic.events as BigQuery's loader creates it: the declared columns, and one nested
    web_page column per name in ``columns_of`` (page_view_id -> the column its context is in)."""
    d = get_dialect("bigquery")
    for statement in source_ddl(load_project(generator.SHIPPED_PROJECT).spec, d):
        if statement.args.get("kind") == "TABLE":
            table = statement.this
            table.set("expressions", [c for c in table.expressions if not c.name.startswith("contexts_")])
            for column in dict.fromkeys(columns_of.values()):
                table.append("expressions", _column_def(d, column))
        engine.execute(d.render(statement))
    rows = []
    for event in events():
        row = {column: event.row.get(column) for column in event.row}
        if event.page_view_id is not None:
            row[columns_of[event.page_view_id]] = generator._nested_context("bigquery", event.page_view_id)
        rows.append(row)
    for statement in insert_rows("bigquery", "atomic", "events", rows):
        engine.execute(statement)


def _column_def(d, name: str):
    from sqlglot import exp

    return exp.ColumnDef(this=exp.to_identifier(name), kind=d.context_column_type([("id", "string")]))


@pytest.fixture(scope="module")
def duckdb_page_views(duckdb_engine, tmp_path_factory):
    engine = duckdb_engine.fresh()
    try:
        for statement in source_ddl(load_project(generator.SHIPPED_PROJECT).spec, get_dialect("duckdb")):
            engine.execute(get_dialect("duckdb").render(statement))
        generator.load(engine, events())
        ids = page_view_ids(engine, project_listing(tmp_path_factory.mktemp("duckdb"), None))
    finally:
        engine.close()
    assert len(ids) >= 10, "the reference run has page views"
    return ids


def test_bigquery_reads_the_major_version_column_of_loader_2(bigquery_db, duckdb_page_views, tmp_path):
    every = {e.page_view_id for e in events() if e.page_view_id is not None}
    load_as_the_loader_does(bigquery_db, dict.fromkeys(every, MAJOR))
    assert page_view_ids(bigquery_db, project_listing(tmp_path, None)) == duckdb_page_views


def test_bigquery_coalesces_the_listed_version_columns(bigquery_db, duckdb_page_views, tmp_path):
    """A table migrated from Loader 1.x: the older events' contexts in the full-version column,
    the newer ones in the major-version column; page views come from both."""
    ordered = sorted({e.page_view_id for e in events() if e.page_view_id is not None})
    older = set(ordered[: len(ordered) // 2])
    columns_of = {pv: (FULL if pv in older else MAJOR) for pv in ordered}
    load_as_the_loader_does(bigquery_db, columns_of)
    found = page_view_ids(bigquery_db, project_listing(tmp_path, [MAJOR, FULL]))
    assert found == duckdb_page_views
    assert found & older and found - older, "page views from both columns"


# -- a context's fields as each loader names and types them ---------------------------------------

FIELD_NAMES = covers_every_dialect({
    # shredded tables and STRUCT fields: the schema's name in snake case; VARIANT keys: as is
    "redshift": "spider_or_robot",
    "bigquery": "spider_or_robot",
    "snowflake": "spiderOrRobot",
    "databricks": "spider_or_robot",
    "postgres": "spider_or_robot",
    "duckdb": "spider_or_robot",
})  # fmt: skip

TYPED_PROJECT = """\
project: typed
sources:
  events:
    schema: atomic
    table: events
    sample: samples/events.csv
    columns: {event_id: string(36), collector_tstamp: timestamp}
incremental:
  strategy: sessions
  contexts:
    - name: iab
      schema: iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0
      fields: {spiderOrRobot: iab_spider_or_robot, primaryImpact: iab_primary_impact}
      types: {spiderOrRobot: boolean}
      sample: samples/iab.csv
"""
TYPED_EVENTS = "event_id,collector_tstamp\ne1,2020-01-01 10:00:00\ne2,2020-01-01 10:00:01\ne3,2020-01-01 10:00:02\n"
TYPED_ROWS = (
    "root_id,root_tstamp,spiderOrRobot,primaryImpact\ne1,2020-01-01 10:00:00,true,NONE\ne2,2020-01-01 10:00:01,,\n"
)
IAB = ("com.iab.snowplow", "spiders_and_robots", "1-0-0")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_fields_name_is_the_loaders(dialect):
    assert get_dialect(dialect).context_field("spiderOrRobot") == FIELD_NAMES[dialect]
    assert get_dialect(dialect).context_field("id") == "id"


def typed_project(tmp_path: Path) -> Path:
    root = tmp_path / "typed"
    (root / "samples").mkdir(parents=True)
    (root / "snowgen.yml").write_text(TYPED_PROJECT, encoding="utf-8")
    (root / "samples" / "events.csv").write_text(TYPED_EVENTS, encoding="utf-8")
    (root / "samples" / "iab.csv").write_text(TYPED_ROWS, encoding="utf-8")
    return root


@pytest.mark.parametrize("engine", ["postgres", "duckdb", "snowflake", "bigquery", "databricks"], indirect=True)
def test_a_typed_field_loads_and_reads_back_under_the_loaders_name(engine, tmp_path):
    """The sample's boolean goes into the context's table (a boolean column named in snake
    case) or into the events' nested column, and the plan's expression reads it back typed;
    an event without the entity, or an entity without the field, reads NULL."""
    from test_samples import load_printed_sample

    load_printed_sample(engine, typed_project(tmp_path))
    d = get_dialect(engine.name)
    if d.context_storage == "table":
        table = f"atomic.{d.context_table(*IAB)}"
        query = f"SELECT e.event_id, c.spider_or_robot, c.primary_impact FROM atomic.events AS e LEFT JOIN {table} AS c ON c.root_id = e.event_id"
        tree = _parse(query)
    else:
        from sqlglot import exp

        column = exp.column(d.context_column(*IAB))
        fields = [
            d.first_context_field(column.copy(), f, t)
            for f, t in (("spiderOrRobot", "boolean"), ("primaryImpact", "string"))
        ]
        tree = exp.select("event_id", *fields).from_("atomic.events")
    rows = sorted(tuple(row) for row in engine.query(d.render(d.lower(tree))))
    assert rows == [("e1", True, "NONE"), ("e2", None, None), ("e3", None, None)]


def test_types_may_name_only_the_fields_a_context_reads(tmp_path):
    root = typed_project(tmp_path)
    spec = root / "snowgen.yml"
    spec.write_text(spec.read_text().replace("types: {spiderOrRobot: boolean}", "types: {category: boolean}"))
    with pytest.raises(SnowgenError) as caught:
        load_project(root)
    assert "snowgen.yml:" in str(caught.value) and "types names fields the context does not read: category" in str(
        caught.value
    )


def test_a_fields_type_is_a_json_scalar(tmp_path):
    root = typed_project(tmp_path)
    spec = root / "snowgen.yml"
    spec.write_text(spec.read_text().replace("types: {spiderOrRobot: boolean}", "types: {spiderOrRobot: timestamp}"))
    with pytest.raises(SnowgenError) as caught:
        load_project(root)
    assert "snowgen.yml:" in str(caught.value) and "types.spiderOrRobot" in str(caught.value)
