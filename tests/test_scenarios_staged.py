"""A custom module reading the page views module's staged table, on its own schedule, over
the shipped snowplow_web project and generated events (PostgreSQL and DuckDB).

The page views module runs alone for two days (``--select module:page_views``); the custom
module then takes every page view staged since it last ran. A rewind of page views makes
them run a window the custom module has already consumed: its gate keeps it from writing,
and the staged rows stay until a run in which it reads them.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml
from support import scenarios as sc
from support.generator import GeneratorConfig, generate

from snowgen.api import CompileOptions, compile_loaded
from snowgen.build.manifest_ops import rewind_models
from snowgen.dialects import get_dialect
from snowgen.plan.planner import plan_project
from snowgen.runner.execute import read_plan
from snowgen.spec.loader import load_project

CUSTOM = "custom_page_view_engagement"
CUSTOM_SPEC = {
    "name": CUSTOM, "module": "custom", "materialization": "incremental",
    "unique_key": "page_view_id", "upsert_date_key": "start_tstamp",
    "sql": "select page_view_id, start_tstamp, engaged_time_in_s, vertical_percentage_scrolled\n"
           "from snowplow_web_page_views_staged\n",
}  # fmt: skip
STAGED = "scratch.snowplow_web_page_views_staged"
PROJECTION = "page_view_id, start_tstamp, engaged_time_in_s, vertical_percentage_scrolled"
VARS = {"start_date": "2024-02-29"}
DATA = GeneratorConfig(seed=5, days=3, users=5)


def project_with_custom_module(root):
    page_views = root / "models" / "page_views" / "snowplow_web_page_views.yml"
    spec = yaml.safe_load(page_views.read_text())
    page_views.write_text(yaml.safe_dump({**spec, "staged": True}, sort_keys=False))
    (root / "models" / f"{CUSTOM}.yml").write_text(yaml.safe_dump(CUSTOM_SPEC, sort_keys=False))
    project = root / "snowgen.yml"
    text, count = re.subn(r"^modules: \[(.*)\]$", r"modules: [\1, custom]", project.read_text(), flags=re.MULTILINE)
    assert count == 1, "the project's module list is not where this test adds to it"
    project.write_text(text)
    return root


def steps(root, dialect: str, *select: str):
    [compiled] = compile_loaded(
        load_project(root), [dialect], CompileOptions(vars=VARS, select=tuple(list(select) or None or ()))
    )
    return read_plan(compiled.files, dialect)


@pytest.fixture(params=["postgres", "duckdb"])
def warehouse(request, tmp_path):
    root = project_with_custom_module(sc.copy_project(tmp_path))
    w = sc.Warehouse(request.getfixturevalue(f"{request.param}_engine").fresh(), steps(root, request.param), root)
    w.root = root
    yield w
    w.engine.close()


def rows(w, table: str) -> list[tuple]:
    return sorted(w.query(f"SELECT {PROJECTION} FROM {table}"), key=repr)


def test_the_custom_module_catches_up_from_the_staged_rows(warehouse):
    w, data = warehouse, generate(DATA)
    page_views_only = steps(w.root, w.engine.name, "module:page_views")
    assert CUSTOM not in {s.id for s in page_views_only}
    w.load(data.batch(0))
    w.run()
    assert rows(w, STAGED) == []
    assert rows(w, f"derived.{CUSTOM}") == rows(w, sc.PAGE_VIEWS)
    for batch in (1, 2):
        w.load(data.batch(batch))
        w.run(page_views_only)
    staged = rows(w, STAGED)
    assert staged and set(staged) <= set(rows(w, sc.PAGE_VIEWS))
    waiting = set(staged) - set(rows(w, f"derived.{CUSTOM}"))
    assert {row[1].date() for row in waiting} >= {dt.date(2024, 3, 2), dt.date(2024, 3, 3)}  # the new days wait
    w.run()
    assert rows(w, STAGED) == []
    assert rows(w, f"derived.{CUSTOM}") == rows(w, sc.PAGE_VIEWS)


def test_a_reader_that_skips_the_run_leaves_the_staged_rows(warehouse):
    w, data = warehouse, generate(DATA)
    w.load(data.events)
    w.run_until_stable()
    assert rows(w, f"derived.{CUSTOM}") == rows(w, sc.PAGE_VIEWS)
    dialect = get_dialect(w.engine.name)
    loaded = load_project(w.root)
    rewind = rewind_models(
        plan_project(loaded, cli_vars=VARS),
        dialect,
        ["snowplow_web_page_views"],
        dt.datetime(2024, 3, 2),
        dt.datetime(2024, 3, 10),
    )
    for statement in rewind.statements:
        w.engine.execute(dialect.render(dialect.lower(statement)))
    w.run()  # page views redo 2024-03-02 on; the custom module has consumed that window
    assert w.manifest()["snowplow_web_page_views"] <= w.manifest()[CUSTOM]
    assert rows(w, STAGED), "the custom module did not read this run's rows: they must stay staged"
    w.run_until_stable()
    assert rows(w, STAGED) == []
    assert rows(w, f"derived.{CUSTOM}") == rows(w, sc.PAGE_VIEWS)
