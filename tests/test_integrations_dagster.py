"""The Dagster assets, materialized by Dagster itself: ``dagster.materialize()`` of the
snowplow_web plan's assets (snowgen.integrations.dagster), through the Dagster resource on
snowgen's own connectors, on a DuckDB file (the project compiled when the op runs) and on the
PostgreSQL server (a compiled folder), run after run with new events between; every table must
be what ``snowgen run`` leaves on a fresh database from the same events, the asset graph the
plan's, and a failed try retried by Dagster's retry policy must resume as ``snowgen run``
does. Dagster lives in its own venv (.venv-dagster, scripts/setup-engines); it runs there in a
process of its own (tests/support/dagster_materialize.py) and this test reads back what it did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engines.duckdb_engine import DuckDBEngine
from support import generator
from support.faults import PUT_BACK
from support.schedulers import (
    LOCK_ROWS,
    PROJECT,
    VARS,
    assert_same_files,
    assert_same_tables,
    batches,
    compile_plan,
    create_sources,
    load_events,
    postgres_url,
    readme_snippet,
    scheduler_venv,
    snowgen_run,
    snowgen_run_meeting_the_fault,
)

from snowgen import api
from snowgen.integrations.plan import SchedulerPlan, load_plan

pytestmark = pytest.mark.integrations


def materialize(tmp_path: Path, plan: Path, db: str, *, fault: bool = False) -> dict:
    """One ``dagster.materialize()`` of ``plan``'s assets on ``db``; a project is compiled
    with the test's vars."""
    venv = scheduler_venv(".venv-dagster", "dagster")
    args = ["--plan", str(plan), "--db", db]
    if plan == PROJECT:
        args += ["--vars", json.dumps(VARS)]
    if fault:
        args += ["--fault"]
    return venv.run("dagster_materialize.py", args, {"SNOWGEN_TEST_RESULT": str(tmp_path / "dagster.json")})


def asset_graph(plan: SchedulerPlan) -> dict[str, list[str]]:
    """model -> the models it reads, as the plan's steps say."""
    model = {step.id: step.model for step in plan.table_steps}
    return {model[s.id]: sorted(model[u] for u in plan.upstream_tables(s.id)) for s in plan.table_steps}


def materialized(result: dict) -> list[str]:
    return [entry["asset"] for entry in result["materialized"]]


def test_the_assets_materialize_on_duckdb_as_snowgen_run_does_and_a_retry_resumes(tmp_path):
    database, reference_file = tmp_path / "dagster.duckdb", tmp_path / "reference.duckdb"
    url, reference_url = f"duckdb:///{database}", f"duckdb:///{reference_file}"
    plan = load_plan(PROJECT, dialect="duckdb", options=api.CompileOptions(vars=VARS))
    tables = [step.model for step in plan.table_steps]
    first, second = batches()[:2]
    load_events([database, reference_file], first, sources=True)

    result = materialize(tmp_path, PROJECT, url)
    assert result["success"] and result["retries"] == 0, result["failures"]
    assert materialized(result) == tables  # one asset per table, as each step finished
    assert result["graph"] == asset_graph(plan)
    assert {"snowgen/step", "snowgen/file", "snowgen/run_id"} <= result["materialized"][-1]["metadata"].keys()
    snowgen_run(reference_url)
    assert_same_files(database, reference_file)

    load_events([database, reference_file], second)
    result = materialize(tmp_path, PROJECT, url, fault=True)  # the sessions step fails on the first try
    assert result["success"] and result["retries"] == 1
    assert materialized(result)[-len(tables) :] == tables  # the retry ran the whole plan again
    snowgen_run_meeting_the_fault(reference_url)  # as a snowgen run that fails there,
    with DuckDBEngine(str(reference_file)) as engine:
        engine.execute(PUT_BACK)
    snowgen_run(reference_url)  # and the next snowgen run
    assert_same_files(database, reference_file)


def test_the_assets_of_a_compiled_folder_materialize_on_postgres_as_snowgen_run_does(
    postgres_db, postgres_engine, tmp_path
):
    folder = compile_plan(tmp_path / "generated", "postgres")
    reference = postgres_engine.fresh()
    try:
        for engine in (postgres_db, reference):
            create_sources(engine)
        for batch in batches()[:2]:
            for engine in (postgres_db, reference):
                generator.load(engine, batch)
            result = materialize(tmp_path, folder, postgres_url(postgres_db))
            assert result["success"], result["failures"]
            assert materialized(result) == [step.model for step in load_plan(folder).table_steps]
            assert postgres_db.query(LOCK_ROWS) == [(0,)]
            snowgen_run(postgres_url(reference))
            assert_same_tables(postgres_db, reference)
    finally:
        reference.close()


def test_the_readmes_dagster_snippet_loads_as_definitions():
    venv = scheduler_venv(".venv-dagster", "dagster")
    check = "\ndg.Definitions.validate_loadable(defs)\n"
    check += "print(len(defs.resolve_asset_graph().get_all_asset_keys()))"
    plan = load_plan(PROJECT)
    assert venv.run_code(readme_snippet("### Dagster") + check) == str(len(plan.table_steps))
