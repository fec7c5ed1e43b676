"""DuckDB, the embedded local target.

- No physical layout at all: partition, cluster, sort and dist hints render nothing.
- Upserts: delete+insert inside one transaction by default (MERGE is available too;
  its SET targets must be unqualified, which snowgen always builds).
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.dialects.base import Dialect


class DuckDB(Dialect):
    name = "duckdb"
    sqlglot_dialect = "duckdb"
    docs = {
        "merge": "https://duckdb.org/docs/stable/sql/statements/merge_into",
        "timestamp_tz": "https://duckdb.org/docs/stable/sql/functions/timestamptz",
        "regexp": "https://duckdb.org/docs/stable/sql/functions/regular_expressions",
        "transactions": "https://duckdb.org/docs/stable/sql/statements/transactions",
    }
    types = {**Dialect.types, "string": "VARCHAR", "double": "DOUBLE"}
    # delete+insert in a BEGIN ... COMMIT transaction (docs["transactions"]); MERGE INTO, its
    # SET targets unqualified, on request (docs["merge"])
    default_upsert = "delete_insert"
    context_storage = "table"

    url_schemes = ("duckdb",)  # duckdb:///relative.duckdb (to the project), duckdb:////abs.duckdb
    connector = "duckdb_file"
    supports_similar_to = False  # DuckDB matches SIMILAR TO as a whole regular expression
    # Inherited: regex_contains prints REGEXP_MATCHES, true if the pattern is found anywhere
    # in the string (RE2): docs["regexp"]

    def sized_string(self, length: int) -> exp.DataType:
        return exp.DataType.build("VARCHAR")  # DuckDB ignores VARCHAR lengths

    def now_utc(self) -> exp.Expr:
        # current_timestamp is a TIMESTAMPTZ; AT TIME ZONE 'UTC' gives its UTC wall clock as a
        # TIMESTAMP: docs["timestamp_tz"]
        return exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=exp.Literal.string("UTC"))
