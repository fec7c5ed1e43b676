"""Columns checked at compile time, and the types of a body's output columns.

A body's columns must resolve through what it reads, wherever the columns of that are known
(declared source columns, seeds, upstream models' outputs, the strategy's generated tables):
sqlglot's optimizer qualifies a copy of the body against a schema of those tables
(qualify_columns: stars, USING, alias references, CTEs, subqueries), then every column of
every scope is looked up with sqlglot's Resolver. A relation whose columns are not known
(a source without declared columns, a ``select *`` over one, a table function) is never an
error: a column that could come from it is taken on trust. The same qualified copy is typed
with annotate_types, read back into snowgen's logical types.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify_columns import qualify_columns
from sqlglot.optimizer.resolver import Resolver
from sqlglot.optimizer.scope import Scope, traverse_scope
from sqlglot.schema import MappingSchema

from snowgen.errors import Diagnostic
from snowgen.plan.data import Plan
from snowgen.plan.references import source_tables
from snowgen.plan.sqlbody import MACROS, BodyContext, body_error, node_position, written_line
from snowgen.plan.stars import table_key


@dataclass(frozen=True)
class BodyText:
    """A body as Jinja rendered it (what was parsed) and as the spec writes it."""

    rendered: str
    written: str


#: (schema, table), lower case -> {column: logical type}; a column missing from it is of type unknown
KnownTypes = Mapping[tuple[str, str], Mapping[str, str]]
UNKNOWN = "unknown"

#: snowgen's logical types as sqlglot reads them (snowgen.spec.models.LOGICAL_TYPE_PATTERN)
_SQL_OF_LOGICAL = {"string": "VARCHAR", "int": "INT", "bigint": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN",
                   "date": "DATE", "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMPTZ", "json": "JSON"}  # fmt: skip
#: sqlglot's types read back as logical types (any other is unknown)
_LOGICAL_OF_SQL = {
    **dict.fromkeys(("VARCHAR", "NVARCHAR", "CHAR", "NCHAR", "TEXT", "NAME"), "string"),
    **dict.fromkeys(("TINYINT", "SMALLINT", "INT", "UTINYINT", "USMALLINT"), "int"),
    **dict.fromkeys(("BIGINT", "UINT", "UBIGINT", "HUGEINT"), "bigint"),
    **dict.fromkeys(("DOUBLE", "FLOAT"), "double"),
    "BOOLEAN": "boolean",
    "DATE": "date",
    **dict.fromkeys(("TIMESTAMP", "DATETIME", "TIMESTAMPNTZ"), "timestamp"),
    **dict.fromkeys(("TIMESTAMPTZ", "TIMESTAMPLTZ"), "timestamptz"),
    **dict.fromkeys(("JSON", "JSONB", "VARIANT"), "json"),
    "ARRAY": "array",
}


def check_columns(
    query: exp.Query,
    text: BodyText,
    ctx: BodyContext,
    known: Mapping[tuple[str, str], tuple[str, ...]],
    types: KnownTypes,
) -> tuple[str, ...] | None:
    """Raise a located SG250/SG251/SG252 for a column of ``query`` that does not resolve;
    return the logical type of each output column (None when the output is not all named).
    ``text``: the body as rendered and as written (positions); ``known``/``types``: every
    table planned so far."""
    copy = _copy_with_positions(query)
    for call in list(copy.find_all(exp.Anonymous)):
        name = str(call.this).lower()
        if name == "now_utc":  # the run's time: a timestamp without a zone
            call.replace(exp.cast(exp.Null(), exp.DType.TIMESTAMP))
        elif name in MACROS:  # bot_filter(ev): a table alias, not a column
            call.set("expressions", [])
    schema = _schema_of(copy, known, types, ctx.dialect)
    try:
        qualify_columns(copy, schema, allow_partial_qualification=True, dialect=ctx.dialect)
        scopes = traverse_scope(copy)
    except _CANNOT_FOLLOW:
        return None  # sqlglot cannot follow this body (e.g. a correlated subquery over an unknown table)
    for scope in scopes:
        try:
            _check_scope(scope, Resolver(scope, schema), text, ctx)
        except SqlglotError:
            continue  # sqlglot's resolver cannot tell this scope's sources apart
    return _output_types(copy, schema, ctx.dialect)


#: how sqlglot's optimizer gives up on a query it cannot follow (never a user's error: the
#: body parsed, and the warehouse may well run it)
_CANNOT_FOLLOW = (SqlglotError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError)


def _copy_with_positions(query: exp.Query) -> exp.Query:
    """A copy of ``query`` whose names keep their positions (node_position reads an
    identifier's ``start``): deep-copying every node's position dict would make the copy
    several times slower, so the copy is made without them and given the starts after."""
    nodes = list(query.walk())
    kept = [node._meta for node in nodes]
    for node in nodes:
        node._meta = None
    copy = query.copy()
    for node, meta in zip(nodes, kept, strict=True):
        node._meta = meta
    for node, meta, copied in zip(nodes, kept, copy.walk(), strict=True):
        if meta and "start" in meta and isinstance(node, exp.Identifier):
            copied.meta["start"] = meta["start"]
    return copy


def _schema_of(query: exp.Query, known, types: KnownTypes, dialect: str) -> MappingSchema:
    """The known columns of the tables ``query`` reads (catalogs dropped: keys are schema.table)."""
    mapping: dict[str, dict[str, dict[str, str]]] = {}
    for table in query.find_all(exp.Table):
        if not table.args.get("db"):
            continue
        key = table_key(table)
        columns = known.get(key)
        table.set("catalog", None)
        if columns is None:
            continue
        typed = types.get(key, {})
        mapping.setdefault(table.db, {})[table.name] = {c: _sql_type(typed.get(c, UNKNOWN)) for c in columns}
    return MappingSchema(mapping, dialect=dialect, normalize=False)


@functools.lru_cache(maxsize=256)
def _sql_type(logical: str) -> exp.DataType:
    """A logical type as sqlglot's DataType, built once (a schema given a string would parse
    it again for every body)."""
    if logical.startswith("string("):
        text = "VARCHAR" + logical[len("string") :]
    elif logical.startswith("decimal("):
        text = "DECIMAL" + logical[len("decimal") :].replace(" ", "")
    else:
        text = _SQL_OF_LOGICAL.get(logical, "UNKNOWN")
    return exp.DataType.build(text)


def _check_scope(scope: Scope, resolver: Resolver, text: BodyText, ctx: BodyContext) -> None:
    for column in scope.columns:
        if isinstance(column.this, exp.Star):
            continue
        if column.table:
            _check_qualified(scope, resolver, column, text, ctx)
        else:
            _check_unqualified(scope, resolver, column, text, ctx)


def _check_qualified(scope: Scope, resolver: Resolver, column: exp.Column, text: BodyText, ctx: BodyContext) -> None:
    alias = column.table
    for owner in (resolver, *resolver.outer_resolvers()):
        if alias in owner.scope.sources:
            columns = _columns_of(owner, alias)
            if columns is not None and column.name not in columns:
                message = f"unknown column '{column.name}' of '{alias}'" + _hint(column.name, columns)
                raise _error(ctx, "SG250", message, column.this, text)
            return
    if resolver.has_unknown_sources or alias in resolver.all_columns or len(column.parts) > 2:
        return  # a struct's field (column.field), or a name a source of unknown columns may have
    aliases = sorted(scope.sources)
    message = f"unknown table alias '{alias}'" + (
        _hint(alias, aliases) or (f"; the query reads {', '.join(aliases)}" if aliases else "")
    )
    raise _error(ctx, "SG252", message, column.args["table"], text)


def _check_unqualified(scope: Scope, resolver: Resolver, column: exp.Column, text: BodyText, ctx: BodyContext) -> None:
    """qualify_columns left it unqualified: no source has it, or more than one."""
    name = column.name
    if _names_another_output(column, resolver) or name in scope.selected_sources:
        return  # an output alias (ORDER BY, lateral alias), or a table read as a record
    candidates: list[str] = []
    for owner in (resolver, *resolver.outer_resolvers()):
        if owner.has_unknown_sources:
            return
        holders = [s for s in owner.scope.selected_sources if name in (_columns_of(owner, s) or ())]
        if len(holders) > 1:
            named = [repr(h) for h in sorted(holders)]
            both = "both" if len(named) == 2 else "all"
            message = f"ambiguous column '{name}': {', '.join(named[:-1])} and {named[-1]} {both} have it; qualify it"
            raise _error(ctx, "SG251", message, column, text)
        if holders:
            return
        candidates += sorted(owner.all_columns)
    if not scope.selected_sources and not candidates:
        return  # no FROM: nothing to check against
    raise _error(ctx, "SG250", f"unknown column '{name}'" + _hint(name, candidates), column, text)


def _names_another_output(column: exp.Column, resolver: Resolver) -> bool:
    """Is the column a reference to an output alias of its SELECT (other than the one it
    stands in: qualify_columns gives every output an alias, also ``select x`` itself)?"""
    if column.name not in resolver.select_aliases:
        return False
    own = column.find_ancestor(exp.Alias, exp.Select)
    return not (isinstance(own, exp.Alias) and own.alias == column.name)


def _columns_of(resolver: Resolver, source: str) -> list[str] | None:
    """The columns of one source of the resolver's scope; None when they are not known."""
    try:
        columns = list(resolver.get_source_columns(source))
    except OptimizeError:
        return None
    return None if not columns or "*" in columns else columns


def _hint(name: str, choices) -> str:
    hint = difflib.get_close_matches(name, list(dict.fromkeys(choices)), n=1)
    return f" (did you mean '{hint[0]}'?)" if hint else ""


def _error(ctx: BodyContext, code: str, message: str, node: exp.Expr, text: BodyText):
    line, col = node_position(node, text.rendered)
    line = written_line(text.written, text.rendered, line)
    return body_error(ctx, code, message, line, col)


@functools.cache
def _type_rules(dialect: str) -> dict:
    """sqlglot's typing rules of ``dialect``; where it has none for date_trunc on a timestamp
    (sqlglot 30's Postgres), the result has the type of the truncated value."""
    rules = Dialect.get_or_raise(dialect).EXPRESSION_METADATA
    if exp.TimestampTrunc in rules:
        return rules
    return {**rules, exp.TimestampTrunc: {"annotator": lambda annotator, e: annotator._annotate_by_args(e, "this")}}


def _output_types(query: exp.Query, schema: MappingSchema, dialect: str) -> tuple[str, ...] | None:
    try:
        annotate_types(query, schema=schema, dialect=dialect, expression_metadata=_type_rules(dialect))
    except _CANNOT_FOLLOW:
        return None  # sqlglot could not type it: every column stays unknown
    return tuple(logical_type(select.type) for select in query.selects)


def logical_type(data_type: exp.DataType | None) -> str:
    """A sqlglot type as one of snowgen's logical types ('unknown' for any other)."""
    if data_type is None:
        return UNKNOWN
    name = data_type.this.name if hasattr(data_type.this, "name") else str(data_type.this)
    if name == "DECIMAL":
        params = [p.name for p in data_type.expressions]
        return f"decimal({params[0]},{params[1]})" if len(params) == 2 else UNKNOWN
    if name in ("VARCHAR", "CHAR", "NVARCHAR") and data_type.expressions:
        return f"string({data_type.expressions[0].name})"
    return _LOGICAL_OF_SQL.get(name, UNKNOWN)


def unchecked_sources(plan: Plan) -> tuple[Diagnostic, ...]:
    """One SG253 warning for each source without declared columns that a body reads, at the
    source's declaration: the columns read from it cannot be checked."""
    read = set().union(*(m.facts.tables for m in plan.models.values() if m.facts is not None))
    warnings = []
    for name, source in plan.spec.sources.items():
        if source.columns or not any(table_key(t) in read for t in source_tables(plan.spec, source)):
            continue
        message = f"source '{name}' declares no columns: the columns models read from it are not checked"
        warnings.append(Diagnostic("SG253", message, plan.doc.location(("sources", name), key=True)))
    return tuple(warnings)
