"""Databricks, emulated by Sail (pysail: a Spark Connect server in Rust with native Delta tables)
running from ``.venv-sail``.

The test process talks to it with ``pyspark-client`` 4.0 (Spark Connect client), which is
installed in the main venv (``pip check`` is clean there). Isolation: every ``fresh()`` engine is
a new Spark Connect session (Sail keeps one catalog per session) with its own warehouse
directory (an absolute ``file:///`` path, which Sail needs), removed on close.
"""

from __future__ import annotations

import itertools
import shutil
import time
from pathlib import Path
from typing import Any

from .base import Engine, ServerProcess, import_client, venv_bin, venv_package_version, wait_until

VENV = ".venv-sail"

_counter = itertools.count(1)


class DatabricksEngine(Engine):
    name = "databricks"
    sqlglot_dialect = "databricks"

    def __init__(self, url: str, warehouse: Path, owns_warehouse: bool = True):
        import_client("pyspark.sql.connect.session", "'pyspark-client==4.0.*'")
        from pyspark.errors import PySparkException
        from pyspark.sql import SparkSession

        self._errors = (PySparkException,)
        self.url = url
        self.warehouse = warehouse
        self._owns_warehouse = owns_warehouse
        warehouse.mkdir(parents=True, exist_ok=True)
        self.spark = SparkSession.builder.remote(url).create()
        # Reattachable execution releases results through a thread pool shared by ALL sessions,
        # which any session's close() (also its __del__, at any GC) shuts down: with many
        # short-lived sessions that deadlocked in ThreadPoolExecutor.submit/shutdown. Loopback
        # needs no reattaching.
        self.spark.client.disable_reattachable_execute()
        self.spark.conf.set("spark.sql.warehouse.dir", warehouse.resolve().as_uri())
        self.spark.conf.set("spark.sql.session.timeZone", "UTC")

    def _run(self, sql: str, fetch: bool) -> list[tuple] | None:
        rows = self.spark.sql(sql).collect()
        return [tuple(row) for row in rows] if fetch else None

    def fresh(self) -> DatabricksEngine:
        return DatabricksEngine(self.url, self.warehouse.parent / f"wh{next(_counter)}")

    def _close(self) -> None:
        try:
            self.spark.stop()
        finally:
            if self._owns_warehouse:
                shutil.rmtree(self.warehouse, ignore_errors=True)


class SailServer:
    def __init__(self, workdir: Path):
        program = venv_bin(VENV, "sail")
        import_client("pyspark.sql.connect.session", "'pyspark-client==4.0.*'")
        self.version = venv_package_version(VENV, "pysail")
        self.workdir = workdir
        self.process = ServerProcess(
            "sail", [program, "spark", "server", "--ip", "127.0.0.1", "--port", "0", "-C", workdir], workdir
        )
        self.start_seconds: float | None = None

    def start(self) -> DatabricksEngine:
        t0 = time.monotonic()
        port = self.process.start(r"Spark Connect server on 127\.0\.0\.1:(\d+)", timeout=60)
        url = f"sc://127.0.0.1:{port}"
        engine = wait_until(lambda: DatabricksEngine(url, self.workdir / "wh0"), 30, "a session", self.process)
        wait_until(lambda: engine.query("SELECT 1"), 30, "SELECT 1", self.process)
        self.start_seconds = time.monotonic() - t0
        return engine

    def stop(self) -> None:
        self.process.stop()

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, "port": self.process.port, "log": str(self.process.log_path)}
