"""The shipped snowplow_web project compiles for every dialect with every option on, and the
files that the options change parse with sqlfluff's grammar of each warehouse that has no
engine here (Redshift) or only an emulator; every option is a var of the project with its
documented default, and a mistake in an option's SQL is a located error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from support.snowplow_options_dataset import OPTION_VARS
from test_sqlfluff_grammar import SQLFLUFF_DIALECTS, linter, sqlfluff_text

from snowgen.api import CompileOptions, compile_project
from snowgen.dialects import DIALECTS
from snowgen.errors import SnowgenError

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "model_specs" / "snowplow_web"
#: the files the options change: the page views, sessions and users modules
CHANGED = re.compile(r"(page_views|sessions|users)_this_run|users_lasts|snowplow_web_(page_views|sessions)\.sql")
#: every option and its default (Snowplow's: off, empty, or its rule)
DEFAULTS = {
    "app_ids": [], "ua_bot_filter": True, "conversion_events": [], "total_all_conversions": False,
    "list_event_counts": False, "page_view_passthroughs": [], "session_passthroughs": [],
    "user_first_passthroughs": [], "user_last_passthroughs": [], "session_stitching": True,
    "page_view_stitching": False, "engaged_session_sql": None,
}  # fmt: skip


def compiled(dialect: str, cli_vars: dict) -> dict[str, str]:
    [project] = compile_project(PROJECT, [dialect], CompileOptions(vars=cli_vars))
    return project.files


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_every_dialect_compiles_with_every_option_on(dialect):
    files = compiled(dialect, OPTION_VARS)
    sessions = next(text for name, text in files.items() if "sessions_this_run" in name and "base" not in name)
    for column in ("cv_purchase_events", "cv__all_total", "event_counts", "first_event_app"):
        assert column in sessions.lower()


@pytest.mark.parametrize("dialect", list(SQLFLUFF_DIALECTS))
def test_the_files_the_options_change_parse_with_sqlfluff(dialect):
    files = {name: text for name, text in compiled(dialect, OPTION_VARS).items() if CHANGED.search(name)}
    assert len(files) >= 6
    for name, text in files.items():
        parsed = linter(dialect).parse_string(sqlfluff_text(dialect, text))
        assert [str(v) for v in parsed.violations] == [], name


def test_every_option_is_a_var_of_the_project_with_snowplows_default():
    project_vars = yaml.safe_load((PROJECT / "snowgen.yml").read_text(encoding="utf-8"))["vars"]
    assert {name: project_vars[name] for name in DEFAULTS} == DEFAULTS
    assert "'PDP'" in project_vars["content_group_sql"] and project_vars["content_group_sql"].startswith("case")


def test_every_option_is_documented():
    spec = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")
    section = spec.split("## The shipped snowplow_web project's options", 1)[1].split("\n## ", 1)[0]
    assert [name for name in [*DEFAULTS, "content_group_sql"] if f"`{name}`" not in section] == []


def test_a_conversion_condition_that_is_not_one_expression_is_a_located_error():
    bad = {"conversion_events": [{"name": "x", "condition": "event_name = 'a'; drop table t"}]}
    with pytest.raises(SnowgenError) as error:
        compiled("postgres", bad)
    [diagnostic] = error.value.diagnostics
    assert diagnostic.code == "SG241" and "snowplow_web_sessions_this_run.yml" in str(error.value)
