"""Settings taken from vars (``enabled: "{{ var('x') }}"``): a model, a context, a stitch
block, the bot filter and the app filter's allow-list follow the project's vars, a target's
and ``--vars``; the app filter runs on DuckDB and Postgres; a missing var or a value of the
wrong type is a located error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from support.projects import compile_files, step_statements, write_project
from support.runs import run_compiled

from snowgen.errors import SnowgenError
from snowgen.spec.models import VarRef

SNOWPLOW_WEB = Path(__file__).resolve().parents[1] / "model_specs" / "snowplow_web"
SELECT_APPS = {
    "name": "apps",
    "materialization": "table",
    "sql": "select e.id, e.app_id from events as e where app_filter(e)",
}


def steps_of(files: dict[str, str]) -> list[str]:
    return [step["id"] for step in json.loads(files["plan.json"])["steps"]]


# -- a model switched by a var ----------------------------------------------------------------------
def switchable(tmp_path, **project):
    extra = {"name": "extra", "enabled": "{{ var('with_extra') }}", "sql": "select e.id from events as e"}
    return write_project(tmp_path / "p", [SELECT_APPS, extra], **project)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, False),  # the project's var
        ({"vars": {"with_extra": True}}, True),  # --vars
        ({"target": "full"}, True),  # a target's vars
        ({"target": "full", "vars": {"with_extra": False}}, False),  # --vars over the target's
    ],
)
def test_a_model_is_enabled_by_its_var(tmp_path, options, expected):
    root = switchable(
        tmp_path, vars={"with_extra": False}, targets={"full": {"dialect": "duckdb", "vars": {"with_extra": True}}}
    )
    assert ("extra" in steps_of(compile_files(root, "duckdb", **options))) is expected


# -- the app filter's allow-list from a var, on engines ---------------------------------------------
@pytest.mark.parametrize("engine", ["postgres", "duckdb"], indirect=True)
@pytest.mark.parametrize(
    ("cli_vars", "expected"), [({}, [1, 3]), ({"app_ids": []}, [1, 2, 3]), ({"app_ids": ["shop"]}, [2])]
)
def test_the_app_filter_reads_its_allow_list_from_a_var(engine, tmp_path, cli_vars, expected):
    root = write_project(
        tmp_path / "p",
        [SELECT_APPS],
        vars={"app_ids": ["site"]},
        app_filter={"column": "app_id", "allow": "{{ var('app_ids') }}"},
    )
    engine.execute("create schema raw")
    engine.execute(
        "create table raw.events (id bigint, ts timestamp, useragent varchar, app_id varchar, amount decimal(18,2))"
    )
    engine.execute(
        "insert into raw.events values (1, null, null, 'site', 1), (2, null, null, 'shop', 1), (3, null, null, 'site', 1)"
    )
    run_compiled(engine, compile_files(root, engine.name, vars=cli_vars))
    assert [row[0] for row in engine.query("select id from derived.apps order by id")] == expected


def test_the_bot_filter_is_switched_by_a_var(tmp_path):
    body = {"name": "humans", "materialization": "table", "sql": "select e.id from events as e where bot_filter(e)"}
    root = write_project(
        tmp_path / "p", [body], vars={"ua_bot_filter": True}, bot_filter={"enabled": "{{ var('ua_bot_filter') }}"}
    )
    on = "\n".join(step_statements(compile_files(root, "duckdb"), "humans", "duckdb")).lower()
    off = "\n".join(
        step_statements(compile_files(root, "duckdb", vars={"ua_bot_filter": False}), "humans", "duckdb")
    ).lower()
    assert "googlebot" in on and "googlebot" not in off


# -- a context and a stitch block of the shipped project --------------------------------------------
def snowplow_copy(tmp_path) -> Path:
    root = tmp_path / "snowplow_web"
    shutil.copytree(SNOWPLOW_WEB, root, ignore=shutil.ignore_patterns("*.duckdb*"))
    return root


def edit_yaml(path: Path, change) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def test_a_context_is_read_only_when_its_var_is_true(tmp_path):
    root = snowplow_copy(tmp_path)

    def add_context(doc):
        doc["vars"]["enable_iab"] = False
        doc["incremental"]["contexts"].append(
            {
                "name": "iab",
                "enabled": "{{ var('enable_iab') }}",
                "schema": "iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0",
                "fields": {"spiderOrRobot": "spider_or_robot"},
            }
        )

    edit_yaml(root / "snowgen.yml", add_context)
    events_step = "snowplow_web_base_events_this_run"
    off = "\n".join(step_statements(compile_files(root, "postgres"), events_step, "postgres"))
    on = "\n".join(step_statements(compile_files(root, "postgres", vars={"enable_iab": True}), events_step, "postgres"))
    assert "spider_or_robot" not in off and "page_view_id" in off
    assert "spider_or_robot" in on and "com_iab_snowplow_spiders_and_robots_1" in on


def test_a_stitch_block_is_switched_by_its_var(tmp_path):
    root = snowplow_copy(tmp_path)
    edit_yaml(root / "snowgen.yml", lambda doc: doc["vars"].update(session_stitching=True))
    edit_yaml(
        root / "models/sessions/snowplow_web_sessions.yml",
        lambda doc: doc["stitch"].update(enabled="{{ var('session_stitching') }}"),
    )

    def stitches(**options) -> bool:
        statements = step_statements(compile_files(root, "postgres", **options), "snowplow_web_sessions", "postgres")
        return any(s.lstrip().upper().startswith("UPDATE") and "stitched_user_id" in s for s in statements)

    assert stitches() and not stitches(vars={"session_stitching": False})


# -- mistakes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, "SG240 unknown var 'with_extra'"),
        ({"with_extra": "yes"}, "SG240 var 'with_extra' is 'yes' (str); this setting takes true or false"),
    ],
)
def test_a_missing_or_mistyped_var_is_a_located_error(tmp_path, variables, message):
    root = switchable(tmp_path, vars=variables) if variables else switchable(tmp_path)
    with pytest.raises(SnowgenError) as caught:
        compile_files(root, "duckdb")
    assert str(caught.value).startswith("models/extra.yml:2:") or "extra.yml:2:10:" in str(caught.value)
    assert message in str(caught.value)


def test_an_allow_list_var_must_be_a_list_of_text(tmp_path):
    root = write_project(
        tmp_path / "p", [SELECT_APPS], vars={"app_ids": 3}, app_filter={"allow": "{{ var('app_ids') }}"}
    )
    with pytest.raises(SnowgenError) as caught:
        compile_files(root, "duckdb")
    assert "SG240 var 'app_ids' is 3 (int); this setting takes a list of strings" in str(caught.value)


def test_other_jinja_in_a_setting_is_refused(tmp_path):
    extra = {"name": "extra", "enabled": "{{ var('a') and var('b') }}", "sql": "select e.id from events as e"}
    root = write_project(tmp_path / "p", [extra], vars={"a": True, "b": True})
    with pytest.raises(SnowgenError) as caught:
        compile_files(root, "duckdb")
    assert "SG102" in str(caught.value) and "\"{{ var('name') }}\" and nothing else" in str(caught.value)


def test_a_setting_read_before_the_vars_fails_loudly():
    with pytest.raises(TypeError, match="before the vars are applied"):
        bool(VarRef(var="x"))
