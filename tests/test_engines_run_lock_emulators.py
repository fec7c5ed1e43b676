"""The run lock with real processes on the emulators: ``snowgen run`` started twice on one
database of fakesnow's server (the Snowflake connector over HTTP), bqemulator
(google-cloud-bigquery over REST) and Sail (Spark Connect), and a holder killed with SIGKILL
then new runs. Each run is a process of its own with the harness's named bridges in place
(tests/support/bridged_cli.py). Whatever the timing, runs never interleave (their run
metadata spans are disjoint), a run that finds the lock held stops with exit 3 and SG410
(or, with --wait, runs after the other), and the tables after draining equal those of one
run at a time on the same emulator."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlglot
from support import fakesnow_bridge
from support.bridged_cli import bridges
from support.data import insert_rows
from support.warehouse_runs import bigquery_url, spark_url

from snowgen import api
from snowgen.dialects import get_dialect
from snowgen.errors import RunLocked
from snowgen.runner import connectors
from snowgen.runner.connections import connected

pytestmark = pytest.mark.emulator_concurrency

REPO = Path(__file__).resolve().parents[1]
LAUNCHER = REPO / "tests" / "support" / "bridged_cli.py"
EMULATORS = ["snowflake", "bigquery", "databricks"]
LOCK_TABLE = "deals_manifest.multi_source_deals_run_lock"
METADATA = "deals_manifest.multi_source_deals_run_metadata"


class EmulatorDatabase:
    """One database of an emulator that the runs share, and a copy of multi_source_deals."""

    def __init__(self, engine: str, url: str, project: Path):
        self.engine, self.url, self.project = engine, url, project
        self.dialect = get_dialect(engine)

    def sql(self, postgres_sql: str) -> str:
        """A statement written for Postgres, printed for the emulator's warehouse."""
        return self.dialect.render(sqlglot.parse_one(postgres_sql, read="postgres"))

    def query(self, postgres_sql: str) -> list[tuple]:
        with connected(self.url, self.project) as connection:
            return connection.query(self.sql(postgres_sql))

    def execute(self, statements: list[str]) -> None:
        api.execute_sql(self.url, self.project, statements)

    def prepare(self) -> None:
        """The source tables and a few deals on every server."""
        self.execute(api.source_ddl(api.load_project(self.project), self.dialect))
        for number, server in enumerate(("p1", "p2", "p3", "p1"), start=1):
            self.execute(insert_rows(self.engine, f"mt5_{server}", "deals", [deal(number)]))

    def tables(self) -> dict[str, list[tuple]]:
        """What the runs built and the state they keep, in a stable order."""
        return {
            "inter_deals": sorted(self.query("select server_source, deal, comment from deals.inter_deals")),
            "watermarks": sorted(self.query("select * from deals_manifest.multi_source_deals_watermarks"), key=repr),
            "lock": self.query(f"select run_id from {LOCK_TABLE}"),
        }

    def run_spans(self) -> list[tuple[dt.datetime, dt.datetime]]:
        """Each recorded run's first and last step event, in time order."""
        return sorted(self.query(f"select min(at), max(at) from {METADATA} group by run_id"))

    def start(self, *args: str) -> subprocess.Popen:
        """``snowgen ARGS --db URL`` in a process of its own, the emulator's bridges in place."""
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        command = [sys.executable, str(LAUNCHER), self.engine, *args, "--db", self.url]
        return subprocess.Popen(
            command, cwd=self.project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return finish(self.start(*args))


def deal(number: int) -> dict:
    return {
        "deal": number, "login": 1, "timemsc": dt.datetime(2024, 3, 1, 10, number), "symbol": "EURUSD", "action": 0,
        "entry": 0, "volume": 1, "price": 1, "profit": 1, "commission": 0, "swap": 0, "comment": f"deal {number}",
    }  # fmt: skip


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def copy_project(path: Path) -> Path:
    source = REPO / "model_specs" / "multi_source_deals"
    return Path(shutil.copytree(source, path, ignore=shutil.ignore_patterns(".snowgen-cache")))


def open_database(request, engine: str, project: Path) -> EmulatorDatabase:
    """A database of its own on ``engine``'s server (closed after the test)."""
    if engine == "snowflake":
        port = request.getfixturevalue("snowflake_engine").port
        url = fakesnow_bridge.snowflake_url(port, fakesnow_bridge.database_name("SNOWGEN_LOCK"), password="fakesnow-pw")
    else:
        harness = request.getfixturevalue(f"{engine}_engine").fresh()
        request.addfinalizer(harness.close)
        url = bigquery_url(harness) if engine == "bigquery" else spark_url(harness)
    return EmulatorDatabase(engine, url, project)


@pytest.fixture(params=EMULATORS)
def database(request, tmp_path, monkeypatch) -> EmulatorDatabase:
    for key, opener in bridges()[request.param].items():  # this process reads through the same bridges
        monkeypatch.setitem(connectors.CONNECTORS, key, opener)
    db = open_database(request, request.param, copy_project(tmp_path / "multi_source_deals"))
    db.prepare()
    return db


#: engine -> the tables after one and after two runs one at a time
_ONE_AT_A_TIME: dict[str, dict[int, dict[str, list[tuple]]]] = {}


@pytest.fixture
def one_at_a_time(request, tmp_path, database) -> dict[int, dict[str, list[tuple]]]:
    """The tables after one run and after two runs, one after the other, on another database
    of the same emulator holding the same deals."""
    if database.engine not in _ONE_AT_A_TIME:
        reference = open_database(request, database.engine, copy_project(tmp_path / "reference"))
        reference.prepare()
        states = {}
        for runs in (1, 2):
            result = reference.run("run")
            assert result.returncode == 0, result.stderr
            states[runs] = reference.tables()
        _ONE_AT_A_TIME[database.engine] = states
    return _ONE_AT_A_TIME[database.engine]


@pytest.mark.parametrize(
    ("apart", "wait"),
    [(0, False), (0, True), (0.7, False), (2, False)],
    ids=["together", "together-wait", "0.7s", "2s"],
)
def test_two_runs_never_interleave(database, one_at_a_time, apart, wait):
    options = ["--wait", "120"] if wait else []
    first = database.start("run", *options)
    time.sleep(apart)  # not an assertion: whatever the timing, what is checked holds
    second = database.start("run", *options)
    results = [finish(first), finish(second)]
    codes = [r.returncode for r in results]
    assert set(codes) <= ({0} if wait else {0, 3}) and 0 in codes, [r.stderr for r in results]
    for result in results:
        if result.returncode == 3:
            assert "snowgen: SG410 another run holds the lock (" in result.stderr and "Traceback" not in result.stderr
    spans = database.run_spans()
    assert len(spans) == codes.count(0)
    assert all(earlier[1] < later[0] for earlier, later in itertools.pairwise(spans)), spans
    assert database.tables() == one_at_a_time[codes.count(0)]


def test_two_acquires_at_the_same_instant_give_the_lock_to_one_run(database):
    """The runner's acquire in two sessions at once (threads behind a barrier, each with a
    connection of its own), four times: one run holds the lock and the other finds it held
    (SG410, exit 3), never both and never neither, whichever way the emulator settles it
    (fakesnow: the transaction lock of its bridge; bqemulator: one job at a time; Sail: often
    a Delta commit conflict, which the runner reads as the lock held)."""
    prepared = api.prepare_run(api.load_project(database.project), api.RunOptions(db=database.url))
    assert prepared.steps[0].kind == "acquire_lock"
    for attempt in range(4):
        outcomes = acquire_at_once(prepared)
        assert sorted(outcomes) == ["held", "refused"], f"attempt {attempt + 1}: {outcomes}"
        assert database.query(f"select run_id from {LOCK_TABLE}") == []  # the holder gave it back


def acquire_at_once(prepared: api.PreparedRun) -> list[str]:
    """Two sessions run the acquire step at the same instant; each says what it got, then
    (both done) the holder gives the lock back."""
    ready, done = threading.Barrier(2, timeout=120), threading.Barrier(2, timeout=120)
    outcomes = ["", ""]

    def acquire(number: int) -> None:
        try:
            with api.run_session(prepared) as session:
                steps = session.steps()
                ready.wait()
                try:
                    next(steps)
                    outcomes[number] = "held"
                except RunLocked:
                    outcomes[number] = "refused"
                done.wait()
                steps.close()  # a run that stops after taking the lock gives it back
        except Exception as exc:  # reported by the assertion, with the other's outcome
            outcomes[number] = outcomes[number] or repr(exc)

    threads = [threading.Thread(target=acquire, args=(number,)) for number in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcomes


def wait_for_line(process: subprocess.Popen, text: str) -> None:
    """Read ``process``'s stderr until a line holds ``text`` (the step has finished)."""
    seen = []
    for line in process.stderr:
        seen.append(line)
        if text in line:
            return
    raise AssertionError(f"the run ended before {text!r}: {''.join(seen)}")


def test_a_killed_holder_keeps_the_lock_until_it_expires_then_a_run_takes_it_over(database, one_at_a_time):
    holder = database.start("run")
    wait_for_line(holder, "acquire_lock")
    holder.send_signal(signal.SIGKILL)
    holder.communicate(timeout=60)
    [(dead_run,)] = database.query(f"select run_id from {LOCK_TABLE}")
    refused = database.run("run")
    assert refused.returncode == 3, refused.stderr
    since = dead_run.strftime("%Y-%m-%d %H:%M:%S")  # as the lock's message prints it (the fraction varies)
    assert f"snowgen: SG410 another run holds the lock (run {since}." in refused.stderr
    # the clock passes the lock's expiry (12 hours by default): its end is set to its start
    database.execute([database.sql(f"update {LOCK_TABLE} set expires_at = acquired_at")])
    result = database.run("run")
    assert result.returncode == 0, result.stderr
    assert f"snowgen: warning: took over the run lock of run {dead_run} (" in result.stderr
    tables = database.tables()
    assert tables["inter_deals"] == one_at_a_time[1]["inter_deals"] and tables["lock"] == []
