"""PostgreSQL 15.

- No QUALIFY: first-row dedupes use a ROW_NUMBER() subquery.
- Upserts are delete+insert inside one transaction (MERGE exists since 15, but delete+insert
  with an EXISTS on the key is what the Snowplow packages run here and is plain to review).
- Layout: no partitions or cluster keys; b-tree indexes on the unique key, the partition
  column and the cluster columns, created after the table.
"""

from __future__ import annotations

import hashlib

from sqlglot import exp

from snowgen.dialects.base import ARRAY_ITEM_SEPARATOR, Dialect
from snowgen.dialects.grants import GrantSpelling
from snowgen.dialects.shapes import Layout, TableShape

_MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1


class Postgres(Dialect):
    name = "postgres"
    sqlglot_dialect = "postgres"
    docs = {
        "merge": "https://www.postgresql.org/docs/15/sql-merge.html",
        "create_index": "https://www.postgresql.org/docs/15/sql-createindex.html",
        "identifier_length": "https://www.postgresql.org/docs/15/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS",
        "regex": "https://www.postgresql.org/docs/15/functions-matching.html#POSIX-ESCAPE-SEQUENCES",
        "at_time_zone": "https://www.postgresql.org/docs/15/functions-datetime.html#FUNCTIONS-DATETIME-ZONECONVERT",
        "analyze": "https://www.postgresql.org/docs/15/routine-vacuuming.html#VACUUM-FOR-STATISTICS",
        "planner_stats": "https://www.postgresql.org/docs/15/planner-stats.html",
        "on_conflict": "https://www.postgresql.org/docs/15/sql-insert.html#SQL-ON-CONFLICT",
        "advisory_locks": "https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS",
        "current_time": "https://www.postgresql.org/docs/15/functions-datetime.html#FUNCTIONS-DATETIME-CURRENT",
        "casts": "https://www.postgresql.org/docs/15/sql-expressions.html#SQL-SYNTAX-TYPE-CASTS",
        "json_functions": "https://www.postgresql.org/docs/15/functions-json.html#FUNCTIONS-JSON-PROCESSING",
        "array_constructor": "https://www.postgresql.org/docs/15/sql-expressions.html#SQL-SYNTAX-ARRAY-CONSTRUCTORS",
    }
    types = {**Dialect.types, "json": "JSONB", "double": "DOUBLE PRECISION"}
    # GRANT SELECT ON TABLE also covers views; USAGE on the schema; default privileges for
    # the tables the running role creates later: https://www.postgresql.org/docs/15/sql-grant.html,
    # https://www.postgresql.org/docs/15/sql-alterdefaultprivileges.html
    # CREATE SCHEMA (IF NOT EXISTS too) needs CREATE on the database:
    # https://www.postgresql.org/docs/15/sql-createschema.html
    grants = GrantSpelling(
        read="SELECT", future_read="default_privileges", grantees_catalog="role_table_grants", qualified_schemas=False,
        runner_notes=("CONNECT and TEMPORARY on the database are PUBLIC's by default: grant them too where they were revoked",),
    )  # fmt: skip
    # Longer names are truncated with only a NOTICE: two tables would become one (docs["identifier_length"])
    name_limits = {kind: (_MAX_IDENTIFIER_BYTES, "bytes") for kind in ("schema", "table", "column")}
    default_upsert = "delete_insert"  # MERGE (docs["merge"]) is there on request
    # Inherited as they are: regex_contains prints ``~``, a POSIX match anywhere in the
    # string, and escape_regex leaves letters alone, a backslash before one being an escape
    # (``\b`` a backspace): docs["regex"]
    supports_qualify = False
    create_or_replace_table = False
    drop_cascades = True  # https://www.postgresql.org/docs/15/sql-droptable.html
    context_storage = "table"
    # A table filled by CREATE TABLE AS has no statistics until autovacuum's next pass
    # (docs["analyze"]). Planned blind, the one-row limits table is taken for ~2,000 rows
    # (queries that join it get JIT-compiled: half a second each) and events_this_run for a
    # handful (nested loops that go quadratic on a big run). ANALYZE samples at most 30,000
    # rows, so its cost stays bounded however big the run.
    analyzes_new_tables = True
    # An incremental target is created empty; an index built then records it as holding no
    # rows, and after a first run or a full refresh fills it the planner still took it for one
    # row until autovacuum's next pass (docs["analyze"]): the steps that read it next (the
    # users' sessions) got nested loops over the whole table. The rule: create the target's
    # indexes (IF NOT EXISTS) after its upsert. When the table was empty (a first run, a full
    # refresh) they are built over the filled table, and an index build records the table's
    # row count (reltuples, as VACUUM and ANALYZE do: docs["planner_stats"]); on every later run they exist already and cost
    # nothing. An ANALYZE after every upsert did the same at a price: over a second per wide
    # target per run at 80 days of history (README, Benchmarks); a large batch into a table
    # that already has rows is left to autovacuum, as dbt's package leaves it.
    indexes_after_first_fill = True

    # The run lock: INSERT ... ON CONFLICT (lock_name) DO UPDATE ... WHERE expired is atomic
    # on the primary key (docs["on_conflict"]). Two runs creating the manifest schema and the
    # lock table at once can fail on the catalog's unique indexes, so the DDL goes inside the
    # transaction behind a transaction-level advisory lock (docs["advisory_locks"]). The run
    # id is current_timestamp, the transaction's start, the same in every statement of it
    # (docs["current_time"]). Postgres has no raise function in plain SQL: a cast of the
    # message to a number fails with 'invalid input syntax for type bigint: "<message>"'
    # (docs["casts"]; PL/pgSQL's RAISE would need a DO block of text).
    lock_upsert = "on_conflict"
    lock_ddl_in_transaction = True

    url_schemes = ("postgresql", "postgres")
    connector = "libpq"

    def lock_guard(self, key: int) -> list[exp.Expr]:
        # Released at COMMIT or ROLLBACK: docs["advisory_locks"]
        lock = exp.Anonymous(this="pg_advisory_xact_lock", expressions=[exp.Literal.number(key)])
        return [exp.Select(expressions=[lock])]

    def json_array_text(self, value: exp.Expr) -> exp.Expr:
        # Snowplow's Postgres loader keeps an array as JSONB, a shredded table's text column as
        # JSON text: either cast to JSONB, its elements as text (docs["json_functions"]) in
        # an ARRAY(subquery) in their order (docs["array_constructor"]), joined; NULL stays
        # NULL (the ARRAY of no elements would join to '')
        elements = exp.Anonymous(this="JSONB_ARRAY_ELEMENTS_TEXT", expressions=[self.cast(value.copy(), "json")])
        joined = exp.Array(expressions=[exp.Select(expressions=[elements])])
        text = exp.ArrayToString(this=joined, expression=exp.Literal.string(ARRAY_ITEM_SEPARATOR))
        return exp.Case(ifs=[exp.If(this=exp.Is(this=value, expression=exp.Null()), true=exp.Null())], default=text)

    def now_utc(self) -> exp.Expr:
        # current_timestamp is timestamptz; AT TIME ZONE 'UTC' gives the UTC wall clock
        # as timestamp without time zone, whatever the session's TimeZone is (docs["at_time_zone"]).
        return exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=exp.Literal.string("UTC"))

    def after_create(self, shape: TableShape) -> list[exp.Expr]:
        # CREATE INDEX IF NOT EXISTS name ON table (cols), a b-tree by default: docs["create_index"]
        return [_create_index(shape.table, columns) for columns in self.index_columns(shape.layout)]

    def index_columns(self, layout: Layout) -> list[tuple[str, ...]]:
        if layout.indexes is not None:
            return [tuple(cols) for cols in layout.indexes]
        wanted = [layout.unique_key, (layout.partition.column,) if layout.partition else (), layout.cluster]
        result: list[tuple[str, ...]] = []
        for columns in wanted:
            # An index also serves every prefix of its columns: skip those.
            if columns and not any(index[: len(columns)] == tuple(columns) for index in result):
                result.append(tuple(columns))
        return result


def index_name(table: str, columns: tuple[str, ...]) -> str:
    """``<table>__<cols>_idx``, shortened with a stable hash to fit Postgres' 63 bytes."""
    name = f"{table}__{'__'.join(columns)}_idx"
    if len(name.encode("utf-8")) <= _MAX_IDENTIFIER_BYTES:
        return name
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]
    prefix = name.encode("utf-8")[: _MAX_IDENTIFIER_BYTES - len(digest) - 1].decode("utf-8", "ignore")
    return f"{prefix}_{digest}"


def _create_index(table: exp.Table, columns: tuple[str, ...]) -> exp.Create:
    # An index lives in its table's schema; its name is unqualified (Postgres.docs["create_index"]).
    return exp.Create(
        kind="INDEX",
        exists=True,
        this=exp.Index(
            this=exp.to_identifier(index_name(table.name, columns)),
            table=table.copy(),
            params=exp.IndexParameters(columns=[exp.Ordered(this=exp.column(c)) for c in columns]),
        ),
    )
