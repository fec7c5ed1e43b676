"""`snowgen run`, `snowgen sources` and `snowgen manifest` on real databases (a DuckDB file
in the project, and the PostgreSQL 15 server of the test session)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest
from click.testing import CliRunner
from support.data import insert_rows

from snowgen.cli import main

SPECS = Path(__file__).resolve().parents[1] / "model_specs"


@pytest.fixture
def deals(tmp_path, monkeypatch):
    root = tmp_path / "multi_source_deals"
    shutil.copytree(SPECS / "multi_source_deals", root)
    monkeypatch.chdir(root)
    return root


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def add_deal(db: Path, server: str, number: int, comment: str = "ok", when: dt.datetime | None = None) -> None:
    row = {
        "deal": number, "login": 1, "timemsc": when or dt.datetime(2024, 3, 1, 10, number), "symbol": "EURUSD", "action": 0,
        "entry": 0, "volume": Decimal("1"), "price": Decimal("1"), "profit": Decimal("1"), "commission": Decimal("0"),
        "swap": Decimal("0"), "comment": comment,
    }  # fmt: skip
    with duckdb.connect(str(db)) as con:
        for statement in insert_rows("duckdb", f"mt5_{server}", "deals", [row]):
            con.execute(statement)


def deals_in(db: Path) -> list[tuple]:
    with duckdb.connect(str(db)) as con:
        return con.execute("select server_source, deal, comment from deals.inter_deals order by 1, 2").fetchall()


def test_run_on_the_default_duckdb_file(deals):
    assert cli("sources", "--db", "snowgen.duckdb").exit_code == 0
    add_deal(deals / "snowgen.duckdb", "p1", 1)
    result = cli("run")
    assert result.exit_code == 0, result.output
    assert re.search(r"\[ *\d+/\d+\] inter_deals +ok +\d+\.\d\d s +1 row$", result.stderr, re.MULTILINE)
    assert re.match(r"ok: \d+ steps in ", result.stdout)
    assert deals_in(deals / "snowgen.duckdb") == [("p1", 1, "ok")]


def test_a_run_ends_by_printing_the_rows_of_each_derived_table(deals):
    assert cli("sources", "--db", "snowgen.duckdb").exit_code == 0
    for number in (1, 2):
        add_deal(deals / "snowgen.duckdb", "p1", number)
    result = cli("run")
    assert result.exit_code == 0, result.output
    printed = dict(re.findall(r"^(\S+) +(\d+) rows?$", result.stdout, re.MULTILINE))
    with duckdb.connect(str(deals / "snowgen.duckdb")) as con:
        derived = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema = 'deals' and table_type = 'BASE TABLE'"
        ).fetchall()
        actual = {name: str(con.execute(f"select count(*) from {name}").fetchone()[0]) for (name,) in derived}
    assert printed == actual and printed["deals.inter_deals"] == "2"


def test_a_run_warns_of_rows_stamped_in_the_future_and_does_not_read_them(deals):
    assert cli("sources", "--db", "snowgen.duckdb").exit_code == 0
    add_deal(deals / "snowgen.duckdb", "p1", 1)
    add_deal(deals / "snowgen.duckdb", "p2", 2, "broken clock", dt.datetime(2099, 1, 1, 12))
    result = cli("run")
    assert result.exit_code == 0, result.output
    warning = "snowgen: warning: multi_source_deals_future_rows: source rows stamped more than 60 minutes after"
    assert warning in result.stderr and "[stg_deals__p2, deals, p2, 1]" in result.stderr
    assert deals_in(deals / "snowgen.duckdb") == [("p1", 1, "ok")]
    with duckdb.connect(str(deals / "snowgen.duckdb")) as con:  # the server's clock is right again
        con.execute("update mt5_p2.deals set timemsc = timestamp '2024-03-01 10:02', comment = 'fixed clock'")
    result = cli("run")
    assert "warning" not in result.stderr
    assert deals_in(deals / "snowgen.duckdb") == [("p1", 1, "ok"), ("p2", 2, "fixed clock")]


def test_a_failed_run_names_the_step_and_a_second_run_resumes(deals):
    result = cli("run")  # no source tables yet: the health view, which counts their future rows, fails
    assert result.exit_code == 1
    pattern = r"snowgen: SG408 step multi_source_deals_watermark_health failed \(\d\d_watermarks/02_multi_source_deals_watermark_health.sql\):"
    assert re.search(pattern, result.stderr)
    assert 'Table with name "mt5_p1.deals" does not exist' in result.stderr and "Traceback" not in result.output
    cli("sources", "--db", "snowgen.duckdb")
    add_deal(deals / "snowgen.duckdb", "p2", 7)
    assert cli("run").exit_code == 0
    assert deals_in(deals / "snowgen.duckdb") == [("p2", 7, "ok")]


def test_full_refresh_is_refused_where_the_target_protects_its_state(deals):
    result = cli("run", "--full-refresh")
    assert result.exit_code == 2
    assert "SG404 --full-refresh would drop the incremental manifests of the default target" in result.stderr


def test_full_refresh_on_a_dev_target_rebuilds(deals):
    db = deals / "multi_source_deals.duckdb"
    cli("sources", "--db", str(db))
    add_deal(db, "p1", 1, "first")
    assert cli("run", "--target", "dev").exit_code == 0
    with duckdb.connect(str(db)) as con:  # a row the sources no longer explain
        con.execute("insert into deals.inter_deals (server_source, deal, comment) values ('p9', 9, 'orphan')")
    result = cli("run", "--target", "dev", "--full-refresh")
    assert result.exit_code == 0, result.output
    assert "full_refresh" in result.stderr
    assert deals_in(db) == [("p1", 1, "first")]


def test_run_on_postgres(deals, postgres_db):
    info = postgres_db.conn.info
    url = f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"
    assert cli("sources", "--db", url).exit_code == 0
    row = {"deal": 5, "login": 1, "timemsc": dt.datetime(2024, 3, 1), "symbol": "X", "action": 0, "entry": 0, "volume": 1,
           "price": 1, "profit": 1, "commission": 0, "swap": 0, "comment": "pg"}  # fmt: skip
    for statement in insert_rows("postgres", "mt5_p3", "deals", [row]):
        postgres_db.execute(statement)
    result = cli("run", "--db", url)
    assert result.exit_code == 0, result.output
    assert postgres_db.query("select server_source, deal, comment from deals.inter_deals") == [("p3", 5, "pg")]


def test_manifest_remove_prints_the_sql(tmp_path, monkeypatch):
    monkeypatch.chdir(SPECS / "snowplow_web")
    result = cli("manifest", "remove", "snowplow_web_users", "--dialect", "duckdb")
    assert result.exit_code == 0
    assert result.stdout == (
        "BEGIN;\n"
        'DELETE FROM "snowplow_manifest"."snowplow_web_incremental_manifest"\n'
        "WHERE\n"
        "  \"model\" IN ('snowplow_web_users');\n"
        "COMMIT;\n"
    )


def test_manifest_remove_rejects_a_model_the_manifest_does_not_track(monkeypatch):
    monkeypatch.chdir(SPECS / "snowplow_web")
    result = cli("manifest", "remove", "snowplow_web_pv_engaged_time", "--dialect", "duckdb")
    assert result.exit_code == 2
    assert "SG402 not a model of the manifest: snowplow_web_pv_engaged_time" in result.stderr


def test_run_backfill_replaces_one_server_in_the_range(deals):
    db = deals / "snowgen.duckdb"
    cli("sources", "--db", str(db))
    add_deal(db, "p1", 1, "first")
    add_deal(db, "p2", 2, "first")
    assert cli("run").exit_code == 0
    with duckdb.connect(str(db)) as con:  # both servers correct their deal after the run
        con.execute("update mt5_p1.deals set comment = 'fixed'")
        con.execute("update mt5_p2.deals set comment = 'fixed'")
        watermarks = con.execute("select * from deals_manifest.multi_source_deals_watermarks order by all").fetchall()
    result = cli("run", "--backfill", "p1", "--from", "2024-03-01", "--to", "2024-03-02")
    assert result.exit_code == 0, result.output
    assert "watermarks_update" not in result.stderr  # a backfill never moves the watermarks
    assert deals_in(db) == [("p1", 1, "fixed"), ("p2", 2, "first")]
    with duckdb.connect(str(db)) as con:
        assert (
            con.execute("select * from deals_manifest.multi_source_deals_watermarks order by all").fetchall()
            == watermarks
        )


def test_run_backfill_needs_its_range(deals):
    result = cli("run", "--backfill", "p1", "--from", "2024-03-01")
    assert result.exit_code == 2
    assert "SG403 --backfill, --from and --to go together; missing --to" in result.stderr


# -- the database's own settings and failures -----------------------------------------------------------


def pg_url(postgres_db, query: str = "", user: str | None = None) -> str:
    info = postgres_db.conn.info
    return f"postgresql://{user or info.user}@{info.host}:{info.port}/{info.dbname}{query}"


@contextmanager
def lock_held(postgres_db, *statements: str, terminate_waiters_after: float) -> Iterator[None]:
    """Another session runs ``statements`` in a transaction it keeps open. After
    ``terminate_waiters_after`` seconds a thread terminates the sessions waiting for its locks:
    the server going away under snowgen (or, for a test that expects a timeout, a safety stop)."""
    import psycopg

    holder = psycopg.connect(postgres_db.conninfo)
    for statement in statements:
        holder.execute(statement)
    stop = threading.Event()
    waiting = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> %s"
    )

    def terminate_waiters() -> None:
        with psycopg.connect(postgres_db.conninfo, autocommit=True) as admin:
            deadline = time.monotonic() + terminate_waiters_after
            while not stop.wait(0.05):
                if time.monotonic() >= deadline and admin.execute(waiting, [holder.info.backend_pid]).fetchall():
                    return

    thread = threading.Thread(target=terminate_waiters)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        holder.rollback()
        holder.close()


STATEMENT_TIMEOUT = "-c statement_timeout=300"


@pytest.mark.parametrize("given_in", ["url", "PGOPTIONS"])
def test_a_statement_timeout_from_the_url_or_pgoptions_stops_a_blocked_run(deals, postgres_db, monkeypatch, given_in):
    assert cli("sources", "--db", pg_url(postgres_db)).exit_code == 0
    if given_in == "url":
        url = pg_url(postgres_db, "?options=" + quote(STATEMENT_TIMEOUT))
    else:
        url = pg_url(postgres_db)
        monkeypatch.setenv("PGOPTIONS", STATEMENT_TIMEOUT)
    with lock_held(postgres_db, "LOCK TABLE mt5_p1.deals IN ACCESS EXCLUSIVE MODE", terminate_waiters_after=15):
        result = cli("run", "--db", url)
    assert result.exit_code == 1, result.output
    assert re.search(r"^snowgen: SG408 step \w+ failed \(\S+\.sql\):$", result.stderr, re.M), result.stderr
    assert "canceling statement due to statement timeout" in result.stderr


@pytest.mark.parametrize(
    ("url_options", "pgoptions", "expected"),
    [
        ("-c statement_timeout=1234", None, ("1234ms", "0", "UTC")),
        (None, "-c lock_timeout=4321", ("0", "4321ms", "UTC")),
        ("-c statement_timeout=1234", "-c lock_timeout=4321", ("1234ms", "0", "UTC")),  # libpq: the URL wins
        ("-c TimeZone=Europe/Paris -c lock_timeout=5", None, ("0", "5ms", "UTC")),  # the SQL relies on UTC
    ],
    ids=["url", "pgoptions", "url-over-pgoptions", "utc-wins"],
)
def test_the_runner_session_merges_the_user_options_with_utc(
    postgres_db, monkeypatch, url_options, pgoptions, expected
):
    from snowgen.runner.connections import connected

    if pgoptions is None:
        monkeypatch.delenv("PGOPTIONS", raising=False)
    else:
        monkeypatch.setenv("PGOPTIONS", pgoptions)
    url = pg_url(postgres_db, "" if url_options is None else "?options=" + quote(url_options))
    with connected(url, Path.cwd()) as connection:
        shown = tuple(
            connection.query(f"SHOW {name}")[0][0] for name in ("statement_timeout", "lock_timeout", "TimeZone")
        )
    assert shown == expected


def test_sources_on_a_read_only_session_is_a_coded_error(deals, postgres_db):
    url = pg_url(postgres_db, "?options=" + quote("-c default_transaction_read_only=on"))
    result = cli("sources", "--db", url)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr == (
        f'snowgen: SG408 the statement CREATE SCHEMA IF NOT EXISTS "mt5_p1" failed on {url}: '
        "cannot execute CREATE SCHEMA in a read-only transaction\n"
    )


def test_sources_without_the_permission_to_create_schemas(deals, postgres_db):
    role = f"snowgen_reader_{os.getpid()}"
    postgres_db.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        result = cli("sources", "--db", pg_url(postgres_db, user=role))
    finally:
        postgres_db.execute(f'DROP ROLE "{role}"')
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith('snowgen: SG408 the statement CREATE SCHEMA IF NOT EXISTS "mt5_p1" failed on ')
    assert result.stderr.endswith(f": permission denied for database {postgres_db.dbname}\n")


def test_the_server_going_away_during_sources(deals, postgres_db):
    with lock_held(postgres_db, "CREATE SCHEMA mt5_p1", terminate_waiters_after=0.2):
        result = cli("sources", "--db", pg_url(postgres_db))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith('snowgen: SG408 the statement CREATE SCHEMA IF NOT EXISTS "mt5_p1" failed on ')
    assert "terminating connection due to administrator command" in result.stderr


def test_the_server_going_away_during_a_run(deals, postgres_db):
    assert cli("sources", "--db", pg_url(postgres_db)).exit_code == 0
    with lock_held(postgres_db, "LOCK TABLE mt5_p1.deals IN ACCESS EXCLUSIVE MODE", terminate_waiters_after=0.2):
        result = cli("run", "--db", pg_url(postgres_db))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert re.search(r"^snowgen: SG408 step \w+ failed \(\S+\.sql\):$", result.stderr, re.M), result.stderr
    assert "terminating connection due to administrator command" in result.stderr


@pytest.mark.parametrize("database", ["duckdb", "postgres"])
def test_manifest_on_a_database_without_the_manifest(deals, postgres_db, database):
    db = "new.duckdb" if database == "duckdb" else pg_url(postgres_db)
    result = cli("manifest", "remove", "stg_deals__p1", "--db", db)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith(
        'snowgen: SG408 the statement DELETE FROM "deals_manifest"."multi_source_deals_watermarks" '
        f"WHERE \"model\" IN ('stg_deals__p1') failed on {db}: "
    )


def test_every_dialect_with_url_schemes_has_a_connector():
    from snowgen.dialects import DIALECTS
    from snowgen.runner.connectors import CONNECTORS

    assert all(cls.connector in CONNECTORS for cls in DIALECTS.values() if cls.url_schemes)
