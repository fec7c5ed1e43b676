"""Snowflake, emulated by fakesnow running as an HTTP server from ``.venv-fakesnow``.

The test process talks to it with the real ``snowflake-connector-python`` (<5) over HTTP.
Isolation: every ``fresh()`` engine is a new login with the session parameter
``FAKESNOW_DB_PATH=":isolated:"``, which gives that connection its own in-memory DuckDB.
Each connection starts in database SNOWGEN_TEST, schema PUBLIC (fakesnow creates both).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .base import (
    EXCEPTION_LINE,
    Engine,
    EngineError,
    ServerProcess,
    import_client,
    log_tail,
    venv_bin,
    venv_package_version,
    wait_until,
)

VENV = ".venv-fakesnow"
DATABASE = "SNOWGEN_TEST"


class SnowflakeEngine(Engine):
    name = "snowflake"
    sqlglot_dialect = "snowflake"

    def __init__(self, port: int, server_log: Path | None = None, database: str = DATABASE, schema: str = "PUBLIC"):
        connector = import_client("snowflake.connector", "'snowflake-connector-python<5'")
        self._errors = (connector.Error,)
        self._internal_error = connector.errors.InternalServerError
        self.port = port
        self.server_log = server_log
        self.conn = connector.connect(
            user="fake",
            password="snow",
            account="fakesnow",
            host="127.0.0.1",
            port=port,
            protocol="http",
            database=database,
            schema=schema,
            session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False, "FAKESNOW_DB_PATH": ":isolated:"},
            login_timeout=30,
            # network_timeout only bounds RETRIES (fakesnow answers a statement it crashes on with
            # HTTP 500, which the connector would retry for as long as this allows); the wait for
            # one response is socket_timeout.
            network_timeout=1,
            socket_timeout=600,
        )

    def _run(self, sql: str, fetch: bool) -> list[tuple] | None:
        with self.conn.cursor() as cur:
            try:
                cur.execute(sql)
            except self._internal_error as exc:
                # fakesnow crashed on the statement (HTTP 500): the reason is only in its log
                raise EngineError(self.name, sql, exc, detail=self._last_server_error()) from exc
            if fetch and cur.description is not None:
                return [tuple(row) for row in cur.fetchall()]
        return None

    def _last_server_error(self) -> str:
        if self.server_log is None:
            return ""
        errors = [line for line in log_tail(self.server_log, 200).splitlines() if EXCEPTION_LINE.match(line)]
        return f"fakesnow log: {errors[-1]}" if errors else f"see {self.server_log}"

    def fresh(self) -> SnowflakeEngine:
        return SnowflakeEngine(self.port, self.server_log)

    def _close(self) -> None:
        self.conn.close()


class FakesnowServer:
    def __init__(self, workdir: Path):
        program = venv_bin(VENV, "fakesnow")
        import_client("snowflake.connector", "'snowflake-connector-python<5'")
        self.version = venv_package_version(VENV, "fakesnow")
        self.process = ServerProcess("fakesnow", [program, "-s", "--host", "127.0.0.1"], workdir)
        self.start_seconds: float | None = None

    def start(self) -> SnowflakeEngine:
        t0 = time.monotonic()
        port = self.process.start(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", timeout=60)
        engine = wait_until(lambda: SnowflakeEngine(port, self.process.log_path), 30, "a login", self.process)
        engine.query("SELECT 1")
        self.start_seconds = time.monotonic() - t0
        return engine

    def stop(self) -> None:
        import signal

        self.process.stop(signal.SIGINT)  # fakesnow -s waits for SIGINT

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, "port": self.process.port, "log": str(self.process.log_path)}
