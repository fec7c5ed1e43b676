"""Google BigQuery (GoogleSQL).

- ``timestamp`` is BigQuery's TIMESTAMP (an instant), never DATETIME: sqlglot prints its
  TIMESTAMP type as DATETIME, so the type table and :meth:`lower` use TIMESTAMPTZ, which
  sqlglot prints as TIMESTAMP.
- Layout: PARTITION BY DATE(col) / TIMESTAMP_TRUNC(col, HOUR|MONTH), CLUSTER BY (at most 4).
- Upserts: MERGE with the date window on the target in the ON clause. The window bounds are
  script variables (DECLARE/SET), which BigQuery uses for partition pruning. DELETE has no
  USING, so delete+insert deletes with a correlated EXISTS inside a transaction.
- Contexts are nested columns: ``contexts_<vendor>_<name>_<major>[SAFE_OFFSET(0)].field``, the
  name BigQuery Loader 2.x writes; 1.x wrote ``..._<major>_<minor>_<patch>``, which a table
  migrated to 2.x keeps for its older events (a context's ``columns`` lists both).
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.dialects.base import Dialect, parameterized
from snowgen.dialects.grants import GrantSpelling
from snowgen.dialects.shapes import TableShape, Unsupported
from snowgen.dialects.shared import (
    ELEMENT,
    StructContexts,
    epoch_as_seconds,
    object_agg_parts,
    regexp_ilike_as_flag,
    removes_nulls,
    set_each,
)

# NUMERIC holds 29 digits before the point and 9 after; wider decimals are BIGNUMERIC
# (BigQuery.docs["types"])
_MAX_NUMERIC_INTEGER_DIGITS = 29
_MAX_NUMERIC_SCALE = 9


def _instant(node: exp.DataType) -> exp.Expr:
    # sqlglot's generic TIMESTAMP prints as DATETIME here; snowgen's timestamps are instants.
    if node.this == exp.DataType.Type.TIMESTAMP:
        node.set("this", exp.DataType.Type.TIMESTAMPTZ)
    return node


def _least_greatest(node: exp.Least | exp.Greatest) -> exp.Expr:
    return _ignoring_nulls(node) if node.args.get("ignore_nulls") and node.expressions else node


def _ignoring_nulls(node: exp.Least | exp.Greatest) -> exp.Expr:
    """Postgres' LEAST/GREATEST skip NULLs; BigQuery's return NULL if any argument is NULL.
    Pairwise: coalesce(least(a, b), a, b) is the NULL-skipping least of a and b."""
    kind = type(node)
    values = [node.this, *node.expressions]
    result = values[0]
    for value in values[1:]:
        plain = kind(this=result.copy(), expressions=[value.copy()])
        result = exp.Coalesce(this=plain, expressions=[result.copy(), value.copy()])
    return result


def _split_part(node: exp.SplitPart) -> exp.Expr:
    """Postgres split_part(s, d, n) -> '' past the last part; BigQuery: SPLIT(s, d)[SAFE_ORDINAL(n)]."""
    delimiter, index = node.args.get("delimiter"), node.args.get("part_index")
    if not (isinstance(delimiter, exp.Literal) and delimiter.is_string and delimiter.this):
        raise Unsupported("cannot print split_part without a non-empty literal delimiter")
    if not (isinstance(index, exp.Literal) and index.is_int and int(index.this) > 0):
        raise Unsupported("cannot print split_part without a positive literal part number")
    value = node.this
    part = exp.Bracket(
        this=exp.Split(this=value.copy(), expression=delimiter.copy()),
        expressions=[index.copy()],
        offset=1,
        safe=True,
    )
    found = exp.Coalesce(this=part, expressions=[exp.Literal.string("")])
    return exp.Case(ifs=[exp.If(this=exp.Is(this=value.copy(), expression=exp.Null()), true=exp.Null())], default=found)


def _aggregate_null_order(order: list[exp.Ordered]) -> list[exp.Ordered]:
    """The ORDER BY of an aggregate has no NULLS FIRST/LAST here (docs["array_agg"]), and
    puts NULLs first when ascending, last when descending: a key whose NULLs go the other
    way is preceded by ``k IS NULL`` sorted the same way (false before true)."""
    keys: list[exp.Ordered] = []
    for ordered in order:
        desc = bool(ordered.args.get("desc"))
        default_nulls_first = not desc
        if bool(ordered.args.get("nulls_first")) != default_nulls_first:
            is_null = exp.Is(this=ordered.this.copy(), expression=exp.Null())
            keys.append(exp.Ordered(this=is_null, desc=desc, nulls_first=default_nulls_first))
        keys.append(exp.Ordered(this=ordered.this.copy(), desc=desc, nulls_first=default_nulls_first))
    return keys


def _array_agg(node: exp.ArrayAgg) -> exp.Expr:
    """ARRAY_AGG(v ORDER BY k): the keys in BigQuery's NULL order (sqlglot refuses the
    Postgres order's NULLS LAST)."""
    if isinstance(node.this, exp.Order):
        node.this.set("expressions", _aggregate_null_order(node.this.expressions))
    return node


def _without_nulls(node: exp.ArrayRemove) -> exp.Expr:
    """``array_remove(x, NULL)``: sqlglot prints a subquery that keeps ``u <> NULL``, which is
    nothing. Of an ARRAY_AGG: ARRAY_AGG(v IGNORE NULLS ...) (docs["array_agg"]); of another
    array: its non-NULL elements in their order, by offset (docs["unnest"])."""
    if not removes_nulls(node):
        return node
    array = node.this
    if isinstance(array, exp.IgnoreNulls) and isinstance(array.this, exp.ArrayAgg):
        return array
    if isinstance(array, exp.ArrayAgg):
        return exp.IgnoreNulls(this=array)
    offset = ELEMENT + "_offset"
    elements = exp.Unnest(
        expressions=[array],
        alias=exp.TableAlias(columns=[exp.to_identifier(ELEMENT)]),
        offset=exp.to_identifier(offset),
    )
    kept = exp.Not(this=exp.Is(this=exp.column(ELEMENT), expression=exp.Null()))
    query = exp.select(exp.column(ELEMENT)).from_(elements).where(kept).order_by(exp.column(offset))
    return exp.Array(expressions=[query])


def _json_object(node: exp.JSONObjectAgg) -> exp.Expr:
    """``json_object_agg(k, v ORDER BY ...)``: BigQuery has no JSON object aggregate. The
    object's text, each key and value written by TO_JSON_STRING (which escapes them) and
    joined by STRING_AGG in the ORDER BY, parsed to JSON (docs["json"])."""
    key, value, order = object_agg_parts(node)
    pair = exp.Concat(
        expressions=[
            exp.JSONFormat(this=exp.Cast(this=key.copy(), to=exp.DataType.build("STRING"))),
            exp.Literal.string(":"),
            exp.JSONFormat(this=value.copy()),
        ]
    )
    pairs = exp.Order(this=pair, expressions=_aggregate_null_order(order)) if order else pair
    joined = exp.GroupConcat(this=pairs, separator=exp.Literal.string(","))
    text = exp.Concat(expressions=[exp.Literal.string("{"), joined, exp.Literal.string("}")])
    return exp.ParseJSON(this=text)


class BigQuery(StructContexts, Dialect):
    name = "bigquery"
    sqlglot_dialect = "bigquery"
    docs = {
        "types": "https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types",
        "partitioning": "https://cloud.google.com/bigquery/docs/partitioned-tables",
        "clustering": "https://cloud.google.com/bigquery/docs/clustered-tables#limitations",
        "merge": "https://cloud.google.com/bigquery/docs/reference/standard-sql/dml-syntax#merge_statement",
        "delete": "https://cloud.google.com/bigquery/docs/reference/standard-sql/dml-syntax#delete_statement",
        "pruning": "https://cloud.google.com/bigquery/docs/querying-partitioned-tables",
        "scripting": "https://cloud.google.com/bigquery/docs/reference/standard-sql/procedural-language#declare",
        "transactions": "https://cloud.google.com/bigquery/docs/transactions",
        "qualify": "https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#qualify_clause",
        "error": "https://cloud.google.com/bigquery/docs/reference/standard-sql/debugging_functions#error",
        "session_user": "https://cloud.google.com/bigquery/docs/reference/standard-sql/security_functions#session_user",
        "dml_conflicts": "https://cloud.google.com/bigquery/docs/data-manipulation-language#dml_statement_conflicts",
        "regexp_contains": "https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#regexp_contains",
        "orderable": "https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#orderable_data_types",
        "dataset_names": "https://cloud.google.com/bigquery/docs/datasets#dataset-naming",
        "table_names": "https://cloud.google.com/bigquery/docs/tables#table_naming",
        "column_names": "https://cloud.google.com/bigquery/docs/schemas#column_names",
        "time_zone": "https://cloud.google.com/bigquery/docs/reference/system-variables",
        "default_time_zone": "https://cloud.google.com/bigquery/docs/default-configuration",
        "loader_columns": "https://docs.snowplow.io/docs/api-reference/loaders-storage-targets/bigquery-loader/upgrade-guides/2-0-0-upgrade-guide/",
        "client": "https://cloud.google.com/python/docs/reference/bigquery/latest",
        "array_agg": "https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#array_agg",
        "unnest": "https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#unnest_operator",
        "json": "https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#parse_json",
        "array_to_string": "https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#array_to_string",
    }
    # TIMESTAMP is an instant, DATETIME a wall-clock time: docs["types"]
    # DCL grants IAM roles to IAM principals written as strings; a dataset (SCHEMA) grant
    # covers its tables now and later; there is no schema USAGE (usage grants compile to
    # nothing): https://cloud.google.com/bigquery/docs/reference/standard-sql/data-control-language
    grants = GrantSpelling(
        read="roles/bigquery.dataViewer", read_is_role=True, view_kind="VIEW", usage=None, future_read="schema",
        principal_pattern=r"(user|group|serviceAccount|domain):[^\s:]+|principal(Set)?://\S+",
        principal_hint="an IAM principal (user:, group:, serviceAccount:, domain:, principal://, principalSet://)",
        # DCL grants on datasets and tables only; creating datasets and running jobs are
        # project roles: https://cloud.google.com/bigquery/docs/access-control
        create_schema=None, write_schema="roles/bigquery.dataEditor",
        runner_notes=(
            "roles/bigquery.jobUser on the project, to run query jobs (an IAM grant; DCL has no project grants)",
            "the datasets must exist, or roles/bigquery.dataEditor on the project lets it create them",
        ),
    )  # fmt: skip
    types = {
        **Dialect.types,
        "string": "STRING",
        "timestamp": "TIMESTAMPTZ",  # printed as TIMESTAMP
        "timestamptz": "TIMESTAMPTZ",
        "double": "DOUBLE",
    }
    # DELETE has no USING (docs["delete"]): delete+insert, when asked for, deletes with a
    # correlated EXISTS (the inherited delete_using = False)
    default_upsert = "merge"  # docs["merge"]
    # docs["dataset_names"], docs["table_names"], docs["column_names"]
    name_limits = {"schema": (1024, "characters"), "table": (1024, "bytes"), "column": (300, "characters")}
    # Loader 2.x writes each context to a column per major version, 1.x per full version:
    # docs["loader_columns"] (the inherited context_column is the 2.x name)
    context_storage = "column"
    # A context's column is an ARRAY of STRUCTs, a self-describing event's a RECORD per event,
    # its fields in snake case and typed from the schema (docs["loader_columns"]); an array of
    # strings is joined by ARRAY_TO_STRING (docs["array_to_string"]): StructContexts
    max_cluster_columns = 4  # docs["clustering"]
    run_limits_in_variables = True  # docs["pruning"]
    json_is_orderable = False  # docs["orderable"]: TO_JSON_STRING orders it instead
    # snowgen run: google-cloud-bigquery (docs["client"]), each step's file one script job,
    # because script variables live for one script (docs["scripting"]); the URL is
    # bigquery://PROJECT[/DATASET]?location=EU, as sqlalchemy-bigquery spells it
    url_schemes = ("bigquery",)
    step_is_one_script = True  # docs["scripting"]
    connector = "bigquery_jobs"
    supports_similar_to = False
    # The run lock is taken by a MERGE, inside a transaction: of two MERGEs on the table at
    # once, one fails with a conflict (docs["dml_conflicts"]); ERROR(message) fails a statement
    # (docs["error"]); the run id is a script variable (bind_values).
    lock_upsert = "merge"
    # The conflicting job fails with "Could not serialize access to table ... due to
    # concurrent update" (in a transaction: "Transaction is aborted due to concurrent update
    # against table ..."): docs["dml_conflicts"]
    lock_conflict_errors = (r"due to concurrent update",)
    raise_function = "ERROR"
    lowerings = {
        exp.DataType: _instant,
        exp.Extract: epoch_as_seconds,
        exp.Least: _least_greatest,
        exp.Greatest: _least_greatest,
        exp.SplitPart: _split_part,
        # regex_contains prints REGEXP_CONTAINS, a match anywhere in the value (RE2, which
        # reads the (?i) flag): docs["regexp_contains"]
        exp.RegexpILike: regexp_ilike_as_flag,
        exp.ArrayAgg: _array_agg,
        exp.ArrayRemove: _without_nulls,
        exp.JSONObjectAgg: _json_object,
    }

    def build_data_type(self, logical: str) -> exp.DataType:
        result = super().build_data_type(logical)
        if result.this == exp.DataType.Type.DECIMAL:
            precision, scale = (int(p.name) for p in result.expressions)
            if precision - scale > _MAX_NUMERIC_INTEGER_DIGITS or scale > _MAX_NUMERIC_SCALE:
                return parameterized(exp.DataType.Type.BIGDECIMAL, precision, scale)
        return result

    def add_interval(self, value: exp.Expr, amount: exp.Expr, unit: str, logical_type: str = "timestamp") -> exp.Expr:
        if logical_type == "date":
            if unit.upper() not in ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR"):
                raise Unsupported(f"cannot add {unit} to a DATE")
            return exp.DateAdd(this=value, expression=amount, unit=exp.var(unit.upper()))
        return exp.TimestampAdd(this=value, expression=amount, unit=exp.var(unit.upper()))

    def session_settings(self) -> list[exp.Expr]:
        # A cast of a TIMESTAMP to DATE, or of a zone-less literal to TIMESTAMP, uses the
        # script's @@time_zone (docs["time_zone"]), which starts as the project's or
        # organisation's default_time_zone where an administrator set one, else UTC
        # (docs["default_time_zone"]). Every script pins it to UTC after its DECLAREs.
        time_zone = exp.Parameter(this=exp.Parameter(this=exp.var("time_zone")))
        return [exp.Set(expressions=[exp.SetItem(this=exp.EQ(this=time_zone, expression=exp.Literal.string("UTC")))])]

    def first_context_field(self, column: exp.Expr, field: str, logical: str) -> exp.Expr:
        first = exp.Bracket(this=column, expressions=[exp.Literal.number(0)], offset=0, safe=True)
        return exp.Dot(this=first, expression=exp.to_identifier(self.context_field(field)))

    def in_transaction(self, statements: list[exp.Expr]) -> list[exp.Expr]:
        return [exp.Transaction(), *statements, exp.Commit()]  # BEGIN/COMMIT TRANSACTION: docs["transactions"]

    def table_properties(self, shape: TableShape, *, scratch: bool) -> list[exp.Expr]:
        layout = shape.layout
        props: list[exp.Expr] = []
        if layout.partition:
            column_type = shape.column_types.get(layout.partition.column, "timestamp")
            props.append(exp.PartitionedByProperty(this=self._partition_expression(layout.partition, column_type)))
        if layout.cluster:
            props.append(exp.Cluster(expressions=[exp.column(c) for c in layout.cluster]))
        return props

    @staticmethod
    def _partition_expression(partition, column_type: str) -> exp.Expr:
        # A DATE column partitions by day, month or year; a TIMESTAMP column by hour too:
        # docs["partitioning"]
        column = exp.column(partition.column)
        if column_type == "date":
            if partition.by == "day":
                return column
            if partition.by == "month":
                return exp.DateTrunc(this=column, unit=exp.var("MONTH"))
            raise Unsupported("cannot partition a DATE column by hour", ("layout", "partition", "by"))
        if partition.by == "day":
            return exp.Date(this=column)
        return exp.TimestampTrunc(this=column, unit=exp.var(partition.by.upper()))

    def qualify_fixup(self, select: exp.Select) -> exp.Select:
        # First-row dedupes use QUALIFY (docs["qualify"]), but BigQuery has rejected it
        # without a WHERE, GROUP BY or HAVING clause
        # ("QUALIFY clause must be used in conjunction with WHERE or GROUP BY or HAVING").
        if not (select.args.get("where") or select.args.get("group") or select.args.get("having")):
            select = select.where(exp.true(), copy=False)
        return select

    def database_user(self) -> exp.Expr:
        return exp.SessionUser()  # the user running the job: docs["session_user"]

    def bind_values(self, script, prefix, values, source):
        """DECLARE the variables (hoisted to the top of the script: declarations come first),
        then SET each one: docs["scripting"]."""
        names = [f"{prefix}_{name}" for name in values]
        for name, (logical, _) in zip(names, values.values(), strict=True):
            script.declarations.append(
                exp.Declare(expressions=[exp.DeclareItem(this=[exp.var(name)], kind=self.data_type(logical))])
            )
        script.add(*set_each(names, values, source))
        return {key: exp.var(name) for key, name in zip(values, names, strict=True)}
