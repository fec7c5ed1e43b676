"""DuckDB, embedded. Isolation: every ``fresh()`` engine is a new in-memory database."""

from __future__ import annotations

from .base import Engine


class DuckDBEngine(Engine):
    name = "duckdb"
    sqlglot_dialect = "duckdb"

    def __init__(self, database: str = ":memory:"):
        import duckdb

        self._errors = (duckdb.Error,)
        self.conn = duckdb.connect(database)
        self.conn.execute("SET TimeZone = 'UTC'")

    def _run(self, sql: str, fetch: bool) -> list[tuple] | None:
        cursor = self.conn.execute(sql)
        if fetch and cursor.description is not None:
            return cursor.fetchall()
        return None

    def fresh(self) -> DuckDBEngine:
        return DuckDBEngine()

    def _close(self) -> None:
        self.conn.close()
