"""DDL for a project's declared sources (and Snowplow context tables or columns).

Not part of a compiled plan: sources belong to the loaders. This creates empty source
tables for local development and for tests that execute a plan on a real engine.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.compiler import ddl
from snowgen.compiler.sessions_events import iglu_parts
from snowgen.dialects.base import Dialect, Layout, TableShape
from snowgen.spec.models import ProjectSpec


def source_ddl(spec: ProjectSpec, dialect: Dialect) -> list[exp.Expr]:
    statements: list[exp.Expr] = []
    contexts = _contexts(spec)
    for name, source in spec.sources.items():
        if not source.columns:
            continue
        columns = [(c, dialect.data_type(col.type)) for c, col in source.columns.items()]
        if contexts.get(name) and dialect.context_storage == "column":
            for context in contexts[name]:
                vendor, cname, version = iglu_parts(context.schema_)
                columns.append((dialect.context_column(vendor, cname, version), dialect.context_column_type(list(context.fields))))
        for schema, table in _tables(spec, source):
            statements.append(ddl.create_schema(schema, source.database or spec.database))
            target = exp.Table(this=exp.to_identifier(table), db=exp.to_identifier(schema))
            statements.append(ddl.create_table_columns(target, columns, dialect.table_properties(TableShape(target, Layout()), scratch=False)))
        if contexts.get(name) and dialect.context_storage == "table":
            for context in contexts[name]:
                vendor, cname, version = iglu_parts(context.schema_)
                target = exp.Table(this=exp.to_identifier(dialect.context_table(vendor, cname, version)), db=exp.to_identifier(source.schema_))
                typed = [("root_id", dialect.data_type("string")), ("root_tstamp", dialect.data_type("timestamp"))]
                typed += [(field, dialect.data_type("string")) for field in context.fields]
                statements.append(ddl.create_table_columns(target, typed, []))
    return list({statement.sql(): statement for statement in statements}.values())


def _contexts(spec: ProjectSpec) -> dict[str, list]:
    incremental = spec.incremental
    if incremental is None or incremental.strategy != "sessions":
        return {}
    return {incremental.source: list(incremental.contexts)}


def _tables(spec: ProjectSpec, source) -> list[tuple[str, str]]:
    if not source.instances:
        return [(source.schema_, source.table)]
    return [(i.schema_ or source.schema_, i.table or source.table) for i in source.instances.values()]
