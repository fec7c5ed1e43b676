"""No secret is ever printed: a password given in the URL, in a target from an environment
variable, or in the profiles file, on success and on every failure path the tests can
provoke (a host that does not answer, refused authentication, a failing statement, a
failing close, a bad setting), on Postgres and on Snowflake (the real client against
fakesnow's server). The secret is chosen so that its URL-encoded spelling differs too."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from support import fakesnow_bridge

from snowgen.cli import main
from snowgen.runner import connectors
from snowgen.runner.connectors import OpenDatabase

SPECS = Path(__file__).resolve().parents[1] / "model_specs"
SECRET = "Zq7-s3cr3t/pw@x"
SPELLINGS = (SECRET, quote(SECRET, safe=""), "s3cr3t")
PASSWORD_VARIABLE = "SNOWGEN_TEST_SECRET"
GIVEN = ["url", "env", "profiles"]
UNUSED_PORT = 1  # nothing listens there: the connection is refused


@pytest.fixture
def deals(tmp_path, monkeypatch):
    root = tmp_path / "multi_source_deals"
    shutil.copytree(SPECS / "multi_source_deals", root)
    monkeypatch.chdir(root)
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "profiles.yml").write_text("{}\n")
    monkeypatch.setenv("SNOWGEN_PROFILES_DIR", str(tmp_path / "profiles"))
    return root


def run_cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    for text in (result.stdout, result.stderr):
        for spelling in SPELLINGS:
            assert spelling not in text, text
    assert "Traceback" not in result.output
    return result


def place_password(root: Path, given: str, dialect: str, url: str, monkeypatch, extra: str = "") -> list[str]:
    """The command-line arguments that name the database of ``url`` with SECRET as its
    password, given as ``given`` says; ``extra``: more connection settings of the target."""
    if given == "url":
        user_part, rest = url.split("@", 1)
        _write_target(root, f"{{dialect: {dialect}, connection: {{{extra}}}}}")
        return ["--target", "prod", "--db", f"{user_part}:{quote(SECRET, safe='')}@{rest}"]
    if given == "env":
        monkeypatch.setenv(PASSWORD_VARIABLE, SECRET)
        password = f"password: \"{{{{ env_var('{PASSWORD_VARIABLE}') }}}}\""
        _write_target(
            root, f"{{dialect: {dialect}, db: '{url}', connection: {{{password}{', ' if extra else ''}{extra}}}}}"
        )
        return ["--target", "prod"]
    _write_target(root, f"{{dialect: {dialect}, db: '{url}', connection: {{{extra}}}}}")
    (root.parent / "profiles" / "profiles.yml").write_text(
        f"multi_source_deals: {{targets: {{prod: {{connection: {{password: '{SECRET}'}}}}}}}}\n"
    )
    return ["--target", "prod"]


def with_password(url: str, password: str) -> str:
    user_part, rest = url.split("@", 1)
    return f"{user_part}:{password}@{rest}"


def _write_target(root: Path, target: str) -> None:
    path = root / "snowgen.yml"
    text = path.read_text()
    path.write_text(text[: text.index("targets:")] + f"targets:\n  prod: {target}\n")


def failing_close(connector: str, monkeypatch) -> None:
    """The connection's close fails with an error that quotes the password back (as drivers
    that print their connection string do)."""
    opener = connectors.CONNECTORS[connector]

    def opened_with_failing_close(url, base, settings) -> OpenDatabase:
        opened = opener(url, base, settings)
        driver, error = opened.driver, opened.errors[0]

        def close() -> None:
            driver.connection.close()
            raise error(f"connection to {url} (password {settings.get('password', SECRET)}) lost on close")

        driver.close = close
        return opened

    monkeypatch.setitem(connectors.CONNECTORS, connector, opened_with_failing_close)


# -- Postgres ----------------------------------------------------------------------------------------------


def pg_url(postgres_db, user: str | None = None, port: int | None = None) -> str:
    info = postgres_db.conn.info
    return f"postgresql://{user or info.user}@{info.host}:{port or info.port}/{info.dbname}"


@pytest.mark.parametrize("given", GIVEN)
def test_postgres_success(deals, postgres_db, monkeypatch, given):
    args = place_password(deals, given, "postgres", pg_url(postgres_db), monkeypatch)
    assert run_cli("sources", "--db", pg_url(postgres_db)).exit_code == 0
    result = run_cli("run", *args)
    assert result.exit_code == 0, result.output
    assert "deals.inter_deals" in result.stdout


@pytest.mark.parametrize("given", GIVEN)
def test_postgres_host_that_refuses(deals, postgres_db, monkeypatch, given):
    args = place_password(deals, given, "postgres", pg_url(postgres_db, port=UNUSED_PORT), monkeypatch)
    result = run_cli("run", *args)
    assert result.exit_code == 2 and "SG405 cannot connect to postgresql://" in result.stderr


@pytest.mark.parametrize("given", GIVEN)
def test_postgres_refused_authentication(deals, postgres_db, monkeypatch, given):
    args = place_password(deals, given, "postgres", pg_url(postgres_db, user="snowgen_nobody"), monkeypatch)
    result = run_cli("run", *args)
    assert result.exit_code == 2 and 'role "snowgen_nobody" does not exist' in result.stderr


@pytest.mark.parametrize("given", GIVEN)
def test_postgres_failing_statement(deals, postgres_db, monkeypatch, given):
    args = place_password(deals, given, "postgres", pg_url(postgres_db), monkeypatch)
    result = run_cli("run", *args)  # no source tables
    assert result.exit_code == 1 and "SG408 step" in result.stderr


@pytest.mark.parametrize("given", GIVEN)
def test_postgres_failing_close(deals, postgres_db, monkeypatch, given):
    args = place_password(deals, given, "postgres", pg_url(postgres_db), monkeypatch)
    assert run_cli("sources", "--db", pg_url(postgres_db)).exit_code == 0
    failing_close("libpq", monkeypatch)
    result = run_cli("run", *args)
    assert result.exit_code == 2 and "SG408 closing the connection failed" in result.stderr
    assert "(password ***) lost on close" in result.stderr


@pytest.mark.parametrize("given", GIVEN)
def test_postgres_bad_setting(deals, postgres_db, monkeypatch, given):
    args = place_password(deals, given, "postgres", pg_url(postgres_db), monkeypatch, extra="bogus_option: 1")
    result = run_cli("run", *args)
    assert result.exit_code == 2 and 'invalid connection option "bogus_option"' in result.stderr


# -- Snowflake (the real client against fakesnow's server) ---------------------------------------------------


@pytest.fixture
def fakesnow_port(snowflake_engine, monkeypatch) -> int:
    fakesnow_bridge.bridge(monkeypatch)
    return snowflake_engine.port


@pytest.mark.parametrize("given", GIVEN)
def test_snowflake_success(deals, fakesnow_port, monkeypatch, given):
    url = fakesnow_bridge.snowflake_url(fakesnow_port, fakesnow_bridge.database_name())
    args = place_password(deals, given, "snowflake", url, monkeypatch)
    assert run_cli("sources", "--db", with_password(url, "sources-pw")).exit_code == 0
    result = run_cli("run", *args)
    assert result.exit_code == 0, result.output
    assert "deals.inter_deals" in result.stdout


@pytest.mark.parametrize("given", GIVEN)
def test_snowflake_host_that_refuses(deals, fakesnow_port, monkeypatch, given):
    url = fakesnow_bridge.snowflake_url(UNUSED_PORT, "ANY").replace("login_timeout=30", "login_timeout=5")
    args = place_password(deals, given, "snowflake", url, monkeypatch)
    result = run_cli("run", *args)
    assert result.exit_code == 2 and "Could not connect to Snowflake backend" in result.stderr


@contextmanager
def refusing_login_server() -> Iterator[int]:
    """An HTTP server that answers every login as Snowflake does a wrong password."""

    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = {"data": None, "code": "390100", "success": False,
                    "message": "Incorrect username or password was specified."}  # fmt: skip
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("given", GIVEN)
def test_snowflake_refused_authentication(deals, fakesnow_port, monkeypatch, given):
    with refusing_login_server() as port:
        args = place_password(deals, given, "snowflake", fakesnow_bridge.snowflake_url(port, "ANY"), monkeypatch)
        result = run_cli("run", *args)
    assert result.exit_code == 2 and "Incorrect username or password was specified" in result.stderr


@pytest.mark.parametrize("given", GIVEN)
def test_snowflake_failing_statement(deals, fakesnow_port, monkeypatch, given):
    url = fakesnow_bridge.snowflake_url(fakesnow_port, fakesnow_bridge.database_name())
    args = place_password(deals, given, "snowflake", url, monkeypatch)
    result = run_cli("run", *args)  # no source tables
    assert result.exit_code == 1 and "SG408 step" in result.stderr


@pytest.mark.parametrize("given", GIVEN)
def test_snowflake_failing_close(deals, fakesnow_port, monkeypatch, given):
    url = fakesnow_bridge.snowflake_url(fakesnow_port, fakesnow_bridge.database_name())
    args = place_password(deals, given, "snowflake", url, monkeypatch)
    assert run_cli("sources", "--db", with_password(url, "sources-pw")).exit_code == 0
    failing_close("snowflake_connector", monkeypatch)
    result = run_cli("run", *args)
    assert result.exit_code == 2 and "SG408 closing the connection failed" in result.stderr
    assert "(password ***) lost on close" in result.stderr


@pytest.mark.parametrize("given", GIVEN)
def test_snowflake_bad_setting(deals, fakesnow_port, monkeypatch, given):
    url = fakesnow_bridge.snowflake_url(fakesnow_port, "ANY").replace("&login_timeout=30", "")
    args = place_password(deals, given, "snowflake", url, monkeypatch, extra="login_timeout: soon")
    result = run_cli("run", *args)
    assert result.exit_code == 2 and "SG405 cannot connect to snowflake://etl" in result.stderr
    assert "invalid literal for int() with base 10: 'soon'" in result.stderr
