"""What the scheduler tests share (tests/test_integrations_airflow.py, tests/test_integrations_dagster.py):
the scheduler's own venv (.venv-airflow, .venv-dagster, made by scripts/setup-engines) that a
driver script runs in as a process, the shipped snowplow_web plan compiled for the test's
events, the ``snowgen run`` reference on a fresh database, and every table of the run read
back for the comparison."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import psycopg.conninfo
import pytest
from engines.base import REPO_ROOT, REQUIRE_ENV, SETUP_HINT, engines_required
from engines.duckdb_engine import DuckDBEngine

from snowgen import api
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.runner.connections import dialect_for_url
from snowgen.spec.loader import load_project
from support import generator
from support.faults import FAULTY_STEP, TakenAwayOnce
from support.generator import GeneratorConfig

PROJECT = generator.SHIPPED_PROJECT
VARS = {"start_date": "2024-03-01", "backfill_limit_days": 1, "lookback_window_hours": 6}
#: the schemas the plan writes; the run's bookkeeping (its lock, its metadata rows and its id,
#: which differ from run to run) is left out of the comparison
SCHEMAS = ("derived", "scratch", "snowplow_manifest")
BOOKKEEPING = {
    "snowplow_web_run_lock",
    "snowplow_web_run_metadata",
    "snowplow_web_current_run",
    "snowplow_web_test_results",
}
#: columns holding the time a row was modelled
MODELLED_AT = {"model_tstamp"}
LOCK_ROWS = "SELECT COUNT(*) FROM snowplow_manifest.snowplow_web_run_lock"


@dataclass(frozen=True)
class SchedulerVenv:
    """A venv with a scheduler installed; its python runs the drivers in tests/support."""

    name: str
    python: Path

    def run(self, driver: str, args: list[str], env: dict[str, str], timeout: float = 300) -> dict:
        """Run ``tests/support/<driver>`` with ``args``; the JSON it wrote to ``--result``."""
        result = Path(env["SNOWGEN_TEST_RESULT"])
        result.unlink(missing_ok=True)
        process = subprocess.run(
            [str(self.python), str(REPO_ROOT / "tests" / "support" / driver), *args, "--result", str(result)],
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        log = result.with_suffix(".log")  # the scheduler's own log, kept beside the result
        log.write_text(process.stdout + process.stderr, encoding="utf-8")
        if process.returncode != 0 or not result.exists():
            tail = (process.stdout + process.stderr)[-6000:]
            raise AssertionError(f"{driver} in {self.name} exited {process.returncode} (log: {log}):\n{tail}")
        return json.loads(result.read_text(encoding="utf-8"))

    def run_code(self, code: str, env: dict[str, str] | None = None) -> str:
        """Run ``code`` in the venv from the repository's root (as a user's file would be
        run there); its last line of output."""
        process = subprocess.run(
            [str(self.python), "-c", code],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert process.returncode == 0, (process.stdout + process.stderr)[-4000:]
        return process.stdout.strip().splitlines()[-1]


def readme_snippet(heading: str) -> str:
    """The first ```python block after ``heading`` in the README."""
    section = (REPO_ROOT / "README.md").read_text(encoding="utf-8").split(heading, 1)[1]
    return section.split("```python\n", 1)[1].split("\n```", 1)[0]


def scheduler_venv(folder: str, module: str) -> SchedulerVenv:
    """The venv ``folder`` at the repository's root, if ``module`` imports there; else the test
    skips, or fails under SNOWGEN_REQUIRE_ENGINES=1."""
    python = REPO_ROOT / folder / "bin" / "python"
    problem = None
    if not python.exists():
        problem = f"{folder} is missing ({SETUP_HINT})"
    else:
        check = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, text=True)
        if check.returncode != 0:
            problem = f"{module} does not import in {folder} ({SETUP_HINT}): {check.stderr.strip()[-300:]}"
    if problem is not None:
        if engines_required():
            pytest.fail(f"{problem} ({REQUIRE_ENV}=1)", pytrace=False)
        pytest.skip(problem)
    return SchedulerVenv(folder, python)


@cache
def batches() -> list[list[generator.Event]]:
    """Three days of events, a day a batch."""
    return generator.generate(GeneratorConfig(seed=7, days=3, users=4)).batches()


def compile_plan(out: Path, dialect: str) -> Path:
    """The shipped project compiled for the test's events, written as ``snowgen compile``
    writes it: the folder a scheduler reads."""
    results = api.compile_project(PROJECT, [dialect], api.CompileOptions(vars=VARS))
    api.write_output(out, results)
    return out / "snowplow_web" / dialect


def create_sources(engine) -> None:
    dialect = get_dialect(engine.name)
    for statement in source_ddl(load_project(PROJECT).spec, dialect):
        engine.execute(dialect.render(statement))


def snowgen_run(url: str) -> None:
    """One ``snowgen run`` of the project (through the API the command uses)."""
    prepared = api.prepare_run(load_project(PROJECT), api.RunOptions(api.CompileOptions(vars=VARS), url))
    with api.run_session(prepared) as session:
        finished = list(session.steps())
    assert len(finished) == len(prepared.steps)


def snowgen_run_meeting_the_fault(url: str) -> None:
    """A ``snowgen run`` that fails at the sessions step, the user mapping taken away there
    (support.faults); the table stays away."""
    fault = TakenAwayOnce()
    undo = fault.install(dialect_for_url(url).connector)
    try:
        with pytest.raises(api.StepFailed, match=FAULTY_STEP):
            snowgen_run(url)
    finally:
        undo()
    assert fault.fired


def postgres_url(engine) -> str:
    info = psycopg.conninfo.conninfo_to_dict(engine.conninfo)
    return f"postgresql://{info['user']}@{info['host']}:{info['port']}/{info['dbname']}"


def every_table(engine) -> dict[str, list[tuple]]:
    """Every table the plan writes (its bookkeeping left out), its rows sorted, the time a row
    was modelled left out."""
    schemas = ", ".join(f"'{schema}'" for schema in SCHEMAS)
    names = engine.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        f"WHERE table_schema IN ({schemas}) AND table_type = 'BASE TABLE'"
    )
    return {
        f"{schema}.{table}": _rows(engine, schema, table) for schema, table in sorted(names) if table not in BOOKKEEPING
    }


def _rows(engine, schema: str, table: str) -> list[tuple]:
    columns = [
        f'"{name}"'
        for (name,) in engine.query(
            f"SELECT column_name FROM information_schema.columns WHERE table_schema = '{schema}' "
            f"AND table_name = '{table}' ORDER BY ordinal_position"
        )
        if name not in MODELLED_AT
    ]
    return sorted(engine.query(f'SELECT {", ".join(columns)} FROM "{schema}"."{table}"'), key=repr)


def differences(actual: dict[str, list[tuple]], expected: dict[str, list[tuple]]) -> list[str]:
    """The tables that differ (empty when every table is equal), for an assertion message."""
    found = [f"only in the scheduler's database: {name}" for name in sorted(actual.keys() - expected.keys())]
    found += [f"only in snowgen run's database: {name}" for name in sorted(expected.keys() - actual.keys())]
    for name in sorted(actual.keys() & expected.keys()):
        if actual[name] != expected[name]:
            extra = [row for row in actual[name] if row not in expected[name]][:2]
            lost = [row for row in expected[name] if row not in actual[name]][:2]
            found.append(f"{name}: {len(actual[name])} rows vs {len(expected[name])}; extra {extra}; missing {lost}")
    return found


def assert_same_tables(scheduler_engine, reference_engine) -> None:
    actual, expected = every_table(scheduler_engine), every_table(reference_engine)
    assert actual["derived.snowplow_web_sessions"], "the reference's sessions are empty"
    assert not differences(actual, expected), "\n".join(differences(actual, expected))


def load_events(paths: list[Path], batch: list[generator.Event], sources: bool = False) -> None:
    for path in paths:
        with DuckDBEngine(str(path)) as engine:
            if sources:
                create_sources(engine)
            generator.load(engine, batch)


def assert_same_files(database: Path, reference_file: Path) -> None:
    with DuckDBEngine(str(database)) as engine, DuckDBEngine(str(reference_file)) as reference:
        assert_same_tables(engine, reference)
