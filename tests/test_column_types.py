"""Output column types in the plan (snowgen.plan.column_check): inferred from a body with
sqlglot's annotate_types into snowgen's logical types, declared types winning; written into
plan.json per model step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.projects import compile_files
from support.typed_project import EXPRESSIONS, write_typed_project

from snowgen.api import load_project
from snowgen.plan.column_check import unchecked_sources
from snowgen.plan.planner import plan_project


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    root = write_typed_project(tmp_path_factory.mktemp("types"))
    return root, plan_project(load_project(root))


@pytest.mark.parametrize("column", list(EXPRESSIONS))
def test_inferred_type(plan, column):
    assert plan[1].models["typed"].typed_columns[column] == EXPRESSIONS[column][1]


def test_types_flow_to_downstream_models_through_a_star(plan):
    expected = {"n1": "bigint", **{c: t for c, (_, t) in EXPRESSIONS.items()}}
    assert plan[1].models["downstream"].typed_columns == expected


def test_declared_types_win(plan):
    assert plan[1].models["declared"].typed_columns == {"id": "string", "amount": "double"}


def test_plan_json_lists_each_model_steps_columns(plan):
    document = json.loads(compile_files(plan[0], "duckdb")["plan.json"])
    columns = {s["model"]: s["columns"] for s in document["steps"] if "columns" in s}
    assert columns["declared"] == {"id": "string", "amount": "double"}
    assert list(columns["typed"]) == list(EXPRESSIONS)


SHIPPED = sorted((Path(__file__).resolve().parents[1] / "model_specs").iterdir())


@pytest.mark.parametrize("project", SHIPPED, ids=lambda p: p.name)
def test_shipped_projects_read_only_checked_columns(project):
    """Every source a shipped project reads declares its columns (no SG253 warning), and every
    model's output columns have a known type (the column errors themselves: test_golden's
    compile, which would fail on one)."""
    plan = plan_project(load_project(project))
    assert unchecked_sources(plan) == ()
    untyped = {name: [c for c, t in m.typed_columns.items() if t == "unknown"] for name, m in plan.models.items()}
    assert {name: columns for name, columns in untyped.items() if columns} == UNTYPED.get(project.name, {})


#: what sqlglot cannot type in the shipped projects: a decimal divided by a count (a DECIMAL
#: without precision and scale)
UNTYPED = {"snowplow_media_player": {"snowplow_media_player_user_stats": ["avg_session_play_time_secs"]}}
