"""``snowgen run --threads N`` on PostgreSQL 15 and DuckDB: both shipped projects run with
1, 2 and 4 threads over the same data, run after run with new data between, and every table
equals the one-thread run's; on Postgres two steps that wait for nothing of each other run at
the same moment, a failing step stops the run (exit 1, the lock released, the steps after it
never started), and Ctrl-C cancels the running statements and releases the lock. DuckDB runs
its steps on one connection whatever --threads asks (Dialect.concurrent_steps), and says so."""

from __future__ import annotations

import datetime as dt
import importlib.machinery
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner
from engines.duckdb_engine import DuckDBEngine
from support import generator
from support.bridged_driver import BridgedDriver
from support.data import insert_rows
from support.deals import deal

from snowgen import api
from snowgen.cli import main
from snowgen.dialects import get_dialect
from snowgen.runner import connectors
from snowgen.runner.connectors import OpenDatabase

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "model_specs" / "snowplow_web"
DEALS = REPO / "model_specs" / "multi_source_deals"
THREADS = (1, 2, 4)
WEB_VARS = {"start_date": "2019-12-31"}  # the day before the sample's first event
#: what a run writes that is its own (run ids, the time it ran), not what it computed
RUN_TABLES = ("_run_metadata", "_run_lock", "_current_run", "_test_results")
RUN_COLUMNS = ("model_tstamp", "updated_at", "recorded_at")
#: the longest a test waits for another thread or process
PATIENCE = 60


# -- the databases -----------------------------------------------------------------------------------


class Database:
    """One database the runs of one thread count use: a Postgres database of the test
    server, or a DuckDB file (opened only between runs: the runner opens it itself)."""

    def __init__(self, name: str, postgres=None, path: Path | None = None):
        self.name, self.postgres, self.path = name, postgres, path
        if postgres is not None:
            info = postgres.conn.info
            self.url = f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"
        else:
            self.url = f"duckdb:///{path}"

    def execute(self, statements: list[str]) -> None:
        if self.postgres is not None:
            for statement in statements:
                self.postgres.execute(statement)
            return
        with DuckDBEngine(str(self.path)) as engine:
            for statement in statements:
                engine.execute(statement)

    def query(self, sql: str) -> list[tuple]:
        if self.postgres is not None:
            return self.postgres.query(sql)
        with DuckDBEngine(str(self.path)) as engine:
            return engine.query(sql)

    def load_events(self, events: list[generator.Event]) -> None:
        if self.postgres is not None:
            generator.load(self.postgres, events)
            return
        with DuckDBEngine(str(self.path)) as engine:
            generator.load(engine, events)

    def tables(self) -> dict[str, list[tuple]]:
        """Every table the runs wrote (not the run's own bookkeeping), its rows sorted."""
        if self.postgres is not None:
            return every_table(self.postgres.query)
        with DuckDBEngine(str(self.path)) as engine:
            return every_table(engine.query)


def every_table(query) -> dict[str, list[tuple]]:
    names = query(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
        "AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
    )
    return {
        f"{schema}.{table}": rows(query, schema, table) for schema, table in names if not table.endswith(RUN_TABLES)
    }


def rows(query, schema: str, table: str) -> list[tuple]:
    columns = query(
        "SELECT column_name FROM information_schema.columns "
        f"WHERE table_schema = '{schema}' AND table_name = '{table}' ORDER BY ordinal_position"
    )
    kept = ", ".join(f'"{name}"' for (name,) in columns if name not in RUN_COLUMNS)
    return sorted(query(f'SELECT {kept} FROM "{schema}"."{table}"'), key=repr)


@pytest.fixture
def databases(request, tmp_path):
    """name -> one database per thread count (a fresh Postgres database, or a DuckDB file)."""
    made = []

    def make(name: str) -> list[Database]:
        if name == "duckdb":
            return [Database(name, path=tmp_path / f"threads_{n}.duckdb") for n in THREADS]
        server = request.getfixturevalue("postgres_engine")
        engines = [server.fresh() for _ in THREADS]
        made.extend(engines)
        return [Database(name, postgres=engine) for engine in engines]

    yield make
    for engine in made:
        engine.close()


@cache
def prepared(project: Path, url: str, vars_json: str) -> api.PreparedRun:
    options = api.RunOptions(api.CompileOptions(vars=json.loads(vars_json)), url)
    return api.prepare_run(api.load_project(project), options)


def run(database: Database, project: Path, threads: int, vars: dict | None = None) -> str:
    """``snowgen run --threads N`` through the API, as the command runs it (the plan compiled
    once per database); what it printed on stderr."""
    plan = prepared(project, database.url, json.dumps(vars or {}))
    err = io.StringIO()
    summary = api.run_plan(plan, api.make_output("text", False, io.StringIO(), err), None, 0.0, threads)
    assert summary.failed is None, err.getvalue()
    return err.getvalue()


def create_sources(database: Database, project: Path) -> None:
    database.execute(api.source_ddl(api.load_project(project), get_dialect(database.name)))


# -- the same tables whatever the thread count ---------------------------------------------------------


@cache
def sample_batches() -> list[list[generator.Event]]:
    """The shipped sample events of snowplow_web (scripts/make-sample) in three loads: by
    day of load, two days a time."""
    loader = importlib.machinery.SourceFileLoader("make_sample", str(REPO / "scripts" / "make-sample"))
    script = importlib.util.module_from_spec(importlib.util.spec_from_loader("make_sample", loader))
    loader.exec_module(script)
    days = [batch for batch in generator.generate(script.sample_config()).batches() if batch]
    return [[event for day in days[i : i + 2] for event in day] for i in range(0, len(days), 2)]


def deals_batches(name: str) -> list[list[str]]:
    """Per run, the INSERTs of new deals on the three servers, and a deal corrected at the source."""
    when = dt.datetime(2024, 3, 1, 9)
    batches = []
    for run_number in range(3):
        rows = []
        for n, server in enumerate(("p1", "p2", "p3")):
            number = 10 * run_number + n
            rows += insert_rows(name, f"mt5_{server}", "deals", [deal(number, when + dt.timedelta(hours=number))])
        batches.append(rows)
    # the last deal corrected: stamped again (after the watermark), so the next run upserts it
    batches.append(
        ["UPDATE mt5_p3.deals SET comment = 'corrected', timemsc = timemsc + INTERVAL '1 minute' WHERE deal = 22"]
    )
    return batches


@pytest.mark.parametrize("name", ["postgres", "duckdb"])
def test_snowplow_web_gives_the_same_tables_with_1_2_and_4_threads(databases, name):
    targets = databases(name)
    for database in targets:
        create_sources(database, WEB)
    for number, batch in enumerate(sample_batches()):
        tables = {}
        for threads, database in zip(THREADS, targets, strict=True):
            database.load_events(batch)
            run(database, WEB, threads, WEB_VARS)
            tables[threads] = database.tables()
        assert tables[1]["derived.snowplow_web_page_views"], "the runs built nothing"
        for threads in THREADS[1:]:
            assert tables[threads] == tables[1], f"run {number + 1}, {threads} threads"
    assert len(sample_batches()) >= 3


@pytest.mark.parametrize("name", ["postgres", "duckdb"])
def test_multi_source_deals_gives_the_same_tables_with_1_2_and_4_threads(databases, name):
    targets = databases(name)
    for database in targets:
        create_sources(database, DEALS)
    for number, statements in enumerate(deals_batches(name)):
        tables = {}
        for threads, database in zip(THREADS, targets, strict=True):
            database.execute(statements)
            run(database, DEALS, threads)
            tables[threads] = database.tables()
        assert tables[1]["deals.inter_deals"], "the runs built nothing"
        for threads in THREADS[1:]:
            assert tables[threads] == tables[1], f"run {number + 1}, {threads} threads"


def test_duckdb_runs_one_step_at_a_time_and_says_so(databases):
    [_, database, _] = databases("duckdb")
    create_sources(database, DEALS)
    progress = run(database, DEALS, 4)
    assert "snowgen: warning: --threads 4: duckdb runs the steps one at a time" in progress
    assert "at once" not in progress.splitlines()[0]
    numbers = [int(n) for n in re.findall(r"^\S+  \[ *(\d+)/\d+\]", progress, re.MULTILINE)]
    assert numbers == sorted(numbers) == list(range(1, len(numbers) + 1))


# -- on Postgres: steps at the same moment, a failing step, Ctrl-C ----------------------------------


#: two steps of snowplow_web that wait only for base_events_this_run, and what waits for both
SIBLINGS = ("snowplow_web_pv_engaged_time", "snowplow_web_pv_scroll_depth")
AFTER_BOTH = "snowplow_web_page_views_this_run"


class Meeting(BridgedDriver):
    """The runner's Postgres driver, holding each of :data:`SIBLINGS` before the statement
    that records its end until the other has come as far (a barrier breaks after
    :data:`PATIENCE` s: then the steps did not run at once). ``failing``: that sibling
    fails there instead, with a real division by zero."""

    def __init__(self, driver, barrier: threading.Barrier, failing: str | None):
        super().__init__(driver)
        self.barrier, self.failing, self.step = barrier, failing, ""

    def starting_step(self, project: str, step: str) -> None:
        self.step = step
        super().starting_step(project, step)

    def execute(self, statement: str) -> int | None:
        if self.step in SIBLINGS and "_run_metadata" in statement and "'end'" in statement:
            self.barrier.wait()
            if self.step == self.failing:
                return self.driver.execute("SELECT 1 / 0")
        return self.driver.execute(statement)


def meeting_connector(monkeypatch, failing: str | None = None) -> threading.Barrier:
    barrier = threading.Barrier(2, timeout=PATIENCE)

    def open_meeting(url, base, settings):
        opened = connectors.open_libpq(url, base, settings)
        return OpenDatabase(Meeting(opened.driver, barrier, failing), opened.errors, opened.whole_scripts)

    monkeypatch.setitem(connectors.CONNECTORS, "libpq", open_meeting)
    return barrier


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def step_times(database: Database) -> dict[str, tuple]:
    """step -> (started_at, finished_at) of the last run, from the run metadata."""
    rows = database.query(
        "SELECT step, started_at, finished_at FROM snowplow_manifest.snowplow_web_run_steps "
        "WHERE run_id = (SELECT MAX(run_id) FROM snowplow_manifest.snowplow_web_run_steps)"
    )
    return {step: (started, finished) for step, started, finished in rows}


@pytest.fixture
def web_on_postgres(postgres_db, monkeypatch):
    monkeypatch.chdir(WEB)
    database = Database("postgres", postgres=postgres_db)
    create_sources(database, WEB)
    database.load_events([event for batch in sample_batches() for event in batch])
    return database


def test_with_two_threads_two_independent_steps_run_at_the_same_moment(web_on_postgres, monkeypatch):
    barrier = meeting_connector(monkeypatch)
    result = cli("run", "--db", web_on_postgres.url, "--vars", '{"start_date": "2019-12-31"}', "--threads", "2")
    assert result.exit_code == 0, result.output
    assert not barrier.broken
    times = step_times(web_on_postgres)
    (start_a, end_a), (start_b, end_b) = times[SIBLINGS[0]], times[SIBLINGS[1]]
    assert start_a <= end_b and start_b <= end_a, times  # the run metadata agree: they overlapped
    assert "up to 2 at once" in result.stderr


def test_a_failing_step_stops_the_run_and_releases_the_lock(web_on_postgres, monkeypatch):
    meeting_connector(monkeypatch, failing=SIBLINGS[1])
    result = cli("run", "--db", web_on_postgres.url, "--vars", '{"start_date": "2019-12-31"}', "--threads", "2")
    assert result.exit_code == 1, result.output
    assert f"snowgen: SG408 step {SIBLINGS[1]} failed" in result.stderr and "division by zero" in result.stderr
    assert re.search(rf"^failed: step \d+/\d+ {SIBLINGS[1]} after ", result.stdout, re.MULTILINE)
    lines = result.stderr.splitlines()
    finished_first = next(i for i, line in enumerate(lines) if re.search(rf"\] {SIBLINGS[0]} +ok", line))
    failed = next(i for i, line in enumerate(lines) if re.search(rf"\] {SIBLINGS[1]} +FAILED", line))
    assert finished_first < failed  # the step running beside it finished, then the failure
    assert web_on_postgres.query("SELECT * FROM snowplow_manifest.snowplow_web_run_lock") == []
    times = step_times(web_on_postgres)
    assert times[SIBLINGS[0]][1] is not None and times[SIBLINGS[1]][1] is None
    waiting = api.prepare_run(api.load_project(WEB), api.RunOptions(db=web_on_postgres.url)).steps
    after = {s.id for s in waiting if SIBLINGS[1] in s.depends_on} | {AFTER_BOTH}
    assert not after & set(times), "a step that waits for the failed one started"
    monkeypatch.undo()  # the next run resumes, as with one thread
    monkeypatch.chdir(WEB)
    assert (
        cli("run", "--db", web_on_postgres.url, "--vars", '{"start_date": "2019-12-31"}', "--threads", "2").exit_code
        == 0
    )


SLOW_MODEL = """\
name: {name}
module: deals
materialization: table
sql: select count(*) as n from generate_series(1, 100000) as a(x) cross join generate_series(1, 100000) as b(y)
"""


def test_ctrl_c_cancels_the_running_steps_and_releases_the_lock(postgres_db, tmp_path):
    project = tmp_path / "multi_source_deals"
    shutil.copytree(DEALS, project)
    for name in ("slow_one", "slow_two"):  # minutes each, unless cancelled
        (project / "models" / f"{name}.yml").write_text(SLOW_MODEL.format(name=name))
    database = Database("postgres", postgres=postgres_db)
    create_sources(database, project)
    command = [sys.executable, "-c", "from snowgen.cli import entry; entry()", "run", "--project", str(project)]
    process = subprocess.Popen(
        [*command, "--db", database.url, "--threads", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        both_running = (
            "SELECT COUNT(*) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND state = 'active' AND query ILIKE '%generate_series%' "
            "AND pid <> pg_backend_pid()"
        )
        deadline = time.monotonic() + PATIENCE
        while database.query(both_running) != [(2,)]:
            assert time.monotonic() < deadline and process.poll() is None, "the two slow steps never ran at once"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=PATIENCE)
    finally:
        process.kill()
    assert process.returncode == 1 and "Aborted!" in stderr, stderr
    assert database.query(both_running) == [(0,)]  # cancelled, not left running on the server
    assert database.query("SELECT * FROM deals_manifest.multi_source_deals_run_lock") == []


def test_json_events_with_threads(postgres_db, tmp_path, monkeypatch):
    from test_run_output import FIRST_RUN_ROWS, events
    from test_run_output import deal as deals_row

    monkeypatch.chdir(tmp_path)
    database = Database("postgres", postgres=postgres_db)
    create_sources(database, DEALS)
    database.execute(insert_rows("postgres", "mt5_p1", "deals", [deals_row(1), deals_row(2)]))
    result = cli("run", "--project", str(DEALS), "--db", database.url, "--log-format", "json", "--threads", "2")
    assert result.exit_code == 0, result.output
    log = events(result.stderr)  # every event has its documented fields
    started = [e["step"] for e in log if e["event"] == "step_started"]
    finished = [e["step"] for e in log if e["event"] == "step_finished"]
    assert sorted(started) == sorted(finished) == sorted(FIRST_RUN_ROWS)
    order = [(e["event"], e.get("step")) for e in log]
    assert all(order.index(("step_started", s)) < order.index(("step_finished", s)) for s in started)
    assert order.index(("step_finished", "start_run")) < order.index(("run_identified", None))
    rows = {e["step"]: e["rows"] for e in log if e["event"] == "step_finished"}
    index = {e["step"]: e["index"] for e in log if e["event"] == "step_finished"}
    assert rows == FIRST_RUN_ROWS and index == {step: i for i, step in enumerate(FIRST_RUN_ROWS, 1)}
    assert json.loads(result.stdout)["steps_run"] == len(FIRST_RUN_ROWS)
