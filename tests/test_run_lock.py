"""The run lock with real processes: `snowgen run` started twice on one database (DuckDB file
and PostgreSQL 15), 0 s, 0.7 s and 2 s apart, with and without --wait; a holder killed with
SIGKILL, then a new run. Whatever the timing, runs never interleave (their run metadata spans
are disjoint), a run that finds the lock held stops with exit 3 and SG410 (or, with --wait,
runs after the other), and the tables after draining equal those of one run at a time."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from support.data import insert_rows

from snowgen.runner.connectors import Driver

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "model_specs"
#: a table model that keeps a run busy for a second or more (the size of the cross join, by engine)
SLOW_MODEL = """\
name: slow
module: deals
materialization: table
sql: select count(*) as n from generate_series(1, {n}) as a(x) cross join generate_series(1, {n}) as b(y)
"""
SLOW_SIZE = {"duckdb": 30000, "postgres": 3000}
LOCK_TABLE = "deals_manifest.multi_source_deals_run_lock"
METADATA = "deals_manifest.multi_source_deals_run_metadata"


class Database:
    """One database the runs share: a DuckDB file in the project, or a Postgres database."""

    def __init__(self, name: str, project: Path, postgres_db=None):
        self.name, self.project, self.postgres_db = name, project, postgres_db
        if postgres_db is None:
            self.url = "snowgen.duckdb"
        else:
            info = postgres_db.conn.info
            self.url = f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"

    def query(self, sql: str) -> list[tuple]:
        if self.postgres_db is not None:
            return self.postgres_db.query(sql)
        with duckdb.connect(str(self.project / self.url)) as con:
            return con.execute(sql).fetchall()

    def execute(self, sql: str) -> None:
        if self.postgres_db is not None:
            self.postgres_db.execute(sql)
            return
        with duckdb.connect(str(self.project / self.url)) as con:
            con.execute(sql)

    def prepare(self) -> None:
        """The source tables and a few deals on every server."""
        assert run(self.project, "sources", "--db", self.url).returncode == 0
        for number, server in enumerate(("p1", "p2", "p3", "p1"), start=1):
            for statement in insert_rows(self.name, f"mt5_{server}", "deals", [deal(number)]):
                self.execute(statement)

    def tables(self) -> dict[str, list[tuple]]:
        """What the runs built and the state they keep, in a stable order."""
        return {
            "inter_deals": sorted(self.query("select server_source, deal, comment from deals.inter_deals")),
            "watermarks": sorted(self.query("select * from deals_manifest.multi_source_deals_watermarks"), key=repr),
            "lock": self.query(f"select * from {LOCK_TABLE}"),
        }

    def run_spans(self) -> list[tuple[dt.datetime, dt.datetime]]:
        """Each recorded run's first and last step event, in time order."""
        return sorted(self.query(f'select min("at"), max("at") from {METADATA} group by run_id'))


def deal(number: int) -> dict:
    return {
        "deal": number, "login": 1, "timemsc": dt.datetime(2024, 3, 1, 10, number), "symbol": "EURUSD", "action": 0,
        "entry": 0, "volume": 1, "price": 1, "profit": 1, "commission": 0, "swap": 0, "comment": f"deal {number}",
    }  # fmt: skip


def start(project: Path, *args: str) -> subprocess.Popen:
    """``snowgen ARGS`` in a process of its own (this checkout's code)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", "from snowgen.cli import entry; entry()", *args]
    return subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    process = start(project, *args)
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def copy_project(path: Path) -> Path:
    return Path(shutil.copytree(SPECS / "multi_source_deals", path, ignore=shutil.ignore_patterns(".snowgen-cache")))


@pytest.fixture(params=["duckdb", "postgres"])
def database(request, tmp_path) -> Database:
    project = copy_project(tmp_path / "multi_source_deals")
    postgres_db = request.getfixturevalue("postgres_db") if request.param == "postgres" else None
    db = Database(request.param, project, postgres_db)
    db.prepare()
    return db


#: engine -> the tables after one and after two runs one at a time (the same for every test)
_ONE_AT_A_TIME: dict[str, dict[int, dict[str, list[tuple]]]] = {}


@pytest.fixture
def one_at_a_time(request, tmp_path, database) -> dict[int, dict[str, list[tuple]]]:
    """The tables after one run and after two runs, one after the other, on a database of
    the same kind holding the same deals."""
    if database.name not in _ONE_AT_A_TIME:
        _ONE_AT_A_TIME[database.name] = _runs_one_at_a_time(request, tmp_path, database)
    return _ONE_AT_A_TIME[database.name]


def _runs_one_at_a_time(request, tmp_path, database) -> dict[int, dict[str, list[tuple]]]:
    project = copy_project(tmp_path / "reference")
    if database.name == "postgres":
        # a second database of the same server: the fixture gives one per test
        postgres_db = database.postgres_db.fresh()
        request.addfinalizer(postgres_db.close)
    else:
        postgres_db = None
    reference = Database(database.name, project, postgres_db)
    reference.prepare()
    states = {}
    for runs in (1, 2):
        result = run(project, "run", "--db", reference.url)
        assert result.returncode == 0, result.stderr
        states[runs] = reference.tables()
    return states


@pytest.mark.parametrize("wait", [False, True], ids=["no-wait", "wait"])
@pytest.mark.parametrize("apart", [0, 0.7, 2], ids=["together", "0.7s-apart", "2s-apart"])
def test_two_runs_never_interleave(database, one_at_a_time, apart, wait):
    options = ["--wait", "120"] if wait else []
    first = start(database.project, "run", "--db", database.url, *options)
    time.sleep(apart)  # not an assertion: whatever the timing, what is checked holds
    second = start(database.project, "run", "--db", database.url, *options)
    results = [finish(first), finish(second)]
    codes = [r.returncode for r in results]
    assert set(codes) <= ({0} if wait else {0, 3}) and 0 in codes, [r.stderr for r in results]
    for result in results:
        if result.returncode == 3:
            assert "snowgen: SG410 " in result.stderr and "Traceback" not in result.stderr
            assert "--wait SECONDS" in result.stderr.splitlines()[-1]
    spans = database.run_spans()
    assert len(spans) == codes.count(0)
    assert all(earlier[1] < later[0] for earlier, later in itertools.pairwise(spans)), spans
    assert database.tables() == one_at_a_time[codes.count(0)]


def test_a_second_run_waits_for_the_first_then_runs(database, one_at_a_time):
    """The first run is busy in a slow model when the second starts with --wait: the second
    starts its steps only after the first ended."""
    add_slow_model(database)
    first = start(database.project, "run", "--db", database.url)
    wait_for_line(first, "acquire_lock")
    second = start(database.project, "run", "--db", database.url, "--wait", "300")
    results = [finish(first), finish(second)]
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    first_span, second_span = database.run_spans()
    assert first_span[1] < second_span[0]
    assert database.tables() == one_at_a_time[2]


def add_slow_model(database: Database) -> None:
    model = SLOW_MODEL.format(n=SLOW_SIZE[database.name])
    (database.project / "models" / "slow.yml").write_text(model, encoding="utf-8")


def wait_for_line(process: subprocess.Popen, text: str) -> str:
    """Read ``process``'s stderr until a line holds ``text`` (the step has finished)."""
    seen = []
    for line in process.stderr:
        seen.append(line)
        if text in line:
            return line
    raise AssertionError(f"the run ended before {text!r}: {''.join(seen)}")


def killed_while_holding_the_lock(database: Database, *options: str) -> None:
    """A run that takes the lock and is killed with SIGKILL while it works (a slow model
    keeps it busy after the lock is taken)."""
    add_slow_model(database)
    holder = start(database.project, "run", "--db", database.url, *options)
    wait_for_line(holder, "acquire_lock")
    holder.send_signal(signal.SIGKILL)
    holder.communicate(timeout=60)
    (database.project / "models" / "slow.yml").unlink()
    if database.name == "postgres":  # the killed client's statement: stopped by the server
        database.execute(
            "select pg_cancel_backend(pid) from pg_stat_activity where datname = current_database()"
            " and pid <> pg_backend_pid() and query like '%generate_series%'"
        )


def test_a_lock_whose_holder_was_killed_holds_until_it_expires(database):
    killed_while_holding_the_lock(database)
    # as the lock's message prints them (the database's text of a timestamp)
    [(holder_run, expires_at)] = database.query(
        f"select cast(run_id as varchar), cast(expires_at as varchar) from {LOCK_TABLE}"
    )
    result = run(database.project, "run", "--db", database.url)
    assert result.returncode == 3, result.stderr
    message = result.stderr.splitlines()[-1]
    assert message.startswith(f"snowgen: SG410 another run holds the lock (run {holder_run} of ")
    assert f"until {expires_at}); run again later, or wait for it with --wait SECONDS" in message
    assert database.query(f"select cast(run_id as varchar) from {LOCK_TABLE}") == [(holder_run,)]  # untouched


def test_a_lock_whose_holder_was_killed_is_taken_over_after_its_expiry(database, one_at_a_time):
    killed_while_holding_the_lock(database, "--vars", "{lock_timeout_minutes: 0}")  # expired at once
    [(dead_run,)] = database.query(f"select run_id from {LOCK_TABLE}")
    result = run(database.project, "run", "--db", database.url)
    assert result.returncode == 0, result.stderr
    warning = f"snowgen: warning: took over the run lock of run {dead_run} ("
    assert warning in result.stderr and "without being released" in result.stderr
    tables = database.tables()
    assert tables["inter_deals"] == one_at_a_time[1]["inter_deals"] and tables["lock"] == []


def test_a_failed_run_releases_its_lock(database):
    database.execute("drop table mt5_p2.deals")  # a step reading the second server fails
    result = run(database.project, "run", "--db", database.url)
    assert result.returncode == 1 and "snowgen: SG408 step " in result.stderr
    assert database.query(f"select * from {LOCK_TABLE}") == []


class ScriptedDriver(Driver):
    """A database that answers the lock-status query from a list of rows, one per call."""

    def __init__(self, lock_rows: list[tuple | None]):
        super().__init__(None)
        self.lock_rows, self.executed = list(lock_rows), []

    def execute(self, statement: str) -> None:
        self.executed.append(statement)

    def query(self, statement: str) -> list[tuple]:
        row = self.lock_rows.pop(0)
        return [row] if row else []

    def rollback(self) -> None:
        pass


def scripted_session(lock_rows: list[tuple | None], warnings: list[str]):
    from snowgen.dialects import get_dialect
    from snowgen.runner.connections import Connection
    from snowgen.runner.execute import PlannedStep
    from snowgen.runner.run_lock import Deadline
    from snowgen.runner.session import PreparedRun, RunSession

    steps = [
        PlannedStep("acquire_lock", "01.sql", ["take"], kind="acquire_lock"),
        PlannedStep("work", "02.sql", ["work"], kind="table"),
        PlannedStep("release_lock", "03.sql", ["give back"], kind="release_lock"),
    ]
    prepared = PreparedRun("duckdb:///x.duckdb", Path("."), steps, [], lock_status="status")
    driver = ScriptedDriver(lock_rows)
    connection = Connection(get_dialect("duckdb"), prepared.url, driver, (RuntimeError,))
    return RunSession(prepared, connection, Deadline.after(0), warnings.append), driver


MINE = (dt.datetime(2024, 3, 1, 6), "etl", dt.datetime(2024, 3, 1, 6), dt.datetime(2024, 3, 1, 18))
OTHER = (dt.datetime(2024, 3, 1, 19), "other", dt.datetime(2024, 3, 1, 19), dt.datetime(2024, 3, 2, 7))


def test_a_run_whose_lock_was_taken_over_meanwhile_leaves_it_and_warns():
    warnings: list[str] = []
    session, driver = scripted_session([MINE, OTHER], warnings)
    assert [r.step.id for r in session.steps()] == ["acquire_lock", "work", "release_lock"]
    assert driver.executed == ["take", "work"]  # not "give back": the lock is the other run's
    assert warnings == [
        "the run lock of run 2024-03-01 06:00:00 expired during the run and is now held by run "
        "2024-03-01 19:00:00 (other); left as it is (raise var lock_timeout_minutes above the longest run)"
    ]


def test_a_run_that_took_over_an_expired_lock_warns_and_releases_it():
    warnings: list[str] = []
    previous = (dt.datetime(2024, 2, 29, 6), "dead", dt.datetime(2024, 2, 29, 18))
    session, driver = scripted_session([(*MINE, *previous), (*MINE, *previous)], warnings)
    list(session.steps())
    assert driver.executed == ["take", "work", "give back"] and session.run_id == MINE[0]
    assert warnings == [
        "took over the run lock of run 2024-02-29 06:00:00 (dead), which expired at 2024-02-29 18:00:00 without "
        "being released: that run stopped early; check its tables"
    ]


class ConflictingDriver(ScriptedDriver):
    """A warehouse whose acquire statement fails ``conflicts`` times with ``error`` (a
    concurrent writer won), then succeeds."""

    def __init__(self, error: Exception, conflicts: int):
        super().__init__([MINE, MINE])
        self.error, self.conflicts = error, conflicts

    def execute(self, statement: str) -> None:
        if statement == "take" and self.conflicts:
            self.conflicts -= 1
            raise self.error
        super().execute(statement)


def conflicting_session(dialect: str, error: Exception, conflicts: int, wait: float):
    from snowgen.dialects import get_dialect
    from snowgen.runner.connections import Connection
    from snowgen.runner.run_lock import Deadline
    from snowgen.runner.session import RunSession

    session, _ = scripted_session([], [])
    driver = ConflictingDriver(error, conflicts)
    connection = Connection(get_dialect(dialect), session.prepared.url, driver, (RuntimeError,))
    return RunSession(session.prepared, connection, Deadline.after(wait), lambda text: None), driver


#: each warehouse's documented failure of a write that lost to a concurrent one
CONFLICTS = {
    "bigquery": "Could not serialize access to table p:deals_manifest.x_run_lock due to concurrent update",
    "databricks": "[DELTA_CONCURRENT_APPEND] ConcurrentAppendException: Transaction conflict detected. "
    "A concurrent MERGE added data to table x_run_lock committed at version 3.",
    "redshift": "ERROR: 1023 DETAIL: Serializable isolation violation on table - 100, transactions forming the cycle",
}


@pytest.mark.parametrize("dialect", sorted(CONFLICTS))
def test_an_acquire_that_loses_to_a_concurrent_writer_is_the_lock_held(dialect):
    from snowgen.errors import RunLocked

    session, driver = conflicting_session(dialect, RuntimeError(CONFLICTS[dialect]), conflicts=1, wait=0)
    with pytest.raises(RunLocked) as raised:
        list(session.steps())
    message = raised.value.diagnostics[0].message
    assert message.startswith(
        "another run holds the lock (another run took it at the same moment; the warehouse said: "
    )
    assert CONFLICTS[dialect].split(":")[0] in message and message.endswith("wait for it with --wait SECONDS")
    assert raised.value.exit_code == 3 and driver.executed == []  # nothing ran, nothing to release


@pytest.mark.parametrize("dialect", sorted(CONFLICTS))
def test_with_wait_a_run_tries_again_after_losing_to_a_concurrent_writer(dialect):
    session, driver = conflicting_session(dialect, RuntimeError(CONFLICTS[dialect]), conflicts=2, wait=30)
    assert [r.step.id for r in session.steps()] == ["acquire_lock", "work", "release_lock"]
    assert driver.executed == ["take", "work", "give back"]


@pytest.mark.parametrize("dialect", ["postgres", "duckdb", "snowflake"])
def test_a_conflict_where_writers_wait_for_each_other_stays_a_failed_step(dialect):
    """Postgres, DuckDB and Snowflake serialise writers on the lock (an advisory lock, one
    writing process, a table lock): a failing acquire there is a failure, exit 1."""
    from snowgen.runner.execute import StepFailed

    session, _ = conflicting_session(dialect, RuntimeError(CONFLICTS["bigquery"]), conflicts=1, wait=0)
    with pytest.raises(StepFailed):
        list(session.steps())
