#!/usr/bin/env python
"""Does an incremental run of snowplow_web cost one new day, however long the history?

Run from the repository root (see benchmarks/README.md):

    .venv/bin/python benchmarks/incremental_scaling.py                  # the default table
    .venv/bin/python benchmarks/incremental_scaling.py --engines duckdb --days 30,365 --repeat 1
    .venv/bin/python benchmarks/incremental_scaling.py --events-per-day 5000 --days 30,300

For each engine (DuckDB, and PostgreSQL 15 on a throwaway cluster) and each history length D:

1. Generate D + 1 days of synthetic Snowplow web events (tests/support/generator.py, fixed
   seed): the history is the load batches 0 .. D-1, the new day is batch D (later batches,
   events that arrive after the new day, are left out). Each day has the same number of
   visitors; --returning-share of them visited before (default 0.3: web traffic is mostly
   new visitors), the others are new. The users model re-reads every session of each
   returning user, so ``--returning-share all`` (the same visitors every day, each one's
   history as long as the data's) shows its worst case.
2. Load the history into atomic.events and the web_page context table and bring the shipped
   project (model_specs/snowplow_web) up to date as a scheduler catching up would: the regular
   plan runs after each load of --build-days-per-run days (default 7), and the last history day
   is loaded and run alone, as the daily run before the new day. State: manifests at the end of
   the history, derived tables full. Then load the new day and keep a snapshot of the database.
3. Every timing starts from that snapshot, on a fresh copy and a fresh connection, so every
   repeat does the same work:
   - incremental: the regular compiled plan, executed as ``snowgen run`` executes it
     (snowgen.runner.session.prepare + execute), every step;
   - full refresh: the ``--full-refresh`` plan, its backfill_limit_days raised so that one run
     covers the history and the new day (PostgreSQL: stopped after --refresh-timeout);
   - floor: one scan + aggregation of the new day's events alone (CREATE TABLE AS ... GROUP BY
     domain_sessionid over that day's collector_tstamp range), on the same table, engine and
     connection settings.
   The median of ``--repeat`` runs is reported.
4. With ``--threads 1,2,4``, the incremental run and the full refresh are timed again with each
   thread count (``snowgen run --threads N``: the steps whose dependencies are done run at once,
   each on a connection of its own; DuckDB runs them one at a time whatever is asked), each on a
   fresh copy of the snapshot, and the speed-up over one thread is reported, with the critical
   path of the plan: the chain of steps along plan.json's ``depends_on`` whose durations (from
   the run metadata of the one-thread run) add up to the most, which bounds the wall time of a
   run however many threads it has.

Source layout, as a warehouse would have it: on PostgreSQL b-tree indexes on
atomic.events(collector_tstamp) and on the context table's root_tstamp (the stand-in for a
warehouse's partitioning by day); on DuckDB no index, rows in the order they were loaded
(day by day), so DuckDB's min/max zone maps can skip old row groups. PostgreSQL runs with
the test suite's server settings (fsync off) and autovacuum off: the benchmark runs VACUUM
ANALYZE where autovacuum would have (after each load while the history is built), not after
the new day (one day is under autovacuum's 10 % threshold).

Nothing here asserts on time: the goals are printed next to the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the event generator and the PostgreSQL harness live there

from sqlglot import exp
from support import generator
from support.generator import GeneratorConfig

from snowgen.api import CompileOptions, PreparedRun, RunOptions, prepare_run, run_session
from snowgen.build.sources import source_ddl
from snowgen.runner.connections import Connection, connect
from snowgen.runner.execute import PlannedStep, StepFailed
from snowgen.spec.loader import load_project

PROJECT = REPO / "model_specs" / "snowplow_web"
DEFAULT_DAYS = (30, 90, 365)
DEFAULT_EVENTS_PER_DAY = 2000
DEFAULT_SEED = 20240301
DEFAULT_REFRESH_TIMEOUT_S = 60
DEFAULT_BUILD_DAYS_PER_RUN = 7
#: a day's visitors who came before: web traffic is mostly new visitors, and the users model
#: re-reads every session of each returning user, so this sets how much history a run re-reads
DEFAULT_RETURNING_SHARE = 0.3
#: events per visitor and day the generator makes on average (a session of two page views
#: with two pings each, and a login event for half of the visitors)
EVENTS_PER_USER_DAY = 6.5
GOAL_GROWTH = 1.5  # incremental run: time(largest history) / time(smallest history)
GOAL_FLOOR_RATIO = 3.0  # incremental run / floor
TOP_STEPS = 8

MANIFEST = '"snowplow_manifest"."snowplow_web_incremental_manifest"'
EVENTS_THIS_RUN = '"scratch"."snowplow_web_base_events_this_run"'
DERIVED = {
    "page_views": '"derived"."snowplow_web_page_views"',
    "sessions": '"derived"."snowplow_web_sessions"',
    "users": '"derived"."snowplow_web_users"',
}
EVENTS = '"atomic"."events"'
CONTEXT = f'"atomic"."{generator.CONTEXT_TABLE}"'
FLOOR_TABLE = '"scratch"."benchmark_floor"'

QUIET = False


def progress(message: str) -> None:
    if not QUIET:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the data ----------------------------------------------------------------------------------------------------
@dataclass
class History:
    """D days of history and the one new day, from one generated dataset."""

    days: int
    start: dt.date
    history: list[list[generator.Event]]  # one list per load day
    new_day: list[generator.Event]

    @property
    def history_events(self) -> int:
        return sum(len(batch) for batch in self.history)

    @property
    def new_day_range(self) -> tuple[dt.datetime, dt.datetime]:
        first = dt.datetime.combine(self.start, dt.time()) + dt.timedelta(days=self.days)
        return first, first + dt.timedelta(days=1)


def generate_history(days: int, events_per_day: int, seed: int, returning_share: float | None) -> History:
    users = max(1, round(events_per_day / EVENTS_PER_USER_DAY))
    config = GeneratorConfig(seed=seed, days=days + 1, users=users, returning_share=returning_share)
    batches = generator.generate(config).batches()
    return History(days, config.start, batches[:days], batches[days])


def start_date_var(history: History) -> str:
    """The project's start_date: the day before the data, as in the scenario tests."""
    return (history.start - dt.timedelta(days=1)).isoformat()


# -- the compiled plans and their runs ---------------------------------------------------------------------------
@cache
def loaded_project():
    return load_project(PROJECT)


def regular_plan(url: str, history: History) -> PreparedRun:
    """The plan a daily ``snowgen run`` executes."""
    options = CompileOptions(vars={"start_date": start_date_var(history)})
    return prepare_run(loaded_project(), RunOptions(options, db=url))


def full_refresh_plan(url: str, history: History) -> PreparedRun:
    """``snowgen run --full-refresh --allow-refresh``, its backfill limit covering every day in one run."""
    cli_vars = {"start_date": start_date_var(history), "backfill_limit_days": history.days + 7}
    options = CompileOptions(vars=cli_vars, full_refresh=True, allow_refresh=True)
    return prepare_run(loaded_project(), RunOptions(options, db=url))


@dataclass
class RunTiming:
    seconds: float
    steps: dict[str, float]
    #: per step, the seconds between its start and end rows in the run metadata
    recorded: dict[str, float] = field(default_factory=dict)


def run_plan(url: str, prepared: PreparedRun, threads: int = 1) -> RunTiming:
    """Execute the steps on ``url`` as ``snowgen run --threads N`` does (one thread: one
    connection, every statement in order)."""
    started = time.perf_counter()
    with run_session(replace(prepared, url=url), threads=threads) as session:
        per_step = {result.step.id: result.seconds for result in session.steps()}
    seconds = time.perf_counter() - started
    with opened(url) as connection:
        recorded = recorded_durations(connection)
    return RunTiming(seconds, per_step, recorded)


RUN_STEPS = '"snowplow_manifest"."snowplow_web_run_steps"'


def recorded_durations(connection: Connection) -> dict[str, float]:
    """Each step's seconds from its start row to its end row in the last run's metadata."""
    rows = connection.query(
        f"SELECT step, started_at, finished_at FROM {RUN_STEPS} WHERE run_id = (SELECT MAX(run_id) FROM {RUN_STEPS})"
    )
    return {step: (end - start).total_seconds() for step, start, end in rows if start is not None and end is not None}


def critical_path(steps: list[PlannedStep], seconds: dict[str, float]) -> tuple[float, list[str]]:
    """The chain of steps along ``depends_on`` whose seconds add up to the most (plan order is
    an order of the dependencies, so one pass finds it), and its seconds."""
    longest: dict[str, tuple[float, list[str]]] = {}
    for step in steps:
        before = max((longest[d] for d in step.depends_on if d in longest), default=(0.0, []), key=lambda c: c[0])
        longest[step.id] = (before[0] + seconds.get(step.id, 0.0), [*before[1], step.id])
    return max(longest.values(), key=lambda chain: chain[0])


# -- databases: create, copy, drop -------------------------------------------------------------------------------
class DuckDBDatabases:
    """DuckDB files in a temporary folder; a copy is a copy of the file."""

    name = "duckdb"
    source_layout = "no index; rows in load order (day by day), so zone maps on collector_tstamp"

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="snowgen-bench-duckdb-"))

    def create(self, label: str) -> str:
        url = f"duckdb:///{self.folder / (label + '.duckdb')}"
        self.drop(url)
        return url

    def files(self, url: str) -> list[Path]:
        path = url.split("://", 1)[1][1:]
        return [Path(path), Path(path + ".wal")]

    def copy(self, url: str, label: str) -> str:
        """A copy of the closed database ``url``."""
        copy = self.create(label)
        for source, target in zip(self.files(url), self.files(copy), strict=True):
            if source.exists():
                shutil.copyfile(source, target)
        return copy

    def drop(self, url: str) -> None:
        for path in self.files(url):
            path.unlink(missing_ok=True)

    def index_sources(self, connection: Connection) -> None:
        pass

    def settle(self, connection: Connection) -> None:
        """Between runs: everything written to the database file."""
        connection.execute("CHECKPOINT")

    def stop_runs_after(self, url: str, seconds: float) -> bool:
        return False  # no statement timeout in DuckDB; its full refresh is not stopped

    def describe(self) -> str:
        import duckdb

        return f"DuckDB {duckdb.__version__}, file database, default settings ({os.cpu_count()} threads)"

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class PostgresDatabases:
    """A throwaway PostgreSQL 15 cluster (the test suite's); a copy is CREATE DATABASE ... TEMPLATE."""

    name = "postgres"
    source_layout = "b-tree indexes on events.collector_tstamp and on the context's root_tstamp (as day partitions)"

    def __init__(self) -> None:
        import psycopg
        from engines.postgres_engine import PostgresCluster

        self.cluster = PostgresCluster()
        try:
            self.cluster.start()
            self.admin = psycopg.connect(self.cluster.conninfo(), autocommit=True)
        except BaseException:
            self.cluster.stop()
            raise
        self.admin.execute("ALTER SYSTEM SET autovacuum = off")
        self.admin.execute("SELECT pg_reload_conf()")
        for _ in range(100):  # the reload reaches the server's processes a moment later
            if self.admin.execute("SHOW autovacuum").fetchone()[0] == "off":
                break
            time.sleep(0.05)

    def create(self, label: str, template: str = "template0") -> str:
        self.admin.execute(f'DROP DATABASE IF EXISTS "{label}" WITH (FORCE)')
        self.admin.execute(f'CREATE DATABASE "{label}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return f"postgresql://postgres@127.0.0.1:{self.cluster.port}/{label}"

    def database(self, url: str) -> str:
        return url.rsplit("/", 1)[1]

    def copy(self, url: str, label: str) -> str:
        """A copy of ``url`` (its database-level settings are not copied)."""
        return self.create(label, template=self.database(url))

    def drop(self, url: str) -> None:
        self.admin.execute(f'DROP DATABASE IF EXISTS "{self.database(url)}" WITH (FORCE)')

    def index_sources(self, connection: Connection) -> None:
        connection.execute(f'CREATE INDEX ON {EVENTS} ("collector_tstamp")')
        connection.execute(f'CREATE INDEX ON {CONTEXT} ("root_tstamp")')

    def settle(self, connection: Connection) -> None:
        """What autovacuum would have done after the history was loaded or built."""
        connection.execute("VACUUM ANALYZE")

    def stop_runs_after(self, url: str, seconds: float) -> bool:
        self.admin.execute(f"ALTER DATABASE \"{self.database(url)}\" SET statement_timeout = '{seconds:g}s'")
        return True

    def describe(self) -> str:
        def show(setting: str) -> str:
            return self.admin.execute(f"SHOW {setting}").fetchone()[0]

        return (
            f"PostgreSQL {show('server_version').split()[0]}, shared_buffers {show('shared_buffers')}, "
            f"work_mem {show('work_mem')}, fsync {show('fsync')}, autovacuum {show('autovacuum')}"
        )

    def close(self) -> None:
        try:
            self.admin.close()
        finally:
            self.cluster.stop()


DATABASES: dict[str, Callable[[], DuckDBDatabases | PostgresDatabases]] = {
    "duckdb": DuckDBDatabases,
    "postgres": PostgresDatabases,
}


# -- the state before the timed run ------------------------------------------------------------------------------
class opened:
    """A connection opened as ``snowgen run`` opens it, closed at the end of a ``with`` block."""

    def __init__(self, url: str):
        self.connection = connect(url, PROJECT)

    def __enter__(self) -> Connection:
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


def load_events(connection: Connection, events: list[generator.Event]) -> None:
    """The generator's fast loaders (COPY)."""
    generator.load(SimpleNamespace(name=connection.dialect.name, conn=connection.driver.connection), events)


def create_sources(databases, connection: Connection) -> None:
    dialect = connection.dialect
    for statement in source_ddl(loaded_project().spec, dialect):
        connection.execute(dialect.render(statement))
    databases.index_sources(connection)


def catch_up_chunks(history: History, days_per_run: int) -> list[list[list[generator.Event]]]:
    """The history's load days in runs of ``days_per_run`` days; the last day has a run of its own
    (the scheduled daily run just before the new day)."""
    *earlier, last = history.history
    return [earlier[i : i + days_per_run] for i in range(0, len(earlier), days_per_run)] + [[last]]


def build_snapshot(databases, history: History, days_per_run: int, m: Measurement) -> str:
    """A database with the history loaded and processed by the regular plan, run after run, then
    the new day loaded (not run yet). Records the catch-up runs' seconds and count in ``m``."""
    url = databases.create(f"build_{history.days}")
    with opened(url) as connection:
        create_sources(databases, connection)
    plan = regular_plan(url, history)
    chunks = catch_up_chunks(history, days_per_run)
    for chunk in chunks:
        with opened(url) as connection:
            for batch in chunk:
                load_events(connection, batch)
            databases.settle(connection)
        m.build_s += run_plan(url, plan).seconds
    m.build_runs = len(chunks)
    with opened(url) as connection:
        first, _ = history.new_day_range
        check_manifest_in(connection, (first - dt.timedelta(days=1), first), "the history", m)
        databases.settle(connection)
        load_events(connection, history.new_day)
    snapshot = databases.copy(url, f"snapshot_{history.days}")
    databases.drop(url)
    return snapshot


# -- the timed work ----------------------------------------------------------------------------------------------
def floor_sql(history: History, dialect: str) -> str:
    """CREATE TABLE AS one GROUP BY over the new day's events: the least work any run of that day does."""
    first, end = history.new_day_range
    tstamp = exp.column("collector_tstamp", quoted=True)
    page_view = exp.EQ(this=exp.column("event_name", quoted=True), expression=exp.Literal.string("page_view"))
    aggregation = (
        exp.select(
            exp.column("domain_sessionid", quoted=True),
            exp.alias_(exp.Max(this=exp.column("domain_userid", quoted=True)), "domain_userid", quoted=True),
            exp.alias_(exp.Min(this=tstamp.copy()), "start_tstamp", quoted=True),
            exp.alias_(exp.Max(this=tstamp.copy()), "end_tstamp", quoted=True),
            exp.alias_(exp.Count(this=exp.Star()), "events", quoted=True),
            exp.alias_(exp.Count(this=exp.If(this=page_view, true=exp.Literal.number(1))), "page_views", quoted=True),
        )
        .from_(exp.to_table(EVENTS, dialect=dialect))
        .where(tstamp.copy() >= timestamp_literal(first), tstamp.copy() < timestamp_literal(end))
        .group_by(exp.column("domain_sessionid", quoted=True))
    )
    create = exp.Create(this=exp.to_table(FLOOR_TABLE, dialect=dialect), kind="TABLE", expression=aggregation)
    return create.sql(dialect=dialect)


def timestamp_literal(value: dt.datetime) -> exp.Expression:
    return exp.Cast(this=exp.Literal.string(f"{value:%Y-%m-%d %H:%M:%S}"), to=exp.DataType.build("timestamp"))


@dataclass
class Measurement:
    engine: str
    days: int
    history_events: int
    new_day_events: int
    floor_sql: str
    #: the untimed catch-up runs of the regular plan that built the state: seconds, runs
    build_s: float = 0.0
    build_runs: int = 0
    #: rows of events_this_run in the timed incremental run (what it really re-read)
    run_events: int = 0
    incremental_s: list[float] = field(default_factory=list)
    full_refresh_s: list[float] = field(default_factory=list)
    #: set when the full refresh was stopped by the timeout: "<step> after <n> s"
    full_refresh_stopped: str | None = None
    floor_s: list[float] = field(default_factory=list)
    incremental_steps: list[dict[str, float]] = field(default_factory=list)
    #: seconds of each step of the first full refresh that finished
    full_refresh_steps: dict[str, float] = field(default_factory=dict)
    #: derived row counts after the incremental run and after the full refresh
    rows_incremental: dict[str, int] = field(default_factory=dict)
    rows_full_refresh: dict[str, int] = field(default_factory=dict)
    #: what the checks found wrong (a run that did not reach the new day, ...)
    problems: list[str] = field(default_factory=list)
    #: per kind of run (INCREMENTAL, FULL_REFRESH) and thread count, each timed run; and the
    #: plan's steps (their depends_on), for the critical path
    timings: dict[str, dict[int, list[RunTiming]]] = field(default_factory=dict)
    plans: dict[str, list[PlannedStep]] = field(default_factory=dict)

    def timed(self, kind: str, steps: PreparedRun, threads: int, timing: RunTiming) -> None:
        self.plans[kind] = steps.steps
        self.timings.setdefault(kind, {}).setdefault(threads, []).append(timing)

    @property
    def incremental(self) -> float:
        return statistics.median(self.incremental_s)

    @property
    def full_refresh(self) -> float | None:
        return None if self.full_refresh_stopped else statistics.median(self.full_refresh_s)

    @property
    def floor(self) -> float:
        return statistics.median(self.floor_s)

    def step_medians(self) -> dict[str, float]:
        runs = self.incremental_steps
        return {step: statistics.median(run[step] for run in runs) for step in runs[0]}


def derived_rows(connection: Connection) -> dict[str, int]:
    return {name: connection.query(f"SELECT COUNT(*) FROM {table}")[0][0] for name, table in DERIVED.items()}


def check_manifest_in(connection: Connection, day: tuple[dt.datetime, dt.datetime], what: str, m: Measurement) -> None:
    """After ``what``, every model's last_success lies in ``day`` (the last day it had to process)."""
    [(last,)] = connection.query(f"SELECT MIN(last_success) FROM {MANIFEST}")
    if last is None or not day[0] <= last < day[1]:
        m.problems.append(f"after {what} the manifest ends at {last}, not on {day[0]:%Y-%m-%d}")


INCREMENTAL, FULL_REFRESH = "incremental run", "full refresh"


def time_incremental_run(url: str, steps: PreparedRun, history: History, m: Measurement, threads: int = 1) -> None:
    timing = run_plan(url, steps, threads)
    m.timed(INCREMENTAL, steps, threads, timing)
    if threads == 1:
        m.incremental_s.append(timing.seconds)
        m.incremental_steps.append(timing.steps)
    what = "the incremental run" + (f" with {threads} threads" if threads > 1 else "")
    with opened(url) as connection:
        check_manifest_in(connection, history.new_day_range, what, m)
        m.run_events = connection.query(f"SELECT COUNT(*) FROM {EVENTS_THIS_RUN}")[0][0]
        check_rows(m, what, m.rows_incremental, derived_rows(connection))
        m.rows_incremental = m.rows_incremental or derived_rows(connection)


def time_full_refresh(
    url: str, steps: PreparedRun, history: History, m: Measurement, stoppable: bool, threads: int = 1
) -> None:
    started = time.perf_counter()
    try:
        timing = run_plan(url, steps, threads)
    except StepFailed as failure:
        if not stoppable or "statement timeout" not in str(failure.error):
            raise
        m.full_refresh_stopped = f"{failure.step.id} after {time.perf_counter() - started:.0f} s"
        return
    m.timed(FULL_REFRESH, steps, threads, timing)
    if threads == 1:
        m.full_refresh_s.append(timing.seconds)
        m.full_refresh_steps = m.full_refresh_steps or timing.steps
    what = "the full refresh" + (f" with {threads} threads" if threads > 1 else "")
    with opened(url) as connection:
        check_manifest_in(connection, history.new_day_range, what, m)
        check_rows(m, what, m.rows_full_refresh, derived_rows(connection))
        m.rows_full_refresh = m.rows_full_refresh or derived_rows(connection)


def check_rows(m: Measurement, what: str, before: dict[str, int], now: dict[str, int]) -> None:
    """Every timed run of a kind leaves the same derived row counts, whatever its threads."""
    if before and now != before:
        m.problems.append(f"after {what} the derived tables hold {now}, not {before}")


def step_seconds(timings: list[RunTiming]) -> dict[str, float]:
    """Each step's median seconds over ``timings``: from the run metadata (its start row to
    its end row), or as the runner timed it where the step records none (the run lock's)."""
    runs = [{**timing.steps, **timing.recorded} for timing in timings]
    return {step: statistics.median(run[step] for run in runs if step in run) for step in runs[0]}


def time_floor(url: str, m: Measurement) -> None:
    with opened(url) as connection:
        started = time.perf_counter()
        connection.execute(m.floor_sql)
        m.floor_s.append(time.perf_counter() - started)


def on_a_copy(databases, snapshot: str, work: Callable[[str], None]) -> None:
    """``work(url)`` on a fresh copy of the snapshot, dropped afterwards."""
    url = databases.copy(snapshot, "timed")
    try:
        work(url)
    finally:
        databases.drop(url)


def measure(databases, history: History, options: argparse.Namespace) -> Measurement:
    """Build the snapshot, then time the incremental run, the full refresh and the floor."""
    m = Measurement(
        databases.name, history.days, history.history_events, len(history.new_day), floor_sql(history, databases.name)
    )
    progress(f"{databases.name} {history.days} days: loading and processing the history")
    snapshot = build_snapshot(databases, history, options.build_days_per_run, m)
    progress(f"{databases.name} {history.days} days: history built by {m.build_runs} runs in {m.build_s:.1f} s")
    incremental = regular_plan(snapshot, history)
    full_refresh = full_refresh_plan(snapshot, history)

    def full_refresh_with_timeout(url: str, threads: int) -> None:
        stoppable = databases.stop_runs_after(url, options.refresh_timeout)
        time_full_refresh(url, full_refresh, history, m, stoppable, threads)

    try:
        for n in range(options.repeat):
            progress(f"{databases.name} {history.days} days: timed runs, repeat {n + 1} of {options.repeat}")
            for threads in options.threads:
                on_a_copy(
                    databases, snapshot, lambda url, n=threads: time_incremental_run(url, incremental, history, m, n)
                )
                if m.full_refresh_stopped is None:  # a stopped refresh is not tried again
                    on_a_copy(databases, snapshot, lambda url, n=threads: full_refresh_with_timeout(url, n))
            on_a_copy(databases, snapshot, lambda url: time_floor(url, m))
    finally:
        databases.drop(snapshot)
    progress(
        f"{databases.name} {history.days} days: incremental {m.incremental:.3f} s, "
        f"full refresh {seconds_or_stopped(m)}, floor {m.floor:.4f} s"
    )
    return m


# -- the report --------------------------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def seconds_or_stopped(m: Measurement) -> str:
    return f"{m.full_refresh:.3f}" if m.full_refresh is not None else f"> {m.full_refresh_stopped.split(' after ')[1]}"


def smallest_and_largest(results: list[Measurement], engine: str) -> tuple[Measurement, Measurement] | None:
    rows = sorted((m for m in results if m.engine == engine), key=lambda m: m.days)
    return (rows[0], rows[-1]) if len(rows) > 1 else None


def only_history(results: list[Measurement], engine: str) -> Measurement | None:
    rows = [m for m in results if m.engine == engine]
    return rows[0] if len(rows) == 1 else None


def print_table(results: list[Measurement]) -> bool:
    header = (
        f"{'engine':<9}{'days':>5}{'events in history':>19}{'new day':>9}{'run reads':>11}"
        f"{'incremental s':>15}{'full refresh s':>16}{'floor s':>9}{'inc/floor':>11}  goal ≤{GOAL_FLOOR_RATIO:g}×"
    )
    print(header)
    print("-" * len(header))
    met = True
    for m in results:
        ratio = m.incremental / m.floor
        met &= ratio <= GOAL_FLOOR_RATIO
        print(
            f"{m.engine:<9}{m.days:>5}{m.history_events:>19,}{m.new_day_events:>9,}{m.run_events:>11,}"
            f"{m.incremental:>15.3f}{seconds_or_stopped(m):>16}{m.floor:>9.4f}{ratio:>10.1f}×  "
            f"{verdict(ratio <= GOAL_FLOOR_RATIO)}"
        )
    return met


def print_growth(results: list[Measurement], engines: list[str]) -> bool:
    met = True
    for engine in engines:
        pair = smallest_and_largest(results, engine)
        if pair is None:
            continue
        small, large = pair
        ratio = large.incremental / small.incremental
        met &= ratio < GOAL_GROWTH
        refresh = (
            f"; full refresh ×{large.full_refresh / small.full_refresh:.2f}"
            if large.full_refresh is not None and small.full_refresh is not None
            else ""
        )
        print(
            f"{engine}: incremental run {small.days} -> {large.days} days of history "
            f"(×{large.history_events / small.history_events:.1f} events): ×{ratio:.2f}, "
            f"goal < {GOAL_GROWTH:g}×: {verdict(ratio < GOAL_GROWTH)}{refresh}"
        )
    return met


def print_slowest_steps(small: Measurement, large: Measurement, top: int) -> None:
    steps_large, steps_small = large.step_medians(), small.step_medians()
    print(f"\n{large.engine}: the {top} slowest steps of the incremental run after {large.days} days (median s)")
    print(f"  {'step':<50}{f'{small.days} d':>9}{f'{large.days} d':>9}{'growth':>9}{'share':>8}")
    for step, seconds in sorted(steps_large.items(), key=lambda item: -item[1])[:top]:
        before = steps_small.get(step, 0.0)
        grew = f"×{seconds / before:.2f}" if before else "-"
        print(f"  {step:<50}{before:>9.3f}{seconds:>9.3f}{grew:>9}{seconds / large.incremental:>8.0%}")
    print(
        f"  {f'all {len(steps_large)} steps':<50}{sum(steps_small.values()):>9.3f}{sum(steps_large.values()):>9.3f}"
        f"{f'×{sum(steps_large.values()) / sum(steps_small.values()):.2f}':>9}"
    )


def print_full_refresh_steps(m: Measurement, top: int) -> None:
    """Where a full refresh (the first run's work: every incremental table created and filled
    in one run) spends its time."""
    total = sum(m.full_refresh_steps.values())
    print(f"\n{m.engine}: the {top} slowest steps of the full refresh after {m.days} days (first run, s)")
    for step, seconds in sorted(m.full_refresh_steps.items(), key=lambda item: -item[1])[:top]:
        print(f"  {step:<50}{seconds:>9.3f}{seconds / total:>8.0%}")
    print(f"  {f'all {len(m.full_refresh_steps)} steps':<50}{total:>9.3f}")


def print_threads(results: list[Measurement]) -> None:
    """The speed-up of --threads N over one thread, and the critical path of each kind of run."""
    if not any(len(m.timings.get(INCREMENTAL, {})) > 1 for m in results):
        return
    print("\nparallel runs (snowgen run --threads N): median wall seconds, speed-up over 1 thread, and")
    print("the seconds of the run's steps added up (as the runner timed them: more when steps share the cores)")
    header = f"{'engine':<9}{'days':>5}  {'run':<15}{'threads':>8}{'wall s':>10}{'speed-up':>10}{'steps s':>10}"
    print(header)
    print("-" * len(header))
    for m in results:
        for kind, by_threads in m.timings.items():
            one = statistics.median(timing.seconds for timing in by_threads[1])
            for n, timings in sorted(by_threads.items()):
                wall = statistics.median(timing.seconds for timing in timings)
                steps = statistics.median(sum(timing.steps.values()) for timing in timings)
                print(f"{m.engine:<9}{m.days:>5}  {kind:<15}{n:>8}{wall:>10.3f}{one / wall:>9.2f}×{steps:>10.3f}")
    if any(m.engine == "duckdb" for m in results):
        print("(duckdb runs its steps on one connection whatever --threads asks: its rows differ by noise only)")
    for m in results:
        for kind, by_threads in m.timings.items():
            print_path(m, kind, by_threads[1])


def print_path(m: Measurement, kind: str, timings: list[RunTiming]) -> None:
    """The critical path of the one-thread runs of ``kind``: their median step seconds."""
    seconds = step_seconds(timings)
    length, chain = critical_path(m.plans[kind], seconds)
    total = sum(seconds.values())
    print(
        f"\n{m.engine} {m.days} days, {kind} with one thread: critical path {length:.3f} s of {total:.3f} s "
        f"in all steps (no thread count runs it faster than ×{total / length:.2f}); median step seconds:"
    )
    steps = [f"{step.removeprefix('snowplow_web_')} {seconds[step]:.3f}" for step in chain]
    print("  " + " → ".join(steps))


def report(results: list[Measurement], engines: list[str], setups: dict[str, str], top: int) -> bool:
    """Print the tables; True when every goal is met."""
    print("\nmedian wall seconds; incremental: the regular plan after one new day of events, all steps;")
    print("run reads: rows of events_this_run in that run (the new day, the lookback window, whole sessions)")
    met = print_table(results)
    print()
    met &= print_growth(results, engines)
    for engine in engines:
        pair = smallest_and_largest(results, engine)
        if pair is not None:
            print_slowest_steps(*pair, top)
        elif (single := only_history(results, engine)) is not None:
            print_slowest_steps(single, single, top)
    for m in results:
        if m.full_refresh_steps:
            print_full_refresh_steps(m, top)
    print_threads(results)
    print("\nbuilding each history (untimed above): the regular plan, run after each load of a few days")
    for m in results:
        print(f"  {m.engine:<9}{m.days:>5} days: {m.build_runs:>3} runs, {m.build_s:7.1f} s")
    print()
    problems = [f"{m.engine} {m.days} days: {p}" for m in results for p in dict.fromkeys(m.problems)]
    for problem in problems:
        print("CHECK FAILED:", problem)
    if not problems:
        print(
            "checks: the manifest ended on the last history day after the catch-up runs, on the new day after every timed run"
        )
    for m in results:
        if m.full_refresh_stopped:
            print(
                f"stopped: {m.engine} {m.days} days, full refresh stopped by the timeout in step {m.full_refresh_stopped}"
            )
    print("\nset-up:")
    for engine in engines:
        print(f"  {engine}: {setups[engine]}")
    print(f"  floor ({results[-1].engine}, {results[-1].days} days): {results[-1].floor_sql}")
    print(
        f"\ngoals: {'all met' if met else 'NOT all met'} "
        f"(incremental growth < {GOAL_GROWTH:g}× from the shortest to the longest history; incremental ≤ {GOAL_FLOOR_RATIO:g}× floor)"
    )
    return met


# -- main ----------------------------------------------------------------------------------------------------------
def revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], check=False, cwd=REPO, capture_output=True, text=True).stdout.strip()

    try:
        return git("rev-parse", "--short", "HEAD") + (
            "+dirty" if git("status", "--porcelain", "snowgen", "model_specs") else ""
        )
    except OSError:
        return "unknown"


def _share(text: str) -> float | None:
    if text == "all":
        return None
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a share between 0 and 1, or 'all'")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="duckdb,postgres", help="comma-separated: duckdb, postgres")
    parser.add_argument("--days", default=",".join(map(str, DEFAULT_DAYS)), help="history lengths, comma-separated")
    parser.add_argument("--events-per-day", type=int, default=DEFAULT_EVENTS_PER_DAY)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure; the median is reported")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--returning-share", type=_share, default=DEFAULT_RETURNING_SHARE,
        help="share of each day's visitors who visited before (default %(default)s); "
        "'all': the same visitors every day, each with a history as long as the data's",
    )  # fmt: skip
    parser.add_argument(
        "--refresh-timeout", type=float, default=DEFAULT_REFRESH_TIMEOUT_S,
        help="PostgreSQL: stop a full refresh after this many seconds (statement_timeout)",
    )  # fmt: skip
    parser.add_argument(
        "--build-days-per-run", type=int, default=DEFAULT_BUILD_DAYS_PER_RUN,
        help="days loaded before each catch-up run that builds the history (the last day runs alone)",
    )  # fmt: skip
    parser.add_argument("--top", type=int, default=TOP_STEPS, help="slowest steps shown for the longest history")
    parser.add_argument(
        "--threads", default="1",
        help="thread counts of snowgen run --threads, comma-separated (1 is always timed): the speed-up over one thread",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in args.engines if e not in DATABASES]
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}: use {', '.join(DATABASES)}")
    args.days = sorted({int(d) for d in args.days.split(",")})
    args.threads = sorted({1, *(int(n) for n in args.threads.split(",") if n.strip())})
    if args.threads[0] < 1:
        parser.error("--threads: thread counts of 1 or more")
    return args


def stop_on_sigterm() -> None:
    """A terminated benchmark still stops its PostgreSQL cluster and removes its files."""

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    global QUIET
    args = parse_args(argv)
    QUIET = args.quiet
    stop_on_sigterm()
    command = " ".join(["benchmarks/incremental_scaling.py", *(sys.argv[1:] if argv is None else argv)])
    print(f"incremental run scaling: {command}")
    print(
        f"snowgen {revision()}, Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.2f} at start; {args.events_per_day:,} events/day asked, "
        f"returning visitors {'all' if args.returning_share is None else args.returning_share}, "
        f"seed {args.seed}, median of {args.repeat}, threads {','.join(map(str, args.threads))}",
        flush=True,
    )
    started = time.perf_counter()
    databases: dict[str, DuckDBDatabases | PostgresDatabases] = {}
    results: list[Measurement] = []
    try:
        for engine in args.engines:
            progress(f"starting {engine}")
            databases[engine] = DATABASES[engine]()
        setups = {engine: f"{db.describe()}; source table: {db.source_layout}" for engine, db in databases.items()}
        for days in args.days:
            progress(f"generating {days} + 1 days of events")
            history = generate_history(days, args.events_per_day, args.seed, args.returning_share)
            for engine in args.engines:
                results.append(measure(databases[engine], history, args))
            del history
    finally:
        for db in databases.values():
            db.close()
    report(results, args.engines, setups, args.top)
    print(f"\nwhole benchmark: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
