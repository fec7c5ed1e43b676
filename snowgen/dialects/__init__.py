"""Every warehouse snowgen compiles for. The one place dialects are named."""

from __future__ import annotations

import difflib

from snowgen.dialects.base import Dialect, Unsupported
from snowgen.dialects.bigquery import BigQuery
from snowgen.dialects.databricks import Databricks
from snowgen.dialects.duckdb import DuckDB
from snowgen.dialects.postgres import Postgres
from snowgen.dialects.redshift import Redshift
from snowgen.dialects.snowflake import Snowflake

DIALECTS: dict[str, type[Dialect]] = {
    "redshift": Redshift,
    "bigquery": BigQuery,
    "snowflake": Snowflake,
    "databricks": Databricks,
    "postgres": Postgres,
    "duckdb": DuckDB,
}

#: sqlglot dialect names accepted for SQL bodies (``sql_dialect``), beyond the targets.
BODY_DIALECTS: tuple[str, ...] = tuple(cls.sqlglot_dialect for cls in DIALECTS.values()) + ("spark", "trino")


def get_dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]()
    except KeyError:
        raise KeyError(unknown_dialect_message(name)) from None


def unknown_dialect_message(name: str) -> str:
    hint = difflib.get_close_matches(name, list(DIALECTS), n=1)
    message = f"unknown dialect '{name}'"
    if hint:
        return f"{message} (did you mean '{hint[0]}'?)"
    return f"{message}; choose one of {', '.join(DIALECTS)}"


__all__ = ["DIALECTS", "BODY_DIALECTS", "Dialect", "Unsupported", "get_dialect", "unknown_dialect_message"]
