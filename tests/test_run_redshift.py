"""`snowgen run`'s Redshift connector: the real redshift_connector against the PostgreSQL
server of the tests (no Redshift runs here), through the bridge named in
tests/support/redshift_proxy.py. Covered: connecting (URL, or a target's settings alone),
autocommit with the compiled SQL's own transactions (one that commits, one that fails and
is rolled back with the connection usable after), the errors of opening and of a step
(SG405, SG408 naming the step, never the password). Of the compiled Redshift plan only the
schema step runs on PostgreSQL: every table after it is created with Redshift's own types
(VARCHAR(MAX)), which PostgreSQL refuses, and the test says so."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.redshift_proxy import StartupRewritingProxy

from snowgen.cli import main
from snowgen.errors import SnowgenError
from snowgen.runner.connections import connected

SPECS = Path(__file__).resolve().parents[1] / "model_specs"
SECRET = "Rs-s3cr3t/pw"


@pytest.fixture
def proxy(postgres_db):
    proxy = StartupRewritingProxy(postgres_db.conn.info.host, postgres_db.conn.info.port)
    yield proxy
    proxy.close()


def redshift_url(postgres_db, proxy, password: str | None = None, query: str = "ssl=false") -> str:
    info = postgres_db.conn.info
    secret = f":{password.replace('/', '%2F')}" if password else ""
    return f"redshift://{info.user}{secret}@127.0.0.1:{proxy.port}/{info.dbname}?{query}"


@pytest.fixture
def deals(tmp_path, monkeypatch):
    root = tmp_path / "multi_source_deals"
    shutil.copytree(SPECS / "multi_source_deals", root)
    monkeypatch.chdir(root)
    (tmp_path / "profiles.yml").write_text("{}\n")
    monkeypatch.setenv("SNOWGEN_PROFILES_DIR", str(tmp_path))
    return root


def test_a_transaction_commits(postgres_db, proxy):
    with connected(redshift_url(postgres_db, proxy), Path.cwd()) as connection:
        assert connection.query("SELECT 1") == [(1,)]
        connection.execute("BEGIN")
        connection.execute("CREATE TABLE committed (a INT)")
        assert connection.execute("INSERT INTO committed VALUES (1), (2)") == 2
        connection.execute("COMMIT")
    assert postgres_db.query("SELECT a FROM committed ORDER BY a") == [(1,), (2,)]  # another session sees it


def test_a_failed_transaction_is_rolled_back_and_the_connection_stays_usable(postgres_db, proxy):
    postgres_db.execute("CREATE TABLE kept (a INT)")
    with connected(redshift_url(postgres_db, proxy), Path.cwd()) as connection:
        connection.execute("BEGIN")
        connection.execute("INSERT INTO kept VALUES (1)")
        with pytest.raises(connection.errors) as failed:
            connection.execute("INSERT INTO kept VALUES ('not a number')")
        assert str(failed.value) == 'invalid input syntax for type integer: "not a number" (SQLSTATE 22P02)'
        connection.recover()
        assert connection.query("SELECT COUNT(*) FROM kept") == [(0,)]
        assert connection.execute("INSERT INTO kept VALUES (3)") == 1  # autocommit again
    assert postgres_db.query("SELECT a FROM kept") == [(3,)]


def test_a_run_reports_the_failing_step_without_the_password(deals, postgres_db, proxy):
    result = CliRunner().invoke(main, ["run", "--db", redshift_url(postgres_db, proxy, SECRET)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    # the first statements of the lock step ran on PostgreSQL: SET timezone, CREATE SCHEMA
    assert "snowgen: SG408 step acquire_lock failed (01_setup/01_acquire_lock.sql):" in result.stderr
    assert 'syntax error at or near "MAX" (SQLSTATE 42601)' in result.stderr
    assert "s3cr3t" not in result.output and postgres_db.query(
        "SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'deals_manifest'"
    ) == [("deals_manifest",)]


def test_a_target_with_settings_alone_connects(deals, postgres_db, proxy, monkeypatch):
    info = postgres_db.conn.info
    monkeypatch.setenv("SNOWGEN_TEST_REDSHIFT_PASSWORD", SECRET)
    path = deals / "snowgen.yml"
    text = path.read_text()
    path.write_text(
        text[: text.index("targets:")] + "targets:\n  prod:\n    dialect: redshift\n    connection:\n"
        f"      host: 127.0.0.1\n      port: {proxy.port}\n      database: {info.dbname}\n      user: {info.user}\n"
        "      password: \"{{ env_var('SNOWGEN_TEST_REDSHIFT_PASSWORD') }}\"\n      ssl: false\n"
    )
    result = CliRunner().invoke(main, ["run", "--target", "prod"])
    assert "running multi_source_deals on redshift://" in result.stderr
    assert "SG408 step acquire_lock failed" in result.stderr and "s3cr3t" not in result.output


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("ssl=false&bogus_setting=1", "got an unexpected keyword argument 'bogus_setting'"),
        ("ssl=false&timeout=5&port=1", ""),
    ],
    ids=["unknown-setting", "refused"],
)
def test_opening_errors_are_sg405_without_the_password(postgres_db, proxy, query, message):
    url = redshift_url(postgres_db, proxy, SECRET, query)
    with pytest.raises(SnowgenError) as caught, connected(url, Path.cwd()):
        pass
    text = caught.value.format()
    assert text.startswith("snowgen: SG405 cannot connect to redshift://") and message in text
    assert "s3cr3t" not in text
