"""Databricks (Delta Lake, Databricks SQL).

- Tables are ``USING DELTA`` with Snowplow's auto-optimize table properties.
- Layout: ``clustering: partition`` partitions by a DATE column derived from the partition
  column (``<col>_date``, as the Snowplow packages do); ``clustering: liquid`` (the default
  when cluster columns are given) uses ``CLUSTER BY``. Delta cannot do both on one table.
- No multi-statement transactions: a single MERGE is atomic, delete+insert would not be,
  so it is refused. UPDATE has no FROM: a model's stitch is a MERGE. The window bounds are SQL session variables (DECLARE VARIABLE/SET VAR).
  A backfill's row replacement is Delta's ``INSERT INTO ... REPLACE WHERE`` (atomic).
- Timestamp arithmetic is TIMESTAMPADD(unit, n, ts): sqlglot's 3-argument DATE_ADD form
  needs a recent runtime.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.dialects.base import Dialect
from snowgen.dialects.grants import GrantSpelling
from snowgen.dialects.shapes import Layout, Script, TableShape, Unsupported
from snowgen.dialects.shared import (
    ELEMENT,
    StructContexts,
    ascending_nulls_last,
    epoch_as_seconds,
    not_null_filter,
    object_agg_parts,
    ordered_parts,
    regexp_ilike_as_flag,
    removes_nulls,
    set_each,
)

# Optimized writes and auto compaction, as table properties: Databricks.docs["auto_optimize"]
AUTO_OPTIMIZE = {"delta.autoOptimize.optimizeWrite": "true", "delta.autoOptimize.autoCompact": "true"}


def _sorted_struct_values(value: exp.Expr, keys: list[exp.Expr]) -> exp.Expr:
    """The values of a group in the order of ``keys``: COLLECT_LIST of structs (the keys, then
    the value), sorted by ARRAY_SORT, which compares structs field by field, then TRANSFORM
    to the value (docs["array_sort"], docs["transform"]). A NULL value is kept, as
    Postgres' array_agg keeps it (COLLECT_LIST skips NULL inputs, never a struct)."""
    fields = [exp.alias_(key, f"k{i}") for i, key in enumerate(keys)]
    fields.append(exp.alias_(value.copy(), "v"))
    collected = exp.ArrayAgg(this=exp.Struct(expressions=fields))
    pick = exp.Lambda(
        this=exp.Dot(this=exp.column(ELEMENT), expression=exp.to_identifier("v")),
        expressions=[exp.to_identifier(ELEMENT)],
    )
    return exp.Transform(this=exp.ArraySort(this=collected), expression=pick)


def _array_agg(node: exp.ArrayAgg) -> exp.Expr:
    """ARRAY_AGG(v ORDER BY k): sqlglot prints COLLECT_LIST(v), which drops the order (and
    the NULLs): :func:`_sorted_struct_values`."""
    value, order = ordered_parts(node.this)
    if not order:
        return node
    return _sorted_struct_values(value, ascending_nulls_last(order, "an ARRAY_AGG"))


def _without_nulls(node: exp.ArrayRemove) -> exp.Expr:
    """``array_remove(x, NULL)``: ARRAY_REMOVE returns NULL when the value is NULL
    (docs["array_remove"]); FILTER(x, e -> e IS NOT NULL) keeps the values (docs["filter"])."""
    return not_null_filter(node.this) if removes_nulls(node) else node


def _map_of_pairs(node: exp.JSONObjectAgg) -> exp.Expr:
    """``json_object_agg(k, v ...)``: a MAP, as Snowplow's Databricks model keeps such
    objects, built from the sorted (key, value) structs (docs["map_from_entries"]); a map's
    keys have no order, so the ORDER BY is left out."""
    key, value, _ = object_agg_parts(node)
    entry = exp.Struct(expressions=[exp.alias_(key.copy(), "key"), exp.alias_(value.copy(), "value")])
    return exp.MapFromEntries(this=exp.ArraySort(this=exp.ArrayAgg(this=entry)))


class Databricks(StructContexts, Dialect):
    name = "databricks"
    sqlglot_dialect = "databricks"
    docs = {
        "names": "https://docs.databricks.com/en/sql/language-manual/sql-ref-names.html",
        "create_table": "https://docs.databricks.com/en/sql/language-manual/sql-ref-syntax-ddl-create-table-using.html",
        "liquid": "https://docs.databricks.com/en/delta/clustering.html",
        "partitions": "https://docs.databricks.com/en/tables/partitions.html",
        "merge": "https://docs.databricks.com/en/sql/language-manual/delta-merge-into.html",
        "transactions": "https://docs.databricks.com/en/lakehouse/acid.html",
        "pruning": "https://docs.databricks.com/en/delta/data-skipping.html",
        "variables": "https://docs.databricks.com/en/sql/language-manual/sql-ref-syntax-ddl-declare-variable.html",
        "timestampadd": "https://docs.databricks.com/en/sql/language-manual/functions/timestampadd.html",
        "auto_optimize": "https://docs.databricks.com/en/delta/tune-file-size.html",
        "rlike": "https://docs.databricks.com/en/sql/language-manual/functions/rlike.html",
        "unix_micros": "https://docs.databricks.com/en/sql/language-manual/functions/unix_micros.html",
        "try_element_at": "https://docs.databricks.com/en/sql/language-manual/functions/try_element_at.html",
        "replace_where": "https://docs.databricks.com/en/delta/selective-overwrite.html",
        "update": "https://docs.databricks.com/en/sql/language-manual/delta-update.html",
        "is_distinct": "https://docs.databricks.com/en/sql/language-manual/functions/isdistinct.html",
        "set_time_zone": "https://docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-conf-mgmt-set-timezone.html",
        "timestamp": "https://docs.databricks.com/en/sql/language-manual/data-types/timestamp-type.html",
        "loader_columns": "https://docs.snowplow.io/docs/api-reference/loaders-storage-targets/schemas-in-warehouse/",
        "spark_connect": "https://spark.apache.org/docs/latest/spark-connect-overview.html",
        "databricks_connect": "https://docs.databricks.com/en/dev-tools/databricks-connect/python/index.html",
        "raise_error": "https://docs.databricks.com/en/sql/language-manual/functions/raise_error.html",
        "conflicts": "https://docs.databricks.com/en/optimizations/isolation-level.html#write-conflicts-on-databricks",
        "array_sort": "https://docs.databricks.com/en/sql/language-manual/functions/array_sort.html",
        "transform": "https://docs.databricks.com/en/sql/language-manual/functions/transform.html",
        "array_remove": "https://docs.databricks.com/en/sql/language-manual/functions/array_remove.html",
        "filter": "https://docs.databricks.com/en/sql/language-manual/functions/filter.html",
        "map_from_entries": "https://docs.databricks.com/en/sql/language-manual/functions/map_from_entries.html",
        "array_join": "https://docs.databricks.com/en/sql/language-manual/functions/array_join.html",
    }
    types = {**Dialect.types, "string": "STRING", "json": "STRING", "double": "DOUBLE"}
    # Unity Catalog: USE CATALOG and USE SCHEMA to reach a table; SELECT on a schema is
    # inherited by its tables and views, now and later; principals (users, groups, service
    # principals) are names in back-quotes, case kept:
    # https://docs.databricks.com/en/sql/language-manual/security-grant.html,
    # https://docs.databricks.com/en/data-governance/unity-catalog/manage-privileges/privileges.html
    grants = GrantSpelling(
        read="SELECT", view_kind="VIEW", usage="USE SCHEMA", future_read="schema", database_usage="USE CATALOG",
        database_kind="CATALOG", exact_principals=True, create_schema="CREATE SCHEMA",
        runner_notes=("CAN USE on the SQL warehouse or compute the connection names (a workspace permission, not a GRANT)",),
    )  # fmt: skip
    # A Delta MERGE is one atomic statement (docs["merge"]); by default every statement is a
    # transaction of its own, on one table (docs["transactions"])
    upsert_strategies = {
        "merge": None,
        "delete_insert": "Databricks has no multi-statement transactions, so delete+insert "
        "would not be atomic; a Delta MERGE is",
    }
    default_upsert = "merge"
    supports_similar_to = False
    # Unity Catalog object names; column names have no documented limit (docs["names"])
    name_limits = {"schema": (255, "characters"), "table": (255, "characters")}
    transactional = False  # docs["transactions"]
    # Delta's UPDATE has no FROM clause (docs["update"]): a row set from another table is a
    # MERGE ... WHEN MATCHED THEN UPDATE, the form Snowplow's Databricks package uses too.
    update_from = False
    # First-row dedupes use a ROW_NUMBER() subquery rather than QUALIFY, which also runs on
    # open-source Spark (the Snowplow packages' Spark variant does the same).
    supports_qualify = False
    # The loaders write each context to a nested column of the events table named after the
    # schema's major version (the inherited context_column): docs["loader_columns"]
    context_storage = "column"
    # A context's column is an ARRAY of STRUCTs, a self-describing event's a STRUCT per event,
    # its fields in snake case and typed from the schema (docs["loader_columns"]); an array of
    # strings is joined by array_join (docs["array_join"]): StructContexts
    max_cluster_columns = 4  # liquid clustering keys: docs["liquid"]
    run_limits_in_variables = True  # docs["pruning"]
    # The run lock is taken by a Delta MERGE: of two MERGEs on the table at once, one fails
    # with a concurrent-modification conflict (docs["conflicts"]); raise_error(message) fails
    # a statement (docs["raise_error"]); the run id is a session variable (bind_values).
    lock_upsert = "merge"
    # The losing commit fails with a conflict exception: error classes DELTA_CONCURRENT_*
    # (ConcurrentAppendException, ConcurrentDeleteReadException, ...), or the metadata or
    # protocol changed by a concurrent commit (docs["conflicts"])
    lock_conflict_errors = (
        r"DELTA_CONCURRENT_[A-Z_]+",
        r"Concurrent[A-Za-z]*Exception",
        r"DELTA_(?:METADATA|PROTOCOL)_CHANGED",
    )
    raise_function = "raise_error"
    # EXTRACT(EPOCH ...) as UNIX_MICROS(ts) / 1e6 (docs["unix_micros"]); a case-insensitive
    # match as REGEXP_LIKE, a synonym of RLIKE, with (?i) (docs["rlike"]). IS [NOT] DISTINCT
    # FROM prints as it is (docs["is_distinct"]).
    lowerings = {
        exp.Extract: epoch_as_seconds,
        exp.RegexpILike: regexp_ilike_as_flag,
        exp.ArrayAgg: _array_agg,
        exp.ArrayRemove: _without_nulls,
        exp.JSONObjectAgg: _map_of_pairs,
    }
    # snowgen run: one Spark Connect session per run, since SQL variables live for the session
    # (docs["variables"]): sc://host:port/;token=... (docs["spark_connect"]), or a workspace
    # through databricks-connect, which speaks the same protocol (docs["databricks_connect"])
    url_schemes = ("sc", "databricks")
    connector = "spark_connect"

    def session_settings(self) -> list[exp.Expr]:
        # TIMESTAMP is an instant shown in the session's time zone (docs["timestamp"]): a cast
        # of start_date's literal to TIMESTAMP, or of a TIMESTAMP to DATE (the partition
        # column, a body's day), reads that zone, which a warehouse or user may set to another
        # than UTC. Every script pins it with SET TIME ZONE, which Databricks SQL and Databricks
        # Runtime both take (docs["set_time_zone"]). sqlglot has no node for the statement and
        # reads it as a Command; its text is a constant.
        return [exp.Command(this="SET", expression=" TIME ZONE 'UTC'")]

    def sized_string(self, length: int) -> exp.DataType:
        return exp.DataType.build("STRING")

    def add_interval(self, value: exp.Expr, amount: exp.Expr, unit: str, logical_type: str = "timestamp") -> exp.Expr:
        # TIMESTAMPADD(unit, n, ts): docs["timestampadd"]
        return exp.Anonymous(this="TIMESTAMPADD", expressions=[exp.var(unit.upper()), amount, value])

    def first_context_field(self, column: exp.Expr, field: str, logical: str) -> exp.Expr:
        # An ARRAY<STRUCT<...>> column. `col[0]` fails on an empty array under ANSI mode
        # (the Databricks SQL default); try_element_at (1-based) returns NULL instead
        # (docs["try_element_at"]).
        first = exp.Anonymous(this="TRY_ELEMENT_AT", expressions=[column, exp.Literal.number(1)])
        return exp.Dot(this=first, expression=exp.to_identifier(self.context_field(field)))

    def clustering_mode(self, layout: Layout) -> str:
        if layout.clustering:
            return layout.clustering
        return "liquid" if layout.cluster else "partition"

    def check_layout(self, layout: Layout) -> None:
        super().check_layout(layout)
        mode = self.clustering_mode(layout)
        # Liquid clustering is not compatible with partitioning: docs["liquid"]
        if mode == "partition" and layout.cluster:
            raise Unsupported(
                "cannot partition and cluster one Delta table; set "
                "layout.dialects.databricks.cluster to null or clustering: liquid",
                ("layout", "cluster"),
            )

    def partition_granularities(self) -> tuple[str, ...]:
        # No hour: each partition should hold at least a gigabyte (docs["partitions"])
        return ("day", "month")

    def cluster_columns(self, layout: Layout) -> tuple[str, ...]:
        return tuple(self.liquid_keys(layout)) if self.clustering_mode(layout) == "liquid" else ()

    @staticmethod
    def liquid_keys(layout: Layout) -> list[str]:
        keys = [layout.partition.column] if layout.partition else []
        return keys + [c for c in layout.cluster if c not in keys]

    @staticmethod
    def partition_column(layout: Layout) -> str:
        # PARTITIONED BY names columns: a DATE column derived from the partition column
        # (docs["create_table"])
        suffix = "date" if layout.partition.by == "day" else layout.partition.by
        return f"{layout.partition.column}_{suffix}"

    def layout_columns(self, shape: TableShape) -> list[tuple[str, exp.Expr, str]]:
        layout = shape.layout
        if not layout.partition or self.clustering_mode(layout) != "partition":
            return []
        column = exp.column(layout.partition.column)
        # the cached DATE type: building it from text parses it, and a compile asks for it
        # several times per model
        if layout.partition.by == "day":
            value: exp.Expr = exp.Cast(this=column, to=self.data_type("date"))
        else:
            value = exp.Cast(this=exp.TimestampTrunc(this=column, unit=exp.var("MONTH")), to=self.data_type("date"))
        return [(self.partition_column(layout), value, "date")]

    def table_properties(self, shape: TableShape, *, scratch: bool) -> list[exp.Expr]:
        layout = shape.layout
        # USING DELTA, CLUSTER BY or PARTITIONED BY, TBLPROPERTIES: docs["create_table"]
        props: list[exp.Expr] = [exp.FileFormatProperty(this=exp.var("DELTA"))]
        if self.clustering_mode(layout) == "liquid":
            keys = self.liquid_keys(layout)
            if keys:
                props.append(exp.ClusterProperty(expressions=[exp.column(c) for c in keys]))
        elif layout.partition:
            partition = exp.Schema(expressions=[exp.to_identifier(self.partition_column(layout))])
            props.append(exp.PartitionedByProperty(this=partition))
        props += [
            exp.Property(this=exp.Literal.string(k), value=exp.Literal.string(v)) for k, v in AUTO_OPTIMIZE.items()
        ]
        return props

    def replace_rows(
        self, target: exp.Table, source: exp.Table, columns: list[str], condition: exp.Expr
    ) -> list[exp.Expr]:
        """Delta's selective overwrite, ``INSERT INTO t REPLACE WHERE cond SELECT ...``: one
        atomic statement where delete+insert would be two (no transactions here). It takes
        no column list, so the columns are selected in the table's order (snowgen creates
        the target with the stage's columns, in this order). Delta checks that every
        inserted row matches the condition; the SELECT filters by the same condition
        (docs["replace_where"])."""
        rows = exp.Select(expressions=[exp.column(c) for c in columns]).from_(source.copy(), copy=False)
        rows = rows.where(condition.copy(), copy=False)
        return [exp.Insert(this=target.copy(), where=condition.copy(), expression=rows)]

    def bind_values(self, script: Script, prefix, values, source):
        # DECLARE OR REPLACE name type, then SET VARIABLE name = (SELECT ...): docs["variables"]
        names = [f"{prefix}_{name}" for name in values]
        for name, (logical, _) in zip(names, values.values(), strict=True):
            script.add(
                exp.Declare(
                    expressions=[exp.DeclareItem(this=[exp.var(name)], kind=self.data_type(logical))], replace=True
                )
            )
        script.add(*set_each(names, values, source, kind="VARIABLE"))
        return {key: exp.var(name) for key, name in zip(values, names, strict=True)}
