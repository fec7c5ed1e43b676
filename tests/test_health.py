"""`snowgen health` on real databases (a DuckDB file and the PostgreSQL 15 server of the test
session), through the command line: a fresh, a stale and a lagging case for each strategy
(the shipped multi_source_deals and snowplow_web projects), its JSON report, its exit status
and its errors. Late rows: test_engines_late_data.py."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner
from support.data import insert_rows
from support.deals import deal
from support.snowplow_events import Event, event_uuid, insert_events

from snowgen.cli import main

SPECS = Path(__file__).resolve().parents[1] / "model_specs"
HOUR = dt.timedelta(hours=1)


@dataclass
class Database:
    engine: str
    url: str
    run_sql: Callable[[str, list], None]  # one statement with its parameters, committed

    def insert(self, schema: str, table: str, rows: list[dict]) -> None:
        for statement in insert_rows(self.engine, schema, table, rows):
            self.run_sql(statement, [])

    def events(self, events: list[Event]) -> None:
        insert_events(self.run_sql, events, placeholder="?" if self.engine == "duckdb" else "%s")


@pytest.fixture(params=["postgres", "duckdb"])
def database(request, tmp_path) -> Iterator[Database]:
    if request.param == "duckdb":
        path = tmp_path / "health.duckdb"

        def run_sql(sql: str, params: list) -> None:
            with duckdb.connect(str(path)) as con:
                con.execute(sql, params)

        yield Database("duckdb", str(path), run_sql)
        return
    import psycopg

    postgres_db = request.getfixturevalue("postgres_db")
    info = postgres_db.conn.info
    with psycopg.connect(postgres_db.conninfo, autocommit=True) as conn:
        url = f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"
        yield Database("postgres", url, lambda sql, params: conn.execute(sql, params))


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def project(tmp_path: Path, name: str, **incremental) -> Path:
    root = tmp_path / name
    shutil.copytree(SPECS / name, root)
    if incremental:
        spec = yaml.safe_load((root / "snowgen.yml").read_text(encoding="utf-8"))
        spec["incremental"].update(incremental)
        (root / "snowgen.yml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return root


def health(root: Path, database: Database, *options: str):
    return cli("health", "--project", str(root), "--db", database.url, *options)


def report(root: Path, database: Database) -> tuple[int, dict]:
    result = health(root, database, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


# -- the watermark strategy ------------------------------------------------------------------------


def deals_run(tmp_path: Path, database: Database, ages: dict[str, dt.timedelta], **incremental) -> Path:
    """multi_source_deals with one deal per server, as old as ``ages`` says, after one run."""
    root = project(tmp_path, "multi_source_deals", **incremental)
    assert cli("sources", "--project", str(root), "--db", database.url).exit_code == 0
    for server, age in ages.items():
        database.insert(f"mt5_{server}", "deals", [deal(1, now() - age)])
    result = cli("run", "--project", str(root), "--db", database.url, "--quiet")
    assert result.exit_code == 0, result.output
    return root


def test_fresh_watermarks_are_healthy(database, tmp_path):
    root = deals_run(tmp_path, database, {"p1": HOUR, "p2": 2 * HOUR, "p3": 3 * HOUR})
    result = health(root, database)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "healthy"
    assert "stg_deals__p2  deals   p2        " in result.stdout


def test_a_stale_watermark_exits_1_and_is_named(database, tmp_path):
    root = deals_run(tmp_path, database, {"p1": HOUR, "p2": 30 * HOUR, "p3": 3 * HOUR})  # stale after 24 h
    result = health(root, database)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "unhealthy: 1 source stale"
    [p2] = [line for line in result.stdout.splitlines() if "stg_deals__p2" in line]
    assert p2.endswith("STALE") and "30.0 h" in p2
    code, found = report(root, database)
    assert (code, found["healthy"], found["problems"]) == (1, False, ["stale"])
    assert [(w["instance"], w["stale"]) for w in found["watermarks"]] == [("p1", False), ("p2", True), ("p3", False)]


def test_a_server_without_any_row_is_stale(database, tmp_path):
    root = deals_run(tmp_path, database, {"p1": HOUR, "p2": HOUR})
    code, found = report(root, database)
    assert code == 1
    [p3] = [w for w in found["watermarks"] if w["instance"] == "p3"]
    assert (p3["watermark"], p3["hours_behind"], p3["stale"]) == (None, None, True)


def test_late_rows_left_unread_are_a_problem_with_report(database, tmp_path):
    root = deals_run(tmp_path, database, {"p1": 2 * HOUR, "p2": HOUR, "p3": HOUR}, late_data="report")
    database.insert("mt5_p1", "deals", [deal(2, now() - 10 * HOUR, "late")])  # lookback 1 h
    code, found = report(root, database)
    assert (code, found["problems"]) == (1, ["late_rows"])
    [late] = found["late_intervals"]
    assert (late["instance"], late["rows_recorded"], late["rows_now"]) == ("p1", 0, 1)
    text = health(root, database).stdout
    assert "late rows (intervals starting within 72 h of the watermark; not read: late_data is report):" in text
    assert text.splitlines()[-1] == "unhealthy: 1 interval with late rows"


def test_late_rows_the_next_run_reads_are_listed_but_healthy(database, tmp_path):
    root = deals_run(tmp_path, database, {"p1": 2 * HOUR, "p2": HOUR, "p3": HOUR})  # late_data: reprocess
    database.insert("mt5_p1", "deals", [deal(2, now() - 10 * HOUR, "late")])
    code, found = report(root, database)
    assert (code, found["problems"], len(found["late_intervals"])) == (0, [], 1)


def test_the_target_names_the_database(tmp_path):
    root = project(tmp_path, "multi_source_deals")
    db = Database("duckdb", str(root / "multi_source_deals.duckdb"), lambda sql, params: None)  # target dev's db
    assert cli("sources", "--project", str(root), "--db", db.url).exit_code == 0
    with duckdb.connect(db.url) as con:
        for statement in insert_rows("duckdb", "mt5_p1", "deals", [deal(1, now() - HOUR)]):
            con.execute(statement)
    assert cli("run", "--project", str(root), "--target", "dev", "--quiet").exit_code == 0
    result = cli("health", "--project", str(root), "--target", "dev", "--format", "json")
    assert result.exit_code == 1  # p2 and p3 have no row
    assert json.loads(result.stdout)["database"] == os.path.relpath(db.url)


# -- the sessions strategy -------------------------------------------------------------------------


def snowplow_run(tmp_path: Path, database: Database, age: dt.timedelta) -> Path:
    """snowplow_web after one run over one session of three page views, ``age`` old."""
    root = project(tmp_path, "snowplow_web")
    assert cli("sources", "--project", str(root), "--db", database.url).exit_code == 0
    start = now() - age
    database.events(
        [
            Event(
                event_uuid("health", i),
                start + i * dt.timedelta(minutes=1),
                "s1",
                "u1",
                page_view_id=event_uuid("pv", i),
            )
            for i in range(3)
        ]
    )
    start_date = (start - 24 * HOUR).date().isoformat()
    result = cli(
        "run", "--project", str(root), "--db", database.url, "--quiet", "--vars", f"{{start_date: {start_date}}}"
    )
    assert result.exit_code == 0, result.output
    return root


def test_recent_events_and_models_in_step_are_healthy(database, tmp_path):
    root = snowplow_run(tmp_path, database, 2 * HOUR)
    code, found = report(root, database)
    assert (code, found["healthy"], found["strategy"]) == (0, True, "sessions")
    assert found["events"]["stale"] is False and found["events"]["table"] == "atomic.events"
    assert {m["model"] for m in found["models"]} >= {"snowplow_web_page_views", "snowplow_web_sessions"}
    assert not any(m["lagging"] for m in found["models"])


def test_no_event_for_stale_after_hours_is_stale(database, tmp_path):
    root = snowplow_run(tmp_path, database, 30 * HOUR)
    result = health(root, database)
    assert result.exit_code == 1
    assert "events atomic.events: STALE: no event stamped in the last 24 h" in result.stdout
    _, found = report(root, database)
    assert (found["problems"], found["events"]["latest_event"]) == (["stale"], None)


def test_a_model_rewound_behind_the_others_lags(database, tmp_path):
    root = snowplow_run(tmp_path, database, 2 * HOUR)
    to = (now() - 72 * HOUR).date().isoformat()
    rewind = cli("manifest", "rewind", "snowplow_web_users", "--to", to, "--project", str(root), "--db", database.url)
    assert rewind.exit_code == 0, rewind.output
    code, found = report(root, database)
    assert (code, found["problems"]) == (1, ["lagging"])
    lagging = {m["model"]: m for m in found["models"] if m["lagging"]}
    assert list(lagging) == ["snowplow_web_users"] and lagging["snowplow_web_users"]["hours_behind"] > 24
    assert health(root, database).stdout.splitlines()[-1] == "unhealthy: 1 model lagging"


# -- the report and the errors ---------------------------------------------------------------------


def test_the_json_report_keeps_its_keys(tmp_path):
    db = Database("duckdb", str(tmp_path / "keys.duckdb"), lambda sql, params: None)
    root = project(tmp_path, "multi_source_deals")
    cli("sources", "--project", str(root), "--db", db.url)
    with duckdb.connect(db.url) as con:
        for statement in insert_rows("duckdb", "mt5_p1", "deals", [deal(1, now() - HOUR)]):
            con.execute(statement)
    cli("run", "--project", str(root), "--db", db.url, "--quiet")
    _, found = report(root, db)
    assert list(found) == [
        "format_version", "project", "strategy", "database", "checked_at", "healthy", "problems", "settings",
        "watermarks", "late_intervals", "events", "models",
    ]  # fmt: skip
    assert list(found["watermarks"][0]) == [
        "model",
        "source",
        "instance",
        "watermark",
        "hours_behind",
        "stale",
        "future_rows",
    ]
    assert found["format_version"] == 1 and found["events"] is None and found["models"] == []


def test_health_before_any_run_fails_naming_the_database(database, tmp_path):
    root = project(tmp_path, "multi_source_deals")
    result = health(root, database)
    assert result.exit_code == 2
    assert "SG441 a health query of multi_source_deals failed on" in result.stderr
    assert "has the project run on this database?" in result.stderr and "Traceback" not in result.output


def test_a_project_without_a_strategy_has_nothing_to_check(tmp_path):
    root = tmp_path / "reports"
    (root / "models").mkdir(parents=True)
    (root / "snowgen.yml").write_text(
        "project: reports\nsql_dialect: postgres\nsources:\n  orders: {schema: shop, table: orders}\n", encoding="utf-8"
    )
    (root / "models" / "daily.yml").write_text(
        "name: daily\nmaterialization: view\nsql: select count(*) as n from orders\n", encoding="utf-8"
    )
    result = cli("health", "--project", str(root), "--db", str(tmp_path / "x.duckdb"))
    assert result.exit_code == 2
    assert "SG440 project reports has no incremental strategy" in result.stderr


def test_a_database_that_refuses_is_sg405_without_the_password(tmp_path):
    root = project(tmp_path, "multi_source_deals")
    result = cli("health", "--project", str(root), "--db", "postgresql://me:sekret@127.0.0.1:1/x")
    assert result.exit_code == 2
    assert "SG405 cannot connect to postgresql://me:***@127.0.0.1:1/x" in result.stderr
    assert "sekret" not in result.output
