"""Lowerings and statement shapes that several warehouses share (each module says which
it uses; none of them is the generic default)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from snowgen.dialects.shapes import Unsupported

if TYPE_CHECKING:
    from snowgen.dialects.base import ContextValue, Dialect


def case_insensitive_pattern(pattern: exp.Expr) -> exp.Expr:
    """The same regular expression with RE2/Java's case-insensitive flag in front."""
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        return exp.Literal.string("(?i)" + pattern.this)
    return exp.Concat(expressions=[exp.Literal.string("(?i)"), pattern])


def epoch_seconds(value: exp.Expr) -> exp.Expr:
    """Fractional seconds since 1970 (Postgres ``extract(epoch from ts)``): BigQuery and
    Databricks have no EPOCH part; UNIX_MICROS keeps the sub-second digits."""
    micros = exp.Anonymous(this="UNIX_MICROS", expressions=[value])
    return exp.Paren(this=exp.Div(this=micros, expression=exp.Literal.number(1000000)))


def epoch_as_seconds(node: exp.Extract) -> exp.Expr:
    """A lowering of ``EXTRACT(EPOCH FROM ts)``, not a field on BigQuery or Databricks
    (sqlglot prints it as is); other EXTRACTs stay."""
    return epoch_seconds(node.expression) if node.this.name.upper() == "EPOCH" else node


def regexp_ilike_as_flag(node: exp.RegexpILike) -> exp.Expr:
    """A lowering of the case-insensitive match, which sqlglot prints as REGEXP_I_LIKE, a
    function BigQuery and Databricks do not have: a plain match with the ``(?i)`` flag."""
    return exp.RegexpLike(this=node.this, expression=case_insensitive_pattern(node.expression))


def set_each(names: list[str], values: dict, source: exp.Expr | None, kind: str | None = None) -> list[exp.Set]:
    """``SET name = (SELECT value FROM source)``, one variable per statement: the form
    every warehouse documents (a tuple of variables from one query is not portable)."""
    statements = []
    for name, (_, value) in zip(names, values.values(), strict=True):
        query = exp.Select(expressions=[value])
        if source is not None:
            query = query.from_(source.copy(), copy=False)
        item = exp.SetItem(this=exp.EQ(this=exp.var(name), expression=query.subquery(copy=False)), kind=kind)
        statements.append(exp.Set(expressions=[item]))
    return statements


# -- contexts and self-describing events as STRUCTs -----------------------------------------


class StructContexts:
    """Nested contexts and self-describing events as STRUCTs, the way BigQuery's and
    Databricks' loaders write them: a context's column is ARRAY<STRUCT<...>>, an event's a
    STRUCT per event, its fields named (snake case) and typed from the schema, an array of
    strings joined into text. Each dialect that mixes it in (before Dialect, whose struct
    helpers it uses) cites its loader's documentation; how the first entity of a context is
    read stays the dialect's own (first_context_field)."""

    def context_column_type(self: Dialect, fields: list[tuple[str, str]]) -> exp.DataType:
        return self.struct_array([(self.context_field(f), t) for f, t in fields])

    def context_value(self: Dialect, entities: list[dict[str, ContextValue]], types: dict[str, str]) -> exp.Expr:
        return self.struct_array_value(entities, types)

    def event_field(self: Dialect, column: exp.Expr, field: str, logical: str) -> exp.Expr:
        return self.struct_field(column, field, logical)

    def event_column_type(self: Dialect, fields: list[tuple[str, str]]) -> exp.DataType:
        return self.record_struct(fields)


# -- ordered aggregates: lists and objects --------------------------------------------------
# A body builds an ordered list of a group's non-NULL values with Postgres' spelling
#   array_remove(array_agg(v ORDER BY k1, k2), NULL)
# and a JSON object of a group's key/value pairs with
#   json_object_agg(k, v [ORDER BY ...])
# sqlglot prints both wrongly or not at all on several warehouses (array_remove(x, NULL)
# as a filter on `u <> NULL`, which keeps nothing; the ORDER BY of ARRAY_AGG dropped on
# Databricks; JSON_OBJECTAGG, which only Postgres and DuckDB have): each dialect lowers them.

#: the name a lowered lambda or subquery gives an element (not a name a body would use)
ELEMENT = "_snowgen_element"


def removes_nulls(node: exp.ArrayRemove) -> bool:
    """``array_remove(x, NULL)``: the list without its NULL elements."""
    return isinstance(node.expression, exp.Null)


def not_null_filter(array: exp.Expr) -> exp.ArrayFilter:
    """``FILTER(array, e -> e IS NOT NULL)`` (DuckDB's LIST_FILTER, Spark's FILTER)."""
    element = exp.to_identifier(ELEMENT)
    kept = exp.Not(this=exp.Is(this=exp.column(ELEMENT), expression=exp.Null()))
    return exp.ArrayFilter(this=array, expression=exp.Lambda(this=kept, expressions=[element]))


def ordered_parts(node: exp.Expr) -> tuple[exp.Expr, list[exp.Ordered]]:
    """The value of an aggregate argument and its ORDER BY keys ([] when unordered)."""
    if isinstance(node, exp.Order):
        return node.this, list(node.expressions)
    return node, []


def object_agg_parts(node: exp.JSONObjectAgg) -> tuple[exp.Expr, exp.Expr, list[exp.Ordered]]:
    """(key, value, ORDER BY keys) of ``json_object_agg(k, v [ORDER BY ...])``."""
    if len(node.expressions) != 2:
        raise Unsupported("json_object_agg takes a key and a value")
    key, rest = node.expressions
    value, order = ordered_parts(rest)
    return key, value, order


def ascending_nulls_last(order: list[exp.Ordered], why: str) -> list[exp.Expr]:
    """Sort keys of an ascending, NULLs-last ORDER BY (Postgres' default) as plain values
    sorted ascending with NULLs first (Spark's struct order): ``k IS NULL`` before each key
    puts its NULLs last. A descending key is refused: ``why`` says where."""
    keys: list[exp.Expr] = []
    for ordered in order:
        if ordered.args.get("desc"):
            raise Unsupported(f"cannot print a descending ORDER BY in {why}")
        value = ordered.this
        if not ordered.args.get("nulls_first"):
            keys.append(exp.Is(this=value.copy(), expression=exp.Null()))
        keys.append(value.copy())
    return keys
