"""``snowgen compile`` with every selector form, as typed: where it writes, what it selects,
and that the regular output stays as it was (tests/test_selection.py has the exact sets)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from snowgen.api import CompileOptions, load_project, plan_loaded
from snowgen.cli import main

SPECS = Path(__file__).resolve().parents[1] / "model_specs"

FORMS = [
    (("-s", "snowplow_web_users"), "select-snowplow_web_users"),
    (("--select", "+snowplow_web_users"), "select-+snowplow_web_users"),
    (("--select", "2+snowplow_web_users"), "select-2+snowplow_web_users"),
    (("--select", "snowplow_web_sessions+"), "select-snowplow_web_sessions+"),
    (("--select", "snowplow_web_sessions+1"), "select-snowplow_web_sessions+1"),
    (("--select", "+snowplow_web_sessions+"), "select-+snowplow_web_sessions+"),
    (("--select", "@snowplow_web_sessions"), "select-@snowplow_web_sessions"),
    (("--select", "tag:derived"), "select-tag-derived"),
    (("--select", "path:models/users"), "select-path-models.users"),
    (("--select", "module:page_views"), "select-module-page_views"),
    (("--select", "module:users", "--select", "module:page_views"), "select-module-page_views--module-users"),
    (("--select", "tag:this_run,module:users"), "select-module-users,tag-this_run"),
    (("--exclude", "module:page_views"), "exclude-module-page_views"),
    (("-s", "module:users", "--exclude", "snowplow_web_users"), "select-module-users-exclude-snowplow_web_users"),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    shutil.copytree(SPECS / "snowplow_web", root / "model_specs" / "snowplow_web")
    return root


def split(args: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    select = tuple(v for o, v in zip(args[::2], args[1::2], strict=True) if o in ("-s", "--select"))
    exclude = tuple(v for o, v in zip(args[::2], args[1::2], strict=True) if o == "--exclude")
    return select, exclude


@pytest.mark.parametrize(("args", "folder"), FORMS, ids=[f for _, f in FORMS])
def test_compile_writes_a_selection_beside_the_regular_plan(workdir, monkeypatch, args, folder):
    monkeypatch.chdir(workdir)
    project = ("--project", "model_specs/snowplow_web")
    result = CliRunner().invoke(main, ["compile", "-d", "duckdb", *project, *args])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote generated/snowplow_web/duckdb-{folder}\n"
    plan = json.loads((workdir / "generated/snowplow_web" / f"duckdb-{folder}" / "plan.json").read_text())
    select, exclude = split(args)
    expected = plan_loaded(load_project(SPECS / "snowplow_web"), CompileOptions(select=select, exclude=exclude))
    assert set(plan["selected"]) == expected.selected
    check = CliRunner().invoke(main, ["compile", "-d", "duckdb", *project, *args, "--check"])
    assert check.exit_code == 0, check.output
    assert not (workdir / "generated/snowplow_web/duckdb").exists()  # the regular plan is not touched
