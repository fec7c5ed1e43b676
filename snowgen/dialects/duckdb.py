"""DuckDB, the embedded local target.

- No physical layout at all: partition, cluster, sort and dist hints render nothing.
- Upserts: delete+insert inside one transaction by default (MERGE is available too;
  its SET targets must be unqualified, which snowgen always builds).
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.dialects.base import ARRAY_ITEM_SEPARATOR, Dialect
from snowgen.dialects.grants import GrantSpelling
from snowgen.dialects.shared import not_null_filter, object_agg_parts, removes_nulls


def _without_nulls(node: exp.ArrayRemove) -> exp.Expr:
    """``array_remove(x, NULL)``: sqlglot prints LIST_FILTER(x, u -> u <> NULL), which keeps
    nothing; LIST_FILTER(x, u -> u IS NOT NULL) keeps the values (docs["list_filter"])."""
    return not_null_filter(node.this) if removes_nulls(node) else node


def _json_object(node: exp.JSONObjectAgg) -> exp.Expr:
    """``json_object_agg(k, v ORDER BY ...)``: sqlglot prints JSON_GROUP_OBJECT, a macro
    that takes no ORDER BY (docs["json_group_object"]); TO_JSON of a MAP made from the
    ordered entries keeps the order (docs["map_from_entries"])."""
    key, value, order = object_agg_parts(node)
    entry = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier("key"), expression=key.copy()),
            exp.PropertyEQ(this=exp.to_identifier("value"), expression=value.copy()),
        ]
    )
    entries = exp.ArrayAgg(this=exp.Order(this=entry, expressions=[o.copy() for o in order]) if order else entry)
    return exp.Anonymous(this="TO_JSON", expressions=[exp.MapFromEntries(this=entries)])


class DuckDB(Dialect):
    name = "duckdb"
    sqlglot_dialect = "duckdb"
    docs = {
        "merge": "https://duckdb.org/docs/stable/sql/statements/merge_into",
        "timestamp_tz": "https://duckdb.org/docs/stable/sql/functions/timestamptz",
        "regexp": "https://duckdb.org/docs/stable/sql/functions/regular_expressions",
        "transactions": "https://duckdb.org/docs/stable/sql/statements/transactions",
        "on_conflict": "https://duckdb.org/docs/stable/sql/statements/insert#on-conflict-clause",
        "error": "https://duckdb.org/docs/stable/sql/functions/utility#errormessage",
        "concurrency": "https://duckdb.org/docs/stable/connect/concurrency",
        "current_timestamp": "https://duckdb.org/docs/stable/sql/functions/timestamptz#current_timestamp",
        "list_filter": "https://duckdb.org/docs/stable/sql/functions/list#list_filterlist-lambda",
        "json_group_object": "https://duckdb.org/docs/stable/data/json/json_functions#json-aggregate-functions",
        "map_from_entries": "https://duckdb.org/docs/stable/sql/functions/map#map_from_entriesstruct",
        "json_to_list": "https://duckdb.org/docs/stable/data/json/json_type",
        "array_to_string": "https://duckdb.org/docs/stable/sql/functions/list",
    }
    types = {**Dialect.types, "string": "VARCHAR", "double": "DOUBLE"}
    grants = GrantSpelling(
        read=None,
        absent="DuckDB has no users, roles or privileges: whoever can open the database file reads all of it "
        "(https://duckdb.org/docs/stable/operations_manual/securing_duckdb/overview)",
    )
    # delete+insert in a BEGIN ... COMMIT transaction (docs["transactions"]); MERGE INTO, its
    # SET targets unqualified, on request (docs["merge"])
    default_upsert = "delete_insert"
    context_storage = "table"

    url_schemes = ("duckdb",)  # duckdb:///relative.duckdb (to the project), duckdb:////abs.duckdb
    connector = "duckdb_file"
    supports_similar_to = False  # DuckDB matches SIMILAR TO as a whole regular expression
    # snowgen run --threads: one connection. Within one process DuckDB lets connections write
    # at once, but where two transactions meet on the same rows or catalog entry the second
    # fails with a conflict instead of waiting (docs["concurrency"]), which would fail the
    # run; and each statement already runs on every core, so running steps at once gained
    # nothing measurable (README, "Parallel runs").
    concurrent_steps = (
        "DuckDB fails, rather than waits for, a transaction that meets another on the same rows or "
        "table (optimistic concurrency control), and already runs each statement on every core"
    )
    # The run lock: one process writes a database file at a time (docs["concurrency"]), and
    # INSERT ... ON CONFLICT DO UPDATE ... WHERE takes the row on the primary key
    # (docs["on_conflict"]); error(message) fails the statement (docs["error"]). The run id
    # is current_timestamp, the transaction's start (docs["current_timestamp"]).
    lock_upsert = "on_conflict"
    raise_function = "error"
    lowerings = {exp.ArrayRemove: _without_nulls, exp.JSONObjectAgg: _json_object}
    # Inherited: regex_contains prints REGEXP_MATCHES, true if the pattern is found anywhere
    # in the string (RE2): docs["regexp"]

    def sized_string(self, length: int) -> exp.DataType:
        return exp.DataType.build("VARCHAR")  # DuckDB ignores VARCHAR lengths

    def json_array_text(self, value: exp.Expr) -> exp.Expr:
        # The JSON text of an array cast to JSON, then to a list of VARCHAR (docs["json_to_list"]),
        # joined by array_to_string (docs["array_to_string"])
        items = exp.Cast(
            this=exp.Cast(this=value, to=exp.DataType.build("JSON")),
            to=exp.DataType.build("VARCHAR[]", dialect="duckdb"),
        )
        return exp.ArrayToString(this=items, expression=exp.Literal.string(ARRAY_ITEM_SEPARATOR))

    def now_utc(self) -> exp.Expr:
        # current_timestamp is a TIMESTAMPTZ; AT TIME ZONE 'UTC' gives its UTC wall clock as a
        # TIMESTAMP: docs["timestamp_tz"]
        return exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=exp.Literal.string("UTC"))
