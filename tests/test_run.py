"""`snowgen run`, `snowgen sources` and `snowgen manifest` on real databases (a DuckDB file
in the project, and the PostgreSQL 15 server of the test session)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from decimal import Decimal
from pathlib import Path

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


def add_deal(db: Path, server: str, number: int, comment: str = "ok") -> None:
    row = {
        "deal": number, "login": 1, "timemsc": dt.datetime(2024, 3, 1, 10, number), "symbol": "EURUSD", "action": 0,
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
    assert re.search(r"\[\d+/\d+\] \|#+-*\| inter_deals +\d+\.\d\d s", result.stderr) and re.search(r"done: \d+ steps", result.stderr)
    assert deals_in(deals / "snowgen.duckdb") == [("p1", 1, "ok")]


def test_a_failed_run_names_the_step_and_a_second_run_resumes(deals):
    result = cli("run")  # no source tables yet: the first staging view fails
    assert result.exit_code == 1
    assert re.search(r"snowgen: step stg_deals__p1 failed \(\d\d_staging/01_stg_deals__p1.sql\):", result.stderr)
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
    assert postgres_db.query('select server_source, deal, comment from deals.inter_deals') == [("p3", 5, "pg")]


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


def test_manifest_rewind_warns_when_catching_up_takes_several_runs(monkeypatch):
    monkeypatch.chdir(SPECS / "snowplow_web")
    result = cli("manifest", "rewind", "snowplow_web_users", "--to", "2000-01-01", "--dialect", "postgres")
    assert result.exit_code == 0
    assert "CAST('2000-01-01 00:00:00' AS TIMESTAMP)" in result.stdout
    assert "snowgen: warning: catching up from 2000-01-01" in result.stderr and "backfill_limit_days 30" in result.stderr


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
        assert con.execute("select * from deals_manifest.multi_source_deals_watermarks order by all").fetchall() == watermarks


def test_run_backfill_needs_its_range(deals):
    result = cli("run", "--backfill", "p1", "--from", "2024-03-01")
    assert result.exit_code == 2
    assert "SG403 --backfill, --from and --to go together; missing --to" in result.stderr


def test_the_live_progress_line_names_the_running_statement():
    from io import StringIO

    from snowgen.runner.execute import PlannedStep, StepResult
    from snowgen.runner.progress import RunProgress

    steps = [PlannedStep("setup", "01.sql", ["a", "b"]), PlannedStep("load", "02.sql", ["c"])]
    out = StringIO()
    progress = RunProgress(steps, out, live=True)
    progress.starting(steps[0], 1)
    assert out.getvalue() == "\r  [1/2] |--------------------| setup (statement 2/2)\x1b[K"
    progress.finished(StepResult(steps[0], 1.5))
    assert out.getvalue().endswith("\r  [1/2] |##########----------| setup    1.50 s\x1b[K\n")
