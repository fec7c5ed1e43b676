"""Postgres plans each step from the statistics of the tables it reads. A first run (or a full
refresh) creates the incremental targets empty and fills them in the same run; the next steps
read them before autovacuum could analyze them. An index built on the empty table recorded it
as holding no rows (the planner took it for one), so the target's indexes are built after its
upsert (snowgen.dialects.postgres). Checked right after each target's step of a first run, with
no ANALYZE run by anyone (``last_analyze`` and ``last_autoanalyze`` empty, so the check does not
depend on autovacuum's timing): the planner's row estimate of the table is its count.
"""

from __future__ import annotations

import json
import re
from functools import cache

import pytest
from support import generator
from support.generator import GeneratorConfig

from snowgen.api import CompileOptions, compile_loaded
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.spec.loader import load_project

VARS = {"start_date": "2024-03-01", "backfill_limit_days": 30}
TARGETS = {
    "snowplow_web_user_mapping": "derived.snowplow_web_user_mapping",
    "snowplow_web_page_views": "derived.snowplow_web_page_views",
    "snowplow_web_sessions": "derived.snowplow_web_sessions",
    "snowplow_web_users": "derived.snowplow_web_users",
}


@cache
def plan_files() -> tuple[list[dict], dict[str, str]]:
    [project] = compile_loaded(load_project(generator.SHIPPED_PROJECT), ["postgres"], CompileOptions(vars=VARS))
    return json.loads(project.files["plan.json"])["steps"], project.files


def planner_rows(engine, table: str) -> int:
    [(plan,)] = engine.query(f"EXPLAIN SELECT * FROM {table}")
    return int(re.search(r"rows=(\d+)", plan).group(1))


def first_run_stepwise(engine):
    """Yield (step id, engine) after each step of a first run over a few days of events."""
    d = get_dialect("postgres")
    for statement in source_ddl(load_project(generator.SHIPPED_PROJECT).spec, d):
        engine.execute(d.render(statement))
    for batch in generator.generate(GeneratorConfig(seed=5, days=4, users=40)).batches():
        generator.load(engine, batch)
    steps, files = plan_files()
    for step in steps:
        engine.execute_script(files[step["file"]])
        yield step["id"]


@pytest.fixture(scope="module")
def statistics_after_each_target(postgres_engine):
    """target -> (rows, planner's estimate, analyzed by anyone) right after its step."""
    engine = postgres_engine.fresh()
    found = {}
    try:
        for step in first_run_stepwise(engine):
            if step in TARGETS:
                table = TARGETS[step]
                [(rows,)] = engine.query(f"SELECT COUNT(*) FROM {table}")
                schema, name = table.split(".")
                [(analyzed,)] = engine.query(
                    "SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL FROM pg_stat_user_tables "
                    f"WHERE schemaname = '{schema}' AND relname = '{name}'"
                )
                found[step] = (rows, planner_rows(engine, table), analyzed)
    finally:
        engine.close()
    return found


@pytest.mark.parametrize("step", list(TARGETS))
def test_a_target_filled_by_a_first_run_is_analyzed_before_the_next_step(step, statistics_after_each_target):
    rows, estimate, analyzed = statistics_after_each_target[step]
    assert rows >= 10, "the run filled the table"
    assert not analyzed, "the estimate below comes from an ANALYZE: the test shows nothing"
    assert estimate == rows, f"{TARGETS[step]}: the planner believes {estimate} rows, it holds {rows}"
