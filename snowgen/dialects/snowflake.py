"""Snowflake.

- ``timestamp`` is TIMESTAMP_NTZ; JSON is VARIANT.
- Layout: CLUSTER BY (TO_DATE(partition), cluster...). Tables of the scratch schema are
  TRANSIENT (no Fail-safe storage for tables rebuilt on every run).
- Upserts: MERGE by default (the source is deduplicated first, so MERGE never hits
  "Duplicate row detected during DML action"); delete+insert on request, inside
  BEGIN TRANSACTION ... COMMIT. The window bounds are session variables (``SET``/``$name``).
- Regular expressions: REGEXP_LIKE/RLIKE match the *whole* string, so a substring test is
  ``REGEXP_INSTR(x, p) > 0``; :meth:`lower` rewrites any regex match from a SQL body too.
"""

from __future__ import annotations

import json

from sqlglot import exp

from snowgen.dialects.base import ARRAY_ITEM_SEPARATOR, ContextValue, Dialect
from snowgen.dialects.grants import GrantSpelling
from snowgen.dialects.shapes import Script, TableShape
from snowgen.dialects.shared import object_agg_parts, removes_nulls, set_each


def _timestamp_ntz() -> exp.DataType:
    # Spelled TIMESTAMP_NTZ, the documented name (sqlglot prints the alias TIMESTAMPNTZ):
    # Snowflake.docs["timestamp_ntz"].
    return exp.DataType(this=exp.DataType.Type.USERDEFINED, kind="TIMESTAMP_NTZ")


def _ntz(node: exp.DataType) -> exp.Expr:
    # A plain TIMESTAMP follows the account's TIMESTAMP_TYPE_MAPPING; snowgen's is NTZ
    # (Snowflake.docs["timestamp_ntz"]).
    if node.this in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ):
        return _timestamp_ntz()
    return node


def _epoch(node: exp.Extract) -> exp.Expr:
    if node.this.name.upper() != "EPOCH":
        return node
    # DATE_PART(EPOCH, ts) drops the fraction; Postgres' epoch keeps it.
    micros = exp.Extract(this=exp.var("EPOCH_MICROSECOND"), expression=node.expression)
    return exp.Paren(this=exp.Div(this=micros, expression=exp.Literal.number(1000000)))


def _regexp_like(node: exp.RegexpLike) -> exp.Expr:
    # REGEXP_LIKE/RLIKE anchor the pattern at both ends (Snowflake.docs["rlike"]).
    return _substring_match(node.this, node.expression)


def _regexp_ilike(node: exp.RegexpILike) -> exp.Expr:
    return _substring_match(node.this, node.expression, case_insensitive=True)


def _substring_match(value: exp.Expr, pattern: exp.Expr, case_insensitive: bool = False) -> exp.Expr:
    """REGEXP_INSTR(value, pattern [, 1, 1, 0, 'i']) > 0: found anywhere in the value
    (position, occurrence, option, parameters: Snowflake.docs["regexp_instr"])."""
    args = {"this": value, "expression": pattern}
    if case_insensitive:
        args.update(
            position=exp.Literal.number(1),
            occurrence=exp.Literal.number(1),
            option=exp.Literal.number(0),
            parameters=exp.Literal.string("i"),
        )
    return exp.GT(this=exp.RegexpInstr(**args), expression=exp.Literal.number(0))


def _without_nulls(node: exp.ArrayRemove) -> exp.Expr:
    """``array_remove(x, NULL)``: ARRAY_REMOVE with a NULL value returns NULL here
    (docs["array_remove"]). ARRAY_AGG leaves NULLs out already, and gives an empty array
    when every value is NULL (docs["array_agg"]); any other array: ARRAY_COMPACT, which
    drops its NULLs (docs["array_compact"])."""
    if not removes_nulls(node):
        return node
    if isinstance(node.this, exp.ArrayAgg):
        return node.this
    return exp.ArrayCompact(this=node.this)


def _json_object(node: exp.JSONObjectAgg) -> exp.Expr:
    """``json_object_agg(k, v ...)``: OBJECT_AGG(k, v::VARIANT), an OBJECT, whose keys have no
    order, so the ORDER BY is left out (docs["object_agg"])."""
    key, value, _ = object_agg_parts(node)
    return exp.ObjectAgg(this=key.copy(), expression=exp.Cast(this=value.copy(), to=exp.DataType.build("VARIANT")))


class Snowflake(Dialect):
    name = "snowflake"
    sqlglot_dialect = "snowflake"
    docs = {
        "timestamp_ntz": "https://docs.snowflake.com/en/sql-reference/data-types-datetime#timestamp-ltz-timestamp-ntz-timestamp-tz",
        "clustering": "https://docs.snowflake.com/en/user-guide/tables-clustering-keys",
        "transient": "https://docs.snowflake.com/en/user-guide/tables-temp-transient",
        "merge": "https://docs.snowflake.com/en/sql-reference/sql/merge",
        "nondeterministic_merge": "https://docs.snowflake.com/en/sql-reference/sql/merge#nondeterministic-results-for-update-and-delete",
        "transactions": "https://docs.snowflake.com/en/sql-reference/transactions",
        "pruning": "https://docs.snowflake.com/en/user-guide/tables-clustering-micropartitions#query-pruning",
        "variables": "https://docs.snowflake.com/en/sql-reference/session-variables",
        "rlike": "https://docs.snowflake.com/en/sql-reference/functions/rlike",
        "regexp_instr": "https://docs.snowflake.com/en/sql-reference/functions/regexp_instr",
        "convert_timezone": "https://docs.snowflake.com/en/sql-reference/functions/convert_timezone",
        "identifiers": "https://docs.snowflake.com/en/sql-reference/identifiers-syntax",
        "python_connector": "https://docs.snowflake.com/en/developer-guide/python-connector/python-connector-api#connect",
        "loader_columns": "https://docs.snowplow.io/docs/api-reference/loaders-storage-targets/schemas-in-warehouse/",
        "parse_json": "https://docs.snowflake.com/en/sql-reference/functions/parse_json",
        "insert": "https://docs.snowflake.com/en/sql-reference/sql/insert",
        "locking": "https://docs.snowflake.com/en/sql-reference/transactions#resource-locking",
        "cast": "https://docs.snowflake.com/en/sql-reference/functions/cast",
        "array_agg": "https://docs.snowflake.com/en/sql-reference/functions/array_agg",
        "array_remove": "https://docs.snowflake.com/en/sql-reference/functions/array_remove",
        "array_compact": "https://docs.snowflake.com/en/sql-reference/functions/array_compact",
        "object_agg": "https://docs.snowflake.com/en/sql-reference/functions/object_agg",
        "array_to_string": "https://docs.snowflake.com/en/sql-reference/functions/array_to_string",
    }
    types = {**Dialect.types, "string": "VARCHAR", "timestamp": "TIMESTAMPNTZ", "json": "VARIANT", "double": "DOUBLE"}
    # Privileges go to roles (``TO ROLE``); a view is granted ``ON VIEW``; reaching a table
    # takes USAGE on its database and schema; FUTURE grants cover the tables and views a
    # schema will hold: https://docs.snowflake.com/en/sql-reference/sql/grant-privilege.
    # CREATE OR REPLACE drops an object's grants (unless COPY GRANTS): the grant step after
    # every model step grants them again.
    grants = GrantSpelling(
        read="SELECT", view_kind="VIEW", future_read="future", database_usage="USAGE",
        principal_kinds={"role": "ROLE"}, default_principal_kind="ROLE", create_schema="CREATE SCHEMA",
        runner_notes=("USAGE on the virtual warehouse the connection names: GRANT USAGE ON WAREHOUSE <warehouse> TO ROLE <role>",),
    )  # fmt: skip
    # MERGE (docs["merge"]) from a stage with one row per key: a target row never joins two
    # source rows, the case docs["nondeterministic_merge"] warns of
    default_upsert = "merge"
    supports_similar_to = False
    name_limits = {kind: (255, "characters") for kind in ("schema", "table", "column")}  # docs["identifiers"]
    # snowgen run: snowflake://user:password@account/database/schema?warehouse=W&role=R, the
    # form of snowflake-sqlalchemy, through snowflake-connector-python (docs["python_connector"];
    # the driver is snowgen.runner.snowflake_client)
    url_schemes = ("snowflake",)
    connector = "snowflake_connector"
    delete_using = True
    folds_to_upper_case = True  # https://docs.snowflake.com/en/sql-reference/identifiers-syntax
    # The loaders write each context to a nested column of the events table named after the
    # schema's major version (the inherited context_column): docs["loader_columns"]
    context_storage = "column"
    # The loaders keep the schema's field names as the objects' keys: docs["loader_columns"]
    context_field_names = "as_in_schema"
    run_limits_in_variables = True  # docs["pruning"]
    # The run lock is taken by a MERGE: MERGEs on one table wait for each other's lock
    # (docs["locking"]). SQL has no raise function outside Snowflake Scripting blocks: a cast
    # of the message to a number fails with "Numeric value '<message>' is not recognized"
    # (docs["cast"]). The run id is a session variable (bind_values).
    lock_upsert = "merge"
    lowerings = {
        exp.DataType: _ntz,
        exp.Extract: _epoch,
        exp.RegexpLike: _regexp_like,
        exp.RegexpILike: _regexp_ilike,
        exp.ArrayRemove: _without_nulls,
        exp.JSONObjectAgg: _json_object,
    }

    def build_data_type(self, logical: str) -> exp.DataType:
        if logical == "timestamp":
            return _timestamp_ntz()
        return super().build_data_type(logical)

    def now_utc(self) -> exp.Expr:
        # CONVERT_TIMEZONE('UTC', ts) gives a TIMESTAMP_TZ in UTC: docs["convert_timezone"]
        utc = exp.ConvertTimezone(target_tz=exp.Literal.string("UTC"), timestamp=exp.CurrentTimestamp())
        return exp.Cast(this=utc, to=_timestamp_ntz())

    def regex_contains(self, value: exp.Expr, pattern: str) -> exp.Expr:
        return _substring_match(value, exp.Literal.string(pattern))

    def context_column_type(self, fields: list[tuple[str, str]]) -> exp.DataType:
        return exp.DataType.build("VARIANT", dialect="snowflake")

    def context_value(self, entities: list[dict[str, ContextValue]], types: dict[str, str]) -> exp.Expr:
        # A VARIANT array of objects, parsed from its JSON text (docs["parse_json"]); the
        # keys as the schema spells them (context_field_names)
        return exp.ParseJSON(this=exp.Literal.string(json.dumps(entities, ensure_ascii=False)))

    def insert_rows(self, target: exp.Schema, rows: list[exp.Tuple]) -> exp.Insert:
        # VALUES holds constants only: a PARSE_JSON is applied in a SELECT over the VALUES,
        # whose columns are COLUMN1, COLUMN2, ... (docs["insert"], docs["parse_json"])
        parsed = {i for row in rows for i, value in enumerate(row.expressions) if isinstance(value, exp.ParseJSON)}
        if not parsed:
            return super().insert_rows(target, rows)
        constants = [
            exp.Tuple(expressions=[v.this if isinstance(v, exp.ParseJSON) else v for v in row.expressions])
            for row in rows
        ]
        columns = [exp.column(f"column{i + 1}") for i in range(len(rows[0].expressions))]
        picked = [exp.ParseJSON(this=c) if i in parsed else c for i, c in enumerate(columns)]
        query = exp.select(*picked).from_(exp.Values(expressions=constants))
        return exp.Insert(this=target, expression=query)

    def first_context_field(self, column: exp.Expr, field: str, logical: str) -> exp.Expr:
        # A VARIANT array of objects: col[0]:field, cast from VARIANT to the column's type.
        first = exp.Bracket(this=column, expressions=[exp.Literal.number(0)])
        path = exp.JSONPath(expressions=[exp.JSONPathRoot(), exp.JSONPathKey(this=self.context_field(field))])
        value = exp.JSONExtract(this=first, expression=path, variant_extract=True, requires_json=True)
        return exp.Cast(this=value, to=self.data_type(logical))

    def event_field(self, column: exp.Expr, field: str, logical: str) -> exp.Expr:
        # An OBJECT per event (docs["loader_columns"]): col:field, cast from VARIANT to the
        # column's type; an array of strings joined by ARRAY_TO_STRING (docs["array_to_string"])
        path = exp.JSONPath(expressions=[exp.JSONPathRoot(), exp.JSONPathKey(this=self.context_field(field))])
        value = exp.JSONExtract(this=column, expression=path, variant_extract=True, requires_json=True)
        if logical == "array":
            return exp.ArrayToString(this=value, expression=exp.Literal.string(ARRAY_ITEM_SEPARATOR))
        return exp.Cast(this=value, to=self.data_type(logical))

    def event_column_type(self, fields: list[tuple[str, str]]) -> exp.DataType:
        # An OBJECT per event, declared VARIANT as a context's array is (docs["loader_columns"])
        return exp.DataType.build("VARIANT", dialect="snowflake")

    def in_transaction(self, statements: list[exp.Expr]) -> list[exp.Expr]:
        # Bare BEGIN also opens a Snowflake Scripting block; BEGIN TRANSACTION is unambiguous
        # (docs["transactions"]).
        return [exp.Transaction(modes=[exp.var("TRANSACTION")]), *statements, exp.Commit()]

    def table_properties(self, shape: TableShape, *, scratch: bool) -> list[exp.Expr]:
        # Scratch tables are TRANSIENT, without Fail-safe: docs["transient"]
        props: list[exp.Expr] = [exp.TransientProperty()] if scratch else []
        keys = self.clustering_keys(shape)
        if keys:
            props.append(exp.ClusterProperty(expressions=keys))
        return props

    def clustering_keys(self, shape: TableShape) -> list[exp.Expr]:
        # Clustering keys may be expressions, e.g. TO_DATE of a timestamp: docs["clustering"]
        layout = shape.layout
        keys: list[exp.Expr] = []
        if layout.partition:
            column = exp.column(layout.partition.column)
            if layout.partition.by == "day":
                keys.append(exp.func("TO_DATE", column))
            else:
                keys.append(exp.TimestampTrunc(this=column, unit=exp.var(layout.partition.by.upper())))
        keys += [exp.column(c) for c in layout.cluster]
        return keys

    def bind_values(self, script: Script, prefix, values, source):
        # Session variables: SET name = (SELECT ...), read as $name: docs["variables"]
        names = [f"{prefix}_{name}" for name in values]
        script.add(*set_each(names, values, source))
        return {key: exp.Parameter(this=exp.var(name)) for key, name in zip(values, names, strict=True)}
