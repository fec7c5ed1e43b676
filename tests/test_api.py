"""The library surface (snowgen.api), as the README shows it, and its options' checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import snowgen.api as api
from snowgen.api import CompileOptions, compile_project, write_output
from snowgen.errors import SnowgenError

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "model_specs" / "snowplow_web"


def test_the_readme_example_compiles_and_writes_a_selection(tmp_path):
    options = CompileOptions(select=("module:page_views",), vars={"start_date": "2024-01-01"})
    results = compile_project(WEB, ["snowflake", "bigquery"], options)
    written = write_output(tmp_path, results)
    assert [p.name for p in written] == ["snowflake-select-module-page_views", "bigquery-select-module-page_views"]
    plan = json.loads((tmp_path / "snowplow_web" / "snowflake-select-module-page_views" / "plan.json").read_text())
    assert "snowplow_web_page_views" in plan["selected"] and "snowplow_web_users" not in plan["selected"]
    assert api.check_output(tmp_path, results) == ""


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"select": ("",)}, "SG402"),
        ({"exclude": (" ",)}, "SG402"),
        ({"select": ("@+users",)}, "SG450"),
        ({"exclude": ("config.materialized:table",)}, "SG450"),
        ({"allow_refresh": True}, "SG403"),
        ({"full_refresh": True, "backfill": api.parse_backfill("p1", "2024-01-01", "2024-01-02")}, "SG403"),
    ],
    ids=["empty-select", "empty-exclude", "bad-select", "bad-exclude", "allow-without-refresh", "refresh-and-backfill"],
)
def test_options_are_checked_when_made(options, code):
    with pytest.raises(SnowgenError) as caught:
        CompileOptions(**options)
    assert caught.value.diagnostics[0].code == code


def test_every_public_name_exists():
    assert api.__all__ and all(hasattr(api, name) for name in api.__all__)
