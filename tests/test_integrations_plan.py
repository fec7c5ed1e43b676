"""A plan as the schedulers read it (snowgen.integrations.plan, no scheduler imported): the
steps of plan.json with the statements a task sends, the steps that are a model's table, the
graph of those tables, the connection id of a target, and the located errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from snowgen import api
from snowgen.errors import SnowgenError
from snowgen.integrations.plan import connection_id, load_plan, plan_of_files
from snowgen.runner.statements import split_statements

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "model_specs" / "snowplow_web"
GENERATED = ROOT / "generated" / "snowplow_web"


def test_a_compiled_folder_reads_as_the_project_compiled_now():
    folder = load_plan(GENERATED / "postgres")
    compiled = load_plan(WEB, dialect="postgres")
    assert (folder.project, folder.dialect) == ("snowplow_web", "postgres")
    assert folder.steps == compiled.steps
    assert compiled.target == "dev" and folder.target is None  # the project's default target


def test_each_step_sends_the_statements_of_its_file_split_by_snowgens_splitter():
    plan = load_plan(GENERATED / "duckdb")
    raw = json.loads((GENERATED / "duckdb" / "plan.json").read_text(encoding="utf-8"))
    assert [s.id for s in plan.steps] == [s["id"] for s in raw["steps"]]
    for step in plan.steps:
        text = (GENERATED / "duckdb" / step.file).read_text(encoding="utf-8")
        assert list(step.statements) == split_statements(text, "duckdb")
    assert len(plan.step("acquire_lock").statements) > 1


def test_a_bigquery_step_goes_whole_as_one_script():
    """BigQuery's DECLAREd variables live for one script (Dialect.step_is_one_script)."""
    plan = load_plan(GENERATED / "bigquery")
    step = plan.step("snowplow_web_base_events_this_run")
    assert step.statements == ((GENERATED / "bigquery" / step.file).read_text(encoding="utf-8"),)
    assert "DECLARE" in step.statements[0] and "CREATE OR REPLACE TABLE" in step.statements[0]


def test_the_tables_are_the_model_steps_without_the_modules_complete_steps():
    plan = load_plan(GENERATED / "postgres")
    tables = [s.id for s in plan.table_steps]
    assert "snowplow_web_page_views" in tables and "snowplow_web_base_events_this_run" in tables
    assert not {"snowplow_web_page_views_complete", "start_run", "acquire_lock", "create_schemas"} & set(tables)
    assert "snowplow_web_dim_ga4_source_categories" not in tables  # a seed: a lookup, no model
    assert (plan.acquire_lock.id, plan.release_lock.id) == ("acquire_lock", "release_lock")


def test_a_table_waits_for_the_tables_behind_the_steps_that_build_none():
    """b waits for a quarantine-like step that waits for table a: b's table reads a's."""
    steps = [
        {"id": "a", "kind": "table", "file": "a.sql", "model": "a", "depends_on": []},
        {"id": "q", "kind": "quarantine", "file": "q.sql", "depends_on": ["a"]},
        {"id": "b", "kind": "table", "file": "b.sql", "model": "b", "depends_on": ["q"]},
        {"id": "b_complete", "kind": "incremental", "file": "c.sql", "model": "b_complete", "depends_on": ["b"]},
        {"id": "c", "kind": "table", "file": "d.sql", "model": "c", "depends_on": ["b_complete", "q"]},
    ]
    document = {
        "project": "p",
        "dialect": "duckdb",
        "steps": steps,
        "modules": [{"name": "m", "complete": "b_complete"}],
    }
    files = {"plan.json": json.dumps(document), **{step["file"]: "select 1;" for step in steps}}
    plan = plan_of_files(files)
    assert [s.id for s in plan.table_steps] == ["a", "b", "c"]
    assert (plan.upstream_tables("b"), plan.upstream_tables("c"), plan.upstream_tables("a")) == (["a"], ["a", "b"], [])


def test_the_shipped_plans_table_graph():
    plan = load_plan(GENERATED / "postgres")
    assert plan.upstream_tables("snowplow_web_page_views_this_run") == [
        "snowplow_web_base_events_this_run", "snowplow_web_pv_engaged_time", "snowplow_web_pv_scroll_depth",
    ]  # fmt: skip
    assert plan.upstream_tables("snowplow_web_base_new_event_limits") == []


def test_a_project_compiles_for_a_target_and_options():
    plan = load_plan(WEB, target="dev", options=api.CompileOptions(select=("module:page_views",)))
    assert plan.dialect == "duckdb" and plan.target == "dev"
    assert "snowplow_web_page_views" in [s.id for s in plan.steps]
    assert "snowplow_web_users" not in [s.id for s in plan.steps]


def test_the_connection_id_is_one_id_or_the_targets():
    compiled_for_dev = load_plan(WEB)
    assert connection_id("warehouse", compiled_for_dev) == "warehouse"
    assert connection_id({"dev": "local", "prod": "snowflake"}, compiled_for_dev) == "local"
    with pytest.raises(
        SnowgenError, match=r"SG431 no connection id for target 'dev' \(connection ids are given for: prod\)"
    ):
        connection_id({"prod": "snowflake"}, compiled_for_dev)
    with pytest.raises(SnowgenError, match="SG431 the plan of snowplow_web names no target"):
        connection_id({"prod": "snowflake"}, load_plan(GENERATED / "postgres"))
    assert connection_id({"prod": "pg"}, load_plan(GENERATED / "postgres", target="prod")) == "pg"


def test_a_folder_that_is_no_plan_is_sg430(tmp_path):
    with pytest.raises(SnowgenError, match=r"SG430 .* is neither a compiled plan .* nor a project"):
        load_plan(tmp_path)
    with pytest.raises(SnowgenError, match=r"SG430 .* is a compiled plan: its dialect and options are fixed"):
        load_plan(GENERATED / "postgres", dialect="duckdb")
    (tmp_path / "plan.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SnowgenError, match=r"SG430 .*plan.json is not JSON"):
        load_plan(tmp_path)


def test_a_compiled_folder_missing_a_step_file_is_sg430(tmp_path):
    folder = Path(shutil.copytree(GENERATED / "duckdb", tmp_path / "duckdb"))
    (folder / "05_sessions" / "02_snowplow_web_sessions.sql").unlink()
    with pytest.raises(
        SnowgenError, match=r"SG430 .*plan.json names 05_sessions/02_snowplow_web_sessions.sql, which is missing"
    ):
        load_plan(folder)


def test_the_reader_knows_the_format_the_compiler_writes(tmp_path):
    from snowgen.emit.render import PLAN_FORMAT_VERSION
    from snowgen.integrations.plan import FORMAT_VERSION

    assert FORMAT_VERSION == PLAN_FORMAT_VERSION
    folder = Path(shutil.copytree(GENERATED / "duckdb", tmp_path / "duckdb"))
    document = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    (folder / "plan.json").write_text(json.dumps({**document, "format_version": FORMAT_VERSION + 1}), encoding="utf-8")
    with pytest.raises(
        SnowgenError, match=rf"SG430 .* has format_version {FORMAT_VERSION + 1}; this snowgen reads up to"
    ):
        load_plan(folder)
    assert all(step.retry_safe for step in load_plan(GENERATED / "duckdb").steps)


def test_a_step_depending_on_no_step_of_the_plan_is_sg430():
    steps = [{"id": "a", "kind": "table", "file": "a.sql", "model": "a", "depends_on": ["gone"]}]
    files = {"plan.json": json.dumps({"project": "p", "dialect": "duckdb", "steps": steps}), "a.sql": "select 1;"}
    with pytest.raises(SnowgenError, match="SG430 the plan: step a depends on gone, not a step of the plan"):
        plan_of_files(files)
