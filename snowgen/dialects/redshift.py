"""Amazon Redshift (a Postgres descendant with its own table attributes).

- JSON is SUPER; the max string is VARCHAR(MAX).
- Layout: DISTSTYLE KEY DISTKEY(dist) COMPOUND SORTKEY(sort). dist defaults to a single-column
  unique key and sort to the partition column, as the Snowplow packages configure.
- Upserts: delete+insert in one transaction, the delete with USING (Redshift's documented
  form). Redshift's MERGE is refused: it accepts no target alias and no conditional WHEN.
- CREATE TABLE AS has no IF NOT EXISTS: a missing table is created ``(LIKE stage)``.
- No ``IS [NOT] DISTINCT FROM`` (sqlglot prints it anyway): its lowering spells it with
  plain comparisons and IS NULL.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.dialects.base import ARRAY_ITEM_SEPARATOR, Dialect
from snowgen.dialects.grants import GrantSpelling
from snowgen.dialects.shapes import Layout, TableShape, Unsupported
from snowgen.dialects.shared import object_agg_parts, ordered_parts, removes_nulls


def null_safe_comparison(node: exp.NullSafeNEQ | exp.NullSafeEQ) -> exp.Expr:
    """``a IS DISTINCT FROM b`` as ``(a <> b OR a IS NULL OR b IS NULL) AND NOT (a IS NULL
    AND b IS NULL)``: true or false, never NULL, like the operator it replaces (two NULLs are
    not distinct; one NULL is). ``IS NOT DISTINCT FROM`` is its negation. Redshift's
    comparison conditions have no IS [NOT] DISTINCT FROM: docs["comparison"]."""
    left, right = node.this, node.expression

    def is_null(value: exp.Expr) -> exp.Expr:
        return exp.Is(this=value.copy(), expression=exp.Null())

    differ = exp.or_(exp.NEQ(this=left.copy(), expression=right.copy()), is_null(left), is_null(right))
    both_null = exp.and_(is_null(left), is_null(right))
    distinct = exp.and_(differ, exp.Not(this=exp.Paren(this=both_null)))
    if isinstance(node, exp.NullSafeNEQ):
        return exp.Paren(this=distinct)
    return exp.Not(this=exp.Paren(this=distinct))


def _text(value: exp.Expr) -> exp.Expr:
    return exp.Cast(this=value.copy(), to=exp.DataType.build("VARCHAR(MAX)", dialect="redshift"))


def _listagg(value: exp.Expr, order: list[exp.Ordered]) -> exp.Expr:
    """LISTAGG(value, ',') [WITHIN GROUP (ORDER BY ...)], which skips NULLs (docs["listagg"])."""
    joined = exp.Anonymous(this="LISTAGG", expressions=[value, exp.Literal.string(",")])
    if not order:
        return joined
    return exp.WithinGroup(this=joined, expression=exp.Order(expressions=[o.copy() for o in order]))


def _array_agg(node: exp.ArrayAgg) -> exp.Expr:
    """Redshift has no ARRAY_AGG (sqlglot prints it anyway); only the ordered list of
    non-NULL values (``array_remove(array_agg(...), NULL)``, below) has a spelling."""
    parent = node.parent
    if isinstance(parent, exp.ArrayRemove) and removes_nulls(parent):
        return node
    raise Unsupported("has no array aggregate; write array_remove(array_agg(v ORDER BY ...), NULL)")


def _list_without_nulls(node: exp.ArrayRemove) -> exp.Expr:
    """``array_remove(array_agg(v ORDER BY k), NULL)``: a SUPER array of the values as text,
    split from their LISTAGG, as Snowplow's Redshift model builds its conversion lists
    (docs["split_to_array"]); an empty array when no value is set (JSON_PARSE('[]'),
    docs["json_parse"]). The values must not hold commas (event ids and numbers do not)."""
    if not (removes_nulls(node) and isinstance(node.this, exp.ArrayAgg)):
        raise Unsupported("has no arrays to remove NULLs from, only array_remove(array_agg(...), NULL)")
    value, order = ordered_parts(node.this.this)
    split = exp.Anonymous(this="SPLIT_TO_ARRAY", expressions=[_listagg(_text(value), order), exp.Literal.string(",")])
    return exp.Coalesce(this=split, expressions=[exp.ParseJSON(this=exp.Literal.string("[]"))])


def _json_object(node: exp.JSONObjectAgg) -> exp.Expr:
    """``json_object_agg(k, v ...)``: SUPER parsed from the object's text (docs["json_parse"]),
    its pairs joined by LISTAGG (an object has no order: no WITHIN GROUP, which Redshift
    also requires to be the same in every LISTAGG of a statement, docs["listagg"]). The key
    is escaped for JSON; the value must be a number or a boolean (written as its text; NULL
    as null)."""
    key, value, _ = object_agg_parts(node)
    escaped = _text(key)
    for character in ("\\", '"'):
        escaped = exp.Anonymous(
            this="REPLACE", expressions=[escaped, exp.Literal.string(character), exp.Literal.string("\\" + character)]
        )
    written = exp.Coalesce(this=_text(value), expressions=[exp.Literal.string("null")])
    pair = exp.DPipe(
        this=exp.DPipe(
            this=exp.DPipe(this=exp.Literal.string('"'), expression=escaped), expression=exp.Literal.string('":')
        ),
        expression=written,
    )
    pairs = exp.Coalesce(this=_listagg(pair, []), expressions=[exp.Literal.string("")])
    text = exp.DPipe(this=exp.DPipe(this=exp.Literal.string("{"), expression=pairs), expression=exp.Literal.string("}"))
    return exp.ParseJSON(this=text)


class Redshift(Dialect):
    name = "redshift"
    sqlglot_dialect = "redshift"
    docs = {
        "create_table": "https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_TABLE_NEW.html",
        "ctas": "https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_TABLE_AS.html",
        "merge": "https://docs.aws.amazon.com/redshift/latest/dg/r_MERGE.html",
        "delete": "https://docs.aws.amazon.com/redshift/latest/dg/r_DELETE.html",
        "super": "https://docs.aws.amazon.com/redshift/latest/dg/r_SUPER_type.html",
        "regex": "https://docs.aws.amazon.com/redshift/latest/dg/pattern-matching-conditions-posix.html",
        "getdate": "https://docs.aws.amazon.com/redshift/latest/dg/r_GETDATE.html",
        "varchar": "https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html#r_Character_types-varchar-or-character-varying",
        "comparison": "https://docs.aws.amazon.com/redshift/latest/dg/r_comparison_condition.html",
        "update": "https://docs.aws.amazon.com/redshift/latest/dg/r_UPDATE.html",
        "analyze": "https://docs.aws.amazon.com/redshift/latest/dg/t_Analyzing_tables.html",
        "super_limits": "https://docs.aws.amazon.com/redshift/latest/dg/limitations-super.html",
        "json_serialize": "https://docs.aws.amazon.com/redshift/latest/dg/JSON_SERIALIZE.html",
        "names": "https://docs.aws.amazon.com/redshift/latest/dg/r_names.html",
        "drop_table": "https://docs.aws.amazon.com/redshift/latest/dg/r_DROP_TABLE.html",
        "python_connector": "https://docs.aws.amazon.com/redshift/latest/mgmt/python-configuration-options.html",
        "timezone": "https://docs.aws.amazon.com/redshift/latest/dg/r_timezone_config.html",
        "sysdate": "https://docs.aws.amazon.com/redshift/latest/dg/r_SYSDATE.html",
        "serializable": "https://docs.aws.amazon.com/redshift/latest/dg/c_serial_isolation.html",
        "listagg": "https://docs.aws.amazon.com/redshift/latest/dg/r_LISTAGG.html",
        "split_to_array": "https://docs.aws.amazon.com/redshift/latest/dg/split_to_array.html",
        "json_parse": "https://docs.aws.amazon.com/redshift/latest/dg/JSON_PARSE.html",
        "translate": "https://docs.aws.amazon.com/redshift/latest/dg/r_TRANSLATE.html",
        "shredded_arrays": "https://docs.snowplow.io/docs/api-reference/loaders-storage-targets/schemas-in-warehouse/",
    }
    types = {**Dialect.types, "string": "VARCHAR(MAX)", "json": "SUPER", "double": "DOUBLE PRECISION"}  # docs["super"]
    # GRANT SELECT ON TABLE covers views; a grantee is a user, ``group NAME`` or ``role NAME``;
    # default privileges for the tables the running user creates later:
    # https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT.html,
    # https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_DEFAULT_PRIVILEGES.html
    # CREATE on the database creates schemas: https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_SCHEMA.html
    grants = GrantSpelling(
        read="SELECT", principal_kinds={"group": "GROUP", "role": "ROLE"}, qualified_schemas=False,
        runner_notes=("TEMP on the database is PUBLIC's by default: grant it too where it was revoked",),
    )  # fmt: skip
    # MERGE INTO takes an alias for the source only, and WHEN clauses without conditions: docs["merge"]
    upsert_strategies = {
        "delete_insert": None,
        "merge": "Redshift's MERGE accepts neither a target alias nor conditional WHEN clauses; "
        "snowgen runs delete+insert in one transaction instead",
    }
    default_upsert = "delete_insert"
    delete_using = True  # DELETE ... USING: docs["delete"]
    supports_qualify = False
    create_or_replace_table = False
    drop_cascades = True  # docs["drop_table"]
    string_length_in_bytes = True  # VARCHAR(n) holds n bytes: docs["varchar"]
    analyzes_new_tables = False  # Redshift analyzes a CREATE TABLE AS table itself: docs["analyze"]
    name_limits = {kind: (127, "bytes") for kind in ("schema", "table", "column")}  # docs["names"]
    # snowgen run: redshift://user:password@host:5439/database through redshift_connector
    # (docs["python_connector"]; the driver is snowgen.runner.redshift_client)
    url_schemes = ("redshift",)
    connector = "redshift_connector"
    json_is_orderable = False  # SUPER values sort only as their text: docs["super_limits"]
    lowerings = {
        exp.NullSafeNEQ: null_safe_comparison,
        exp.NullSafeEQ: null_safe_comparison,
        exp.ArrayAgg: _array_agg,
        exp.ArrayRemove: _list_without_nulls,
        exp.JSONObjectAgg: _json_object,
    }
    # The run lock: no ON CONFLICT, and a MERGE without conditional WHEN (docs["merge"]): an
    # INSERT where no live lock row is, then a DELETE of the expired one, in one transaction;
    # of two such transactions at once, serializable isolation aborts one (docs["serializable"]).
    # No raise function: a cast of the message to a number fails quoting it. The run id is
    # SYSDATE, the transaction's start (docs["sysdate"]), the same in every statement of it.
    lock_upsert = "insert_then_delete"
    # The aborted transaction fails with "ERROR: 1023 ... Serializable isolation violation on
    # table" (docs["serializable"])
    lock_conflict_errors = (r"Serializable isolation violation",)
    # Inherited as they are: regex_contains prints the POSIX ``~`` (a match anywhere in the
    # string): docs["regex"]; UPDATE ... FROM (update_from), its SET column unqualified:
    # docs["update"].

    def transaction_now(self) -> exp.Expr:
        return exp.CurrentTimestamp(sysdate=True)  # SYSDATE: docs["sysdate"]

    def json_text(self, value: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="JSON_SERIALIZE", expressions=[value])  # docs["json_serialize"]

    def json_array_text(self, value: exp.Expr) -> exp.Expr:
        # The loader keeps an array as the VARCHAR of its compact JSON (docs["shredded_arrays"]),
        # and Redshift has no function joining a JSON array's elements: the brackets and quotes
        # are dropped (docs["translate"]) and each comma gets a space. Exact for items without
        # a comma, quote, bracket or backslash (consent scopes, domains); README "Known gaps".
        bare = exp.Anonymous(this="TRANSLATE", expressions=[value, exp.Literal.string('[]"'), exp.Literal.string("")])
        return exp.Anonymous(
            this="REPLACE", expressions=[bare, exp.Literal.string(","), exp.Literal.string(ARRAY_ITEM_SEPARATOR)]
        )

    def build_data_type(self, logical: str) -> exp.DataType:
        if logical == "json":
            return exp.DataType.build("SUPER", dialect="redshift")
        return super().build_data_type(logical)

    def now_utc(self) -> exp.Expr:
        # sqlglot prints this as GETDATE(): a TIMESTAMP (without time zone) in the session's
        # time zone, UTC by default (docs["getdate"]), which session_settings pins.
        return exp.CurrentTimestamp()

    def session_settings(self) -> list[exp.Expr]:
        # A user's or a cluster's timezone setting would shift GETDATE() (run times, the clock
        # skew bound) and the casts of TIMESTAMPTZ values: every script sets the session's to
        # UTC (docs["timezone"]).
        setting = exp.EQ(this=exp.var("timezone"), expression=exp.Literal.string("UTC"))
        return [exp.Set(expressions=[exp.SetItem(this=setting)])]

    def table_properties(self, shape: TableShape, *, scratch: bool) -> list[exp.Expr]:
        layout = shape.layout
        props: list[exp.Expr] = []
        dist = self.dist_key(layout)
        if dist:
            props += [exp.DistStyleProperty(this=exp.var("KEY")), exp.DistKeyProperty(this=exp.to_identifier(dist))]
        sort = self.sort_keys(layout)
        if sort:
            props.append(exp.SortKeyProperty(this=[exp.to_identifier(c) for c in sort], compound=True))
        return props

    @staticmethod
    def dist_key(layout: Layout) -> str | None:
        # Only a single-column key spreads rows evenly; with a composite key the first
        # column alone may have a handful of values. Then Redshift chooses (DISTSTYLE AUTO,
        # the default of docs["create_table"]).
        if layout.dist:
            return layout.dist
        return layout.unique_key[0] if len(layout.unique_key) == 1 else None

    @staticmethod
    def sort_keys(layout: Layout) -> tuple[str, ...]:
        if layout.sort:
            return layout.sort
        return (layout.partition.column,) if layout.partition else ()

    def create_table_like(
        self, table: exp.Table, stage: exp.Table, columns: list[str], properties: list[exp.Expr]
    ) -> exp.Expr:
        # CREATE TABLE AS has no IF NOT EXISTS on Redshift (docs["ctas"]); CREATE TABLE
        # (LIKE ...) has (docs["create_table"]).
        schema = exp.Schema(this=table.copy(), expressions=[exp.LikeProperty(this=stage.copy())])
        return exp.Create(
            kind="TABLE",
            this=schema,
            exists=True,
            properties=exp.Properties(expressions=properties) if properties else None,
        )
