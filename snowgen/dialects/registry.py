"""The dialect classes, by name: the one registry a new dialect adds a line to (and its name
to :data:`snowgen.dialects.NAMES`)."""

from __future__ import annotations

from snowgen.dialects.base import Dialect
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
