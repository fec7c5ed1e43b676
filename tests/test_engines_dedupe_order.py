"""Duplicate event ids whose timestamps are all equal and whose event_fingerprint is NULL:
the row the events of the run keep does not depend on the order the rows were loaded in,
on any engine (snowgen.build.row_order: the rest of the row breaks the tie), and here, with ASCII
values every collation orders alike, every engine keeps the same row. The same for an
upsert's one row per key."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import cache

import pytest
import sqlglot
from support import generator
from support.data import insert_rows
from support.generator import GeneratorConfig
from support.projects import compile_files, write_project
from support.runs import run_compiled

from snowgen.api import CompileOptions, compile_loaded
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.spec.loader import load_project

ENGINES = ["postgres", "duckdb", "snowflake", "bigquery", "databricks"]
VARS = {"start_date": "2024-03-01", "backfill_limit_days": 2}
#: the copies differ in columns the dedupe order does not name (ASCII: any collation agrees)
VARIANTS = [
    {"page_title": "Title A", "br_viewwidth": 1200},
    {"page_title": "Title B", "br_viewwidth": 900},
    {"page_title": "Title A", "br_viewwidth": 800},
]
KEPT = "SELECT event_id, page_title, br_viewwidth FROM scratch.snowplow_web_base_events_this_run"


@cache
def events() -> tuple[list[generator.Event], str]:
    """One day of events and three copies of one page view that tie on every timestamp."""
    data = generator.generate(
        GeneratorConfig(seed=5, days=1, users=2, duplicates_same_tstamp=0, duplicates_other_tstamp=0)
    )
    original = next(e for e in data.events if e.row["event"] == "page_view" and not e.tags)
    copies = [
        generator.Event({**original.row, "event_fingerprint": None, **variant}, original.page_view_id, original.batch)
        for variant in VARIANTS
    ]
    others = [e for e in data.events if e is not original]
    return others + copies, original.event_id


@cache
def compiled(dialect: str) -> tuple[list[str], dict[str, str]]:
    """The source DDL and the setup, base and finish modules' files."""
    loaded = load_project(generator.SHIPPED_PROJECT)
    d = get_dialect(dialect)
    [project] = compile_loaded(loaded, [dialect], CompileOptions(vars=VARS))
    plan = json.loads(project.files["plan.json"])
    plan["steps"] = [s for s in plan["steps"] if s["module"] in ("setup", "base", "finish")]  # finish: lock release
    files = {s["file"]: project.files[s["file"]] for s in plan["steps"]}
    return [d.render(s) for s in source_ddl(loaded.spec, d)], {**files, "plan.json": json.dumps(plan)}


def kept_row(engine, ordered: list[generator.Event], event_id: str) -> tuple:
    ddl, files = compiled(engine.name)
    for statement in ddl:
        engine.execute(statement)
    generator.load(engine, ordered)
    run_compiled(engine, files)
    query = get_dialect(engine.name).render(sqlglot.parse_one(KEPT, read="postgres"))
    return tuple(r[1:] for r in engine.query(query) if r[0] == event_id)


@pytest.fixture(scope="module")
def kept_by_engine():
    return {}


@pytest.mark.parametrize("name", ENGINES)
def test_duplicates_that_tie_keep_the_same_row_whatever_the_load_order(request, name, kept_by_engine):
    rows, event_id = events()
    session_engine = request.getfixturevalue(f"{name}_engine")
    kept = []
    for ordered in (rows, rows[::-1]):
        with session_engine.fresh() as engine:
            kept.append(kept_row(engine, ordered, event_id))
    assert kept[0] == kept[1] and len(kept[0]) == 1
    kept_by_engine[name] = kept[0]
    assert len(set(kept_by_engine.values())) == 1, kept_by_engine


UPSERT_MODEL = {
    "name": "latest", "materialization": "incremental", "unique_key": "id", "upsert_date_key": "ts",
    "columns": {"id": "bigint", "ts": "timestamp", "app_id": "string", "amount": "decimal(18,2)"},
    "sql": "select id, ts, app_id, amount from events\n",
}  # fmt: skip
TIED = [  # one key, one timestamp: only the rest of the row tells them apart
    {"id": 1, "ts": dt.datetime(2024, 3, 1, 10), "useragent": "x", "app_id": "b", "amount": Decimal("1.00")},
    {"id": 1, "ts": dt.datetime(2024, 3, 1, 10), "useragent": "x", "app_id": "a", "amount": Decimal("2.00")},
    {"id": 1, "ts": dt.datetime(2024, 3, 1, 10), "useragent": "x", "app_id": "a", "amount": Decimal("1.50")},
]


@pytest.mark.parametrize("name", ["postgres", "duckdb"])
def test_an_upsert_keeps_the_same_row_of_tied_duplicates_whatever_the_load_order(request, tmp_path, name):
    root = write_project(tmp_path / "p", [UPSERT_MODEL])
    files = compile_files(root, name)
    d = get_dialect(name)
    session_engine = request.getfixturevalue(f"{name}_engine")
    kept = []
    for ordered in (TIED, TIED[::-1]):
        with session_engine.fresh() as engine:
            for statement in source_ddl(load_project(root).spec, d):
                engine.execute(d.render(statement))
            for statement in insert_rows(name, "raw", "events", ordered):
                engine.execute(statement)
            run_compiled(engine, files)
            kept.append(engine.query("SELECT id, app_id, amount FROM derived.latest"))
    assert kept[0] == kept[1] == [(1, "a", Decimal("1.50"))]
