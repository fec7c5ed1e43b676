"""pytest fixtures of the engine harness (imported by tests/conftest.py).

Session-scoped, one per engine, each an Engine on a namespace of its own for the session:
    postgres_engine, duckdb_engine, snowflake_engine, bigquery_engine, databricks_engine
Function-scoped, an isolated empty namespace per test (``<session engine>.fresh()``, closed and
dropped after the test):
    postgres_db, duckdb_db, snowflake_db, bigquery_db, databricks_db
    engine  -- parametrize indirectly with engine names:
               @pytest.mark.parametrize("engine", ["postgres", "duckdb"], indirect=True)

Isolation: Postgres, a database per test (created, or recycled after a verified reset; see
postgres_engine.py); DuckDB, a new in-memory database; Snowflake (fakesnow), a new login with its
own in-memory database; BigQuery (bqemulator), a project per test; Databricks (Sail), a new Spark
Connect session (own catalog) with its own warehouse directory.

Policy: an engine that is not installed skips its tests, unless SNOWGEN_REQUIRE_ENGINES=1, when it
fails them. Postgres and DuckDB never skip. A server that is installed but does not start fails,
with the tail of its log.
"""

from __future__ import annotations

import atexit
import time
from collections.abc import Callable, Iterator

import pytest

from .base import REQUIRE_ENV, Engine, EngineStartError, EngineUnavailable, engines_required

ENGINE_NAMES = ("postgres", "duckdb", "snowflake", "bigquery", "databricks")
#: engines whose fixtures never skip
ALWAYS_REQUIRED = ("postgres", "duckdb")

#: name -> {"start_s": ..., "version": ..., ...}; shown in pytest's terminal summary
STARTED: dict[str, dict] = {}
#: name -> running server (fakesnow/bqemulator/sail), to report one that died mid-session
SERVERS: dict[str, object] = {}


def _unavailable(name: str, reason: str) -> None:
    if engines_required() or name in ALWAYS_REQUIRED:
        why = "always required" if name in ALWAYS_REQUIRED else f"{REQUIRE_ENV}=1"
        pytest.fail(f"{name} engine unavailable ({why}): {reason}", pytrace=False)
    pytest.skip(f"{name} engine unavailable: {reason}")


def _start_failed(name: str, problem: str) -> None:
    pytest.fail(f"{name} engine did not start: {problem}", pytrace=False)


def _serve(name: str, make_server: Callable, workdir) -> Iterator[Engine]:
    """Start a server (fakesnow/bqemulator/sail) for the session and yield an engine on it."""
    # pytest.skip/fail are called outside the except blocks, so that pytest does not print the
    # caught exception as "During handling of the above exception..." noise.
    problem = None
    try:
        server = make_server(workdir)
    except EngineUnavailable as exc:
        problem = str(exc)
    if problem is not None:
        _unavailable(name, problem)
    atexit.register(server.stop)
    try:
        engine = server.start()
    except EngineStartError as exc:
        server.stop()
        problem = str(exc)
    if problem is not None:
        _start_failed(name, problem)
    STARTED[name] = {"start_s": server.start_seconds, **server.describe()}
    SERVERS[name] = server
    try:
        yield engine
    finally:
        SERVERS.pop(name, None)
        try:
            engine.close()
        finally:
            server.stop()


# -- session engines ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    from . import postgres_engine as pg

    t0 = time.monotonic()
    problem = None
    try:
        admin, cluster = pg.start_session()
    except EngineStartError as exc:
        problem = str(exc)
    except ImportError as exc:  # psycopg missing
        problem = f"{exc} (pip install 'psycopg[binary]')"
    if problem is not None:
        _start_failed("postgres", problem)
    if cluster is not None:
        atexit.register(cluster.stop)
    try:
        engine = admin.fresh()
        version = engine.query("SHOW server_version")[0][0]
        STARTED["postgres"] = {
            "start_s": time.monotonic() - t0,
            "version": version,
            "port": cluster.port if cluster else None,
            "log": str(cluster.log_path) if cluster else "(SNOWGEN_PG_DSN)",
        }
        yield engine
        engine.close()
    finally:
        admin.close()
        if cluster is not None:
            cluster.stop()


@pytest.fixture(scope="session")
def duckdb_engine() -> Iterator[Engine]:
    problem = None
    try:
        import duckdb

        from .duckdb_engine import DuckDBEngine
    except ImportError as exc:
        problem = str(exc)
    if problem is not None:
        _unavailable("duckdb", problem)
    t0 = time.monotonic()
    engine = DuckDBEngine()
    STARTED["duckdb"] = {"start_s": time.monotonic() - t0, "version": duckdb.__version__}
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def snowflake_engine(tmp_path_factory) -> Iterator[Engine]:
    from .snowflake_engine import FakesnowServer

    yield from _serve("snowflake", FakesnowServer, tmp_path_factory.mktemp("fakesnow"))


@pytest.fixture(scope="session")
def bigquery_engine(tmp_path_factory) -> Iterator[Engine]:
    from .bigquery_engine import BqEmulatorServer

    yield from _serve("bigquery", BqEmulatorServer, tmp_path_factory.mktemp("bqemulator"))


@pytest.fixture(scope="session")
def databricks_engine(tmp_path_factory) -> Iterator[Engine]:
    from .databricks_engine import SailServer

    yield from _serve("databricks", SailServer, tmp_path_factory.mktemp("sail"))


# -- per-test isolated engines -----------------------------------------------------------------
def _fresh(session_engine: Engine) -> Iterator[Engine]:
    server = SERVERS.get(session_engine.name)
    if server is not None and not server.process.alive():
        pytest.fail(str(server.process.failure("died during the test session")), pytrace=False)
    engine = session_engine.fresh()
    try:
        yield engine
    finally:
        engine.close()


@pytest.fixture
def postgres_db(postgres_engine) -> Iterator[Engine]:
    yield from _fresh(postgres_engine)


@pytest.fixture
def duckdb_db(duckdb_engine) -> Iterator[Engine]:
    yield from _fresh(duckdb_engine)


@pytest.fixture
def snowflake_db(snowflake_engine) -> Iterator[Engine]:
    yield from _fresh(snowflake_engine)


@pytest.fixture
def bigquery_db(bigquery_engine) -> Iterator[Engine]:
    yield from _fresh(bigquery_engine)


@pytest.fixture
def databricks_db(databricks_engine) -> Iterator[Engine]:
    yield from _fresh(databricks_engine)


@pytest.fixture
def engine(request) -> Iterator[Engine]:
    """An isolated engine named by indirect parametrization (one of ENGINE_NAMES)."""
    name = getattr(request, "param", None)
    if name not in ENGINE_NAMES:
        raise pytest.UsageError(
            f"the 'engine' fixture needs @pytest.mark.parametrize('engine', [...], indirect=True) "
            f"with names from {ENGINE_NAMES}; got {name!r}"
        )
    yield from _fresh(request.getfixturevalue(f"{name}_engine"))


# -- reporting -----------------------------------------------------------------------------------
def pytest_terminal_summary(terminalreporter) -> None:
    if not STARTED:
        return
    terminalreporter.section("engines")
    for name, info in STARTED.items():
        start = info.get("start_s")
        start_txt = f"started in {start:.2f} s" if start is not None else ""
        extra = ", ".join(f"{k}={v}" for k, v in info.items() if k != "start_s" and v is not None)
        terminalreporter.write_line(f"{name:<11} {start_txt}  {extra}")
