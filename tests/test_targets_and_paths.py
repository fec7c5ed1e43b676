"""Which target and which database a command uses (README, "Targets and paths"):

- a command given neither --target nor --db uses the project's ``target:``; without one, no target;
- a relative DuckDB path given with --db is relative to the working directory, one in a
  target's ``db`` to the project folder; with neither, the file is <project>/snowgen.duckdb;
- a command that works on one project, run where there are several, names them (SG403).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from snowgen.cli import main

SPECS = Path(__file__).resolve().parents[1] / "model_specs"


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    """A folder holding copies of the shipped projects under model_specs/, the working directory."""
    for name in ("multi_source_deals", "snowplow_web"):
        shutil.copytree(SPECS / name, tmp_path / "model_specs" / name, ignore=shutil.ignore_patterns("*.duckdb*"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


DEALS = "model_specs/multi_source_deals"
WEB = "model_specs/snowplow_web"


def test_a_relative_db_on_the_command_line_is_relative_to_the_working_directory(here):
    assert cli("sources", "--project", DEALS, "--db", "duckdb:///dev.duckdb").exit_code == 0
    result = cli("run", "--project", DEALS, "--db", "duckdb:///dev.duckdb")
    assert result.exit_code == 0, result.output
    assert (here / "dev.duckdb").is_file() and not (here / DEALS / "dev.duckdb").exists()
    assert "running multi_source_deals on dev.duckdb (duckdb):" in result.stderr


def test_a_bare_relative_file_name_too(here):
    (here / "data").mkdir()
    assert cli("sources", "--project", DEALS, "--db", "data/x.duckdb").exit_code == 0
    assert (here / "data/x.duckdb").is_file()


def test_a_relative_db_of_a_target_is_relative_to_the_project(here):
    assert cli("sample-data", "--project", WEB, "--target", "dev").exit_code == 0
    assert (here / WEB / "snowplow_web.duckdb").is_file() and not (here / "snowplow_web.duckdb").exists()


def test_the_default_target_is_used_without_target_and_db(here):
    result = cli("run", "--project", WEB)
    assert "running snowplow_web on model_specs/snowplow_web/snowplow_web.duckdb (duckdb, target dev):" in result.stderr
    assert (here / WEB / "snowplow_web.duckdb").is_file()


def test_without_a_default_target_the_file_is_snowgen_duckdb_in_the_project(here):
    result = cli("run", "--project", DEALS)
    assert "running multi_source_deals on model_specs/multi_source_deals/snowgen.duckdb (duckdb):" in result.stderr
    assert (here / DEALS / "snowgen.duckdb").is_file()


def test_a_db_on_the_command_line_sets_the_default_target_aside(here):
    """snowplow_web's default target is DuckDB; a --db of another dialect is no conflict."""
    result = cli("sources", "--project", WEB, "--db", "duckdb:///other.duckdb")
    assert result.exit_code == 0
    result = cli("run", "--project", WEB, "--db", "duckdb:///other.duckdb", "--full-refresh")
    assert result.exit_code == 2  # no target: a full refresh is refused as on a protected target
    assert "SG404 --full-refresh would drop the incremental manifests of the default target" in result.stderr


def test_the_default_target_allows_what_it_allows(here):
    assert cli("sample-data", "--project", WEB).exit_code == 0
    result = cli("run", "--project", WEB, "--full-refresh")  # dev: allow_refresh
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(here / WEB / "snowplow_web.duckdb")) as con:
        assert con.execute("select count(*) from derived.snowplow_web_sessions").fetchone() == (36,)


def test_the_default_target_gives_compile_its_dialect_and_vars(here):
    project = here / "demo"
    (project / "models").mkdir(parents=True)
    (project / "snowgen.yml").write_text(
        "project: demo\nvars: {app: web}\ntarget: dev\n"
        "targets:\n  dev: {dialect: postgres, vars: {app: shop}}\n  prod: {dialect: snowflake}\n"
    )
    (project / "models/m.yml").write_text("name: m\nsql: select {{ var('app') }} as app\n")
    result = cli("compile", "--project", "demo")
    assert result.exit_code == 0, result.output
    [step] = (here / "generated/demo/postgres").glob("*/*_m.sql")
    assert "'shop' AS \"app\"" in step.read_text()
    assert cli("compile", "--project", "demo", "--target", "prod").exit_code == 0
    [step] = (here / "generated/demo/snowflake").glob("*/*_m.sql")
    assert "'web' AS \"APP\"" in step.read_text()


@pytest.mark.parametrize("command", ["run", "sample-data"])
def test_a_target_of_another_dialect_than_its_database_is_refused(here, command):
    result = cli(command, "--project", WEB, "--target", "prod")  # snowflake, no db: the project's DuckDB file
    assert result.exit_code == 2 and not (here / WEB / "snowgen.duckdb").exists()
    assert (
        "SG403 target 'prod' is snowflake but model_specs/snowplow_web/snowgen.duckdb is a duckdb database"
        in result.stderr
    )


def test_an_unknown_default_target_is_located(here):
    spec = here / WEB / "snowgen.yml"
    text = spec.read_text().replace("target: dev\n", "target: staging\n")
    spec.write_text(text)
    line = text.splitlines().index("target: staging") + 1
    result = cli("run", "--project", WEB)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{WEB}/snowgen.yml:{line}:9: SG303 unknown target 'staging'; known: dev, prod")


@pytest.mark.parametrize("command", [["run"], ["sources", "--db", "duckdb:///dev.duckdb"], ["sample-data"]])
def test_a_one_project_command_among_several_projects_names_them(here, command):
    result = cli(*command)
    assert result.exit_code == 2
    assert result.stderr == (
        "snowgen: SG403 several projects here and this command works on one: pass --project with one of "
        "model_specs/multi_source_deals, model_specs/snowplow_web\n"
    )
    assert not list(here.glob("*.duckdb"))
