"""BigQuery, emulated by bqemulator (REST API on DuckDB + sqlglot) from ``.venv-bq``.

The test process talks to it with the real ``google-cloud-bigquery`` client (anonymous
credentials, emulator endpoint). Isolation: every ``fresh()`` engine works in a project of its
own (the emulator keeps projects apart: a table of another project is "Access Denied"); its
datasets are deleted on close. Table names must be dataset-qualified, as in real BigQuery.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path
from typing import Any

from .base import Engine, ServerProcess, import_client, venv_bin, venv_package_version, wait_until

VENV = ".venv-bq"
SESSION_PROJECT = "snowgen-session"

_counter = itertools.count(1)


class BigQueryEngine(Engine):
    name = "bigquery"
    sqlglot_dialect = "bigquery"

    def __init__(self, endpoint: str, project: str = SESSION_PROJECT, cleanup: bool = False):
        bigquery = import_client("google.cloud.bigquery", "google-cloud-bigquery")
        from google.api_core.client_options import ClientOptions
        from google.api_core.exceptions import GoogleAPIError
        from google.auth.credentials import AnonymousCredentials

        self._errors = (GoogleAPIError,)
        self.endpoint = endpoint
        self.project = project
        self._cleanup = cleanup
        self.client = bigquery.Client(
            project=project,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=endpoint),
        )

    def _run(self, sql: str, fetch: bool) -> list[tuple] | None:
        result = self.client.query(sql).result()
        if fetch:
            return [tuple(row.values()) for row in result]
        return None

    def execute_script(self, sql_text: str) -> None:
        """Send the whole file as ONE query job (a BigQuery multi-statement script)."""
        self._checked(sql_text, fetch=False)

    def query_script(self, sql_text: str) -> list[tuple]:
        """One script job; BigQuery returns the rows of the script's last statement."""
        return self._checked(sql_text, fetch=True)

    def fresh(self) -> BigQueryEngine:
        return BigQueryEngine(self.endpoint, f"snowgen-t{os.getpid()}-{next(_counter)}", cleanup=True)

    def _close(self) -> None:
        try:
            if self._cleanup:
                for dataset in self.client.list_datasets():
                    self.client.delete_dataset(dataset.reference, delete_contents=True, not_found_ok=True)
        finally:
            self.client.close()


class BqEmulatorServer:
    def __init__(self, workdir: Path):
        program = venv_bin(VENV, "bqemulator")
        import_client("google.cloud.bigquery", "google-cloud-bigquery")
        self.version = venv_package_version(VENV, "bqemulator")
        self.process = ServerProcess(
            "bqemulator",
            [program, "start", "--rest-host", "127.0.0.1", "--rest-port", "0",
             "--grpc-host", "127.0.0.1", "--grpc-port", "0",
             "--ephemeral", "--project", SESSION_PROJECT, "--log-level", "info", "--log-format", "json"],
            workdir,
        )  # fmt: skip
        self.process.hint = (
            "(if the log says the spatial extension failed to download: run scripts/setup-engines, which "
            "copies it from the duckdb-extension-spatial wheel into ~/.duckdb/extensions)"
        )
        self.start_seconds: float | None = None

    def start(self) -> BigQueryEngine:
        t0 = time.monotonic()
        port = self.process.start(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", timeout=60)
        engine = BigQueryEngine(f"http://127.0.0.1:{port}")
        wait_until(lambda: engine.query("SELECT 1"), 30, "SELECT 1", self.process)
        self.start_seconds = time.monotonic() - t0
        return engine

    def stop(self) -> None:
        self.process.stop()

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, "port": self.process.port, "log": str(self.process.log_path)}
