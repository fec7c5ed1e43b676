"""Run the shipped snowplow_web project over generated events (support.generator) the way a
scheduler would, and read back what the scenario tests compare.

A ``Warehouse`` is one isolated database with the project's source tables and one compiled
plan; ``load`` appends events, ``run`` executes the plan (all steps, or the first k steps to
simulate a crash), ``snapshot`` reads the derived tables and the manifests.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from snowgen.api import CompileOptions, compile_loaded
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.runner.execute import PlannedStep, read_plan, run_steps
from snowgen.spec.loader import load_project
from support import generator

PROJECT = Path(__file__).resolve().parents[2] / "model_specs" / "snowplow_web"

PAGE_VIEWS = "derived.snowplow_web_page_views"
SESSIONS = "derived.snowplow_web_sessions"
USERS = "derived.snowplow_web_users"
USER_MAPPING = "derived.snowplow_web_user_mapping"
#: the derived tables and their unique keys
DERIVED = {
    PAGE_VIEWS: "page_view_id", SESSIONS: "domain_sessionid", USERS: "domain_userid", USER_MAPPING: "domain_userid",
}  # fmt: skip

MANIFEST = "snowplow_manifest.snowplow_web_incremental_manifest"
LIFECYCLE = "snowplow_manifest.snowplow_web_base_sessions_lifecycle_manifest"
QUARANTINE = "snowplow_manifest.snowplow_web_base_quarantined_sessions"
LIMITS = "scratch.snowplow_web_base_new_event_limits"
EVENTS_THIS_RUN = "scratch.snowplow_web_base_events_this_run"
SESSIONS_THIS_RUN = "scratch.snowplow_web_base_sessions_this_run"
#: the state tables, with their keys
STATE = {MANIFEST: "model", LIFECYCLE: "session_identifier", QUARANTINE: "session_identifier"}
#: derived table -> (its batch: the run's table it upserts from, upsert_lookback_days); the upsert
#: replaces stored rows whose start_tstamp is in [min(batch) - lookback, max(batch)] (§1.4)
UPSERTS = {
    PAGE_VIEWS: ("scratch.snowplow_web_page_views_this_run", 30),
    SESSIONS: ("scratch.snowplow_web_sessions_this_run", 30),
    USERS: ("scratch.snowplow_web_users_this_run", 0),
}


@cache
def _plan(project: Path, dialect: str, cli_vars: str) -> tuple[PlannedStep, ...]:
    [compiled] = compile_loaded(load_project(project), [dialect], CompileOptions(vars=json.loads(cli_vars)))
    return tuple(read_plan(compiled.files, dialect))


def plan(dialect: str, project: Path = PROJECT, **cli_vars) -> list[PlannedStep]:
    """The compiled plan's steps, compiled in memory (the shipped project's are cached per
    dialect and vars, which may hold lists and maps; another project is compiled afresh,
    since a test may edit it)."""
    key = json.dumps(cli_vars, sort_keys=True)
    if project != PROJECT:
        return list(_plan.__wrapped__(project, dialect, key))
    return list(_plan(project, dialect, key))


def copy_project(tmp_path: Path) -> Path:
    return Path(shutil.copytree(PROJECT, tmp_path / "snowplow_web"))


@dataclass
class Table:
    """The rows of a table (a multiset: duplicates are kept), model_tstamp left out."""

    name: str
    columns: list[str]
    rows: list[tuple]

    def by_key(self, key: str) -> dict:
        index = self.columns.index(key)
        return {row[index]: dict(zip(self.columns, row, strict=True)) for row in self.rows}

    def column(self, name: str) -> list:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


class Warehouse:
    """An isolated database with atomic.events and the web_page context table."""

    def __init__(self, engine, steps: list[PlannedStep], project: Path = PROJECT):
        self.engine = engine
        self.steps = steps
        dialect = get_dialect(engine.name)
        for statement in source_ddl(load_project(project).spec, dialect):
            engine.execute(dialect.render(statement))

    def load(self, events: list[generator.Event]) -> None:
        generator.load(self.engine, events)

    def run(self, steps: list[PlannedStep] | None = None) -> None:
        for _ in run_steps(self.steps if steps is None else steps, self.engine.execute):
            pass

    def run_until_stable(self, max_runs: int = 10) -> int:
        """Run until a run leaves the manifest as it was; returns the number of runs."""
        for runs in range(1, max_runs + 1):
            before = self.manifest()
            self.run()
            if self.manifest() == before:
                return runs
        raise AssertionError(f"the manifest still moves after {max_runs} runs: {self.manifest()}")

    # -- reading --------------------------------------------------------------------------------
    def query(self, sql: str) -> list[tuple]:
        return self.engine.query(sql)

    def exists(self, name: str) -> bool:
        schema, table = name.split(".")
        return bool(self.query(
            f"SELECT 1 FROM information_schema.tables WHERE table_schema = '{schema}' AND table_name = '{table}'"
        ))  # fmt: skip

    def manifest(self) -> dict[str, dt.datetime]:
        """model -> last_success ({} before the first run)."""
        if not self.exists(MANIFEST):
            return {}
        return dict(self.query(f"SELECT model, last_success FROM {MANIFEST}"))

    def limits(self) -> tuple[dt.datetime, dt.datetime]:
        [row] = self.query(f"SELECT lower_limit, upper_limit FROM {LIMITS}")
        return row

    def table(self, name: str, exclude: tuple[str, ...] = ("model_tstamp",)) -> Table:
        schema, table = name.split(".")
        columns = [
            c for (c,) in self.query(
                f"SELECT column_name FROM information_schema.columns WHERE table_schema = '{schema}' "
                f"AND table_name = '{table}' ORDER BY ordinal_position"
            ) if c not in exclude
        ]  # fmt: skip
        rows = [tuple(_hashable(v) for v in row) for row in self.query(f"SELECT {', '.join(columns)} FROM {name}")]
        return Table(name, columns, sorted(rows, key=repr))

    def keys(self, name: str, key: str) -> set:
        return {k for (k,) in self.query(f"SELECT {key} FROM {name}")}

    def snapshot(self, tables=(*DERIVED, *STATE)) -> dict[str, Table]:
        return {name: self.table(name) for name in tables}


def _hashable(value):
    """A list (a conversion's events) as a tuple and a map (event_counts) as its JSON text,
    so rows can be counted; other values as they are."""
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def table_differences(actual: Table, expected: Table, key: str, limit: int = 12) -> list[str]:
    """Readable differences between two versions of a table (empty when equal as multisets)."""
    if actual.columns != expected.columns:
        return [f"columns differ: {actual.columns} != {expected.columns}"]
    if actual.rows == expected.rows:
        return []
    problems = []
    for side, table in (("actual", actual), ("expected", expected)):
        keys = table.column(key)
        duplicated = sorted({k for k in keys if keys.count(k) > 1}, key=repr)
        if duplicated:
            problems.append(f"{side} has duplicate keys: {duplicated[:limit]}")
    a, e = actual.by_key(key), expected.by_key(key)
    problems += [f"{k}: only in actual" for k in sorted(a.keys() - e.keys(), key=repr)]
    problems += [f"{k}: only in expected" for k in sorted(e.keys() - a.keys(), key=repr)]
    for k in sorted(a.keys() & e.keys(), key=repr):
        changed = [f"{c}: {a[k][c]!r} != {e[k][c]!r}" for c in actual.columns if a[k][c] != e[k][c]]
        if changed:
            problems.append(f"{k}: " + "; ".join(changed))
    return problems[:limit] + ([f"... {len(problems) - limit} more"] if len(problems) > limit else [])


def without_columns(table: Table, columns: set[str]) -> Table:
    keep = [i for i, c in enumerate(table.columns) if c not in columns]
    rows = sorted((tuple(row[i] for i in keep) for row in table.rows), key=repr)
    return Table(table.name, [table.columns[i] for i in keep], rows)


def replace_values(table: Table, column: str, mapping: dict) -> Table:
    """``table`` with ``column``'s values translated through ``mapping`` (others unchanged)."""
    if column not in table.columns:
        return table
    index = table.columns.index(column)
    rows = [(*row[:index], mapping.get(row[index], row[index]), *row[index + 1 :]) for row in table.rows]
    return Table(table.name, table.columns, sorted(rows, key=repr))


# -- what each run did -----------------------------------------------------------------------------------
@dataclass
class RunRecord:
    """What one run of the plan saw and wrote, read right after it."""

    limits: tuple[dt.datetime, dt.datetime]
    manifest_before: dict[str, dt.datetime]
    #: events_this_run: (event_id, collector_tstamp, domain_sessionid, domain_userid, user_id)
    events: list[tuple]
    #: sessions of scratch.snowplow_web_base_sessions_this_run
    sessions: set[str]
    #: the lifecycle manifest after the run: session identifier -> start_tstamp
    lifecycle: dict[str, dt.datetime]
    #: user_mapping after the run: domain_userid -> user_id
    mapping: dict[str, str]
    #: derived table -> its batch of the run: [(key, start_tstamp)]
    batches: dict[str, list[tuple]]

    def wrote(self, model: str) -> bool:
        """The model's gate was open: the window was not consumed yet (reference §1.4)."""
        last = self.manifest_before.get(model)
        return last is None or self.limits[1] > last


def record_run(w: Warehouse) -> RunRecord:
    """Run the plan once on ``w`` and record what it did."""
    before = w.manifest()
    w.run()
    return RunRecord(
        limits=w.limits(),
        manifest_before=before,
        events=w.query(
            f"SELECT event_id, collector_tstamp, domain_sessionid, domain_userid, user_id FROM {EVENTS_THIS_RUN}"
        ),
        sessions=w.keys(SESSIONS_THIS_RUN, "session_identifier"),
        lifecycle=dict(w.query(f"SELECT session_identifier, start_tstamp FROM {LIFECYCLE}")),
        mapping=dict(w.query(f"SELECT domain_userid, user_id FROM {USER_MAPPING}")),
        batches={t: w.query(f"SELECT {DERIVED[t]}, start_tstamp FROM {batch}") for t, (batch, _) in UPSERTS.items()},
    )
