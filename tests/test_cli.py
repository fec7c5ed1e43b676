"""The commands a user types, on the shipped projects: what they write and print."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from snowgen.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "model_specs", tmp_path / "model_specs")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def plan_of(folder: Path) -> dict:
    return json.loads((folder / "plan.json").read_text())


def test_compile_without_project_compiles_every_project_under_model_specs(workdir):
    result = run("compile", "--dialect", "snowflake")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (workdir / "generated").iterdir()) == [
        "multi_source_deals",
        "snowplow_media_player",
        "snowplow_web",
    ]
    assert (workdir / "generated/snowplow_web/snowflake/plan.json").is_file()


def test_compile_in_a_project_directory_compiles_that_project(workdir, monkeypatch):
    monkeypatch.chdir(workdir / "model_specs" / "multi_source_deals")
    assert run("compile", "--dialect", "duckdb", "--out", str(workdir / "out")).exit_code == 0
    assert [p.name for p in (workdir / "out").iterdir()] == ["multi_source_deals"]


def test_project_and_out_options(workdir):
    result = run("compile", "-d", "postgres", "--project", "model_specs/multi_source_deals", "--out", "elsewhere")
    assert result.exit_code == 0, result.output
    assert (workdir / "elsewhere/multi_source_deals/postgres/plan.json").is_file()
    assert not (workdir / "generated").exists()


def test_check_passes_on_fresh_output_and_fails_after_a_spec_change(workdir):
    assert run("compile", "--all").exit_code == 0
    assert run("compile", "--all", "--check").exit_code == 0
    model = workdir / "model_specs/multi_source_deals/models/inter_deals.yml"
    model.write_text(
        model.read_text().replace("upsert_date_key: timemsc", "upsert_date_key: timemsc\nupsert_lookback_days: 3")
    )
    result = run("compile", "--all", "--check")
    assert result.exit_code == 1
    assert "INTERVAL '-3 DAY'" in result.stdout and "INTERVAL '-7 DAY'" in result.stdout


def test_recompile_removes_files_of_steps_that_no_longer_exist(workdir):
    assert run("compile", "-d", "duckdb").exit_code == 0
    stale = workdir / "generated/multi_source_deals/duckdb/99_old/01_gone.sql"
    stale.parent.mkdir()
    stale.write_text("select 1;")
    assert run("compile", "-d", "duckdb").exit_code == 0
    assert not stale.exists()


def test_select_compiles_the_model_and_its_this_run_inputs(workdir):
    result = run("compile", "-d", "duckdb", "--project", "model_specs/snowplow_web", "--select", "snowplow_web_users")
    assert result.exit_code == 0, result.output
    assert result.stdout == "wrote generated/snowplow_web/duckdb-select-snowplow_web_users\n"
    steps = [s["id"] for s in plan_of(workdir / "generated/snowplow_web/duckdb-select-snowplow_web_users")["steps"]]
    assert "snowplow_web_users_this_run" in steps and "snowplow_web_base_events_this_run" in steps
    assert "snowplow_web_sessions" not in steps  # read as it is, as dbt reads an unselected parent
    assert steps[-2:] == ["snowplow_web_users_complete", "release_lock"]


def test_plus_selects_what_the_model_reads(workdir):
    result = run("compile", "-d", "duckdb", "--project", "model_specs/snowplow_web", "--select", "+snowplow_web_users")
    assert result.exit_code == 0, result.output
    steps = [s["id"] for s in plan_of(workdir / "generated/snowplow_web/duckdb-select-+snowplow_web_users")["steps"]]
    assert "snowplow_web_sessions" in steps and "snowplow_web_page_views" not in steps


def test_a_selected_compile_leaves_the_regular_output_and_its_check_alone(workdir):
    assert run("compile", "--all").exit_code == 0
    selections = [
        ("snowplow_web", "--select", "module:page_views"), ("snowplow_web", "--exclude", "tag:this_run+"),
        ("multi_source_deals", "-s", "@inter_deals"), ("multi_source_deals", "-s", "stg_deals__p1"),
    ]  # fmt: skip
    for project, *selection in selections:
        options = ("--all", "--project", f"model_specs/{project}", *selection)
        result = run("compile", *options)
        assert result.exit_code == 0, result.output
        assert run("compile", *options, "--check").exit_code == 0
    result = run("compile", "--all", "--check")
    assert result.exit_code == 0, result.stdout
    folders = sorted(p.name for p in (workdir / "generated").glob("*/duckdb*"))
    assert folders == [
        "duckdb", "duckdb", "duckdb", "duckdb-exclude-tag-this_run+", "duckdb-select-@inter_deals",
        "duckdb-select-module-page_views", "duckdb-select-stg_deals__p1",
    ]  # fmt: skip


def test_select_counts_only_the_selected_models_in_the_run_limits(workdir):
    run("compile", "-d", "postgres", "--project", "model_specs/snowplow_web", "--select", "snowplow_web_page_views")
    folder = workdir / "generated/snowplow_web/postgres-select-snowplow_web_page_views"
    limits = next(folder.glob("*/*_snowplow_web_base_new_event_limits.sql"))
    assert "\"model\" IN ('snowplow_web_page_views')" in limits.read_text()


def test_vars_override_the_project_vars(workdir):
    run("compile", "-d", "postgres", "--project", "model_specs/snowplow_web", "--vars", '{"start_date": "2023-05-01"}')
    limits = next((workdir / "generated/snowplow_web/postgres").glob("*/*_snowplow_web_base_new_event_limits.sql"))
    assert "CAST('2023-05-01' AS TIMESTAMP)" in limits.read_text()


def test_target_gives_the_dialect(workdir):
    result = run("compile", "--project", "model_specs/snowplow_web", "--target", "prod")
    assert result.exit_code == 0, result.output
    assert [p.name for p in (workdir / "generated/snowplow_web").iterdir()] == ["snowflake"]


def test_validate_writes_nothing(workdir):
    result = run("validate")
    assert result.stdout == "ok: multi_source_deals, snowplow_media_player, snowplow_web (6 dialects)\n"
    assert result.exit_code == 0
    assert not (workdir / "generated").exists()


def test_parallel_and_serial_compiles_write_the_same_bytes(workdir):
    from snowgen.api import CompileOptions, compile_project

    project = workdir / "model_specs/snowplow_web"
    serial = {
        c.dialect: c.files
        for c in compile_project(project, ["postgres", "bigquery", "snowflake"], CompileOptions(jobs=1))
    }
    parallel = {
        c.dialect: c.files
        for c in compile_project(project, ["postgres", "bigquery", "snowflake"], CompileOptions(jobs=2))
    }
    assert serial == parallel


def test_compile_full_refresh_is_refused_unless_allowed_and_writes_nothing(workdir):
    result = run("compile", "--project", "model_specs/multi_source_deals", "--dialect", "postgres", "--full-refresh")
    assert result.exit_code == 2
    assert "SG404 --full-refresh would drop the incremental manifests of the default target" in result.output
    assert not (workdir / "generated").exists()


def test_compile_full_refresh_writes_a_plan_of_its_own_that_drops_the_state_first(workdir):
    result = run(
        "compile", "--project", "model_specs/snowplow_web", "--dialect", "postgres", "--full-refresh", "--allow-refresh"
    )
    assert result.exit_code == 0, result.output
    assert [p.name for p in (workdir / "generated/snowplow_web").iterdir()] == ["postgres-full-refresh"]
    steps = [step["id"] for step in plan_of(workdir / "generated/snowplow_web/postgres-full-refresh")["steps"]]
    assert steps.index("full_refresh") < steps.index("snowplow_web_incremental_manifest")


@pytest.mark.parametrize("command", ["compile", "run"])
def test_allow_refresh_alone_is_refused(workdir, command):
    result = run(
        command,
        "--project",
        "model_specs/snowplow_web",
        "--dialect" if command == "compile" else "--db",
        "postgres" if command == "compile" else "duckdb:///x.duckdb",
        "--allow-refresh",
    )
    assert result.exit_code == 2
    assert "SG403 --allow-refresh only goes with --full-refresh" in result.output
    assert not (workdir / "generated").exists() and not (workdir / "x.duckdb").exists()
